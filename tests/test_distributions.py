"""The closed forms in vae_helpers.distributions against torch.distributions, Monte Carlo and properties."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from vae_helpers.distributions import (
    DiagonalGaussian,
    bernoulli_log_prob,
    gaussian_kl,
    gaussian_log_prob,
    log_mean_exp,
    normal_kl,
    normal_log_prob,
    standard_normal_log_prob,
)

DOUBLE = {"dtype": torch.float64}


def diagonal_normal(mu, logvar):
    return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)


def test_kl_to_standard_normal_matches_torch():
    mu, logvar = torch.randn(50, 8, **DOUBLE), torch.randn(50, 8, **DOUBLE) * 2
    expected = kl_divergence(diagonal_normal(mu, logvar), diagonal_normal(torch.zeros_like(mu), torch.zeros_like(mu)))
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)


def test_kl_between_two_gaussians_matches_torch():
    mu, logvar, mu_p, logvar_p = (torch.randn(50, 8, **DOUBLE) for _ in range(4))
    expected = kl_divergence(diagonal_normal(mu, logvar), diagonal_normal(mu_p, logvar_p))
    torch.testing.assert_close(gaussian_kl(mu, logvar, mu_p, logvar_p), expected)


def test_kl_per_dim_sums_to_total():
    mu, logvar = torch.randn(5, 4, **DOUBLE), torch.randn(5, 4, **DOUBLE)
    per_dim = gaussian_kl(mu, logvar, per_dim=True)
    assert per_dim.shape == (5, 4)
    torch.testing.assert_close(per_dim.sum(-1), gaussian_kl(mu, logvar))


def test_kl_matches_monte_carlo_estimate():
    mu, logvar = torch.tensor([0.7, -1.2, 0.1], **DOUBLE), torch.tensor([-0.5, 0.4, -2.0], **DOUBLE)
    mu_p, logvar_p = torch.tensor([0.2, 0.0, -0.3], **DOUBLE), torch.tensor([0.3, -0.2, 0.1], **DOUBLE)
    generator = torch.Generator().manual_seed(1)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(400_000, 3, generator=generator, **DOUBLE)
    log_ratio = gaussian_log_prob(z, mu, logvar) - gaussian_log_prob(z, mu_p, logvar_p)
    standard_error = log_ratio.std() / math.sqrt(len(z))
    assert abs(log_ratio.mean() - gaussian_kl(mu, logvar, mu_p, logvar_p)) < 4 * standard_error


def test_gaussian_log_prob_matches_torch():
    x, mu, logvar = (torch.randn(20, 6, **DOUBLE) for _ in range(3))
    torch.testing.assert_close(gaussian_log_prob(x, mu, logvar), diagonal_normal(mu, logvar).log_prob(x))


def test_standard_normal_log_prob_matches_torch():
    z = torch.randn(20, 6, **DOUBLE)
    expected = diagonal_normal(torch.zeros_like(z), torch.zeros_like(z)).log_prob(z)
    torch.testing.assert_close(standard_normal_log_prob(z), expected)


def test_bernoulli_log_prob_matches_torch():
    logits = torch.randn(10, 1, 28, 28, **DOUBLE) * 3
    x = torch.bernoulli(torch.full_like(logits, 0.3))
    expected = Independent(Bernoulli(logits=logits), 3).log_prob(x)
    torch.testing.assert_close(bernoulli_log_prob(x, logits), expected)


def test_bernoulli_log_prob_is_finite_and_exact_at_extreme_logits():
    logits = torch.tensor([[100.0, -100.0, 100.0, -100.0]])
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    # Two pixels predicted with certainty (log-prob 0), two certainly wrong (log-prob -100 each).
    torch.testing.assert_close(bernoulli_log_prob(x, logits), torch.tensor([-200.0]))


def test_log_mean_exp_matches_naive_version_and_survives_large_values():
    values = torch.randn(7, 5, **DOUBLE)
    torch.testing.assert_close(log_mean_exp(values, dim=0), values.exp().mean(0).log())
    large = torch.tensor([1000.0, 1000.0 + math.log(3.0)])
    torch.testing.assert_close(log_mean_exp(large), torch.tensor(1000.0 + math.log(2.0)))
    assert torch.isinf(large.exp().mean().log())  # what the naive version does


finite_floats = st.floats(min_value=-30, max_value=30, allow_nan=False, width=32)
vectors = st.lists(st.tuples(finite_floats, finite_floats), min_size=1, max_size=6)


@given(vectors)
def test_kl_to_standard_normal_is_non_negative_and_finite(pairs):
    mu, logvar = torch.tensor(pairs, **DOUBLE).T
    kl = gaussian_kl(mu, logvar)
    assert torch.isfinite(kl) and kl >= -1e-9


@given(vectors, vectors)
def test_kl_between_gaussians_is_non_negative(q, p):
    size = min(len(q), len(p))
    (mu, logvar), (mu_p, logvar_p) = torch.tensor(q[:size], **DOUBLE).T, torch.tensor(p[:size], **DOUBLE).T
    assert gaussian_kl(mu, logvar, mu_p, logvar_p) >= -1e-9


@given(vectors)
def test_kl_of_a_gaussian_with_itself_is_zero(pairs):
    mu, logvar = torch.tensor(pairs, **DOUBLE).T
    assert gaussian_kl(mu, logvar, mu, logvar).abs() < 1e-9


@pytest.mark.parametrize("logvar", [-30.0, 30.0])
def test_functions_stay_finite_in_float32_at_extreme_logvar(logvar):
    mu, lv = torch.tensor([[3.0, -3.0]]), torch.full((1, 2), logvar)
    assert torch.isfinite(gaussian_kl(mu, lv)).all()
    assert torch.isfinite(gaussian_log_prob(torch.zeros(1, 2), mu, lv)).all()


def test_the_one_dimensional_helpers_match_torch_distributions():
    generator = torch.Generator().manual_seed(3)
    x, mean_q, mean_p = (torch.randn(5, generator=generator, dtype=torch.float64) for _ in range(3))
    std_q, std_p = (torch.rand(5, generator=generator, dtype=torch.float64) + 0.1 for _ in range(2))
    torch.testing.assert_close(normal_log_prob(x, mean_q, std_q), Normal(mean_q, std_q).log_prob(x))
    torch.testing.assert_close(normal_kl(mean_q, std_q, mean_p, std_p),
                               kl_divergence(Normal(mean_q, std_q), Normal(mean_p, std_p)))


def test_gaussian_log_prob_per_dim_adds_up_to_the_total():
    generator = torch.Generator().manual_seed(4)
    x, mu, logvar = (torch.randn(3, 4, generator=generator) for _ in range(3))
    per_dim = gaussian_log_prob(x, mu, logvar, per_dim=True)
    assert per_dim.shape == (3, 4)
    torch.testing.assert_close(per_dim.sum(-1), gaussian_log_prob(x, mu, logvar))
    torch.testing.assert_close(per_dim, Normal(mu, torch.exp(0.5 * logvar)).log_prob(x))


def test_reparameterize_has_the_mean_and_standard_deviation_of_q():
    mu, logvar = torch.tensor([1.0, -2.0, 0.0], **DOUBLE), torch.tensor([0.0, -2.0, 1.0], **DOUBLE)
    q = DiagonalGaussian(mu, logvar)
    z = q.reparameterize(torch.randn(200_000, 3, generator=torch.Generator().manual_seed(8), **DOUBLE))
    torch.testing.assert_close(z.mean(0), mu, atol=0.01, rtol=0)
    torch.testing.assert_close(z.std(0), (0.5 * logvar).exp(), atol=0.01, rtol=0)
    torch.testing.assert_close(q.reparameterize(torch.ones(1, 3, **DOUBLE))[0], mu + (0.5 * logvar).exp())
