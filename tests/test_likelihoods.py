"""The likelihoods for grey and 8-bit pixels (vae_helpers.likelihoods): each normalised, each against an independent
formula, and each inside a conv VAE that computes an ELBO, is saved, and is rebuilt from its record alone."""

import math

import pytest
import torch
from torch.distributions import Normal

from vae_helpers import checkpoints, likelihoods
from vae_helpers.models import ConvVAE, build_model
from vae_helpers.objectives import elbo

DOUBLE = torch.float64


def test_the_continuous_bernoulli_integrates_to_one_and_the_bernoulli_on_grey_levels_does_not():
    x = torch.linspace(0, 1, 20_001, dtype=DOUBLE)
    for lam in (0.05, 0.3, 0.5, 0.8, 0.99):
        logit = torch.tensor(lam, dtype=DOUBLE).logit()
        density = likelihoods.ContinuousBernoulliLikelihood()(logit.expand(len(x))[:, None, None, None]).log_prob(
            x[:, None, None, None]).exp()
        # The trapezoid rule's error on this smooth density is far below 1e-8 with 20,000 intervals.
        assert torch.trapezoid(density, x).item() == pytest.approx(1.0, abs=1e-8)
        bernoulli = lam**x * (1 - lam) ** (1 - x)  # BCE's "density": the same form without the constant
        normaliser = 2.0 if lam == 0.5 else 2 * math.atanh(1 - 2 * lam) / (1 - 2 * lam)  # C(lambda), 2 at 1/2
        assert torch.trapezoid(bernoulli, x).item() == pytest.approx(1 / normaliser, abs=1e-8)
        assert 1 / normaliser <= 0.5  # C(lambda) >= 2: BCE's "density" holds at most half the mass


def test_a_gaussian_with_a_fixed_sigma_is_the_squared_error_over_two_sigma_squared_plus_a_constant():
    mean, x = torch.rand(3, 1, 4, 4, dtype=DOUBLE), torch.rand(3, 1, 4, 4, dtype=DOUBLE)
    sigma = 0.2
    log_p = likelihoods.GaussianLikelihood(sigma)(mean).log_prob(x)
    squared_error = ((x - mean) ** 2).sum((1, 2, 3))
    torch.testing.assert_close(-log_p, squared_error / (2 * sigma**2) + 16 * math.log(sigma * math.sqrt(2 * math.pi)))


def test_a_learned_sigma_is_one_parameter_shared_or_one_decoder_output_per_pixel():
    shared = likelihoods.GaussianLikelihood()
    assert [name for name, _ in shared.named_parameters()] == ["log_sigma"] and shared.params_per_channel == 1
    output = torch.randn(2, 1, 3, 3)
    torch.testing.assert_close(shared(output).base_dist.scale, torch.full_like(output, 0.1))
    per_pixel = likelihoods.GaussianLikelihood(per_pixel=True)
    assert list(per_pixel.parameters()) == [] and per_pixel.params_per_channel == 2
    output = torch.randn(2, 2, 3, 3, dtype=DOUBLE)  # one channel: mean and log sigma
    p = per_pixel(output)
    torch.testing.assert_close(p.mean, output[:, :1])
    torch.testing.assert_close(p.base_dist.scale, output[:, 1:].clamp(min=likelihoods.LOG_SIGMA_MIN).exp())


@pytest.mark.parametrize("settings", [{"sigma": 0.0}, {"sigma": -1.0}, {"sigma": "0.1"},
                                      {"sigma": 0.1, "per_pixel": True}])
def test_a_gaussian_likelihood_refuses_a_sigma_that_is_not_a_positive_number(settings):
    with pytest.raises(ValueError, match="sigma must be a positive number"):
        likelihoods.GaussianLikelihood(**settings)


def test_the_discretized_logistic_puts_mass_one_on_the_256_levels_and_matches_cdf_differences():
    generator = torch.Generator().manual_seed(0)
    loc = torch.rand(50, generator=generator, dtype=DOUBLE) * 1.4 - 0.2  # some centres beyond [0, 1]
    log_scale = torch.rand(50, generator=generator, dtype=DOUBLE) * 6 - 8  # scales from 3e-4 to 0.14
    d = likelihoods.DiscretizedLogistic(loc, log_scale)
    probs = d.level_probs()
    torch.testing.assert_close(probs.sum(-1), torch.ones(50, dtype=DOUBLE), rtol=0, atol=1e-12)
    # Against the plain CDF differences, in float64 where they do not cancel badly.
    levels = torch.arange(256, dtype=DOUBLE)
    scale = log_scale.clamp(min=likelihoods.LOG_SIGMA_MIN).exp()[:, None]
    cdf = lambda y: torch.sigmoid((y - loc[:, None]) / scale)  # noqa: E731
    upper = torch.where(levels < 255, cdf((levels + 0.5) / 255), torch.ones(1, dtype=DOUBLE))
    lower = torch.where(levels > 0, cdf((levels - 0.5) / 255), torch.zeros(1, dtype=DOUBLE))
    torch.testing.assert_close(probs, upper - lower, rtol=1e-6, atol=1e-12)
    assert torch.isfinite(d.log_prob(torch.zeros(50, dtype=DOUBLE))).all()
    wide = likelihoods.DiscretizedLogistic(torch.tensor([0.5]), torch.tensor([100.0]))  # float32, as in training
    assert torch.isfinite(wide.level_probs().log()).all()  # a huge predicted scale is capped: exp(100) is inf
    far = likelihoods.DiscretizedLogistic(torch.tensor([5.0]), torch.tensor([-7.0]))  # level 0 from a far centre
    assert torch.isfinite(far.log_prob(torch.tensor([0.0]))).all() and far.log_prob(torch.tensor([0.0])) < -1000


