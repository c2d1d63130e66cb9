"""Bayes' rule over labels and the label conditions of a conditional VAE (vae_helpers.conditional)."""

import math

import pytest
import torch

from vae_helpers import conditional, objectives
from vae_helpers.models import MLPVAE


def test_one_hot_rows_have_a_single_one_at_the_label():
    rows = conditional.one_hot(torch.tensor([3, 0, 9]))
    assert rows.shape == (3, 10) and rows.dtype == torch.float32
    assert rows.argmax(1).tolist() == [3, 0, 9] and rows.sum(1).tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("labels, words", [(torch.tensor([1.0, 2.0]), "whole numbers"),
                                           (torch.tensor([[1, 2]]), "1-D"), (torch.tensor([2, 10, -1]), r"0\.\.9")])
def test_one_hot_refuses_labels_that_are_not_classes(labels, words):
    with pytest.raises(ValueError, match=words):
        conditional.one_hot(labels)


def test_bayes_posterior_matches_the_rule_written_out_in_probabilities():
    likelihoods = torch.tensor([[0.02, 0.05, 0.001], [0.3, 0.3, 0.3]], dtype=torch.float64)  # p(x | y), two images
    prior = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    log_posterior, log_evidence = conditional.bayes_posterior(likelihoods.log(), prior.log())
    evidence = (likelihoods * prior).sum(1)
    torch.testing.assert_close(log_evidence.exp(), evidence)
    torch.testing.assert_close(log_posterior.exp(), likelihoods * prior / evidence[:, None])
    torch.testing.assert_close(log_posterior.exp()[1], prior)  # a likelihood equal for every label leaves the prior


def test_bayes_posterior_does_not_underflow_at_digit_sized_log_likelihoods():
    log_likelihoods = torch.tensor([[-900.0, -902.0, -1000.0]])  # exp() of each is 0 in float32
    log_posterior, log_evidence = conditional.bayes_posterior(log_likelihoods, torch.full((3,), -math.log(3)))
    assert torch.isfinite(log_evidence).all()
    spacing = 2 * 1000 * torch.finfo(torch.float32).eps  # float32 resolves numbers near 1000 to about 1e-4
    torch.testing.assert_close(log_posterior.exp().sum(1), torch.ones(1), rtol=0, atol=3 * spacing)
    assert log_posterior[0, 0] - log_posterior[0, 1] == pytest.approx(2.0, abs=3 * spacing)


def test_bayes_posterior_refuses_a_prior_that_is_not_a_distribution_over_the_classes():
    with pytest.raises(ValueError, match="sum to 1"):
        conditional.bayes_posterior(torch.zeros(1, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="one entry per class"):
        conditional.bayes_posterior(torch.zeros(1, 3), torch.full((2,), -math.log(2)))


def test_class_log_likelihoods_bound_each_label_with_its_own_condition():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=2, hidden_dims=(16,), condition_dim=10).eval()
    x = (torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    table = conditional.class_log_likelihoods(model, x, 20, generator=torch.Generator().manual_seed(2))
    draws = torch.Generator().manual_seed(2)  # the same draws, label by label in order
    by_hand = torch.stack([objectives.iwae_bound(model, x, 20, c=conditional.one_hot(torch.full((3,), label)),
                                                 generator=draws) for label in range(10)], dim=1)
    assert table.shape == (3, 10)
    torch.testing.assert_close(table, by_hand)  # column y is the bound under label y's condition
    assert (table.std(1) > 0).all()  # and the label changes it


def test_class_log_likelihoods_needs_a_conditional_model():
    model = MLPVAE(latent_dim=2, hidden_dims=(16,)).eval()
    with pytest.raises(ValueError, match="conditioned on a one-hot label"):
        conditional.class_log_likelihoods(model, torch.zeros(1, 1, 28, 28), 5)


def test_a_ring_inside_a_ring_defeats_the_linear_probe_but_not_the_nearest_neighbours():
    generator = torch.Generator().manual_seed(0)
    angles = torch.rand(800, generator=generator) * 2 * math.pi
    labels = torch.arange(800) % 2
    radius = 1.0 + 2.0 * labels + 0.1 * torch.randn(800, generator=generator)
    codes = torch.stack([radius * angles.cos(), radius * angles.sin()], 1)
    train, test = slice(0, 600), slice(600, 800)
    linear = conditional.label_probe(codes[train], labels[train], codes[test], labels[test], num_classes=2)
    nearest = conditional.nearest_neighbour_probe(codes[train], labels[train], codes[test], labels[test])
    assert linear < 0.7 and nearest == 1.0  # no line separates the rings; every neighbour lies on the right one
    shifted = torch.cat([codes, labels[:, None] * 5.0], 1)  # a third coordinate that is the label itself
    assert conditional.label_probe(shifted[train], labels[train], shifted[test], labels[test], num_classes=2) == 1.0
