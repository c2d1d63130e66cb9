"""Interactive figures that redraw in place: controls -> a plain update function -> one PNG image.

Why not `interact` with plt.show()? It builds a new figure on every slider move (slow), and Colab appends the new
plot below the old one instead of replacing it. Here the figure is created once, its artists are changed in place,
and the rendered PNG replaces the one a FigureImage shows (a canvas that puts it on screen sooner than
ipywidgets.Image would). That works the same in JupyterLab, Binder and Colab, and the last image goes into the
output as a plain PNG too, so a static copy of the notebook (HTML, GitHub) still shows it.
"""

import base64
import io
import itertools
import math
import os
import time
from pathlib import Path

import anywidget
import ipywidgets as widgets
import traitlets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


# Set to 1 by the browser tests and benchmarks/bench_browser.py: the widgets that draw in the page then time every
# input event and write what they computed onto their element, which a learner's page need not do.
HOOKS_VARIABLE = "VAE_WIDGET_HOOKS"


def hooks_on():
    return os.environ.get(HOOKS_VARIABLE, "0") not in ("", "0")


def new_figure(width=7.0, height=3.0, dpi=80):
    """A matplotlib Figure that pyplot does not track, so Jupyter never shows a second, static copy of it."""
    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def figure_to_png(figure):
    """Render `figure` to PNG bytes (light compression: the image is sent once and replaced at the next move)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def canvas_to_png(canvas):
    """The pixels an Agg canvas holds now, as PNG bytes (what figure_to_png would give, without drawing again)."""
    buffer = io.BytesIO()
    Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).save(buffer, format="png",
                                                                                   compress_level=1)
    return buffer.getvalue()


def nice_limit(value, steps=(1, 1.5, 2, 3, 4, 5, 6, 8)):
    """The smallest of `steps` times a power of ten that is at least `value` (> 0): an axis limit that stays put
    while the curves under it change a little, so a LiveFigure with `changing` redraws its axes only now and then,
    and the ticks stay round. Coarser steps, such as (1, 2, 5), move the limit even less often."""
    if not value > 0:
        raise ValueError(f"nice_limit needs a positive number, got {value}")
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (*steps, 10) if step * power >= value * (1 - 1e-12))


def _tick_label_lengths(figure):
    """The longest tick label of each axis of `figure`, in characters, for its current limits (no drawing)."""
    lengths = []
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            locations = [loc for loc in axis.get_majorticklocs() if low <= loc <= high]
            lengths.append(max((len(label) for label in axis.get_major_formatter().format_ticks(locations)), default=0))
    return tuple(lengths)


def format_readout(values):
    """'name = value' pairs, four significant digits, separated by middle dots."""
    return " · ".join(f"{name} = {value:.4g}" for name, value in values.items())


class FigureImage(anywidget.AnyWidget):
    """PNG bytes shown on a canvas (figure_view.js): what ipywidgets.Image would show, on screen about 14 ms sooner
    after each change (measured in JupyterLab; figure_view.js says how), which a slider step needs to stay within
    the series' 60 ms budget."""

    _esm = (Path(__file__).with_name("figure_view.js")).read_text(encoding="utf-8")
    png = traitlets.Bytes().tag(sync=True)
    description = traitlets.Unicode("the figure; its numbers are in the readout below").tag(sync=True)  # for screen readers

    def __repr__(self):  # a viewer without widgets shows this: the default would print the PNG's bytes
        return f"FigureImage({len(self.png)} bytes of PNG)"


class PrecomputedFigure(anywidget.AnyWidget):
    """The figures of every option of one control, rendered once and sent together; the page swaps them as the
    slider moves (precomputed.js). What a LiveFigure with precompute=True shows."""

    _esm = "\n".join((Path(__file__).with_name(name)).read_text(encoding="utf-8")
                      for name in ("in_page_core.js", "precomputed.js"))
    label = traitlets.Unicode().tag(sync=True)
    options = traitlets.List().tag(sync=True)  # the options' names, in the slider's order
    index = traitlets.Int(0).tag(sync=True)  # the option shown first
    pngs = traitlets.Bytes().tag(sync=True)  # every option's PNG, one after another
    offsets = traitlets.List().tag(sync=True)  # option i's PNG is pngs[offsets[i]:offsets[i + 1]]
    readouts = traitlets.List().tag(sync=True)  # each option's readout line
    description = traitlets.Unicode("the figure; its numbers are in the readout below").tag(sync=True)
    slider_width = traitlets.Int(420).tag(sync=True)
    hooks = traitlets.Bool(False).tag(sync=True)  # the tests' and benchmark's hooks (in_page.HOOKS_VARIABLE)

    def __repr__(self):
        return f"PrecomputedFigure({len(self.options)} figures, {len(self.pngs):,} bytes of PNG)"


