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
    """A VAE with a strided-convolution encoder and a transposed-convolution decoder."""

    def __init__(self, latent_dim=16, channels=(32, 64)):
        super().__init__(latent_dim)
        c1, c2 = self.channels = tuple(channels)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=4, stride=2, padding=1), nn.ReLU(),  # (B, 1, 28, 28) -> (B, c1, 14, 14)
            nn.Conv2d(c1, c2, kernel_size=4, stride=2, padding=1), nn.ReLU(),  # -> (B, c2, 7, 7)
            nn.Flatten(),  # -> (B, c2 * 49)
            nn.Linear(c2 * 7 * 7, 2 * latent_dim),  # -> (B, 2 * latent_dim): mu and logvar side by side
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, c2 * 7 * 7), nn.ReLU(),  # (B, latent_dim) -> (B, c2 * 49)
            nn.Unflatten(1, (c2, 7, 7)),  # -> (B, c2, 7, 7)
            nn.ConvTranspose2d(c2, c1, kernel_size=4, stride=2, padding=1), nn.ReLU(),  # -> (B, c1, 14, 14)
            nn.ConvTranspose2d(c1, 1, kernel_size=4, stride=2, padding=1),  # -> (B, 1, 28, 28) logits
        )

    def decode(self, z):
        """Map latent codes (B, latent_dim) to pixel logits (B, 1, 28, 28) of p(x|z)."""
        if torch.is_grad_enabled():
            return self.decoder(z)
        # Without gradients (scoring, sampling, widgets) the same function is computed about twice as fast on a
        # CPU: channels-last activations for the first transposed convolution, and the last one as an equivalent
        # sub-pixel convolution (4,000 codes on one thread: 0.69 s instead of 1.31 s, see the notes in
        # benchmarks/RESULTS.md). Training keeps the plain layers, with which the shipped
        # checkpoints' histories were recorded.
        linear, relu, unflatten, transposed, relu_2, last = self.decoder
        h = unflatten(relu(linear(z))).contiguous(memory_format=torch.channels_last)  # (B, c2, 7, 7)
        return subpixel_transposed_conv(last, relu_2(transposed(h))).contiguous()  # (B, 1, 28, 28)

    def config(self):
        return {"latent_dim": self.latent_dim, "channels": list(self.channels)}


# Output pixel 2i + a of a transposed convolution with kernel 4, stride 2 and padding 1 sees input pixels i - 1, i
# and i + 1 through kernel taps that depend on its phase a: row a of this table gives the tap for each of the
# three (4: none, a zero).
_PHASE_TAPS = torch.tensor([[3, 1, 4], [4, 2, 0]])


def subpixel_transposed_conv(layer, h):
    """Compute layer(h) for a ConvTranspose2d(kernel_size=4, stride=2, padding=1) as a 3x3 convolution into 4 times
    the channels followed by PixelShuffle(2) (Shi et al. 2016, "Real-time single image and video super-resolution");
    the same numbers up to rounding, and on a CPU several times faster for few output channels."""
    if (layer.kernel_size, layer.stride, layer.padding, layer.output_padding) != ((4, 4), (2, 2), (1, 1), (0, 0)):
        raise ValueError(f"needs kernel_size=4, stride=2, padding=1 and no output_padding, got {layer}")
    weight = F.pad(layer.weight, (0, 1, 0, 1))[:, :, _PHASE_TAPS][..., _PHASE_TAPS]  # (C_in, C_out, a, ty, b, tx)
    c_in, c_out = weight.shape[:2]
    weight = weight.permute(1, 2, 4, 0, 3, 5).reshape(c_out * 4, c_in, 3, 3)  # PixelShuffle's channel order
    bias = None if layer.bias is None else layer.bias.repeat_interleave(4)
    return F.pixel_shuffle(F.conv2d(h, weight.contiguous(memory_format=torch.channels_last), bias, padding=1), 2)


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
