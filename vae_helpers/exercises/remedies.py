"""Checks for the exercises of notebooks/10_learned_priors_and_flow_posteriors.ipynb."""

import math

from vae_helpers import exercises
from vae_helpers.exercises import as_number, close

# Exercise 1: one IAF step whose gates at a code z are these sigmas (a 4-D code, for a short sum by hand).
SIGMAS = (0.5, 0.8, 0.9, 1.0)


def check_flow_log_density(answer):
    """Exercise 1: log q(z') - log q(z) across one IAF step with gates SIGMAS at z: -sum log sigma_i (10.3)."""
    if answer is None:
        return exercises.report(False, "Replace None with one number: log q(z') - log q(z), in nats.")
    value = as_number(answer)
    if value is None:
        return exercises.report(False, "Give one number, for example 0.25.")
    right = -sum(math.log(sigma) for sigma in SIGMAS)
    if close(value, right):
        return exercises.report(True, f"{right:.4f} nats: the step shrinks volume by the product of its gates, "
                                      f"{math.prod(SIGMAS):.2f}, so the density at z' is 1 / {math.prod(SIGMAS):.2f} = "
                                      f"{1 / math.prod(SIGMAS):.2f} times higher.")
    hints = {
        -right: "the sign: the step shrinks space (every sigma <= 1), so the same probability sits in less volume "
                "and the density goes up.",
        -math.log(sum(SIGMAS)): "the Jacobian is triangular: its determinant is the product of the diagonal, so the "
                                "log-determinant is a sum of logs, not the log of a sum.",
        -math.prod(SIGMAS): "take the log: the change of variables adds -log |det J|, here -sum log sigma_i.",
        -sum(math.log10(sigma) for sigma in SIGMAS): "nats are natural logarithms: use math.log, not log10.",
    }
    for wrong, hint in hints.items():
        if close(value, wrong):
            return exercises.report(False, f"{value:.4g} is not it: {hint}")
    return exercises.not_this_value(value, right, f"{value:.4g} is not it. Use (10.3): the Jacobian of a step is "
                                                  f"triangular with the gates on its diagonal.")
