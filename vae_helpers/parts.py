"""The three parts of a VAE: prior, posterior and likelihood, each returning a torch.distributions object.

Each is an nn.Module (as in Tomczak's intro_dgm):

    prior()               p(z), event shape (D,)           default StandardNormalPrior: N(0, I)
    posterior(features)   q(z|x) from the encoder's output  default DiagonalGaussianPosterior: N(mu, diag sigma^2)
    likelihood(output)    p(x|z) from the decoder's output  default BernoulliLikelihood: one logit per pixel

A model takes others as `prior=`, `posterior=` and `likelihood=`; their parameters train with it and go into its
checkpoint, their `config()` (constructor arguments) into its record. A posterior says how many numbers it reads
(`num_inputs`), a likelihood how many outputs per pixel and channel (`params_per_channel`) and which images it
models (`support`, for vae_helpers.image_checks).
"""

import torch
from torch import nn
from torch.distributions import Bernoulli, Independent

from vae_helpers.distributions import DiagonalGaussian

# Keeps exp(logvar) finite in float32 even for a badly trained encoder; real values stay far inside.
LOGVAR_MIN, LOGVAR_MAX = -30.0, 30.0


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I) over latent_dim dimensions. No parameters, nothing in the checkpoint."""

    def __init__(self, latent_dim):
        super().__init__()
        self.register_buffer("zeros", torch.zeros(latent_dim), persistent=False)  # follows the model's device

    def forward(self):
        return DiagonalGaussian(self.zeros, self.zeros)


class DiagonalGaussianPosterior(nn.Module):
    """q(z|x) = N(mu, diag(exp(logvar))) from the encoder's 2 * latent_dim outputs: mu and logvar side by side."""

    def __init__(self, latent_dim):
        super().__init__()
        self.num_inputs = 2 * latent_dim

    def forward(self, features):
        mu, logvar = features.chunk(2, dim=-1)
        return DiagonalGaussian(mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX))


class BernoulliLikelihood(nn.Module):
    """p(x|z) = Bernoulli(sigmoid(logits)) for every pixel, the decoder's output read as logits; its mean is the
    image of pixel probabilities. A normalised likelihood of binary pixels only: grey levels give a number (the
    cross-entropy that fit(binarize=False) trains on), which vae_helpers.image_checks allows unless asked for nats."""

    params_per_channel = 1
    support = "binary"

    def forward(self, logits):
        return Independent(Bernoulli(logits=logits, validate_args=False), 3)


DEFAULTS = {"prior": StandardNormalPrior, "posterior": DiagonalGaussianPosterior, "likelihood": BernoulliLikelihood}


def describe(part):
    """A part as JSON-friendly values for a checkpoint's record: its class's qualified name and its config()."""
    config = part.config() if hasattr(part, "config") else {}
    return {"class": f"{type(part).__module__}.{type(part).__qualname__}", **config}
