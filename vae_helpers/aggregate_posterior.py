"""The aggregate posterior q(z) = (1/N) sum_n q(z|x_n) of a VAE's encoder, and ELBO surgery.

With x uniform over N data points, the average KL term of the ELBO splits in two (Hoffman and Johnson 2016,
"ELBO surgery: yet another way to carve up the variational evidence lower bound"):

    E_x[KL(q(z|x) || p(z))] = I_q(x; z) + KL(q(z) || p(z)),    0 <= I_q(x; z) <= log N.

Both terms need log q(z), a mixture of N diagonal Gaussians; it is evaluated exactly, over all N encodings, in chunks
of at most CHUNK_ELEMENTS numbers, so 1,000 encodings of 16 dimensions cost a few megabytes.
Introduced in notebooks/07_exploring_the_latent_space.ipynb.
"""

import math
from dataclasses import dataclass

import torch

from vae_helpers import distributions

CHUNK_ELEMENTS = 1000 * 1000 * 16  # the most numbers one chunk of codes x encodings x dimensions may hold


def log_aggregate_density(z, mu, logvar, leave_out=None):
    """Evaluate log q(z) = log (1/N) sum_n N(z; mu_n, diag exp(logvar_n)) at M codes.

    Args:
        z: (M, D) codes.
        mu, logvar: (N, D) means and log-variances of q(z|x_n) for the N data points.
        leave_out: optional (M,) indices; code m is scored under the mixture of the other N - 1 encodings, without
            component leave_out[m] (where would a new digit's code land among the codes of the others?).
    Returns:
        (M,) log q(z) in nats, a log-mean-exp over the components, computed in chunks of codes.
    """
    if z.dim() != 2 or mu.dim() != 2 or z.shape[1] != mu.shape[1] or mu.shape != logvar.shape:
        raise ValueError(f"z must be (M, D) and mu, logvar (N, D) with the same D, got {tuple(z.shape)}, "
                         f"{tuple(mu.shape)} and {tuple(logvar.shape)}")
    num_components = len(mu) - (leave_out is not None)
    if num_components < 1:
        raise ValueError("leave_out needs at least two encodings: one to leave out and one to keep")
    chunk = max(1, CHUNK_ELEMENTS // (mu.numel()))
    pieces = []
    for start in range(0, len(z), chunk):
        log_components = distributions.gaussian_log_prob(z[start:start + chunk, None], mu, logvar)  # (chunk, N)
        if leave_out is not None:
            rows = torch.arange(len(log_components), device=z.device)
            log_components[rows, leave_out[start:start + chunk]] = -math.inf
        pieces.append(torch.logsumexp(log_components, dim=1) - math.log(num_components))
    return torch.cat(pieces)


def aggregate_posterior_moments(mu, logvar):
    """Mean and variance of each dimension of the aggregate posterior q(z) = (1/N) sum_n q(z|x_n) (eq. 7.1).

    The mixture's mean is the average of the means; its variance is the average variance plus the variance of the
    means (the law of total variance).
    Args: mu, logvar: (N, D) of q(z|x_n) for N images.
    Returns: (mean (D,), variance (D,)); both near 0 and 1 when the codes cover the prior N(0, I).
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    return mu.mean(0), torch.exp(logvar).mean(0) + mu.var(0, unbiased=False)


def stratified_standard_error(terms):
    """Standard error of terms.mean() for terms (S, N): S independent draws for each of N fixed data points.

    Every data point is in the average exactly once, so only the spread within a data point is noise:
    SE^2 = sum_n Var_n / (S N^2), with each Var_n estimated from its S draws (S >= 2).
    """
    num_samples, num_points = terms.shape
    if num_samples < 2:
        raise ValueError(f"a standard error needs at least 2 draws per data point, got {num_samples}")
    return (terms.var(0).sum() / num_samples).sqrt() / num_points


@dataclass
class ElboSurgery:
    """The two terms of E_x[KL(q(z|x) || p(z))] estimated on the same codes, with their standard errors (nats)."""

    mutual_information: float  # I_q(x; z) = E[log q(z|x_n) - log q(z)]
    mutual_information_se: float
    marginal_kl: float  # KL(q(z) || p(z)) = E[log q(z) - log p(z)]
    marginal_kl_se: float
    sum_se: float  # of their sum, the Monte Carlo estimate of the average KL
    average_kl: float | None  # E_x[KL(q(z|x) || p(z))] in closed form (no sampling), where the prior has one
    log_n: float  # the upper bound on I_q(x; z)
    information_terms: torch.Tensor  # (S, N) log q(z|x_n) - log q(z) at each code
    marginal_kl_terms: torch.Tensor  # (S, N) log q(z) - log p(z) at each code


def elbo_surgery(mu, logvar, eps, prior):
    """Estimate I_q(x; z) and KL(q(z) || p(z)) from codes z = mu + sigma * eps drawn from every q(z|x_n).

    Args:
        mu, logvar: (N, D) of q(z|x_n) for N data points, x uniform over them.
        eps: (S, N, D) standard normal noise, S >= 2 draws per data point.
        prior: p(z), a distribution over codes (the model's prior(), on the device of mu).
    Returns:
        ElboSurgery; information_terms + marginal_kl_terms = log q(z|x_n) - log p(z) exactly, code by code.
    """
    q = distributions.DiagonalGaussian(mu, logvar)
    z = q.reparameterize(eps)  # (S, N, D), the reparameterization of 04
    log_q_given_x = q.log_prob(z)  # (S, N) log q(z|x_n) at its own codes
    log_q = log_aggregate_density(z.reshape(-1, mu.shape[1]), mu, logvar).view(z.shape[:2])  # (S, N)
    log_p = prior.log_prob(z)  # (S, N)
    information_terms, marginal_kl_terms = log_q_given_x - log_q, log_q - log_p
    average_kl = distributions.closed_form_kl(q, prior)
    return ElboSurgery(
        mutual_information=information_terms.mean().item(),
        mutual_information_se=stratified_standard_error(information_terms).item(),
        marginal_kl=marginal_kl_terms.mean().item(),
        marginal_kl_se=stratified_standard_error(marginal_kl_terms).item(),
        sum_se=stratified_standard_error(information_terms + marginal_kl_terms).item(),
        average_kl=None if average_kl is None else average_kl.mean().item(),
        log_n=math.log(len(mu)),
        information_terms=information_terms,
        marginal_kl_terms=marginal_kl_terms,
    )


def share_in_holes(mu, logvar, codes, prior_draws, quantile=0.05):
    """The share of prior draws that land in a hole of q(z): notebook 07's measure.

    A data point's code is scored under the mixture of the other N - 1 encodings (where a new digit's code would
    land); the hole threshold is the `quantile` of those held-out log q(z), so that share of real codes is in a hole
    by construction, and a prior draw is in a hole when its log q(z) is below it.
    Args: mu, logvar: (N, D) of q(z|x_n); codes: (N, D) one code drawn from each q(z|x_n); prior_draws: (M, D).
    Returns: (share of prior draws in a hole, the threshold in nats).
    """
    held_out = log_aggregate_density(codes, mu, logvar, leave_out=torch.arange(len(mu), device=mu.device))
    threshold = held_out.quantile(quantile)
    return (log_aggregate_density(prior_draws, mu, logvar) < threshold).float().mean().item(), threshold.item()
