"""The page's seeded normal draws (vae_helpers.seeded), checked as a generator: moments, tails, independence."""

import math

import pytest
import torch

from vae_helpers import seeded

N = 400_000


def test_the_draws_have_the_moments_of_a_standard_normal_within_their_standard_errors():
    z = seeded.standard_normal(3, N)
    # standard errors of the sample mean, variance, third and fourth moments of N(0, 1): 1, sqrt(2), sqrt(15), sqrt(96)
    for moment, expected, spread in ((1, 0.0, 1.0), (2, 1.0, math.sqrt(2)), (3, 0.0, math.sqrt(15)),
                                     (4, 3.0, math.sqrt(96))):
        assert abs((z**moment).mean().item() - expected) < 5 * spread / math.sqrt(N), f"moment {moment}"


def test_the_tails_hold_their_share_and_neighbours_are_uncorrelated():
    z = seeded.standard_normal(4, N)
    share = (z.abs() > 2).double().mean().item()  # 4.55% beyond two standard deviations
    assert abs(share - 0.0455) < 5 * math.sqrt(0.0455 * 0.9545 / N)
    correlation = (z[1:] * z[:-1]).mean().item()
    assert abs(correlation) < 5 / math.sqrt(N)
    other = seeded.standard_normal(5, N)  # the next seed: an independent stream
    assert abs((z * other).mean().item()) < 5 / math.sqrt(N)


def test_a_longer_run_extends_a_shorter_one_and_the_shape_is_row_major():
    assert torch.equal(seeded.standard_normal(7, 10), seeded.standard_normal(7, 1000)[:10])
    assert torch.equal(seeded.standard_normal(7, (2, 5)).flatten(), seeded.standard_normal(7, 10))
    assert seeded.standard_normal(7, (2, 5)).dtype == torch.float64


def test_a_seed_outside_32_bits_is_refused():
    with pytest.raises(ValueError, match="seed must be an integer from 0 to 2\\*\\*32 - 1"):
        seeded.standard_normal(-1, 3)
