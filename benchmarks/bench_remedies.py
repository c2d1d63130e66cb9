"""What the remedies of notebook 10 buy, over several training seeds: learned priors and a flow posterior against the
plain conv VAE of 06, all trained by the same recipe.

    .venv/bin/python benchmarks/bench_remedies.py [--seeds 5] [--iwae-samples 1000] [--rescore] [--from-json]

For every seed (the recipe's seed replaced: initialisation, shuffles and noise), in one process, in this order:
1. the plain conv VAE (recipe conv_vae_16d) trains to its stopping point (early stopping on the validation ELBO);
   its training seconds T (training steps only, validation outside the clock) set the equal-time budget;
2. each remedy (a mixture prior, the VampPrior, an IAF posterior: vae_helpers.pretrained.REMEDIES) trains by the
   same recipe, learning rate and stopping rule, which were tuned for the plain model and not for them; while it
   trains, the epoch with the best validation ELBO among those trained within T seconds (the epoch that first reaches
   T included) is kept aside: the model at equal training time;
3. the after-the-fact prior (vh.priors.fit_ex_post_prior): a 50-component mixture fitted to the plain model's codes,
   one draw from q(z|x) for each of 2 binarizations of every training digit, with the encoder and decoder unchanged
   (no retraining: it costs seconds);
4. every trained model is saved under build/remedies/seed<N>/ (git-ignored), so that --rescore can score them again
   without training;
5. only then is the test split scored, once per model, on all 1,000 test digits (the fixed binarization of every
   notebook): -log p(x) by the importance-weighted bound (K = --iwae-samples) with the best available proposal: per
   digit the larger of the bounds with the model's own q(z|x) and with the fitted q*_x (each digit's encoder outputs
   fitted to its own ELBO with every network weight fixed, vh.inference_gaps.fit_local_features), as 06 does; the
   bounds with each proposal alone are kept too. The negative ELBO (evaluate_elbo, 1 draw per digit, fixed seed);
   the approximation and amortization gaps of 06 (100-draw ELBOs with q and q*); for every model with a Gaussian q,
   ELBO surgery's KL(q(z) || p(z)) and 07's share of prior draws in a hole (vh.aggregate_posterior).
Seed 0 is the recipes' own seed: its remedies are saved as the shipped checkpoints (data/checkpoints), which notebook
10 loads, with the recipe's test scores. Every number goes to benchmarks/remedies.json, which notebook 10 reads;
--from-json rewrites the RESULTS.md section from it without training.
"""

import argparse
import copy
import json
import statistics
import sys
from datetime import date

import torch

import vae_helpers as vh
from results import RESULTS, machine, write_section

REMEDIES_JSON = RESULTS.with_name("remedies.json")
TRAINED_DIR = vh.config.REPO_ROOT / "build" / "remedies"  # every seed's trained models, for --rescore
BASE = "conv_vae_16d"
EX_POST = "ex_post_prior"
AT_EQUAL_TIME = "@equal_time"  # suffix of a remedy's saved model at equal training time
EX_POST_BINARIZATIONS = 2
GAP_ELBO_SAMPLES = 100
SURGERY_SEED, HOLES_SEED = 10, 9  # the noise of the ELBO surgery's codes and of the prior draws


class EqualTimeSnapshot:
    """after_epoch for fit(): keeps the weights of the best validation epoch among those trained within `seconds`
    (training steps only, as history.seconds counts them)."""

    def __init__(self, seconds):
        self.seconds, self.state, self.epoch, self.trained = seconds, None, None, 0.0

    def __call__(self, model, history):
        if self.trained >= self.seconds:  # the budget was reached in an earlier epoch
            return False
        self.trained += history.seconds[-1]
        if history.best_epoch == history.epoch[-1]:
            self.state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
            self.epoch = history.epoch[-1]
        return False


