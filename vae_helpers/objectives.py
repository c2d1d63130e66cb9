"""The training objective (the ELBO) and a tighter estimate of log p(x) for evaluation (the IWAE bound)."""

from typing import NamedTuple

import torch

from vae_helpers.distributions import gaussian_kl, gaussian_log_prob, log_mean_exp, standard_normal_log_prob


class ElboTerms(NamedTuple):
    """Per-example terms in nats: total = reconstruction - beta * kl (the ELBO when beta = 1), each (B,)."""

    total: torch.Tensor
    reconstruction: torch.Tensor  # one-sample Monte Carlo estimate of E_q[log p(x|z)]
    kl: torch.Tensor  # KL(q(z|x) || p(z)), in closed form
    kl_per_dim: torch.Tensor  # (B, D): its terms, one per latent dimension (free bits floor them)


def elbo(model, x, beta=1.0, generator=None):
    """Estimate the ELBO of each image with one reparameterized sample: E_q[log p(x|z)] - beta * KL(q || p(z)).

    Args:
        model: a VAE (encode, reparameterize, log_likelihood).
        x: (B, 1, 28, 28) images with pixels in [0, 1]: binary for a true ELBO in nats (grey levels give the
            grey-level cross-entropy that fit(binarize=False) trains on).
        beta: weight of the KL term (Higgins et al. 2017); beta = 1 gives the ELBO, a lower bound on log p(x).
        generator: torch.Generator for the sample, for reproducible estimates.
    Returns:
        ElboTerms(total, reconstruction, kl), each (B,), and kl_per_dim (B, D). Maximise total.mean(); the loss is
        -total.mean().
    Raises:
        TypeError or ValueError (from model.check_input) for anything else, before the model sees it.
    Introduced in notebooks/05_your_first_vae.ipynb.
    """
    mu, logvar = model.encode(model.check_input(x))
    z = model.reparameterize(mu, logvar, generator)
    reconstruction = model.log_likelihood(x, z)
    kl_per_dim = gaussian_kl(mu, logvar, per_dim=True)
    kl = kl_per_dim.sum(-1)
    return ElboTerms(reconstruction - beta * kl, reconstruction, kl, kl_per_dim)


@torch.inference_mode()
def iwae_bound(model, x, num_samples=1000, *, batch_size=None, max_decodes=4096, generator=None):
    """Importance-weighted estimate of log p(x) for each image (Burda, Grosse and Salakhutdinov 2016, eq. 8).

    log p(x) >= log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x). K = 1 gives the ELBO; the bound
    tightens as K grows and reaches log p(x) as K -> infinity.

    Args:
        model: a VAE. x: (B, 1, 28, 28) binary images (checked: grey levels have no log-likelihood in nats).
        num_samples: K.
        batch_size: images per pass (default: chosen so that batch_size * chunk <= max_decodes).
        max_decodes: how many decoder evaluations may be held in memory at once; K is split into chunks
            to respect it; the default keeps a conv VAE's activations to about 200 MB whatever K is.
    Returns:
        (B,) estimates of log p(x) in nats.
    Introduced in notebooks/06_the_convolutional_vae.ipynb.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    model.check_input(x, binary=True)
    chunk = min(num_samples, max_decodes)
    batch_size = batch_size or max(1, max_decodes // chunk)
    return torch.cat([_iwae_batch(model, xb, num_samples, chunk, generator) for xb in x.split(batch_size)])


def log_likelihood_of_draws(model, x, z):
    """log p(x_b | z_kb) for k draws of codes per image: x (B, 1, 28, 28), z (k, B, D); returns (k, B) nats."""
    k = z.shape[0]
    x_repeated = x.unsqueeze(0).expand(k, *x.shape).reshape(-1, *x.shape[1:])  # (k * B, ...): image b, k times
    return model.log_likelihood(x_repeated, z.reshape(-1, z.shape[-1])).view(k, -1)


def _iwae_batch(model, x, num_samples, chunk, generator):
    """IWAE estimates (B,) for one batch, drawing the K samples `chunk` at a time."""
    mu, logvar = model.encode(x)  # (B, D) each
    log_weights = []
    for start in range(0, num_samples, chunk):
        k = min(chunk, num_samples - start)
        eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps  # (k, B, D)
        log_px_z = log_likelihood_of_draws(model, x, z)  # (k, B)
        log_weights.append(log_px_z + standard_normal_log_prob(z) - gaussian_log_prob(z, mu, logvar))
    return log_mean_exp(torch.cat(log_weights), dim=0)
