"""Notebook 03's explorer: for any Gaussian q(z), the ELBO and the gap KL(q || p(z|x)) add up to log p(x)."""

import math

import matplotlib.colors
import torch

from vae_helpers import conjugate, distributions
from vae_helpers.widgets import new_figure, nice_limit
from vae_helpers.widgets.page_figure import PageFigure, slider_control

Z_GRID_SPEC = (-4.0, 5.0, 451)  # linspace's arguments, which the page gets too
Z_GRID = torch.linspace(*Z_GRID_SPEC, dtype=torch.float64)
# The five bars of the waterfall, left to right: eq. 3.4 builds the ELBO, then eq. 3.3 adds the gap.
BAR_LABELS = ("E_q[log p(x|z)]", "−KL(q‖p(z))", "=ELBO", "+KL(q‖p(z|x))", "=log p(x)")
BAR_COLORS = ("tab:blue", "tab:orange", "navy", "tab:red", "grey")
BAR_FLOOR = -8.0  # fixed y-axis floor in nats, so the log p(x) line never moves on screen


def elbo_densities(x, q_mean, q_std, noise_std, prior_std, z=Z_GRID):
    """Evaluate the prior p(z), the exact posterior p(z|x) and q(z) = N(q_mean, q_std^2) on the grid z.

    Returns: dict of (len(z),) float64 tensors "prior", "posterior", "q".
    Introduced in notebooks/03_variational_inference_and_the_elbo.ipynb.
    """
    post_mean, post_std = conjugate.posterior(x, prior_std, noise_std)
    curves = {"prior": (0.0, prior_std), "posterior": (post_mean, post_std), "q": (q_mean, q_std)}
    return {name: distributions.normal_log_prob(z, mean, std, dtype=torch.float64).exp()
            for name, (mean, std) in curves.items()}


def elbo_waterfall(x, q_mean, q_std, noise_std, prior_std):
    """Compute the bars of a waterfall chart that adds up eq. 3.4 and then eq. 3.3, in nats.

    Starting from 0: E_q[log p(x|z)]; minus KL(q || p(z)) ends at the ELBO (eq. 3.4); the ELBO again as a subtotal;
    plus the gap KL(q || p(z|x)) ends at log p(x) (eq. 3.3); log p(x) as the total, the same for every q.
    Args: the observed x, q's mean and standard deviation, the model's noise_std s and prior_std σ_p (floats).
    Returns: (starts, ends), two (5,) float64 tensors in BAR_LABELS order (bar k spans starts[k] to ends[k]),
        and the dict of conjugate.elbo_terms.
    Introduced in notebooks/03_variational_inference_and_the_elbo.ipynb.
    """
    terms = conjugate.elbo_terms(x, q_mean, q_std, prior_std, noise_std)
    reconstruction, elbo, log_evidence = terms["reconstruction"], terms["elbo"], terms["log_evidence"]
    zero = torch.zeros_like(elbo)
    starts = torch.stack([zero, reconstruction, zero, elbo, zero])
    ends = torch.stack([reconstruction, reconstruction - terms["kl_to_prior"], elbo,
                        elbo + terms["kl_to_posterior"], log_evidence])
    return starts, ends, terms


def elbo_landscape_axes():
    """The (mean, log std) grid of the explorer's ELBO map: the sliders' whole range, 200 points per axis."""
    return (torch.linspace(-2.0, 3.0, 200, dtype=torch.float64),
            torch.linspace(math.log(0.1), math.log(2.0), 200, dtype=torch.float64))


def _title(ax, text):
    """Draw a title as plain text above the axes (the still matches the page's layout)."""
    ax.text(0.5, 1.02, text, transform=ax.transAxes, ha="center", va="bottom", fontsize="large")


GAPS = (8.0, 4.0, 2.0, 1.0, 0.5, 0.2, 0.05)  # the map's contours: ELBO = log p(x) - gap


