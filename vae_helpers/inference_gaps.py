"""The two gaps between the ELBO and log p(x) on held-out digits (Cremer, Li and Duvenaud 2018).

    log p(x)  >=  ELBO(x; q*_x)  >=  ELBO(x; q_phi(z|x))
        approximation gap = log p(x) - ELBO(x; q*_x): the best diagonal Gaussian for this digit is still not
                            the posterior;
        amortization gap  = ELBO(x; q*_x) - ELBO(x; q_phi): one encoder, shared by every digit, does not find
                            each digit's best Gaussian.
q*_x is found by optimising this digit's own mean and log-variance with the decoder fixed (fit_local_posteriors);
objectives.elbo(model, x, posterior=DiagonalGaussian(mu, logvar), num_samples=100) then scores it.
"""

import contextlib
import math

import torch

from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.objectives import elbo, iwae_bound


def fit_local_posteriors(model, x, *, c=None, steps=200, lr=0.02, num_samples=1, generator=None, start=None):
    """For every image, the Gaussian q*_x that maximises its own ELBO with the decoder held fixed.

    Starts from the encoder's q_phi(z|x) (or from start = (mu, logvar), each (B, D)) and runs Adam on all images' means and log-variances at once (each
    image's ELBO depends only on its own parameters, so one batched loss optimises them all independently).
    Returns (mu, logvar), each (B, D), detached. The model's weights are not changed.
    Raises: ValueError for steps < 1; TypeError or ValueError for images that are not binary digits.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    x = model.check_input(x, exact=True)
    with _frozen(model):  # the decoder is fixed: only the per-image parameters learn
        with torch.no_grad():
            mu0, logvar0 = model.encode(x, c) if start is None else start
        mu, logvar = mu0.clone().requires_grad_(True), logvar0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([mu, logvar], lr=lr)
        for _ in range(steps):
            q = DiagonalGaussian(mu, logvar)
            loss = -elbo(model, x, c=c, posterior=q, num_samples=num_samples,
                         generator=generator).total.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return mu.detach(), logvar.detach()


@contextlib.contextmanager
def _frozen(model):
    """Every weight of `model` fixed and eval mode for the block; both restored after it, also on an error."""
    was_training, wanted = model.training, [p.requires_grad for p in model.parameters()]
    model.eval().requires_grad_(False)
    try:
        yield model
    finally:
        for parameter, requires_grad in zip(model.parameters(), wanted):
            parameter.requires_grad_(requires_grad)
        model.train(was_training)


def fit_local_features(model, x, *, steps=200, lr=0.02, num_samples=1, generator=None):
    """For a posterior of any family: the encoder's outputs for each image (what the posterior part reads: a
    diagonal Gaussian's mean and log-variance, a flow's too and its context), optimised for this image's own ELBO
    with every network weight fixed (the flow's steps included). Starts at the encoder's output; returns the
    fitted posterior q*_x, a distribution over codes (B, D), detached. For a diagonal Gaussian it is
    fit_local_posteriors. Binary images only (nats)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    x = model.check_input(x, exact=True)
    posterior_part = model.parts["posterior"]
    with _frozen(model):
        with torch.no_grad():
            features = model.encoder_output(x).clone()
        features.requires_grad_(True)
        optimizer = torch.optim.Adam([features], lr=lr)
        for _ in range(steps):
            loss = -elbo(model, x, posterior=posterior_part(features), num_samples=num_samples,
                         generator=generator).total.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return posterior_part(features.detach())


@torch.no_grad()
def log_evidence_on_grid(model, x, *, limit=5.0, step=0.1, refine=10, keep_nats=25.0, max_decodes=8192):
    """log p(x) = log of the integral of p(x|z) p(z) over z, by quadrature, for a model with a 2-D code.

    The midpoint rule, in two stages for each image: a coarse grid of cells of side `step` over [-limit, limit]^2,
    then every cell whose midpoint's log p(x|z) + log p(z) is within keep_nats of the image's largest is split into
    refine x refine cells and summed at that finer resolution; the other cells count at the coarse one (together
    they weigh less than e^-keep_nats times the number of cells, relative to the largest cell). Halving the fine
    cells tells how far the result is from the integral (notebook 06 does). The prior's mass outside the square is
    below 1e-5 for limit = 5; a ValueError is raised if an image's largest cell lies on the square's edge.
    Returns (B,) nats. Introduced in notebooks/06_the_convolutional_vae.ipynb.
    """
    if model.latent_dim != 2:
        raise ValueError(f"quadrature over a grid needs a 2-D code; this model has latent_dim={model.latent_dim}")
    x = model.check_input(x, exact=True)
    count = round(2 * limit / step)
    centres = -limit + step * (torch.arange(count) + 0.5)
    coarse = torch.cartesian_prod(centres, centres)  # (count^2, 2)
    offsets = step * ((torch.arange(refine) + 0.5) / refine - 0.5)
    fine_offsets = torch.cartesian_prod(offsets, offsets)  # (refine^2, 2) within one cell
    estimates = []
    for image in x:
        log_joint = _log_joint(model, image, coarse, max_decodes)  # (count^2,)
        best = log_joint.argmax()
        if (coarse[best].abs() > limit - step).any():
            raise ValueError(f"the largest p(x|z) p(z) lies on the edge of [-{limit}, {limit}]^2: widen limit")
        kept = log_joint >= log_joint[best] - keep_nats
        fine = (coarse[kept][:, None, :] + fine_offsets).reshape(-1, 2)
        terms = torch.cat([_log_joint(model, image, fine, max_decodes) + 2 * math.log(step / refine),
                           log_joint[~kept] + 2 * math.log(step)])
        estimates.append(torch.logsumexp(terms, 0))
    return torch.stack(estimates)


@torch.no_grad()
def modes_on_grid(model, x, *, limit=5.0, step=0.1, max_decodes=8192):
    """For a model with a 2-D code, the grid point with the largest log p(x|z) + log p(z) for each image: (B, 2), a
    start near the posterior's mode (midpoints of cells of side `step` over [-limit, limit]^2)."""
    if model.latent_dim != 2:
        raise ValueError(f"a grid needs a 2-D code; this model has latent_dim={model.latent_dim}")
    x = model.check_input(x, exact=True)
    centres = -limit + step * (torch.arange(round(2 * limit / step)) + 0.5)
    grid = torch.cartesian_prod(centres, centres)
    return torch.stack([grid[_log_joint(model, image, grid, max_decodes).argmax()] for image in x])


@torch.no_grad()
def proposal_bounds(model, x, num_samples=1000, *, fitted, generator=None):
    """Two importance-weighted bounds on log p(x) for each image: with the encoder's q as the proposal and with the
    fitted q*_x (fit_local_features). Returns ((B,), (B,)) nats."""
    return (iwae_bound(model, x, num_samples, generator=generator),
            iwae_bound(model, x, num_samples, proposal=fitted, generator=generator))


@torch.no_grad()
def best_iwae_bound(model, x, num_samples=1000, *, steps=200, generator=None):
    """Per image, the larger of two importance-weighted bounds on log p(x): one with the encoder's q as the proposal,
    one with the fitted q*_x (fit_local_features: any posterior family). Each is a lower bound on log p(x) on
    average; the larger can overshoot log p(x) for a single image by its Monte Carlo noise. Returns (B,) nats."""
    with torch.enable_grad():
        fitted = fit_local_features(model, x, steps=steps, generator=generator)
    return torch.maximum(*proposal_bounds(model, x, num_samples, fitted=fitted, generator=generator))


def _log_joint(model, image, z, max_decodes):
    """log p(x|z) + log p(z) for one image (C, H, W) at codes z (M, 2), max_decodes at a time."""
    return torch.cat([model.log_likelihood(image.expand(len(chunk), *image.shape), chunk) + model.prior().log_prob(chunk)
                      for chunk in z.split(max_decodes)])
