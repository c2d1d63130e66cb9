"""Two VAEs with Bernoulli decoders: an MLP (notebook 05) and a convolutional one (notebook 06).

Both share the `VAE` base class, so the objectives, training loop, checkpoints and widgets work with either:
    encode(x) -> (mu, logvar)     q_phi(z|x) = N(mu, diag(exp(logvar)))
    decode(z) -> logits           p_theta(x|z) = Bernoulli(sigmoid(logits)), one logit per pixel
    log_likelihood(x, z) -> (B,)  log p_theta(x|z)
The prior p(z) is N(0, I).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from vae_helpers.data import IMAGE_SHAPE
from vae_helpers.distributions import bernoulli_log_prob
from vae_helpers.image_checks import check_images

NUM_PIXELS = math.prod(IMAGE_SHAPE)  # 1 * 28 * 28
# Keeps exp(logvar) finite in float32 even for a badly trained encoder; real values stay far inside.
LOGVAR_MIN, LOGVAR_MAX = -30.0, 30.0


class VAE(nn.Module):
    """What every VAE in the series shares; subclasses build self.encoder and self.decoder."""

    def __init__(self, latent_dim):
        super().__init__()
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive whole number, got {latent_dim!r}")
        self.latent_dim = latent_dim

    def check_input(self, x, name="x", *, binary=False):
        """Raise a clear TypeError or ValueError unless x is what the Bernoulli decoder models: float images
        (N, 1, 28, 28) with pixels in [0, 1] (binary=True: every pixel 0 or 1). A model of other data overrides it.
        """
        return check_images(x, name, binary=binary)

    def encode(self, x):
        """Map images (B, 1, 28, 28) to the mean and log-variance of q(z|x), each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)

    def decode(self, z):
        """Map latent codes (B, latent_dim) to pixel logits (B, 1, 28, 28) of p(x|z)."""
        return self.decoder(z)

    def reparameterize(self, mu, logvar, generator=None):
        """Draw z = mu + sigma * eps with eps ~ N(0, I), so gradients flow to mu and logvar (notebook 04)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x, generator=None):
        """Encode, sample one z per image and decode: returns (logits, mu, logvar, z)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return self.decode(z), mu, logvar, z

    def log_likelihood(self, x, z):
        """log p(x|z) in nats, (B,), for images x (B, 1, 28, 28) and codes z (B, latent_dim)."""
        return bernoulli_log_prob(x, self.decode(z))

    @torch.no_grad()
    def sample(self, num_samples, generator=None, temperature=1.0):
        """Decode z ~ N(0, temperature^2 I): pixel probabilities (num_samples, 1, 28, 28) of new digits."""
        device = next(self.parameters()).device
        z = temperature * torch.randn(num_samples, self.latent_dim, generator=generator, device=device)
        return torch.sigmoid(self.decode(z))

    @torch.no_grad()
    def reconstruct(self, x):
        """Decode the posterior mean of each image: pixel probabilities with the shape of x."""
        mu, _ = self.encode(self.check_input(x))
        return torch.sigmoid(self.decode(mu))

    def config(self):
        """The constructor arguments, as JSON-friendly values (what a checkpoint records)."""
        raise NotImplementedError

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self):
        settings = ", ".join(f"{key}={value}" for key, value in self.config().items())
        return f"{settings}, parameters={self.num_parameters():,}"


class MLPVAE(VAE):
    """A VAE whose encoder and decoder are multilayer perceptrons over the 784 flattened pixels."""

    def __init__(self, latent_dim=2, hidden_dims=(256, 128)):
        super().__init__(latent_dim)
        self.hidden_dims = tuple(hidden_dims)
        widths = (NUM_PIXELS, *self.hidden_dims)
        self.encoder = nn.Sequential(
            nn.Flatten(),  # (B, 1, 28, 28) -> (B, 784)
            *_mlp_layers(widths),  # -> (B, hidden_dims[-1])
            nn.Linear(widths[-1], 2 * latent_dim),  # -> (B, 2 * latent_dim): mu and logvar side by side
        )
        self.decoder = nn.Sequential(
            *_mlp_layers((latent_dim, *reversed(self.hidden_dims))),  # (B, latent_dim) -> (B, hidden_dims[0])
            nn.Linear(self.hidden_dims[0], NUM_PIXELS),  # -> (B, 784) logits
            nn.Unflatten(1, IMAGE_SHAPE),  # -> (B, 1, 28, 28)
        )

    def config(self):
        return {"latent_dim": self.latent_dim, "hidden_dims": list(self.hidden_dims)}


