"""Layers of the conv VAE that torch.nn lacks, and a check of its sub-pixel steps.

The decoder of models.ConvVAE uses ChannelsLastPixelShuffle and PixelBias; subpixel_from_transposed shows that its
sub-pixel steps can compute what a transposed convolution computes. Introduced in
notebooks/06_the_convolutional_vae.ipynb."""

import torch
import torch.nn.functional as F
from torch import nn


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
