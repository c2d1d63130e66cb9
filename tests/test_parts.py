"""A VAE made of parts (vae_helpers.parts): each part against torch.distributions, and parts the package does not
ship, written here, trained through fit, saved, loaded and scored by iwae_bound with no change to the core."""

import math

import pytest
import torch
from torch import nn
from torch.distributions import (Bernoulli, Categorical, Independent, MixtureSameFamily, Normal, kl_divergence)

from vae_helpers import checkpoints, data, distributions, parts, plotting
from vae_helpers.models import ConvVAE, MLPVAE
from vae_helpers.objectives import elbo, iwae_bound
from vae_helpers.training import evaluate_elbo, fit

SMALL = {"hidden_dims": (32,)}
FAST = {"num_epochs": 1, "batch_size": 32, "progress": False, "device": "cpu"}


# ---- the default parts against torch.distributions ----------------------------------------------------------------

def test_the_default_prior_is_the_standard_normal():
    prior = parts.StandardNormalPrior(3)()
    z = torch.randn(7, 3)
    reference = Independent(Normal(torch.zeros(3), torch.ones(3)), 1)
    torch.testing.assert_close(prior.log_prob(z), reference.log_prob(z))
    assert prior.event_shape == (3,) and prior.batch_shape == () and prior.sample((5,)).shape == (5, 3)
    assert list(parts.StandardNormalPrior(3).state_dict()) == []  # nothing for a checkpoint to hold


def test_the_default_posterior_is_a_diagonal_gaussian_with_a_reparameterized_sample():
    features = torch.randn(4, 6, requires_grad=True)  # mu and logvar of 4 codes of 3 numbers
    q = parts.DiagonalGaussianPosterior(3)(features)
    mu, logvar = features.detach().chunk(2, dim=-1)
    reference = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    z = q.rsample((5,), generator=torch.Generator().manual_seed(0))
    assert z.shape == (5, 4, 3) and q.batch_shape == (4,) and q.event_shape == (3,)
    torch.testing.assert_close(q.log_prob(z.detach()), reference.log_prob(z.detach()))
    torch.testing.assert_close(q.mean, mu)
    z.sum().backward()
    assert features.grad is not None and features.grad.abs().sum() > 0  # the gradient reaches mu and logvar
    p = parts.StandardNormalPrior(3)()
    torch.testing.assert_close(kl_divergence(q, p), kl_divergence(reference, Independent(Normal(0.0, 1.0).expand((3,)), 1)))
    torch.testing.assert_close(q.entropy(), reference.entropy())


def test_the_posterior_clamps_logvar_so_sigma_stays_finite():
    q = parts.DiagonalGaussianPosterior(1)(torch.tensor([[0.0, 1e4]]))
    assert q.logvar.item() == parts.LOGVAR_MAX and torch.isfinite(q.stddev).all()


def test_the_default_likelihood_is_bernoulli_pixels_with_the_probabilities_as_mean():
    logits = torch.randn(5, 1, 4, 4) * 3
    x = torch.bernoulli(torch.full((5, 1, 4, 4), 0.5))
    likelihood = parts.BernoulliLikelihood()(logits)
    reference = Independent(Bernoulli(logits=logits), 3)
    assert likelihood.event_shape == (1, 4, 4) and likelihood.batch_shape == (5,)
    torch.testing.assert_close(likelihood.log_prob(x), reference.log_prob(x))
    torch.testing.assert_close(likelihood.log_prob(x), distributions.bernoulli_log_prob(x, logits))
    torch.testing.assert_close(likelihood.mean, torch.sigmoid(logits))
    assert likelihood.sample((2,)).shape == (2, 5, 1, 4, 4)


