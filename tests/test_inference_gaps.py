"""Per-image Gaussians found with the decoder fixed: on a model whose posterior is a diagonal Gaussian they recover
it exactly (no approximation gap), and what they gain over a wrong encoder is exactly the amortization gap."""

import math

import pytest
import torch

from vae_helpers import data, inference_gaps
from vae_helpers.distributions import DiagonalGaussian, gaussian_kl
from vae_helpers.inference_gaps import fit_local_posteriors
from vae_helpers.models import MLPVAE
from vae_helpers.objectives import elbo

from .test_objectives import LinearGaussian, exact_log_px
from .test_objectives import data as linear_gaussian_data


def posterior_elbo(model, x, mu, logvar, **settings):
    """The ELBO under q = N(mu, diag exp(logvar)) in place of the encoder's."""
    return elbo(model, x, posterior=DiagonalGaussian(mu, logvar), **settings).total


def test_local_posteriors_recover_the_exact_posterior_from_a_wrong_encoder():
    x = linear_gaussian_data(n=20)
    exact, wrong = LinearGaussian(), LinearGaussian(mean_error=0.8, logvar_error=1.0)
    mu, logvar = fit_local_posteriors(wrong, x, steps=1500, lr=0.02, num_samples=256,
                                      generator=torch.Generator().manual_seed(0))
    true_mu, true_logvar = exact.encode(x)
    torch.testing.assert_close(mu, true_mu, atol=0.05, rtol=0)
    torch.testing.assert_close(logvar, true_logvar, atol=0.1, rtol=0)
    # the best Gaussian is the posterior: its ELBO is log p(x), so the approximation gap is zero here ...
    local = posterior_elbo(exact, x, mu, logvar, num_samples=20_000, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(local, exact_log_px(x), atol=0.02, rtol=0)
    # ... and all of the wrong encoder's gap is amortization: log p(x) - ELBO(q_phi) = KL(q_phi || posterior)
    wrong_mu, wrong_logvar = wrong.encode(x)
    encoder = posterior_elbo(wrong, x, wrong_mu, wrong_logvar, num_samples=20_000,
                             generator=torch.Generator().manual_seed(2))
    kl_to_posterior = gaussian_kl(wrong_mu, wrong_logvar, true_mu, true_logvar)  # 4.56 nats for every point
    torch.testing.assert_close(local - encoder, kl_to_posterior, atol=0.1, rtol=0)  # up to Monte Carlo noise


def test_the_decoder_stays_fixed_and_every_digit_gains():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=4, hidden_dims=(32,))
    x = data.load_digits(split="validation", binarized=True, limit=16).images
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    mu, logvar = fit_local_posteriors(model, x, steps=100, num_samples=4, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert all(parameter.requires_grad for parameter in model.parameters()) and model.training
    with torch.no_grad():
        encoder_mu, encoder_logvar = model.encode(x)
        scores = [posterior_elbo(model, x, m, v, num_samples=500, generator=torch.Generator().manual_seed(3))
                  for m, v in ((encoder_mu, encoder_logvar), (mu, logvar))]
    assert (scores[1] > scores[0]).all()  # each digit's own Gaussian beats the shared encoder's


class ConstantLikelihood(MLPVAE):
    """log p(x|z) = -5 nats for every x and z, so E_q[log p(x|z)] is -5 however the draws are chunked."""

    def log_likelihood(self, x, z, c=None):
        return torch.full((len(z),), -5.0)


def test_the_elbo_of_many_draws_averages_every_draw_once_whatever_the_chunk_size():
    model = ConstantLikelihood(latent_dim=4, hidden_dims=(32,))
    x = data.load_digits(split="validation", binarized=True, limit=6).images
    with torch.no_grad():
        mu, logvar = model.encode(x)
        for decodes in (60, 24, 12, 7, 1):  # 10 draws at once; in chunks of 4, 4, 2; of 2; of 1 (7 // 6); of 1
            torch.testing.assert_close(posterior_elbo(model, x, mu, logvar, num_samples=10, max_decodes=decodes),
                                       -5.0 - gaussian_kl(mu, logvar))


def tiny_2d_model():
    torch.manual_seed(0)
    return MLPVAE(latent_dim=2, hidden_dims=(8,), image_shape=(1, 2, 2))


def test_quadrature_of_a_decoder_that_ignores_z_gives_its_likelihood():
    model = tiny_2d_model()
    with torch.no_grad():
        model.decoder[-2].weight.zero_()  # the logits are the bias: p(x|z) is the same for every z
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    expected = model.log_likelihood(x, torch.zeros(1, 2))  # times the prior's mass in the square, 1 - 1e-6
    assert inference_gaps.log_evidence_on_grid(model, x).item() == pytest.approx(expected.item(), abs=1e-5)


def test_quadrature_agrees_with_a_uniform_fine_grid():
    model = tiny_2d_model()
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 0.0], [1.0, 1.0]]]])
    centres = -6 + 0.02 * (torch.arange(600) + 0.5)
    z = torch.cartesian_prod(centres, centres)
    with torch.no_grad():
        brute = torch.stack([torch.logsumexp(model.log_likelihood(image.expand(len(z), 1, 2, 2), z)
                                             + model.prior().log_prob(z), 0) + 2 * math.log(0.02) for image in x])
    assert torch.allclose(inference_gaps.log_evidence_on_grid(model, x), brute, atol=1e-4)


def test_quadrature_needs_a_2d_code():
    with pytest.raises(ValueError, match="needs a 2-D code"):
        inference_gaps.log_evidence_on_grid(MLPVAE(latent_dim=3), torch.zeros(1, 1, 28, 28))


def test_the_grid_mode_is_the_best_code_on_a_finer_grid_within_one_cell():
    model = tiny_2d_model()
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    mode = inference_gaps.modes_on_grid(model, x, step=0.1)[0]
    centres = -5 + 0.01 * (torch.arange(1000) + 0.5)
    z = torch.cartesian_prod(centres, centres)
    with torch.no_grad():
        fine_best = z[(model.log_likelihood(x.expand(len(z), 1, 2, 2), z) + model.prior().log_prob(z)).argmax()]
    assert (mode - fine_best).abs().max() <= 0.1


def test_the_best_of_two_bounds_comes_close_to_log_p_x_from_below_on_average():
    model = tiny_2d_model()
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 1.0], [1.0, 1.0]]]])
    exact = inference_gaps.log_evidence_on_grid(model, x)
    best = inference_gaps.best_iwae_bound(model, x, 2000, steps=50, generator=torch.Generator().manual_seed(0))
    assert ((exact - best).abs() < 0.05).all()  # a broad posterior: 2,000 draws from either proposal suffice


def test_a_fit_can_start_from_given_codes():
    model = tiny_2d_model()
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    start = (torch.tensor([[3.0, -3.0]]), torch.full((1, 2), -4.0))
    mu, _ = fit_local_posteriors(model, x, steps=1, lr=1e-3, start=start, generator=torch.Generator().manual_seed(0))
    assert (mu - start[0]).abs().max() < 0.01  # one tiny step from the given start, not from the encoder's mean
