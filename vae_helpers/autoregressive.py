"""A decoder strong enough to ignore z: PixelCNN-style masked convolutions (van den Oord et al. 2016).

    p(x | z) = prod_i Bernoulli(x_i; sigmoid(l_i(x_<i, z)))

Each pixel's logit sees z and the pixels above it and to its left (raster order), so the decoder can model much of
a digit from the pixels already drawn, and the ELBO can be raised by leaving q(z|x) at the prior: posterior collapse
that does not heal (Chen et al. 2017, "Variational lossy autoencoder"). benchmarks/bench_collapse.py trains it over
many seeds; notebook 08 shows the runs.

log p(x|z) takes one pass (every pixel's neighbours are in x: teacher forcing); a sample takes one pass per pixel.
The model keeps 05's MLP encoder and the series' parts (prior, posterior), so objectives.elbo, iwae_bound and
training.fit run on it unchanged.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, constraints

from vae_helpers.distributions import draw
from vae_helpers.models import VAE, _mlp_layers


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only the pixels before the centre in raster order: mask "A" (the first layer)
    hides the centre too, so no logit sees its own pixel; mask "B" (later layers) lets a feature see the features
    computed at its own position, which themselves saw only earlier pixels."""

    def __init__(self, in_channels, out_channels, kernel_size, mask_type):
        if mask_type not in ("A", "B") or kernel_size % 2 == 0:
            raise ValueError(f"mask_type must be 'A' or 'B' and kernel_size odd, got {mask_type!r}, {kernel_size}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        mask = torch.ones_like(self.weight)
        centre = kernel_size // 2
        mask[..., centre, centre + (mask_type == "B"):] = 0  # the centre row: from the centre (A) or after it (B)
        mask[..., centre + 1:, :] = 0  # every row below
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class AutoregressiveBernoulli(Distribution):
    """p(x|z) over binary images (B, 1, H, W) for a batch of codes; `pixel_logits(x, z)` gives every pixel's logit
    from the pixels before it. log_prob is exact; sample draws pixel by pixel. There is no closed-form mean image."""

    arg_constraints = {}
    support = constraints.independent(constraints.boolean, 3)

    def __init__(self, pixel_logits, z, image_shape):
        self.pixel_logits, self.z = pixel_logits, z
        super().__init__(batch_shape=z.shape[:1], event_shape=torch.Size(image_shape), validate_args=False)

    def log_prob(self, x):
        return Independent(Bernoulli(logits=self.pixel_logits(x, self.z), validate_args=False), 3).log_prob(x)

    @torch.no_grad()
    def sample(self, sample_shape=torch.Size()):
        if sample_shape != torch.Size():
            raise ValueError("draw one image per code: repeat the codes for more")
        x = torch.zeros(*self.batch_shape, *self.event_shape, dtype=self.z.dtype, device=self.z.device)
        for row in range(x.shape[-2]):
            for column in range(x.shape[-1]):
                logits = self.pixel_logits(x, self.z)[..., row, column]
                x[..., row, column] = torch.bernoulli(torch.sigmoid(logits))
        return x

    @property
    def mean(self):
        raise NotImplementedError("an autoregressive p(x|z) has no closed-form mean image: draw images with "
                                  ".sample() (model.sample and model.reconstruct do)")


class PixelCNNVAE(VAE):
    """05's MLP encoder with an autoregressive decoder: a masked 7x7 convolution (mask A), then `num_layers` masked
    3x3 convolutions (mask B), each with a bias computed from z (the same at every position), then one logit per
    pixel. Binary images of one channel."""

    def __init__(self, latent_dim=16, hidden_dims=(256, 128), channels=16, num_layers=3, **parts):
        super().__init__(latent_dim, **parts)
        if self.image_shape[0] != 1 or self.condition_dim:
            raise ValueError("PixelCNNVAE models one-channel images without a condition")
        self.hidden_dims, self.channels, self.num_layers = tuple(hidden_dims), channels, num_layers
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp_layers((self.image_shape[1] * self.image_shape[2],
                                                                 *self.hidden_dims)),
                                     nn.Linear(self.hidden_dims[-1], self.parts["posterior"].num_inputs))
        self.first = MaskedConv2d(1, channels, 7, "A")
        self.layers = nn.ModuleList(MaskedConv2d(channels, channels, 3, "B") for _ in range(num_layers))
        self.code_biases = nn.Linear(latent_dim, channels * (num_layers + 1))  # z's say in every layer
        self.to_logits = nn.Conv2d(channels, 1, 1)
        self.check_parts()

    def pixel_logits(self, x, z):
        """Logits (B, 1, H, W) of every pixel given the pixels before it in x (B, 1, H, W) and the codes z (B, D)."""
        biases = self.code_biases(z).view(len(z), self.num_layers + 1, self.channels, 1, 1)
        h = self.first(2 * x - 1) + biases[:, 0]  # pixels as -1/+1, so an unseen (zero-padded) pixel is neither
        for index, layer in enumerate(self.layers, start=1):
            h = layer(torch.relu(h)) + biases[:, index]
        return self.to_logits(torch.relu(h))

    def likelihood(self, z, c=None):
        self.check_condition(c, z)
        return AutoregressiveBernoulli(self.pixel_logits, z, self.image_shape)

    @torch.no_grad()
    def sample(self, num_samples, generator=None, temperature=1.0, c=None):
        """Binary images (num_samples, 1, H, W) drawn pixel by pixel from codes of the prior (generator draws the
        codes, the global random state the pixels)."""
        z = temperature * draw(self.prior(), (num_samples,), generator)
        return self.likelihood(z).sample()

    @torch.no_grad()
    def reconstruct(self, x, c=None):
        """A binary image drawn from p(x|z) at each image's posterior mean."""
        return self.likelihood(self.posterior(self.check_input(x), c).mean).sample()

    def config(self):
        return {"latent_dim": self.latent_dim, "hidden_dims": list(self.hidden_dims), "channels": self.channels,
                "num_layers": self.num_layers, **super().config()}
