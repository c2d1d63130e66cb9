"""What the book site shows for a widget, and how it is built: static widget forms, sources, the cache's digest,
formulas kept whole. (The site itself, in a browser: tests/test_book.py.)"""

import base64
import json

import ipywidgets as widgets
from docutils import nodes
from docutils.utils import new_document
from docutils.frontend import get_default_settings

from series_tools import book, render, series
from vae_helpers.explorers import posterior
from vae_helpers.widgets import LiveFigure, new_figure

PNG = base64.b64encode(b"\x89PNG not really").decode()


def test_a_kernel_backed_widget_becomes_its_image_captioned_with_its_values():
    # (the series has none left: every widget runs in the page; a learner's own LiveFigure still can be one)
    figure = new_figure(3, 2)
    line = figure.add_subplot().plot([0, 1], [0, 0])[0]

    def update(x):
        line.set_ydata([0, x])
        return posterior.posterior_readout(x, noise_std=0.8, prior_std=1.0)

    explorer = LiveFigure(figure, update, {"x": widgets.FloatSlider(value=1.5, description="observed x")})
    bundle = explorer._repr_mimebundle_()
    html = render.static_widget("some-id", {}, bundle)
    assert f'src="data:image/png;base64,{bundle["image/png"].strip()}"' in html
    assert "observed x = 1.5" in html and "posterior mean" in html  # the controls' values and the readout
    assert render.STILL_NOTE in html  # and says that its controls need the notebook


def test_an_anywidget_runs_from_its_saved_state_and_cannot_end_the_script_early():
    saved = {"state": {"_esm": "export default { render() {} }", "label": "</script><b>"},
             "buffers": [{"path": ["weights"], "data": base64.b64encode(b"\0\1").decode(), "encoding": "base64"}]}
    html = render.static_widget("abc", {"abc": saved}, {"text/plain": "widget"})
    assert '<div id="widget-abc"></div>' in html and 'type="module"' in html
    script = html.split('<script type="module">', 1)[1]
    assert "</script>" not in script.rsplit("</script>", 1)[0]  # only the closing tag itself
    state = json.loads(script.split("const model = staticModel(", 1)[1].split(");\n", 1)[0])
    assert state["state"]["label"] == "</script><b>" and state["buffers"][0]["path"] == ["weights"]


def test_a_widget_that_two_anywidgets_refer_to_goes_into_the_page_once():
    weights = {"model_name": "WidgetModel", "state": {"spec": {"note": "</script>"}},
               "buffers": [{"path": ["weights"], "data": base64.b64encode(b"\0\1\2").decode(), "encoding": "base64"}]}
    models = {"weights": weights, **{name: {"state": {"_esm": "export default {}", "network": "IPY_MODEL_weights",
                                                     "layout": f"IPY_MODEL_{name}-layout"}}
                                     for name in ("map", "draw")}}
    on_page = set()  # what SeriesRenderer keeps for one page
    first, second = (render.static_widget(name, models, {}, on_page) for name in ("map", "draw"))
    tag = '<script type="application/json" id="vae-widget-state-weights">'
    assert first.count(tag) == 1 and tag not in second and on_page == {"weights"}
    text = first.split(tag, 1)[1].split("</script>", 1)[0]  # the JSON's own "</script>" is escaped
    assert json.loads(text) == {"state": weights["state"], "buffers": weights["buffers"]}
    assert render.referenced_models(models["map"]) == ["weights"]


def test_tqdms_bar_shows_its_last_state_and_an_unknown_widget_nothing():
    models = {
        "box": {"model_name": "HBoxModel",
                "state": {"children": ["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]}},
        "left": {"model_name": "HTMLModel", "state": {"value": "training: 100%"}},
        "bar": {"model_name": "FloatProgressModel", "state": {"value": 3.0, "max": 3.0}},
        "right": {"model_name": "HTMLModel", "state": {"value": " 3/3 [00:02&lt;00:00, validation_elbo=-129.7]"}},
        "slider": {"model_name": "FloatSliderModel", "state": {"value": 1.0}},
    }
    html = render.static_widget("box", models, {"text/plain": "training:   0%|"})
    assert html.index("training: 100%") < html.index('value="3.0" max="3.0"') < html.index("validation_elbo")
    assert render.static_widget("slider", models, {"text/plain": "FloatSlider(value=1.0)"}) is None
    models["box"]["state"]["children"].append("IPY_MODEL_slider")
    assert render.static_widget("box", models, {}) is None  # a box is shown only when all of it can be


def test_the_index_lists_every_notebook_in_order_and_the_sources_follow_the_notebooks(tmp_path):
    index = book.index_page()
    toctree = index.split("```{toctree}", 1)[1]
    assert [line for line in toctree.splitlines() if line[:2].isdigit()] == [stem for stem, *_ in series.SERIES]
    for stem, title, _ in series.SERIES:
        assert f"[{title}]({stem}.ipynb)" in index
    notebooks, source = tmp_path / "notebooks", tmp_path / "src"
    notebooks.mkdir()
    for stem, *_ in series.SERIES:
        (notebooks / f"{stem}.ipynb").write_text(f"notebook {stem}")
    source.mkdir()
    (source / "99_removed.ipynb").write_text("a notebook no longer in the series")
    book.write_sources(source, notebooks)
    assert sorted(p.name for p in source.iterdir()) == sorted(["index.md", *(f"{s}.ipynb" for s, *_ in series.SERIES)])
    first = source / f"{series.SERIES[0][0]}.ipynb"
    stamp = first.stat().st_mtime_ns
    book.write_sources(source, notebooks)
    assert first.stat().st_mtime_ns == stamp  # unchanged: Sphinx will not read it again
    (notebooks / first.name).write_text("edited")
    book.write_sources(source, notebooks)
    assert first.read_text() == "edited"


def test_the_cache_digest_follows_the_helpers_and_data_but_not_the_books_own_code(tmp_path):
    for name in ("vae_helpers/models.py", "series_tools/book.py", "data/mnist_5k.npz", "data/downloads/mnist.npz",
                 "pyproject.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("version 1")
    before = book.outputs_digest(tmp_path)
    for unrelated in ("series_tools/book.py", "data/downloads/mnist.npz"):
        (tmp_path / unrelated).write_text("version 2")
        assert book.outputs_digest(tmp_path) == before, unrelated
    for related in ("vae_helpers/models.py", "data/mnist_5k.npz", "pyproject.toml"):
        (tmp_path / related).write_text("version 2")
        assert book.outputs_digest(tmp_path) != before, related
        before = book.outputs_digest(tmp_path)


class FakeApp:
    class config:
        mathjax_display = (r"\[", r"\]")


def test_a_formula_that_is_one_environment_is_kept_whole_for_its_tag():
    document = new_document("page", get_default_settings())
    aligned = r"\begin{aligned} a &= b \\ &= c \end{aligned} \tag{3.7}"
    lines = r"a = b \\ b = c"
    document += [nodes.math_block(aligned, aligned, nowrap=False), nodes.math_block(lines, lines, nowrap=False)]
    book.keep_environments_whole(FakeApp, document)
    whole, wrapped = document.findall(nodes.math_block)
    assert whole["nowrap"] and whole.astext() == rf"\[{aligned}\]"  # no \begin{split} around it
    assert not wrapped["nowrap"] and wrapped.astext() == lines  # Sphinx still wraps plain lines in split
