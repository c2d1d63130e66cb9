"""Two VAEs: an MLP (notebook 05) and a convolutional one (notebook 06), made of three parts (parts.py).

Both share the `VAE` base class. Everything after 05 talks to a model through its parts, torch.distributions
objects: prior() p(z), posterior(x) q(z|x) and likelihood(z) p(x|z), whose .mean is the image to show; 05's view,
encode(x) -> (mu, logvar) and decode(z) -> logits, stays. Images are (B, C, H, W), by default (B, 1, 28, 28). A
condition c (B, ...) of condition_dim numbers (a one-hot label, a visible part of the image) reaches the encoder and
the decoder: a conditional VAE.
"""

import math

import torch
from torch import nn

from vae_helpers.data import IMAGE_SHAPE
from vae_helpers.distributions import DiagonalGaussian, draw
from vae_helpers.image_checks import check_images
from vae_helpers.layers import ChannelsLastPixelShuffle, PixelBias
from vae_helpers import flows, likelihoods, priors
from vae_helpers.parts import DEFAULTS, BernoulliLikelihood, describe


class VAE(nn.Module):
    """What every VAE in the series shares; subclasses build self.encoder and self.decoder, then call
    check_parts(). `prior`, `posterior` and `likelihood` replace the default parts (parts.py)."""

    def __init__(self, latent_dim, *, image_shape=IMAGE_SHAPE, condition_dim=0, prior=None, posterior=None,
                 likelihood=None):
        super().__init__()
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive whole number, got {latent_dim!r}")
        if len(image_shape) != 3 or not all(isinstance(n, int) and n > 0 for n in image_shape):
            raise ValueError(f"image_shape must be (channels, height, width), got {image_shape!r}")
        if not isinstance(condition_dim, int) or condition_dim < 0:
            raise ValueError(f"condition_dim must be a whole number, 0 for none, got {condition_dim!r}")
        self.latent_dim, self.image_shape, self.condition_dim = latent_dim, tuple(image_shape), condition_dim
        self.parts = nn.ModuleDict({"prior": prior or DEFAULTS["prior"](latent_dim),
                                    "posterior": posterior or DEFAULTS["posterior"](latent_dim),
                                    "likelihood": likelihood or DEFAULTS["likelihood"]()})

    def check_parts(self):
        """Raise ValueError unless the prior is a distribution over codes of latent_dim numbers. A prior that reads
        the model (priors.VampPrior runs its encoder) is bound to it first."""
        if hasattr(self.parts["prior"], "bind"):
            self.parts["prior"].bind(self)
        if (prior := self.prior()).event_shape != (self.latent_dim,):
            raise ValueError(f"the prior must be a distribution over codes of shape ({self.latent_dim},), got a "
                             f"{type(prior).__name__} with event shape {tuple(prior.event_shape)}")

    def check_input(self, x, name="x", *, exact=False):
        """Return x as the model's dtype after a clear TypeError or ValueError unless it is what the likelihood
        models: float images (N, C, H, W) of this model's shape in its support (exact=False lets a Bernoulli
        likelihood take grey levels in [0, 1]; exact=True asks for binary pixels, needed for nats)."""
        support = self.parts["likelihood"].support
        check_images(x, name, shape=self.image_shape, support="unit" if support == "binary" and not exact else support)
        dtype = next(self.parameters()).dtype
        return x if x.dtype == dtype else x.to(dtype)

    def prior(self):
        """p(z): a distribution over codes, event shape (latent_dim,)."""
        return self.parts["prior"]()

    def posterior(self, x, c=None):
        """q(z|x) (q(z|x, c) with a condition) for images x (B, C, H, W): a distribution over codes (B, latent_dim)."""
        return self.parts["posterior"](self.encoder_output(x, c))

    def likelihood(self, z, c=None):
        """p(x|z) (p(x|z, c)) for codes z (B, latent_dim): a distribution over images (B, C, H, W), with .mean."""
        return self.parts["likelihood"](self.decode(z, c))

    def encoder_output(self, x, c=None):
        """What the posterior part reads: the encoder's output (B, num_inputs), the condition joined to its features
        at layer self.condition_at. Whole levels 0-255 (a discrete likelihood's images) reach the encoder divided
        by 255, so every likelihood's encoder sees pixels on the same [0, 1] scale."""
        if self.parts["likelihood"].support == "levels":
            x = x / (likelihoods.NUM_LEVELS - 1)
        if not self.condition_dim:
            self.check_condition(c, x)
            return self.encoder(x)
        features = self.encoder[:self.condition_at](x).flatten(1)
        return self.encoder[self.condition_at:](torch.cat([features, self.check_condition(c, x)], dim=1))

    def encode(self, x, c=None):
        """Map images (B, C, H, W) to the mean and log-variance of a diagonal Gaussian q(z|x), each (B, latent_dim)."""
        q = self.posterior(x, c)
        if not isinstance(q, DiagonalGaussian):
            raise TypeError(f"encode gives the mean and log-variance of a diagonal Gaussian q(z|x); this model's "
                            f"posterior is a {type(q).__name__}: use model.posterior(x)")
        return q.mu, q.logvar

    def decode(self, z, c=None):
        """Map latent codes (B, latent_dim) to what the likelihood reads: for Bernoulli pixels, logits (B, C, H, W)."""
        c = self.check_condition(c, z)
        return self.decoder(z if c is None else torch.cat([z, c], dim=1))

    def check_condition(self, c, batch):
        """c flattened to (B, condition_dim) for a batch of B images or codes (None for a model without a
        condition), after a clear ValueError for a missing, unexpected or misshapen one."""
        if c is None and not self.condition_dim:
            return None
        if not (self.condition_dim and isinstance(c, torch.Tensor) and len(c) == len(batch)
                and c[0].numel() == self.condition_dim):
            wanted = (f"a tensor with {len(batch)} rows of {self.condition_dim} numbers, one per example (a one-hot "
                      f"label, say)" if self.condition_dim else "None: this model takes no condition (condition_dim=0)")
            got = tuple(c.shape) if isinstance(c, torch.Tensor) else repr(c)
            raise ValueError(f"c must be {wanted}, got {got}")
        return c.flatten(1).to(batch.dtype)

    def reparameterize(self, mu, logvar, generator=None):
        """Draw z = mu + sigma * eps with eps ~ N(0, I), so gradients flow to mu and logvar (notebook 04)."""
        return DiagonalGaussian(mu, logvar).rsample(generator=generator)

    def log_likelihood(self, x, z, c=None):
        """log p(x|z) in nats, (B,), for images x (B, C, H, W) and codes z (B, latent_dim)."""
        return self.likelihood(z, c).log_prob(x)

    @torch.no_grad()
    def sample(self, num_samples, generator=None, temperature=1.0, c=None):
        """Decode codes drawn from the prior, scaled by temperature (for N(0, I): z ~ N(0, temperature^2 I)):
        the mean images (num_samples, C, H, W) of new digits (pixel probabilities for Bernoulli pixels)."""
        z = temperature * draw(self.prior(), (num_samples,), generator)
        return self.likelihood(z, c).mean

    @torch.no_grad()
    def reconstruct(self, x, c=None):
        """Decode the posterior mean of each image: the likelihood's mean image, with the shape of x."""
        return self.likelihood(self.posterior(self.check_input(x), c).mean, c).mean

    def config(self):
        """The constructor arguments as JSON-friendly values (what a checkpoint records), defaults left out."""
        extra = {"image_shape": list(self.image_shape)} if self.image_shape != IMAGE_SHAPE else {}
        extra |= {"condition_dim": self.condition_dim} if self.condition_dim else {}
        return extra | {role: describe(part) for role, part in self.parts.items() if type(part) is not DEFAULTS[role]}

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self):
        settings = ", ".join(f"{key}={value}" for key, value in self.config().items())
        return f"{settings}, parameters={self.num_parameters():,}"


