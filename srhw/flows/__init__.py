"""Flows: the step lists that chain the libraries below into one command."""
