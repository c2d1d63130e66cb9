"""Notebook 02's explorers: KL in both directions between two Gaussians, and a Gaussian q against a two-peaked p."""

import functools
import math

import torch
from matplotlib.colors import LogNorm
from matplotlib.ticker import MaxNLocator

from vae_helpers import distributions
import matplotlib

from vae_helpers.widgets import new_figure, nice_limit
from vae_helpers.widgets.page_figure import PageFigure, slider_control

# Wide enough that every density the sliders allow has negligible mass outside it (the plots show [-8, 8]).
Z_GRID_SPEC = (-20.0, 20.0, 2001)  # linspace's arguments, which the page gets too
Z_GRID = torch.linspace(*Z_GRID_SPEC, dtype=torch.float64)
Z_SHOWN = (-8.0, 8.0)
MIXTURE_STD = 0.6  # width of each peak of the two-peaked p
# Every second grid point of the shown range is drawn: 401 points are plenty for a smooth curve.
_SHOWN = torch.nonzero((Z_GRID >= Z_SHOWN[0]) & (Z_GRID <= Z_SHOWN[1])).flatten()[::2]


def _shown(values):
    """The drawn points of a curve on Z_GRID, as NumPy (matplotlib iterates tensors element by element)."""
    return values[_SHOWN].numpy()



def _few_ticks(ax):
    """At most five ticks per axis: a small figure stays readable."""
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))


def gaussian_kl_curves(mean_p, std_p, mean_q, std_q, z=Z_GRID):
    """Densities of p = N(mean_p, std_p^2) and q = N(mean_q, std_q^2) on `z`, the integrands of both KLs, both KLs.

    Returns: dict of (len(z),) tensors "p", "q", "integrand_pq" = p log(p/q) (its integral is KL(p||q)) and
        "integrand_qp" = q log(q/p), and the floats "kl_pq" = KL(p||q) and "kl_qp" = KL(q||p), in closed form.
    Introduced in notebooks/02_kl_divergence.ipynb.
    """
    log_p, log_q = (distributions.normal_log_prob(z, mean, std, dtype=torch.float64)
                    for mean, std in ((mean_p, std_p), (mean_q, std_q)))
    p, q = log_p.exp(), log_q.exp()
    kl = lambda a, b: distributions.normal_kl(*a, *b, dtype=torch.float64).item()  # noqa: E731  (2.3)
    return {"p": p, "q": q, "integrand_pq": p * (log_p - log_q), "integrand_qp": q * (log_q - log_p),
            "kl_pq": kl((mean_p, std_p), (mean_q, std_q)), "kl_qp": kl((mean_q, std_q), (mean_p, std_p))}


def gaussian_kl_readout(mean_p, std_p, mean_q, std_q):
    curves = gaussian_kl_curves(mean_p, std_p, mean_q, std_q)
    return {"KL(p||q)": curves["kl_pq"], "KL(q||p)": curves["kl_qp"]}


def gaussian_kl_still(mean_p, std_p, mean_q, std_q):
    """The explorer's figure at one setting, drawn by matplotlib (for viewers without JavaScript)."""
    figure = new_figure(8, 3.2)
    ax_density, ax_integrand = figure.subplots(1, 2)
    curves = gaussian_kl_curves(mean_p, std_p, mean_q, std_q)
    z = _shown(Z_GRID)
    ax_density.plot(z, _shown(curves["p"]), color="tab:blue", lw=2, label="p")
    ax_density.plot(z, _shown(curves["q"]), color="tab:orange", lw=2, ls="--", label="q")
    ax_integrand.plot(z, _shown(curves["integrand_pq"]), color="tab:blue", lw=2)
    ax_integrand.plot(z, _shown(curves["integrand_qp"]), color="tab:orange", lw=2, ls="--")
    ax_integrand.axhline(0, color="grey", lw=0.5)
    ax_density.set(xlim=Z_SHOWN, xlabel="z", ylabel="density")
    ax_integrand.set(xlim=Z_SHOWN, xlabel="z", ylabel="p log(p/q)  and  q log(q/p)")
    _few_ticks(ax_density)
    _few_ticks(ax_integrand)
    ax_density.legend(loc="upper left", fontsize="small")
    ax_density.set_ylim(0, nice_limit(1.35 * max(curves["p"].max().item(), curves["q"].max().item())))
    ax_integrand.set_title(f"area under blue p log(p/q): KL(p||q) = {curves['kl_pq']:.3g}\n"
                           f"area under orange q log(q/p): KL(q||p) = {curves['kl_qp']:.3g}", fontsize="medium")
    return figure