@pytest.mark.parametrize("model", [MLPVAE(latent_dim=3, **SMALL), ConvVAE(latent_dim=3, channels=(4, 8))], ids=repr)
def test_a_model_speaks_through_its_parts_as_it_does_through_encode_and_decode(model):
    x = torch.bernoulli(torch.full((6, 1, 28, 28), 0.3))
    with torch.no_grad():
        mu, logvar = model.encode(x)
        q = model.posterior(x)
        torch.testing.assert_close((q.mu, q.logvar), (mu, logvar))
        likelihood = model.likelihood(mu)
        torch.testing.assert_close(likelihood.mean, torch.sigmoid(model.decode(mu)))
        torch.testing.assert_close(likelihood.log_prob(x), distributions.bernoulli_log_prob(x, model.decode(mu)))
        assert model.prior().event_shape == (3,)
    terms = elbo(model, x)
    assert terms.kl_method == "closed form" and terms.kl_per_dim.shape == (6, 3)
    torch.testing.assert_close(terms.kl, distributions.gaussian_kl(mu, logvar), atol=1e-5, rtol=0)


def test_draw_with_a_generator_is_reproducible_for_any_distribution_and_leaves_the_global_stream_alone():
    mixture = mixture_of_gaussians(torch.randn(3, 2), torch.zeros(3, 2), torch.zeros(3))
    torch.manual_seed(5)
    expected_next = torch.rand(1)
    torch.manual_seed(5)
    first = distributions.draw(mixture, (4,), torch.Generator().manual_seed(1))
    assert torch.equal(torch.rand(1), expected_next)  # the global stream is where it was
    torch.testing.assert_close(first, distributions.draw(mixture, (4,), torch.Generator().manual_seed(1)))
    assert not torch.equal(first, distributions.draw(mixture, (4,), torch.Generator().manual_seed(2)))
    assert first.shape == (4, 2)


def test_a_prior_of_the_wrong_size_is_refused_by_name():
    with pytest.raises(ValueError, match=r"the prior must be a distribution over codes of shape \(3,\), got a "
                                         r"DiagonalGaussian with event shape \(2,\)"):
        MLPVAE(latent_dim=3, prior=parts.StandardNormalPrior(2), **SMALL)


# ---- parts written here, used with no change to the core ----------------------------------------------------------

def mixture_of_gaussians(means, log_scales, logits):
    components = Independent(Normal(means, torch.exp(log_scales)), 1)
    return MixtureSameFamily(Categorical(logits=logits), components)


class MixturePrior(nn.Module):
    """p(z) = sum_k pi_k N(m_k, diag s_k^2), with learned weights, means and scales."""

    def __init__(self, latent_dim, num_components=4):
        super().__init__()
        self.means = nn.Parameter(torch.randn(num_components, latent_dim))
        self.log_scales = nn.Parameter(torch.zeros(num_components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(num_components))

    def forward(self):
        return mixture_of_gaussians(self.means, self.log_scales, self.logits)

    def config(self):
        return {"latent_dim": self.means.shape[1], "num_components": self.means.shape[0]}


class GaussianLikelihood(nn.Module):
    """p(x|z) = N(decoder output, s^2) for every pixel, with one learned scale s: a density on grey levels."""

    params_per_channel = 1
    support = "unit"

    def __init__(self):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(-1.0))

    def forward(self, output):
        return Independent(Normal(output, self.log_scale.exp()), 3)


class LevelsLikelihood(nn.Module):
    """p(x|z): a 256-way categorical for each 8-bit pixel, read from 256 decoder outputs per channel."""

    params_per_channel = 256
    support = "levels"

    def forward(self, output):  # (B, C * 256, H, W) -> a distribution over (C, H, W) whole levels
        batch, _, height, width = output.shape
        logits = output.view(batch, -1, 256, height, width).movedim(2, -1)
        return Independent(_Levels(logits=logits), 3)


class _Levels(Categorical):
    """A categorical over 0-255 whose values may be floats holding whole numbers (what check_images lets in)."""

    def log_prob(self, value):
        return super().log_prob(value.long())

    @property
    def mean(self):
        return (self.probs * torch.arange(256, dtype=self.probs.dtype)).sum(-1)


