"""Shared pytest fixtures."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    """Run torch on one thread: tiny tensors are faster so, and the machine is shared."""
    import torch  # imported here so that tests which do not use torch do not pay for it

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
