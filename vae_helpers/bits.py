"""Bits per dimension of 8-bit images: one currency for discrete and continuous likelihoods (notebook 09).

A discrete model gives the probability of the whole levels 0-255 directly. A continuous density p on [0, 1] is
scored on dequantized images y = (levels + u) / 256, u uniform in [0, 1) per pixel: each level owns the bin
[k/256, (k+1)/256), whose probability is the integral of p over it, and by Jensen's inequality

    log P(levels) = log E_u[p(y) / 256^D] >= E_u[log p(y)] - D log 256        (Theis, van den Oord and Bethge 2016)

so a density's dequantized score, minus D log 256, is a lower bound on a discrete log-likelihood, in the same units.
"""

import math

import torch

from vae_helpers.objectives import iwae_bound

NUM_LEVELS = 256


def to_levels(images):
    """Grey levels k/255 in [0, 1] (what vh.data loads) -> whole levels k, as floats; a ValueError for anything
    that is not a multiple of 1/255 (binarized or resized images are no longer 8-bit)."""
    levels = images * (NUM_LEVELS - 1)
    rounded = levels.round()
    off = (levels - rounded).abs().max().item() if levels.numel() else 0.0
    if off > 1e-3 or rounded.min() < 0 or rounded.max() > NUM_LEVELS - 1:
        raise ValueError(f"images must hold 8-bit grey levels k/255 in [0, 1]; found a pixel {off:.3g} of a level "
                         f"away, or outside [0, 1]: load the digits with vh.data.load_digits (not binarized)")
    return rounded


def dequantize(levels, generator=None):
    """(levels + u) / 256 with u ~ U[0, 1) per pixel: a point of [0, 1) inside each level's bin."""
    u = torch.rand(levels.shape, generator=generator, dtype=levels.dtype, device=levels.device)
    return (levels + u) / NUM_LEVELS


def discrete_log_likelihood_bound(log_density, num_dims):
    """log p(y) of dequantized images, in nats on [0, 1], -> the lower bound on log P(levels): minus D log 256."""
    return log_density - num_dims * math.log(NUM_LEVELS)


def bits_per_dim(log_likelihood, num_dims):
    """-log P / (D log 2): nats per image -> bits per pixel and channel (lower is better)."""
    return -log_likelihood / (num_dims * math.log(2))


def model_input(model, images, generator=None):
    """8-bit images (grey levels k/255) as `model`'s likelihood reads them: whole levels for a discrete one,
    dequantized levels (levels + u) / 256 for a density on [0, 1]; a ValueError for Bernoulli pixels, whose
    "density" on grey levels does not integrate to 1 (notebook 09), so it has no bits per dimension."""
    support = model.parts["likelihood"].support
    if support not in ("levels", "unit"):
        raise ValueError(f"bits per dimension need a likelihood of grey or 8-bit pixels; this model's "
                         f"{type(model.parts['likelihood']).__name__} models binary pixels")
    levels = to_levels(images)
    return levels if support == "levels" else dequantize(levels, generator)


@torch.no_grad()
def bits_per_dim_bound(model, images, num_samples=100, *, seed=0, max_decodes=None):
    """Per image (N,): an upper bound on -log2 P(levels) / D, the model's bits per dimension of 8-bit `images`,
    from the importance-weighted bound with K = num_samples (objectives.iwae_bound), and for a density on [0, 1]
    also the dequantization bound (one u per image; its average over images estimates E_u). seed fixes u and
    the draws of z, so a score can be repeated with the same max_decodes (decodes held in memory at once, which
    sets the batching of the draws; default: the likelihood's own max_decodes, or 4096)."""
    generator = torch.Generator().manual_seed(seed)
    x = model_input(model, images, generator)
    # a likelihood may ask for fewer decodes at once (the categorical's hold 256 logits per pixel)
    own = getattr(model.parts["likelihood"], "max_decodes", 4096)
    max_decodes = own if max_decodes is None else min(max_decodes, own)
    log_likelihood = iwae_bound(model, x, num_samples, generator=generator, max_decodes=max_decodes)
    if model.parts["likelihood"].support == "unit":
        log_likelihood = discrete_log_likelihood_bound(log_likelihood, x[0].numel())
    return bits_per_dim(log_likelihood, x[0].numel())
