"""Automatic checks for the notebooks' exercises, one module per notebook, all reachable as vh.exercises.check_*.

A check prints a verdict and returns True or False; it never raises on a wrong answer, so "Run All" still reaches
the end of the notebook. A wrong answer gets a message that says what is off and gives a hint; an answer left as
None gets a reminder of what to write.
"""

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in dir(_module):
        if _name.startswith("check_"):
            globals()[_name] = getattr(_module, _name)


def report(correct, message):
    """Print a verdict line and return `correct`; every check ends with this, so they all read alike."""
    print(("✓ Correct. " if correct else "✗ Not yet. ") + message)
    return correct
