"""Choose the conv VAE's widths, learning rate and batch size on the validation split, per CPU-second of training.

    .venv/bin/python benchmarks/tune_conv.py [--budget 30] [--seeds 1]

Every candidate trains with vae_helpers.training.fit on the 3,500 training digits until its training epochs have
taken --budget seconds (validation scoring is outside the clock), and is scored by the best validation ELBO among
those epochs: what bench_quality.py measures on test, measured here on validation, so the test split plays no part
in any choice. The shortest budget of bench_quality.py is used because it is where the conv VAE's slower epochs
hurt most. First every width with every learning rate (batch size 128), then the other batch sizes for the best of
those. The highest median validation ELBO wins; the table goes to benchmarks/RESULTS.md, and the recipe in
vae_helpers/pretrained.py and bench_quality.py use the winner.
"""

import argparse
import statistics

import torch

import vae_helpers as vh
from bench_quality import in_fresh_process
from results import write_section

WIDTHS = [(8, 32), (16, 32), (32, 64)]
LEARNING_RATES = [1e-3, 3e-3]
BATCH_SIZES = [128, 256]


def best_validation_elbo_within(budget, channels, lr, batch_size, seed):
    """Train a ConvVAE(latent_dim=16, channels) for `budget` seconds; (best validation ELBO, epochs, s per epoch)."""
    vh.cpus.set_torch_threads()
    train_images = vh.data.load_digits(split="train").images
    validation_images = vh.data.load_digits(split="validation", binarized=True).images
    torch.manual_seed(seed)
    model = vh.models.ConvVAE(latent_dim=16, channels=channels).initialize_output_bias(train_images)
    history = vh.training.fit(model, train_images, validation_images, num_epochs=10**6, lr=lr,
                              batch_size=batch_size, seed=seed, device="cpu", progress=False,
                              after_epoch=lambda _, history: sum(history.seconds) >= budget)
    return history.at_best_epoch("validation_elbo"), len(history.epoch), statistics.median(history.seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=30, help="training seconds per candidate")
    parser.add_argument("--seeds", type=int, default=1, help="training runs per candidate (median reported)")
    args = parser.parse_args()
    rows = {}

    def run(channels, lr, batch_size):
        results = [in_fresh_process(best_validation_elbo_within, args.budget, channels, lr, batch_size,
                                    seed) for seed in range(args.seeds)]
        elbo = statistics.median(result[0] for result in results)
        epochs = statistics.median(result[1] for result in results)
        seconds = statistics.median(result[2] for result in results)
        rows[(channels, lr, batch_size)] = (elbo, epochs, seconds)
        print(f"channels {channels}, lr {lr:g}, batch {batch_size}: validation ELBO {elbo:.2f} after {epochs:.0f} "
              f"epochs ({seconds:.3f} s each)", flush=True)

    for channels in WIDTHS:
        for lr in LEARNING_RATES:
            run(channels, lr, BATCH_SIZES[0])
    best_channels, best_lr, _ = max(rows, key=lambda key: rows[key][0])
    for batch_size in BATCH_SIZES[1:]:
        run(best_channels, best_lr, batch_size)
    winner = max(rows, key=lambda key: rows[key][0])
    print(f"chosen: channels {winner[0]}, lr {winner[1]:g}, batch size {winner[2]}")
    write_section("tuning", "Choosing the conv VAE's settings on validation", [
        f"`benchmarks/tune_conv.py --budget {args.budget:g} --seeds {args.seeds}`: `ConvVAE(latent_dim=16, channels)` "
        f"trained for {args.budget:g} s of training epochs (validation scoring outside the clock), scored by the best "
        f"validation ELBO of those epochs (500 validation digits; the test split plays no part). Every width with "
        f"every learning rate at batch size {BATCH_SIZES[0]}, then the other batch sizes for the best of those. "
        f"Median over {args.seeds} seed(s). Higher is better.", "",
        "| channels | learning rate | batch size | validation ELBO (nats) | epochs trained | seconds per epoch |",
        "|---|---:|---:|---:|---:|---:|",
        *[f"| {list(channels)} | {lr:g} | {batch_size} | {elbo:.2f} | {epochs:.0f} | {seconds:.3f} |"
          for (channels, lr, batch_size), (elbo, epochs, seconds) in rows.items()], "",
        f"Chosen: channels {list(winner[0])}, learning rate {winner[1]:g}, batch size {winner[2]}."])


if __name__ == "__main__":
    main()
