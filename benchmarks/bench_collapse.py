"""Do KL warm-up and free bits help? Paired over many seeds, for a decoder that recovers and one that collapses.

    .venv/bin/python benchmarks/bench_collapse.py [--seeds 10] [--decoders mlp pixelcnn]

For each decoder and each seed, three trainings from the same initial weights, batches and noise (fit's seed):
plain (the ELBO), KL warm-up over the first half of the epochs, and free bits of 0.5 nats per latent dimension.
After every epoch the 500 validation digits give the KL of each latent dimension (vae_helpers.diagnostics) and the
true ELBO (beta = 1, no floor, whatever the training loss was); at the end the test split is scored once with the
importance-weighted bound. Two decoders:
- mlp: notebook 08's short runs of the 16-D MLP VAE (12 epochs), whose plain training dips early and recovers;
- pixelcnn: the same encoder with vae_helpers.autoregressive's masked-convolution decoder, which can model a digit
  from its own pixels and so can leave z unused for good.
Every run goes to benchmarks/collapse.json, which notebook 08 reads; the paired differences (fix minus plain, seed by
seed) with their exact permutation p-values (vae_helpers.statistics) go to benchmarks/RESULTS.md. The runs happen
one at a time in this process (the seconds are not compared, so no fresh process is needed).
"""

import argparse
import json
from datetime import date

import torch

import vae_helpers as vh
from results import RESULTS, machine, write_section

COLLAPSE_JSON = RESULTS.with_name("collapse.json")
FREE_BITS = 0.5  # nats per dimension, as in notebook 08
# name: (make the model, epochs, K of the test bound, learning rate)
DECODERS = {
    "mlp": (lambda: vh.models.MLPVAE(latent_dim=16), 12, 100, 1e-3),
    "pixelcnn": (lambda: vh.autoregressive.PixelCNNVAE(latent_dim=16), 12, 20, 3e-3),
}