def save_load_and_score(model, path, images, **scoring):
    """Save `model`, load it into a fresh copy made by the same constructor (parts included), and return both
    models' IWAE bounds on `images` with the same draws."""
    checkpoints.save_checkpoint(path, model)
    settings = {key: value for key, value in model.config().items() if key not in parts.DEFAULTS}
    others = {role: _fresh(part) for role, part in model.parts.items() if type(part) is not parts.DEFAULTS[role]}
    copy = type(model)(**settings, **others)
    copy.load_state_dict({name: torch.zeros_like(t) for name, t in copy.state_dict().items()})  # forget everything
    checkpoints.load_checkpoint(path, copy)
    scores = [iwae_bound(m, images, num_samples=8, generator=torch.Generator().manual_seed(0), **scoring)
              for m in (model, copy)]
    return copy, scores


def _fresh(part):
    return type(part)(**part.config()) if hasattr(part, "config") else type(part)()


def test_a_mixture_prior_trains_is_saved_loaded_and_scored(tmp_path):
    images = data.load_digits(split="train", limit=96).images
    binary = data.binarize(images[:16], seed=0)
    model = MLPVAE(latent_dim=2, prior=MixturePrior(2), **SMALL)
    before = model.parts["prior"].means.detach().clone()
    fit(model, images, **FAST)
    assert not torch.equal(before, model.parts["prior"].means)  # the prior's parameters trained with the model
    terms = elbo(model, binary, generator=torch.Generator().manual_seed(0))
    assert terms.kl_method == "Monte Carlo" and terms.kl_per_dim is None  # no closed form KL to a mixture
    q, p = model.posterior(binary), model.prior()
    z = q.rsample(generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(terms.kl, (q.log_prob(z) - p.log_prob(z)).detach(), rtol=0, atol=1e-5)
    assert model.config()["prior"] == {"class": "tests.test_parts.MixturePrior", "latent_dim": 2, "num_components": 4}
    copy, (score, copy_score) = save_load_and_score(model, tmp_path / "mixture", binary)
    torch.testing.assert_close(copy.parts["prior"].means, model.parts["prior"].means)
    torch.testing.assert_close(copy_score, score)
    assert torch.isfinite(score).all()


def test_a_record_naming_a_part_the_package_cannot_build_is_refused_with_what_to_do(tmp_path):
    model = MLPVAE(latent_dim=2, prior=MixturePrior(2), **SMALL)
    checkpoints.save_checkpoint(tmp_path / "mixture", model)
    with pytest.raises(ValueError, match=r"the record's prior is 'tests.test_parts.MixturePrior', which build_model "
                                         r"does not make: build the model with that prior and pass it to "
                                         r"load_checkpoint\(path, model\)"):
        checkpoints.load_checkpoint(tmp_path / "mixture")
    with pytest.raises(checkpoints.CheckpointError, match="different architecture"):
        checkpoints.load_checkpoint(tmp_path / "mixture", MLPVAE(latent_dim=2, **SMALL))  # the default prior


def test_free_bits_are_refused_before_training_where_the_kl_has_no_terms_per_dimension():
    model = MLPVAE(latent_dim=2, prior=MixturePrior(2), **SMALL)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"free_bits floors the KL of each latent dimension, which this model's q "
                                         r"and prior \(MixtureSameFamily\) do not have in closed form: train with free_bits=0"):
        fit(model, data.load_digits(split="train", limit=8).images, free_bits=0.5, **FAST)
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())


def test_a_gaussian_likelihood_with_a_learned_scale_trains_on_grey_levels_and_scores_them(tmp_path):
    grey = data.load_digits(split="train", limit=96).images
    model = ConvVAE(latent_dim=4, channels=(4, 8), likelihood=GaussianLikelihood())
    with torch.no_grad():
        z = torch.randn(3, 4)
        torch.testing.assert_close(model.likelihood(z).log_prob(grey[:3]),
                                   Normal(model.decode(z), math.exp(-1.0)).log_prob(grey[:3]).sum((1, 2, 3)))
    scale_before = model.parts["likelihood"].log_scale.item()
    history = fit(model, grey, grey[:32], binarize=False, **FAST)  # grey levels as they are: a density on [0, 1]
    assert model.parts["likelihood"].log_scale.item() != scale_before and math.isfinite(history.validation_elbo[0])
    _, (score, copy_score) = save_load_and_score(model, tmp_path / "gaussian", grey[:16])
    torch.testing.assert_close(copy_score, score)
    with pytest.raises(ValueError, match=r"x must have pixels in \[0, 1\], found values from 0 to 255"):
        iwae_bound(model, grey[:4] * 255, num_samples=2)