def elbo_contours(x, noise_std, prior_std):
    """The map's contour lines: [(gap, [(N, 2) array of (mean, log std) points, ...])] for each of GAPS, where the
    exact ELBO over (mu, log sigma) is log p(x) - gap. Computed once (they do not depend on q), sent to the page."""
    import contourpy  # matplotlib's own contouring

    means, log_stds = elbo_landscape_axes()
    landscape = conjugate.elbo_terms(x, means, log_stds[:, None].exp(), prior_std, noise_std)["elbo"]
    log_evidence = conjugate.log_evidence(x, prior_std, noise_std).item()
    generator = contourpy.contour_generator(means.numpy(), log_stds.numpy(), landscape.numpy())
    return [(gap, generator.lines(log_evidence - gap)) for gap in GAPS]


def elbo_readout(q_mean, q_std, x, noise_std, prior_std):
    terms = conjugate.elbo_terms(x, q_mean, q_std, prior_std, noise_std)
    return {"ELBO": terms["elbo"].item(), "KL(q||p(z|x))": terms["kl_to_posterior"].item(),
            "log p(x)": terms["log_evidence"].item(), "E_q[log p(x|z)]": terms["reconstruction"].item(),
            "KL(q||p(z))": terms["kl_to_prior"].item()}


def elbo_explorer(q_mean=-0.5, q_std=1.2, x=1.5, noise_std=0.75, prior_std=1.0):
    """Sliders for q's mean and width; q, the posterior and the waterfall ELBO + KL = log p(x) update live, computed
    in the page (page_plot.js mirrors elbo_terms and elbo_waterfall). x and the model are fixed when it is built."""
    model = {"x": x, "noise_std": noise_std, "prior_std": prior_std}
    controls = [slider_control("q_mean", "q mean μ", -2.0, 3.0, q_mean, 0.05),
                slider_control("q_std", "q width σ", 0.1, 2.0, q_std, 0.02)]
    means, log_stds = elbo_landscape_axes()
    contours = [[f"{gap:g}", [line.round(5).tolist() for line in lines]]
                for gap, lines in elbo_contours(x, noise_std, prior_std)]
    post_mean, post_std = conjugate.posterior(x, prior_std, noise_std)
    data = {**model, "z_grid": list(Z_GRID_SPEC), "floor": BAR_FLOOR, "bar_labels": list(BAR_LABELS),
            "bar_colours": [matplotlib.colors.to_hex(colour) for colour in BAR_COLORS], "contours": contours,
            "map_x": [means[0].item(), means[-1].item()], "map_y": [log_stds[0].item(), log_stds[-1].item()],
            "posterior": [post_mean.item(), post_std.item()]}
    return PageFigure("elbo", controls, lambda **values: elbo_readout(**values, **model),
                      lambda **values: elbo_still(**values, **model), data=data,
                      description="q against the posterior, the ELBO's waterfall, and q on the ELBO's contours")