class MLPVAE(VAE):
    """A VAE whose encoder and decoder are multilayer perceptrons over the flattened pixels (784 for a digit); a
    condition joins the pixels at the encoder's input and the code at the decoder's."""

    condition_at = 1  # after Flatten

    def __init__(self, latent_dim=2, hidden_dims=(256, 128), **parts):
        super().__init__(latent_dim, **parts)
        self.hidden_dims = tuple(hidden_dims)
        num_pixels, channels = math.prod(self.image_shape), self.image_shape[0]
        num_outputs = channels * self.parts["likelihood"].params_per_channel
        self.encoder = nn.Sequential(
            nn.Flatten(),  # (B, 1, 28, 28) -> (B, 784)
            *_mlp_layers((num_pixels + self.condition_dim, *self.hidden_dims)),  # -> (B, hidden_dims[-1])
            nn.Linear(self.hidden_dims[-1], self.parts["posterior"].num_inputs),  # -> (B, 2 * latent_dim): mu, logvar
        )
        self.decoder = nn.Sequential(
            *_mlp_layers((latent_dim + self.condition_dim, *reversed(self.hidden_dims))),  # -> (B, hidden_dims[0])
            nn.Linear(self.hidden_dims[0], num_outputs * num_pixels // channels),  # -> (B, 784) logits
            nn.Unflatten(1, (num_outputs, *self.image_shape[1:])),  # -> (B, 1, 28, 28)
        )
        self.check_parts()

    def config(self):
        return {"latent_dim": self.latent_dim, "hidden_dims": list(self.hidden_dims), **super().config()}


class ConvVAE(VAE):
    """A VAE with a strided-convolution encoder and a decoder that doubles the side twice by sub-pixel convolution
    (a 3x3 convolution into 4 times the channels, whose values PixelShuffle lays out as 2x2 blocks of pixels; it can
    compute whatever a ConvTranspose2d(kernel_size=4, stride=2, padding=1) computes, see
    layers.subpixel_from_transposed).
    Height and width must be multiples of 4; a condition joins the encoder's features before its last layer and the
    code at the decoder's input.

    The widths and the recipe's learning rate were chosen for their validation ELBO within a fixed number of
    training seconds (benchmarks/tune_conv.py); the other layouts measured are in benchmarks/RESULTS.md.
    Convolutions run channels-last, which oneDNN computes faster on a CPU; inputs and outputs keep the usual
    (B, C, H, W) layout.
    """

    condition_at = 5  # the last Linear, after the convolutions' flattened features

    def __init__(self, latent_dim=16, channels=(8, 32), **parts):
        super().__init__(latent_dim, **parts)
        c1, c2 = self.channels = tuple(channels)
        c_in, height, width = self.image_shape
        if height % 4 or width % 4:
            raise ValueError(f"ConvVAE halves the image's side twice: height and width must be multiples of 4, got "
                             f"image_shape {self.image_shape}")
        c_out, h, w = c_in * self.parts["likelihood"].params_per_channel, height // 4, width // 4
        # SiLU rather than ReLU: it learnt faster in the first seconds, and with ReLU at the recipe's learning rate
        # one tuning run never left the mean image (benchmarks/RESULTS.md)
        self.encoder = nn.Sequential(
            nn.Conv2d(c_in, c1, kernel_size=4, stride=2, padding=1), nn.SiLU(),  # (B, 1, 28, 28) -> (B, c1, 14, 14)
            nn.Conv2d(c1, c2, kernel_size=4, stride=2, padding=1), nn.SiLU(),  # -> (B, c2, 7, 7)
            nn.Flatten(),  # -> (B, c2 * 49)
            nn.Linear(c2 * h * w + self.condition_dim, self.parts["posterior"].num_inputs),  # -> (B, 2 * latent_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim + self.condition_dim, c2 * h * w), nn.SiLU(),  # (B, latent_dim) -> (B, c2 * 49)
            nn.Unflatten(1, (c2, h, w)),  # -> (B, c2, 7, 7)
            nn.Conv2d(c2, 4 * c1, kernel_size=3, padding=1),  # -> (B, 4 * c1, 7, 7): a 2x2 block per position
            ChannelsLastPixelShuffle(2), nn.SiLU(),  # -> (B, c1, 14, 14)
            nn.Conv2d(c1, 4 * c_out, kernel_size=3, padding=1),  # -> (B, 4, 14, 14)
            ChannelsLastPixelShuffle(2),  # -> (B, 1, 28, 28)
            PixelBias((c_out, height, width)),  # + one learnt logit per pixel -> (B, 1, 28, 28) logits
        )
        self.to(memory_format=torch.channels_last)
        self.check_parts()

    def encoder_output(self, x, c=None):
        return super().encoder_output(x.contiguous(memory_format=torch.channels_last), c)

    def decode(self, z, c=None):
        """Map latent codes (B, latent_dim) to pixel logits (B, C, H, W) of p(x|z), in the usual layout."""
        return super().decode(z, c).contiguous()

    @torch.no_grad()
    def initialize_output_bias(self, train_images):
        """Set the per-pixel logits to those of the mean training image, so that before any training the decoder
        already draws the average digit and the first epochs go into the codes; returns the model.

        In the measurements of benchmarks/RESULTS.md the validation ELBO after 5 s of training was 43 nats higher
        with it than without (ReLU) and 14 nats higher (SiLU); with SiLU it gave the conv VAE its margin per second.
        The pixels are clamped to [0.001, 0.999] first, so border pixels that are 0 in every training digit get a
        large negative logit instead of minus infinity. Bernoulli pixels only (other likelihoods read no logits).
        """
        if not isinstance(self.parts["likelihood"], BernoulliLikelihood):
            raise ValueError(f"the output bias is set to logits, for Bernoulli pixels; this model's likelihood is "
                             f"{type(self.parts['likelihood']).__name__}")
        mean_image = self.check_input(train_images, "train_images").mean(0).clamp(1e-3, 1 - 1e-3)
        self.decoder[-1].logits.copy_(torch.logit(mean_image))
        return self

    def config(self):
        return {"latent_dim": self.latent_dim, "channels": list(self.channels), **super().config()}


MODEL_CLASSES = {cls.__name__: cls for cls in (MLPVAE, ConvVAE)}


def model_classes():
    """The classes build_model builds by name: these two, and notebook 11's completion models, which build on MLPVAE
    (imported here, on first use, since their module imports this one)."""
    from vae_helpers.completion import CompletionBaseline, CompletionVAE
    return MODEL_CLASSES | {cls.__name__: cls for cls in (CompletionVAE, CompletionBaseline)}


# The parts a checkpoint's record may name and build_model builds, by qualified name (what parts.describe writes).
SHIPPED_PARTS = {f"{cls.__module__}.{cls.__qualname__}": cls
                 for cls in (likelihoods.ContinuousBernoulliLikelihood, likelihoods.GaussianLikelihood,
                             likelihoods.DiscretizedLogisticLikelihood, likelihoods.CategoricalLikelihood,
                             priors.MixturePrior, priors.VampPrior, flows.FlowPosterior)}


def build_model(model_class, model_config):
    """Create a model from its class name and config(), e.g. build_model("ConvVAE", {"latent_dim": 16, ...}). Parts
    the package ships (SHIPPED_PARTS) are built from the record too; a model of other parts is built by whoever wrote
    them, and loaded with load_checkpoint(path, model)."""
    classes = model_classes()
    if model_class not in classes:
        raise ValueError(f"model_class must be one of {sorted(classes)}, got {model_class!r}")
    config = dict(model_config)
    for role in DEFAULTS.keys() & config.keys():
        settings = dict(config[role])
        name = settings.pop("class")
        if name not in SHIPPED_PARTS:
            raise ValueError(f"the record's {role} is {name!r}, which build_model does not make: build the model "
                             f"with that {role} and pass it to load_checkpoint(path, model)")
        config[role] = SHIPPED_PARTS[name](**settings)
    return classes[model_class](**config)


def _mlp_layers(widths):
    """Linear + ReLU for each consecutive pair of widths."""
    layers = []
    for width_in, width_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return layers