def test_a_three_channel_model_trains_on_random_images_and_shows_them_in_colour(tmp_path):
    images = torch.rand(64, 3, 32, 32)
    for model in (MLPVAE(latent_dim=4, image_shape=(3, 32, 32), **SMALL),
                  ConvVAE(latent_dim=4, channels=(4, 8), image_shape=(3, 32, 32))):
        fit(model, images, images[:16], **FAST)
        assert model.sample(5).shape == (5, 3, 32, 32) and model.config()["image_shape"] == [3, 32, 32]
        binary = data.binarize(images[:8], seed=0)
        _, (score, copy_score) = save_load_and_score(model, tmp_path / type(model).__name__, binary)
        torch.testing.assert_close(copy_score, score)
    assert plotting.tile_images(images[:4], ncols=2).shape == (2 * 32 + 2, 2 * 32 + 2, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3, 32, 32\), got \(2, 32, 32, 3\): channels come "
                                         r"last here, put them first with images.permute\(0, 3, 1, 2\)"):
        elbo(model, images[:2].permute(0, 2, 3, 1))
    with pytest.raises(ValueError, match="height and width must be multiples of 4"):
        ConvVAE(image_shape=(1, 30, 30))


@pytest.mark.parametrize("make_model", [lambda: MLPVAE(latent_dim=3, condition_dim=10, **SMALL),
                                        lambda: ConvVAE(latent_dim=3, channels=(4, 8), condition_dim=10)])
def test_a_model_conditioned_on_a_one_hot_label_trains_is_saved_loaded_and_scored(make_model, tmp_path):
    train = data.load_digits(split="train", limit=96)
    test = data.load_digits(split="test", binarized=True, limit=12)
    one_hot = lambda labels: nn.functional.one_hot(labels, 10).float()  # noqa: E731
    model = make_model()
    fit(model, train.images, train.images[:32], train_conditions=one_hot(train.labels),
        validation_conditions=one_hot(train.labels[:32]), **FAST)
    c = one_hot(test.labels)
    _, (score, copy_score) = save_load_and_score(model, tmp_path / "conditional", test.images, c=c)
    torch.testing.assert_close(copy_score, score)
    with torch.no_grad():  # the label reaches the decoder: another label, another image from the same code
        z = torch.zeros(1, 3)
        assert not torch.equal(model.likelihood(z, c[:1]).mean, model.likelihood(z, one_hot(test.labels[:1] + 1)).mean)
    assert model.sample(4, c=c[:4]).shape == (4, 1, 28, 28)
    assert math.isfinite(evaluate_elbo(model, test.images, conditions=c)["elbo"])
    with pytest.raises(ValueError, match=r"c must be a tensor with 12 rows of 10 numbers, one per example \(a one-hot label, say\), got None"):
        elbo(model, test.images)
    with pytest.raises(ValueError, match=r"c must be a tensor with 12 rows of 10 numbers, one per example \(a one-hot label, say\), got "
                                         r"\(12, 9\)"):
        iwae_bound(model, test.images, num_samples=2, c=c[:, :9])
    with pytest.raises(ValueError, match="c must be a tensor with 96 rows"):
        fit(model, train.images, train_conditions=c, **FAST)
    with pytest.raises(ValueError, match=r"c must be None: this model takes no condition \(condition_dim=0\), got \(12, 10\)"):
        elbo(MLPVAE(latent_dim=3, **SMALL), test.images, c=c)


