"""Notebook 01's linear decoder (vae_helpers.linear_gaussian) and its naive Monte Carlo explorer.

The exact evidence and posterior are checked against formulas derived differently (conditioning the joint Gaussian
of (z, x)); the region test and the quantile against their defining probabilities.
"""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vae_helpers import distributions, linear_gaussian
from vae_helpers.explorers import evidence


def test_weights_grow_a_column_at_a_time_and_refuse_impossible_dimensions():
    assert torch.equal(linear_gaussian.weights(5)[:, :3], linear_gaussian.weights(3))
    assert linear_gaussian.weights(16).shape == (linear_gaussian.DATA_DIM, 16)
    for bad in (0, 17):
        with pytest.raises(ValueError, match="between 1 and 16"):
            linear_gaussian.weights(bad)


@pytest.mark.parametrize("latent_dim, noise_std", [(1, 0.3), (4, 1.0), (16, 2.0)])
def test_evidence_and_posterior_satisfy_bayes_rule_at_every_code(latent_dim, noise_std):
    """log p(x) = log p(x | z) + log p(z) - log p(z | x) for any z, the identity behind 01's exact estimate."""
    W = linear_gaussian.weights(latent_dim)
    x = linear_gaussian.observation(W, noise_std)
    mean, precision = linear_gaussian.posterior(W, x, noise_std)
    z = torch.randn(7, latent_dim, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    log_posterior = torch.distributions.MultivariateNormal(mean, precision_matrix=precision).log_prob(z)
    log_joint = linear_gaussian.log_likelihood(W, x, z, noise_std) + distributions.standard_normal_log_prob(z)
    expected = log_joint - log_posterior
    assert torch.allclose(expected, torch.full_like(expected, linear_gaussian.log_evidence(W, x, noise_std).item()),
                          atol=1e-9)


@pytest.mark.parametrize("latent_dim, noise_std", [(2, 0.1), (8, 2.0)])
def test_the_posterior_matches_conditioning_the_joint_gaussian(latent_dim, noise_std):
    """(z, x) is jointly Gaussian with Cov(z, x) = W^T: p(z | x) = N(W^T C^-1 x, I - W^T C^-1 W), C = Cov(x)."""
    W = linear_gaussian.weights(latent_dim)
    x = linear_gaussian.observation(W, noise_std)
    covariance_x = W @ W.T + noise_std**2 * torch.eye(linear_gaussian.DATA_DIM, dtype=torch.float64)
    mean, precision = linear_gaussian.posterior(W, x, noise_std)
    assert torch.allclose(mean, W.T @ torch.linalg.solve(covariance_x, x), atol=1e-10)
    conditional = torch.eye(latent_dim, dtype=torch.float64) - W.T @ torch.linalg.solve(covariance_x, W)
    assert torch.allclose(torch.linalg.inv(precision), conditional, atol=1e-10)


def test_the_observation_moves_smoothly_with_the_noise():
    W = linear_gaussian.weights(3)
    difference = linear_gaussian.observation(W, 1.0) - linear_gaussian.observation(W, 0.5)
    assert torch.allclose(difference, linear_gaussian.observation(W, 0.5) - linear_gaussian.observation(W, 0.0))


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=30))
def test_running_estimates_are_the_log_mean_exp_of_every_prefix(values):
    values = torch.tensor(values, dtype=torch.float64)
    running = linear_gaussian.running_naive_estimates(values)
    for k in range(1, len(values) + 1):
        assert running[k - 1].item() == pytest.approx(distributions.log_mean_exp(values[:k]).item(), abs=1e-9)


@pytest.mark.parametrize("dof, expected", [(1, 1.959963984540054**2), (2, -2 * math.log(0.05)), (16, 26.29622760486423)])
def test_the_chi2_quantile_has_its_probability(dof, expected):
    assert linear_gaussian.chi2_quantile(0.95, dof) == pytest.approx(expected, rel=1e-9)


def test_the_region_holds_95_percent_of_posterior_samples_and_the_ellipse_is_its_marginal_edge():
    W = linear_gaussian.weights(6)
    x = linear_gaussian.observation(W, 0.5)
    mean, precision = linear_gaussian.posterior(W, x, 0.5)
    posterior = torch.distributions.MultivariateNormal(mean, precision_matrix=precision)
    torch.manual_seed(1)
    share = linear_gaussian.inside_posterior_region(posterior.sample((20_000,)), mean, precision).double().mean()
    assert abs(share - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 20_000)
    edge = linear_gaussian.marginal_ellipse(mean, precision)
    marginal_precision = torch.linalg.inv(torch.linalg.inv(precision)[:2, :2])
    offset = edge - mean[:2]
    squared = ((offset @ marginal_precision) * offset).sum(-1)
    assert torch.allclose(squared, torch.full_like(squared, linear_gaussian.chi2_quantile(0.95, 2)))


def test_naive_monte_carlo_gets_worse_as_the_posterior_narrows_or_the_dimension_grows():
    easy, narrow, wide = (evidence.naive_monte_carlo(2, 2.0), evidence.naive_monte_carlo(2, 0.1),
                          evidence.naive_monte_carlo(16, 2.0))
    error = lambda result: (result["running"][:, -1] - result["log_evidence"]).abs().max().item()  # noqa: E731
    # One easy estimate scatters by about 0.05 nats (01's sweep, D = 2, s = 2): five stay within 0.25 (5 sd).
    assert error(easy) < 0.25 < 1 < error(narrow) and error(wide) > 1
    share = lambda result: result["inside"].double().mean().item()  # noqa: E731
    assert share(easy) > 0.3 > 0.01 > max(share(narrow), share(wide))
    # An even split gives each of the 1,000 samples 0.001: one sample carries 200 times that where the prior misses.
    assert easy["largest_weight"] < 0.05 < 0.2 < min(narrow["largest_weight"], wide["largest_weight"])


def test_no_press_of_new_samples_draws_the_code_that_made_the_observation():
    # The observation's z comes from seed 1; samples that shared its seed would start with that very z, and their
    # estimate would land tens of nats above log p(x), against the low bias the notebook teaches.
    W = linear_gaussian.weights(16)
    z_true = torch.randn(16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for presses in range(5):
        samples = evidence.naive_monte_carlo(16, 0.1, seed=presses)["z"].reshape(-1, 16)
        assert (samples - z_true).abs().amax(-1).min() > 0.1, presses
    assert W.shape == (linear_gaussian.DATA_DIM, 16)


def test_the_explorer_reads_out_the_error_and_new_samples_change_it():
    widget = evidence.naive_monte_carlo_explorer(noise_std=2.0, latent_dim=16)
    values = widget.readout()
    assert values["error"] == pytest.approx(values[f"estimate (K = {evidence.NUM_SAMPLES})"] - values["exact log p(x)"])
    exact = evidence.naive_monte_carlo(16, 2.0)
    assert values["exact log p(x)"] == pytest.approx(exact["log_evidence"])
    assert values["error"] == pytest.approx(exact["running"][0, -1].item() - exact["log_evidence"])
    assert widget.actions == {"New samples": "seed"}  # a click adds one to the page's seed
    after_a_click = widget.readout(seed=1)
    assert after_a_click["exact log p(x)"] == values["exact log p(x)"] and after_a_click["error"] != values["error"]
