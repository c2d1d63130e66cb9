"""The widget plumbing: figures the kernel redraws (LiveFigure), and a small VAE run in the page (InPageVAE).

Under the explorers (vae_helpers.explorers) that teach with them:

    live_figure.py   LiveFigure: controls -> a plain update function -> a PNG, drawn on a canvas (FigureImage,
                     figure_view.js); the sliders of 01-04, 07 and 08
    in_page.py       InPageVAE: the base of the widgets that run a small VAE in the page (in_page_vae.js); the
                     map and the drawing canvas of 05 and 07

`vh.widgets.LiveFigure`, `vh.widgets.slider` and the other names of live_figure.py are importable from here.
"""

from vae_helpers.widgets.live_figure import (
    FigureImage,
    LiveFigure,
    canvas_to_png,
    figure_to_png,
    format_readout,
    new_figure,
    nice_limit,
    slider,
    widget_view_bundle,
)

__all__ = ["FigureImage", "LiveFigure", "canvas_to_png", "figure_to_png", "format_readout", "new_figure", "nice_limit",
           "slider", "widget_view_bundle"]
