"""Every notebook is committed clean and executes top to bottom on a fresh kernel."""

import json
import re
import os

import nbformat
import pytest
from nbclient import NotebookClient

from vae_helpers.config import REPO_ROOT

from . import expected_results
from .result_ranges import RANGES

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
TIMEOUT_PER_CELL = 600
# Notebooks whose "Expected results" state every run-dependent number as a range checked against the outputs.
CHECKED_EXPECTATIONS = {"00_start_here.ipynb", "01_bayes_rule_and_the_intractable_evidence.ipynb",
                        "02_kl_divergence.ipynb", "03_variational_inference_and_the_elbo.ipynb",
                        "04_the_reparameterization_trick.ipynb",
                        "05_your_first_vae.ipynb", "06_the_convolutional_vae.ipynb",
                        "07_exploring_the_latent_space.ipynb", "08_when_training_goes_wrong.ipynb",
                        "09_pixels_likelihoods_and_blur.ipynb", "10_learned_priors_and_flow_posteriors.ipynb",
                        "11_the_conditional_vae.ipynb"}


def test_the_series_starts_with_notebook_00():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs_or_widget_state(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} cell {index} has outputs"
    assert "widgets" not in notebook["metadata"], f"{path.name} holds saved widget state"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_title_matches_its_file_name(path):
    first = nbformat.read(path, as_version=4).cells[0]
    number, _, _ = path.stem.partition("_")
    assert first.cell_type == "markdown" and first.source.startswith(f"# {number} · ")


def execute(path, tmp_path, monkeypatch, kernel_name="python3"):
    """Run notebook `path` top to bottom on a fresh kernel of `kernel_name`; return it with its outputs."""
    # Matplotlib and IPython keep caches in the home folder; keep the run self-contained.
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=TIMEOUT_PER_CELL, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    assert not error_outputs(notebook)
    return notebook


def error_outputs(notebook):
    return [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]


def executed_by_the_book(path):
    """The notebook with the outputs of the book site's execution of this very code (tests/test_book.py builds it
    first), or None. That execution was a fresh kernel's too, on the same helpers, data and versions (the cache is
    kept per digest of them, book.outputs_digest), so running it again would only repeat it."""
    from jupyter_cache import get_cache

    from series_tools import book

    cache_dir = book.cache_dir()
    if not cache_dir.is_dir():
        return None
    try:
        _, notebook = get_cache(cache_dir).merge_match_into_notebook(nbformat.read(path, as_version=4))
    except KeyError:  # this code has not been executed by a book build
        return None
    return notebook


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_on_a_fresh_kernel(path, tmp_path, monkeypatch):
    notebook = executed_by_the_book(path) or execute(path, tmp_path, monkeypatch)
    assert not error_outputs(notebook)
    if path.name in CHECKED_EXPECTATIONS:
        problems = expected_results.check(notebook)
        assert not problems, f"{path.name}, Expected results:\n" + "\n".join(problems)
    printed = expected_results.printed_lines(notebook)
    problems = [problem for label, low, high in RANGES.get(path.name, ())
                for problem in expected_results.check_printed(printed, label, low, high)]
    assert not problems, f"{path.name}, tests/result_ranges.py:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_links_between_notebooks_point_at_existing_files(path):
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    targets = set(re.findall(r"\]\(([^)#]+\.ipynb)", text))
    missing = [target for target in targets if not (NOTEBOOK_DIR / target).is_file()]
    assert not missing, f"{path.name} links to missing notebooks {missing}"
    if path != NOTEBOOKS[-1]:  # every notebook but the last leads on to the next one
        assert NOTEBOOKS[NOTEBOOKS.index(path) + 1].name in targets
