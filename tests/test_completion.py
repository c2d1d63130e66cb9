"""Completing a digit (vh.completion): the layouts, the conditions, the hidden pixels' log-likelihood of both models."""

import math

import pytest
import torch

from vae_helpers import checkpoints, completion
from vae_helpers.models import build_model
from vae_helpers.objectives import elbo, iwae_bound


def test_the_layouts_show_one_two_and_three_quadrants_as_pyro_lays_them_out():
    one, two, three = (completion.visible_mask(n) for n in (1, 2, 3))
    assert [int(mask.sum()) for mask in (one, two, three)] == [196, 392, 588]
    assert one[14:, :14].all() and not one[:14].any() and not one[:, 14:].any()  # bottom-left
    assert two[:, :14].all() and not two[:, 14:].any()  # left half
    assert not three[14:, 14:].any() and three.sum() == 784 - 196  # all but bottom-right
    assert (one <= two).all() and (two <= three).all()  # each shows what the smaller one shows
    with pytest.raises(ValueError, match="one of"):
        completion.visible_mask(4)


def test_a_condition_keeps_the_visible_pixels_and_marks_the_rest_hidden():
    images = torch.rand(5, 1, 28, 28)
    c = completion.hide(images, 2)
    mask = completion.visible_mask(2)
    assert torch.equal(c[..., mask], images[..., mask])
    assert (c[..., ~mask] == completion.HIDDEN).all()
    assert torch.equal(completion.hidden_pixels(c)[0, 0], (~mask).float())
    with pytest.raises(ValueError):
        completion.hide(images * 2, 1)  # not grey levels in [0, 1]


def test_examples_hold_every_image_once_per_layout():
    images = torch.rand(4, 1, 28, 28)
    x, c, visible = completion.examples(images)
    assert x.shape == c.shape == (12, 1, 28, 28) and visible.tolist() == [1] * 4 + [2] * 4 + [3] * 4
    assert torch.equal(x[8:], images) and torch.equal(c[4:8], completion.hide(images, 2))


def test_the_hidden_log_likelihood_sums_the_hidden_pixels_bernoulli_terms_only():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 1, 28, 28, generator=generator)
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.3), generator=generator)
    c = completion.hide(x, 1)
    p = torch.sigmoid(logits)
    by_hand = torch.where(x == 1, p.log(), (1 - p).log())[..., ~completion.visible_mask(1)].sum(-1).squeeze(1)
    assert torch.allclose(completion.hidden_log_likelihood(logits, x, c), by_hand, atol=1e-4)
    flipped = x.clone()
    flipped[..., completion.visible_mask(1)] = 1 - flipped[..., completion.visible_mask(1)]  # only visible pixels
    assert torch.equal(completion.hidden_log_likelihood(logits, flipped, c), completion.hidden_log_likelihood(logits, x, c))


@pytest.fixture
def small_cvae():
    torch.manual_seed(0)
    return completion.CompletionVAE(latent_dim=3, hidden_dims=(16,))


def test_the_cvae_scores_hidden_pixels_and_its_iwae_bound_is_exact_when_z_is_ignored(small_cvae):
    x = torch.bernoulli(torch.full((4, 1, 28, 28), 0.4), generator=torch.Generator().manual_seed(1))
    c = completion.hide(x, 3)
    with torch.no_grad():
        small_cvae.decoder[0].weight[:, :3] = 0  # the decoder ignores z ...
        small_cvae.encoder[-1].weight.zero_()
        small_cvae.encoder[-1].bias.zero_()  # ... and q(z | x, c) = N(0, I) = p(z)
    exact = completion.hidden_log_likelihood(small_cvae.decode(torch.zeros(4, 3), c), x, c)
    # every importance weight is then p(x_hidden | c): the bound is exact for any K, the ELBO too
    assert torch.allclose(iwae_bound(small_cvae, x, 7, c=c), exact, atol=1e-4)
    assert torch.allclose(elbo(small_cvae, x, c=c).total, exact, atol=1e-4)
    assert -exact.mean() < 196 * math.log(2) * 1.5  # one hidden quadrant of 196 pixels: near log 2 a pixel


def test_the_cvae_needs_its_condition_and_keeps_the_visible_pixels_in_completions(small_cvae):
    x = torch.rand(2, 1, 28, 28)
    c = completion.hide(x, 1)
    with pytest.raises(ValueError, match="c must be"):
        small_cvae.log_likelihood(x, torch.zeros(2, 3))
    drawn = small_cvae.complete(c, 5, generator=torch.Generator().manual_seed(0))
    mask = completion.visible_mask(1)
    assert drawn.shape == (5, 2, 1, 28, 28)
    assert torch.equal(drawn[..., mask], c[..., mask].expand(5, -1, -1, -1))
    assert ((drawn[..., ~mask] > 0) & (drawn[..., ~mask] < 1)).all()
    assert not torch.equal(drawn[0], drawn[1])  # different draws of z, different completions
    with pytest.raises(ValueError, match="condition_dim must be 784"):
        completion.CompletionVAE(condition_dim=10)


def test_the_baseline_trains_keeps_its_best_validation_epoch_and_round_trips_a_checkpoint(tmp_path):
    images = torch.rand(60, 1, 28, 28) ** 3
    x, c, _ = completion.examples(images)
    torch.manual_seed(0)
    baseline = completion.CompletionBaseline(hidden_dims=(8,))
    history = completion.fit_baseline(baseline, x[:120], c[:120], x[120:], c[120:], num_epochs=6, patience=2,
                                      progress=False, clock=iter(range(100)).__next__)
    best = history.at_best_epoch("validation_elbo")
    assert best == max(history.validation_elbo) and history.validation_elbo[0] < best
    # the weights kept are the best epoch's: scoring them again gives its number
    validation = completion.binarize(x[120:], seed=completion.TEST_BINARIZATION_SEED)
    assert completion.mean_log_likelihood(baseline, validation, c[120:]) == pytest.approx(best, abs=1e-4)
    checkpoints.save_checkpoint(tmp_path / "baseline", baseline, history=history)
    loaded, _ = checkpoints.load_checkpoint(tmp_path / "baseline")
    assert type(loaded) is completion.CompletionBaseline
    assert torch.equal(loaded(c[:3]), baseline(c[:3]))
    assert type(build_model("CompletionVAE", {"latent_dim": 2, "hidden_dims": [8]})) is completion.CompletionVAE
    with pytest.raises(ValueError, match="conditions must have"):
        completion.fit_baseline(baseline, x[:10], c[:9], x[10:20], c[10:20], progress=False)
