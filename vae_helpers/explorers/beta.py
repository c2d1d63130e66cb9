"""Notebook 08's explorer: walk along the ladder of beta-VAEs in the rate-distortion plane.

The factory encodes the validation digits with every model of the ladder once, when it is built, so moving the
slider only swaps precomputed pictures and numbers. The numbers come from vae_helpers.diagnostics, which the
notebook computes and checks first.
"""

import ipywidgets as widgets
import numpy as np
import torch

from vae_helpers import data, diagnostics, pretrained
from vae_helpers.distributions import DiagonalGaussian, draw
from vae_helpers.explorers.latent import IMAGE_STYLE, _title, one_thread
from vae_helpers.latent_space import decode_images, encode_images
from vae_helpers.plotting import tile_images
from vae_helpers.widgets import LiveFigure, new_figure

NUM_DIGITS = 8  # validation digits reconstructed, and samples drawn, per model


def ladder_models():
    """{beta: shipped conv VAE trained with that KL weight} for every beta of pretrained.BETA_LADDER."""
    return {beta: pretrained.load_pretrained(pretrained.ladder_name(beta))[0] for beta in pretrained.BETA_LADDER}


@torch.no_grad()
def ladder_summary(models, images, num_digits=NUM_DIGITS, seed=0):
    """What the explorer shows for each model: {beta: dict(rate, distortion, kl_per_dim, active, pictures)}.

    rate and distortion in nats per image over `images` (diagnostics.rate_distortion); kl_per_dim (D,) and the
    number of active dimensions (diagnostics.dimensions_with_kl_above); pictures: the first num_digits images,
    their reconstructions (decoded posterior means) and num_digits samples decoded from codes drawn from each
    model's prior with the same seed (for N(0, I) the same codes), tiled in three rows.
    """
    summary = {}
    for beta, model in models.items():
        rate, distortion = diagnostics.rate_distortion(model, images, seed=seed)
        mu, logvar = encode_images(model, images)
        kl_per_dim = diagnostics.kl_per_dimension(DiagonalGaussian(mu, logvar), model.prior())
        z_prior = draw(model.prior(), (num_digits,), torch.Generator(device=mu.device).manual_seed(seed))
        rows = torch.cat([images[:num_digits].cpu(), decode_images(model, mu[:num_digits]),
                          decode_images(model, z_prior)])
        summary[beta] = {"rate": rate, "distortion": distortion, "kl_per_dim": kl_per_dim.cpu(),
                         "active": len(diagnostics.dimensions_with_kl_above(kl_per_dim)),
                         "pictures": tile_images(rows, ncols=num_digits)}
    return summary


def beta_ladder_explorer(models=None, beta=1.0, images=None):
    """A slider over the ladder's beta values: the model's point in the rate-distortion plane (all others in grey,
    with lines of equal ELBO), its reconstructions and samples, and the KL of each latent dimension.

    models: {beta: VAE} (default: the shipped ladder); images: binary images to score (default: validation split).
    """
    models = models if models is not None else ladder_models()
    if beta not in models:
        raise ValueError(f"beta must be one of the ladder's {sorted(models)}, got {beta!r}")
    images = images if images is not None else data.load_digits(split="validation", binarized=True).images
    with one_thread():
        summary = ladder_summary(models, images)
    betas = sorted(summary)
    rates = np.array([summary[b]["rate"] for b in betas])
    distortions = np.array([summary[b]["distortion"] for b in betas])

    figure = new_figure(9.0, 4.6)
    grid = figure.add_gridspec(2, 2, height_ratios=[1.5, 1], width_ratios=[1, 1])
    ax_plane, ax_kl, ax_images = figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1]), figure.add_subplot(grid[1, :])
    # lines of equal ELBO: R + D = -ELBO, every 10 nats
    totals = np.arange(np.floor((rates + distortions).min() / 10) * 10, (rates + distortions).max() + 10, 10)
    r_max = rates.max() * 1.1 + 1
    for total in totals:
        ax_plane.plot([0, r_max], [total, total - r_max], color="0.85", linewidth=0.8, zorder=0)
    ax_plane.plot(rates, distortions, color="0.6", marker="o", markersize=4, linewidth=1)
    for b, r, d in zip(betas, rates, distortions):
        ax_plane.annotate(f"β={b:g}", (r, d), textcoords="offset points", xytext=(5, 3), fontsize="small")
    (current,) = ax_plane.plot([], [], marker="o", markersize=10, color="tab:red", linestyle="none")
    ax_plane.set(xlim=(0, r_max), ylim=(distortions.min() - 10, distortions.max() + 10),
                 xlabel="rate R = E[KL(q(z|x) ‖ p(z))] (nats)", ylabel="distortion D = −E[log p(x|z)] (nats)")
    _title(ax_plane, "grey lines: equal ELBO = −(R + D), every 10 nats", fontsize="small")
    dims = np.arange(len(summary[betas[0]]["kl_per_dim"]))
    bars = ax_kl.bar(dims, np.zeros(len(dims)), color="tab:blue", width=0.7)
    ax_kl.axhline(diagnostics.ACTIVE_KL_NATS, color="black", linewidth=0.8, linestyle=":")
    ax_kl.set(ylim=(0, max(s["kl_per_dim"].max().item() for s in summary.values()) * 1.1), xlabel="latent dimension d",
              ylabel="KL of dimension d (nats)")
    kl_title = _title(ax_kl, "", fontsize="small")
    picture = ax_images.imshow(summary[betas[0]]["pictures"], **IMAGE_STYLE)
    ax_images.set_axis_off()
    _title(ax_images, "validation digits · their reconstructions · samples from the same z ~ N(0, I) for every β",
           fontsize="small")

    def update(beta):
        chosen = summary[beta]
        current.set_data([chosen["rate"]], [chosen["distortion"]])
        for bar, height in zip(bars, chosen["kl_per_dim"].tolist()):
            bar.set_height(height)
        kl_title.set_text(f"{chosen['active']} of {len(dims)} dims above {diagnostics.ACTIVE_KL_NATS} nats (dotted line)")
        picture.set_data(chosen["pictures"])
        return {"beta": beta, "rate": chosen["rate"], "distortion": chosen["distortion"],
                "ELBO": -(chosen["rate"] + chosen["distortion"]), "active dims": chosen["active"]}

    control = widgets.SelectionSlider(options=[(f"{b:g}", b) for b in betas], value=beta, description="β",
                                      continuous_update=True, layout=widgets.Layout(width="420px"))
    # Six models behind six values of beta: the kernel renders each figure once, and the page swaps them.
    return LiveFigure(figure, update, {"beta": control}, precompute=True)


EXPLORERS = {"beta_ladder": beta_ladder_explorer}
