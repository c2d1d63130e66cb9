"""The ELBO and the IWAE bound on a linear-Gaussian latent model, where log p(x) is known exactly.

Model: z ~ N(0, I_2), x | z ~ N(W z + b, s^2 I_3), so p(x) = N(b, W W^T + s^2 I). W has orthogonal columns,
which makes the exact posterior a diagonal Gaussian: an encoder can then represent it exactly.
"""

import torch
from torch.distributions import MultivariateNormal

from vae_helpers.distributions import gaussian_log_prob
from vae_helpers.models import VAE
from vae_helpers.objectives import elbo, iwae_bound

DOUBLE = torch.float64
W = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=DOUBLE)  # orthogonal columns
B = torch.tensor([0.5, -1.0, 0.3], dtype=DOUBLE)
NOISE_VAR = 0.5


class LinearGaussian(VAE):
    """The model above with an encoder that is the exact posterior, shifted by `mean_error` and `logvar_error`."""

    def __init__(self, mean_error=0.0, logvar_error=0.0):
        super().__init__(latent_dim=2)
        self.mean_error, self.logvar_error = mean_error, logvar_error
        self.posterior_cov = torch.linalg.inv(torch.eye(2, dtype=DOUBLE) + W.T @ W / NOISE_VAR)  # diagonal

    def encode(self, x):
        mu = (x - B) @ W @ self.posterior_cov / NOISE_VAR + self.mean_error
        logvar = torch.log(torch.diagonal(self.posterior_cov)).expand_as(mu) + self.logvar_error
        return mu, logvar

    def log_likelihood(self, x, z):
        return gaussian_log_prob(x, z @ W.T + B, torch.full_like(x, NOISE_VAR).log())


def exact_log_px(x):
    return MultivariateNormal(B, W @ W.T + NOISE_VAR * torch.eye(3, dtype=DOUBLE)).log_prob(x)


def data(n=400, seed=0):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=generator, dtype=DOUBLE)
    return z @ W.T + B + NOISE_VAR**0.5 * torch.randn(n, 3, generator=generator, dtype=DOUBLE)


def test_with_the_exact_posterior_every_bound_equals_log_px():
    x, model = data(), LinearGaussian()
    torch.testing.assert_close(iwae_bound(model, x, num_samples=1), exact_log_px(x))
    # With q = posterior the ELBO equals log p(x); its one-sample estimate does so on average over samples.
    repeated = x[:3].repeat_interleave(20_000, dim=0)
    estimates = elbo(model, repeated, generator=torch.Generator().manual_seed(0)).total.view(3, -1).mean(1)
    torch.testing.assert_close(estimates, exact_log_px(x[:3]), atol=0.02, rtol=0)


def test_iwae_bound_rises_with_k_and_approaches_log_px_from_below():
    x, model = data(), LinearGaussian(mean_error=0.4, logvar_error=0.6)
    exact = exact_log_px(x).mean()
    generator = torch.Generator().manual_seed(3)
    bounds = [iwae_bound(model, x, num_samples=k, generator=generator).mean() for k in (1, 10, 100, 1000)]
    assert all(a < b for a, b in zip(bounds, bounds[1:])), bounds
    assert bounds[-1] < exact
    assert exact - bounds[-1] < 0.1 * (exact - bounds[0]), (exact, bounds)


def test_elbo_is_a_lower_bound_and_k1_iwae_estimates_the_same_quantity():
    x, model = data(2000), LinearGaussian(mean_error=0.4, logvar_error=0.6)
    terms = elbo(model, x, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(terms.total, terms.reconstruction - terms.kl)
    assert terms.total.mean() < exact_log_px(x).mean()
    k1 = iwae_bound(model, x, num_samples=1, generator=torch.Generator().manual_seed(2)).mean()
    assert abs(k1 - terms.total.mean()) < 0.1


def test_beta_weights_only_the_kl_term():
    x, model = data(10), LinearGaussian(mean_error=0.4)
    one = elbo(model, x, beta=1.0, generator=torch.Generator().manual_seed(0))
    four = elbo(model, x, beta=4.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(four.reconstruction, one.reconstruction)
    torch.testing.assert_close(four.total, one.reconstruction - 4 * one.kl)


def test_chunking_keeps_the_estimate_exact_and_the_shape():
    x, model = data(37), LinearGaussian()
    chunked = iwae_bound(model, x, num_samples=25, max_decodes=7)  # chunks of 7 samples, one image a pass
    assert chunked.shape == (37,)
    torch.testing.assert_close(chunked, exact_log_px(x))
