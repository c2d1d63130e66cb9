"""Notebook 04's explorer: score-function and pathwise estimates of the same gradient, drawn as live histograms.

The gradient is that of E_q[f(z)] with q = N(mu, sigma^2), with respect to mu or sigma. Each estimate averages
num_samples draws; many repeated estimates show how much each estimator scatters around the exact gradient.
"""

import math

import torch

from vae_helpers import seeded
from vae_helpers.distributions import standard_normal_log_prob
from vae_helpers.widgets import new_figure, nice_limit
from vae_helpers.widgets.page_figure import PageFigure, checkbox_control, choice_control, slider_control

# name: (label, f, f'), each a function of a float64 tensor z. The step has f' = 0 wherever it is defined.
TEST_FUNCTIONS = {
    "square": ("f(z) = z²", lambda z: z**2, lambda z: 2 * z),
    "sin": ("f(z) = sin(z)", torch.sin, torch.cos),
    # Wiggles fast: its slope swings between ±5 while f stays within ±1, so the score function can win (04).
    "sin5": ("f(z) = sin(5z)", lambda z: torch.sin(5 * z), lambda z: 5 * torch.cos(5 * z)),
    "exp": ("f(z) = exp(z/2)", lambda z: torch.exp(z / 2), lambda z: torch.exp(z / 2) / 2),
    "step": ("f(z) = 1 if z > 0 else 0", lambda z: (z > 0).to(z.dtype), torch.zeros_like),
}
NUM_REPEATS = 500  # estimates per histogram
NUM_BINS = 40
NOISE_SEED = 0  # the explorer's noise: vae_helpers.seeded, which the page draws too
SAMPLE_COUNTS = (1, 4, 16, 64, 256)


def exact_gradient(name, mu, sigma):
    """Return the exact gradient (d/dmu, d/dsigma) of E_q[f(z)], q = N(mu, sigma^2), from E_q[f(z)] in closed form.

    E[z^2] = mu^2 + sigma^2;  E[sin(w z)] = sin(w mu) exp(-w^2 sigma^2/2) for w = 1 and 5;
    E[exp(z/2)] = exp(mu/2 + sigma^2/8);
    E[1(z > 0)] = Phi(mu/sigma), the standard normal CDF.
    Returns: (2,) float64 tensor.
    Introduced in notebooks/04_the_reparameterization_trick.ipynb.
    """
    if name not in TEST_FUNCTIONS:
        raise ValueError(f"name must be one of {sorted(TEST_FUNCTIONS)}, got {name!r}")
    if name == "square":
        gradient = (2 * mu, 2 * sigma)
    elif name in ("sin", "sin5"):
        w = 1.0 if name == "sin" else 5.0
        damping = math.exp(-(w * sigma) ** 2 / 2)
        gradient = (w * math.cos(w * mu) * damping, -(w**2) * sigma * math.sin(w * mu) * damping)
    elif name == "exp":
        mean = math.exp(mu / 2 + sigma**2 / 8)
        gradient = (mean / 2, sigma * mean / 4)
    else:
        density = math.exp(standard_normal_log_prob(torch.tensor([mu / sigma], dtype=torch.float64)).item())  # N(mu/sigma; 0, 1)
        gradient = (density / sigma, -mu * density / sigma**2)
    return torch.tensor(gradient, dtype=torch.float64)


def gradient_draws(name, mu, sigma, eps, baseline=False):
    """Estimate the gradient of E_q[f(z)] with the score-function and the pathwise estimator, one per row of eps.

    With z = mu + sigma * eps:
        score function (eq. 4.2):  mean of (f(z) - b) * d/dphi log q(z), where d/dmu log q = eps / sigma and
                                   d/dsigma log q = (eps^2 - 1) / sigma; b = f(mu) with baseline=True, else 0
        pathwise (eq. 4.5):        mean of f'(z) * dz/dphi, where dz/dmu = 1 and dz/dsigma = eps
    Args:
        name: a key of TEST_FUNCTIONS. mu, sigma: floats. eps: (R, K) float64 standard normal noise, K samples
            for each of R estimates.
        baseline: subtract b = f(mu), a constant, which keeps the score-function estimator unbiased (eq. 4.4).
    Returns: dict "score", "pathwise" of (R, 2) float64 tensors, columns (d/dmu, d/dsigma).
    Introduced in notebooks/04_the_reparameterization_trick.ipynb.
    """
    _, f, f_prime = TEST_FUNCTIONS[name]
    z = mu + sigma * eps  # (R, K)
    weight = f(z) - (f(torch.tensor(mu, dtype=eps.dtype)) if baseline else 0.0)
    score = torch.stack([(weight * eps).mean(-1), (weight * (eps**2 - 1)).mean(-1)], dim=-1) / sigma
    slope = f_prime(z)
    pathwise = torch.stack([slope.mean(-1), (slope * eps).mean(-1)], dim=-1)
    return {"score": score, "pathwise": pathwise}