class ConvVAE(VAE):
    """A VAE with a strided-convolution encoder and a decoder that doubles the side twice by sub-pixel convolution
    (a 3x3 convolution into 4 times the channels, whose values PixelShuffle lays out as 2x2 blocks of pixels; it can
    compute whatever a ConvTranspose2d(kernel_size=4, stride=2, padding=1) computes, see subpixel_from_transposed).

    The widths and the recipe's learning rate were chosen for their validation ELBO within a fixed number of
    training seconds (benchmarks/tune_conv.py); the other layouts measured are in benchmarks/RESULTS.md.
    Convolutions run channels-last, which oneDNN computes faster on a CPU; inputs and outputs keep the usual
    (B, 1, 28, 28) layout.
    """

    def __init__(self, latent_dim=16, channels=(8, 32)):
        super().__init__(latent_dim)
        c1, c2 = self.channels = tuple(channels)
        # SiLU rather than ReLU: it learnt faster in the first seconds, and with ReLU at the recipe's learning rate
        # one tuning run never left the mean image (benchmarks/RESULTS.md)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=4, stride=2, padding=1), nn.SiLU(),  # (B, 1, 28, 28) -> (B, c1, 14, 14)
            nn.Conv2d(c1, c2, kernel_size=4, stride=2, padding=1), nn.SiLU(),  # -> (B, c2, 7, 7)
            nn.Flatten(),  # -> (B, c2 * 49)
            nn.Linear(c2 * 7 * 7, 2 * latent_dim),  # -> (B, 2 * latent_dim): mu and logvar side by side
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, c2 * 7 * 7), nn.SiLU(),  # (B, latent_dim) -> (B, c2 * 49)
            nn.Unflatten(1, (c2, 7, 7)),  # -> (B, c2, 7, 7)
            nn.Conv2d(c2, 4 * c1, kernel_size=3, padding=1),  # -> (B, 4 * c1, 7, 7): a 2x2 block per position
            ChannelsLastPixelShuffle(2), nn.SiLU(),  # -> (B, c1, 14, 14)
            nn.Conv2d(c1, 4, kernel_size=3, padding=1),  # -> (B, 4, 14, 14)
            ChannelsLastPixelShuffle(2),  # -> (B, 1, 28, 28)
            PixelBias(IMAGE_SHAPE),  # + one learnt logit per pixel -> (B, 1, 28, 28) logits
        )
        self.to(memory_format=torch.channels_last)

    def encode(self, x):
        """Map images (B, 1, 28, 28) to the mean and log-variance of q(z|x), each (B, latent_dim)."""
        return super().encode(x.contiguous(memory_format=torch.channels_last))

    def decode(self, z):
        """Map latent codes (B, latent_dim) to pixel logits (B, 1, 28, 28) of p(x|z), in the usual layout."""
        return self.decoder(z).contiguous()

    @torch.no_grad()
    def initialize_output_bias(self, train_images):
        """Set the per-pixel logits to those of the mean training image, so that before any training the decoder
        already draws the average digit and the first epochs go into the codes; returns the model.

        In the measurements of benchmarks/RESULTS.md the validation ELBO after 5 s of training was 43 nats higher
        with it than without (ReLU) and 14 nats higher (SiLU); with SiLU it gave the conv VAE its margin per second.
        The pixels are clamped to [0.001, 0.999] first, so border pixels that are 0 in every training digit get a
        large negative logit instead of minus infinity.
        """
        mean_image = self.check_input(train_images, "train_images").mean(0).clamp(1e-3, 1 - 1e-3)
        self.decoder[-1].logits.copy_(torch.logit(mean_image))
        return self

    def config(self):
        return {"latent_dim": self.latent_dim, "channels": list(self.channels)}