def test_a_discrete_likelihood_of_8_bit_levels_reads_whole_levels_only():
    model = MLPVAE(latent_dim=2, likelihood=LevelsLikelihood(), **SMALL)
    levels = (data.load_digits(split="test", limit=4).images * 255).round()
    score = iwae_bound(model, levels, num_samples=4)
    assert score.shape == (4,) and torch.isfinite(score).all()
    with pytest.raises(ValueError, match=r"x must hold whole levels 0-255 for a likelihood of 8-bit pixels, found "
                                         r"[\d,]+ pixels with a fractional part"):
        elbo(model, levels / 255)
    with pytest.raises(ValueError, match=r"must have pixels in \[0, 255\], found values from 1 to 256: 8-bit pixels"):
        elbo(model, levels + 1)


def test_float64_images_are_taken_as_the_models_dtype():
    model = MLPVAE(latent_dim=2, **SMALL)
    images = data.load_digits(split="train", limit=32).images.double()  # what numpy gives a learner
    terms = elbo(model, images)
    assert terms.total.dtype == torch.float32 and torch.isfinite(terms.total).all()
    history = fit(model, images, data.binarize(images[:8], seed=0), **FAST)
    assert math.isfinite(history.validation_elbo[0])
    assert iwae_bound(model, data.binarize(images[:4], seed=0), num_samples=2).dtype == torch.float32


def test_a_proposal_other_than_the_encoder_gives_the_same_bound_when_it_is_the_encoders_q():
    model = MLPVAE(latent_dim=2, **SMALL)
    x = data.load_digits(split="test", binarized=True, limit=5).images
    with torch.no_grad():
        q = model.posterior(x)
    encoder = iwae_bound(model, x, num_samples=50, generator=torch.Generator().manual_seed(3))
    proposal = iwae_bound(model, x, num_samples=50, proposal=distributions.DiagonalGaussian(q.mu, q.logvar),
                          generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(proposal, encoder)
    wider = iwae_bound(model, x, num_samples=50, proposal=distributions.DiagonalGaussian(q.mu, q.logvar + 4),
                       generator=torch.Generator().manual_seed(3))
    assert not torch.allclose(wider, encoder)
    with pytest.raises(ValueError, match=r"proposal must be a distribution over codes for each of the 5 images"):
        iwae_bound(model, x, num_samples=2, proposal=distributions.DiagonalGaussian(q.mu[:3], q.logvar[:3]))


def test_a_prior_written_with_torchs_own_normal_gets_the_closed_form_kl_and_its_terms_per_dimension():
    class NormalPrior(nn.Module):  # a learned diagonal Gaussian, as torch.distributions writes it
        def __init__(self):
            super().__init__()
            self.loc = nn.Parameter(torch.zeros(2))

        def forward(self):
            return Independent(Normal(self.loc, torch.ones(2)), 1)

    model = MLPVAE(latent_dim=2, prior=NormalPrior(), **SMALL)
    x = data.load_digits(split="test", binarized=True, limit=4).images
    terms = elbo(model, x)
    assert terms.kl_method == "closed form" and terms.kl_per_dim.shape == (4, 2)
    torch.testing.assert_close(terms.kl, terms.kl_per_dim.sum(-1))
    fit(model, data.load_digits(split="train", limit=32).images, free_bits=0.1, **FAST)  # free bits need the terms


@pytest.mark.parametrize("make_model", [lambda: MLPVAE(latent_dim=3, condition_dim=784, **SMALL),
                                        lambda: ConvVAE(latent_dim=3, channels=(4, 8), condition_dim=784)])
def test_a_model_conditioned_on_the_visible_part_of_an_image_trains_and_is_scored(make_model):
    # The inpainting form of a condition: the image with its hidden part set to 0, shape (B, 1, 28, 28).
    train = data.load_digits(split="train", limit=64).images
    visible = train.clone()
    visible[..., 14:] = 0.0  # the bottom half hidden
    model = make_model()
    fit(model, train, train_conditions=visible, **FAST)
    test = data.load_digits(split="test", binarized=True, limit=6).images
    c = test.clone()
    c[..., 14:] = 0.0
    assert iwae_bound(model, test, num_samples=4, c=c).shape == (6,)
    assert model.sample(6, c=c, generator=torch.Generator().manual_seed(0)).shape == (6, 1, 28, 28)
