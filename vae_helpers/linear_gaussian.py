"""Notebook 01's linear decoder, x = W z + s * noise with z ~ N(0, I_D): a model whose log p(x) is exact in any D.

That is what makes it the yardstick for naive Monte Carlo (eq. 1.6): every estimate can be compared with the truth
(1.5), and the exact posterior (1.7) says where the prior's samples would have to land. The notebook derives and
writes each formula inline first; the explorer of vae_helpers.explorers.evidence uses these.
"""

import math

import torch

from vae_helpers.distributions import normal_log_prob

DATA_DIM = 16  # the length of an observation x
MAX_LATENT_DIM = 16  # W's columns are the first D of one fixed (DATA_DIM, 16) draw, so D can grow up to this


def weights(latent_dim, seed=0):
    """W (DATA_DIM, latent_dim) with N(0, 1) entries: the first latent_dim columns of one fixed draw.

    Sharing the draw means that going from D to D + 1 adds a column and keeps the others.
    """
    if not 1 <= latent_dim <= MAX_LATENT_DIM:
        raise ValueError(f"latent_dim must be between 1 and {MAX_LATENT_DIM}, got {latent_dim}")
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(DATA_DIM, MAX_LATENT_DIM, generator=generator, dtype=torch.float64)[:, :latent_dim]


def observation(W, noise_std, seed=1):
    """One x drawn from the model: z ~ N(0, I), x = W z + noise_std * noise; shape (DATA_DIM,).

    The same seed gives the same z and noise draws for every noise_std, so x moves smoothly with s.
    """
    generator = torch.Generator().manual_seed(seed)
    z_true = torch.randn(W.shape[1], generator=generator, dtype=torch.float64)
    return W @ z_true + noise_std * torch.randn(DATA_DIM, generator=generator, dtype=torch.float64)


def log_evidence(W, x, noise_std):
    """The exact log p(x) = log N(x; 0, W W^T + s^2 I), eq. (1.5)."""
    covariance = W @ W.T + noise_std**2 * torch.eye(DATA_DIM, dtype=torch.float64)
    return torch.distributions.MultivariateNormal(torch.zeros(DATA_DIM, dtype=torch.float64), covariance).log_prob(x)


def posterior(W, x, noise_std):
    """The exact posterior N(m, V), eq. (1.7): returns m (D,) and the precision V^-1 = I + W^T W / s^2 (D, D)."""
    precision = torch.eye(W.shape[1], dtype=torch.float64) + W.T @ W / noise_std**2
    mean = torch.linalg.solve(precision, W.T @ x / noise_std**2)
    return mean, precision


def log_likelihood(W, x, z, noise_std):
    """log p(x | z) for codes z (..., D): returns (...)."""
    return normal_log_prob(x, z @ W.T, torch.tensor(noise_std, dtype=torch.float64)).sum(-1)


def running_naive_estimates(log_likelihoods):
    """Naive estimates of log p(x) from the first k samples, for every k (eq. 1.6 in log space).

    log_likelihoods: (..., K) values log p(x | z_k) for prior samples z_k. Returns (..., K): entry k - 1 is
    log((1/k) sum_{j <= k} p(x | z_j)), so the last entry is the estimate from all K samples.
    """
    counts = torch.arange(1, log_likelihoods.shape[-1] + 1, dtype=log_likelihoods.dtype)
    return torch.logcumsumexp(log_likelihoods, dim=-1) - counts.log()


def chi2_quantile(probability, degrees_of_freedom, iterations=60):
    """The radius r^2 with P(chi^2_D <= r^2) = probability, by bisection on the regularized gamma function.

    (torch has no inverse; 60 halvings of [0, 1000] leave an error below 1e-15.)
    """
    low, high = 0.0, 1000.0
    half_dof = torch.tensor(degrees_of_freedom / 2, dtype=torch.float64)
    for _ in range(iterations):
        middle = (low + high) / 2
        if torch.special.gammainc(half_dof, torch.tensor(middle / 2, dtype=torch.float64)) < probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def inside_posterior_region(z, mean, precision, probability=0.95):
    """Which codes z (K, D) lie in the region that holds `probability` of the Gaussian posterior N(mean, V).

    For a Gaussian the highest-density region is an ellipsoid: (z - m)^T V^-1 (z - m) <= the chi^2_D quantile.
    """
    offset = z - mean
    squared_distance = ((offset @ precision) * offset).sum(-1)
    return squared_distance <= chi2_quantile(probability, mean.shape[0])


def marginal_ellipse(mean, precision, probability=0.95, points=100):
    """The edge (points, 2) of the region holding `probability` of the posterior's marginal over (z[0], z[1])."""
    covariance = torch.linalg.inv(precision)[:2, :2]
    angles = torch.linspace(0, 2 * math.pi, points, dtype=torch.float64)
    circle = torch.stack([angles.cos(), angles.sin()], dim=1) * math.sqrt(chi2_quantile(probability, 2))
    return mean[:2] + circle @ torch.linalg.cholesky(covariance).T
