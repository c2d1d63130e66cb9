"""Checks for the exercises of notebooks/02_kl_divergence.ipynb."""

import math

import torch

from vae_helpers import exercises
from vae_helpers.exercises import as_number, close

# Exercise 1: two distributions over three outcomes.
P = (0.6, 0.3, 0.1)
Q = (0.2, 0.5, 0.3)
# Exercise 2: an encoder's output for one image, latent_dim = 3.
MU = (0.5, -1.0, 0.0)
LOGVAR = (0.0, -1.0, 1.0)


def _discrete_kl(first, second, log=math.log):
    return sum(a * log(a / b) for a, b in zip(first, second))


def check_discrete_kl(kl):
    """Exercise 1: KL(p || q) in nats for p = (0.6, 0.3, 0.1), q = (0.2, 0.5, 0.3) (eq. 2.1)."""
    if kl is None:
        return exercises.report(False, "Replace None with KL(p || q), one number in nats, from eq. (2.1).")
    value = as_number(kl)
    if value is None:
        return exercises.report(False, "Give KL(p || q) as a single number: eq. (2.1) sums over the outcomes.")
    right = _discrete_kl(P, Q)
    if close(value, right):
        return exercises.report(True, f"KL(p || q) = {right:.4f} nats (and KL(q || p) = {_discrete_kl(Q, P):.4f}: "
                                      "the two directions differ).")
    if close(value, _discrete_kl(Q, P)):
        return exercises.report(False, "That is KL(q || p): in KL(p || q) the weights and the numerator are p's, "
                                       "sum of p_i log(p_i / q_i).")
    if close(value, _discrete_kl(P, Q, math.log2)):
        return exercises.report(False, "That is in bits (log base 2); the series measures in nats: use the natural "
                                       "log, math.log or torch.log.")
    if close(value, -right):
        return exercises.report(False, "The sign is flipped: it is log(p_i / q_i), not log(q_i / p_i). A KL is never "
                                       "negative.")
    if close(value, sum(math.log(a / b) for a, b in zip(P, Q))):
        return exercises.report(False, "Each log-ratio must be weighted by p_i: KL is an expectation under p.")
    return exercises.report(False, "Not this value: compute sum_i p_i log(p_i / q_i) over the three outcomes.")


def _vae_kl(mu, logvar):  # an independent oracle in plain floats, kept apart from vae_helpers.distributions
    return -0.5 * sum(1 + lv - m**2 - math.exp(lv) for m, lv in zip(mu, logvar))


def check_gaussian_kl_to_prior(kl):
    """Exercise 2: KL(N(mu, diag exp(logvar)) || N(0, I)) for mu = (0.5, -1, 0), logvar = (0, -1, 1) (eq. 2.4)."""
    if kl is None:
        return exercises.report(False, "Replace None with the KL, one number in nats, from eq. (2.4).")
    try:
        values = torch.as_tensor(kl, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        return exercises.report(False, "Give the KL as a number (a float or a one-element tensor).")
    per_dim = torch.tensor([_vae_kl([m], [lv]) for m, lv in zip(MU, LOGVAR)], dtype=torch.float64)
    if values.numel() == len(MU) and torch.allclose(values, per_dim, atol=1e-3):
        return exercises.report(False, "These are the three per-dimension terms: the KL of independent dimensions "
                                       "is their sum.")
    value = as_number(kl)
    if value is None:
        return exercises.report(False, f"Give the KL as a single number; got {values.numel()} numbers.")
    right = _vae_kl(MU, LOGVAR)
    if close(value, right):
        return exercises.report(True, f"KL = {right:.4f} nats: the price, in the ELBO, of this encoder output "
                                      "differing from the prior.")
    if close(value, _vae_kl(MU, [2 * lv for lv in LOGVAR])):
        return exercises.report(False, "You treated logvar as log sigma: logvar is already log sigma^2, so "
                                       "sigma^2 = exp(logvar).")
    if close(value, -right):
        return exercises.report(False, "The sign is flipped: KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar)), and a "
                                       "KL is never negative.")
    if close(value, 2 * right):
        return exercises.report(False, "The factor 1/2 is missing.")
    if close(value, _vae_kl([0.0] * len(MU), LOGVAR)):
        return exercises.report(False, "The mu^2 term is missing: a mean away from 0 costs mu^2 / 2 nats per "
                                       "dimension.")
    return exercises.report(False, "Not this value: evaluate -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) with "
                                   "mu = (0.5, -1, 0) and logvar = (0, -1, 1).")


FORWARD = {"kl(p||q)", "klpq", "forward", "forwardkl", "p||q", "kl(p|q)", "inclusive"}
REVERSE = {"kl(q||p)", "klqp", "reverse", "reversekl", "q||p", "kl(q|p)", "exclusive"}


def check_direction_of_vi(answer):
    """Exercise 3: which KL does variational inference minimise, with q the approximation and p the posterior?"""
    if answer is None:
        return exercises.report(False, 'Replace None with a string: "KL(q||p)" or "KL(p||q)".')
    key = "".join(str(answer).lower().split()).replace("‖", "||").replace("kl[", "kl(").replace("]", ")")
    if key in REVERSE:
        return exercises.report(True, "Variational inference minimises KL(q || p), the reverse KL: it needs only "
                                      "samples from q, never from the posterior. Its price: q is mode-seeking and "
                                      "tends to be narrower than the posterior.")
    if key in FORWARD:
        return exercises.report(False, "KL(p || q) is an expectation under the posterior p(z | x), which we can "
                                       "neither sample nor evaluate (it needs p(x)). Which expectation *can* we "
                                       "estimate?")
    return exercises.report(False, f'Could not read {answer!r}: write "KL(q||p)" or "KL(p||q)".')