def log_px_scores(model, test_images, iwae_samples, seed):
    """-log p(x) by L_K with the best available proposal (see the module's docstring), and with each proposal alone;
    also returns the fitted posterior q*_x."""
    generator = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        fitted = vh.inference_gaps.fit_local_features(model, test_images, generator=generator)
    encoder, with_fitted = vh.inference_gaps.proposal_bounds(model, test_images, iwae_samples, fitted=fitted,
                                                              generator=generator)
    log_px = torch.maximum(encoder, with_fitted)
    return {"negative_log_px": -log_px.mean().item(),
            "negative_log_px_per_digit_se": (log_px.std() / len(log_px) ** 0.5).item(),
            "negative_log_px_encoder_proposal": -encoder.mean().item(),
            "negative_log_px_fitted_proposal": -with_fitted.mean().item()}, log_px, fitted


def score(model, test_images, iwae_samples, seed):
    """The test scores of one model (nats per digit; see the module's docstring)."""
    result, log_px, fitted = log_px_scores(model, test_images, iwae_samples, seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        elbo_encoder = vh.objectives.elbo(model, test_images, num_samples=GAP_ELBO_SAMPLES, generator=generator).total
        elbo_fitted = vh.objectives.elbo(model, test_images, posterior=fitted, num_samples=GAP_ELBO_SAMPLES,
                                         generator=generator).total
    result |= {"negative_elbo": -vh.training.evaluate_elbo(model, test_images)["elbo"],
               "approximation_gap": (log_px - elbo_fitted).mean().item(),
               "amortization_gap": (elbo_fitted - elbo_encoder).mean().item()}
    with torch.no_grad():
        q = model.posterior(test_images)
    if isinstance(q, vh.distributions.DiagonalGaussian):
        with torch.no_grad():
            mu, logvar = q.mu, q.logvar
            eps = torch.randn(2, *mu.shape, generator=torch.Generator().manual_seed(SURGERY_SEED))
            surgery = vh.aggregate_posterior.elbo_surgery(mu, logvar, eps, model.prior())
            draws = vh.distributions.draw(model.prior(), (len(mu),), torch.Generator().manual_seed(HOLES_SEED))
            share, _ = vh.aggregate_posterior.share_in_holes(mu, logvar, q.reparameterize(eps[0]), draws)
        result |= {"marginal_kl": surgery.marginal_kl, "marginal_kl_se": surgery.marginal_kl_se,
                   "mutual_information": surgery.mutual_information, "share_in_holes": share}
    return result


def train_seed(seed, train_images):
    """Train every model of one seed. Returns ({name: model}, {name: what its training recorded}, {name: History});
    a remedy's model at equal time is named name + AT_EQUAL_TIME when its epoch differs from the remedy's best."""
    models, records, histories = {}, {}, {}
    plain, history, settings = vh.pretrained.train(BASE, seed=seed, progress=False)
    budget = sum(history.seconds)
    models[BASE], records[BASE], histories[BASE] = plain, _training_record(history, settings), history
    for remedy in vh.pretrained.REMEDIES:
        name = vh.pretrained.remedy_name(BASE, remedy)
        snapshot = EqualTimeSnapshot(budget)
        model, remedy_history, remedy_settings = vh.pretrained.train(name, seed=seed, progress=False,
                                                                      after_epoch=snapshot)
        models[name], histories[name] = model, remedy_history
        records[name] = _training_record(remedy_history, remedy_settings) | {
            "equal_time": {"budget_seconds": budget, "best_epoch": snapshot.epoch}}
        if snapshot.epoch != remedy_history.best_epoch:
            models[name + AT_EQUAL_TIME] = _with_state(model, snapshot.state)
        print(f"seed {seed}: {name} trained {sum(remedy_history.seconds):.0f} s (plain: {budget:.0f} s)", flush=True)
    models[EX_POST] = vh.priors.fit_ex_post_prior(plain, train_images, num_components=vh.pretrained.NUM_COMPONENTS,
                                                  binarizations=EX_POST_BINARIZATIONS, seed=seed)
    records[EX_POST] = records[BASE]
    return models, records, histories


def _training_record(history, settings):
    return {"train_seconds": sum(history.seconds), "epochs": len(history.epoch), "best_epoch": history.best_epoch,
            "validation_elbo": history.at_best_epoch("validation_elbo"), "settings": settings}


def _with_state(model, state):
    other = copy.deepcopy(model)
    other.load_state_dict(state)
    return other.eval()


def save_trained(seed, models, records):
    folder = TRAINED_DIR / f"seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, model in models.items():
        vh.checkpoints.save_checkpoint(folder / name, model)
    (folder / "training.json").write_text(json.dumps(records, indent=1) + "\n")


def load_trained(seed):
    folder = TRAINED_DIR / f"seed{seed}"
    if not (folder / "training.json").exists():
        raise SystemExit(f"--rescore needs the models that a training run saved in {folder}; run without --rescore")
    records = json.loads((folder / "training.json").read_text())
    names = [*records, *(name + AT_EQUAL_TIME for name in records
                         if (folder / f"{name}{AT_EQUAL_TIME}.safetensors").exists())]
    return {name: vh.checkpoints.load_checkpoint(folder / name)[0].eval() for name in names}, records


def score_seed(seed, models, records, test_images, iwae_samples):
    """Score every model of one seed on the test split (once each); returns its runs (dicts)."""
    runs = []
    for name, record in records.items():
        model = models[name]
        run = {"model": name, "seed": seed, **{k: v for k, v in record.items() if k != "settings"},
               **score(model, test_images, iwae_samples, seed)}
        if "equal_time" in record:
            at_budget = models.get(name + AT_EQUAL_TIME)
            run["equal_time"] = record["equal_time"] | (
                {key: run[key] for key in ("negative_log_px", "negative_log_px_encoder_proposal")} if at_budget is None
                else log_px_scores(at_budget, test_images, iwae_samples, seed)[0])
        runs.append(run)
        print(f"seed {seed}: {name}: -log p(x) {run['negative_log_px']:.2f} (own q as the proposal: "
              f"{run['negative_log_px_encoder_proposal']:.2f})", flush=True)
    return runs


def save_shipped(models, records, histories):
    """Save seed 0's remedies as the shipped checkpoints, as `python -m vae_helpers.pretrained NAME` would."""
    for name in (vh.pretrained.remedy_name(BASE, remedy) for remedy in vh.pretrained.REMEDIES):
        settings = records[name]["settings"]
        vh.checkpoints.save_checkpoint(vh.config.CHECKPOINT_DIR / name, models[name], training=settings,
                                       data=vh.pretrained.data_record(), history=histories[name],
                                       test_scores=vh.pretrained.test_scores(models[name], settings))


def summarise(runs):
    """Per model: the median of each score, and the paired difference to the plain model (model minus plain, per
    seed; for -log p(x) negative means the remedy wins) with its standard error over seeds."""
    by_model = {}
    for run in runs:
        by_model.setdefault(run["model"], {})[run["seed"]] = run
    summary = {}
    for name, seeds in by_model.items():
        plain = by_model[BASE]
        row = {"seeds": len(seeds), "negative_log_px": statistics.median(r["negative_log_px"] for r in seeds.values()),
               "train_seconds": statistics.median(r["train_seconds"] for r in seeds.values())}
        if name != BASE:
            for label, key, read in (
                    ("", "negative_log_px", lambda r, key: r[key]),
                    ("encoder_proposal_", "negative_log_px_encoder_proposal", lambda r, key: r[key]),
                    ("equal_time_", "negative_log_px", lambda r, key: r.get("equal_time", r)[key])):
                differences = [read(seeds[s], key) - plain[s][key] for s in seeds if s in plain]
                paired = vh.statistics.paired_comparison(differences)
                row[f"{label}difference"], row[f"{label}difference_se"] = paired.mean, paired.standard_error
                row[f"{label}wins"] = sum(d < 0 for d in differences)
        summary[name] = row
    return summary


def write_results(data):
    summary = summarise(data["runs"])
    rows = []
    for name, row in summary.items():
        difference = ("—" if name == BASE else
                      f"{row['difference']:+.2f} ± {row['difference_se']:.2f} ({row['wins']}/{row['seeds']})")
        equal_time = ("—" if name in (BASE, EX_POST) else
                      f"{row['equal_time_difference']:+.2f} ± {row['equal_time_difference_se']:.2f} "
                      f"({row['equal_time_wins']}/{row['seeds']})")
        own_q = ("—" if name == BASE else
                 f"{row['encoder_proposal_difference']:+.2f} ± {row['encoder_proposal_difference_se']:.2f} "
                 f"({row['encoder_proposal_wins']}/{row['seeds']})")
        trained = "— (fitted in seconds)" if name == EX_POST else f"{row['train_seconds']:.0f}"
        rows.append(f"| {name} | {trained} | {row['negative_log_px']:.2f} | {difference} | "
                    f"{equal_time} | {own_q} |")
    write_section("remedies", "Learned priors and a flow posterior against the plain conv VAE (notebook 10)", [
        f"`benchmarks/bench_remedies.py --seeds {data['seeds']} --iwae-samples {data['iwae_samples']}`: every model "
        "by the conv VAE's recipe (its learning rate and stopping rule, tuned for the plain model only), seeds 0 to "
        f"{data['seeds'] - 1}; the after-the-fact prior is fitted to the plain model's codes without retraining. "
        "Test split (1,000 digits, fixed binarization) scored once per model with −L_K, the IWAE bound (an upper bound "
        "on −log p(x)) with "
        "the best available proposal: per digit the larger of the bounds with the model's own q(z|x) and with the "
        "fitted q*_x (each digit's encoder outputs fitted to its ELBO, every weight fixed), as notebook 06 does. The "
        "difference is the remedy's −log p(x) minus the plain model's, seed by seed: the mean ± its standard error "
        "over the training seeds, on these 1,000 test digits (another set of test digits would add its own error), "
        "and in how many seeds the remedy won (negative is better for the remedy). Equal time: the "
        "remedy's best validation epoch within the plain model's training seconds of the same seed, the epoch that "
        "crosses the budget included (where the remedy's best epoch came within that time, its equal-time model is "
        "its trained one; wall-clock "
        "seconds on a shared machine: the cost of an epoch relative to the plain model's varied between seeds by up "
        "to a fifth, so the equal-time epochs carry that timing noise). The last column "
        "scores with each model's own q(z|x) as the only proposal: a comparison that is unfair to the model whose "
        "bound is furthest from its best one. Per-seed numbers (also with the fitted proposal alone), holes, ELBO "
        "surgery and gaps: `benchmarks/remedies.json`.", "",
        "| model | trained s (median) | −L_K (median) | difference | at equal time | difference, own q as "
        "proposal |",
        "|---|---:|---:|---:|---:|---:|", *rows], day=data["date"], machine_name=data["machine"])
    print("\n".join(rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--iwae-samples", type=int, default=1000)
    parser.add_argument("--rescore", action="store_true",
                        help=f"score the models a training run saved in {TRAINED_DIR} again, without training")
    parser.add_argument("--from-json", action="store_true", help="rewrite RESULTS.md from remedies.json")
    args = parser.parse_args(argv)
    if args.from_json:
        write_results(json.loads(REMEDIES_JSON.read_text()))
        return 0
    test_images = vh.data.load_digits(vh.pretrained.DATA_NAME, split="test", binarized=True).images
    train_images = vh.data.load_digits(vh.pretrained.DATA_NAME, split="train", progress=False).images
    runs = []
    for seed in range(args.seeds):
        if args.rescore:
            models, records = load_trained(seed)
        else:
            models, records, histories = train_seed(seed, train_images)
            save_trained(seed, models, records)
            if seed == 0:
                save_shipped(models, records, histories)
        runs += score_seed(seed, models, records, test_images, args.iwae_samples)
        data = {"date": date.today().isoformat(), "machine": machine(), "seeds": seed + 1,
                "iwae_samples": args.iwae_samples, "runs": runs}
        REMEDIES_JSON.write_text(json.dumps(data, indent=1) + "\n")  # after every seed: a stopped run keeps them
    write_results(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
