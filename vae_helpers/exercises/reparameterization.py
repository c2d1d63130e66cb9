"""Checks for the exercises of notebooks/04_the_reparameterization_trick.ipynb."""

import math

from vae_helpers import exercises

# Exercise 1: the exact gradient of E_q[exp(z)] for q = N(mu, sigma^2) at these values.
EXP_EXERCISE = {"mu": 0.5, "sigma": 0.8}
# Exercise 2: the names a learner may give each choice.
ANSWER_NAMES = {"score": "score", "score function": "score", "score-function": "score", "reinforce": "score",
                "pathwise": "pathwise", "reparameterization": "pathwise", "reparameterized": "pathwise",
                "both": "both", "neither": "neither"}


def _as_pair(answer):
    """Return two floats from a tuple, list, array or tensor of two numbers; None if the answer is not that."""
    try:
        values = answer.tolist() if hasattr(answer, "tolist") else list(answer)
        first, second = (float(value) for value in values)
    except (TypeError, ValueError):
        return None
    return (first, second) if math.isfinite(first) and math.isfinite(second) else None


def check_exp_gradient(answer, tolerance=2e-3):
    """Check exercise 1 of notebook 04: (d/dmu, d/dsigma) of E_q[exp(z)] at mu = 0.5, sigma = 0.8, exactly."""
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
    if all(abs(a - b) < 0.1 * abs(b) for a, b in zip(pair, right)):
        return False, ("Close, but not exact: this looks like a Monte Carlo estimate. Differentiate the closed form "
                       "E_q[exp(z)] = exp(mu + sigma^2/2), then use your estimators to confirm it.")
    return False, ("Not the gradient. Write E_q[exp(z)] in closed form first (the mean of a log-normal), then "
                   "differentiate it with respect to mu and to sigma.")


def check_abs_estimator(answer):
    """Check exercise 2 of notebook 04: which estimators are unbiased for f(z) = |z|: 'score', 'pathwise' or 'both'?"""
    if answer is None:
        return exercises.report(False, "Replace None with 'score', 'pathwise' or 'both'.")
    verdicts = {
        "both": (True, "The score function is unbiased for any f with a finite mean, and the pathwise estimator is "
                       "unbiased when f is absolutely continuous on every bounded interval and E_q|f'(z)| is finite "
                       "(Stein's lemma); a Lipschitz f such as |z| satisfies both, its kink at 0 hit with "
                       "probability 0. Continuity alone is not enough: the Cantor function is continuous, with "
                       "derivative 0 almost everywhere, and still rises."),
        "score": (False, "The pathwise estimator works here too. It fails at jumps, like the step of section 4, "
                         "not at kinks: |z| is Lipschitz, and its derivative sign(z) exists everywhere except at "
                         "z = 0. Compare pathwise_gradient(torch.abs, ...) with the exact d/dmu = "
                         "2 Phi(mu/sigma) - 1."),
        "pathwise": (False, "The score-function estimator is unbiased for any f: it never differentiates f, it only "
                            "needs f's values."),
        "neither": (False, "Both are unbiased here: the score function for any f, and pathwise because |z| is "
                           "Lipschitz (a kink is not a jump)."),
    }
    choice = ANSWER_NAMES.get(str(answer).strip().lower())
    return exercises.report(*verdicts.get(choice, (False, f"Write 'score', 'pathwise' or 'both', got {answer!r}.")))
