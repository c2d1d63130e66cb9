"""Notebook 08's helpers: per-dimension KL and active dimensions, rate and distortion, the beta ladder and its explorer,
and the exercise checks with right and typical wrong answers."""

import math

import pytest
import torch

from vae_helpers import data, diagnostics, distributions, exercises, pretrained, training
from vae_helpers.explorers import beta as beta_explorer
from vae_helpers.models import MLPVAE


def test_kl_per_dimension_adds_up_to_the_mean_kl_and_matches_torch():
    generator = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(50, 4, generator=generator), torch.randn(50, 4, generator=generator)
    prior = distributions.DiagonalGaussian(torch.zeros(4), torch.zeros(4))
    per_dim = diagnostics.kl_per_dimension(distributions.DiagonalGaussian(mu, logvar), prior)
    assert per_dim.sum().item() == pytest.approx(distributions.gaussian_kl(mu, logvar).mean().item(), rel=1e-6)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    torch.testing.assert_close(per_dim, torch.distributions.kl_divergence(q, p).mean(0))


def test_a_prior_without_terms_per_dimension_is_refused_by_name():
    q = distributions.DiagonalGaussian(torch.zeros(5, 2), torch.zeros(5, 2))
    components = torch.distributions.Independent(torch.distributions.Normal(torch.randn(3, 2), torch.ones(3, 2)), 1)
    mixture = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(logits=torch.zeros(3)), components)
    with pytest.raises(ValueError, match=r"KL\(DiagonalGaussian \|\| MixtureSameFamily\) has no terms per latent"):
        diagnostics.kl_per_dimension(q, mixture)


def test_active_dimensions_are_those_above_the_series_kl_threshold():
    kl_per_dim = torch.tensor([0.5, 0.1, 0.09, 2.0, 0.0])
    assert diagnostics.dimensions_with_kl_above(kl_per_dim).tolist() == [0, 3]  # strictly above 0.1 nats
    assert diagnostics.dimensions_with_kl_above(kl_per_dim, nats=0.05).tolist() == [0, 1, 2, 3]


def test_rate_plus_distortion_is_minus_the_elbo():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=4, hidden_dims=(32,))
    images = torch.bernoulli(torch.full((64, 1, 28, 28), 0.3), generator=torch.Generator().manual_seed(0))
    rate, distortion = diagnostics.rate_distortion(model, images)
    scores = training.evaluate_elbo(model, images)
    assert rate == pytest.approx(scores["kl"]) and -(rate + distortion) == pytest.approx(scores["elbo"])
    assert rate > 0 and distortion > 0


def test_the_ladder_names_its_checkpoints_and_refuses_other_betas():
    assert [pretrained.ladder_name(beta) for beta in pretrained.BETA_LADDER] == [
        "conv_vae_16d_beta_0_25", "conv_vae_16d_beta_0_5", "conv_vae_16d", "conv_vae_16d_beta_2",
        "conv_vae_16d_beta_4", "conv_vae_16d_beta_8"]
    assert all(pretrained.recipe_settings(pretrained.ladder_name(beta))[2]["beta"] == beta
               for beta in pretrained.BETA_LADDER)
    with pytest.raises(ValueError, match=r"beta must be one of the ladder's \(0.25, .*\), got 3"):
        pretrained.ladder_name(3)


@pytest.fixture(scope="module")
def ladder_explorer():
    return beta_explorer.beta_ladder_explorer()


def test_the_ladder_explorer_shows_each_models_own_rate_and_distortion(ladder_explorer):
    models = beta_explorer.ladder_models()
    images = data.load_digits(split="validation", binarized=True).images
    for beta in (0.25, 8.0):
        ladder_explorer.controls["beta"].value = beta
        rate, distortion = diagnostics.rate_distortion(models[beta], images)
        shown = ladder_explorer.readout_values
        assert shown["beta"] == beta and shown["rate"] == pytest.approx(rate)
        assert shown["distortion"] == pytest.approx(distortion) and shown["ELBO"] == pytest.approx(-(rate + distortion))
    with pytest.raises(ValueError, match="beta must be one of the ladder's"):
        beta_explorer.beta_ladder_explorer(models=models, beta=3.0)


@pytest.mark.parametrize("answer", [49, 784 / 16, torch.tensor(49.0)])
def test_check_effective_beta_accepts_784_over_16(answer, capsys):
    assert exercises.check_effective_beta(answer) is True
    assert "✓ Correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (784, "when the KL is summed"), (16, "which weight is larger"), (16 / 784, "upside down"),
    (784 * 16, "ratio of the two divisors"), (1, "not harmless"), (50, "Multiply the loss by 784"),
])
def test_check_effective_beta_names_each_typical_mistake(wrong, hint, capsys):
    assert exercises.check_effective_beta(wrong) is False
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("answer, hint", [(None, "Replace None"), ("49", "Give one number")])
def test_check_effective_beta_reminds_what_to_write(answer, hint, capsys):
    assert exercises.check_effective_beta(answer) is False
    assert hint in capsys.readouterr().out


def test_check_free_bits_term_accepts_the_floored_batch_means(capsys):
    kl, floor = exercises.failures.KL_PER_DIM, exercises.failures.FREE_BITS
    assert exercises.check_free_bits_term(kl.mean(0).clamp(min=floor).sum()) is True
    assert exercises.check_free_bits_term(1.6) is True
    assert "✓ Correct" in capsys.readouterr().out


@pytest.mark.parametrize("make_wrong, hint", [
    (lambda kl, floor: kl.sum(1).mean(), "without free bits"),
    (lambda kl, floor: kl.clamp(min=floor).mean(0).sum(), "before averaging"),
    (lambda kl, floor: kl.mean(0).clamp(min=floor).mean(), "add up over the dimensions"),
    (lambda kl, floor: kl.mean(0).clamp(min=floor).sum() + 0.3, "Average each column"),
])
def test_check_free_bits_term_names_each_typical_mistake(make_wrong, hint, capsys):
    wrong = make_wrong(exercises.failures.KL_PER_DIM, exercises.failures.FREE_BITS)
    assert not math.isclose(wrong, 1.6)
    assert exercises.check_free_bits_term(wrong) is False
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("answer, hint", [(None, "Replace None"), ([1.0, 2.0], "Give one number")])
def test_check_free_bits_term_reminds_what_to_write(answer, hint, capsys):
    assert exercises.check_free_bits_term(answer) is False
    assert hint in capsys.readouterr().out
