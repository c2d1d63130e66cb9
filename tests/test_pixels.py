"""What a decoder draws, for any likelihood (vh.pixels): grey levels in [0, 1], a sample that repeats with its seed,
and a sharpness that falls as an image is blurred."""

import pytest
import torch
import torch.nn.functional as F

from vae_helpers import data, likelihoods
from vae_helpers.models import ConvVAE
from vae_helpers.pixels import bits_per_pixel_given_code, mean_and_sample, sharpness


def test_sharpness_is_the_mean_squared_step_between_neighbours_over_the_mean_squared_pixel():
    image = torch.zeros(1, 1, 3, 3)
    image[0, 0, :, 2] = 1.0  # one white column: 3 of the 6 horizontal steps are 1, no vertical step is; 3 of 9 on
    assert sharpness(image).item() == pytest.approx(((3 / 6 + 0) / 2) / (3 / 9))
    assert sharpness(0.2 * image).item() == pytest.approx(sharpness(image).item())  # fainter is not blurrier
    assert sharpness(torch.full((2, 1, 5, 5), 0.3)).tolist() == [0.0, 0.0]
    assert sharpness(torch.zeros(1, 1, 4, 4)).item() == 0.0


def test_blurring_the_test_digits_lowers_their_sharpness():
    digits = data.load_digits(split="test", limit=50, progress=False).images
    blurred = F.avg_pool2d(digits, kernel_size=3, stride=1, padding=1)
    assert (sharpness(blurred) < sharpness(digits)).all()


@pytest.mark.parametrize("likelihood", [likelihoods.GaussianLikelihood(0.3), likelihoods.CategoricalLikelihood()],
                         ids=["density", "levels"])
def test_mean_and_sample_are_grey_levels_and_the_sample_repeats_with_its_seed(likelihood):
    torch.manual_seed(0)
    model = ConvVAE(likelihood=likelihood).eval()
    z = torch.randn(3, 16)
    mean, sample = mean_and_sample(model, z, torch.Generator().manual_seed(1))
    _, again = mean_and_sample(model, z, torch.Generator().manual_seed(1))
    _, other = mean_and_sample(model, z, torch.Generator().manual_seed(2))
    assert mean.shape == sample.shape == (3, 1, 28, 28)
    assert 0 <= mean.min() and mean.max() <= 1 and 0 <= sample.min() and sample.max() <= 1
    assert torch.equal(sample, again) and not torch.equal(sample, other)
    with torch.no_grad():
        expected = model.likelihood(z).mean / (255 if likelihood.support == "levels" else 1)
    torch.testing.assert_close(mean, expected.clamp(0, 1))  # levels are drawn on the grey scale


def test_the_likelihood_explorer_shows_the_digit_as_given_whichever_model_comes_first():
    from vae_helpers.explorers import pixels as explorer

    image = data.load_digits(split="test", limit=1, progress=False).images
    assert explorer.DEFAULT_MODELS["categorical"] == "grey_categorical"  # whole levels come first on the slider
    widget = explorer.likelihood_explorer(image=image)
    digit_panel = widget.figure.axes[0].images[0].get_array()
    torch.testing.assert_close(torch.as_tensor(digit_panel), image[0, 0])  # grey levels, not levels / 255
    assert widget.readout_values["bits/dim"] > 0


@pytest.mark.parametrize("likelihood", [likelihoods.ContinuousBernoulliLikelihood(), likelihoods.CategoricalLikelihood()],
                         ids=["density", "levels"])
def test_a_flat_decoder_costs_8_bits_in_every_pixel(likelihood):
    model = ConvVAE(likelihood=likelihood).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()  # decoder output 0: density 1 on [0, 1], or 1/256 per level
    images = data.load_digits(split="test", limit=3, progress=False).images
    torch.testing.assert_close(bits_per_pixel_given_code(model, images), torch.full((3, 1, 28, 28), 8.0))


def test_means_and_samples_do_not_depend_on_how_the_codes_are_chunked(monkeypatch):
    from vae_helpers import pixels

    torch.manual_seed(0)
    model = ConvVAE(likelihood=likelihoods.DiscretizedLogisticLikelihood()).eval()
    z = torch.randn(10, 16)
    whole = mean_and_sample(model, z, torch.Generator().manual_seed(3))
    monkeypatch.setattr(pixels, "CHUNK", 3)
    chunked = mean_and_sample(model, z, torch.Generator().manual_seed(3))
    torch.testing.assert_close(whole[0], chunked[0])
    assert whole[1].shape == chunked[1].shape == (10, 1, 28, 28)
