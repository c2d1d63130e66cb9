"""Helpers for the VAE notebook series: `import vae_helpers as vh`, then `vh.data.load_digits(...)` and so on.

Submodules are imported on first use, so `import vae_helpers` stays quick and a notebook that never plots
never pays for matplotlib.
"""

import importlib

__version__ = "0.1.0"

SUBMODULES = (
    "aggregate_posterior",
    "autoregressive",
    "bits",
    "checkpoints",
    "config",
    "completion",
    "conditional",
    "conjugate",
    "cpus",
    "data",
    "distributions",
    "diagnostics",
    "downloads",
    "exercises",
    "explorers",
    "flows",
    "image_checks",
    "image_folder",
    "inference_gaps",
    "latent_space",
    "layers",
    "likelihoods",
    "linear_gaussian",
    "models",
    "objectives",
    "parts",
    "pixels",
    "plotting",
    "pretrained",
    "priors",
    "published_setting",
    "seeded",
    "statistics",
    "training",
    "widgets",
)
__all__ = list(SUBMODULES)


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}; its submodules are {', '.join(SUBMODULES)}")


def __dir__():
    return sorted([*globals(), *SUBMODULES])
