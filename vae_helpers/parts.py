"""The three parts of a VAE, each an nn.Module that returns a torch.distributions object (as Tomczak's intro_dgm
builds its Encoder, Decoder and Prior):

    prior()               p(z), event shape (D,)           default StandardNormalPrior: N(0, I)
    posterior(features)   q(z|x) from the encoder's output  default DiagonalGaussianPosterior: N(mu, diag sigma^2)
    likelihood(output)    p(x|z) from the decoder's output  default BernoulliLikelihood: one logit per pixel

A model (vae_helpers.models) takes other parts as `prior=`, `posterior=` and `likelihood=`; their parameters train
with the model and are saved in its checkpoint. A part says how many numbers it reads (`num_inputs` of a
posterior: the encoder's output size; `params_per_channel` of a likelihood: the decoder's outputs per pixel and
channel), which images it models (`support` of a likelihood, for vae_helpers.image_checks), and its constructor
arguments (`config()`, recorded in the checkpoint).
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

    def config(self):
        return {"latent_dim": len(self.zeros)}


class DiagonalGaussianPosterior(nn.Module):
    """q(z|x) = N(mu, diag(exp(logvar))) from the encoder's 2 * latent_dim outputs: mu and logvar side by side."""

    def __init__(self, latent_dim):
        super().__init__()
        self.num_inputs = 2 * latent_dim

    def forward(self, features):
        mu, logvar = features.chunk(2, dim=-1)
        return DiagonalGaussian(mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX))

    def config(self):
        return {"latent_dim": self.num_inputs // 2}


class BernoulliLikelihood(nn.Module):
    """p(x|z) = Bernoulli(sigmoid(logits)) for every pixel, the decoder's output read as logits; its mean is the
    image of pixel probabilities. A normalised likelihood of binary pixels only: grey levels give a number (the
    cross-entropy that fit(binarize=False) trains on), which vae_helpers.image_checks allows unless asked for nats."""

    params_per_channel = 1
    support = "binary"

    def forward(self, logits):
        return Independent(Bernoulli(logits=logits, validate_args=False), 3)

    def config(self):
        return {}


DEFAULTS = {"prior": StandardNormalPrior, "posterior": DiagonalGaussianPosterior, "likelihood": BernoulliLikelihood}
# The package's parts, which build_model can make from a checkpoint's record: qualified name -> class.
PART_CLASSES = {f"{cls.__module__}.{cls.__qualname__}": cls for cls in DEFAULTS.values()}


def describe(part):
    """A part as JSON-friendly values for a checkpoint's record: its class's qualified name and its config()."""
    config = part.config() if hasattr(part, "config") else {}
    return {"class": f"{type(part).__module__}.{type(part).__qualname__}", **config}


def build_part(description, role):
    """Make the part that describe() described (one of the package's own; `role`: "prior", "posterior", ...)."""
    settings = dict(description)
    name = settings.pop("class", None)
    if name not in PART_CLASSES:
        raise ValueError(f"the record's {role} is {name!r}, which vae_helpers cannot build (it builds "
                         f"{', '.join(sorted(PART_CLASSES))}): build the model with that {role} yourself and pass "
                         f"it to load_checkpoint(path, model)")
    return PART_CLASSES[name](**settings)
