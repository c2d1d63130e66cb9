"""Shared test settings: hypothesis runs derandomized so the suite gives the same result on every run."""

import pytest
import torch
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, max_examples=60, print_blob=True)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _seeded_torch():
    """Every test starts from the same global torch seed, whatever ran before it."""
    torch.manual_seed(0)
