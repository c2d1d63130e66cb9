"""The ELBO and the IWAE bound on a linear-Gaussian latent model, where log p(x) is known exactly.

Model: z ~ N(0, I_2), x | z ~ N(W z + b, s^2 I_3), so p(x) = N(b, W W^T + s^2 I). W has orthogonal columns,
which makes the exact posterior a diagonal Gaussian: an encoder can then represent it exactly.
"""

import math

import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.models import VAE
from vae_helpers.objectives import elbo, iwae_bound

DOUBLE = torch.float64
W = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=DOUBLE)  # orthogonal columns
B = torch.tensor([0.5, -1.0, 0.3], dtype=DOUBLE)
NOISE_VAR = 0.5


class LinearGaussian(VAE):
    """The model above with an encoder that is the exact posterior, shifted by `mean_error` and `logvar_error`:
    written as parts (the default prior N(0, I), this posterior and likelihood), as any VAE of the series is."""

    def __init__(self, mean_error=0.0, logvar_error=0.0):
        super().__init__(latent_dim=2)
        self.mean_error, self.logvar_error = mean_error, logvar_error
        self.posterior_cov = torch.linalg.inv(torch.eye(2, dtype=DOUBLE) + W.T @ W / NOISE_VAR)  # diagonal
        self.double()  # the prior's buffers too: the model computes in float64

    def check_input(self, x, name="x", *, exact=False):
        """This model's data are real 3-vectors, not images: only the shape is checked."""
        if x.dim() != 2 or x.shape[1] != 3:
            raise ValueError(f"{name} must have shape (N, 3), got {tuple(x.shape)}")
        return x

    def posterior(self, x, c=None):
        mu = (x - B) @ W @ self.posterior_cov / NOISE_VAR + self.mean_error
        logvar = torch.log(torch.diagonal(self.posterior_cov)).expand_as(mu) + self.logvar_error
        return DiagonalGaussian(mu, logvar)

    def likelihood(self, z, c=None):
        return Independent(Normal(z @ W.T + B, NOISE_VAR**0.5), 1)


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


class RecordingLinearGaussian(LinearGaussian):
    """LinearGaussian that records every (x, z) pair its likelihood sees, so a test can redo the sum from them."""

    def __init__(self, **errors):
        super().__init__(**errors)
        self.seen = []

    def log_likelihood(self, x, z, c=None):
        self.seen.append((x.clone(), z.clone()))
        return super().log_likelihood(x, z, c)


def reference_iwae(model, x, seen):
    """log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) per image, over every z recorded for it, from torch.distributions."""
    xs, zs = torch.cat([pair[0] for pair in seen]), torch.cat([pair[1] for pair in seen])
    mu, logvar = model.encode(x)
    estimates, counts, spreads = [], [], []
    for n in range(len(x)):
        z = zs[(xs == x[n]).all(dim=1)]  # every sample drawn for image n, across all chunks
        log_weights = (Normal(z @ W.T + B, NOISE_VAR**0.5).log_prob(x[n]).sum(-1) + Normal(0.0, 1.0).log_prob(z).sum(-1)
                       - Normal(mu[n], torch.exp(0.5 * logvar[n])).log_prob(z).sum(-1))
        estimates.append(torch.logsumexp(log_weights, dim=0) - math.log(len(z)))
        counts.append(len(z))
        spreads.append(log_weights.std().item())
    return torch.stack(estimates), counts, min(spreads)


def test_chunking_uses_every_sample_once_and_averages_the_weights_not_the_chunks():
    # An inexact encoder, so the log-weights differ from sample to sample: averaging per-chunk estimates, or
    # dropping the last partial chunk (25 = 7 + 7 + 7 + 4), would then give a different number.
    x = data(11)
    for settings in ({"max_decodes": 7}, {"max_decodes": 7, "batch_size": 4}, {"max_decodes": 4096}):
        model = RecordingLinearGaussian(mean_error=0.8, logvar_error=1.0)
        chunked = iwae_bound(model, x, num_samples=25, generator=torch.Generator().manual_seed(0), **settings)
        assert chunked.shape == (11,)
        reference, counts, smallest_spread = reference_iwae(model, x, model.seen)
        assert counts == [25] * 11, settings
        assert smallest_spread > 0.5  # the weights really differ, so how they are combined matters
        torch.testing.assert_close(chunked, reference, rtol=0, atol=1e-10)


def test_chunking_keeps_the_estimate_exact_and_the_shape():
    x, model = data(37), LinearGaussian()
    chunked = iwae_bound(model, x, num_samples=25, max_decodes=7)  # chunks of 7 samples, one image a pass
    assert chunked.shape == (37,)
    torch.testing.assert_close(chunked, exact_log_px(x))
