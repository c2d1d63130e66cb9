"""Diagnose a trained VAE: the latent dimensions it uses, and its rate and distortion.

Which dimensions carry information (posterior collapse), and where the model sits between rate and distortion
(Alemi et al. 2018). Introduced in notebooks/06_the_convolutional_vae.ipynb and
notebooks/08_when_training_goes_wrong.ipynb."""

import torch

from vae_helpers.distributions import closed_form_kl
from vae_helpers.training import evaluate_elbo

# The series' one rule for an active dimension (06, 07, 08): its KL to the prior, averaged over the data, is above
# this many nats. Burda, Grosse and Salakhutdinov (2016, section 5.2) use a related criterion, the variance over the
# data of the dimension's posterior mean above 0.01, which 06 compares with it.
ACTIVE_KL_NATS = 0.1


def kl_per_dimension(q, prior):
    """Each latent dimension's KL(q(z_d | x) || p(z_d)) averaged over images: (D,) nats, summing to the mean KL.

    Args: q: the posteriors q(z | x_n) of N images, a distribution over codes (N, D) (e.g. DiagonalGaussian(mu,
        logvar)); prior: p(z), e.g. model.prior().
    Raises: ValueError where the KL has no terms per dimension (a prior that does not factorise, a mixture).
    """
    per_dim = closed_form_kl(q, prior, per_dim=True)
    if per_dim is None:
        raise ValueError(f"KL({type(q).__name__} || {type(prior).__name__}) has no terms per latent dimension: "
                         f"both must factorise over the dimensions (a diagonal Gaussian q and prior)")
    return per_dim.mean(0)


def dimensions_with_kl_above(kl_per_dim_mean, nats=ACTIVE_KL_NATS):
    """The active dimensions: those whose average KL to the prior (kl_per_dimension) is above `nats`.

    A dimension below it has q(z_d|x) close to p(z_d) for every x, so it tells the decoder almost nothing.
    Returns: (A,) int64 indices, in increasing order.
    """
    return torch.nonzero(kl_per_dim_mean > nats).flatten()


def rate_distortion(model, images, seed=0):
    """Rate R = mean KL(q(z|x) || p(z)) and distortion D = -mean E_q[log p(x|z)] over `images`, in nats per image.

    The ELBO is -(R + D), so lines R + D = constant in the rate-distortion plane join models of equal ELBO
    (Alemi et al. 2018, "Fixing a broken ELBO"). One fixed sample per image, as in training.evaluate_elbo.
    Args: model: a VAE; images: (N, C, H, W) images in its likelihood's support (binary pixels for Bernoulli).
    Returns: (rate, distortion) as floats.
    """
    scores = evaluate_elbo(model, images, seed=seed)
    return scores["kl"], -scores["reconstruction"]
