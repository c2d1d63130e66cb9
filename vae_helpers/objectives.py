"""The ELBO (the training objective) and the IWAE bound on log p(x), for a model of any parts.

Both read the model's prior(), posterior(x) and likelihood(z) (vae_helpers.parts), so they work for any prior,
posterior and likelihood that the torch.distributions interface describes."""

import itertools
from typing import NamedTuple

import torch

from vae_helpers.distributions import closed_form_kl, draw, log_mean_exp


class ElboTerms(NamedTuple):
    """Per-example terms in nats: total = reconstruction - beta * kl (the ELBO when beta = 1), each (B,)."""

    total: torch.Tensor
    reconstruction: torch.Tensor  # Monte Carlo estimate of E_q[log p(x|z)] (num_samples draws)
    kl: torch.Tensor  # KL(q(z|x) || p(z)): in closed form, or estimated at the same draws (kl_method says which)
    kl_per_dim: torch.Tensor | None  # (B, D) its terms per latent dimension (free bits floor them), where defined
    kl_method: str  # "closed form" or "Monte Carlo"


def elbo(model, x, beta=1.0, generator=None, *, c=None, posterior=None, num_samples=1, max_decodes=4096):
    """Estimate the ELBO of each image: E_q[log p(x|z)] - beta * KL(q(z|x) || p(z)), with reparameterized draws.

    The KL is in closed form where torch.distributions knows the pair (a diagonal Gaussian q and prior), else the
    Monte Carlo estimate log q(z|x) - log p(z) at the same draws as the reconstruction term.
    Args:
        model: a VAE. x: (B, C, H, W) images; binary ones for a Bernoulli likelihood's ELBO in nats (grey levels
            give the cross-entropy that fit(binarize=False) trains on). c: their conditions, for a conditional model.
        beta: weight of the KL term (Higgins et al. 2017); beta = 1 gives the ELBO, a lower bound on log p(x).
        generator: torch.Generator for the draws, for reproducible estimates.
        posterior: another q (B, D) to score instead of the encoder's (inference_gaps); gradients reach it.
        num_samples: draws of z per image, decoded at most max_decodes at a time.
    Returns:
        ElboTerms; maximise total.mean(), the loss is -total.mean().
    Raises:
        TypeError or ValueError (model.check_input) for images the likelihood does not model, before the model
        sees them.
    Introduced in notebooks/05_your_first_vae.ipynb.
    """
    x = model.check_input(x)
    q = posterior if posterior is not None else model.posterior(x, c)
    p = model.prior()
    draws = list(draws_in_chunks(q, num_samples, max(1, min(num_samples, max_decodes // len(x))), generator))
    reconstruction = torch.cat([log_likelihood_of_draws(model, x, z, c) for z in draws]).mean(0)  # (B,)
    per_dim = closed_form_kl(q, p, per_dim=True)  # after the draws: autograd adds the gradients in its old order
    kl = per_dim.sum(-1) if per_dim is not None else closed_form_kl(q, p)
    method = "closed form" if kl is not None else "Monte Carlo"
    if kl is None:
        kl = torch.cat([q.log_prob(z) - p.log_prob(z) for z in draws]).mean(0)
    return ElboTerms(reconstruction - beta * kl, reconstruction, kl, per_dim, method)


@torch.inference_mode()
def iwae_bound(model, x, num_samples=1000, *, c=None, proposal=None, batch_size=None, max_decodes=4096,
               generator=None):
    """Importance-weighted estimate of log p(x) for each image (Burda, Grosse and Salakhutdinov 2016, eq. 8).

    log p(x) >= log (1/K) sum_k p(x|z_k) p(z_k) / r(z_k|x),  z_k ~ r(z|x). With the encoder's q as the proposal r,
    K = 1 gives the ELBO; the bound tightens as K grows and reaches log p(x) as K -> infinity, the faster the closer
    r is to the posterior.

    Args:
        model: a VAE. x: (B, C, H, W) images in the likelihood's support (binary pixels for Bernoulli: grey levels
            have no log-likelihood in nats).
        num_samples: K. c: the condition of each image, for a conditional model.
        proposal: r, a distribution over codes (B, D) for these images (e.g. each digit's fitted q*), instead of the
            encoder's q(z|x); then all B images go in one batch. The draws follow the batching, so with the same
            generator each image's estimate repeats for the same batching only (its distribution does not change).
        batch_size: images per pass (default: chosen so that batch_size * chunk <= max_decodes).
        max_decodes: how many decoder evaluations may be held in memory at once; K is split into chunks
            to respect it; the default keeps a conv VAE's activations to about 200 MB whatever K is.
    Returns:
        (B,) estimates of log p(x) in nats.
    Introduced in notebooks/06_the_convolutional_vae.ipynb.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    x = model.check_input(x, exact=True)
    if proposal is not None:
        if tuple(proposal.batch_shape) != (len(x),):
            raise ValueError(f"proposal must be a distribution over codes for each of the {len(x)} images (batch "
                             f"shape ({len(x)},)), got batch shape {tuple(proposal.batch_shape)}")
        return _iwae_batch(model, x, c, proposal, num_samples, max(1, max_decodes // len(x)), generator)
    chunk = min(num_samples, max_decodes)
    batch_size = batch_size or max(1, max_decodes // chunk)
    conditions = c.split(batch_size) if c is not None else itertools.repeat(None)
    return torch.cat([_iwae_batch(model, xb, cb, model.posterior(xb, cb), num_samples, chunk, generator)
                      for xb, cb in zip(x.split(batch_size), conditions)])


def draws_in_chunks(q, num_samples, chunk, generator=None):
    """Yield num_samples reparameterized draws from q, `chunk` at a time: tensors (k, B, D) with k <= chunk."""
    for start in range(0, num_samples, chunk):
        yield draw(q, (min(chunk, num_samples - start),), generator)


def log_likelihood_of_draws(model, x, z, c=None):
    """log p(x_b | z_kb) for k draws of codes per image: x (B, C, H, W), z (k, B, D); returns (k, B) nats."""
    k = z.shape[0]
    x_repeated = x.unsqueeze(0).expand(k, *x.shape).reshape(-1, *x.shape[1:])  # (k * B, ...): image b, k times
    c_repeated = None if c is None else c.unsqueeze(0).expand(k, *c.shape).reshape(-1, *c.shape[1:])
    return model.log_likelihood(x_repeated, z.reshape(-1, z.shape[-1]), c_repeated).view(k, -1)


def _iwae_batch(model, x, c, q, num_samples, chunk, generator):
    """IWAE estimates (B,) for one batch with proposal q, drawing the K samples `chunk` at a time."""
    p = model.prior()
    log_weights = [log_likelihood_of_draws(model, x, z, c) + p.log_prob(z) - q.log_prob(z)  # (k, B)
                   for z in draws_in_chunks(q, num_samples, chunk, generator)]
    return log_mean_exp(torch.cat(log_weights), dim=0)
