"""Checks for the exercises of notebooks/07_exploring_the_latent_space.ipynb."""

import math

import torch

from vae_helpers import exercises

# Exercise 1: slerp(z_a, z_b, t) for (D,) codes and a number t, tried on these pairs (float64, so no rounding
# blurs the comparison). The first has unequal norms below 1, so the mistake arccos(z_a . z_b) without normalising
# still gives a number, and a different one; the second is two 16-D codes of typical size.
_PAIRS = (
    (torch.tensor([0.6, 0.0, 0.0], dtype=torch.float64), torch.tensor([0.3, 0.7, 0.2], dtype=torch.float64)),
    (torch.linspace(-1.5, 1.5, 16, dtype=torch.float64).sin() * 4, torch.linspace(0.0, 3.0, 16, dtype=torch.float64)),
)
_POSITIONS = (0.0, 0.25, 0.5, 0.8, 1.0)
# ... and on two nearly parallel codes, where sin(omega) ~ 0 and the textbook formula divides 0 by 0.
_NEARLY_PARALLEL = (torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
                    torch.tensor([1.0, 2.0, 3.0 + 1e-12], dtype=torch.float64))

# Exercise 2: codes at temperature T from this noise: eps = torch.randn(*SAMPLE_SHAPE, generator=...manual_seed(SEED)).
TEMPERATURE, SEED, SAMPLE_SHAPE = 0.5, 7, (6, 16)


def _lerp(z_a, z_b, t):
    return (1 - t) * z_a + t * z_b


def _slerp_with_angle(z_a, z_b, t, omega):
    return (math.sin((1 - t) * omega) * z_a + math.sin(t * omega) * z_b) / math.sin(omega)


def _angle(z_a, z_b):
    return math.acos(max(-1.0, min(1.0, (z_a @ z_b / (z_a.norm() * z_b.norm())).item())))


def _reference(z_a, z_b, t):
    """The textbook sin-weighted formula (eq. 7.4) in float64, written independently of latent.slerp (which uses
    atan2 and a fallback), so that checking latent.slerp itself compares two different computations."""
    return _slerp_with_angle(z_a, z_b, t, _angle(z_a, z_b))


# Typical mistakes, each a function of (z_a, z_b, t), with the hint it deserves.
_MISTAKES = (
    (_lerp, "This is linear interpolation, eq. (7.3): slerp weights z_a and z_b by sin((1 - t) omega) / sin(omega) "
            "and sin(t omega) / sin(omega), with omega the angle between them."),
    (lambda z_a, z_b, t: _slerp_with_angle(z_a, z_b, t, math.acos(max(-1.0, min(1.0, (z_a @ z_b).item())))),
     "The angle is off: cos(omega) = z_a . z_b / (|z_a| |z_b|); without dividing by the norms, the dot product is not "
     "a cosine."),
    (lambda z_a, z_b, t: _slerp_with_angle(z_a, z_b, 1 - t, _angle(z_a, z_b)),
     "The weights are swapped: at t = 0 slerp must return z_a, so z_a gets sin((1 - t) omega) / sin(omega)."),
    (lambda z_a, z_b, t: _slerp_with_angle(z_a / z_a.norm(), z_b / z_b.norm(), t, _angle(z_a, z_b)),
     "You interpolated the unit vectors z_a / |z_a| and z_b / |z_b|: slerp combines z_a and z_b themselves; only the "
     "angle omega is computed from the normalised vectors."),
    (lambda z_a, z_b, t: (math.sin((1 - t) * _angle(z_a, z_b)) * z_a + math.sin(t * _angle(z_a, z_b)) * z_b),
     "The division by sin(omega) is missing: without it the weights do not give z_a at t = 0 and z_b at t = 1."),
)


