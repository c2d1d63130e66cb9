"""Log-densities and KL divergences of the distributions a VAE uses, written to be stable at extreme inputs.

Conventions: a diagonal Gaussian is given by its mean `mu` and log-variance `logvar` (never sigma, so any real
number is valid); Bernoulli pixels by their logits (never probabilities, so log(0) cannot occur).
"""

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu, logvar, mu_p=None, logvar_p=None, *, per_dim=False):
    """KL(N(mu, diag(exp(logvar))) || N(mu_p, diag(exp(logvar_p)))), summed over the last dimension.

    Args:
        mu, logvar: (..., D) mean and log-variance of q; with mu_p and logvar_p left out, p is N(0, I):
            KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar))   (Kingma and Welling 2014, appendix B).
        mu_p, logvar_p: (..., D) or broadcastable, mean and log-variance of p.
        per_dim: return the (..., D) terms instead of their sum (which latent dimensions are in use).
    Returns:
        (...,) KL in nats, or (..., D) with per_dim=True.
    Introduced in notebooks/02_kl_divergence.ipynb.
    """
    if mu_p is None:
        mu_p = torch.zeros_like(mu)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar)
    # 1/2 [log(s_p^2 / s_q^2) + (s_q^2 + (mu_q - mu_p)^2) / s_p^2 - 1], with ratios formed in log space
    kl = 0.5 * (logvar_p - logvar + torch.exp(logvar - logvar_p) + (mu - mu_p) ** 2 * torch.exp(-logvar_p) - 1)
    return kl if per_dim else kl.sum(-1)


def gaussian_log_prob(x, mu, logvar, *, per_dim=False):
    """log N(x; mu, diag(exp(logvar))), summed over the last dimension: the series' one Gaussian log-density.

    Args:
        x, mu, logvar: (..., D), broadcastable.
        per_dim: return the (..., D) terms instead of their sum (each coordinate's log-density).
    Returns:
        (...,) log-density in nats, or (..., D) with per_dim=True.
    """
    log_density = -0.5 * (LOG_2PI + logvar + (x - mu) ** 2 * torch.exp(-logvar))
    return log_density if per_dim else log_density.sum(-1)


def normal_log_prob(x, mean, std):
    """log N(x; mean, std^2) elementwise, for the one-dimensional models of notebooks 01-04 that are written with
    a standard deviation: gaussian_log_prob with logvar = 2 log std. Arguments are broadcastable tensors."""
    return gaussian_log_prob(x, mean, 2 * torch.log(std), per_dim=True)


def normal_kl(mean_q, std_q, mean_p, std_p):
    """KL(N(mean_q, std_q^2) || N(mean_p, std_p^2)) elementwise, for one-dimensional Gaussians written with standard
    deviations: gaussian_kl with logvar = 2 log std. Arguments are broadcastable tensors."""
    logvar = lambda std: 2 * torch.log(std)  # noqa: E731
    return gaussian_kl(mean_q, logvar(std_q), mean_p, logvar(std_p), per_dim=True)


def standard_normal_log_prob(z):
    """log N(z; 0, I) of (..., D) points, summed over the last dimension: the VAE's prior p(z)."""
    return -0.5 * (LOG_2PI + z**2).sum(-1)


def bernoulli_log_prob(x, logits):
    """log Bernoulli(x; sigmoid(logits)), summed over every dimension but the first (the batch).

    Args:
        x: (B, ...) binary pixels (grey levels give a number, but it is not a normalised log-likelihood).
        logits: (B, ...) decoder outputs, any real numbers.
    Returns:
        (B,) log-likelihood in nats.
    Introduced in notebooks/00_start_here.ipynb; derived in notebooks/05_your_first_vae.ipynb, eq. (5.4).
    """
    # -BCE-with-logits is x*logits - softplus(logits): exact and stable for logits of any size.
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(-1)


def log_mean_exp(values, dim=0):
    """log(mean(exp(values))) along `dim`, computed with logsumexp so large or tiny values do not overflow."""
    return torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])