class ChannelsLastPixelShuffle(nn.PixelShuffle):
    """PixelShuffle that keeps channels-last tensors channels-last: the same numbers as nn.PixelShuffle, in one copy.
    On channels-last input torch's own took about three times as long as on the usual layout (benchmarks/RESULTS.md),
    and the next convolution would have to convert back."""

    def forward(self, h):
        if not h.is_contiguous(memory_format=torch.channels_last):
            return super().forward(h)
        r, (batch, channels, height, width) = self.upscale_factor, h.shape
        # a view (B, H, W, C, r, r), then one copy into (B, rH, rW, C)
        blocks = h.permute(0, 2, 3, 1).reshape(batch, height, width, channels // r**2, r, r)
        pixels = blocks.permute(0, 1, 4, 2, 5, 3).reshape(batch, r * height, r * width, channels // r**2)
        return pixels.permute(0, 3, 1, 2)  # (B, C, rH, rW), channels-last in memory


class PixelBias(nn.Module):
    """Add one learnt number per pixel: the decoder's last bias, which a convolution (one bias per channel, shared
    by every position) cannot give."""

    def __init__(self, shape):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(shape))

    def forward(self, h):
        return h + self.logits

    def extra_repr(self):
        return f"shape={tuple(self.logits.shape)}"


# Output pixel 2i + a of a transposed convolution with kernel 4, stride 2 and padding 1 sees input pixels i - 1, i
# and i + 1 through kernel taps that depend on its phase a: row a of this table gives the tap for each of the
# three (4: none, a zero).
_PHASE_TAPS = torch.tensor([[3, 1, 4], [4, 2, 0]])


def subpixel_from_transposed(layer):
    """The sub-pixel layers (a 3x3 Conv2d into 4 times the channels, then PixelShuffle(2)) that compute exactly what
    `layer`, a ConvTranspose2d(kernel_size=4, stride=2, padding=1), computes (Shi et al. 2016, "Real-time single
    image and video super-resolution"). So the decoder's sub-pixel steps can represent any such transposed
    convolution; notebook 06 checks it."""
    if (layer.kernel_size, layer.stride, layer.padding, layer.output_padding) != ((4, 4), (2, 2), (1, 1), (0, 0)):
        raise ValueError(f"needs kernel_size=4, stride=2, padding=1 and no output_padding, got {layer}")
    weight = F.pad(layer.weight, (0, 1, 0, 1))[:, :, _PHASE_TAPS][..., _PHASE_TAPS]  # (C_in, C_out, a, ty, b, tx)
    c_in, c_out = weight.shape[:2]
    conv = nn.Conv2d(c_in, 4 * c_out, kernel_size=3, padding=1, bias=layer.bias is not None,
                     dtype=layer.weight.dtype, device=layer.weight.device)
    with torch.no_grad():
        conv.weight.copy_(weight.permute(1, 2, 4, 0, 3, 5).reshape(c_out * 4, c_in, 3, 3))  # PixelShuffle's order
        if layer.bias is not None:
            conv.bias.copy_(layer.bias.repeat_interleave(4))
    return nn.Sequential(conv, nn.PixelShuffle(2))


MODEL_CLASSES = {cls.__name__: cls for cls in (MLPVAE, ConvVAE)}


def build_model(model_class, model_config):
    """Create a model from its class name and config(), e.g. build_model("ConvVAE", {"latent_dim": 16, ...})."""
    if model_class not in MODEL_CLASSES:
        raise ValueError(f"model_class must be one of {sorted(MODEL_CLASSES)}, got {model_class!r}")
    return MODEL_CLASSES[model_class](**model_config)


def _mlp_layers(widths):
    """Linear + ReLU for each consecutive pair of widths."""
    layers = []
    for width_in, width_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return layers
