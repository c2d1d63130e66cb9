"""Checks for the exercises of notebooks/04_the_reparameterization_trick.ipynb."""

import math

from vae_helpers import exercises
from vae_helpers.exercises import as_number

# Exercise 1: the exact gradient of E_q[exp(z)] for q = N(mu, sigma^2) at these values.
EXP_EXERCISE = {"mu": 0.5, "sigma": 0.8}
# Exercise 2: the names a learner may give each choice.

def _as_pair(answer):
    """Return two floats from a tuple, list, array or tensor of two numbers; None if the answer is not that."""
    try:
        values = answer.tolist() if hasattr(answer, "tolist") else list(answer)
        first, second = (float(value) for value in values)
    except (TypeError, ValueError):
        return None
    return (first, second) if math.isfinite(first) and math.isfinite(second) else None


def check_exp_gradient(answer, tolerance=1e-4):
    """Check exercise 1 of notebook 04: (d/dmu, d/dsigma) of E_q[exp(z)] at mu = 0.5, sigma = 0.8, exactly. The
    tolerance is tight (1e-4, relative): a pathwise estimate from 400,000 samples is off by about 2e-3."""
    return exercises.report(*_exp_gradient_verdict(answer, tolerance))


def _exp_gradient_verdict(answer, tolerance):
    if answer is None:
        return False, "Replace None with the exact gradient as a pair (d/dmu, d/dsigma) of E_q[exp(z)]."
    pair = _as_pair(answer)
    if pair is None:
        return False, f"The answer should be two numbers, (d/dmu, d/dsigma), got {answer!r}."
    mu, sigma = EXP_EXERCISE["mu"], EXP_EXERCISE["sigma"]
    mean = math.exp(mu + sigma**2 / 2)  # E[exp(z)], the mean of a log-normal
    right = (mean, sigma * mean)
    close = lambda value, target: exercises.close(value, target, tolerance)  # noqa: E731
    if close(pair[0], right[0]) and close(pair[1], right[1]):
        return True, (f"E_q[exp(z)] = exp(mu + sigma^2/2) = {mean:.4f}, so the gradient is "
                      f"({right[0]:.4f}, {right[1]:.4f}).")
    if close(pair[0], right[1]) and close(pair[1], right[0]):
        return False, "The two numbers are swapped: the first is d/dmu, the second d/dsigma."
    if close(pair[0], math.exp(mu)):
        return False, (f"{pair[0]:.4f} = exp(mu) treats E_q[exp(z)] as exp(E_q[z]). The mean of exp(z) is "
                       "exp(mu + sigma^2/2): the spread of z pushes it up.")
    if close(pair[0], right[0]):
        if close(pair[1], mean):
            return False, ("d/dmu is right. For d/dsigma, apply the chain rule to sigma^2/2: its derivative is sigma, "
                           "so d/dsigma = sigma * exp(mu + sigma^2/2).")
        if close(pair[1], mean / 2):
            return False, ("d/dmu is right, but your second number is the derivative with respect to the variance "
                           "sigma^2; the question asks for d/dsigma.")
        return False, "d/dmu is right; check d/dsigma of exp(mu + sigma^2/2) again."
    for decimals in (1, 2, 3):
        if all(abs(a - round(b, decimals)) < 1e-9 for a, b in zip(pair, right)):
            return False, (f"Close: both numbers are the exact ones rounded to {decimals} decimal"
                           f"{'s' if decimals > 1 else ''}. Give at least four significant digits, or paste the "
                           "expressions that compute them.")
    if all(abs(a - b) < 0.1 * abs(b) for a, b in zip(pair, right)):
        return False, ("Close, but not exact: this looks like a Monte Carlo estimate. Differentiate the closed form "
                       "E_q[exp(z)] = exp(mu + sigma^2/2), then use your estimators to confirm it.")
    return False, ("Not the gradient. Write E_q[exp(z)] in closed form first (the mean of a log-normal), then "
                   "differentiate it with respect to mu and to sigma.")


# Exercise 2: the exact d/dmu of E_q|z| = 2 Phi(mu / sigma) - 1.
ABS_EXERCISE = {"mu": 0.3, "sigma": 1.0}


