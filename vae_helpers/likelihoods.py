"""Likelihoods p(x|z) for grey and 8-bit pixels: the parts (vae_helpers.parts) that notebook 09 compares.

    ContinuousBernoulliLikelihood   a density on [0, 1]: Bernoulli's form with its normalising constant
                                    (Loaiza-Ganem and Cunningham 2019), torch's ContinuousBernoulli
    GaussianLikelihood              N(mean, sigma^2) per pixel: a fixed sigma (the MSE loss), one learned sigma
                                    shared by every pixel, or a sigma per pixel from the decoder (Rybkin et al. 2021)
    DiscretizedLogisticLikelihood   whole levels 0-255: a logistic's mass over each level's bin, the end bins open
                                    (Salimans et al. 2017, one component)
    CategoricalLikelihood           whole levels 0-255: a 256-way softmax per pixel (as in Tomczak's intro_dgm), its
                                    logits a 1x1 convolution of a few decoder outputs per pixel

Each reads the decoder's output (params_per_channel numbers per pixel and channel) and returns a torch.distributions
object over images (B, C, H, W) with .log_prob, .mean and .sample. The continuous ones model grey levels in [0, 1]
(support "unit"), the discrete ones whole levels 0-255 (support "levels"); vae_helpers.bits turns either into bits
per dimension of the 8-bit images.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, ContinuousBernoulli, Distribution, Independent, Normal, constraints

NUM_LEVELS = 256
# A learned or predicted sigma below this would let the density of a pixel that is always 0 grow without bound.
LOG_SIGMA_MIN = math.log(1e-3)
# A logistic scale above this (100 times the width of [0, 1]) would make a bin's mass underflow to 0.
LOG_SCALE_MAX = math.log(100.0)


class ContinuousBernoulliLikelihood(nn.Module):
    """p(x|z) = CB(x; lambda) per pixel, lambda = sigmoid(decoder output): lambda^x (1 - lambda)^(1 - x) times
    C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda), the constant that makes it integrate to 1 on [0, 1]. The
    Bernoulli on grey levels is this without C, so its "density" integrates to 1 / C(lambda) <= 1."""

    params_per_channel = 1
    support = "unit"

    def forward(self, output):
        return Independent(ContinuousBernoulli(logits=output, validate_args=False), 3)


class GaussianLikelihood(nn.Module):
    """p(x|z) = N(x; mean, sigma^2) per pixel, the mean read from the decoder.

    Args:
        sigma: a fixed standard deviation (a float): -log p is then the squared error / (2 sigma^2) plus a constant,
            the MSE loss, and sigma^2 weighs the KL as beta does. None: sigma is learned.
        per_pixel: with sigma=None, the decoder predicts log sigma for every pixel (two outputs per pixel and
            channel) instead of one learned sigma shared by all.
    """

    support = "unit"

    def __init__(self, sigma=None, per_pixel=False):
        super().__init__()
        if sigma is not None and (per_pixel or not (isinstance(sigma, (int, float)) and sigma > 0)):
            raise ValueError(f"sigma must be a positive number, or None to learn it (per_pixel=True: one per pixel), "
                             f"got sigma={sigma!r}, per_pixel={per_pixel!r}")
        self.sigma, self.per_pixel = sigma, bool(per_pixel)
        self.params_per_channel = 2 if self.per_pixel else 1
        if sigma is None and not self.per_pixel:
            self.log_sigma = nn.Parameter(torch.tensor(math.log(0.1)))

    def forward(self, output):
        if self.per_pixel:
            mean, log_sigma = _split(output, 2)
        elif self.sigma is None:
            mean, log_sigma = output, self.log_sigma.expand_as(output)
        else:
            return Independent(Normal(output, torch.full_like(output, self.sigma)), 3)
        return Independent(Normal(mean, log_sigma.clamp(min=LOG_SIGMA_MIN).exp()), 3)

    def config(self):
        return {"sigma": self.sigma} if self.sigma is not None else {"per_pixel": True} if self.per_pixel else {}


class DiscretizedLogisticLikelihood(nn.Module):
    """p(x|z) over whole levels 0-255 per pixel: the mass a logistic (location and log scale from the decoder, on the
    [0, 1] scale) puts on the level's bin, of width 1/255 around x/255, with the first and last bins open to -inf
    and +inf so the 256 masses sum to 1."""

    params_per_channel = 2
    support = "levels"

    def forward(self, output):
        loc, log_scale = _split(output, 2)
        return Independent(DiscretizedLogistic(loc, log_scale), 3)


class CategoricalLikelihood(nn.Module):
    """p(x|z) over whole levels 0-255 per pixel: a softmax over 256 logits per pixel and channel, which a 1x1
    convolution of this part makes from `features` decoder outputs per pixel and channel. (Asking the decoder for
    all 256 logits made its last layer 1,024 channels wide and a training step about 40 times slower.)"""

    support = "levels"
    # Decodes to score at once (vh.bits): each holds 256 logits per pixel, so 128 of them take about 100 MB, a
    # tenth of what a Binder kernel has to spare.
    max_decodes = 128

    def __init__(self, features=16):
        super().__init__()
        if not (isinstance(features, int) and features > 0):
            raise ValueError(f"features must be a positive whole number of decoder outputs per pixel, got {features!r}")
        self.params_per_channel = self.features = features
        self.to_logits = nn.Conv2d(features, NUM_LEVELS, kernel_size=1)

    def forward(self, output):
        batch, channels, height, width = output.shape
        per_channel = output.reshape(batch * channels // self.features, self.features, height, width)
        logits = self.to_logits(per_channel.contiguous())  # (B * C, 256, H, W)
        return Independent(Levels(logits.view(batch, channels // self.features, NUM_LEVELS, height, width)), 3)

    def config(self):
        return {"features": self.features} if self.features != 16 else {}


def _split(output, count):
    """(B, C * count, H, W) -> count tensors (B, C, H, W)."""
    batch, channels, height, width = output.shape
    return output.view(batch, channels // count, count, height, width).unbind(2)


class Levels(Distribution):
    """A categorical over the levels 0-255 per pixel, from logits (B, C, 256, H, W) whose level axis stays where the
    decoder put it: torch's Categorical wants it last, and moving it cost a copy of every logit (about 40 times the
    rest of a training step). Values may be floats holding whole numbers (what check_images lets in); the mean is
    the expected level."""

    arg_constraints = {"logits": constraints.real}
    support = constraints.integer_interval(0, NUM_LEVELS - 1)

    def __init__(self, logits, validate_args=False):
        self.logits = logits
        batch, channels, _, height, width = logits.shape
        super().__init__(torch.Size((batch, channels, height, width)), validate_args=validate_args)

    def log_prob(self, value):
        return self.logits.log_softmax(2).gather(2, value.long().unsqueeze(2)).squeeze(2)

    @property
    def probs(self):
        return self.logits.softmax(2)

    @property
    def mean(self):
        levels = torch.arange(NUM_LEVELS, dtype=self.logits.dtype, device=self.logits.device)
        return (self.probs * levels[:, None, None]).sum(2)

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            draws = Categorical(logits=self.logits.movedim(2, -1)).sample(sample_shape)
            return draws.to(self.logits.dtype)


class DiscretizedLogistic(Distribution):
    """One logistic per pixel, discretized to the levels 0-255 (see DiscretizedLogisticLikelihood)."""

    arg_constraints = {"loc": constraints.real, "log_scale": constraints.real}
    support = constraints.integer_interval(0, NUM_LEVELS - 1)

    def __init__(self, loc, log_scale, validate_args=False):
        self.loc, self.log_scale = torch.broadcast_tensors(loc, log_scale.clamp(LOG_SIGMA_MIN, LOG_SCALE_MAX))
        super().__init__(self.loc.shape, validate_args=validate_args)

    def log_prob(self, value):
        """log P(level) = log(F(upper) - F(lower)), F the logistic CDF, computed as
        b + log(expm1(a - b)) - softplus(a) - softplus(b) for a = (upper - loc) / scale, b = (lower - loc) / scale:
        no cancellation when the bin is narrow against the scale, no overflow in the tails."""
        half_bin = 0.5 / (NUM_LEVELS - 1)
        centre = value / (NUM_LEVELS - 1)
        inverse_scale = torch.exp(-self.log_scale)
        a = (centre + half_bin - self.loc) * inverse_scale
        b = (centre - half_bin - self.loc) * inverse_scale
        inner = b + torch.log(torch.expm1(a - b)) - F.softplus(a) - F.softplus(b)
        first = -F.softplus(-a)  # log F(upper): the bin of level 0 reaches down to -inf
        last = -F.softplus(b)  # log(1 - F(lower)): the bin of level 255 reaches up to +inf
        return torch.where(value <= 0, first, torch.where(value >= NUM_LEVELS - 1, last, inner))

    def level_probs(self):
        """P(level) for every level, (*batch, 256): what mean and the tests need."""
        levels = torch.arange(NUM_LEVELS, dtype=self.loc.dtype, device=self.loc.device)
        expanded = DiscretizedLogistic(self.loc.unsqueeze(-1), self.log_scale.unsqueeze(-1))
        return expanded.log_prob(levels).exp()

    @property
    def mean(self):
        levels = torch.arange(NUM_LEVELS, dtype=self.loc.dtype, device=self.loc.device)
        return (self.level_probs() * levels).sum(-1)

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            shape = self._extended_shape(sample_shape)
            u = torch.rand(shape, dtype=self.loc.dtype, device=self.loc.device).clamp(1e-6, 1 - 1e-6)
            y = self.loc.expand(shape) + self.log_scale.exp().expand(shape) * (torch.log(u) - torch.log1p(-u))
            return (y * (NUM_LEVELS - 1)).round().clamp(0, NUM_LEVELS - 1)
