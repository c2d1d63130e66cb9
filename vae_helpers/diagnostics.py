"""Diagnose a trained VAE: which latent dimensions it uses (posterior collapse) and where it sits between rate and
distortion (Alemi et al. 2018). Introduced in notebooks/08_when_training_goes_wrong.ipynb."""

import torch

from vae_helpers import distributions
from vae_helpers.training import evaluate_elbo

# Burda, Grosse and Salakhutdinov 2016 (section 5.2) call a dimension active above this variance of its mean.
ACTIVE_UNIT_THRESHOLD = 0.01


def active_units(mu, threshold=ACTIVE_UNIT_THRESHOLD):
    """The active units of Burda et al. (2016): dimension d is active when Cov_x(E_q[z_d | x]) > threshold.

    A dimension whose posterior mean does not move with x tells the decoder nothing about x, whatever its variance.
    Args:
        mu: (N, D) posterior means E_q[z | x_n] of N images (e.g. the validation split).
        threshold: the variance above which a dimension counts as active (0.01 in the paper).
    Returns:
        (activity (D,) the variance over the N images of each dimension's mean, active (A,) int64 indices).
    """
    if mu.dim() != 2 or len(mu) < 2:
        raise ValueError(f"mu must be (N, D) posterior means of at least 2 images, got shape {tuple(mu.shape)}")
    activity = mu.var(0)  # the sample variance over images of E_q[z_d | x]
    return activity, torch.nonzero(activity > threshold).flatten()


def kl_per_dimension(mu, logvar):
    """Each latent dimension's KL(q(z_d | x) || p(z_d)) averaged over images: (D,) nats, summing to the mean KL.

    Args: mu, logvar: (N, D) of q(z | x_n) for N images.
    """
    return distributions.gaussian_kl(mu, logvar, per_dim=True).mean(0)


def rate_distortion(model, images, seed=0):
    """Rate R = mean KL(q(z|x) || p(z)) and distortion D = -mean E_q[log p(x|z)] over `images`, in nats per image.

    The ELBO is -(R + D), so lines R + D = constant in the rate-distortion plane join models of equal ELBO
    (Alemi et al. 2018, "Fixing a broken ELBO"). One fixed sample per image, as in training.evaluate_elbo.
    Args: model: a VAE; images: (N, 1, 28, 28) binary images.
    Returns: (rate, distortion) as floats.
    """
    scores = evaluate_elbo(model, images, seed=seed)
    return scores["kl"], -scores["reconstruction"]
