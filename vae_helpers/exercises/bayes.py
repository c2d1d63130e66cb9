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
        hints.append(exercises.rounding_hint(mean, right_mean)
                     or "The mean is off: m = v * x / s^2 with 1/v = 1/prior_std^2 + 1/s^2.")
    if close(std, variance):
        hints.append(f"{std:.4g} is the posterior variance v: the standard deviation is its square root.")
    elif close(std, NOISE_STD):
        hints.append("A std of s = 0.5 is the likelihood's width: the posterior is narrower than both prior and "
                     "likelihood, because their precisions add.")
    elif close(std, math.sqrt(PRIOR_STD**2 + NOISE_STD**2)):
        hints.append("sqrt(1 + s^2) is the standard deviation of the evidence p(x), not of p(z | x).")
    elif not close(std, right_std):
        hints.append(exercises.rounding_hint(std, right_std) or "The std is off: precisions add, 1/v = 1/prior_std^2 + 1/s^2, and std = sqrt(v).")
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
    return exercises.not_this_value(value, right, "Not this value: evaluate log N(x; 0, 1 + s^2) = -1/2 [log(2 pi "
                                                  "(1 + s^2)) + x^2 / (1 + s^2)] at x = 2, s = 0.5.")


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


# Exercise 4: ancestral sampling from the model of the first section, z ~ N(0, 1), x | z ~ N(z, 0.8^2).
SAMPLER_NOISE_STD, SAMPLER_X, SAMPLER_DRAWS, SAMPLER_WINDOW = 0.8, 1.5, 400_000, 0.05


def check_ancestral_sampler(sampler):
    """Exercise 4: sampler(num_samples, generator) -> (z, x), drawn by ancestral sampling from z ~ N(0, 1),
    x | z ~ N(z, 0.8^2). Checked on 400,000 draws: the variance of x is 1 + 0.8^2 (eq. 1.4), and the average z of
    the draws whose x lands within 0.05 of 1.5 is the posterior mean (eq. 1.3), each within four standard errors."""
    import torch

    if sampler is None:
        return exercises.report(False, "Replace None with your function sample_joint(num_samples, generator).")
    if not callable(sampler):
        return exercises.report(False, f"Give the function itself (sample_joint, no brackets), got {sampler!r}.")
    try:
        draws = sampler(SAMPLER_DRAWS, torch.Generator().manual_seed(0))
        if any(t is None for t in draws):
            return exercises.report(False, "sample_joint still returns None: fill in z and x.")
        z, x = (torch.as_tensor(t, dtype=torch.float64).flatten() for t in draws)
    except Exception as error:  # the learner's code: report what broke instead of stopping "Run All"
        return exercises.report(False, f"Calling sample_joint({SAMPLER_DRAWS}, generator) failed: "
                                       f"{type(error).__name__}: {error}. It should return two tensors (z, x).")
    if z.shape != (SAMPLER_DRAWS,) or x.shape != (SAMPLER_DRAWS,):
        return exercises.report(False, f"Expected z and x of shape ({SAMPLER_DRAWS},), one pair per draw; got "
                                       f"{tuple(z.shape)} and {tuple(x.shape)}.")
    variance, right_variance = x.var().item(), 1 + SAMPLER_NOISE_STD**2
    # The standard error of a sample variance of Gaussian draws: variance * sqrt(2 / (n - 1)).
    if abs(variance - right_variance) > 4 * right_variance * math.sqrt(2 / (SAMPLER_DRAWS - 1)):
        if abs(variance - SAMPLER_NOISE_STD**2) < 0.05:
            return exercises.report(False, "x varies only by the noise: draw z first, then x around *that* z.")
        return exercises.report(False, f"The variance of your x is {variance:.3f}; the model's is 1 + 0.8^2 = "
                                       f"{right_variance:.2f} (eq. 1.4). Draw z ~ N(0, 1), then x = z + 0.8 * noise.")
    if abs(z.var().item() - 1) > 4 * math.sqrt(2 / (SAMPLER_DRAWS - 1)):
        return exercises.report(False, f"The variance of your z is {z.var().item():.3f}; the prior N(0, 1) has 1. "
                                       "Return the z drawn from the prior, then used to draw x.")
    near = z[(x - SAMPLER_X).abs() < SAMPLER_WINDOW]
    posterior_variance = 1 / (1 + 1 / SAMPLER_NOISE_STD**2)
    posterior_mean = posterior_variance * SAMPLER_X / SAMPLER_NOISE_STD**2
    standard_error = math.sqrt(posterior_variance / len(near))
    if abs(near.mean().item() - posterior_mean) > 4 * standard_error:
        return exercises.report(False, f"x looks right, but the z's behind x near 1.5 average {near.mean():.3f}, not "
                                       f"the posterior mean {posterior_mean:.3f}: return the z each x was drawn from.")
    # The z's behind x near 1.5 must spread like the posterior: the standard error of a standard deviation from n
    # Gaussian draws is about sd / sqrt(2 n).
    posterior_std = math.sqrt(posterior_variance)
    if abs(near.std().item() - posterior_std) > 4 * posterior_std / math.sqrt(2 * len(near)):
        return exercises.report(False, f"The z's behind x near 1.5 spread by {near.std().item():.3f}, the posterior "
                                       f"by {posterior_std:.4f}: draw x at random given z, not as a function of z.")
    return exercises.report(True, f"Of {SAMPLER_DRAWS:,} draws, {len(near):,} have x within 0.05 of 1.5, and their "
                                  f"z average {near.mean():.3f} ± {standard_error:.3f}: the posterior mean "
                                  f"{posterior_mean:.4f} of (1.3). Keeping the samples that match the data is "
                                  "inference by sampling; it wastes all but a sliver of them.")
