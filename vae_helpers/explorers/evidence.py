"""Notebook 01's second explorer: naive Monte Carlo estimates of log p(x) falling apart as the posterior narrows.

The model is the linear decoder of vae_helpers.linear_gaussian, whose log p(x) is exact in any dimension D, so the
error of every estimate is known. Left: prior samples in the plane of z[0] and z[1], orange where they fall inside
the posterior's 95% region (in all D dimensions), and the edge of that region's (z[0], z[1]) marginal. Right: the
running estimate from the first k samples, for a few independent sets of samples, against the exact value.
"""

import ipywidgets as widgets
import torch
from matplotlib.ticker import NullLocator

from vae_helpers import linear_gaussian
from vae_helpers.widgets import LiveFigure, new_figure, slider

NUM_SAMPLES = 1000  # K, prior samples per estimate (as in notebook 01)
NUM_RUNS = 5  # independent estimates drawn on the right; the first one's samples are the dots on the left
VIEW = (-4.0, 4.0)
# The errors reach about -11,000 nats at the sliders' far end (s = 0.1, D = 16); below -10,000 a line leaves the plot
ERROR_RANGE = (-20_000.0, 5.0)
ERROR_TICKS = (-10_000, -1000, -100, -10, -1, 0, 1)
# The samples' seeds start here, clear of the seeds that make W (0) and x (1): with a shared seed, the first prior
# sample would be the very z that made x, and its estimate would land tens of nats too high.
SAMPLE_SEED_BASE = 1_000


def naive_monte_carlo(latent_dim, noise_std, seed=0, num_samples=NUM_SAMPLES, num_runs=NUM_RUNS):
    """Everything the explorer draws, for the linear decoder with D = latent_dim and noise s = noise_std.

    Returns a dict: "z" (num_runs, K, D) prior samples; "running" (num_runs, K) running estimates of log p(x);
    "log_evidence", the exact value (1.5); "inside" (K,), which of the first run's samples lie in the posterior's
    95% region; "ellipse" (100, 2), the edge of that region's marginal over (z[0], z[1]); "largest_weight", the
    share of the first run's sum of p(x | z_k) that its largest term carries.
    """
    W = linear_gaussian.weights(latent_dim)
    x = linear_gaussian.observation(W, noise_std)
    generator = torch.Generator().manual_seed(SAMPLE_SEED_BASE + seed)
    z = torch.randn(num_runs, num_samples, latent_dim, generator=generator, dtype=torch.float64)
    log_likelihoods = linear_gaussian.log_likelihood(W, x, z, noise_std)  # (num_runs, K)
    mean, precision = linear_gaussian.posterior(W, x, noise_std)
    return {
        "z": z,
        "running": linear_gaussian.running_naive_estimates(log_likelihoods),
        "log_evidence": linear_gaussian.log_evidence(W, x, noise_std).item(),
        "inside": linear_gaussian.inside_posterior_region(z[0], mean, precision),
        "ellipse": linear_gaussian.marginal_ellipse(mean, precision),
        "largest_weight": torch.softmax(log_likelihoods[0], dim=0).max().item(),
    }


def naive_monte_carlo_explorer(noise_std=2.0, latent_dim=2):
    """Sliders for the noise s and the latent dimension D, and a button for new prior samples."""
    figure = new_figure(9.5, 4.1)
    samples_ax, running_ax = figure.subplots(1, 2, width_ratios=(1, 1.6))
    outside_dots = samples_ax.plot([], [], ".", color="black", ms=2, label="prior sample")[0]
    inside_dots = samples_ax.plot([], [], ".", color="tab:orange", ms=4, label="inside the posterior's 95%")[0]
    edge = samples_ax.plot([], [], color="darkgreen", lw=2, label="95% of its (z₀, z₁) marginal")[0]
    samples_ax.set(xlim=VIEW, ylim=VIEW, aspect="equal", xlabel="z₀", ylabel="z₁")
    # Below the plane, not over it: a legend over the dots would have to be redrawn at every step (12 ms).
    samples_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize="x-small", frameon=False)
    # The error, not the estimate, on fixed axes: it spans thousands of nats at small s and large D, and fixed
    # ticks keep a redraw quick (matplotlib spends most of a redraw laying out tick labels that changed).
    counts = torch.arange(1, NUM_SAMPLES + 1).numpy()
    runs = [running_ax.plot(counts, counts * 0.0, color="tab:blue", lw=2 if run == 0 else 0.8,
                            alpha=1 if run == 0 else 0.5)[0] for run in range(NUM_RUNS)]
    runs[0].set_label("error of the estimate from the first k samples")
    runs[1].set_label(f"{NUM_RUNS - 1} more independent estimates")
    running_ax.axhline(0.0, color="tab:green", lw=1.5, label="no error: the exact log p(x) of (1.5)")
    running_ax.set_xscale("log")
    running_ax.set_yscale("symlog", linthresh=1.0)
    running_ax.xaxis.set_minor_locator(NullLocator())
    running_ax.yaxis.set_minor_locator(NullLocator())
    running_ax.set_xticks([1, 10, 100, 1000], ["1", "10", "100", "1000"])  # plain text: no mathtext to parse
    running_ax.set_yticks(ERROR_TICKS, [f"{tick:g}".replace("-", "−") for tick in ERROR_TICKS])
    running_ax.set(xlim=(1, NUM_SAMPLES), ylim=ERROR_RANGE, xlabel="samples k",
                   ylabel="estimate − exact log p(x) (nats)")
    running_ax.legend(loc="lower right", fontsize="x-small")
    titles = samples_ax.set_title(" ", fontsize="medium"), running_ax.set_title(" ", fontsize="medium")
    state = {"seed": 0}

    def update(noise_std, latent_dim):
        result = naive_monte_carlo(latent_dim, noise_std, seed=state["seed"])
        plane = result["z"][0, :, :2].numpy()  # the first two coordinates of the first run's samples
        inside = result["inside"].numpy()
        outside_dots.set_data(plane[~inside].T)
        inside_dots.set_data(plane[inside].T)
        edge.set_data(result["ellipse"].numpy().T)
        exact = result["log_evidence"]
        for line, running in zip(runs, result["running"]):
            line.set_ydata((running - exact).numpy())
        share = inside.mean()
        error = result["running"][0, -1].item() - exact
        titles[0].set_text(f"D = {latent_dim}, s = {noise_std:.2f}: {share:.1%} inside")
        titles[1].set_text(f"K = {NUM_SAMPLES}: error {error:+.3g} nats, largest weight {result['largest_weight']:.2f}")
        return {"exact log p(x)": exact, f"estimate (K = {NUM_SAMPLES})": exact + error, "error": error,
                "largest weight": result["largest_weight"], "share inside": share}

    def new_samples():
        state["seed"] += 1

    controls = {
        "noise_std": slider("noise s", 0.1, 3.0, noise_std, 0.05),
        "latent_dim": widgets.IntSlider(value=latent_dim, min=2, max=linear_gaussian.MAX_LATENT_DIM,
                                        description="latent dimension D", continuous_update=True,
                                        style={"description_width": "initial"}, layout=widgets.Layout(width="420px")),
    }
    changing = [outside_dots, inside_dots, edge, *runs, *titles]
    return LiveFigure(figure, update, controls, actions={"New samples": new_samples}, changing=changing)


EXPLORERS = {"naive_monte_carlo": naive_monte_carlo_explorer}
