"""Whole-network streaming RTL: an integer golden graph compiled to one AXI4-Stream video top."""
