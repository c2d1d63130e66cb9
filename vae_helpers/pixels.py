"""What a decoder draws, for any likelihood: its mean image, a sample from it, and how sharp they are (notebook 09).

The mean of p(x|z) is what every VAE tutorial shows; a sample adds each pixel's own noise, drawn independently of
its neighbours because the likelihoods of the series factorise over pixels given z. Both are returned as grey
levels in [0, 1] whatever the likelihood's support, so they can be drawn and compared side by side.
"""

import torch

from vae_helpers.likelihoods import NUM_LEVELS


def as_grey(images, model):
    """Images in `model`'s likelihood's support -> grey levels in [0, 1] (whole levels 0-255 are divided by 255)."""
    return images / (NUM_LEVELS - 1) if model.parts["likelihood"].support == "levels" else images


@torch.no_grad()
def mean_and_sample(model, z, generator=None):
    """The mean image of p(x|z) and one sample from it, both (B, C, H, W) grey levels in [0, 1], for codes z (B, D).

    A Gaussian's sample can leave [0, 1]; it is clipped there for drawing (the density is not). Pass a generator
    to draw the same sample again (torch.distributions samples with the global generator otherwise, so the
    global one is seeded from it for the draw).
    """
    p = model.likelihood(z)
    if generator is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(2**62, (), generator=generator)))
            sample = p.sample()
    else:
        sample = p.sample()
    return as_grey(p.mean, model).clamp(0, 1), as_grey(sample, model).clamp(0, 1)


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
