"""Notebook 01's explorer: prior, likelihood and posterior of the conjugate model, redrawn as sliders move."""

import torch

from vae_helpers import conjugate
from vae_helpers.widgets import new_figure, nice_limit
from vae_helpers.widgets.page_figure import PageFigure, slider_control

# Wider than the plot (z in [-6, 6]) so that the numerical evidence stays exact at every slider setting: with the
# prior width and the noise both at 3, the joint density still has about 3% of its mass outside [-6, 6].
Z_GRID_SPEC = (-15.0, 15.0, 1501)  # linspace's arguments, which the page gets too
Z_GRID = torch.linspace(*Z_GRID_SPEC, dtype=torch.float64)
Z_SHOWN = (-6.0, 6.0)
_SHOWN = (Z_GRID >= Z_SHOWN[0]) & (Z_GRID <= Z_SHOWN[1])


def _shown(values):
    """The part of a curve on Z_GRID that the plot shows, as NumPy (matplotlib iterates tensors element by element)."""
    return values[_SHOWN].numpy()



def trapezoid_log_weights(z):
    """log of the trapezoid rule's weights on the grid `z` (len(z),): integral f dz ~ sum(exp(log f + log w))."""
    gaps = z.diff()
    weights = torch.zeros_like(z)
    weights[:-1] += gaps / 2
    weights[1:] += gaps / 2
    return weights.log()


def posterior_curves(x, noise_std, prior_std, z=Z_GRID):
    """Prior p(z), likelihood p(x|z) as a function of z, and posterior p(z|x) on the grid `z`.

    The posterior is prior x likelihood divided by the evidence p(x), which is integrated numerically on the grid
    (eq. 1.2): exactly what notebook 01 does by hand before using the closed form. The sum is taken in log space,
    so an evidence as small as 1e-300 neither underflows nor loses digits.
    Args:
        x: the observed value; noise_std: s in x|z ~ N(z, s^2); prior_std: the prior's width, z ~ N(0, prior_std^2).
        z: (N,) increasing grid covering the posterior.
    Returns: dict of (N,) tensors "prior", "likelihood", "posterior", and the floats "evidence" = p(x) and
        "log_evidence" = log p(x).
    Introduced in notebooks/01_bayes_rule_and_the_intractable_evidence.ipynb.
    """
    log_prior = conjugate.log_prior(z, prior_std)
    log_likelihood = conjugate.log_likelihood(x, z, noise_std)
    log_joint = log_prior + log_likelihood
    log_evidence = torch.logsumexp(log_joint + trapezoid_log_weights(z), dim=0)
    return {"prior": log_prior.exp(), "likelihood": log_likelihood.exp(), "posterior": (log_joint - log_evidence).exp(),
            "evidence": log_evidence.exp().item(), "log_evidence": log_evidence.item()}


def posterior_readout(x, noise_std, prior_std):
    """The numbers the explorer shows under its figure (the page computes the same, in page_plot.js)."""
    curves = posterior_curves(x, noise_std, prior_std)
    mean, std = conjugate.posterior(x, prior_std, noise_std)
    return {"p(x)": curves["evidence"], "log p(x)": curves["log_evidence"], "posterior mean": mean.item(),
            "posterior std": std.item()}


def posterior_still(x, noise_std, prior_std):
    """The explorer's figure at one setting, drawn by matplotlib (for viewers without JavaScript)."""
    figure = new_figure(7, 3)
    ax = figure.add_subplot()
    styles = {"prior": ("prior p(z)", "tab:blue", "--"), "likelihood": ("likelihood p(x|z)", "tab:orange", ":"),
              "posterior": ("posterior p(z|x)", "tab:green", "-")}
    curves = posterior_curves(x, noise_std, prior_std)
    for key, (label, color, style) in styles.items():
        ax.plot(_shown(Z_GRID), _shown(curves[key]), color=color, linestyle=style, lw=2, label=label)
    ax.axvline(x, color="grey", lw=1, label="observed x")
    ax.set(xlim=Z_SHOWN, ylim=(0, nice_limit(1.1 * max(curves[key].max().item() for key in styles))), xlabel="z",
           ylabel="density")
    ax.legend(loc="upper left", fontsize="small")
    mean, std = conjugate.posterior(x, prior_std, noise_std)
    ax.set_title(f"p(x) = {curves['evidence']:.4g}   posterior N({mean.item():.2f}, {std.item():.2f}²)",
                 fontsize="medium")
    return figure


def posterior_explorer(x=1.5, noise_std=0.8, prior_std=1.0):
    """Sliders for the observed x, the noise s and the prior width; the three curves and p(x) update live, computed
    in the page (page_plot.js mirrors posterior_curves)."""
    controls = [slider_control("x", "observed x", -4.0, 4.0, x, 0.1),
                slider_control("noise_std", "noise s", 0.1, 3.0, noise_std, 0.05),
                slider_control("prior_std", "prior width", 0.2, 3.0, prior_std, 0.05)]
    return PageFigure("posterior", controls, posterior_readout, posterior_still,
                      data={"z_grid": list(Z_GRID_SPEC), "z_shown": list(Z_SHOWN)},
                      description="prior, likelihood and posterior over z, with p(x) in the title")


EXPLORERS = {"posterior": posterior_explorer}
