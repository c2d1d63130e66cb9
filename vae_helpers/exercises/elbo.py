"""Checks for the exercises of notebooks/03_variational_inference_and_the_elbo.ipynb."""

import math

from vae_helpers import conjugate, exercises
from vae_helpers.exercises import as_number, close

# Exercise 1: the ELBO of one q on the conjugate model, by hand.
ELBO_EXERCISE = {"x": 2.0, "noise_std": 0.5, "prior_std": 1.0, "q_mean": 1.0, "q_std": 0.3}
# Exercise 2: the model of the notebook's running example.
SLOPE_EXERCISE = {"noise_std": 0.75, "prior_std": 1.0}



def _match(value, right, mistakes, tolerance, right_message, fallback):
    """Return (True, right_message) if value is right, else the message of the first typical mistake it matches."""
    if close(value, right, tolerance):
        return True, right_message
    for wrong, message in mistakes:
        if close(value, wrong, tolerance):
            return False, f"{value:.4f}: {message}"
    return False, exercises.rounding_hint(value, right) or f"{value:.4f} {fallback}"


def check_elbo_of_q(answer, tolerance=1e-3):
    """Check exercise 1 of notebook 03: the ELBO (nats) of q = N(1.0, 0.3^2) for x = 2.0, s = 0.5, prior N(0, 1)."""
    if answer is None:
        return exercises.report(False, "Replace None with your ELBO, a number in nats, computed with eq. (3.4) and "
                                       "the closed forms of the notebook (not with vh.conjugate.elbo_terms).")
    value = as_number(answer)
    if value is None:
        return exercises.report(False, f"The answer should be one number (the ELBO in nats), got {answer!r}.")
    e = ELBO_EXERCISE
    terms = {k: v.item() for k, v in conjugate.elbo_terms(e["x"], e["q_mean"], e["q_std"], e["prior_std"],
                                                          e["noise_std"]).items()}
    reconstruction, kl_prior = terms["reconstruction"], terms["kl_to_prior"]
    # E_q[log p(x|z)] without the q_std^2 part of E_q[(x - z)^2] = (x - q_mean)^2 + q_std^2
    no_spread = reconstruction + 0.5 * e["q_std"] ** 2 / e["noise_std"] ** 2
    mistakes = [
        (terms["log_evidence"], "that is log p(x), the evidence. The ELBO lies below it by the gap KL(q || p(z|x)), "
                                "which is not zero here because q is not the posterior."),
        (reconstruction + kl_prior, "you added KL(q || p(z)). Eq. (3.4) subtracts it: "
                                    "ELBO = E_q[log p(x|z)] - KL(q || p(z))."),
        (reconstruction - terms["kl_to_posterior"],
         "you subtracted KL(q || p(z|x)), the gap of eq. (3.3). Eq. (3.4) subtracts the KL to the prior p(z)."),
        (reconstruction, "that is only the reconstruction term E_q[log p(x|z)]; subtract KL(q || p(z))."),
        (no_spread - kl_prior, "the width of q is missing from the reconstruction term: under q, "
                               "E_q[(x - z)^2] = (x - m)^2 + sigma^2, not (x - m)^2."),
        (-terms["elbo"], "the sign is flipped: you gave -ELBO (the loss a VAE minimises); the ELBO is negative here."),
    ]
    right_message = (f"ELBO = {terms['elbo']:.4f} nats, {terms['kl_to_posterior']:.4f} below "
                     f"log p(x) = {terms['log_evidence']:.4f}.")
    fallback = ("is not the ELBO. Compute E_q[log p(x|z)] and KL(q || p(z)) separately, check each against "
                "vh.conjugate.elbo_terms, then subtract.")
    return exercises.report(*_match(value, terms["elbo"], mistakes, tolerance, right_message, fallback))


def check_amortized_slope(answer, tolerance=5e-3):
    """Check exercise 2 of notebook 03: w in the exact encoder mean = w * x, for prior N(0, 1) and noise s = 0.75."""
    if answer is None:
        return exercises.report(False, "Replace None with the slope w of the exact posterior mean, mean = w * x.")
    value = as_number(answer)
    if value is None:
        return exercises.report(False, f"The answer should be one number (the slope w), got {answer!r}.")
    prior_var, noise_var = SLOPE_EXERCISE["prior_std"] ** 2, SLOPE_EXERCISE["noise_std"] ** 2
    post_var = 1 / (1 / prior_var + 1 / noise_var)
    slope = post_var / noise_var
    mistakes = [
        (post_var, "that is the posterior variance v. The posterior mean is v * x / s^2, so the slope is v / s^2."),
        (1 / noise_var, "that is 1 / s^2, the precision of the likelihood; the slope also multiplies by the "
                        "posterior variance v."),
        (math.sqrt(post_var), "that is the posterior standard deviation, which does not depend on x; "
                              "the question asks for the slope of the mean."),
        (1.0, "mean = x would ignore the prior: the posterior mean shrinks x towards the prior mean 0."),
    ]
    right_message = (f"w = v / s^2 = prior_std^2 / (prior_std^2 + s^2) = {slope:.4f}: the posterior mean keeps "
                     "this share of x.")
    fallback = ("is not the slope. Start from the posterior of notebook 01: 1/v = 1/prior_std^2 + 1/s^2 and "
                "mean = v * x / s^2.")
    return exercises.report(*_match(value, slope, mistakes, tolerance, right_message, fallback))