def _as_vector(value):
    try:
        return torch.as_tensor(value, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        return None


def check_slerp(slerp_function):
    """Exercise 1: a function slerp(z_a, z_b, t) -> (D,) for codes z_a, z_b (D,) and a number t in [0, 1] (eq. 7.4)."""
    if slerp_function is None:
        return exercises.report(False, "Replace None with your function: def my_slerp(z_a, z_b, t): ... returning the "
                                       "point at t on the great circle from z_a to z_b (eq. 7.4).")
    if not callable(slerp_function):
        return exercises.report(False, f"Pass the function itself (my_slerp, without brackets), not a "
                                       f"{type(slerp_function).__name__}.")
    answers = {}
    for pair_index, (z_a, z_b) in enumerate(_PAIRS):
        for t in _POSITIONS:
            try:
                returned = slerp_function(z_a.clone(), z_b.clone(), t)
                returned_none, answer = returned is None, _as_vector(returned)
            except Exception as error:  # the learner's code: report any failure instead of stopping the notebook
                hint = (" Is the cosine you pass to arccos within [-1, 1]? Divide the dot product by both norms."
                        if "domain" in str(error) else "")
                return exercises.report(False, f"Your function raised {type(error).__name__}: {error} "
                                               f"(on two {len(z_a)}-D codes, t = {t}).{hint}")
            if returned_none:
                return exercises.report(False, "Your function returns None: replace `return None` with your code for "
                                               "eq. (7.4), returning one code shaped like z_a.")
            if answer is None or answer.shape != z_a.shape:
                got = "something that is not numbers" if answer is None else f"shape {tuple(answer.shape)}"
                return exercises.report(False, f"Return one code shaped like z_a, ({len(z_a)},); got {got}.")
            answers[pair_index, t] = answer
    right = {(i, t): _reference(*_PAIRS[i], t) for i, t in answers}
    if all(torch.allclose(answers[key], right[key], atol=1e-6) for key in answers):
        try:
            parallel = _as_vector(slerp_function(*(z.clone() for z in _NEARLY_PARALLEL), 0.5))
        except Exception as error:
            return exercises.report(False, f"Right for codes at an angle, but on two nearly parallel codes your "
                                           f"function raised {type(error).__name__}: {error}. When sin(omega) is ~0, "
                                           "fall back to linear interpolation (the formula's limit as omega -> 0).")
        expected = _lerp(*_NEARLY_PARALLEL, 0.5)
        if parallel is None or parallel.shape != expected.shape or not torch.allclose(parallel, expected, atol=1e-6):
            shown = parallel.tolist() if parallel is not None else parallel
            return exercises.report(False, f"Right for codes at an angle, but two nearly parallel codes give {shown} "
                                           f"instead of about "
                                           f"{expected.tolist()}: sin(omega) ~ 0 there, so 0 / 0. Fall back to linear "
                                           "interpolation when sin(omega) < 1e-6, the formula's limit as omega -> 0.")
        return exercises.report(True, "slerp matches eq. (7.4) at every t, keeps |z| constant between codes of equal "
                                      "norm, and handles nearly parallel codes.")
    for mistake, hint in _MISTAKES:  # equal_nan: a mistake that gives nan for some pair matches a nan answer there
        if all(torch.allclose(answers[i, t], mistake(*_PAIRS[i], t), atol=1e-6, equal_nan=True) for i, t in answers):
            return exercises.report(False, hint)
    if not all(torch.isfinite(answer).all() for answer in answers.values()):
        return exercises.report(False, "Your function returns nan or inf for codes at an angle: is the cosine you "
                                       "pass to arccos within [-1, 1] (divide the dot product by both norms)?")
    for ends, name, target in ((0.0, "z_a", _PAIRS[1][0]), (1.0, "z_b", _PAIRS[1][1])):
        if not torch.allclose(answers[1, ends], target, atol=1e-6):
            return exercises.report(False, f"At t = {ends:g} slerp must return {name} itself: check which code "
                                           "gets which weight.")
    return exercises.report(False, "Right at t = 0 and t = 1 but not in between: compute omega = arccos(z_a . z_b / "
                                   "(|z_a| |z_b|)), then sin((1 - t) omega) / sin(omega) * z_a + sin(t omega) / "
                                   "sin(omega) * z_b.")


def check_temperature_codes(z):
    """Exercise 2: codes z (6, 16) of N(0, T^2 I), T = 0.5, from eps = torch.randn(6, 16) with seed 7 (eq. 7.2)."""
    if z is None:
        return exercises.report(False, f"Replace None with the codes z, shape {SAMPLE_SHAPE}: scale the noise eps "
                                       f"(seed {SEED}) so that z ~ N(0, T^2 I) with T = {TEMPERATURE} (eq. 7.2).")
    try:
        z = torch.as_tensor(z, dtype=torch.float64).cpu()
    except (TypeError, ValueError, RuntimeError):
        return exercises.report(False, "Give z as a tensor of numbers.")
    if tuple(z.shape) != SAMPLE_SHAPE:
        return exercises.report(False, f"z should have shape {SAMPLE_SHAPE} (6 codes of latent_dim 16), got "
                                       f"{tuple(z.shape)}.")
    eps = torch.randn(*SAMPLE_SHAPE, generator=torch.Generator().manual_seed(SEED)).double()
    T = TEMPERATURE
    if torch.allclose(z, T * eps, atol=1e-5):
        return exercises.report(True, f"z = T * eps has standard deviation T = {T} in every dimension, so "
                                      f"E|z|^2 = T^2 D = {T**2 * SAMPLE_SHAPE[1]:g} instead of D = {SAMPLE_SHAPE[1]}.")
    mistakes = (
        (eps / T, "You divided by T (as a softmax temperature does); here T is the standard deviation: z = T * eps."),
        (T**2 * eps, "T^2 is the variance of N(0, T^2 I); scale eps by the standard deviation, T."),
        (T**0.5 * eps, "sqrt(T) would give variance T; for N(0, T^2 I) scale eps by T itself."),
        (eps + T, "Adding T shifts the mean to T; the temperature scales the spread: z = T * eps."),
        (eps, "These are the unscaled eps ~ N(0, I), i.e. temperature 1: multiply by T."),
    )
    for wrong, hint in mistakes:
        if torch.allclose(z, wrong, atol=1e-5):
            return exercises.report(False, hint)
    if torch.allclose(z.std(), torch.tensor(T, dtype=torch.float64), atol=0.1):
        return exercises.report(False, f"Right spread, other numbers: draw eps with torch.randn{SAMPLE_SHAPE} and "
                                       f"generator=torch.Generator().manual_seed({SEED}), then z = T * eps.")
    return exercises.report(False, f"Not these numbers: draw eps with generator=torch.Generator().manual_seed({SEED}), "
                                   "then z = T * eps.")
