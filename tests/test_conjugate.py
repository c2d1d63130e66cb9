"""The conjugate model's closed forms against numerical integration and the ELBO identities."""

import torch

from vae_helpers import conjugate

DOUBLE = torch.float64


def test_posterior_and_evidence_match_numerical_integration_on_a_grid():
    x, prior_std, noise_std = torch.tensor(1.3, dtype=DOUBLE), 1.5, 0.7
    z = torch.linspace(-12, 12, 200_001, dtype=DOUBLE)
    joint = torch.exp(conjugate.log_prior(z, prior_std) + conjugate.log_likelihood(x, z, noise_std))
    evidence = torch.trapezoid(joint, z)
    torch.testing.assert_close(evidence.log(), conjugate.log_evidence(x, prior_std, noise_std))
    density = joint / evidence
    mean, std = conjugate.posterior(x, prior_std, noise_std)
    torch.testing.assert_close(torch.trapezoid(z * density, z), mean)
    torch.testing.assert_close(torch.trapezoid((z - mean) ** 2 * density, z).sqrt(), std)


def test_elbo_identities_hold_for_any_q():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(100, generator=generator, dtype=DOUBLE) * 2
    q_mean = torch.randn(100, generator=generator, dtype=DOUBLE)
    q_std = torch.rand(100, generator=generator, dtype=DOUBLE) * 2 + 0.05
    terms = conjugate.elbo_terms(x, q_mean, q_std, prior_std=1.2, noise_std=0.6)
    torch.testing.assert_close(terms["elbo"] + terms["kl_to_posterior"], terms["log_evidence"])
    assert (terms["kl_to_posterior"] >= 0).all() and (terms["elbo"] <= terms["log_evidence"]).all()


def test_elbo_matches_a_monte_carlo_estimate_of_its_definition():
    x, q_mean, q_std, prior_std, noise_std = 0.8, 0.3, 0.5, 1.0, 0.5
    z = q_mean + q_std * torch.randn(400_000, generator=torch.Generator().manual_seed(1), dtype=DOUBLE)
    log_q = -0.5 * (torch.log(torch.tensor(2 * torch.pi * q_std**2)) + ((z - q_mean) / q_std) ** 2)
    estimate = (conjugate.log_prior(z, prior_std) + conjugate.log_likelihood(x, z, noise_std) - log_q).mean()
    exact = conjugate.elbo_terms(x, q_mean, q_std, prior_std, noise_std)["elbo"]
    assert abs(estimate - exact) < 0.01


def test_q_equal_to_the_posterior_closes_the_gap():
    mean, std = conjugate.posterior(torch.tensor(2.0, dtype=DOUBLE), 1.0, 0.5)
    terms = conjugate.elbo_terms(2.0, mean, std, 1.0, 0.5)
    torch.testing.assert_close(terms["kl_to_posterior"], torch.tensor(0.0, dtype=DOUBLE), atol=1e-12, rtol=0)
    torch.testing.assert_close(terms["elbo"], terms["log_evidence"])