class LiveFigure:
    """A figure plus its controls; moving a control calls `update` and replaces the image.

    Args:
        figure: a Figure from new_figure(), with its artists already drawn.
        update: update(**values) -> dict of displayed numbers (or None); it must change the figure's artists in
            place. `values` maps each control's name to its current value.
        controls: {name: ipywidgets control}; shown above the image in the given order.
        actions: {button label: callback()}; a click runs the callback (e.g. draw a new random seed), then redraws.
        columns: lay the controls out in this many columns (many sliders stay above the fold).
        precompute: render the figure of every option of the one control once, when built, and show them in a
            PrecomputedFigure, which swaps them in the page: no kernel is asked when the slider moves, so it also
            works on the book site. For one control with a few discrete options (a SelectionSlider), whose update
            must then depend on the control's value alone. The Python controls still drive .image (the tests).
        changing: the artists that `update` changes (lines, dots, titles). Everything else (axes, ticks, labels,
            legends: most of the time of a redraw) is then drawn once, and a move redraws only these over a saved
            copy of it. `update` must then leave every other artist as it is; when it changes an axis' limits (so
            its ticks), the whole figure is drawn again once (in the layout of the first draw) and saved anew.
            Rounding the limits (nice_limit) keeps that rare.
    The numbers returned by the last update are in `.readout_values`; the seconds each update took (callback to
    new PNG) are in `.update_seconds`, for benchmarks/bench_widgets.py.
    """

    def __init__(self, figure, update, controls, actions=None, columns=1, precompute=False, changing=()):
        self.figure, self.update, self.controls = figure, update, dict(controls)
        self.changing, self._background, self._background_limits = list(changing), None, None
        if self.changing:
            FigureCanvasAgg(figure)  # attaches itself to the figure: the saved background lives in its buffer
            self._layout, self._laid_out_for = figure.get_layout_engine(), None
        self.buttons = {}
        for label, callback in (actions or {}).items():
            self.buttons[label] = widgets.Button(description=label)
            self.buttons[label].on_click(lambda _button, callback=callback: (callback(), self.refresh()))
        # Natural pixel size: a stretched PNG looks blurred; max_width lets it shrink on a narrow screen.
        natural_width = f"{round(figure.get_figwidth() * figure.dpi)}px"
        self.image = FigureImage(layout=widgets.Layout(width=natural_width, max_width="100%"))
        self.readout = widgets.HTML()
        self.readout_values = {}
        self.update_seconds = []
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        controls_box = (widgets.GridBox(list(self.controls.values()),
                                        layout=widgets.Layout(grid_template_columns=f"repeat({columns}, max-content)"))
                        if columns > 1 else widgets.VBox(list(self.controls.values())))
        buttons = [widgets.HBox(list(self.buttons.values()))] if self.buttons else []
        self.widget = widgets.VBox([controls_box, *buttons, self.image, self.readout])
        self.rendered = self._render_every_state() if precompute else None
        self.refresh()
        if precompute:
            self.widget = self._precomputed_view()

    def _precomputed_view(self):
        """The PrecomputedFigure of every option of the one control (precompute=True)."""
        if len(self.controls) != 1 or self.buttons:
            raise ValueError("precompute=True shows one control with options and no buttons, got "
                             f"{list(self.controls)} and {list(self.buttons)}")
        (control,) = self.controls.values()
        values = [option[1] if isinstance(option, tuple) else option for option in control.options]
        names = [option[0] if isinstance(option, tuple) else str(option) for option in control.options]
        pngs = [self.rendered[(value,)][1] for value in values]
        offsets = [0, *itertools.accumulate(len(png) for png in pngs)]
        return PrecomputedFigure(label=control.description, options=names, index=values.index(control.value),
                                 pngs=b"".join(pngs), offsets=offsets,
                                 readouts=[format_readout(self.rendered[(value,)][0]) for value in values],
                                 slider_width=int(str(control.layout.width or "420px").rstrip("px")),
                                 hooks=hooks_on())

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self):
        """Recompute and redraw for the controls' current values (or swap in their image, if precomputed)."""
        start = time.perf_counter()
        if self.rendered is not None:
            self.readout_values, png = self.rendered[tuple(self.values().values())]
        else:
            self.readout_values, png = self._render(self.values())
        self.image.png = png
        self.readout.value = format_readout(self.readout_values)
        self.update_seconds.append(time.perf_counter() - start)

    def _render(self, values):
        readout = self.update(**values) or {}
        if self.changing:
            return readout, self._redraw_changing()
        png = figure_to_png(self.figure)
        # The first render lays the figure out; freezing that layout saves about a third of every later redraw.
        self.figure.set_layout_engine(None)  # "none" would leave a placeholder engine that lays out text on every savefig
        return readout, png

    def _redraw_changing(self):
        """PNG of the figure, drawing only the changing artists over the background saved at the first call."""
        canvas = self.figure.canvas
        limits = [tuple(ax.viewLim.bounds) for ax in self.figure.axes]
        if self._background is None or limits != self._background_limits:
            for artist in self.changing:
                artist.set_animated(True)  # a full draw skips animated artists: the background is everything else
            # Laid out again only when a tick label is longer than any the margins were made for (shorter ones
            # fit): laying out costs more than the rest of the draw (35 of 61 ms for 02's KL explorer).
            label_lengths = _tick_label_lengths(self.figure)
            if self._laid_out_for is None or any(map(int.__gt__, label_lengths, self._laid_out_for)):
                self.figure.set_layout_engine(self._layout)
                self._laid_out_for = tuple(map(max, label_lengths, self._laid_out_for or label_lengths))
            canvas.draw()
            self.figure.set_layout_engine(None)
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._background_limits = limits
        else:
            canvas.restore_region(self._background)
        for artist in self.changing:
            self.figure.draw_artist(artist)
        return canvas_to_png(canvas)

    def _render_every_state(self):
        """{tuple of control values: (readout, PNG)} for every combination of the controls' options."""
        choices = [[option[1] if isinstance(option, tuple) else option for option in control.options]
                   for control in self.controls.values()]
        return {values: self._render(dict(zip(self.controls, values))) for values in itertools.product(*choices)}

    def all_finite(self):
        """True when every displayed number is finite (used by the tests at the controls' extremes)."""
        return all(math.isfinite(value) for value in self.readout_values.values())

    def _on_change(self, change):
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus its current image and readout as fallbacks.

        JupyterLab, Binder and Colab show the widget; a viewer without a widget manager (a static HTML copy,
        GitHub's preview) shows the image of the initial state and the readout text instead of an empty box.
        """
        bundle = widget_view_bundle(self.widget, **kwargs)
        bundle["image/png"] = base64.b64encode(self.image.png).decode("ascii")
        settings = " · ".join(f"{control.description or name} = {control.value}"
                              for name, control in self.controls.items())
        bundle["text/plain"] = "\n".join(filter(None, [settings, format_readout(self.readout_values)]))
        return bundle


def widget_view_bundle(widget, **kwargs):
    """The mime bundle that shows `widget` live: ipywidgets 8 builds it, ipywidgets 7 (Colab's) only displays
    through _ipython_display_, so for 7 the same bundle is written out here (widget-view format 2.0)."""
    if hasattr(widget, "_repr_mimebundle_"):
        bundle = widget._repr_mimebundle_(**kwargs)
        return dict(bundle[0] if isinstance(bundle, tuple) else bundle)  # anywidget's is (data, metadata)
    view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return {"application/vnd.jupyter.widget-view+json": view, "text/plain": repr(widget)}


def slider(description, min, max, value, step, readout_format=".2f"):
    """A FloatSlider that updates while dragged, wide enough for its description to be read in full."""
    return widgets.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                               readout_format=readout_format, continuous_update=True,
                               style={"description_width": "initial"}, layout=widgets.Layout(width="420px"))
