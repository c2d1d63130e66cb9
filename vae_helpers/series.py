'''The series' table of contents, and the parts every notebook shares, stamped from one template.

    python -m vae_helpers.series           # rewrite the shared parts wherever they differ from the template
    python -m vae_helpers.series --check   # list what differs and exit 1 (tests/test_series.py does the same)

Stamped: the setup cell of every notebook (the code cell that starts with SETUP_FIRST_LINE), the navigation line
that ends every notebook, the table of notebooks in 00 ("## The path") and in README.md (between the
<!-- series-table --> markers). Everything else in a notebook is its own text.
'''

import argparse
import re
import sys

import nbformat

from vae_helpers.config import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
# (file stem, title, what you will learn, seconds to run on a 2-core laptop CPU as measured by `make bench`)
SERIES = (
    ("00_start_here", "Start here",
     "the plan, how to run it, the notation, the shipped digits and why they are binarized", 3),
    ("01_bayes_rule_and_the_intractable_evidence", "Bayes' rule and the intractable evidence",
     "the posterior on a model where everything is known (with sliders); why p(x) cannot be computed for a neural "
     "decoder: grids explode, naive Monte Carlo scatters", 4),
    ("02_kl_divergence", "KL divergence",
     "KL on dice and Gaussians, its closed forms derived and checked three ways; forward versus reverse KL on a "
     "two-peaked target", 5),
    ("03_variational_inference_and_the_elbo", "Variational inference and the ELBO",
     "log p(x) = ELBO + KL(q ‖ posterior), derived and checked for any q; fitting q with autograd; amortised "
     "inference", 5),
    ("04_the_reparameterization_trick", "The reparameterization trick",
     "z = μ + σ·ε; pathwise versus score-function gradients, their variance, and where each fails", 3),
    ("05_your_first_vae", "Your first VAE",
     "an MLP VAE written from scratch, trained on real digits, its 2-D latent space, honest nats", 6),
    ("06_the_convolutional_vae", "The convolutional VAE",
     "a conv VAE, the importance-weighted bound on log p(x), a comparison in nats, active dimensions, β", 38),
    ("07_exploring_the_latent_space", "Exploring the latent space",
     "drop the encoder: traverse, map, interpolate, sample and inspect uncertainty with five widgets", 4),
)
SETUP_FIRST_LINE = "# Setup: the same cell opens every notebook in the series."
SETUP_CELL = SETUP_FIRST_LINE + '''
import sys

try:
    import vae_helpers as vh
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        "vae_helpers is not installed in this kernel: start JupyterLab with `make lab` from the repository root, "
        "or run `pip install -e .` there"
    ) from error
import torch

generator = vh.config.seed_everything(0)
DEVICE = vh.config.choose_device()
print(f"Python {sys.version.split()[0]} · torch {torch.__version__} · vae_helpers {vh.__version__} · device {DEVICE}")'''
README_MARKERS = ("<!-- series-table -->", "<!-- /series-table -->")
PATH_TABLE = re.compile(r"\| # \| Notebook \| What you will learn \|\n(?:\|.*\|\n?)+")


def heading(index):
    stem, title, _, _ = SERIES[index]
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


def table(prefix="", with_time=False):
    """The markdown table of notebooks; `prefix` is prepended to links (README.md sits one folder up)."""
    header = "| # | Notebook | What you will learn |" + (" Run time* |" if with_time else "")
    rule = "|---|---|---|" + ("---:|" if with_time else "")
    rows = [f"| {stem[:2]} | [{title}]({prefix}{stem}.ipynb) | {learn} |" + (f" {seconds} s |" if with_time else "")
            for stem, title, learn, seconds in SERIES]
    return "\n".join([header, rule, *rows])


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
    stamped = pattern.sub(lambda _: f"{start}\n{table('notebooks/', with_time=True)}\n{end}", text)
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
