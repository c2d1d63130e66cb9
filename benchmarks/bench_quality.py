"""Model quality at equal wall-clock time: the series' VAEs against the peer (PyTorch's example VAE).

    .venv/bin/python benchmarks/bench_quality.py [--seeds 3] [--budgets 30 60 120] [--iwae-samples 1000]

Each model trains with the same loop, data and settings (Adam 1e-3, batch 128, dynamic binarization of the 4,000
shipped training digits) for the longest budget, and a copy of its weights is taken when its training time first
reaches each budget (at an epoch boundary, so a budget may be overshot by part of one epoch; the table shows the
seconds actually trained). Only training steps count: the clock stops while nothing is being learned.
Training for 120 s and keeping the 30 s weights gives exactly the model a 30 s run would have given, because
nothing in the training depends on how long it will last (no learning-rate schedule, no early stopping).

Each copy is then scored on the full test split (1,000 digits, the fixed binarization every notebook uses):
- the negative ELBO, one sample per digit with a fixed seed, in nats;
- the importance-weighted estimate of -log p(x) with K = --iwae-samples (Burda et al. 2016), in nats.
Both are medians over --seeds training runs (different initialisations, shuffles and noise). Lower is better.
Every run (one model, one seed) happens in a fresh process, so none inherits the memory state of an earlier one,
and the runs go round the models seed by seed, so a drift in the machine's speed during the benchmark falls on
every model alike rather than on whichever ran last (on the shared 2-core machine these figures come from, the
same model's seconds per epoch differed by up to a third between runs an hour apart).
The script fails (exit status 1) if the series' default conv VAE does not beat the peer at every budget.
"""

import argparse
import copy
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import torch

import vae_helpers as vh
from peer import PeerVAE
from results import write_section

SERIES_DEFAULT = "ConvVAE(latent_dim=16)"
PEER = "peer: PyTorch example, MLP 784-400-20"
MODELS = {
    SERIES_DEFAULT: lambda: vh.models.ConvVAE(latent_dim=16),
    "MLPVAE(latent_dim=20)": lambda: vh.models.MLPVAE(latent_dim=20),
    PEER: lambda: PeerVAE(),
}


def train_with_snapshots(make_model, images, budgets, seed, clock=time.perf_counter):
    """Train for max(budgets) seconds; return (model, {budget: (seconds trained, epochs, state_dict copy)}).

    clock times the training epochs (fit's `clock`); the tests pass a fake one, so no verdict depends on how fast
    the machine is.
    """
    torch.manual_seed(seed)
    model = make_model()
    pending, snapshots = sorted(budgets), {}

    def take_snapshots(model, history):
        trained = sum(history.seconds)
        while pending and trained >= pending[0]:
            snapshots[pending.pop(0)] = (trained, history.epoch[-1], copy.deepcopy(model.state_dict()))
        return not pending  # stop once the longest budget is reached

    vh.training.fit(model, images, num_epochs=10**6, seed=seed, device="cpu", progress=False,
                    after_epoch=take_snapshots, clock=clock)
    return model, snapshots


def score(model, test_images, iwae_samples):
    """(negative ELBO, IWAE estimate of -log p(x)), each a mean over test_images in nats."""
    negative_elbo = -vh.training.evaluate_elbo(model, test_images, seed=0)["elbo"]
    generator = torch.Generator().manual_seed(0)
    log_px = vh.objectives.iwae_bound(model, test_images, num_samples=iwae_samples, generator=generator)
    return negative_elbo, -log_px.mean().item()


