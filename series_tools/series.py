'''The series' table of contents, and the parts every notebook shares, stamped from one template.

    python -m series_tools.series           # rewrite the shared parts wherever they differ from the template
    python -m series_tools.series --check   # list what differs and exit 1 (tests/test_series.py does the same)

Stamped: the setup cell of every notebook (the code cell that starts with SETUP_FIRST_LINE), the navigation line
that ends every notebook, the table of notebooks in 00 ("## The path") and in README.md (between the
<!-- series-table --> markers, with each notebook's run time as benchmarks/RESULTS.md last recorded it).
Everything else in a notebook is its own text.
'''

import argparse
import re
import sys

import nbformat

from vae_helpers.config import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BENCHMARK_RESULTS = REPO_ROOT / "benchmarks" / "RESULTS.md"
# (file stem, title, what you will learn); the README's run times come from benchmarks/RESULTS.md (`make bench`)
SERIES = (
    ("00_start_here", "Start here",
     "the plan, how to run it, the notation, the shipped digits and why they are binarized"),
    ("01_bayes_rule_and_the_intractable_evidence", "Bayes' rule and the intractable evidence",
     "latent variable models and ancestral sampling: generation first; the posterior on a model where everything is "
     "known (with sliders); why p(x) cannot be computed for a neural decoder: grids explode, naive Monte Carlo "
     "scatters (watch it fail in a widget)"),
    ("02_kl_divergence", "KL divergence",
     "KL on dice and Gaussians, its closed forms derived and checked three ways; forward versus reverse KL on a "
     "two-peaked target, with maps of both whose local minima appear and vanish as the peaks move"),
    ("03_variational_inference_and_the_elbo", "Variational inference and the ELBO",
     "log p(x) = ELBO + KL(q ‖ posterior), derived and checked for any q, with q moved on the ELBO's map; fitting "
     "q with autograd; amortised inference; the ELBO learns the model too; a posterior no Gaussian fits"),
    ("04_the_reparameterization_trick", "The reparameterization trick",
     "z = μ + σ·ε; pathwise versus score-function gradients, their variance against samples and latent dimension, "
     "when each wins and where each fails; which gradient needs the trick, and sticking the landing"),
    ("05_your_first_vae", "Your first VAE",
     "an MLP VAE written from scratch, trained on real digits with early stopping on a validation split, its 2-D latent space, honest nats; "
     "drag through its map and draw your own digit (both run in the page); why a high ELBO does not make a digit, measured by AUROC"),
    ("06_the_convolutional_vae", "The convolutional VAE",
     "a conv VAE, the importance-weighted bound with two proposals, log p(x) exactly in 2-D, the approximation and amortization gaps, a fairly tuned comparison over seeds, active dimensions, β judged by log p(x)"),
    ("07_exploring_the_latent_space", "Exploring the latent space",
     "drop the encoder: the aggregate posterior and its holes (ELBO surgery); traverse, drag through the 2-D map, interpolate, sample, "
     "inspect uncertainty and draw a digit with six widgets"),
    ("08_when_training_goes_wrong", "When training goes wrong",
     "sum or mean (β = 784), three causes of NaN, posterior collapse and active dimensions, KL warm-up and free bits "
     "judged over ten seeds, a PixelCNN decoder that collapses for good, β in the rate-distortion plane with a widget"),
    ("09_pixels_likelihoods_and_blur", "Pixels, likelihoods and blur",
     "bits per dimension and dequantization (checked); why BCE on grey levels is no density and the continuous "
     "Bernoulli; MSE as a Gaussian whose σ² is β; learned σ, discretized logistic and categorical pixels in one "
     "table; blur measured against σ and β; your own images"),
    ("10_learned_priors_and_flow_posteriors", "Learned priors and flow posteriors",
     "the best prior is the aggregate posterior; a mixture, the VampPrior and a prior fitted after training; an IAF "
     "posterior with its log-determinant checked; what each buys in nats over five seeds and at equal time, with a "
     "widget that switches the prior of a 2-D VAE"),
    ("11_the_conditional_vae", "The conditional VAE",
     "ask for a digit and keep its style across labels; how much of the label the code keeps; Bayes' rule as a "
     "classifier and the label's worth in log p(x); completing a digit from one to three quadrants against a "
     "one-prediction network, in nats over five seeds; draw part of a digit in the page and watch its completions"),
)
# Where the series is published: the one place the address is written. The setup cell (Colab branch) and the
# README's badges are stamped from it; change it here and run `python -m series_tools.series`.
REPOSITORY = "vae-series/vae-series"  # GitHub owner/name
BRANCH = "main"
REPOSITORY_URL = f"https://github.com/{REPOSITORY}"
COLAB_DIR = "/content/vae-series"  # where the Colab branch clones the series
SETUP_FIRST_LINE = "# Setup: the same cell opens every notebook in the series."
SETUP_CELL = SETUP_FIRST_LINE + f'''
import os, subprocess, sys
SERIES_DIR = "{COLAB_DIR}"  # Colab has every package but vae_helpers: fetch the series there, once
if "google.colab" in sys.modules and SERIES_DIR not in sys.path:
    if not os.path.isdir(SERIES_DIR):
        subprocess.run(["git", "clone", "--quiet", "--depth=1", "--branch={BRANCH}",
                        "{REPOSITORY_URL}", SERIES_DIR], check=True)
    sys.path.insert(0, SERIES_DIR)
import torch
import vae_helpers as vh  # not found? Start JupyterLab with `make lab` in the repository root (or `pip install -e .` there)
generator, DEVICE, THREADS = vh.config.start_notebook(seed=0)  # seeds, picks the device and the CPU threads'''
COLAB_URL = "https://colab.research.google.com"
COLAB_BADGE = f"{COLAB_URL}/assets/colab-badge.svg"
BINDERHUB_URL = "https://mybinder.org"


