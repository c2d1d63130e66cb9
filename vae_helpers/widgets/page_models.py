"""What the figures that run a model in the page need from the kernel, sent once per page: a network as generic
layers (linear, convolution, pixel shuffle, activations, a per-pixel bias) and arrays of numbers (the test digits,
their codes), each held by one SharedNumbers widget that every figure of the page refers to.

The page evaluates the layers with one small loop per kind (page_models.js `Sequential`); tests compare its output
with torch's, in Chromium (tests/test_page_figures.py).
"""

import hashlib
import json

import ipywidgets
import numpy as np
import torch
import traitlets
from torch import nn

from vae_helpers.layers import ChannelsLastPixelShuffle, PixelBias

DTYPES = {np.dtype("<f4"): "f4", np.dtype("uint8"): "u1"}  # what the page reads: Float32Array, Uint8Array


class SharedNumbers(ipywidgets.Widget):
    """Arrays held once in the page for every figure that refers to them: {name: [byte offset, dtype, shape]} and
    their bytes, one array after another (each starting at a multiple of 4 bytes, so a Float32Array can view it)."""

    layout_of = traitlets.Dict().tag(sync=True)
    values = traitlets.Bytes().tag(sync=True)

    def __repr__(self):  # the default would print the bytes
        return f"SharedNumbers({', '.join(self.layout_of)}: {len(self.values):,} bytes)"


_shared = {}  # digest of the arrays -> the SharedNumbers widget that holds them


def shared_numbers(arrays):
    """The SharedNumbers widget of `arrays` ({name: float32 or uint8 array}): the same widget for the same numbers,
    so a page whose figures all refer to them carries them once."""
    layout, chunks, offset = {}, [], 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        if array.dtype not in DTYPES:
            raise ValueError(f"shared arrays are float32 or uint8, got {array.dtype} for {name!r}")
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        layout[name] = [offset, DTYPES[array.dtype], list(array.shape)]
        padding = -len(data) % 4
        chunks.append(data + b"\0" * padding)
        offset += len(data) + padding
    values = b"".join(chunks)
    key = hashlib.sha256(json.dumps(layout).encode() + values).hexdigest()
    widget = _shared.get(key)
    if widget is None or widget.comm is None:  # never made, or closed since
        widget = _shared[key] = SharedNumbers(layout_of=layout, values=values)
    return widget


def sequential_spec(network, input_shape):
    """The layers of `network` (an nn.Sequential) as the page's loop runs them, and their weights in one array.

    Every layer's input shape is recorded by running the network once on zeros of `input_shape` (without the
    batch dimension). Returns (layers, weights): layers is a list of {"kind", ...}; weights a float32 array holding,
    per layer with parameters, its weight (PyTorch's layout, row-major) and then its bias.
    Raises ValueError for a layer the page does not run (say, a strided or transposed convolution).
    """
    shapes = {}

    def record(module, inputs, _output):  # returns None: a hook's return value would replace the output
        shapes.setdefault(module, inputs[0].shape[1:])

    hooks = [module.register_forward_hook(record) for module in network]
    with torch.no_grad():
        network(torch.zeros(1, *input_shape, device=next(network.parameters()).device))
    for hook in hooks:
        hook.remove()
    layers, chunks, offset = [], [], 0

    def add(*tensors):
        nonlocal offset
        start = offset
        for tensor in tensors:
            chunks.append(tensor.detach().float().cpu().reshape(-1))
            offset += tensor.numel()
        return start

    for module in network:
        shape = list(shapes[module])
        if isinstance(module, nn.Linear):
            layers.append({"kind": "linear", "in": module.in_features, "out": module.out_features,
                           "offset": add(module.weight, module.bias)})
        elif isinstance(module, nn.Conv2d):
            if (module.stride != (1, 1) or module.dilation != (1, 1) or module.groups != 1
                    or module.kernel_size[0] != module.kernel_size[1] or module.padding[0] != module.padding[1]
                    or module.padding_mode != "zeros"):
                raise ValueError(f"the page runs square convolutions with stride 1 and zero padding, got {module}")
            layers.append({"kind": "conv", "in": module.in_channels, "out": module.out_channels,
                           "size": module.kernel_size[0], "padding": module.padding[0], "height": shape[1],
                           "width": shape[2], "offset": add(module.weight, module.bias)})
        elif isinstance(module, (nn.PixelShuffle, ChannelsLastPixelShuffle)):
            layers.append({"kind": "pixel_shuffle", "factor": module.upscale_factor, "channels": shape[0],
                           "height": shape[1], "width": shape[2]})
        elif isinstance(module, PixelBias):
            layers.append({"kind": "bias", "size": module.logits.numel(), "offset": add(module.logits)})
        elif isinstance(module, (nn.SiLU, nn.ReLU)):
            layers.append({"kind": type(module).__name__.lower()})
        elif not isinstance(module, (nn.Flatten, nn.Unflatten)):  # the page's arrays are flat, channel by channel
            raise ValueError(f"the page runs Linear, Conv2d, PixelShuffle, PixelBias, SiLU and ReLU layers, "
                             f"not {type(module).__name__}")
    return layers, torch.cat(chunks).numpy().astype("<f4")
