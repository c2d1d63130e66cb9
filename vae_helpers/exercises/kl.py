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
    return exercises.not_this_value(value, right, "Not this value: compute sum_i p_i log(p_i / q_i) over the three "
                                                  "outcomes.")


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
    return exercises.not_this_value(value, right, "Not this value: evaluate -1/2 * sum(1 + logvar - mu^2 - "
                                                  "exp(logvar)) with mu = (0.5, -1, 0) and logvar = (0, -1, 1).")


def check_monte_carlo_kl(estimator):
    """Exercise 3: estimator(q, p, num_samples) -> (estimate, standard_error) of KL(q || p) for two
    torch.distributions objects, from samples of q only. Checked on a 1-D and a 3-D Gaussian pair against
    torch.distributions.kl_divergence: the estimate within four of its true standard errors, and the reported
    standard error within 10% of the true one."""
    import torch
    from torch.distributions import Independent, Normal, kl_divergence

    if estimator is None:
        return exercises.report(False, "Replace None with your function monte_carlo_kl(q, p, num_samples).")
    if not callable(estimator):
        return exercises.report(False, f"Give the function itself (monte_carlo_kl, no brackets), got {estimator!r}.")
    double = lambda *values: torch.tensor(values, dtype=torch.float64)  # noqa: E731
    pairs = {"1-D": (Normal(double(1.0), double(0.5)), Normal(double(-0.5), double(2.0))),
             "3-D": (Independent(Normal(double(0.5, -1.0, 0.0), double(1.0, 0.6, 1.6)), 1),
                     Independent(Normal(double(0.0, 0.0, 0.0), double(1.0, 1.0, 1.0)), 1))}
    num_samples = 20_000
    for name, (q, p) in pairs.items():
        def run(seed):  # sample() draws from torch's global generator: seed it, then restore it
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                return estimator(q, p, num_samples)

        estimate, standard_error, problem = exercises.estimate_and_error(lambda: run(1), "monte_carlo_kl",
                                                                         f"on the {name} pair")
        if problem:
            return exercises.report(False, problem)
        again = as_number(run(3)[0])  # a Monte Carlo estimate changes with the samples; a closed form does not
        if again == estimate:
            return exercises.report(False, f"On the {name} pair two runs with different samples gave the same "
                                           f"{estimate:.4f}: that is a closed form, or a seed fixed inside your "
                                           "function (do not reseed), not an estimate from samples of q.")
        exact = kl_divergence(q, p).item()
        # The true spread of one term log q(z) - log p(z), from many samples of q, sets the tolerance.
        with torch.random.fork_rng():
            torch.manual_seed(2)
            z = q.sample((400_000,))
        true_error = (q.log_prob(z) - p.log_prob(z)).std().item() / math.sqrt(num_samples)
        if abs(estimate - exact) > 4 * true_error:
            hint = (" Per-dimension values? Sum log-densities over the dimensions: Independent's log_prob does it."
                    if name == "3-D" else " Sample z from q (not p) and average log q(z) - log p(z).")
            return exercises.report(False, f"On the {name} pair your estimate is {estimate:.4f}, the exact KL "
                                           f"{exact:.4f} (true standard error {true_error:.4f}).{hint}")
        if abs(standard_error - true_error) > 0.1 * true_error:
            return exercises.report(False, f"On the {name} pair the estimate is fine, but its standard error should "
                                           f"be about {true_error:.4f}, got {standard_error:.4f}: the standard "
                                           "deviation of the terms divided by sqrt(num_samples).")
    return exercises.report(True, "Both pairs agree with kl_divergence within four standard errors, and your "
                                  "standard errors are right: the same check the notebook made for (2.3) and (2.4).")