def binder_url(index):
    """Where Binder opens notebook `index` in JupyterLab, from the published repository (README, book site)."""
    return f"{BINDERHUB_URL}/v2/gh/{REPOSITORY}/{BRANCH}?urlpath=lab/tree/notebooks/{SERIES[index][0]}.ipynb"


BINDER_LINE = (
    f"[![Launch on Binder]({BINDERHUB_URL}/badge_logo.svg)]({binder_url(0)}) runs the whole series in JupyterLab in "
    "your browser with nothing to install (the first launch builds the environment and takes a few minutes); the "
    "Colab badges below open one notebook each, and its first cell fetches `vae_helpers` there."
)
README_MARKERS = ("<!-- series-table -->", "<!-- /series-table -->")
PATH_TABLE = re.compile(r"\| # \| Notebook \| What you will learn \|\n(?:\|.*\|\n?)+")


def heading(index):
    stem, title, _ = SERIES[index]
    return f"{stem[:2]} · {title}"


def link(index, prefix=""):
    return f"[{heading(index)}]({prefix}{SERIES[index][0]}.ipynb)"


def navigation_line(index):
    """'Previous: ... · [Contents](00_start_here.ipynb) · Next: ...' for notebook `index`."""
    parts = [f"Previous: {link(index - 1)}"] if index > 0 else []
    parts.append("[Contents](00_start_here.ipynb)")
    if index + 1 < len(SERIES):
        parts.append(f"Next: {link(index + 1)}")
    return " · ".join(parts)


def measured_seconds():
    """{file stem: seconds} of every notebook's run, as `make bench` last wrote them into benchmarks/RESULTS.md."""
    text = BENCHMARK_RESULTS.read_text(encoding="utf-8") if BENCHMARK_RESULTS.is_file() else ""
    found = {stem: float(seconds) for stem, seconds in re.findall(r"^\| (\d\d_\w+)\.ipynb \| ([\d.]+) \|", text, re.M)}
    missing = [stem for stem, *_ in SERIES if stem not in found]
    if missing:
        raise ValueError(f"{BENCHMARK_RESULTS} has no run time for {', '.join(missing)}: run "
                         "`make bench` (or benchmarks/bench_notebooks.py) to measure them")
    return found


def colab_url(index):
    """Where Colab opens notebook `index` straight from the published repository."""
    return f"{COLAB_URL}/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{SERIES[index][0]}.ipynb"


def table(readme=False):
    """The markdown table of notebooks: in 00 (links beside it), or in README.md (links into notebooks/, with run
    times, "Open in Colab" badges and a Binder badge above)."""
    prefix = "notebooks/" if readme else ""
    header = "| # | Notebook | What you will learn |" + (" Run time* | Colab |" if readme else "")
    rule = "|---|---|---|" + ("---:|---|" if readme else "")
    seconds = measured_seconds() if readme else {}
    rows = []
    for index, (stem, title, learn) in enumerate(SERIES):
        row = f"| {stem[:2]} | [{title}]({prefix}{stem}.ipynb) | {learn} |"
        if readme:
            row += f" {seconds[stem]:.0f} s | [![Open in Colab]({COLAB_BADGE})]({colab_url(index)}) |"
        rows.append(row)
    lines = [header, rule, *rows]
    if readme:
        lines = [BINDER_LINE, "", *lines]
    return "\n".join(lines)


def stamp_notebook(index, write):
    """Bring notebook `index`'s setup cell and navigation line (and 00's table) in line; returns what differed."""
    path = NOTEBOOK_DIR / f"{SERIES[index][0]}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    differences = []
    setup = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith(SETUP_FIRST_LINE)]
    if len(setup) != 1:
        differences.append(f"{path.name}: expected one setup cell, found {len(setup)}")
    elif setup[0].source != SETUP_CELL:
        differences.append(f"{path.name}: setup cell")
        setup[0].source = SETUP_CELL
    last = notebook.cells[-1]
    lines = last.source.rstrip("\n").split("\n")
    if last.cell_type != "markdown" or not lines[-1].startswith(("Previous:", "[Contents]")):
        differences.append(f"{path.name}: the last cell must end with the navigation line")
    elif lines[-1] != navigation_line(index):
        differences.append(f"{path.name}: navigation line")
        last.source = "\n".join([*lines[:-1], navigation_line(index)])
    if index == 0:
        for cell in notebook.cells:
            if cell.cell_type == "markdown" and cell.source.startswith("## The path"):
                stamped = PATH_TABLE.sub(lambda _: table() + "\n", cell.source, count=1)
                if stamped != cell.source:
                    differences.append(f"{path.name}: table of notebooks")
                    cell.source = stamped
    if differences and write:
        nbformat.write(notebook, path)
    return differences


def stamp_readme(write):
    path = REPO_ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    start, end = README_MARKERS
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        return [f"README.md: no {start} ... {end} markers"]
    stamped = pattern.sub(lambda _: f"{start}\n{table(readme=True)}\n{end}", text)
    if stamped == text:
        return []
    if write:
        path.write_text(stamped, encoding="utf-8")
    return ["README.md: table of notebooks"]


def stamp_all(write=True):
    differences = [d for index in range(len(SERIES)) for d in stamp_notebook(index, write)]
    return differences + stamp_readme(write)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report what differs; exit 1 if anything does")
    args = parser.parse_args(argv)
    differences = stamp_all(write=not args.check)
    for difference in differences:
        print(("differs: " if args.check else "stamped: ") + difference)
    if args.check and differences:
        sys.exit(1)


if __name__ == "__main__":
    main()
