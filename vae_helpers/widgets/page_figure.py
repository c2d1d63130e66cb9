"""Figures that the page computes and draws: the kernel sends the numbers once, every move is answered in the page.

A PageFigure is an anywidget whose ES module (page_plot.js, joined to in_page_core.js for the timing hooks and
the helpers the in-page widgets share) builds the controls as plain HTML inputs, evaluates the widget's formulas
in JavaScript and draws them on a canvas. So a slider step costs a few milliseconds on any machine, and the widget
keeps working on the book site, where no kernel runs, and in any front end that runs anywidgets.

The page's formulas are mirrors of the Python functions the notebooks teach (`readout` here, and the curve
functions of each explorer module); tests/test_page_figures.py compares the two on a grid of settings in
Chromium, so a change to one that is not made to the other fails the suite. The first state is also drawn by
matplotlib (`still`) for viewers without JavaScript (GitHub, nbviewer), as before.
"""

import base64
import math
from pathlib import Path

import anywidget
import ipywidgets
import numpy as np
import traitlets

from vae_helpers.widgets.live_figure import figure_to_png, format_readout, hooks_on
from vae_helpers.widgets.page_models import SharedNumbers


def page_module():
    """in_page_core.js (timing hooks, DOM helpers) joined to page_plot.js (controls, axes, the theory widgets'
    maths) and page_models.js (a network's layers; 07's widgets)."""
    folder = Path(__file__).parent
    return "\n".join((folder / file).read_text(encoding="utf-8")
                     for file in ("in_page_core.js", "page_plot.js", "page_models.js"))


ESM = page_module()
CONTROL_KINDS = ("slider", "select", "toggle", "checkbox")


def slider_control(name, label, low, high, value, step):
    """A slider the page draws: an <input type=range> with its label and value (keyboard: arrows, Home, End)."""
    return {"name": name, "kind": "slider", "label": label, "min": low, "max": high, "step": step, "value": value}


def choice_control(name, label, options, value, kind="toggle"):
    """A choice among `options` [(label, value)]: "toggle" (a row of buttons) or "select" (a drop-down menu)."""
    return {"name": name, "kind": kind, "label": label, "options": [list(option) for option in options],
            "value": value}


def checkbox_control(name, label, value):
    return {"name": name, "kind": "checkbox", "label": label, "value": bool(value)}


def float_bytes(array):
    """A float64 array as little-endian bytes, the layout the page reads them in (Float64Array)."""
    return np.ascontiguousarray(np.asarray(array, dtype="<f8")).tobytes()


class PageFigure(anywidget.AnyWidget):
    """What a figure computed in the page needs: which widget (`view`), its controls, and its numbers, sent once.

    Args:
        view: the key of the widget's code in page_plot.js (VIEWS).
        controls: control specs (slider_control, choice_control, checkbox_control) in the order shown.
        readout: readout(**values) -> {name: number}, the Python original of the numbers the page shows under the
            figure; tests compare the page's numbers with it.
        still: still(**values) -> a matplotlib Figure of that state, for viewers without JavaScript.
        data: JSON numbers the page's formulas need (a grid, a table); arrays: {name: float64 array}, sent as one
            binary buffer (80,000 float64 numbers as JSON text take about 2.6 times their 8 bytes each).
        actions: {button label: name}; each click adds one to the page's count `name` (a new seed), which the page's
            compute and Python's readout and still get as one more value (0 at first).
        shared: SharedNumbers widgets (page_models.shared_numbers) whose arrays the page adds to `arrays`: a
            network's weights, the test digits; every figure of a page that refers to them shares one copy.
        tolerance: (relative, absolute) between the page's readout and Python's: float64 formulas agree to 1e-9,
            a network run in float32 in a different order to about 1e-5.
    The values a learner sets stay in the page: the kernel is not asked for anything after the first state.
    """

    _esm = ESM
    view = traitlets.Unicode().tag(sync=True)
    controls = traitlets.List().tag(sync=True)
    actions = traitlets.Dict().tag(sync=True)  # {button label: the name of its count}
    shared = traitlets.List(traitlets.Instance(SharedNumbers)).tag(sync=True, **ipywidgets.widget_serialization)
    data = traitlets.Dict().tag(sync=True)
    arrays = traitlets.Bytes().tag(sync=True)  # every array's float64 values, one after another
    array_layout = traitlets.Dict().tag(sync=True)  # {name: [offset in numbers, [shape...]]}
    description = traitlets.Unicode().tag(sync=True)  # what the figure shows, for screen readers
    hooks = traitlets.Bool(False).tag(sync=True)  # tests and benchmarks/bench_browser.py: record timings, readouts

    def __init__(self, view, controls, readout, still, data=None, arrays=None, actions=None, description="",
                 shared=(), tolerance=(1e-9, 1e-12)):
        for control in controls:
            if control.get("kind") not in CONTROL_KINDS:
                raise ValueError(f"a control's kind must be one of {CONTROL_KINDS}, got {control.get('kind')!r} "
                                 f"for {control.get('name')!r}")
        chunks, layout, offset = [], {}, 0
        for name, array in (arrays or {}).items():
            array = np.asarray(array, dtype=np.float64)
            layout[name] = [offset, list(array.shape)]
            chunks.append(float_bytes(array))
            offset += array.size
        super().__init__(view=view, controls=list(controls), actions=dict(actions or {}), data=dict(data or {}),
                         arrays=b"".join(chunks), array_layout=layout, description=description,
                         shared=list(shared), hooks=hooks_on())
        self._readout, self._still, self.tolerance = readout, still, tolerance

    def values(self):
        """The controls' first values and the buttons' counts (0), by name (the page keeps the later ones)."""
        return {**{control["name"]: control["value"] for control in self.controls},
                **{name: 0 for name in self.actions.values()}}

    def readout(self, **values):
        """The numbers shown under the figure for `values` (the first values where not given), computed in Python."""
        return self._readout(**{**self.values(), **values})

    def still_png(self, **values):
        """PNG of the figure at `values` (the first values where not given), drawn by matplotlib."""
        return figure_to_png(self._still(**{**self.values(), **values}))

    def __repr__(self):
        return f"PageFigure(view={self.view!r})"

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a picture and the numbers of its first state for viewers without widgets."""
        bundle, metadata = super()._repr_mimebundle_(**kwargs)  # anywidget's: (data, metadata)
        settings = " · ".join(f"{control['label']} = {_shown_value(control)}" for control in self.controls)
        readout = self.readout()
        return {**bundle, "image/png": base64.b64encode(self.still_png()).decode("ascii"),
                "text/plain": "\n".join(filter(None, [settings, format_readout(readout)]))}, metadata

    def all_finite(self, **values):
        return all(math.isfinite(value) for value in self.readout(**values).values())


def _shown_value(control):
    if control["kind"] in ("toggle", "select"):
        return next(label for label, value in control["options"] if value == control["value"])
    return control["value"]
