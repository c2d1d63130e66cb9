"""What the conditional models of notebook 11 measure, over training seeds: Bayes' rule as a classifier, the label's
worth in log p(x), how much of the label the code keeps, and completing a digit against a deterministic network.

    .venv/bin/python benchmarks/bench_conditional.py [--seeds 3] [--from-json]

For every seed (the recipes' seed replaced; seed 0 is their own, so its models are the shipped checkpoints, loaded
rather than trained again), every model trains by its recipe in vae_helpers/pretrained.py, and only then is the test
split scored, once per model, on all 1,000 test digits (the fixed binarization of every notebook):
1. the label CVAE (conv_cvae_16d): log p(x | y) for all ten labels by the importance-weighted bound with
   K = CLASSIFIER_SAMPLES and q(z | x, y) as proposal; p(y | x) by Bayes' rule with the training labels' frequencies
   as p(y) (vh.conditional): the generative classifier's accuracy and confusions, and log p(x) = log sum_y
   p(x | y) p(y). The plain conv VAE of 06 (conv_vae_16d, the same recipe without the label) gets log p(x) by the
   bound with 10 K samples: the same number of decodes per digit. Both are lower bounds (the CVAE's too: a sum of
   unbiased estimates of p(x | y) p(y) is one of p(x)); L_K at a tenth of K is kept to show how far each has settled.
2. a logistic regression on the codes (q's means; the CVAE's with the true label) fitted to the training split and
   scored on the test split (vh.conditional.label_probe): how much of the label each mean holds *linearly* (notebook
   11 shows on the shipped models that a vote of nearest codes finds much more of it in the CVAE's).
3. completion (completion_cvae against completion_baseline, the same network without z): nats of the hidden pixels
   of the test digits at 1, 2 and 3 visible quadrants; the CVAE's by L_K (K = COMPLETION_SAMPLES, its encoder as
   proposal: a lower bound on its log p(hidden | visible)), the baseline's exact.
Every number goes to benchmarks/conditional.json, which notebook 11 reads; --from-json rewrites the RESULTS.md
section from it without training.
"""

import argparse
import json
import math
import statistics
import sys
from datetime import date

import torch

import vae_helpers as vh
from results import RESULTS, machine, write_section

CONDITIONAL_JSON = RESULTS.with_name("conditional.json")
CLASSIFIER_SAMPLES = 100  # per label: 1,000 decodes per digit for the ten labels
COMPLETION_SAMPLES = 1000
LABEL_MODEL, PLAIN_MODEL = "conv_cvae_16d", "conv_vae_16d"
COMPLETION_MODEL, BASELINE_MODEL = "completion_cvae", "completion_baseline"
SCORE_SEED = 0  # the draws of every bound


def trained(name, seed):
    """Recipe `name` trained with `seed` (the shipped checkpoint for the recipe's own seed)."""
    if seed == vh.pretrained.recipe_settings(name)[2]["seed"]:
        return vh.pretrained.load_pretrained(name)[0]
    return vh.pretrained.train(name, seed=seed, progress=False)[0]


def mean_and_se(values):
    values = torch.as_tensor(values, dtype=torch.float64)
    return values.mean().item(), (values.std() / math.sqrt(len(values))).item()