def fixes(epochs):
    return {"plain": {}, "KL warm-up": {"kl_warmup_epochs": max(1, epochs // 2)}, "free bits": {"free_bits": FREE_BITS}}


def run_one(decoder, fix, seed):
    """Train one model; its per-epoch KLs and active dimensions, best validation ELBO and test bound."""
    make_model, epochs, iwae_samples, lr = DECODERS[decoder]
    train = vh.data.load_digits(split="train").images
    validation = vh.data.load_digits(split="validation", binarized=True).images
    test = vh.data.load_digits(split="test", binarized=True).images
    torch.manual_seed(seed)
    model = make_model()
    kl_per_epoch, active_per_epoch = [], []

    def note(model, history):
        with torch.no_grad():
            kl_d = vh.diagnostics.kl_per_dimension(model.posterior(validation), model.prior())
        kl_per_epoch.append(kl_d.tolist())
        active_per_epoch.append(len(vh.diagnostics.dimensions_with_kl_above(kl_d)))

    history = vh.training.fit(model, train, validation, num_epochs=epochs, lr=lr, seed=seed, device="cpu",
                              progress=False, after_epoch=note, **fixes(epochs)[fix])
    bound = vh.objectives.iwae_bound(model, test, iwae_samples, generator=torch.Generator().manual_seed(0))
    row = {"decoder": decoder, "training": fix, "seed": seed, "epochs": epochs,
           "validation_kl": history.validation_kl, "validation_elbo": history.validation_elbo,
           "best_validation_elbo": history.at_best_epoch("validation_elbo"),
           "kl_per_dimension": kl_per_epoch, "active_dimensions": active_per_epoch,
           "test_iwae": bound.mean().item(), "iwae_samples": iwae_samples}
    print(f"{decoder:8s} {fix:10s} seed {seed}: validation ELBO {row['best_validation_elbo']:8.2f}, KL "
          f"{history.validation_kl[-1]:5.2f}, active {active_per_epoch[-1]:2d}, test L_{iwae_samples} "
          f"{row['test_iwae']:8.2f}", flush=True)
    return row


def comparisons(runs):
    """{(decoder, fix, column): PairedComparison of fix minus plain, seed by seed}."""
    table = {}
    for decoder in dict.fromkeys(run["decoder"] for run in runs):
        plain = {run["seed"]: run for run in runs if run["decoder"] == decoder and run["training"] == "plain"}
        for fix in ("KL warm-up", "free bits"):
            fixed = {run["seed"]: run for run in runs if run["decoder"] == decoder and run["training"] == fix}
            for column in ("best_validation_elbo", "test_iwae"):
                table[(decoder, fix, column)] = vh.statistics.paired_comparison(
                    [fixed[seed][column] - plain[seed][column] for seed in sorted(fixed)])
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per decoder and training")
    parser.add_argument("--decoders", nargs="+", choices=list(DECODERS), default=list(DECODERS))
    parser.add_argument("--from-json", action="store_true", help="rewrite RESULTS.md from collapse.json")
    args = parser.parse_args()
    vh.cpus.set_torch_threads()
    if args.from_json:
        saved = json.loads(COLLAPSE_JSON.read_text())
        runs, day, machine_name = saved["runs"], saved["date"], saved["machine"]
    else:
        runs = [run_one(decoder, fix, seed) for decoder in args.decoders for seed in range(args.seeds)
                for fix in fixes(DECODERS[decoder][1])]
        day, machine_name = date.today().isoformat(), machine()
        COLLAPSE_JSON.write_text(json.dumps({"date": day, "machine": machine_name, "free_bits": FREE_BITS,
                                             "runs": runs}, indent=1) + "\n")
    lines = []
    for (decoder, fix, column), result in comparisons(runs).items():
        lines.append(f"| {decoder} | {fix} | {column.replace('_', ' ')} | {result.mean:+.2f} ± "
                     f"{result.standard_error:.2f} | {result.num_positive} of {result.num_runs} | "
                     f"{result.p_value:.4f} |")
    medians = []
    for decoder in dict.fromkeys(run["decoder"] for run in runs):
        for fix in ("plain", "KL warm-up", "free bits"):
            chosen = [run for run in runs if run["decoder"] == decoder and run["training"] == fix]
            kl = torch.tensor([run["validation_kl"][-1] for run in chosen]).median().item()
            active = torch.tensor([float(run["active_dimensions"][-1]) for run in chosen]).median().item()
            medians.append(f"| {decoder} | {fix} | {kl:.2f} | {active:.0f} |")
    write_section("collapse", "KL warm-up and free bits, paired over seeds", [
        f"`benchmarks/bench_collapse.py --seeds {len({run['seed'] for run in runs})}`: for each decoder and seed, "
        f"plain training, KL warm-up over the first half of the epochs and free bits of {FREE_BITS:g} nats per "
        f"dimension, from the same initial weights, batches and noise ("
        + ", ".join(f"{decoder}: {DECODERS[decoder][1]} epochs, learning rate {DECODERS[decoder][3]:g}, test "
                    f"bound with K = {DECODERS[decoder][2]}" for decoder in dict.fromkeys(r['decoder'] for r in runs))
        + "). Fix minus plain, seed by seed: mean ± standard error over seeds, how many seeds the fix won, and the "
        "exact two-sided paired permutation p-value (`vae_helpers.statistics`). Nats: higher is better. Per-run "
        "numbers: `benchmarks/collapse.json` (notebook 08 reads it).", "",
        "| decoder | fix | score | fix − plain (nats) | seeds won | p-value |", "|---|---|---|---:|---:|---:|",
        *lines, "", "At the last epoch, medians over seeds:", "",
        "| decoder | training | validation KL (nats) | active dimensions (KL > 0.1 nats) |", "|---|---|---:|---:|",
        *medians], day=day, machine_name=machine_name)


if __name__ == "__main__":
    main()
