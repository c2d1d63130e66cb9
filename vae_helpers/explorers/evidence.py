"""Notebook 01's second explorer: naive Monte Carlo estimates of log p(x) falling apart as the posterior narrows.

The model is the linear decoder of vae_helpers.linear_gaussian, whose log p(x) is exact in any dimension D, so the
error of every estimate is known. Left: prior samples in the plane of z[0] and z[1], orange where they fall inside
the posterior's 95% region (in all D dimensions), and the edge of that region's (z[0], z[1]) marginal. Right: the
running estimate from the first k samples, for a few independent sets of samples, against the exact value.
"""

import torch
from matplotlib.ticker import NullLocator

from vae_helpers import linear_gaussian, seeded
from vae_helpers.widgets import new_figure
from vae_helpers.widgets.page_figure import PageFigure, slider_control

NUM_SAMPLES = 1000  # K, prior samples per estimate (as in notebook 01)
NUM_RUNS = 5  # independent estimates drawn on the right; the first one's samples are the dots on the left
VIEW = (-4.0, 4.0)
# At the sliders' far end (s = 0.1, D = 16) the errors reach tens of thousands of nats: the first samples' estimates
# often leave the plot below -20,000, and those from all 1,000 samples end between about -1,000 and -4,000.
ERROR_RANGE = (-20_000.0, 5.0)
ERROR_TICKS = (-10_000, -1000, -100, -10, -1, 0, 1)
# The samples' seeds (of vae_helpers.seeded, which the page draws too) start here: seed k of the "New samples" button
# is SAMPLE_SEED_BASE + k. W and x come from torch's generator (linear_gaussian) and reach the page as numbers.
SAMPLE_SEED_BASE = 1_000
OBSERVATION_SEED = 1  # linear_gaussian.observation's default seed


def naive_monte_carlo(latent_dim, noise_std, seed=0, num_samples=NUM_SAMPLES, num_runs=NUM_RUNS):
    """Everything the explorer draws, for the linear decoder with D = latent_dim and noise s = noise_std.

    Returns a dict: "z" (num_runs, K, D) prior samples; "running" (num_runs, K) running estimates of log p(x);
    "log_evidence", the exact value (1.5); "inside" (K,), which of the first run's samples lie in the posterior's
    95% region; "ellipse" (100, 2), the edge of that region's marginal over (z[0], z[1]); "largest_weight", the
    share of the first run's sum of p(x | z_k) that its largest term carries.
    """
    W = linear_gaussian.weights(latent_dim)
    x = linear_gaussian.observation(W, noise_std)
    z = seeded.standard_normal(SAMPLE_SEED_BASE + seed, (num_runs, num_samples, latent_dim))
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


def naive_monte_carlo_readout(noise_std, latent_dim, seed=0):
    result = naive_monte_carlo(latent_dim, noise_std, seed=seed)
    exact, estimate = result["log_evidence"], result["running"][0, -1].item()
    return {"exact log p(x)": exact, f"estimate (K = {NUM_SAMPLES})": estimate, "error": estimate - exact,
            "largest weight": result["largest_weight"], "share inside": result["inside"].double().mean().item()}


def naive_monte_carlo_explorer(noise_std=2.0, latent_dim=2):
    """Sliders for the noise s and the latent dimension D, and a button for new prior samples. The page computes
    it all (page_plot.js mirrors naive_monte_carlo and linear_gaussian's formulas) from W and x's draws, sent once."""
    W = linear_gaussian.weights(linear_gaussian.MAX_LATENT_DIM)
    z_true, noise = [], []  # what observation() draws for each D (the same generator, so D changes them)
    for dim in range(1, linear_gaussian.MAX_LATENT_DIM + 1):
        generator = torch.Generator().manual_seed(OBSERVATION_SEED)
        z_true.append(torch.nn.functional.pad(torch.randn(dim, generator=generator, dtype=torch.float64),
                                              (0, linear_gaussian.MAX_LATENT_DIM - dim)))
        noise.append(torch.randn(linear_gaussian.DATA_DIM, generator=generator, dtype=torch.float64))
    chi2 = {dim: linear_gaussian.chi2_quantile(0.95, dim) for dim in range(1, linear_gaussian.MAX_LATENT_DIM + 1)}
    data = {"data_dim": linear_gaussian.DATA_DIM, "max_latent_dim": linear_gaussian.MAX_LATENT_DIM,
            "num_samples": NUM_SAMPLES, "num_runs": NUM_RUNS, "seed_base": SAMPLE_SEED_BASE, "chi2_95": chi2,
            "view": list(VIEW), "error_range": list(ERROR_RANGE), "error_ticks": list(ERROR_TICKS)}
    controls = [slider_control("noise_std", "noise s", 0.1, 3.0, noise_std, 0.05),
                slider_control("latent_dim", "latent dimension D", 2, linear_gaussian.MAX_LATENT_DIM, latent_dim, 1)]
    return PageFigure("naive_monte_carlo", controls, naive_monte_carlo_readout,
                      naive_monte_carlo_still, data=data, actions={"New samples": "seed"},
                      arrays={"W": W, "z_true": torch.stack(z_true), "noise": torch.stack(noise)},
                      description="prior samples against the posterior's 95% region, and the naive estimates' errors")


def naive_monte_carlo_still(noise_std, latent_dim, seed=0):
    """The explorer's figure at one setting, drawn by matplotlib (for viewers without JavaScript)."""
    figure = new_figure(9.5, 4.1)
    samples_ax, running_ax = figure.subplots(1, 2, width_ratios=(1, 1.6))
    outside_dots = samples_ax.plot([], [], ".", color="black", ms=2, label="prior sample")[0]
    inside_dots = samples_ax.plot([], [], ".", color="tab:orange", ms=4, label="inside the posterior's 95%")[0]
    edge = samples_ax.plot([], [], color="darkgreen", lw=2, label="95% of its (z₀, z₁) marginal")[0]
    samples_ax.set(xlim=VIEW, ylim=VIEW, aspect="equal", xlabel="z₀", ylabel="z₁")
    # Below the plane, not over it: a legend over the dots would hide some of them.
    samples_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize="x-small", frameon=False)
    # The error, not the estimate, on fixed axes: it spans thousands of nats at small s and large D, and fixed
    # ticks keep the axes still while the lines move.
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

    def update(noise_std, latent_dim):
        result = naive_monte_carlo(latent_dim, noise_std, seed=seed)
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

    update(noise_std, latent_dim)
    return figure


EXPLORERS = {"naive_monte_carlo": naive_monte_carlo_explorer}