def score_labels(cvae, plain, test, train, seed):
    """The classifier, log p(x) of both models and the label probe, on the test split."""
    log_prior = vh.conditional.log_class_prior(train.labels)
    generator = torch.Generator().manual_seed(SCORE_SEED)
    scores = {}
    for k in (CLASSIFIER_SAMPLES // 10, CLASSIFIER_SAMPLES):
        log_likelihoods = vh.conditional.class_log_likelihoods(cvae, test.images, k, generator=generator)
        log_posterior, log_px = vh.conditional.bayes_posterior(log_likelihoods, log_prior)
        plain_log_px = vh.objectives.iwae_bound(plain, test.images, 10 * k, generator=generator)
        scores[k] = {"log_px": log_px, "plain_log_px": plain_log_px, "log_posterior": log_posterior}
    final = scores[CLASSIFIER_SAMPLES]
    predicted = final["log_posterior"].argmax(1)
    correct = (predicted == test.labels).float()
    difference = final["log_px"] - final["plain_log_px"]  # per digit, paired
    with torch.no_grad():
        codes = {"cvae": [cvae.posterior(d.images, vh.conditional.one_hot(d.labels)).mean for d in (train, test)],
                 "plain": [plain.posterior(d.images).mean for d in (train, test)]}
    probe = {name: vh.conditional.label_probe(train_codes, train.labels, test_codes, test.labels)
             for name, (train_codes, test_codes) in codes.items()}
    return {
        "seed": seed,
        "accuracy": correct.mean().item(),
        "accuracy_se": (correct.std() / math.sqrt(len(correct))).item(),
        "confusion": vh.conditional.confusion_matrix(test.labels, predicted).tolist(),
        "mean_max_posterior": final["log_posterior"].max(1).values.exp().mean().item(),
        "cvae_log_px": {str(k): v["log_px"].mean().item() for k, v in scores.items()},
        "plain_log_px": {str(10 * k): v["plain_log_px"].mean().item() for k, v in scores.items()},
        "log_px_difference": difference.mean().item(),
        "log_px_difference_se": (difference.std() / math.sqrt(len(difference))).item(),
        "probe_accuracy": probe,
        "chance": (torch.bincount(test.labels).max() / len(test.labels)).item(),
    }


def score_completion(cvae, baseline, grey, binary):
    """Mean nats of the hidden test pixels at each layout: the CVAE's L_K and the baseline's exact log-likelihood."""
    generator = torch.Generator().manual_seed(SCORE_SEED)
    layouts = {}
    for n in vh.completion.QUADRANT_LAYOUTS:
        c = vh.completion.hide(grey, n)
        cvae_nats = -vh.objectives.iwae_bound(cvae, binary, COMPLETION_SAMPLES, c=c, generator=generator)
        with torch.no_grad():
            baseline_nats = -baseline.log_likelihood(binary, c)
        difference = cvae_nats - baseline_nats
        layouts[str(n)] = {"cvae": cvae_nats.mean().item(), "baseline": baseline_nats.mean().item(),
                           "difference": difference.mean().item(),
                           "difference_se": (difference.std() / math.sqrt(len(difference))).item(),
                           "cvae_better_share": (difference < 0).float().mean().item()}
    return layouts


def run(seeds):
    test = vh.data.load_digits(split="test", binarized=True)
    grey_test = vh.data.load_digits(split="test", progress=False).images
    train = vh.data.load_digits(split="train", binarized=True)  # the probe's codes: the fixed binarization
    runs = []
    for seed in range(seeds):
        models = {name: trained(name, seed) for name in (LABEL_MODEL, PLAIN_MODEL, COMPLETION_MODEL, BASELINE_MODEL)}
        labels = score_labels(models[LABEL_MODEL], models[PLAIN_MODEL], test, train, seed)
        runs.append({**labels, "completion": score_completion(models[COMPLETION_MODEL], models[BASELINE_MODEL],
                                                              grey_test, test.images)})
        print(f"seed {seed}: accuracy {labels['accuracy']:.3f}, log p(x) difference {labels['log_px_difference']:+.2f}"
              f", completion {[round(v['difference'], 2) for v in runs[-1]['completion'].values()]}", flush=True)
    return {"date": date.today().isoformat(), "machine": machine(), "classifier_samples": CLASSIFIER_SAMPLES,
            "completion_samples": COMPLETION_SAMPLES, "runs": runs, "summary": summarise(runs)}


def over_seeds(values):
    """Mean and standard error over seeds (0 for one seed)."""
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def summarise(runs):
    summary = {"seeds": len(runs)}
    for key in ("accuracy", "log_px_difference"):
        summary[key] = over_seeds([run[key] for run in runs])
    summary["log_px_wins"] = sum(run["log_px_difference"] > 0 for run in runs)
    for name in ("cvae", "plain"):
        summary[f"probe_{name}"] = over_seeds([run["probe_accuracy"][name] for run in runs])
    summary["completion"] = {}
    for n in map(str, vh.completion.QUADRANT_LAYOUTS):
        differences = [run["completion"][n]["difference"] for run in runs]
        summary["completion"][n] = {"cvae": over_seeds([run["completion"][n]["cvae"] for run in runs]),
                                    "baseline": over_seeds([run["completion"][n]["baseline"] for run in runs]),
                                    "difference": over_seeds(differences),
                                    "cvae_wins": sum(d < 0 for d in differences)}
    return summary


def write_results(data):
    s, runs = data["summary"], data["runs"]
    n = s["seeds"]
    pm = lambda pair, digits=2: f"{pair[0]:.{digits}f} ± {pair[1]:.{digits}f}"  # noqa: E731
    lines = [
        f"`benchmarks/bench_conditional.py`: notebook 11's conditional models over {n} training seeds (seed 0 the "
        "shipped checkpoints), each scored once on the 1,000 test digits (fixed binarization); ± is the standard "
        "error over seeds, on this one test set.",
        "",
        f"- Generative classifier (`{LABEL_MODEL}`, log p(x|y) by L_{data['classifier_samples']} per label, Bayes' rule "
        f"with the training labels' frequencies): accuracy {pm(s['accuracy'], 4)}.",
        f"- The bound on log p(x) of the label CVAE (log sum_y p(x|y) p(y)) minus the plain conv VAE's (L_{10 * data['classifier_samples']}"
        f", the same decodes per digit): {pm(s['log_px_difference'])} nats, the CVAE higher in {s['log_px_wins']} of {n}.",
        f"- A logistic regression on the codes (q's means: a linear read only) predicts the label with test accuracy "
        f"{pm(s['probe_cvae'], 3)} from the CVAE's (given the label) and {pm(s['probe_plain'], 3)} from the plain "
        f"VAE's; the largest class is {runs[0]['chance']:.3f} of the test digits.",
        "",
        f"Completion: nats of the hidden test pixels (CVAE: -L_{data['completion_samples']}, an upper bound on its "
        "-log p(hidden | visible); baseline: exact), mean over the 1,000 test digits, then over seeds.",
        "",
        "| visible quadrants | CVAE | baseline | CVAE − baseline | CVAE lower in |",
        "|---|---|---|---|---|",
        *[f"| {k} | {pm(v['cvae'])} | {pm(v['baseline'])} | {pm(v['difference'])} | {v['cvae_wins']} of {n} |"
          for k, v in s["completion"].items()],
    ]
    write_section("conditional", "The conditional VAE (notebook 11)", lines, day=data["date"],
                  machine_name=data["machine"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--from-json", action="store_true", help="rewrite RESULTS.md from conditional.json")
    args = parser.parse_args(argv)
    if args.from_json:
        data = json.loads(CONDITIONAL_JSON.read_text())
    else:
        data = run(args.seeds)
        CONDITIONAL_JSON.write_text(json.dumps(data, indent=1) + "\n")
    write_results(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
