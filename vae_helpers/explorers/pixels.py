"""Notebook 09's explorer: one test digit under every likelihood of grey levels.

For each model the factory encodes the digit once, decodes the posterior mean, draws one sample of p(x|z) from
the same z and scores the digit in bits per dimension (vh.bits.bits_per_dim_bound), all when it is built; the
slider then only swaps precomputed pictures.
"""

import ipywidgets as widgets
import numpy as np
import torch

from vae_helpers import bits, data, pretrained
from vae_helpers.explorers.latent import IMAGE_STYLE, _title, one_thread
from vae_helpers.pixels import mean_and_sample, sharpness
from vae_helpers.widgets import LiveFigure, new_figure

# The shipped models of notebook 09 that are distributions over the grey levels (all but BCE), by the label the
# slider shows: the discrete likelihoods first, then the densities.
DEFAULT_MODELS = {"categorical": "grey_categorical", "logistic": "grey_discretized_logistic",
                  "cont. Bernoulli": "grey_continuous_bernoulli", "σ per pixel": "grey_gaussian_sigma_per_pixel",
                  "learned σ": "grey_gaussian_learned_sigma",
                  **{f"σ = {sigma:g}": pretrained.sigma_name(sigma) for sigma in pretrained.SIGMA_LADDER}}
IWAE_SAMPLES = 100  # per model, for the one digit's bits per dimension


def shipped_models():
    """{label: shipped model} for DEFAULT_MODELS."""
    return {label: pretrained.load_pretrained(name)[0] for label, name in DEFAULT_MODELS.items()}


@torch.no_grad()
def digit_summary(models, image, seed=0):
    """{label: dict(mean, sample, bits, sharpness)} for one image (1, C, H, W) of grey levels k/255: the decoded
    posterior mean, a sample of p(x|z) at the same z (grey levels in [0, 1]), the digit's bits per dimension
    (IWAE_SAMPLES) and the mean image's sharpness (vh.pixels.sharpness)."""
    summary = {}
    for label, model in models.items():
        x = bits.model_input(model, image, torch.Generator().manual_seed(seed))
        z = model.posterior(x).mean
        mean, sample = mean_and_sample(model, z, torch.Generator().manual_seed(seed))
        summary[label] = {"mean": mean[0, 0].numpy(), "sample": sample[0, 0].numpy(),
                          "bits": bits.bits_per_dim_bound(model, image, IWAE_SAMPLES, seed=seed).item(),
                          "sharpness": sharpness(mean).item()}
    return summary


def likelihood_explorer(models=None, image=None, label=None):
    """A slider over the likelihoods: the digit, the mean of p(x|z) and a sample from it at the same z, and every
    model's bits per dimension for this digit (the current one in red).

    models: {label: VAE of grey levels} (default: the shipped ones, DEFAULT_MODELS); image: one digit (1, 1, H, W)
    of grey levels k/255 (default: the first test digit); label: the model shown first.
    """
    models = models if models is not None else shipped_models()
    image = image if image is not None else data.load_digits(split="test", limit=1, progress=False).images
    if image.dim() != 4 or len(image) != 1:
        raise ValueError(f"image must be one digit of shape (1, C, H, W), got shape {tuple(image.shape)}")
    labels = list(models)
    label = labels[0] if label is None else label
    if label not in models:
        raise ValueError(f"label must be one of {labels}, got {label!r}")
    with one_thread():
        summary = digit_summary(models, image)

    figure = new_figure(9.0, 3.2)
    grid = figure.add_gridspec(1, 4, width_ratios=[1, 1, 1, 2.2])
    panels = [figure.add_subplot(grid[0, i]) for i in range(3)]
    pictures = []
    for ax, title, picture in zip(panels, ("the digit", "mean of p(x|z)", "a sample of p(x|z)"),
                                  (image[0, 0].numpy(), summary[label]["mean"],
                                   summary[label]["sample"])):
        pictures.append(ax.imshow(picture, **IMAGE_STYLE))
        ax.set_axis_off()
        _title(ax, title, fontsize="small")
    ax_bits = figure.add_subplot(grid[0, 3])
    values = np.array([summary[name]["bits"] for name in labels])
    bars = ax_bits.barh(np.arange(len(labels)), values, color="0.7")
    ax_bits.set(yticks=np.arange(len(labels)), yticklabels=labels, xlabel="bits per dimension of this digit",
                xlim=(0, values.max() * 1.1))
    ax_bits.invert_yaxis()
    ax_bits.tick_params(axis="y", labelsize="small")

    def update(label):
        chosen = summary[label]
        pictures[1].set_data(chosen["mean"])
        pictures[2].set_data(chosen["sample"])
        for bar, name in zip(bars, labels):
            bar.set_color("tab:red" if name == label else "0.7")
        return {"bits/dim": chosen["bits"], "sharpness of the mean": chosen["sharpness"]}

    control = widgets.SelectionSlider(options=labels, value=label, description="p(x|z)", continuous_update=True,
                                      layout=widgets.Layout(width="520px"))
    return LiveFigure(figure, update, {"label": control}, precompute=True)


EXPLORERS = {"likelihood": likelihood_explorer}
