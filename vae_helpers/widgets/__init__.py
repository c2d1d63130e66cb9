"""The widget plumbing. Every widget of the series computes and draws in the page; the kernel sends numbers once.

Under the explorers (vae_helpers.explorers) that teach with them:

    page_figure.py   PageFigure: a figure the page computes and draws (page_plot.js; 07's decoder in
                     page_models.js), its formulas mirrors of Python's; the explorers of 01-04 and 07
    page_models.py   a network as generic layers, and arrays shared by every figure of a page (SharedNumbers)
    live_figure.py   LiveFigure: controls -> a plain update function -> a PNG; with precompute=True every option's
                     figure is drawn once and swapped in the page (PrecomputedFigure, precomputed.js): 08 and 09
    in_page.py       InPageVAE: the base of the widgets that run a small MLP VAE in the page (in_page_vae.js); the
                     map and the drawing canvas of 05 and 07 (11's, conditional.js, share its core)

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