def histogram_counts(first, second, exact, num_bins=NUM_BINS):
    """Count two sets of draws in shared bins that cover the bulk of both and the exact value.

    Edges span the 0.5% to 99.5% quantiles of all draws together (a heavy tail would squash everything else into
    one bin), widened to include `exact` and then out to round numbers; draws outside are left out.
    Args: first, second: (R,) draws. exact: float.
    Returns: edges (num_bins + 1,), counts of first (num_bins,), counts of second (num_bins,), all float64.
    Introduced in notebooks/04_the_reparameterization_trick.ipynb.
    """
    both = torch.cat([first, second])
    low, high = torch.quantile(both, torch.tensor([0.005, 0.995], dtype=both.dtype)).tolist()
    low, high = min(low, exact), max(high, exact)
    pad = 0.05 * (high - low) if high > low else 0.5  # all draws equal: a unit-wide window around them
    low, high = low - pad, high + pad
    # Out to round numbers (multiples of a 1-2-5 step, about a quarter of the width): a small change of the
    # draws then leaves the window, and so the explorer's axes, as they are, and the histogram does not jitter.
    step = nice_limit((high - low) / 4, steps=(1, 2, 5))
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    edges = torch.linspace(low, high, num_bins + 1, dtype=torch.float64)

    def counts(draws):  # torch.histc would do, but it takes about 10 ms on these 500 numbers
        inside = draws[(draws >= low) & (draws <= high)]
        index = ((inside - low) / (high - low) * num_bins).long().clamp(max=num_bins - 1)
        return torch.bincount(index, minlength=num_bins).to(torch.float64)

    return edges, counts(first), counts(second)


def gradient_estimates(name, mu, sigma, num_samples, baseline, wrt):
    """The explorer's NUM_REPEATS estimates of each kind, for the gradient `wrt` (0: d/dmu, 1: d/dsigma), and the
    exact value. The same noise for the same K: a slider move changes the picture only through its own effect."""
    eps = seeded.standard_normal(NOISE_SEED, (NUM_REPEATS, num_samples))
    draws = gradient_draws(name, mu, sigma, eps, baseline)
    return draws["score"][:, wrt], draws["pathwise"][:, wrt], exact_gradient(name, mu, sigma)[wrt].item()


def gradient_readout(name, mu, sigma, num_samples, baseline, wrt):
    score, pathwise, exact = gradient_estimates(name, mu, sigma, num_samples, baseline, wrt)
    return {"exact": exact, "score mean": score.mean().item(), "score std": score.std().item(),
            "pathwise mean": pathwise.mean().item(), "pathwise std": pathwise.std().item()}


def gradient_explorer(name="square", mu=1.5, sigma=0.5, num_samples=4, baseline=False, wrt=0):
    """Controls for f, mu, sigma, the samples per estimate and a baseline; both histograms update live, computed
    in the page (page_plot.js mirrors gradient_draws, exact_gradient and histogram_counts, with the same noise)."""
    controls = [choice_control("name", "f", [(label, key) for key, (label, _, _) in TEST_FUNCTIONS.items()], name,
                               kind="select"),
                slider_control("mu", "mean μ", -2.0, 2.0, mu, 0.05),
                slider_control("sigma", "width σ", 0.1, 2.0, sigma, 0.05),
                choice_control("num_samples", "samples K", [(str(n), n) for n in SAMPLE_COUNTS], num_samples),
                checkbox_control("baseline", "baseline b = f(μ) for the score function", baseline),
                choice_control("wrt", "gradient", [("∂/∂μ", 0), ("∂/∂σ", 1)], wrt)]
    data = {"repeats": NUM_REPEATS, "bins": NUM_BINS, "seed": NOISE_SEED,
            "labels": {key: label for key, (label, _, _) in TEST_FUNCTIONS.items()}}
    return PageFigure("gradients", controls, gradient_readout, gradient_still, data=data,
                      description="histograms of score-function and pathwise gradient estimates, and the exact gradient")


def gradient_still(name, mu, sigma, num_samples, baseline, wrt):
    """The explorer's figure at one setting, drawn by matplotlib (for viewers without JavaScript)."""
    figure = new_figure(7, 3.2)
    ax = figure.add_subplot()
    zero_edges, zero_counts = torch.linspace(0, 1, NUM_BINS + 1).numpy(), torch.zeros(NUM_BINS).numpy()
    score_steps = ax.stairs(zero_counts, zero_edges, fill=True, alpha=0.45, color="tab:orange")
    path_steps = ax.stairs(zero_counts, zero_edges, fill=True, alpha=0.6, color="tab:blue")
    exact_line = ax.axvline(0.0, color="black", lw=1.5, linestyle="--")
    # Coloured words instead of a legend, as the page draws them.
    labels = [ax.text(0.98, 0.95 - 0.08 * row, text, color=color, transform=ax.transAxes, ha="right", va="top",
                      fontsize="small", fontweight="bold")
              for row, (text, color) in enumerate([("score function", "tab:orange"), ("pathwise", "tab:blue"),
                                                   ("dashed: exact gradient", "black")])]
    ax.set(ylabel=f"count of {NUM_REPEATS} estimates")
    # A text under the axes, set by update() below.
    x_label = ax.text(0.5, -0.13, " ", transform=ax.transAxes, ha="center", va="top")

    def update(name, mu, sigma, num_samples, baseline, wrt):
        score, pathwise, exact = gradient_estimates(name, mu, sigma, num_samples, baseline, wrt)
        edges, score_counts, path_counts = histogram_counts(score, pathwise, exact)
        # NumPy arrays for matplotlib: it iterates a tensor element by element, which is slow
        score_steps.set_data(score_counts.numpy(), edges.numpy())
        path_steps.set_data(path_counts.numpy(), edges.numpy())
        exact_line.set_xdata([exact, exact])
        ax.set_xlim(edges[0].item(), edges[-1].item())
        # Headroom for the labels; a round limit, as the page rounds it.
        ax.set_ylim(0, nice_limit(1.3 * max(score_counts.max().item(), path_counts.max().item())))
        labels[0].set_text("score function" + (" with baseline f(μ)" if baseline else ""))
        parameter = "μ" if wrt == 0 else "σ"
        x_label.set_text(f"estimates of ∂/∂{parameter} E_q[f(z)], {TEST_FUNCTIONS[name][0]}, K = {num_samples}")

    update(name, mu, sigma, num_samples, baseline, wrt)
    return figure


EXPLORERS = {"gradients": gradient_explorer}
