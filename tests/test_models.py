"""Shapes and behaviour of the two VAEs."""

import pytest
import torch

from vae_helpers.layers import ChannelsLastPixelShuffle, subpixel_from_transposed
from vae_helpers.models import ConvVAE, MLPVAE, build_model
from vae_helpers.parts import LOGVAR_MAX

MODELS = [MLPVAE(latent_dim=2), MLPVAE(latent_dim=20, hidden_dims=(64,)), ConvVAE(latent_dim=16), ConvVAE(3, (8, 16))]


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_shapes_through_the_model(model):
    x = torch.rand(5, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, model.latent_dim)
    z = model.reparameterize(mu, logvar)
    assert model.decode(z).shape == x.shape and z.shape == (5, model.latent_dim)
    assert model.log_likelihood(torch.bernoulli(x), z).shape == (5,)
    samples = model.sample(7)
    assert samples.shape == (7, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    assert model.reconstruct(x).shape == x.shape


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_config_rebuilds_an_identical_architecture(model):
    rebuilt = build_model(type(model).__name__, model.config())
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == shapes


def test_repr_names_the_settings_and_size():
    text = repr(ConvVAE(latent_dim=16))
    assert text.startswith("ConvVAE(\n  latent_dim=16, channels=[8, 32], parameters=91,452") and "PixelBias" in text


def test_reparameterize_has_the_right_mean_and_spread_and_passes_gradients():
    model = MLPVAE(latent_dim=2)
    mu = torch.tensor([[1.0, -2.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, 2 * torch.log(torch.tensor(3.0))]], requires_grad=True)
    z = model.reparameterize(mu.expand(200_000, 2), logvar.expand(200_000, 2))
    torch.testing.assert_close(z.mean(0), torch.tensor([1.0, -2.0]), atol=0.03, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 3.0]), atol=0.03, rtol=0)
    z.sum().backward()
    assert mu.grad is not None and logvar.grad is not None


def test_sampling_with_a_generator_is_reproducible_and_temperature_zero_decodes_the_origin():
    model = ConvVAE(latent_dim=4)
    first = model.sample(3, generator=torch.Generator().manual_seed(5))
    again = model.sample(3, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(first, again)
    origin = torch.sigmoid(model.decode(torch.zeros(1, 4)))
    torch.testing.assert_close(model.sample(2, temperature=0.0), origin.expand(2, -1, -1, -1))


def test_logvar_is_clamped_so_the_variance_stays_finite():
    model = MLPVAE(latent_dim=2)
    with torch.no_grad():
        model.encoder[-1].bias.fill_(1e4)
    _, logvar = model.encode(torch.rand(2, 1, 28, 28))
    assert logvar.max() == LOGVAR_MAX and torch.isfinite(logvar.exp()).all()


@pytest.mark.parametrize("bad", [0, -3, 2.5, "2"])
def test_invalid_latent_dim_is_refused(bad):
    with pytest.raises(ValueError, match="latent_dim must be a positive whole number"):
        MLPVAE(latent_dim=bad)


def test_unknown_model_class_is_refused():
    with pytest.raises(ValueError, match="model_class must be one of"):
        build_model("ResNetVAE", {})


def test_conv_decoding_returns_the_usual_layout_whatever_the_mode():
    # the conv layers run channels-last; callers get ordinary contiguous (B, 1, 28, 28) logits
    model = ConvVAE(latent_dim=16)
    z = torch.randn(64, 16)
    with_gradients = model.decode(z)
    with torch.no_grad():
        without = model.decode(z)
    assert with_gradients.is_contiguous() and without.is_contiguous() and without.shape == (64, 1, 28, 28)
    torch.testing.assert_close(without, with_gradients.detach(), rtol=0, atol=0)


def test_the_output_bias_starts_at_the_logits_of_the_mean_image():
    images = torch.zeros(10, 1, 28, 28)
    images[:5, :, 10:20, 10:20] = 1.0  # half the images have a bright square
    model = ConvVAE(latent_dim=2, channels=(4, 8)).initialize_output_bias(images)
    bias = model.decoder[-1].logits
    torch.testing.assert_close(bias[0, 15, 15], torch.tensor(0.0))  # mean 0.5: logit 0
    torch.testing.assert_close(bias[0, 0, 0], torch.logit(torch.tensor(1e-3)))  # never lit: clamped, finite
    with pytest.raises(ValueError):
        model.initialize_output_bias(torch.full((3, 1, 28, 28), 2.0))


@pytest.mark.parametrize("c_in, c_out, side, bias", [(64, 32, 7, True), (32, 1, 14, True), (3, 5, 4, False)])
def test_the_subpixel_form_computes_the_transposed_convolution(c_in, c_out, side, bias):
    layer = torch.nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=bias).double()
    h = torch.randn(6, c_in, side, side, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(subpixel_from_transposed(layer)(h), layer(h), rtol=0, atol=1e-12)


def test_the_subpixel_form_refuses_other_layers():
    with pytest.raises(ValueError, match="needs kernel_size=4, stride=2, padding=1"):
        subpixel_from_transposed(torch.nn.ConvTranspose2d(2, 2, kernel_size=3, stride=2, padding=1))


@pytest.mark.parametrize("channels_last", [True, False])
def test_the_channels_last_pixel_shuffle_gives_pixel_shuffles_numbers(channels_last):
    h = torch.randn(3, 12, 5, 7)
    h = h.contiguous(memory_format=torch.channels_last) if channels_last else h
    shuffled = ChannelsLastPixelShuffle(2)(h)
    torch.testing.assert_close(shuffled, torch.nn.functional.pixel_shuffle(h.contiguous(), 2), rtol=0, atol=0)
    assert shuffled.is_contiguous(memory_format=torch.channels_last) == channels_last