def elbo_still(q_mean, q_std, x, noise_std, prior_std):
    """The explorer's figure at one setting, drawn by matplotlib (for viewers without JavaScript)."""
    figure = new_figure(12.5, 3.4)
    ax_density, ax_bars, ax_map = figure.subplots(1, 3, width_ratios=[1, 1.25, 0.9])
    styles = {"prior": ("prior p(z)", "tab:grey", "--"), "posterior": ("posterior p(z|x)", "tab:green", "-"),
              "q": ("q(z)", "tab:blue", "-")}
    # NumPy arrays for matplotlib: it iterates a tensor element by element, which is slow
    lines = {key: ax_density.plot(Z_GRID.numpy(), Z_GRID.numpy() * 0, color=color, linestyle=style, lw=2,
                                  label=label)[0] for key, (label, color, style) in styles.items()}
    ax_density.set(xlim=(Z_GRID[0].item(), Z_GRID[-1].item()), xticks=range(-4, 6, 2), xlabel="z", ylabel="density")
    # No density ticks (the shapes matter here, not the heights), and coloured
    # words instead of a legend, which costs about three times as much to draw.
    ax_density.set_yticks([])
    for row, (label, color, _) in enumerate(styles.values()):
        ax_density.text(0.98, 0.95 - 0.08 * row, label, color=color, transform=ax_density.transAxes, ha="right",
                        va="top", fontsize="small", fontweight="bold")
    _title(ax_density, f"x = {x:g}: q(z) against the exact posterior")

    positions = range(len(BAR_LABELS))
    bars = ax_bars.bar(positions, [-1.0] * len(BAR_LABELS), color=BAR_COLORS, width=0.7)
    bars[3].set_hatch("//")
    log_evidence = conjugate.log_evidence(x, prior_std, noise_std).item()
    ax_bars.axhline(log_evidence, color="black", linestyle="--", lw=1, zorder=3)  # over the bars
    ax_bars.axhline(0.0, color="black", lw=0.8, zorder=3)
    labels = [ax_bars.text(k, 0.0, "", ha="center", va="top", fontsize="small") for k in positions]
    floor_box = {"facecolor": "white", "alpha": 0.8, "linewidth": 0, "pad": 1}  # readable over a bar
    ax_bars.set_xticks(list(positions), BAR_LABELS, fontsize="small")
    ax_bars.set(ylim=(BAR_FLOOR, 0.6), yticks=range(int(BAR_FLOOR), 1, 2), ylabel="nats")
    _title(ax_bars, f"(3.4) then (3.3); dashed: log p(x) = {log_evidence:.3f}")

    # The landscape q moves on: the exact ELBO over (mu, log sigma), drawn once (it does not depend on q), with
    # contours labelled by the gap log p(x) - ELBO; the moving dot is q, the star the posterior.
    means, log_stds = elbo_landscape_axes()
    landscape = conjugate.elbo_terms(x, means, log_stds[:, None].exp(), prior_std, noise_std)["elbo"]
    levels = {log_evidence - gap: f"{gap:g}" for gap in GAPS}
    contours = ax_map.contour(means.numpy(), log_stds.numpy(), landscape.numpy(), levels=sorted(levels),
                              colors="0.55", linewidths=1, linestyles="solid")
    ax_map.clabel(contours, fmt=levels, fontsize="x-small")
    post_mean, post_std = conjugate.posterior(x, prior_std, noise_std)
    ax_map.plot([float(post_mean)], [math.log(float(post_std))], "*", color="tab:green", ms=13)
    q_dot = ax_map.plot([q_mean], [math.log(q_std)], "o", color="tab:blue", mec="black", ms=8)[0]
    ax_map.set(xlabel="mean μ of q", ylabel="log σ of q")
    _title(ax_map, "ELBO contours, by gap (nats)")

    def update(q_mean, q_std):
        q_dot.set_data([q_mean], [math.log(q_std)])
        curves = elbo_densities(x, q_mean, q_std, noise_std, prior_std)
        for key, line in lines.items():
            line.set_ydata(curves[key].numpy())
        ax_density.set_ylim(0, nice_limit(1.4 * max(curves[key].max().item() for key in lines)))  # room for labels
        starts, ends, terms = elbo_waterfall(x, q_mean, q_std, noise_std, prior_std)
        for k, (bar, label) in enumerate(zip(bars, labels)):
            start, end = starts[k].item(), ends[k].item()
            bar.set_y(start)
            bar.set_height(end - start)
            # Steps show their signed size, subtotals their level; a bar that leaves the axis is marked on the floor.
            text = f"{end - start:+.2f}" if k in (1, 3) else f"{end:.2f}"
            low = min(start, end)
            if low > BAR_FLOOR + 0.8:
                label.set_position((k, low - 0.1))
                label.set_verticalalignment("top")
                label.set_bbox(None)
            else:
                label.set_position((k, BAR_FLOOR + 0.1))
                label.set_verticalalignment("bottom")
                label.set_bbox(floor_box)
                text = f"↓ {text}"
            label.set_text(text)
        return {"ELBO": terms["elbo"].item(), "KL(q||p(z|x))": terms["kl_to_posterior"].item(),
                "log p(x)": terms["log_evidence"].item(), "E_q[log p(x|z)]": terms["reconstruction"].item(),
                "KL(q||p(z))": terms["kl_to_prior"].item()}

    update(q_mean, q_std)
    return figure


EXPLORERS = {"elbo": elbo_explorer}
