"""The series' interactive figures, one module per notebook (posterior.py for 01, and so on).

Each module builds its widgets (a PageFigure, computed in the page; or a LiveFigure, precomputed and swapped in
the page) and lists their factories in a dict EXPLORERS = {name: factory}, factories callable without arguments.
all_explorers() collects them, so the tests and the benchmarks drive every widget of the series without naming
them one by one.
"""

import functools
import importlib
import pkgutil


def module_names():
    return sorted(info.name for info in pkgutil.iter_modules(__path__))


def all_explorers():
    """{'module.name': factory} for every explorer in the package."""
    found = {}
    for module_name in module_names():
        module = importlib.import_module(f"{__name__}.{module_name}")
        for name, factory in getattr(module, "EXPLORERS", {}).items():
            found[f"{module_name}.{name}"] = factory
    return found


@functools.cache
def kinds():
    """{'module.name': the class of the widget its factory builds}, each built once per process (the tests and
    benchmarks treat the figures computed in the page and those precomputed by the kernel apart)."""
    return {name: type(factory()) for name, factory in all_explorers().items()}


def __getattr__(name):
    if name in module_names():
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}; its modules are {', '.join(module_names())}")
