"""The one-dimensional conjugate model of notebooks 01 and 03, where every quantity has a closed form.

    prior       z ~ N(0, prior_std^2)
    likelihood  x | z ~ N(z, noise_std^2)
    evidence    p(x) = N(x; 0, prior_std^2 + noise_std^2)
    posterior   p(z | x) = N(m, v),  1/v = 1/prior_std^2 + 1/noise_std^2,  m = v * x / noise_std^2

All functions take floats or tensors and return float64 tensors (the toy model is meant to be exact); they
broadcast and are differentiable, so notebook 03 can optimise q(z) = N(q_mean, q_std^2) with autograd.
"""

import torch

from vae_helpers.distributions import LOG_2PI, normal_kl, normal_log_prob


def _as_double(*values):
    return [torch.as_tensor(value, dtype=torch.float64) for value in values]


def log_prior(z, prior_std):
    """log p(z) = log N(z; 0, prior_std^2)."""
    return normal_log_prob(z, 0.0, prior_std, dtype=torch.float64)


def log_likelihood(x, z, noise_std):
    """log p(x | z) = log N(x; z, noise_std^2)."""
    return normal_log_prob(x, z, noise_std, dtype=torch.float64)


def log_evidence(x, prior_std, noise_std):
    """log p(x) = log N(x; 0, prior_std^2 + noise_std^2), the integral of p(x | z) p(z) over z."""
    prior_std, noise_std = _as_double(prior_std, noise_std)
    return normal_log_prob(x, 0.0, torch.sqrt(prior_std**2 + noise_std**2), dtype=torch.float64)


def posterior(x, prior_std, noise_std):
    """Mean and standard deviation of p(z | x): precisions add, and the mean weighs x by its share of precision."""
    x, prior_std, noise_std = _as_double(x, prior_std, noise_std)
    variance = 1.0 / (1.0 / prior_std**2 + 1.0 / noise_std**2)
    return variance * x / noise_std**2, torch.sqrt(variance)


def elbo_terms(x, q_mean, q_std, prior_std, noise_std):
    """Every term of the ELBO of q(z) = N(q_mean, q_std^2), in closed form.

    Returns a dict of tensors (nats):
        log_evidence          log p(x)
        elbo                  E_q[log p(x, z)] - E_q[log q(z)]
        kl_to_posterior       KL(q(z) || p(z | x)); log_evidence = elbo + kl_to_posterior (notebook 03, eq. 3.3)
        reconstruction        E_q[log p(x | z)]
        kl_to_prior           KL(q(z) || p(z)); elbo = reconstruction - kl_to_prior (eq. 3.4)
    """
    x, q_mean, q_std, prior_std, noise_std = _as_double(x, q_mean, q_std, prior_std, noise_std)
    # E_q[(x - z)^2] = (x - q_mean)^2 + q_std^2 for z ~ N(q_mean, q_std^2)
    reconstruction = -0.5 * (LOG_2PI + 2 * torch.log(noise_std) + ((x - q_mean) ** 2 + q_std**2) / noise_std**2)
    kl_to_prior = normal_kl(q_mean, q_std, torch.zeros_like(q_mean), prior_std, dtype=torch.float64)
    post_mean, post_std = posterior(x, prior_std, noise_std)
    return {
        "log_evidence": log_evidence(x, prior_std, noise_std),
        "elbo": reconstruction - kl_to_prior,
        "kl_to_posterior": normal_kl(q_mean, q_std, post_mean, post_std, dtype=torch.float64),
        "reconstruction": reconstruction,
        "kl_to_prior": kl_to_prior,
    }