# Exercise 3: the Monte Carlo ELBO of section 3 as a function, on exercise 1's model.
ESTIMATOR_QS = ((1.0, 0.3), (-0.5, 1.2), (1.6, 0.45))  # (mean, std) of the q's the check tries
ESTIMATOR_SAMPLES = 50_000


def check_elbo_estimator(estimator):
    """Exercise 3: estimator(q_mean, q_std, num_samples, generator) -> (estimate, standard_error) of the ELBO (3.2)
    for x = 2, s = 0.5, prior N(0, 1), from samples of q. Checked at three q's against the closed form
    (conjugate.elbo_terms): each estimate within four true standard errors, each standard error within 10%."""
    import torch

    if estimator is None:
        return exercises.report(False, "Replace None with your function elbo_estimate(q_mean, q_std, num_samples, "
                                       "generator).")
    if not callable(estimator):
        return exercises.report(False, f"Give the function itself (elbo_estimate, no brackets), got {estimator!r}.")
    e = ELBO_EXERCISE
    for q_mean, q_std in ESTIMATOR_QS:
        estimate, standard_error, problem = exercises.estimate_and_error(
            lambda: estimator(q_mean, q_std, ESTIMATOR_SAMPLES, torch.Generator().manual_seed(2)),
            "elbo_estimate", f"for q = N({q_mean}, {q_std}^2)")
        if problem:
            return exercises.report(False, problem)
        again = as_number(estimator(q_mean, q_std, ESTIMATOR_SAMPLES, torch.Generator().manual_seed(5))[0])
        if again == estimate:
            return exercises.report(False, f"For q = N({q_mean}, {q_std}^2) two runs with different generators gave "
                                           f"the same {estimate:.4f}: that is a closed form, or a seed fixed inside "
                                           "your function (use the generator given, and do not reseed), not an "
                                           "estimate from samples of q.")
        terms = conjugate.elbo_terms(e["x"], q_mean, q_std, e["prior_std"], e["noise_std"])
        # The true spread of one term log p(x, z) - log q(z), from many samples of q, sets the tolerance.
        z = q_mean + q_std * torch.randn(400_000, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
        log_q = torch.distributions.Normal(q_mean, q_std).log_prob(z)
        terms_per_z = (conjugate.log_likelihood(e["x"], z, e["noise_std"]) + conjugate.log_prior(z, e["prior_std"])
                       - log_q)
        true_error = terms_per_z.std().item() / math.sqrt(ESTIMATOR_SAMPLES)
        exact = terms["elbo"].item()
        if abs(estimate - exact) > 4 * true_error:
            hint = ""
            if abs(estimate - terms["log_evidence"].item()) < 4 * true_error:
                hint = " That is log p(x): subtract log q(z) at each sample."
            elif abs(estimate - terms["reconstruction"].item()) < 4 * true_error:
                hint = " That is only the reconstruction term: add log p(z) - log q(z) at each sample."
            return exercises.report(False, f"For q = N({q_mean}, {q_std}^2) your estimate is {estimate:.4f}, the exact "
                                           f"ELBO {exact:.4f} (true standard error {true_error:.4f}).{hint}")
        if abs(standard_error - true_error) > 0.1 * true_error:
            return exercises.report(False, f"For q = N({q_mean}, {q_std}^2) the estimate is fine, but its standard "
                                           f"error should be about {true_error:.4f}, got {standard_error:.4f}: the "
                                           "standard deviation of the terms over sqrt(num_samples). (A smaller "
                                           "one usually means part of the ELBO came from a closed form, such as the "
                                           "KL of (3.4); this exercise asks for (3.2) from samples alone.)")
    return exercises.report(True, "At all three q's your estimate agrees with the closed form within four standard "
                                  "errors: samples of q and three log-densities are all the ELBO needs.")
