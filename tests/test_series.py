"""The shared parts of the notebooks (setup cell, navigation, tables) are exactly what vae_helpers.series stamps."""

import nbformat

from vae_helpers import series
from vae_helpers.config import REPO_ROOT


def test_every_shared_part_is_current():
    differences = series.stamp_all(write=False)
    assert differences == [], f"run `python -m vae_helpers.series` to restamp: {differences}"


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
