"""Automatic checks for the notebooks' exercises, one module per notebook, all reachable as vh.exercises.check_*.

A check prints a verdict and returns True or False; it never raises on a wrong answer, so "Run All" still reaches
the end of the notebook. A wrong answer gets a message that says what is off and gives a hint; an answer left as
None gets a reminder of what to write.
"""

import importlib
import math
import pkgutil

import torch


def report(correct, message):
    """Print a verdict line and return `correct`; every check ends with this, so they all read alike."""
    print(("✓ Correct. " if correct else "✗ Not yet. ") + message)
    return correct


def as_number(answer):
    """`answer` (a Python or NumPy number, a one-element tensor) as a finite float; None for anything else."""
    if isinstance(answer, (str, bytes)):  # "-3.65" would parse, but a number is what the exercises ask for
        return None
    try:
        value = torch.as_tensor(answer, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return None
    return value.item() if value.numel() == 1 and math.isfinite(value.item()) else None


def close(value, target, tolerance=1e-3):
    """True when value is within `tolerance` of target, relative to max(1, |target|)."""
    return abs(value - target) <= tolerance * max(1.0, abs(target))


def rounding_hint(value, right, passes=None):
    """A hint when `value` is `right` rounded to one, two or three decimals, and too far from it to pass (else None).
    passes(value, right) is the check's own test; close() by default."""
    passes = passes or close
    for decimals in (1, 2, 3):
        if abs(value - round(right, decimals)) < 1e-9 and not passes(value, right):
            return (f"Close: {value:g} is the right value rounded to {decimals} decimal{'s' if decimals > 1 else ''}. "
                    "Give at least four significant digits, or paste the expression that computes it.")
    return None


def not_this_value(value, right, message):
    """The verdict for a number that matched no known mistake: a rounding hint if it is one, else `message`."""
    return report(False, rounding_hint(value, right) or message)


def estimate_and_error(call, name, where):
    """Run a learner's estimator, call() -> (estimate, standard_error), and read the two numbers from it.

    Returns (estimate, standard_error, None), or (None, None, message) saying what is wrong: an error raised by the
    learner's code (reported, so that "Run All" goes on), a None left in, or something other than two numbers.
    """
    try:
        result = call()
        if result is None or any(value is None for value in result):
            return None, None, f"{name} still returns None: fill in the estimate and its standard error."
        estimate, standard_error = (as_number(value) for value in result)
    except Exception as error:  # the learner's code: say what broke instead of stopping "Run All"
        return None, None, (f"Calling {name} {where} failed: {type(error).__name__}: {error}. It should return two "
                            f"numbers, (estimate, standard_error).")
    if estimate is None or standard_error is None:
        return None, None, "Return two single numbers: (estimate, standard_error)."
    return estimate, standard_error, None


# Defined above first: the check modules import report, as_number, close and not_this_value from here.
for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in dir(_module):
        if _name.startswith("check_"):
            globals()[_name] = getattr(_module, _name)
