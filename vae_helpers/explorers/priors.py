"""Switch the prior of a 2-D VAE and see where it puts its mass: notebook 10's widget.

For each 2-D model (one per prior) the kernel computes, once: log p(z) on a grid over the map, the test digits'
codes, sets of prior draws with the digits they decode to, and the share of those draws in a hole of q(z)
(vh.aggregate_posterior.share_in_holes). The page (prior_switch.js) draws them: switching the prior or showing
another set of draws is answered in the page, with no kernel, so the widget also works on the book site.
"""

import base64
import math
from pathlib import Path

import anywidget
import matplotlib
import numpy as np
import torch
import traitlets

from vae_helpers import aggregate_posterior, data, plotting
from vae_helpers.distributions import draw
from vae_helpers.latent_space import decode_images
from vae_helpers.widgets.in_page import EXTENT
from vae_helpers.widgets.live_figure import figure_to_png, hooks_on, new_figure

ESM = (Path(__file__).resolve().parent.parent / "widgets" / "prior_switch.js").read_text(encoding="utf-8")
GRID = 90  # density cells per side of the map
NUM_DRAWS, NUM_SETS = 16, 4  # prior draws per set, and sets behind "Other draws"
HOLE_DRAWS = 1000
SHADE_NATS = 12.0  # the density is shaded over the top 12 nats of log p(z); below is white


def grid_centres(extent=EXTENT, size=GRID):
    """The centres of size x size cells over [-extent, extent]^2, row by row from the top (high z1) down: (size^2, 2)."""
    centres = -extent + 2 * extent * (torch.arange(size) + 0.5) / size
    z1, z0 = torch.meshgrid(centres.flip(0), centres, indexing="ij")
    return torch.stack([z0.reshape(-1), z1.reshape(-1)], dim=1)


@torch.no_grad()
def prior_view(model, test_images, *, seed=0):
    """What the widget shows for one 2-D model: a dict of log p(z) on the grid (GRID^2,) over [-extent, extent]^2
    (at least EXTENT, wider where the codes or draws reach further: see below), the test codes (N, 2),
    NUM_SETS sets of NUM_DRAWS prior draws (NUM_SETS, NUM_DRAWS, 2) and their decoded digits (..., 28, 28), and the
    share of HOLE_DRAWS further prior draws in a hole of q(z) (07's measure, on the test digits)."""
    if model.latent_dim != 2:
        raise ValueError(f"the prior explorer maps a 2-D latent space, got latent_dim = {model.latent_dim}")
    prior = model.prior()
    generator = torch.Generator().manual_seed(seed)
    q = model.posterior(test_images)
    draws = draw(prior, (NUM_SETS, NUM_DRAWS), generator)
    share, _ = aggregate_posterior.share_in_holes(q.mu, q.logvar, draw(q, (), generator),
                                                  draw(prior, (HOLE_DRAWS,), generator))
    # a learned prior need not keep the codes at N(0, I)'s scale: each map is wide enough for 99% of the coordinates
    # of its codes and draws (a few outliers may fall off it)
    widest = torch.cat([q.mu.abs().flatten(), draws.abs().flatten()]).quantile(0.99).item()
    extent = max(EXTENT, math.ceil(2 * 1.05 * widest) / 2)
    return {"log_density": prior.log_prob(grid_centres(extent)), "extent": extent, "codes": q.mu, "draws": draws,
            "decoded": decode_images(model, draws.reshape(-1, 2)).reshape(NUM_SETS, NUM_DRAWS, 28, 28),
            "share_in_holes": share}


def plot_prior_view(view, labels, ax, draw_set=0):
    """Draw one prior_view on `ax` as the page does: the density shaded over its top SHADE_NATS nats, the test codes
    coloured by label, one set of prior draws as black crosses."""
    extent = view["extent"]
    density = view["log_density"].reshape(GRID, GRID)
    ax.imshow((density - density.max()).clamp(min=-SHADE_NATS).numpy(), cmap="Blues",
              extent=(-extent, extent, -extent, extent))
    ax.scatter(*view["codes"].T, c=labels, cmap="tab10", s=2, vmin=0, vmax=9)
    ax.plot(*view["draws"][draw_set].T, "k+", ms=7)
    ax.set(xlim=(-extent, extent), ylim=(-extent, extent), aspect="equal", xticks=[], yticks=[])
    return ax


