"""Figures used across the series. Each function draws on `ax` (a new one if None) and returns it."""

import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch


def tile_images(images, ncols=None, padding=2):
    """Arrange images (N, C, H, W) with C = 1 or 3, or (N, H, W), into one array, row by row: (rows*(H+p)-p,
    cols*(W+p)-p) for grey images, with a last axis of 3 for colour ones (what imshow draws in colour)."""
    images = torch.as_tensor(images).detach().cpu().float()
    if images.dim() == 4 and images.shape[1] in (1, 3):
        images = images[:, 0] if images.shape[1] == 1 else images.permute(0, 2, 3, 1)  # colour: (N, H, W, 3)
    elif images.dim() != 3:
        raise ValueError(f"images must have shape (N, C, H, W) with 1 or 3 channels, or (N, H, W), got "
                         f"{tuple(images.shape)}")
    count, height, width = images.shape[:3]
    ncols = ncols or math.ceil(math.sqrt(count))
    nrows = math.ceil(count / ncols)
    canvas = np.ones((nrows * (height + padding) - padding, ncols * (width + padding) - padding,
                      *images.shape[3:]), np.float32)
    for i, image in enumerate(images.numpy()):
        top, left = (i // ncols) * (height + padding), (i % ncols) * (width + padding)
        canvas[top:top + height, left:left + width] = image
    return canvas


def show_images(images, ncols=None, ax=None, title=None):
    """Show a grid of images with pixel values in [0, 1] (grey levels or probabilities, white on black; or colour)."""
    ax = ax or plt.figure(figsize=(5, 5)).gca()
    ax.imshow(tile_images(images, ncols), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_reconstructions(originals, reconstructions, ax=None, title="top: input, bottom: reconstruction"):
    """Show inputs above their reconstructions, one column per image."""
    count = len(originals)
    pairs = torch.cat([torch.as_tensor(originals).cpu(), torch.as_tensor(reconstructions).cpu()])
    ax = ax or plt.figure(figsize=(count * 0.6, 1.6)).gca()
    return show_images(pairs, ncols=count, ax=ax, title=title)


def plot_history(history, term="elbo", ax=None):
    """Plot one term ("elbo", "reconstruction" or "kl") per epoch for the train and validation sets, in nats.

    A dotted line marks history.best_epoch, the epoch whose weights fit() kept.
    """
    if term not in ("elbo", "reconstruction", "kl"):
        raise ValueError(f"term must be 'elbo', 'reconstruction' or 'kl', got {term!r}")
    ax = ax or plt.figure(figsize=(4, 3)).gca()
    ax.plot(history.epoch, getattr(history, f"train_{term}"), label="train", marker=".")
    if history.validation_elbo:
        ax.plot(history.epoch, getattr(history, f"validation_{term}"), label="validation", marker=".")
    if history.best_epoch is not None:
        ax.axvline(history.best_epoch, color="gray", linestyle=":", label=f"kept: epoch {history.best_epoch}")
    labels = {"elbo": "ELBO", "reconstruction": "E_q[log p(x|z)]", "kl": "KL(q(z|x) || p(z))"}
    ax.set(xlabel="epoch", ylabel="nats per image", title=labels[term])
    ax.legend()
    return ax


def plot_latent_scatter(z, labels, ax=None, dims=(0, 1)):
    """Scatter two latent coordinates of encoded images, coloured by their digit label."""
    z, labels = torch.as_tensor(z).detach().cpu().numpy(), torch.as_tensor(labels).cpu().numpy()
    ax = ax or plt.figure(figsize=(5, 4.5)).gca()
    sns.scatterplot(x=z[:, dims[0]], y=z[:, dims[1]], hue=labels, palette="tab10", s=12, linewidth=0,
                    legend="full", ax=ax)
    ax.set(xlabel=f"z[{dims[0]}]", ylabel=f"z[{dims[1]}]")
    ax.legend(title="digit", bbox_to_anchor=(1.02, 1), loc="upper left", fontsize="small")
    return ax


def latent_grid(num_per_side=15, quantile_range=(0.05, 0.95)):
    """Points (num_per_side**2, 2) on a square grid of standard-normal quantiles, top row = largest z[1].

    Equal steps in probability rather than in z, so the grid covers where the prior N(0, I) puts its mass.
    """
    probabilities = torch.linspace(*quantile_range, num_per_side)
    values = torch.distributions.Normal(0.0, 1.0).icdf(probabilities)
    z1, z0 = torch.meshgrid(values.flip(0), values, indexing="ij")
    return torch.stack([z0.reshape(-1), z1.reshape(-1)], dim=1)


@torch.no_grad()
def plot_latent_manifold(model, num_per_side=15, ax=None, dims=(0, 1)):
    """Decode a grid of normal quantiles in two latent dimensions (the others at 0) and show the mean images."""
    grid = latent_grid(num_per_side)
    device = next(model.parameters()).device
    z = torch.zeros(len(grid), model.latent_dim, device=device)
    z[:, list(dims)] = grid.to(device)
    ax = ax or plt.figure(figsize=(6, 6)).gca()
    show_images(model.likelihood(z).mean, ncols=num_per_side, ax=ax)
    ax.set_title(f"decoded z on normal quantiles of z[{dims[0]}] (right) and z[{dims[1]}] (up)")
    return ax
