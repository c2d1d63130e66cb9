"""The static HTML render shows a widget's initial image, never an empty box, and links pages to each other."""

import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from vae_helpers import render


def test_a_widget_cell_becomes_its_image_and_links_point_at_pages(tmp_path):
    notebook = new_notebook(
        cells=[new_markdown_cell("# 98 · Test\nNext: [01 · Bayes](01_bayes_rule_and_the_intractable_evidence.ipynb)"),
               new_code_cell("import vae_helpers as vh\nvh.explorers.posterior.posterior_explorer()")],
        metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}})
    path = tmp_path / "98_test.ipynb"
    nbformat.write(notebook, path)
    html = render.render_notebook(path, tmp_path).read_text()
    assert re.search(r"<img [^>]*src=\"data:image/png;base64,", html)
    assert "observed x = 1.5" in html and "posterior mean" in html  # the controls' values and the readout
    assert render.WIDGET_VIEW not in html
    assert 'href="01_bayes_rule_and_the_intractable_evidence.html"' in html