def gaussian_kl_explorer(mean_p=0.0, std_p=1.0, mean_q=1.0, std_q=0.5):
    """Sliders for two Gaussians p and q; their densities, the integrands of KL(p||q) and KL(q||p), both KLs live,
    computed in the page (page_plot.js mirrors gaussian_kl_curves)."""
    controls = [slider_control("mean_p", "mean of p", -3.0, 3.0, mean_p, 0.1),
                slider_control("std_p", "std of p", 0.2, 3.0, std_p, 0.05),
                slider_control("mean_q", "mean of q", -3.0, 3.0, mean_q, 0.1),
                slider_control("std_q", "std of q", 0.2, 3.0, std_q, 0.05)]
    return PageFigure("gaussian_kl", controls, gaussian_kl_readout, gaussian_kl_still,
                      data={"z_grid": list(Z_GRID_SPEC), "z_shown": list(Z_SHOWN)},
                      description="two Gaussians p and q, and the integrands of both KL divergences")


def mixture_log_prob(z, separation, std=MIXTURE_STD):
    """Return log p(z) of p = 1/2 N(-separation/2, std^2) + 1/2 N(separation/2, std^2), elementwise (logsumexp).

    Introduced in notebooks/02_kl_divergence.ipynb.
    """
    peaks = torch.stack([distributions.normal_log_prob(z, centre, std, dtype=torch.float64)
                         for centre in (-separation / 2, separation / 2)])
    return torch.logsumexp(peaks, dim=0) - math.log(2)


def mixture_fit_curves(mean_q, std_q, separation, z=Z_GRID):
    """Densities of the two-peaked p and of q = N(mean_q, std_q^2) on `z`, and both KLs by the trapezoid rule.

    Returns: dict of (len(z),) tensors "p", "q", and the floats "kl_pq" = KL(p||q) (forward: what moment matching
        minimises) and "kl_qp" = KL(q||p) (reverse: what variational inference minimises).
    Introduced in notebooks/02_kl_divergence.ipynb.
    """
    log_p = mixture_log_prob(z, separation)
    log_q = distributions.normal_log_prob(z, mean_q, std_q, dtype=torch.float64)
    p, q = log_p.exp(), log_q.exp()
    return {"p": p, "q": q, "kl_pq": torch.trapezoid(p * (log_p - log_q), z).item(),
            "kl_qp": torch.trapezoid(q * (log_q - log_p), z).item()}


# The landscape of both KLs over q = N(mu, sigma^2): the means and log-widths the sliders reach.
MAP_MEANS_SPEC = (-4.0, 4.0, 41)  # linspace's arguments, which the page gets too
MAP_LOG_STDS_SPEC = (math.log(0.2), math.log(4.0), 31)
MAP_MEANS = torch.linspace(*MAP_MEANS_SPEC, dtype=torch.float64)
MAP_LOG_STDS = torch.linspace(*MAP_LOG_STDS_SPEC, dtype=torch.float64)
# E_q[log p] is taken on standardised nodes z = mu + sigma * t, by the trapezoid rule in t: log p has a near-kink
# between the peaks (where the nearer peak changes), which Gauss-Hermite quadrature resolves poorly for a wide q.
_T_NODES_SPEC = (-8.0, 8.0, 321)
_T_NODES = torch.linspace(*_T_NODES_SPEC, dtype=torch.float64)
_T_WEIGHTS = distributions.normal_log_prob(_T_NODES, 0.0, 1.0, dtype=torch.float64).exp() * (_T_NODES[1] - _T_NODES[0])


@functools.lru_cache(maxsize=128)
def _landscape_on_the_explorer_grid(separation):
    """The maps and their minima on the explorer's grid, kept: a slider often comes back to a separation."""
    maps = mixture_kl_maps(separation)
    return maps, {direction: kl_minima(separation, direction, maps[direction]) for direction in maps}


def mixture_kl(means, log_stds, separation, direction):
    """KL between the two-peaked p and q = N(mean, exp(log_std)^2), elementwise over broadcast means and log_stds.

    Forward, in closed form up to p's entropy: KL(p||q) = -H(p) + log(sqrt(2 pi) sigma) + (Var_p + (E_p z - mu)^2)
    / (2 sigma^2), the moment-matching form (2.5). Reverse: KL(q||p) = -H(q) - E_q[log p(z)], the expectation by
    the trapezoid rule on z = mu + sigma t, t in [-8, 8].
    Args: direction "forward" (KL(p||q)) or "reverse" (KL(q||p)). Returns: float64 tensor, in nats.
    Introduced in notebooks/02_kl_divergence.ipynb.
    """
    means, log_stds = torch.broadcast_tensors(torch.as_tensor(means, dtype=torch.float64),
                                              torch.as_tensor(log_stds, dtype=torch.float64))
    if direction == "forward":
        log_p = mixture_log_prob(Z_GRID, separation)
        entropy_p = -torch.trapezoid(log_p.exp() * log_p, Z_GRID)
        variance_p = MIXTURE_STD**2 + separation**2 / 4  # each peak's variance plus the spread of the centres
        return (-entropy_p + 0.5 * math.log(2 * math.pi) + log_stds
                + (variance_p + means**2) / (2 * (2 * log_stds).exp()))
    if direction == "reverse":
        z = means[..., None] + log_stds.exp()[..., None] * _T_NODES  # (..., nodes)
        expected_log_p = (mixture_log_prob(z, separation) * _T_WEIGHTS).sum(-1)
        return -(0.5 * math.log(2 * math.pi * math.e) + log_stds) - expected_log_p
    raise ValueError(f'direction must be "forward" or "reverse", got {direction!r}')