def _float_bytes(tensor):
    return tensor.detach().float().cpu().numpy().astype("<f4").tobytes()


class PriorExplorer(anywidget.AnyWidget):
    """One button per prior; the page shows that model's prior density, codes and decoded prior draws."""

    _esm = ESM
    names = traitlets.List().tag(sync=True)
    selected = traitlets.Int(0).tag(sync=True)
    draw_set = traitlets.Int(0).tag(sync=True)
    log_density = traitlets.Bytes().tag(sync=True)  # (P, GRID^2) float32
    codes = traitlets.Bytes().tag(sync=True)  # (P, N, 2) float32
    labels = traitlets.Bytes().tag(sync=True)  # (N,) uint8
    draws = traitlets.Bytes().tag(sync=True)  # (P, NUM_SETS, NUM_DRAWS, 2) float32
    decoded = traitlets.Bytes().tag(sync=True)  # (P, NUM_SETS, NUM_DRAWS, 784) uint8, pixel probability x 255
    shares = traitlets.List().tag(sync=True)  # (P,) share of prior draws in a hole
    palette = traitlets.List().tag(sync=True)
    extents = traitlets.List().tag(sync=True)  # (P,) each map shows [-extent, extent]^2
    sizes = traitlets.Dict().tag(sync=True)  # grid, sets, draws, shade_nats
    hooks = traitlets.Bool(False).tag(sync=True)  # benchmarks/bench_browser.py's timing (in_page.HOOKS_VARIABLE)

    def __init__(self, models, *, seed=0, **kwargs):
        if not models:
            raise ValueError("models must name at least one 2-D model: {label: model}")
        test = data.load_digits(split="test", binarized=True)
        views = [prior_view(model, test.images, seed=seed) for model in models.values()]
        stack = lambda key: torch.stack([view[key] for view in views])  # noqa: E731
        super().__init__(
            names=list(models), log_density=_float_bytes(stack("log_density")), codes=_float_bytes(stack("codes")),
            labels=test.labels.numpy().astype(np.uint8).tobytes(), draws=_float_bytes(stack("draws")),
            decoded=(stack("decoded") * 255).round().to(torch.uint8).numpy().tobytes(),
            shares=[view["share_in_holes"] for view in views], extents=[view["extent"] for view in views],
            palette=[matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors],
            sizes={"grid": GRID, "sets": NUM_SETS, "draws": NUM_DRAWS, "shade_nats": SHADE_NATS}, hooks=hooks_on(),
            **kwargs)
        self.views, self.test_labels = views, test.labels

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a picture of its first state for viewers without widgets (GitHub, nbviewer)."""
        bundle, metadata = super()._repr_mimebundle_(**kwargs)
        return {**bundle, "image/png": base64.b64encode(self.snapshot_png()).decode("ascii")}, metadata

    def snapshot_png(self):
        """PNG of the selected prior as the page first shows it: density, codes, draws, decoded draws."""
        view = self.views[self.selected]
        figure = new_figure(6.4, 3.0)
        map_ax, digits_ax = figure.subplots(1, 2, width_ratios=(1.2, 1))
        plot_prior_view(view, self.test_labels, map_ax, self.draw_set)
        map_ax.set_title(self.names[self.selected])
        plotting.show_images(view["decoded"][self.draw_set].unsqueeze(1), ncols=4, ax=digits_ax,
                             title="decoded prior draws")
        figure.suptitle("a picture of the widget: run the notebook to use it", fontsize="small")
        return figure_to_png(figure)


def prior_explorer(models, seed=0):
    """The prior explorer over `models`, {label: 2-D model}: e.g. the shipped mlp_vae_2d and its learned priors."""
    return PriorExplorer(dict(models), seed=seed)
