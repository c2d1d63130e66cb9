"""Log-densities, KL divergences and the diagonal Gaussian of a VAE, written to be stable at extreme inputs.

DiagonalGaussian is the diagonal Gaussian as a torch.distributions object, which a model's parts return.

Conventions: a diagonal Gaussian is given by its mean `mu` and log-variance `logvar` (never sigma, so any real
number is valid); Bernoulli pixels by their logits (never probabilities, so log(0) cannot occur).
"""

import math

import torch
import torch.nn.functional as F
from torch.distributions import Independent, Normal, kl_divergence, register_kl

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


def normal_log_prob(x, mean, std, *, dtype=None):
    """log N(x; mean, std^2) elementwise, for the one-dimensional models of notebooks 01-04 that are written with
    a standard deviation: gaussian_log_prob with logvar = 2 log std. Arguments are broadcastable tensors; with a
    dtype (torch.float64 for the exact toy models), also floats, converted to it first."""
    x, mean, std = _as_dtype(dtype, x, mean, std)
    return gaussian_log_prob(x, mean, 2 * torch.log(std), per_dim=True)


def normal_kl(mean_q, std_q, mean_p, std_p, *, dtype=None):
    """KL(N(mean_q, std_q^2) || N(mean_p, std_p^2)) elementwise, for one-dimensional Gaussians written with standard
    deviations: gaussian_kl with logvar = 2 log std. Arguments as for normal_log_prob."""
    mean_q, std_q, mean_p, std_p = _as_dtype(dtype, mean_q, std_q, mean_p, std_p)
    return gaussian_kl(mean_q, 2 * torch.log(std_q), mean_p, 2 * torch.log(std_p), per_dim=True)


def _as_dtype(dtype, *values):
    """The values as broadcast tensors of `dtype`, or as they are for dtype None."""
    return values if dtype is None else torch.broadcast_tensors(*(torch.as_tensor(v, dtype=dtype) for v in values))


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


class DiagonalGaussian(Independent):
    """N(mu, diag(exp(logvar))) over vectors (..., D), as a torch.distributions object: q(z|x) and the default prior.

    It is torch's Independent(Normal(mu, sigma), 1) (entropy, mean, stddev and kl_divergence work as for that),
    with the series' stable formulas for log_prob and the KL, and draws that take a torch.Generator.
    Introduced in notebooks/05_your_first_vae.ipynb.
    """

    def __init__(self, mu, logvar, validate_args=False):
        self.mu, self.logvar = torch.broadcast_tensors(mu, logvar)
        super().__init__(Normal(self.mu, torch.exp(0.5 * self.logvar), validate_args=False), 1,
                         validate_args=validate_args)

    def reparameterize(self, eps):
        """z = mu + sigma * eps for standard-normal noise eps (..., D): the reparameterization trick (notebook 04)."""
        return self.mu + torch.exp(0.5 * self.logvar) * eps

    def rsample(self, sample_shape=torch.Size(), generator=None):
        """Draw codes (*sample_shape, ..., D) through reparameterize, so gradients reach mu and logvar."""
        shape = self._extended_shape(torch.Size(sample_shape))
        return self.reparameterize(torch.randn(shape, generator=generator, dtype=self.mu.dtype, device=self.mu.device))

    def log_prob(self, z):
        return gaussian_log_prob(z, self.mu, self.logvar)


@register_kl(DiagonalGaussian, DiagonalGaussian)
def _kl_diagonal_gaussians(q, p):
    return gaussian_kl(q.mu, q.logvar, p.mu, p.logvar)


def draw(distribution, sample_shape=(), generator=None):
    """rsample (or sample, where there is no rsample) `sample_shape` draws, reproducibly when given a generator.

    A DiagonalGaussian draws from the generator itself; for any other distribution (torch's take no generator) the
    global random state is seeded from the generator inside torch.random.fork_rng, which restores it afterwards.
    """
    sample = distribution.rsample if distribution.has_rsample else distribution.sample
    if generator is None:
        return sample(torch.Size(sample_shape))
    if isinstance(distribution, DiagonalGaussian):
        return distribution.rsample(sample_shape, generator)
    seed = int(torch.randint(2**62, (), generator=generator, device=generator.device))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return sample(torch.Size(sample_shape))


def closed_form_kl(q, p, *, per_dim=False):
    """KL(q || p) in closed form: (...,) nats summed over the latent dimensions, or their (..., D) terms with
    per_dim=True. None where there is none: torch.distributions knows no formula for the pair (a Gaussian q and a
    mixture prior), or, for per_dim, the two do not both factorise over the dimensions (Independent over (D,))."""
    if isinstance(q, DiagonalGaussian) and isinstance(p, DiagonalGaussian):
        return gaussian_kl(q.mu, q.logvar, p.mu, p.logvar, per_dim=per_dim)
    try:
        if not per_dim:
            return kl_divergence(q, p)
        factorised = all(isinstance(d, Independent) and d.reinterpreted_batch_ndims == 1 for d in (q, p))
        return kl_divergence(q.base_dist, p.base_dist) if factorised else None
    except NotImplementedError:
        return None
