"""The shared parts of the notebooks (setup cell, navigation, tables) are exactly what series_tools.series stamps."""

import nbformat
import pytest

from series_tools import series
from vae_helpers.config import REPO_ROOT


def test_every_shared_part_is_current():
    differences = series.stamp_all(write=False)
    assert differences == [], f"run `python -m series_tools.series` to restamp: {differences}"


def test_the_series_lists_exactly_the_notebooks_on_disk_with_their_titles():
    on_disk = sorted(path.stem for path in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [stem for stem, *_ in series.SERIES] == on_disk
    for index, (stem, *_rest) in enumerate(series.SERIES):
        first = nbformat.read(REPO_ROOT / "notebooks" / f"{stem}.ipynb", as_version=4).cells[0].source
        assert first.startswith(f"# {series.heading(index)}\n"), stem


def test_a_changed_setup_cell_or_navigation_line_is_reported(tmp_path, monkeypatch):
    copy = tmp_path / "notebooks"
    copy.mkdir()
    for stem, *_ in series.SERIES:
        (copy / f"{stem}.ipynb").write_bytes((REPO_ROOT / "notebooks" / f"{stem}.ipynb").read_bytes())
    notebook = nbformat.read(copy / "03_variational_inference_and_the_elbo.ipynb", as_version=4)
    setup = next(c for c in notebook.cells if c.source.startswith(series.SETUP_FIRST_LINE))
    setup.source += "\nprint('edited by hand')"
    notebook.cells[-1].source = notebook.cells[-1].source.replace("Next:", "Next up:")
    nbformat.write(notebook, copy / "03_variational_inference_and_the_elbo.ipynb")
    monkeypatch.setattr(series, "NOTEBOOK_DIR", copy)
    assert series.stamp_notebook(3, write=False) == ["03_variational_inference_and_the_elbo.ipynb: setup cell",
                                                     "03_variational_inference_and_the_elbo.ipynb: navigation line"]
    series.stamp_notebook(3, write=True)
    assert series.stamp_notebook(3, write=False) == []


def test_navigation_lines_chain_the_notebooks():
    assert series.navigation_line(0).startswith("[Contents](00_start_here.ipynb) · Next: [01 · ")
    assert "Next:" not in series.navigation_line(len(series.SERIES) - 1)


def _run_setup_cell(monkeypatch, *, on_colab, already_cloned=False, runs=1):
    """Execute the stamped setup cell `runs` times in one namespace, with subprocess.run recorded (nothing is cloned)."""
    import os
    import subprocess
    import sys
    import types

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append((command, kwargs)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        real_isdir = os.path.isdir
        monkeypatch.setattr(os.path, "isdir", lambda p: already_cloned if p == series.COLAB_DIR else real_isdir(p))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace = {}
    for _ in range(runs):
        exec(series.SETUP_CELL, namespace)
    assert namespace["vh"].__name__ == "vae_helpers"
    return calls, sys.path, namespace


def test_on_colab_the_setup_cell_clones_the_series_and_imports_vae_helpers_from_it(monkeypatch, capsys):
    calls, path, _ = _run_setup_cell(monkeypatch, on_colab=True)
    [(clone, clone_options)] = calls  # Colab's own packages stay as they are: nothing is installed
    assert clone[:2] == ["git", "clone"] and clone[-2:] == [series.REPOSITORY_URL, series.COLAB_DIR]
    assert f"--branch={series.BRANCH}" in clone
    assert clone_options == {"check": True}  # a failed clone stops the notebook
    assert path[0] == series.COLAB_DIR  # importable in the running kernel
    assert capsys.readouterr().out.startswith("Python ")  # and the usual version line follows


def test_on_colab_a_new_kernel_reuses_the_clone_and_a_rerun_changes_nothing(monkeypatch):
    calls, path, _ = _run_setup_cell(monkeypatch, on_colab=True, already_cloned=True, runs=2)
    assert calls == [] and path.count(series.COLAB_DIR) == 1


def test_off_colab_the_setup_cell_fetches_nothing(monkeypatch):
    calls, path, _ = _run_setup_cell(monkeypatch, on_colab=False)
    assert calls == [] and series.COLAB_DIR not in path


def test_the_setup_cell_is_short_and_leaves_the_names_the_notebooks_use(monkeypatch, capsys, restore_threads):
    import torch

    assert len(series.SETUP_CELL.splitlines()) <= 12  # a few lines a learner reads, not Colab plumbing
    _, _, namespace = _run_setup_cell(monkeypatch, on_colab=False)
    assert namespace["DEVICE"].type in {"cpu", "cuda", "mps"} and namespace["THREADS"] == torch.get_num_threads()
    first = namespace["generator"].initial_seed()
    assert first == 0 and torch.initial_seed() == 0  # seeded: the same numbers on every run
    line = capsys.readouterr().out
    assert f"torch {torch.__version__}" in line and f"device {namespace['DEVICE']}" in line


def test_the_repository_address_is_written_in_one_place():
    """Only series_tools/series.py spells it; the notebooks and README hold stamped copies (checked above)."""
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout: cannot list the repository's files")
    spelled = [name for name in tracked
               if name.endswith((".py", ".md", ".yml", ".toml", ".cfg", ".txt", "Makefile", "postBuild"))
               and series.REPOSITORY in (REPO_ROOT / name).read_text(encoding="utf-8")]
    assert spelled == ["README.md", "series_tools/series.py"]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for index in range(len(series.SERIES)):
        assert series.colab_url(index) in readme
    assert f"mybinder.org/v2/gh/{series.REPOSITORY}/{series.BRANCH}" in readme


def test_readme_run_times_come_from_the_benchmark_results(tmp_path, monkeypatch):
    seconds = series.measured_seconds()
    assert set(seconds) >= {stem for stem, *_ in series.SERIES}
    readme_row = next(line for line in series.table(readme=True).splitlines() if line.startswith("| 06 |"))
    assert f"| {seconds['06_the_convolutional_vae']:.0f} s |" in readme_row
    partial = tmp_path / "RESULTS.md"
    partial.write_text("| 00_start_here.ipynb | 3.8 | 387 |\n", encoding="utf-8")
    monkeypatch.setattr(series, "BENCHMARK_RESULTS", partial)
    with pytest.raises(ValueError, match="has no run time for 01_bayes_rule.*run `make bench`"):
        series.table(readme=True)
