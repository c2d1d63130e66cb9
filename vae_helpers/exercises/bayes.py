"""Checks for the exercises of notebooks/01_bayes_rule_and_the_intractable_evidence.ipynb."""

import math

from vae_helpers import exercises
from vae_helpers.exercises import as_number, close

# Exercise 1 and 2: the conjugate model z ~ N(0, 1), x | z ~ N(z, 0.5^2), observed x = 2.
X, NOISE_STD, PRIOR_STD = 2.0, 0.5, 1.0
# Exercise 3: grid integration with 30 points per axis for latent_dim = 16.
GRID_POINTS, LATENT_DIM = 30, 16



def check_posterior_mean_and_std(mean, std):
    """Exercise 1: the posterior mean and standard deviation for x = 2, s = 0.5 and a N(0, 1) prior (eq. 1.3)."""
    if mean is None or std is None:
        return exercises.report(False, "Replace both Nones: `mean` and `std` of p(z | x) as numbers, from eq. (1.3).")
    mean, std = as_number(mean), as_number(std)
    if mean is None or std is None:
        return exercises.report(False, "Give `mean` and `std` as single numbers (a float or a one-element tensor).")
    variance = 1 / (1 / PRIOR_STD**2 + 1 / NOISE_STD**2)
    right_mean, right_std = variance * X / NOISE_STD**2, math.sqrt(variance)
    hints = []
    if close(mean, X):
        hints.append(f"A mean of {X} is the observed x itself, where the likelihood peaks: the prior N(0, 1) pulls the "
                     "posterior towards 0.")
    elif close(mean, X * NOISE_STD**2 / (PRIOR_STD**2 + NOISE_STD**2)):
        hints.append("The mean's weights are swapped: x gets the share of the *precision* that comes from the "
                     "likelihood, (1/s^2) / (1/s^2 + 1), which is large when the noise is small.")
    elif not close(mean, right_mean):
        hints.append("The mean is off: m = v * x / s^2 with 1/v = 1/prior_std^2 + 1/s^2.")
    if close(std, variance):
        hints.append(f"{std:.4g} is the posterior variance v: the standard deviation is its square root.")
    elif close(std, NOISE_STD):
        hints.append("A std of s = 0.5 is the likelihood's width: the posterior is narrower than both prior and "
                     "likelihood, because their precisions add.")
    elif close(std, math.sqrt(PRIOR_STD**2 + NOISE_STD**2)):
        hints.append("sqrt(1 + s^2) is the standard deviation of the evidence p(x), not of p(z | x).")
    elif not close(std, right_std):
        hints.append("The std is off: precisions add, 1/v = 1/prior_std^2 + 1/s^2, and std = sqrt(v).")
    if hints:
        return exercises.report(False, " ".join(hints))
    return exercises.report(True, f"p(z | x = 2) = N({right_mean:.3g}, {right_std:.4g}^2): the posterior sits 80% "
                                  "of the way from the prior mean to x, because the likelihood holds 80% of the "
                                  "precision.")


def check_log_evidence(log_px):
    """Exercise 2: log p(x) for x = 2 in the same model, in nats (eq. 1.4)."""
    if log_px is None:
        return exercises.report(False, "Replace None with log p(x = 2), a single number in nats, from eq. (1.4).")
    value = as_number(log_px)
    if value is None:
        return exercises.report(False, "Give log p(x) as a single number (a float or a one-element tensor).")

    def log_normal(variance):  # an independent oracle for the check, kept apart from vae_helpers.distributions
        return -0.5 * (math.log(2 * math.pi * variance) + X**2 / variance)

    right = log_normal(PRIOR_STD**2 + NOISE_STD**2)
    if close(value, right):
        return exercises.report(True, f"log p(x = 2) = {right:.4f} nats: x is N(0, 1 + s^2) because it is z plus "
                                      "independent noise, and variances of independent terms add.")
    if close(value, math.exp(right)):
        return exercises.report(False, f"{value:.4g} is p(x) itself; the exercise asks for its logarithm, in nats.")
    if close(value, -right):
        return exercises.report(False, "The sign is flipped: a log-density below 1 is negative.")
    if close(value, log_normal(NOISE_STD**2)):
        return exercises.report(False, "You used the noise variance s^2 alone: x = z + noise, so the prior's variance "
                                       "adds to it.")
    if close(value, log_normal(PRIOR_STD**2)):
        return exercises.report(False, "You used the prior's variance alone: the noise's variance s^2 adds to it.")
    if close(value, log_normal((PRIOR_STD + NOISE_STD) ** 2)) or close(value, log_normal(PRIOR_STD + NOISE_STD)):
        return exercises.report(False, "Variances add, standard deviations do not: the variance of x is 1 + s^2.")
    return exercises.report(False, "Not this value: evaluate log N(x; 0, 1 + s^2) = -1/2 [log(2 pi (1 + s^2)) + "
                                   "x^2 / (1 + s^2)] at x = 2, s = 0.5.")


def check_grid_evaluations(count):
    """Exercise 3: how many decoder evaluations a 30-points-per-axis grid needs for latent_dim = 16."""
    if count is None:
        return exercises.report(False, "Replace None with the number of grid points (a whole number, e.g. 30**2 "
                                       "for two dimensions).")
    value = as_number(count)
    if value is None:
        return exercises.report(False, "Give the count as a single number.")
    right = GRID_POINTS**LATENT_DIM
    if close(value, right, 1e-6):
        return exercises.report(True, f"{right:.3g} evaluations: one for every combination of 30 values in each of "
                                      "16 coordinates.")
    if close(value, GRID_POINTS * LATENT_DIM, 1e-6):
        return exercises.report(False, "30 * 16 counts 30 values per axis once; a grid needs every *combination* "
                                       "of them, so the counts multiply.")
    if close(value, LATENT_DIM**GRID_POINTS, 1e-6):
        return exercises.report(False, "Base and exponent are swapped: n points per axis in d dimensions give n^d.")
    return exercises.report(False, "Not this count: with n points per axis a d-dimensional grid has n^d points.")
