"""Choose each compared model's learning rate and batch size on the validation split, with one grid and one budget.

    .venv/bin/python benchmarks/tune_training.py [--budget 30] [--seeds 1]

bench_quality.py compares the conv VAE with the 16-D MLP VAE and the peer; a comparison is fair only if each gets the
same tuning. Every model here gets exactly the same search: every learning rate of LEARNING_RATES at batch size 128,
then the other batch sizes of BATCH_SIZES at the best of those learning rates, each candidate trained (fit, with
the output bias started at the mean training digit for every model) until its training epochs have taken --budget
seconds (validation scoring is outside the clock) and scored by the best validation ELBO among those epochs. The
test split plays no part. The architectures are not tuned here (the conv VAE's widths were chosen earlier by
tune_conv.py; the MLP's are the series' and the peer's its example's). The choices go to benchmarks/tuning.json,
which bench_quality.py trains with, and the table to benchmarks/RESULTS.md.
"""

import argparse
import json
import statistics

import torch

import vae_helpers as vh
from bench_quality import MODELS, TUNING_JSON, in_fresh_process
from results import write_section

LEARNING_RATES = [1e-3, 3e-3, 1e-2]
BATCH_SIZES = [128, 64, 256]  # the first is used while the learning rate is chosen


def best_validation_elbo_within(name, budget, lr, batch_size, seed):
    """Train model `name` for `budget` seconds of epochs; (best validation ELBO, epochs, median s per epoch)."""
    vh.cpus.set_torch_threads()
    train_images = vh.data.load_digits(split="train").images
    validation_images = vh.data.load_digits(split="validation", binarized=True).images
    torch.manual_seed(seed)
    model = MODELS[name](train_images)
    history = vh.training.fit(model, train_images, validation_images, num_epochs=10**6, lr=lr,
                              batch_size=batch_size, seed=seed, device="cpu", progress=False,
                              after_epoch=lambda _, history: sum(history.seconds) >= budget)
    return history.at_best_epoch("validation_elbo"), len(history.epoch), statistics.median(history.seconds)


def tune(name, budget, seeds):
    """{(lr, batch_size): (median validation ELBO, epochs, s per epoch)} for one model, searched as described above."""
    rows = {}

    def run(lr, batch_size):
        results = [in_fresh_process(best_validation_elbo_within, name, budget, lr, batch_size, seed)
                   for seed in range(seeds)]
        rows[(lr, batch_size)] = tuple(statistics.median(result[i] for result in results) for i in range(3))
        print(f"{name}: lr {lr:g}, batch {batch_size}: validation ELBO {rows[(lr, batch_size)][0]:.2f} after "
              f"{rows[(lr, batch_size)][1]:.0f} epochs", flush=True)

    for lr in LEARNING_RATES:
        run(lr, BATCH_SIZES[0])
    best_lr = max(rows, key=lambda key: rows[key][0])[0]
    for batch_size in BATCH_SIZES[1:]:
        run(best_lr, batch_size)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=30, help="training seconds per candidate")
    parser.add_argument("--seeds", type=int, default=1, help="training runs per candidate (median reported)")
    args = parser.parse_args()
    chosen, table = {}, []
    for name in MODELS:
        rows = tune(name, args.budget, args.seeds)
        lr, batch_size = max(rows, key=lambda key: rows[key][0])
        chosen[name] = {"lr": lr, "batch_size": batch_size}
        table += [f"| {name} | {lr_:g} | {batch_:d} | {elbo:.2f} | {epochs:.0f} | {seconds:.3f} |"
                  for (lr_, batch_), (elbo, epochs, seconds) in rows.items()]
    TUNING_JSON.write_text(json.dumps({"budget": args.budget, "seeds": args.seeds, "chosen": chosen}, indent=1) + "\n")
    write_section("training-tuning", "One tuning for every compared model", [
        f"`benchmarks/tune_training.py --budget {args.budget:g} --seeds {args.seeds}`: each model of the quality "
        f"comparison, with the output bias started at the mean training digit, trained for {args.budget:g} s of "
        f"training epochs (validation scoring outside the clock) and scored by the best validation ELBO of those "
        f"epochs (500 validation digits; the test split plays no part). The same search for every model: learning "
        f"rates {', '.join(f'{lr:g}' for lr in LEARNING_RATES)} at batch size {BATCH_SIZES[0]}, then batch sizes "
        f"{' and '.join(str(b) for b in BATCH_SIZES[1:])} at the best learning rate: "
        f"{len(LEARNING_RATES) + len(BATCH_SIZES) - 1} candidates, {args.budget:g} s each. Median over "
        f"{args.seeds} seed(s). Higher is better.", "",
        "| model | learning rate | batch size | validation ELBO (nats) | epochs trained | seconds per epoch |",
        "|---|---:|---:|---:|---:|---:|", *table, "",
        "Chosen (written to `benchmarks/tuning.json`, which `bench_quality.py` trains with): "
        + "; ".join(f"{name}: learning rate {c['lr']:g}, batch size {c['batch_size']}" for name, c in chosen.items())
        + "."])


if __name__ == "__main__":
    main()
