"""Drive every kernel-backed widget of the series from Python: each control, moved to its extremes, changes the
image and keeps every displayed number finite. New explorers are picked up from vae_helpers.explorers automatically.
(The figures the page computes, PageFigure, are driven in tests/test_page_figures.py.)"""

import ipywidgets as widgets
import pytest

from vae_helpers.explorers import all_explorers, kinds
from vae_helpers.widgets import LiveFigure

ALL_EXPLORERS = all_explorers()
EXPLORERS = {name: factory for name, factory in ALL_EXPLORERS.items() if issubclass(kinds()[name], LiveFigure)}


def extreme_values(control):
    """The values worth testing for a control: both ends of a slider, every option of a menu, both booleans."""
    if isinstance(control, (widgets.FloatSlider, widgets.IntSlider)):
        return [control.max, control.min]
    if isinstance(control, (widgets.Dropdown, widgets.ToggleButtons, widgets.RadioButtons, widgets.SelectionSlider)):
        return [option[1] if isinstance(option, tuple) else option for option in control.options][::-1]
    if isinstance(control, widgets.Checkbox):
        return [not control.value, control.value]
    raise TypeError(f"no test values for a {type(control).__name__}")


def test_the_series_has_explorers():
    assert "posterior.posterior" in ALL_EXPLORERS and "beta.beta_ladder" in EXPLORERS


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_every_control_changes_the_image_and_keeps_numbers_finite(name):
    live = EXPLORERS[name]()
    assert live.image.png[:8] == b"\x89PNG\r\n\x1a\n" and live.all_finite()
    for control_name, control in live.controls.items():
        for value in extreme_values(control):
            before = live.image.png
            if control.value == value:
                continue
            control.value = value  # observers run synchronously, as they do when a learner drags the slider
            assert live.image.png != before, f"{name}: moving {control_name} to {value} did not redraw"
            assert live.all_finite(), f"{name}: {control_name} = {value} gave {live.readout_values}"


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_every_button_redraws(name):
    live = EXPLORERS[name]()
    for label, button in live.buttons.items():
        before = live.image.png
        button.click()
        assert live.image.png != before, f"{name}: clicking {label!r} did not redraw"
        assert live.all_finite()


def test_a_button_runs_its_action_then_redraws():
    from vae_helpers.widgets import LiveFigure, new_figure

    figure = new_figure(2, 2)
    ax = figure.add_subplot()
    line = ax.plot([0, 1], [0, 0])[0]
    state = {"height": 0}

    def update():
        line.set_ydata([0, state["height"]])
        ax.set_ylim(-1, 10)
        return {"height": state["height"]}

    live = LiveFigure(figure, update, controls={}, actions={"raise": lambda: state.update(height=state["height"] + 1)})
    first = live.image.png
    live.buttons["raise"].click()
    assert live.readout_values == {"height": 1} and live.image.png != first


def test_a_precomputed_figure_renders_every_option_once_and_sends_them_all_to_the_page():
    from vae_helpers.widgets import LiveFigure, new_figure
    from vae_helpers.widgets.live_figure import PrecomputedFigure

    def build(precompute):
        figure = new_figure(2, 2)
        ax = figure.add_subplot()
        line = ax.plot([0, 1], [0, 0])[0]
        ax.set_ylim(-3, 3)
        calls = []

        def update(height):
            calls.append(height)
            line.set_ydata([0, height])
            return {"height": height}

        controls = {"height": widgets.SelectionSlider(options=[("low", 1), ("high", 2), ("down", -2)], value=2)}
        return LiveFigure(figure, update, controls, precompute=precompute), calls

    live, calls = build(precompute=True)
    assert sorted(calls) == [-2, 1, 2]  # every option, once, when built
    plain, _ = build(precompute=False)
    view = live.widget
    assert isinstance(view, PrecomputedFigure) and view.options == ["low", "high", "down"] and view.index == 1
    for position, height in enumerate([1, 2, -2]):
        plain.controls["height"].value = height
        live.controls["height"].value = height  # the Python control still drives .image, for tests and benchmarks
        png = view.pngs[view.offsets[position]:view.offsets[position + 1]]
        assert png == plain.image.png == live.image.png  # what the page swaps in is the full render
        assert view.readouts[position] == f"height = {height}"
    assert len(calls) == 3  # moving the control never called update again
    with pytest.raises(ValueError, match="one control with options"):
        LiveFigure(new_figure(1, 1), lambda a, b: None,
                   {"a": widgets.Dropdown(options=[1, 2]), "b": widgets.Dropdown(options=[1, 2])}, precompute=True)