def test_the_discretized_logistic_samples_whole_levels_with_its_mean():
    d = likelihoods.DiscretizedLogistic(torch.full((200_000,), 0.4, dtype=DOUBLE), torch.full((200_000,), -3.0,
                                                                                              dtype=DOUBLE))
    torch.manual_seed(0)
    samples = d.sample()
    assert torch.equal(samples, samples.round()) and samples.min() >= 0 and samples.max() <= 255
    standard_error = samples.std() / math.sqrt(len(samples))
    assert abs(samples.mean() - d.mean[0]) < 4 * standard_error


def test_the_categorical_is_a_softmax_over_256_logits_a_1x1_convolution_makes_per_pixel():
    part = likelihoods.CategoricalLikelihood(features=4).double()
    output = torch.randn(2, 8, 3, 3, dtype=DOUBLE)  # two channels, four decoder outputs per pixel and channel
    x = torch.randint(0, 256, (2, 2, 3, 3)).to(DOUBLE)
    p = part(output)
    weight, bias = part.to_logits.weight[:, :, 0, 0], part.to_logits.bias  # (256, 4), (256,)
    logits = torch.einsum("lf,bcfhw->bclhw", weight, output.view(2, 2, 4, 3, 3)) + bias[:, None, None]
    log_softmax = logits.log_softmax(2)
    torch.testing.assert_close(p.log_prob(x), log_softmax.gather(2, x.long().unsqueeze(2)).sum((1, 2, 3, 4)))
    torch.testing.assert_close(p.mean, (log_softmax.exp() * torch.arange(256, dtype=DOUBLE)[:, None, None]).sum(2))
    torch.manual_seed(0)
    assert p.sample().shape == (2, 2, 3, 3) and part.config() == {"features": 4}
    with pytest.raises(ValueError, match="features must be a positive whole number"):
        likelihoods.CategoricalLikelihood(features=0)


LIKELIHOODS = [likelihoods.ContinuousBernoulliLikelihood(), likelihoods.GaussianLikelihood(0.1),
               likelihoods.GaussianLikelihood(), likelihoods.GaussianLikelihood(per_pixel=True),
               likelihoods.DiscretizedLogisticLikelihood(), likelihoods.CategoricalLikelihood()]


@pytest.mark.parametrize("likelihood", LIKELIHOODS, ids=lambda part: f"{type(part).__name__}{part.params_per_channel}")
def test_each_likelihood_scores_its_images_in_a_conv_vae_and_is_rebuilt_from_the_record(likelihood, tmp_path):
    model = ConvVAE(latent_dim=3, channels=(4, 8), likelihood=likelihood)
    generator = torch.Generator().manual_seed(0)
    if likelihood.support == "unit":
        images = torch.rand(4, 1, 28, 28, generator=generator)
        with pytest.raises(ValueError, match="whole levels"):  # grey levels are what it models; levels are not
            ConvVAE(latent_dim=3, channels=(4, 8), likelihood=likelihoods.CategoricalLikelihood()).check_input(images)
    else:
        images = torch.randint(0, 256, (4, 1, 28, 28), generator=generator).float()
    terms = elbo(model, images, generator=torch.Generator().manual_seed(1))
    assert torch.isfinite(terms.total).all()
    checkpoints.save_checkpoint(tmp_path / "model", model)
    rebuilt, record = checkpoints.load_checkpoint(tmp_path / "model")  # built from the record alone
    assert type(rebuilt.parts["likelihood"]) is type(likelihood) and rebuilt.config() == model.config()
    torch.testing.assert_close(elbo(rebuilt, images, generator=torch.Generator().manual_seed(1)).total, terms.total)
    assert record["model_config"] == model.config()


def test_a_fixed_sigma_gaussian_with_a_normal_written_by_hand_gives_the_same_log_likelihood():
    model = ConvVAE(latent_dim=3, channels=(4, 8), likelihood=likelihoods.GaussianLikelihood(0.3))
    z = torch.randn(2, 3)
    x = torch.rand(2, 1, 28, 28)
    by_hand = Normal(model.decode(z), 0.3).log_prob(x).sum((1, 2, 3))
    torch.testing.assert_close(model.log_likelihood(x, z), by_hand)
    assert build_model("ConvVAE", model.config()).parts["likelihood"].sigma == 0.3