def run_one(name, seed, budgets, iwae_samples):
    """Train model `name` with `seed` and score its snapshots: [(budget, seconds, epochs, -ELBO, -log p(x))]."""
    train_images = vh.data.load_digits(split="train").images
    test_images = vh.data.load_digits(split="test", binarized=True).images
    model, snapshots = train_with_snapshots(MODELS[name], train_images, budgets, seed)
    rows = []
    for budget, (seconds, epochs, state) in sorted(snapshots.items()):
        model.load_state_dict(state)
        start = time.perf_counter()
        negative_elbo, negative_log_px = score(model.eval(), test_images, iwae_samples)
        rows.append((budget, seconds, epochs, negative_elbo, negative_log_px))
        print(f"{name:40s} seed {seed} {budget:5g} s budget: {seconds:6.1f} s, {epochs:4d} epochs, "
              f"-ELBO {negative_elbo:7.2f}, -log p(x) {negative_log_px:7.2f} nats "
              f"(scored in {time.perf_counter() - start:.0f} s)", flush=True)
    return rows


def in_fresh_process(function, *args):
    """function(*args) in a new Python process (one at a time: two trainings at once would slow each other)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="training runs per model (medians are reported)")
    parser.add_argument("--budgets", type=float, nargs="+", default=[30, 60, 120], help="training seconds")
    parser.add_argument("--iwae-samples", type=int, default=1000, help="K of the importance-weighted estimate")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    args = parser.parse_args()
    if SERIES_DEFAULT not in args.models or PEER not in args.models:
        parser.error(f"--models must include {SERIES_DEFAULT!r} and {PEER!r}: the benchmark compares them")
    budgets = sorted(args.budgets)
    results = {}  # (model, budget) -> list of (seconds, epochs, negative ELBO, -log p(x)) over seeds
    for seed in range(args.seeds):
        for name in args.models:
            for budget, *measured in in_fresh_process(run_one, name, seed, budgets, args.iwae_samples):
                results.setdefault((name, budget), []).append(tuple(measured))
    medians = {key: [statistics.median(column) for column in zip(*runs)] for key, runs in results.items()}
    ranges = {key: (min(run[3] for run in runs), max(run[3] for run in runs)) for key, runs in results.items()}

    rows = []
    for name in args.models:
        for budget in budgets:
            seconds, epochs, negative_elbo, negative_log_px = medians[(name, budget)]
            low, high = ranges[(name, budget)]
            rows.append(f"| {name} | {budget:g} | {seconds:.1f} | {epochs:.0f} | {negative_elbo:.2f} | "
                        f"{negative_log_px:.2f} ({low:.2f} to {high:.2f}) |")
    margins, losses = [], []
    for budget in budgets:
        conv, peer = medians[(SERIES_DEFAULT, budget)], medians[(PEER, budget)]
        elbo_margin, iwae_margin = peer[2] - conv[2], peer[3] - conv[3]
        margins.append(f"| {budget:g} | {elbo_margin:+.2f} | {iwae_margin:+.2f} |")
        if elbo_margin <= 0 or iwae_margin <= 0:
            losses.append(budget)
    verdict = (f"The series' default conv VAE beats the peer at every budget." if not losses else
               f"The conv VAE does NOT beat the peer at {', '.join(f'{b:g} s' for b in losses)}.")
    print("\n".join(["", *rows, "", *margins, "", verdict]))
    write_section("quality", "Model quality at equal training time", [
        f"`benchmarks/bench_quality.py --seeds {args.seeds} --iwae-samples {args.iwae_samples}`: each model trained "
        f"for the same number of seconds with the same loop, data and settings (Adam 1e-3, batch 128, dynamic "
        f"binarization of the 4,000 training digits), each run in a fresh process, then scored on all 1,000 test "
        f"digits (fixed binarization). Medians over {args.seeds} training runs; the last column also gives the "
        f"range over runs. Lower is better; nats are true negative log-likelihoods of binary digits.", "",
        "| model | budget s | trained s | epochs | test −ELBO (nats) | −log p(x), IWAE K = "
        f"{args.iwae_samples} (nats) |", "|---|---:|---:|---:|---:|---:|", *rows, "",
        "How much better the conv VAE is than the peer (peer minus conv, nats per digit; positive means the conv "
        "VAE wins):", "",
        "| budget s | −ELBO margin | −log p(x) margin |", "|---:|---:|---:|", *margins, "", verdict])
    return 1 if losses else 0


if __name__ == "__main__":
    sys.exit(main())