def test_a_figure_with_changing_artists_draws_the_rest_once_and_matches_a_full_render(monkeypatch):
    import io

    import numpy as np
    from matplotlib.figure import Figure
    from PIL import Image

    from vae_helpers.widgets import LiveFigure, figure_to_png, new_figure

    figure = new_figure(3, 2)
    ax = figure.add_subplot()
    ax.set(xlim=(0, 1), ylim=(-1, 3), xlabel="x", title="fixed axes")
    line = ax.plot([0, 1], [0, 0], lw=3)[0]
    label = ax.text(0.1, 2.5, "")
    full_draws = []
    real_draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: (full_draws.append(1), real_draw(self, renderer)))

    def update(height):
        line.set_ydata([0, height])
        label.set_text(f"height {height:.1f}")

    live = LiveFigure(figure, update, {"height": widgets.FloatSlider(value=1.0, min=0.0, max=2.0)},
                      changing=[line, label])
    for height in (0.5, 2.0):
        live.controls["height"].value = height
    assert len(full_draws) == 1  # axes, ticks and labels were drawn at the first render only
    for artist in live.changing:
        artist.set_animated(False)
    pixels = lambda png: np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)  # noqa: E731
    blitted, full = pixels(live.image.png), pixels(figure_to_png(figure))
    assert blitted.shape == full.shape
    # Only where a changing artist crosses an axis spine may the two differ (drawn over it, not under it)
    assert (np.abs(blitted - full).max(-1) > 0).mean() < 0.002


def test_new_axis_limits_redraw_the_axes_once_and_nice_limits_are_round(monkeypatch):
    from matplotlib.figure import Figure

    from vae_helpers.widgets import LiveFigure, new_figure, nice_limit

    assert [nice_limit(v) for v in (0.31, 1.0, 1.01, 2.9, 7.5, 45.0)] == pytest.approx([0.4, 1, 1.5, 3, 8, 50])
    with pytest.raises(ValueError, match="positive"):
        nice_limit(0.0)
    figure = new_figure(3, 2)
    ax = figure.add_subplot()
    line = ax.plot([0, 1], [0, 0])[0]
    full_draws = []
    real_draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: (full_draws.append(1), real_draw(self, renderer)))

    def update(height):
        line.set_ydata([0, height])
        ax.set_ylim(0, nice_limit(height))

    live = LiveFigure(figure, update, {"height": widgets.FloatSlider(value=0.9, min=0.1, max=5.0)}, changing=[line])
    for height in (0.95, 0.99, 1.2, 1.4, 1.9):  # limits 1 (first render), 1, 1, 1.5, 1.5, 2: two new ones
        live.controls["height"].value = height
    assert len(full_draws) == 3 and ax.get_ylim() == (0, 2)


def test_new_limits_lay_the_figure_out_again_only_for_longer_tick_labels(monkeypatch):
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from vae_helpers.widgets import LiveFigure, new_figure

    figure = new_figure(3, 2)
    ax = figure.add_subplot()
    line = ax.plot([0, 1], [0, 0])[0]
    layouts = []
    real_execute = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute",
                        lambda self, fig: (layouts.append(ax.get_ylim()[1]), real_execute(self, fig)))

    def update(top):
        line.set_ydata([0, top])
        ax.set_ylim(0, top)

    live = LiveFigure(figure, update, {"top": widgets.FloatSlider(value=5.0, min=1.0, max=2000.0)}, changing=[line])
    # Tick labels 0, 1, ..., 5 (1 character) at the first render; 0.0 to 1.5 (3) are longer: laid out again; 0 to
    # 5 and 0.0 to 1.0 fit in those margins; 0 to 2000 (4 characters) does not.
    for top in (1.5, 5.0, 1.0, 2000.0):
        live.controls["top"].value = top
    assert layouts == [5.0, 1.5, 2000.0]


def test_a_live_figure_shows_its_png_on_a_canvas_and_as_the_static_fallback():
    import base64

    from vae_helpers.widgets import FigureImage, LiveFigure, new_figure

    figure = new_figure(2, 2)
    line = figure.add_subplot().plot([0, 1], [0, 1])[0]
    live = LiveFigure(figure, lambda slope: line.set_ydata([0, slope]), {"slope": widgets.FloatSlider(value=1.0)})
    assert isinstance(live.image, FigureImage) and "render" in live.image._esm and "vae-figure-painted" in live.image._esm
    assert repr(live.image) == f"FigureImage({len(live.image.png)} bytes of PNG)"  # not the bytes themselves
    bundle = live._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == live.image.png
    live.controls["slope"].value = 0.5
    assert base64.b64decode(live._repr_mimebundle_()["image/png"]) == live.image.png != base64.b64decode(bundle["image/png"])


class Ipywidgets7Box:
    """What an ipywidgets 7 widget (Colab's version) offers for display: a model id, no _repr_mimebundle_."""

    model_id = "0123abcd"

    def __repr__(self):
        return "VBox(children=(...))"


def test_the_live_view_bundle_is_the_same_with_ipywidgets_7_and_8():
    from vae_helpers.widgets import widget_view_bundle

    box = widgets.VBox([])
    view = "application/vnd.jupyter.widget-view+json"
    assert widget_view_bundle(box)[view] == box._repr_mimebundle_()[view]  # 8 builds it
    assert widget_view_bundle(Ipywidgets7Box()) == {  # 7: the bundle its _ipython_display_ would send
        view: {"version_major": 2, "version_minor": 0, "model_id": "0123abcd"}, "text/plain": "VBox(children=(...))"}