def check_abs_gradient(answer):
    """Exercise 2 of notebook 04: d/dmu E_q|z| at mu = 0.3, sigma = 1, exactly: 2 Phi(mu / sigma) - 1."""
    if answer is None:
        return exercises.report(False, "Replace None with d/dmu E_q|z| at mu = 0.3, sigma = 1, a single number.")
    value = as_number(answer)
    if value is None:
        return exercises.report(False, f"The answer should be one number, got {answer!r}.")
    ratio = ABS_EXERCISE["mu"] / ABS_EXERCISE["sigma"]
    phi = 0.5 * (1 + math.erf(ratio / math.sqrt(2)))  # the standard normal CDF at mu / sigma
    right = 2 * phi - 1
    # Tighter than most checks (1e-4): a Monte Carlo estimate from 400,000 samples has a standard error of 1.5e-3.
    if abs(value - right) < 1e-4:
        return exercises.report(True, f"d/dmu E_q|z| = 2 Phi(0.3) - 1 = {right:.4f}. Both estimators average to it: "
                                      "|z| has a kink, not a jump.")
    if exercises.close(value, phi):
        return exercises.report(False, "That is Phi(0.3): E_q[sign(z)] = P(z > 0) - P(z < 0) = 2 Phi(mu/sigma) - 1.")
    hint = exercises.rounding_hint(value, right, passes=lambda v, r: abs(v - r) < 1e-4)
    if hint:
        return exercises.report(False, hint)
    if abs(value - right) < 0.01:
        return exercises.report(False, f"{value:.5f} is close, but not exact: it looks like an estimate. Evaluate "
                                       "2 Phi(mu / sigma) - 1 itself, with torch.distributions.Normal(0., 1.).cdf.")
    return exercises.not_this_value(value, right, "Not this value: evaluate 2 Phi(mu / sigma) - 1 with "
                                                  "torch.distributions.Normal(0., 1.).cdf.")


def check_leave_one_out_baseline(baseline):
    """Exercise 3 of notebook 04: baseline(values) -> b with b[..., k] the mean of values[..., j] over j != k. Tried
    on two shapes, (3, 5) and (2, 7), so that a K written into the code does not pass."""
    import torch

    if baseline is None:
        return exercises.report(False, "Replace None with your function leave_one_out(values).")
    if not callable(baseline):
        return exercises.report(False, f"Give the function itself (leave_one_out, no brackets), got {baseline!r}.")
    generator = torch.Generator().manual_seed(4)
    for shape in ((3, 5), (2, 7)):
        values = torch.randn(shape, generator=generator, dtype=torch.float64)
        rows, num_samples = shape
        others = torch.stack([torch.cat([row[:k], row[k + 1:]]).mean() for row in values
                              for k in range(num_samples)]).view(shape)
        try:
            result = baseline(values.clone())  # a clone: an in-place version must not change what it is checked on
            if result is None:
                return exercises.report(False, "leave_one_out still returns None: return the (R, K) baselines.")
            result = torch.as_tensor(result, dtype=torch.float64)
        except Exception as error:  # the learner's code: say what broke instead of stopping "Run All"
            return exercises.report(False, f"Calling leave_one_out on a {shape} tensor failed: {type(error).__name__}: "
                                           f"{error}.")
        if result.shape != values.shape:
            return exercises.report(False, f"Return one baseline per sample, shape {shape}; got {tuple(result.shape)}.")
        if torch.allclose(result, values.mean(-1, keepdim=True).expand_as(values), atol=1e-10):
            return exercises.report(False, "That is the mean of all K values, z_k's own included: then b_k depends on "
                                           "z_k and the estimator is biased. Leave value k out.")
        if not torch.allclose(result, others, atol=1e-10):
            return exercises.report(False, f"Not yet (on a {shape} tensor): for each k, average the other K - 1 values "
                                           "of the same row: (row sum - value k) / (K - 1), with K = values.shape[-1].")
    return exercises.report(True, "b_k is the mean of the other samples of the same estimate: it does not depend on "
                                  "z_k, so the estimator stays unbiased.")
