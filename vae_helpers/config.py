"""Run options shared by every notebook: where the data lives, the smoke-test switch, seeding and the device."""

import os
import platform
import random
from pathlib import Path

import numpy as np
import torch

from vae_helpers import __version__, cpus

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shipped digits and checkpoints; VAE_DATA_DIR points elsewhere (e.g. a copy outside the repository).
DATA_DIR = Path(os.environ.get("VAE_DATA_DIR", REPO_ROOT / "data"))
CHECKPOINT_DIR = DATA_DIR / "checkpoints"
DOWNLOAD_DIR = DATA_DIR / "downloads"  # git-ignored cache for the full datasets

# VAE_SMOKE_TEST=1 shrinks epochs and data so every notebook runs in seconds (the test suite and quick checks).
SMOKE_TEST = os.environ.get("VAE_SMOKE_TEST", "0") not in ("", "0", "false", "False")


def seed_everything(seed=0):
    """Seed Python, NumPy and torch so a notebook gives the same numbers on every run on the same machine.

    Returns a torch.Generator seeded with `seed`, for code that wants its own random stream.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def choose_device(prefer=None):
    """Return the best available torch.device: cuda, then Apple's mps, then cpu.

    prefer: a device name ("cpu", "cuda", "mps") to use instead, if it is available.
    """
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if prefer is not None:
        if prefer not in available:
            raise ValueError(f"device must be one of {sorted(available)}, got {prefer!r}")
        if not available[prefer]:
            raise ValueError(f"device {prefer!r} is not available on this machine; use 'cpu' or leave it out")
        return torch.device(prefer)
    for name in ("cuda", "mps"):
        if available[name]:
            return torch.device(name)
    return torch.device("cpu")


def start_notebook(seed=0):
    """What the setup cell of every notebook does once vae_helpers imports: seed, pick the device, set the threads.

    Returns (generator, device, threads): the torch.Generator of seed_everything(seed), choose_device(), and the CPU
    threads torch may use (cpus.set_torch_threads: Binder's quota or a taskset, not every core of the host). Prints
    one line with the versions, so a notebook's output records what it ran on.
    """
    generator = seed_everything(seed)
    device = choose_device()
    threads = cpus.set_torch_threads()
    print(f"Python {platform.python_version()} · torch {torch.__version__} · vae_helpers {__version__} · device {device}"
          f" · {threads} CPU thread{'s' if threads > 1 else ''}")
    return generator, device, threads
