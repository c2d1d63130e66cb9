"""Measure training speed and peak memory of the series' VAEs on the shipped digits; write benchmarks/RESULTS.md.

    make bench        (or: .venv/bin/python benchmarks/bench_training.py [--epochs 3])

Seconds per epoch are the median over `--epochs` timed epochs after one warm-up epoch, on the 3,500 training
digits with batch size 128 and the default torch thread count. The peer, the model of PyTorch's own VAE example
(benchmarks/peer.py), is timed in the same process with the same loop, so the ratio to it compares architectures. Then the full recipes that notebooks 05 and 06
train when TRAIN_FROM_SCRATCH is on (vae_helpers.pretrained, 100 epochs each, with a test evaluation per epoch) are
timed end to end (skip them with --no-recipes). Peak memory is the largest resident set size of this process
(training all models in turn), as reported by the operating system.
"""

import argparse
import resource
import statistics
import sys
import time

import torch

import vae_helpers as vh
from peer import PeerVAE
from results import write_section

MODELS = {
    "MLPVAE(latent_dim=2)": lambda: vh.models.MLPVAE(latent_dim=2),
    "MLPVAE(latent_dim=20)": lambda: vh.models.MLPVAE(latent_dim=20),
    "ConvVAE(latent_dim=16)": lambda: vh.models.ConvVAE(latent_dim=16),
    "peer: PyTorch example, MLP 784-400-20": lambda: PeerVAE(),
}
PEER = "peer: PyTorch example, MLP 784-400-20"
RECIPES = {"05: mlp_vae_2d": "mlp_vae_2d", "06: conv_vae_16d": "conv_vae_16d"}


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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs per model (median reported)")
    parser.add_argument("--no-recipes", action="store_true", help="skip timing the full 05/06 training runs")
    args = parser.parse_args()
    images = vh.data.load_digits(split="train").images
    rows = []
    for name, make_model in MODELS.items():
        seconds, parameters = seconds_per_epoch(make_model, images, args.epochs)
        rows.append((name, parameters, seconds, len(images) / seconds))
        print(f"{name:38s} {parameters:>9,} parameters  {seconds:6.3f} s/epoch  {len(images) / seconds:8.0f} images/s")
    peer_seconds = next(seconds for name, _, seconds, _ in rows if name == PEER)
    recipe_rows = []
    for label, name in ({} if args.no_recipes else RECIPES).items():
        start = time.perf_counter()
        _, history, settings = vh.pretrained.train(name, progress=False)
        seconds = time.perf_counter() - start
        recipe_rows.append((label, len(history.epoch), seconds, history.at_best_epoch("validation_elbo")))
        print(f"{label:24s} {len(history.epoch)} epochs (early stopping) in {seconds:5.1f} s, validation ELBO "
              f"{history.at_best_epoch('validation_elbo'):.2f} at epoch {history.best_epoch}")
    peak = peak_rss_mb()
    print(f"peak memory (RSS) of this process: {peak:.0f} MB")
    write_section("training", "Training speed and memory", [
        f"`benchmarks/bench_training.py --epochs {args.epochs}`: the {len(images):,} shipped training digits, batch size 128, "
        f"median of {args.epochs} epochs after a warm-up.",
        "",
        "| model | parameters | seconds per epoch | images per second | time per epoch / peer's |",
        "|---|---:|---:|---:|---:|",
        *[f"| {name if name == PEER else f'`{name}`'} | {parameters:,} | {seconds:.3f} | {rate:,.0f} | "
          f"{seconds / peer_seconds:.2f} |" for name, parameters, seconds, rate in rows],
        "",
        *(["Full training runs of the shipped recipes (what `TRAIN_FROM_SCRATCH = True` costs in notebooks 05 and 06):",
           "",
           "| notebook: recipe | epochs (early stopping) | seconds | validation ELBO at the kept epoch (nats) |",
           "|---|---:|---:|---:|",
           *[f"| {label} | {epochs} | {seconds:.1f} | {elbo:.2f} |" for label, epochs, seconds, elbo in recipe_rows],
           ""] if recipe_rows else []),
        f"Peak memory (resident set size) of the process that trained all of them: **{peak:.0f} MB**.",
    ])
    print("updated benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
