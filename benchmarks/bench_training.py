"""Measure training speed and peak memory of the series' VAEs on the shipped digits; write benchmarks/RESULTS.md.

    make bench        (or: .venv/bin/python benchmarks/bench_training.py [--epochs 3])

Seconds per epoch are the median over `--epochs` timed epochs after one warm-up epoch, on the 4,000 training
digits with batch size 128 and the default torch thread count. Peak memory is the largest resident set size of
this process (training all models in turn), as reported by the operating system.
"""

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import torch

import vae_helpers as vh

MODELS = {
    "MLPVAE(latent_dim=2)": lambda: vh.models.MLPVAE(latent_dim=2),
    "MLPVAE(latent_dim=20)": lambda: vh.models.MLPVAE(latent_dim=20),
    "ConvVAE(latent_dim=16)": lambda: vh.models.ConvVAE(latent_dim=16),
}
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def seconds_per_epoch(make_model, images, epochs):
    """Median wall-clock seconds of `epochs` training epochs, after one untimed warm-up epoch."""
    torch.manual_seed(0)
    model = make_model()
    vh.training.fit(model, images, num_epochs=1, progress=False, device="cpu")
    history = vh.training.fit(model, images, num_epochs=epochs, progress=False, device="cpu")
    return statistics.median(history.seconds), model.num_parameters()


def peak_rss_mb():
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per model (median reported)")
    args = parser.parse_args()
    images = vh.data.load_digits(split="train").images
    rows = []
    for name, make_model in MODELS.items():
        seconds, parameters = seconds_per_epoch(make_model, images, args.epochs)
        rows.append((name, parameters, seconds, len(images) / seconds))
        print(f"{name:24s} {parameters:>9,} parameters  {seconds:6.2f} s/epoch  {len(images) / seconds:8.0f} images/s")
    peak = peak_rss_mb()
    print(f"peak memory (RSS) of this process: {peak:.0f} MB")
    machine = f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__} using {torch.get_num_threads()} threads"
    lines = [
        "# Benchmark results",
        "",
        f"Measured {date.today().isoformat()} on {machine}, with `benchmarks/bench_training.py --epochs {args.epochs}`.",
        f"Training on the {len(images):,} shipped training digits, batch size 128, median of {args.epochs} epochs after a warm-up.",
        "",
        "| model | parameters | seconds per epoch | images per second |",
        "|---|---:|---:|---:|",
        *[f"| `{name}` | {parameters:,} | {seconds:.2f} | {rate:,.0f} |" for name, parameters, seconds, rate in rows],
        "",
        f"Peak memory (resident set size) of the process that trained all three: **{peak:.0f} MB**.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
