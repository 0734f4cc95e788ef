"""Shared pytest fixtures."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Run the test with one torch thread (bit-exact comparisons stay cheap; the 2 cores stay shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
