"""Notebook 01's explorer: prior, likelihood and posterior of the conjugate model, redrawn as sliders move."""

import torch

from vae_helpers import conjugate
from vae_helpers.widgets import LiveFigure, new_figure, slider

Z_GRID = torch.linspace(-6.0, 6.0, 601, dtype=torch.float64)


def posterior_curves(x, noise_std, prior_std, z=Z_GRID):
    """Prior p(z), likelihood p(x|z) as a function of z, and posterior p(z|x) on the grid `z`.

    The posterior is prior x likelihood divided by the evidence, which is integrated numerically on the grid:
    exactly what notebook 01 does by hand before using the closed form.
    Returns: dict of (len(z),) tensors "prior", "likelihood", "posterior", and the float "evidence" = p(x).
    """
    prior = torch.exp(conjugate.log_prior(z, prior_std))
    likelihood = torch.exp(conjugate.log_likelihood(x, z, noise_std))
    evidence = torch.trapezoid(prior * likelihood, z)
    return {"prior": prior, "likelihood": likelihood, "posterior": prior * likelihood / evidence,
            "evidence": evidence.item()}


def posterior_explorer(x=1.5, noise_std=0.8, prior_std=1.0):
    """Sliders for the observed x, the noise s and the prior width; the three curves and p(x) update live."""
    figure = new_figure(7, 3)
    ax = figure.add_subplot()
    styles = {"prior": ("prior p(z)", "tab:blue", "--"), "likelihood": ("likelihood p(x|z)", "tab:orange", ":"),
              "posterior": ("posterior p(z|x)", "tab:green", "-")}
    lines = {key: ax.plot(Z_GRID, torch.zeros_like(Z_GRID), color=color, linestyle=style, lw=2, label=label)[0]
             for key, (label, color, style) in styles.items()}
    observed = ax.axvline(x, color="grey", lw=1)
    ax.set(xlim=(Z_GRID[0].item(), Z_GRID[-1].item()), xlabel="z", ylabel="density")
    ax.legend(loc="upper left", fontsize="small")

    def update(x, noise_std, prior_std):
        curves = posterior_curves(x, noise_std, prior_std)
        for key, line in lines.items():
            line.set_ydata(curves[key])
        observed.set_xdata([x, x])
        ax.set_ylim(0, 1.1 * max(curves[key].max().item() for key in lines))
        mean, std = conjugate.posterior(x, prior_std, noise_std)
        return {"p(x)": curves["evidence"], "posterior mean": mean.item(), "posterior std": std.item()}

    controls = {
        "x": slider("observed x", -4.0, 4.0, x, 0.1),
        "noise_std": slider("noise s", 0.1, 3.0, noise_std, 0.05),
        "prior_std": slider("prior width", 0.2, 3.0, prior_std, 0.05),
    }
    return LiveFigure(figure, update, controls)


EXPLORERS = {"posterior": posterior_explorer}
