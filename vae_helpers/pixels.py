"""What a decoder draws, for any likelihood: its mean image, a sample from it, and how sharp they are (notebook 09).

The mean of p(x|z) is what every VAE tutorial shows; a sample adds each pixel's own noise, drawn independently of
its neighbours because the likelihoods of the series factorise over pixels given z. Both are returned as grey
levels in [0, 1] whatever the likelihood's support, so they can be drawn and compared side by side.
"""

import math

import torch

from vae_helpers import bits
from vae_helpers.likelihoods import NUM_LEVELS

# Codes decoded at once: a categorical holds 256 logits per pixel for each, so 16 of them take about 13 MB (and a
# few copies of that while its mean and a sample are taken).
CHUNK = 16


def as_grey(images, model):
    """Images in `model`'s likelihood's support -> grey levels in [0, 1] (whole levels 0-255 are divided by 255)."""
    return images / (NUM_LEVELS - 1) if model.parts["likelihood"].support == "levels" else images


@torch.no_grad()
def mean_and_sample(model, z, generator=None):
    """The mean image of p(x|z) and one sample from it, both (B, C, H, W) grey levels in [0, 1], for codes z (B, D).

    A Gaussian's sample can leave [0, 1]; it is clipped there for drawing (the density is not). Pass a generator
    to draw the same sample again (torch.distributions samples with the global generator, so it is seeded from
    the generator for the draw and restored afterwards). Codes are decoded CHUNK at a time.
    """
    if generator is None:
        return _means_and_samples(model, z)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**62, (), generator=generator)))
        return _means_and_samples(model, z)


def _means_and_samples(model, z):
    means, samples = [], []
    for chunk in z.split(CHUNK):
        p = model.likelihood(chunk)
        means.append(as_grey(p.mean, model).clamp(0, 1))
        samples.append(as_grey(p.sample(), model).clamp(0, 1))
    return torch.cat(means), torch.cat(samples)


@torch.no_grad()
def bits_per_pixel_given_code(model, images, generator=None):
    """(N, C, H, W): the bits each pixel of 8-bit `images` costs under p(x|z), z the posterior mean of its image.

    A discrete likelihood's -log2 P(level); a density's -log2 of p(y) / 256 at the dequantized y (vh.bits), the
    per-pixel term of the dequantization bound. Given one z, not over q(z|x): a diagnosis of where the bits go,
    not a score. generator fixes the dequantization.
    """
    x = bits.model_input(model, images, generator)
    shift = math.log(NUM_LEVELS) if model.parts["likelihood"].support == "unit" else 0.0
    pixel_bits = [-(model.likelihood(model.posterior(chunk).mean).base_dist.log_prob(chunk) - shift) / math.log(2)
                  for chunk in x.split(CHUNK)]
    return torch.cat(pixel_bits)


def sharpness(images):
    """How much of an image's energy lies in the steps between neighbouring pixels, per image (N,): the mean squared
    step (horizontal and vertical) divided by the mean squared pixel value, for grey levels in [0, 1].

    Dividing by the image's own energy keeps contrast out of it: a faint image is not a blurred one, and a fainter
    copy of an image (x times a constant) has the same sharpness. A blurred image has smaller steps for its
    energy, so a lower value; pixel noise raises it, so compare means with means. A black image scores 0.
    """
    dx = images[..., :, 1:] - images[..., :, :-1]
    dy = images[..., 1:, :] - images[..., :-1, :]
    steps = (dx.pow(2).flatten(1).mean(1) + dy.pow(2).flatten(1).mean(1)) / 2
    return steps / images.pow(2).flatten(1).mean(1).clamp(min=1e-12)
