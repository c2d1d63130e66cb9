"""Your own images (vh.data.load_image_folder) and the bits-per-dimension currency (vh.bits)."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from vae_helpers import bits, data, likelihoods
from vae_helpers.models import ConvVAE

DOUBLE = torch.float64


def write(folder, name, array, mode=None):
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode=mode).save(folder / name)


def test_a_folder_of_png_and_jpeg_files_loads_as_levels_in_name_order(tmp_path):
    grey = np.arange(28 * 28).reshape(28, 28) % 256
    write(tmp_path, "b.png", grey)
    write(tmp_path, "a.png", 255 - grey)
    write(tmp_path, "c.jpeg", np.full((28, 28, 3), 100))  # colour, to grey
    (tmp_path / "notes.txt").write_text("not an image")
    images, names = data.load_image_folder(tmp_path)
    assert names == ["a.png", "b.png", "c.jpeg"] and images.shape == (3, 1, 28, 28) and images.dtype == torch.float32
    torch.testing.assert_close(images[1, 0] * 255, torch.as_tensor(grey, dtype=torch.float32))  # levels kept exactly
    assert torch.equal(images * 255, (images * 255).round())
    colour, _ = data.load_image_folder(tmp_path, channels=3)
    assert colour.shape == (3, 3, 28, 28) and torch.equal(colour[1, 0], colour[1, 2])  # grey repeated in colour


def test_larger_images_are_resized_to_the_size_asked_for(tmp_path):
    write(tmp_path, "big.png", np.full((56, 56), 200))
    images, _ = data.load_image_folder(tmp_path, size=28)
    assert images.shape == (1, 1, 28, 28) and torch.allclose(images, torch.full_like(images, 200 / 255))


def test_bad_folders_are_refused_with_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        data.load_image_folder(tmp_path / "missing")
    (tmp_path / "readme.md").write_text("#")
    with pytest.raises(ValueError, match=r"holds no \.png, \.jpg or \.jpeg files \(found: \['readme.md'\]\)"):
        data.load_image_folder(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="broken.png .* could not be read as an image"):
        data.load_image_folder(tmp_path)
    (tmp_path / "broken.png").unlink()
    write(tmp_path, "a.png", np.zeros((28, 28)))
    write(tmp_path, "b.png", np.zeros((32, 32)))
    with pytest.raises(ValueError, match="differ in size: a.png is 28x28 pixels, b.png is 32x32"):
        data.load_image_folder(tmp_path)
    (tmp_path / "b.png").unlink()
    (tmp_path / "a.png").unlink()
    write(tmp_path, "wide.png", np.zeros((28, 40)))
    with pytest.raises(ValueError, match="wide.png is 40x28 pixels, not square"):
        data.load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="channels must be 1"):
        data.load_image_folder(tmp_path, channels=2)
    with pytest.raises(ValueError, match="size must be a positive whole number"):
        data.load_image_folder(tmp_path, size=0)


def test_a_16_bit_image_is_refused_rather_than_clipped_to_8_bits(tmp_path):
    Image.fromarray(np.full((28, 28), 40_000, dtype=np.uint16)).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")  # PIL reads it as 16-bit
    with pytest.raises(ValueError, match="deep.png .* not 8-bit levels; save it as an 8-bit PNG"):
        data.load_image_folder(tmp_path)


def test_a_16_bit_colour_png_is_refused_too(tmp_path):
    # PIL opens a 16-bit colour PNG as 8-bit RGB, keeping the high byte; the loader reads the PNG header instead
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    rows = b"".join(b"\x00" + np.full(4 * 3, 40_000, dtype=">u2").tobytes() for _ in range(4))  # 4x4, RGB, 16 bits
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 16, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    (tmp_path / "deep_colour.png").write_bytes(png)
    assert Image.open(tmp_path / "deep_colour.png").mode == "RGB"  # what PIL would have let through
    with pytest.raises(ValueError, match="deep_colour.png .* '16-bit' pixels"):
        data.load_image_folder(tmp_path, size=4)


def test_an_image_with_transparent_pixels_is_refused_and_an_opaque_one_with_alpha_is_loaded(tmp_path):
    ink = np.zeros((28, 28, 4), dtype=np.uint8)
    ink[10:18, 10:18, 3] = 255  # black ink on a transparent background: as grey, all black
    Image.fromarray(ink, mode="RGBA").save(tmp_path / "ink.png")
    with pytest.raises(ValueError, match="ink.png .* transparent pixels.* flatten it"):
        data.load_image_folder(tmp_path)
    ink[..., 3] = 255  # fully opaque: the alpha channel is harmless
    Image.fromarray(ink, mode="RGBA").save(tmp_path / "ink.png")
    images, _ = data.load_image_folder(tmp_path)
    assert images.shape == (1, 1, 28, 28)


def test_the_shipped_digits_are_8_bit_levels_and_dequantized_points_stay_in_their_bins():
    levels = bits.to_levels(data.load_digits(split="test", limit=50).images)
    assert levels.min() == 0 and levels.max() == 255 and torch.equal(levels, levels.round())
    y = bits.dequantize(levels, generator=torch.Generator().manual_seed(0))
    assert (y >= levels / 256).all() and (y < (levels + 1) / 256).all()
    with pytest.raises(ValueError, match="8-bit grey levels"):
        bits.to_levels(torch.full((1, 1, 2, 2), 0.5))  # not a multiple of 1/255


def test_the_dequantized_bound_is_below_the_exact_discrete_log_likelihood_and_exact_for_a_flat_density():
    # One pixel, density p(y) = N(y; 0.4, 0.05^2) on [0, 1]: its exact level probabilities are integrals over bins.
    normal = torch.distributions.Normal(torch.tensor(0.4, dtype=DOUBLE), torch.tensor(0.05, dtype=DOUBLE))
    for level in (90, 102, 120):
        exact = math.log(normal.cdf(torch.tensor((level + 1) / 256, dtype=DOUBLE))
                         - normal.cdf(torch.tensor(level / 256, dtype=DOUBLE)))
        u = (torch.arange(100_000, dtype=DOUBLE) + 0.5) / 100_000  # the bin, evenly: E_u by the midpoint rule
        bound = bits.discrete_log_likelihood_bound(normal.log_prob((level + u) / 256).mean(), 1).item()
        assert bound <= exact + 1e-9 and exact - bound < 0.05  # Jensen's gap: small for a bin this narrow
    flat = bits.discrete_log_likelihood_bound(torch.tensor(0.0), 784)  # the uniform density on [0, 1]^784
    assert bits.bits_per_dim(flat, 784).item() == pytest.approx(8.0)  # = 8 bits per pixel, every level 1/256


def flat_model(likelihood):
    """A conv VAE whose every weight is 0: q(z|x) = N(0, I) = p(z), and the decoder's output is 0 everywhere, which
    for these likelihoods is the flat distribution (a density of 1 on [0, 1], or 1/256 per level)."""
    model = ConvVAE(likelihood=likelihood)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    return model.eval()


@pytest.mark.parametrize("likelihood", [likelihoods.ContinuousBernoulliLikelihood(), likelihoods.CategoricalLikelihood()],
                         ids=["density", "levels"])
def test_a_flat_model_needs_exactly_8_bits_per_dimension_whatever_its_support(likelihood):
    # q = p makes every importance weight p(x|z), and a flat p(x|z) is 1 (density) or 256^-D (levels): log p(x)
    # = 0 or -D log 256 exactly, so both give log2(256) = 8 bits per pixel once dequantization is accounted for.
    images = data.load_digits(split="test", limit=5, progress=False).images
    scores = bits.bits_per_dim_bound(flat_model(likelihood), images, num_samples=3)
    torch.testing.assert_close(scores, torch.full((5,), 8.0), atol=1e-4, rtol=0)


def test_bits_per_dimension_are_refused_for_bernoulli_pixels_and_for_images_that_are_not_8_bit():
    images = data.load_digits(split="test", limit=2, progress=False).images
    with pytest.raises(ValueError, match="models binary pixels"):
        bits.bits_per_dim_bound(ConvVAE(), images)
    with pytest.raises(ValueError, match="8-bit grey levels"):
        bits.bits_per_dim_bound(flat_model(likelihoods.DiscretizedLogisticLikelihood()), images * 0.999)


def test_the_encoder_of_a_discrete_likelihood_reads_levels_on_the_scale_of_grey_levels():
    # the same weights behind two likelihoods with two outputs per pixel: levels k reach the encoder as k / 255
    discrete = ConvVAE(likelihood=likelihoods.DiscretizedLogisticLikelihood())
    density = ConvVAE(likelihood=likelihoods.GaussianLikelihood(per_pixel=True))
    density.load_state_dict(discrete.state_dict())
    grey = data.load_digits(split="test", limit=4, progress=False).images
    with torch.no_grad():
        torch.testing.assert_close(discrete.posterior(bits.to_levels(grey)).mean, density.posterior(grey).mean)
