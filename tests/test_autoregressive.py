"""The PixelCNN-style decoder of notebook 08: no logit sees its own pixel or a later one, and its p(x|z) is a
normalised distribution that the series' objectives and training run on unchanged."""

import itertools

import pytest
import torch

from vae_helpers import objectives, training
from vae_helpers.autoregressive import MaskedConv2d, PixelCNNVAE


def small_model(**settings):
    torch.manual_seed(0)
    return PixelCNNVAE(latent_dim=2, hidden_dims=(16,), channels=4, num_layers=2, image_shape=(1, 4, 4), **settings)


def test_each_logit_depends_only_on_earlier_pixels_in_raster_order():
    model = small_model()
    x = torch.bernoulli(torch.full((1, 1, 4, 4), 0.5), generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    z = torch.randn(1, 2)
    for row, column in itertools.product(range(4), range(4)):
        (gradient,) = torch.autograd.grad(model.pixel_logits(x, z)[0, 0, row, column], x)
        reached = gradient[0, 0].abs() > 0
        later = torch.arange(16).view(4, 4) >= 4 * row + column  # this pixel and every one after it
        assert not reached[later].any(), f"the logit of pixel ({row}, {column}) sees itself or a later pixel"
    # and the first layer's mask is what makes it so: an unmasked layer would see the centre pixel
    model.first.mask.fill_(1)
    (gradient,) = torch.autograd.grad(model.pixel_logits(x, z)[0, 0, 1, 1], x)
    assert gradient[0, 0, 1, 1] != 0


def test_the_likelihood_sums_to_one_over_every_binary_image():
    model = small_model()
    images = torch.tensor(list(itertools.product((0.0, 1.0), repeat=16))).view(-1, 1, 4, 4)  # all 65,536
    z = torch.randn(1, 2).expand(len(images), 2)
    with torch.no_grad():
        log_p = model.likelihood(z).log_prob(images)
    assert torch.logsumexp(log_p, 0).item() == pytest.approx(0.0, abs=1e-4)


def test_objectives_and_fit_run_on_it_and_free_bits_apply():
    model = small_model()
    images = torch.bernoulli(torch.full((8, 1, 4, 4), 0.3), generator=torch.Generator().manual_seed(1))
    terms = objectives.elbo(model, images)
    assert terms.kl_method == "closed form" and torch.isfinite(terms.total).all()
    assert objectives.iwae_bound(model, images, 5).shape == (8,)
    history = training.fit(model, images, images, num_epochs=2, batch_size=4, free_bits=0.5, progress=False,
                           device="cpu")
    assert len(history.epoch) == 2


def test_samples_are_binary_images_and_the_mean_is_refused():
    model = small_model()
    samples = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (3, 1, 4, 4) and set(samples.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(NotImplementedError, match="no closed-form mean"):
        model.likelihood(torch.zeros(1, 2)).mean


def test_a_mask_needs_a_known_type_and_an_odd_kernel():
    with pytest.raises(ValueError, match="mask_type must be 'A' or 'B'"):
        MaskedConv2d(1, 1, 3, "C")
    with pytest.raises(ValueError, match="kernel_size odd"):
        MaskedConv2d(1, 1, 4, "A")