def mixture_kl_maps(separation, means=MAP_MEANS, log_stds=MAP_LOG_STDS):
    """Both KLs (mixture_kl) for every (log_std, mean) of a grid.

    Returns: dict "forward", "reverse" of (len(log_stds), len(means)) float64 tensors, in nats.
    Introduced in notebooks/02_kl_divergence.ipynb.
    """
    return {direction: mixture_kl(means[None, :], log_stds[:, None], separation, direction)
            for direction in ("forward", "reverse")}


def local_minima(values):
    """(row, column) of every interior grid point strictly below its eight neighbours: candidate minima."""
    centre = values[1:-1, 1:-1]
    lower = torch.ones_like(centre, dtype=torch.bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                lower &= centre < values[1 + dr:values.shape[0] - 1 + dr, 1 + dc:values.shape[1] - 1 + dc]
    return [(row + 1, column + 1) for row, column in torch.nonzero(lower).tolist()]


def kl_minima(separation, direction, values=None, tolerance=4e-3):
    """The local minima of a KL over (mu, log sigma), as [(mean, std, KL)], sorted by mean.

    A grid point below its eight neighbours is only a candidate: in a long, shallow valley the grid can show a
    minimum where descent would slide on. So each candidate descends by compass search (step to the lowest of its
    eight neighbours at the current step, halve the step when none is lower, from half a grid cell down to
    `tolerance`), and candidates that arrive at the same point count once.
    Args: values, the map on MAP_MEANS x MAP_LOG_STDS, if already made.
    Introduced in notebooks/02_kl_divergence.ipynb.
    """
    values = mixture_kl_maps(separation)[direction] if values is None else values
    cells = local_minima(values)
    if not cells:
        return []
    point = torch.tensor([[MAP_MEANS[c].item(), MAP_LOG_STDS[r].item()] for r, c in cells], dtype=torch.float64)
    # Half-cell first steps: near the separation where a basin is born it is smaller than a cell.
    step = torch.full((len(cells),), (MAP_MEANS[1] - MAP_MEANS[0]).item() / 2, dtype=torch.float64)
    moves = torch.tensor([[a, b] for a in (-1, 0, 1) for b in (-1, 0, 1)], dtype=torch.float64)  # (9, 2), centre 4
    while (step > tolerance).any():
        trial = point[:, None, :] + step[:, None, None] * moves  # (candidates, 9, 2)
        best = mixture_kl(trial[..., 0], trial[..., 1], separation, direction).argmin(-1)
        stay = best == 4
        point = torch.where(stay[:, None], point, trial[torch.arange(len(cells)), best])
        step = torch.where(stay, step / 2, step)
    found = []
    for mean, log_std in point.tolist():
        if all(abs(mean - m) > 10 * tolerance or abs(math.log(std) - log_std) > 10 * tolerance
               for m, std, _ in found):
            value = mixture_kl(mean, log_std, separation, direction).item()
            found.append((mean, math.exp(log_std), value))
    return sorted(found)


COLOUR_RANGE = (0.01, 30.0)  # nats: the maps' fixed logarithmic colour scale, the same for every separation


def mixture_fit_readout(mean_q, std_q, separation):
    curves = mixture_fit_curves(mean_q, std_q, separation)
    _, found_minima = _landscape_on_the_explorer_grid(float(separation))
    return {"KL(p||q)": curves["kl_pq"], "KL(q||p)": curves["kl_qp"],
            "minima of KL(p||q)": len(found_minima["forward"]), "minima of KL(q||p)": len(found_minima["reverse"])}


def mixture_fit_explorer(mean_q=0.0, std_q=1.0, separation=4.0):
    """Sliders for q's mean and width and for the distance between p's peaks: the densities, and both KLs as maps
    over (mu, log sigma) with their local minima marked, so the reverse KL's extra minima appear and vanish. The
    page computes all of it (page_plot.js mirrors mixture_fit_curves, mixture_kl_maps and kl_minima)."""
    controls = [slider_control("mean_q", "mean μ of q", -4.0, 4.0, mean_q, 0.05),
                slider_control("std_q", "std σ of q", 0.2, 4.0, std_q, 0.05),
                slider_control("separation", "distance between p's peaks", 0.0, 6.0, separation, 0.1)]
    palette = (matplotlib.colormaps["viridis"](range(256), bytes=True)).tolist()  # RGBA, 0-255
    data = {"z_grid": list(Z_GRID_SPEC), "z_shown": list(Z_SHOWN), "mixture_std": MIXTURE_STD,
            "map_means": list(MAP_MEANS_SPEC), "map_log_stds": list(MAP_LOG_STDS_SPEC), "t_nodes": list(_T_NODES_SPEC),
            "palette": palette, "colour_range": list(COLOUR_RANGE)}
    return PageFigure("mixture_fit", controls, mixture_fit_readout, mixture_fit_still, data=data,
                      description="a Gaussian q against a two-peaked p, and both KLs over q's mean and log width")


def mixture_fit_still(mean_q, std_q, separation):
    """The explorer's figure at one setting, drawn by matplotlib (for viewers without JavaScript)."""
    figure = new_figure(11, 3.3)
    ax, *map_axes = figure.subplots(1, 3, width_ratios=[1.2, 1, 1])
    z, zeros = _shown(Z_GRID), _shown(torch.zeros_like(Z_GRID))
    fill = ax.fill_between(z, zeros, zeros, color="tab:blue", alpha=0.3, label="p (two peaks)")
    line_p = ax.plot(z, zeros, color="tab:blue", lw=2)[0]
    line_q = ax.plot(z, zeros, color="tab:orange", lw=2, ls="--", label="q = N(μ, σ²)")[0]
    ax.set(xlim=Z_SHOWN, xlabel="z", ylabel="density")
    _few_ticks(ax)
    ax.legend(loc="upper left", fontsize="small")
    title = ax.set_title(" ", fontsize="medium")
    extent = (MAP_MEANS[0].item(), MAP_MEANS[-1].item(), MAP_LOG_STDS[0].item(), MAP_LOG_STDS[-1].item())
    images, minima, markers = {}, {}, {}
    for map_ax, key, name in zip(map_axes, ("forward", "reverse"), ("forward KL(p||q)", "reverse KL(q||p)")):
        # One fixed colour scale for every separation, so colours compare across moves; white crosses: local minima.
        images[key] = map_ax.imshow(torch.ones(len(MAP_LOG_STDS), len(MAP_MEANS)).numpy(), origin="lower",
                                    extent=extent, aspect="auto", cmap="viridis_r", norm=LogNorm(*COLOUR_RANGE),
                                    interpolation="bilinear")
        minima[key] = map_ax.plot([], [], "x", color="white", ms=9, mew=2.5)[0]
        markers[key] = map_ax.plot([], [], "o", color="tab:orange", mec="black", ms=8)[0]
        map_ax.set(xlabel="mean μ of q", title=name)
        _few_ticks(map_ax)
    map_axes[0].set_ylabel("log σ of q")
    figure.colorbar(images["reverse"], ax=map_axes, label="nats", shrink=0.9)

    def update(mean_q, std_q, separation):
        curves = mixture_fit_curves(mean_q, std_q, separation)
        line_p.set_ydata(_shown(curves["p"]))
        line_q.set_ydata(_shown(curves["q"]))
        fill.set_data(z, zeros, _shown(curves["p"]))
        # Coarse steps (1, 2, 5), as the page rounds the limit.
        ax.set_ylim(0, nice_limit(1.1 * max(curves["p"].max().item(), curves["q"].max().item()), steps=(1, 2, 5)))
        title.set_text(f"forward {curves['kl_pq']:.3f}, reverse {curves['kl_qp']:.3f} nats")
        maps, found_minima = _landscape_on_the_explorer_grid(float(separation))
        found = {}
        for key, values in maps.items():
            images[key].set_data(values.clamp(min=0.01).numpy())
            minima[key].set_data([mean for mean, _, _ in found_minima[key]],
                                 [math.log(std) for _, std, _ in found_minima[key]])
            markers[key].set_data([mean_q], [math.log(std_q)])
            found[key] = len(found_minima[key])
        return {"KL(p||q)": curves["kl_pq"], "KL(q||p)": curves["kl_qp"],
                "minima of KL(p||q)": found["forward"], "minima of KL(q||p)": found["reverse"]}

    update(mean_q, std_q, separation)
    return figure


EXPLORERS = {"gaussian_kl": gaussian_kl_explorer, "mixture_fit": mixture_fit_explorer}
