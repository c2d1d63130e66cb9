"""Checks for the exercises of notebooks/11_the_conditional_vae.ipynb."""

import torch

from vae_helpers import exercises
from vae_helpers.conditional import bayes_posterior
from vae_helpers.exercises import as_number, close

# Exercise 1: log p(x | y) of one digit under three labels, in nats, and a class prior.
LOG_LIKELIHOODS = torch.tensor([-100.0, -102.0, -110.0], dtype=torch.float64)
PRIOR = torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64)


def check_class_posterior(answer):
    """Exercise 1: p(y = 0 | x) by Bayes' rule from LOG_LIKELIHOODS and PRIOR."""
    right = bayes_posterior(LOG_LIKELIHOODS, PRIOR.log())[0][0].exp().item()
    value = as_number(answer)
    if answer is None:
        return exercises.report(False, "Replace None with one number: the probability of label 0 given the digit.")
    if value is None:
        return exercises.report(False, "Give one number between 0 and 1, for example 0.5.")
    if close(value, right):
        return exercises.report(True, f"p(y=0 | x) = {right:.4f}: label 0 is 2 nats likelier than label 1 (e² ≈ 7.4 "
                                      "times) but half as probable beforehand, so it wins by about 3.7 to 1.")
    uniform = (LOG_LIKELIHOODS.exp() / LOG_LIKELIHOODS.exp().sum())[0].item()
    hints = {uniform: "that is Bayes' rule with equal priors; label 1 was twice as probable before seeing the digit.",
             0.25 * 1.0: "that is the prior alone: the likelihoods tell you more than that.",
             (0.25 * LOG_LIKELIHOODS[0] / (PRIOR * LOG_LIKELIHOODS).sum()).item():
                 "log-likelihoods cannot be weighted and normalised as they are: exponentiate first (subtract the "
                 "largest, -100, so nothing underflows)."}
    for wrong, hint in hints.items():
        if close(value, wrong):
            return exercises.report(False, f"{value:g} is not it: {hint}")
    return exercises.not_this_value(value, right, f"{value:g} is not it. Multiply each p(x | y) = exp(log p(x | y) + "
                                                  "100) by p(y), then divide by the sum of the three.")
