"""The base of the widgets that run a small VAE in the page itself (explorers/touch.py): what they send it.

The page evaluates the MLP VAE with a plain layer loop (in_page_vae.js), so a pointer move is answered there, with
no round trip to the kernel, and the widgets keep working on the book site, where no kernel runs. The weights go
to the page once per page: every widget of the same weights refers to one NetworkWeights widget
(shared_network), which a saved notebook and the book site store once.
"""

import base64
import copy
import hashlib
import json
from pathlib import Path

import anywidget
import ipywidgets
import matplotlib
import numpy as np
import torch
import traitlets
from torch import nn

from vae_helpers import data, parts, plotting
from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.latent_space import decode_images, encode_images
from vae_helpers.widgets.live_figure import HOOKS_VARIABLE, figure_to_png, hooks_on, new_figure  # noqa: F401


def page_module(name):
    """The ES module of a widget that runs a network in the page: in_page_core.js (the layer loop, the MNIST recipe,
    the painting helpers) joined to the widget's own file `name`, so that both widget families share one copy of it."""
    folder = Path(__file__).parent
    return "\n".join((folder / file).read_text(encoding="utf-8") for file in ("in_page_core.js", name))


ESM = page_module("in_page_vae.js")
EXTENT = 4.5  # the map shows [-4.5, 4.5]^2: 99.99% of the prior's mass, and almost every test code


# The weights travel to the page as float16: half the bytes of float32, which keeps a book page with a 2-D MLP VAE
# (470,000 weights) under 3 MB as a host sends it. The page computes in float32 with the rounded weights; on the
# shipped 2-D model that moves a decoded pixel's probability by at most 0.0025 and a code's mean by 0.0004 (measured
# on the test digits). as_sent(model) is that network, which the tests compare the page with.
PAGE_WEIGHTS_DTYPE = np.dtype("<f2")


def as_sent(model):
    """A copy of `model` whose weights are what the page gets: each rounded to float16 (PAGE_WEIGHTS_DTYPE)."""
    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for parameter in rounded.parameters():
            parameter.copy_(parameter.to(torch.float16).to(parameter.dtype))
    return rounded.eval()


def network_spec(model, networks=("encoder", "decoder")):
    """The encoder and decoder of an MLP VAE as (layers, weights) for the page's layer loop (in_page_core.js
    `forward`). A conditional VAE sends its decoder only (networks=("decoder",)), whose first layer reads the code and
    the condition side by side; the page samples z from the prior and never encodes.

    Returns ({"encoder": [...], "decoder": [...], "logvar_range": [low, high]}, weights): each layer is
    {"rows", "cols", "offset", "relu"}; weights is one float16 array (PAGE_WEIGHTS_DTYPE) holding, per layer, its
    rows x cols matrix column by column (the transpose of nn.Linear's row-major weight, so the page can skip the
    columns of zero inputs) and then its biases.
    Raises ValueError for a network that is not Linear and ReLU layers (a convolutional VAE, say), or whose parts
    the page does not evaluate (another posterior than the diagonal Gaussian, another likelihood than Bernoulli).
    """
    defaults = (parts.DiagonalGaussianPosterior, parts.BernoulliLikelihood)
    if (model.condition_dim and "encoder" in networks) or any(
            type(model.parts[role]) is not cls for role, cls in zip(("posterior", "likelihood"), defaults)):
        raise ValueError("the in-page widgets evaluate a VAE with a diagonal Gaussian q(z|x) and Bernoulli pixels, "
                         "like the shipped 'mlp_vae_2d', and of a conditional VAE its decoder only")
    chunks, offset, spec = [], 0, {"logvar_range": [parts.LOGVAR_MIN, parts.LOGVAR_MAX], "encoder": [], "decoder": []}
    for part in networks:
        layers = []
        for module in getattr(model, part):
            if isinstance(module, nn.Linear):
                weight, bias = module.weight.detach().float().cpu(), module.bias.detach().float().cpu()
                layers.append({"rows": weight.shape[0], "cols": weight.shape[1], "offset": offset, "relu": False})
                chunks += [weight.T.reshape(-1), bias]
                offset += weight.numel() + bias.numel()
            elif isinstance(module, nn.ReLU) and layers:
                layers[-1]["relu"] = True
            elif not isinstance(module, (nn.Flatten, nn.Unflatten)):
                raise ValueError(f"the in-page widgets evaluate Linear and ReLU layers only, but the {part} has "
                                 f"{type(module).__name__}: use an MLP VAE such as the shipped 'mlp_vae_2d'")
        spec[part] = layers
    weights = torch.cat(chunks)
    if weights.abs().max() > torch.finfo(torch.float16).max:
        raise ValueError(f"a weight of {weights.abs().max().item():.3g} does not fit in float16, which the page "
                         f"gets (at most {torch.finfo(torch.float16).max:g})")
    return spec, weights.numpy().astype(PAGE_WEIGHTS_DTYPE)


class NetworkWeights(ipywidgets.Widget):
    """A network's layers and weights, held once in the page for every in-page widget that refers to it."""

    spec = traitlets.Dict().tag(sync=True)
    weights = traitlets.Bytes().tag(sync=True)

    def __repr__(self):  # the default would print the weights' bytes
        return f"NetworkWeights({len(self.weights):,} bytes)"


_shared = {}  # digest of (spec, weights) -> the NetworkWeights widget that holds them


def shared_network(model, networks=("encoder", "decoder")):
    """The NetworkWeights widget of `model`'s encoder and decoder (network_spec): the same widget for the same
    weights, so a page with two widgets of one model carries its weights once."""
    spec, weights = network_spec(model, networks)
    key = hashlib.sha256(json.dumps(spec).encode() + weights.tobytes()).hexdigest()
    widget = _shared.get(key)
    if widget is None or widget.comm is None:  # never made, or closed since
        widget = _shared[key] = NetworkWeights(spec=spec, weights=weights.tobytes())
    return widget


class InPageVAE(anywidget.AnyWidget):
    """What the in-page widgets send the page: the network (a reference to its shared weights), the prior, the
    encoded test digits and the map's look. Subclasses say where the widget starts (_first_point)."""

    _esm = ESM
    view = traitlets.Unicode().tag(sync=True)
    network = traitlets.Instance(NetworkWeights).tag(sync=True, **ipywidgets.widget_serialization)
    prior = traitlets.Dict().tag(sync=True)  # {"mu": [...], "logvar": [...]}: the diagonal Gaussian p(z)
    codes = traitlets.Bytes().tag(sync=True)  # (N, 2) float32 posterior means of the test digits
    labels = traitlets.Bytes().tag(sync=True)  # (N,) uint8
    centres = traitlets.List().tag(sync=True)  # [[z0, z1]] * 10: each class's median code, where its label goes
    palette = traitlets.List().tag(sync=True)  # 10 CSS colours: matplotlib's tab10, as in every scatter of the series
    extent = traitlets.Float(EXTENT).tag(sync=True)
    hooks = traitlets.Bool(False).tag(sync=True)  # the tests' and benchmark's hooks in the page (HOOKS_VARIABLE)

    def __init__(self, model, **kwargs):
        if model.latent_dim != 2:
            raise ValueError(f"the latent map needs a model with latent_dim = 2 (like the shipped 'mlp_vae_2d'), "
                             f"got latent_dim = {model.latent_dim}")
        prior, network = model.prior(), shared_network(model)  # both raise for what the page cannot evaluate
        if not isinstance(prior, DiagonalGaussian):
            raise ValueError(f"the in-page widgets evaluate a diagonal Gaussian prior, got a {type(prior).__name__}")
        test = data.load_digits(split="test", binarized=True)
        mu = encode_images(model, test.images)[0].cpu()
        centres = [mu[test.labels == digit].median(0).values.tolist() for digit in range(10)]
        palette = [matplotlib.colors.to_hex(colour) for colour in matplotlib.colormaps["tab10"].colors]
        super().__init__(network=network, codes=mu.numpy().astype("<f4").tobytes(),
                         prior={"mu": prior.mu.tolist(), "logvar": prior.logvar.tolist()},
                         labels=test.labels.numpy().astype(np.uint8).tobytes(), centres=centres, palette=palette,
                         hooks=hooks_on(), **kwargs)
        self.model, self.test, self.test_mu = model, test, mu
        self.page_model = as_sent(model)  # what the page runs: the Python mirrors of its numbers use it

    def __repr__(self):
        return f"{type(self).__name__}(view={self.view!r}) of {self.model.extra_repr()}"

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a picture of its first state for viewers without widgets (GitHub, nbviewer), so
        they show the map rather than an empty box."""
        bundle, metadata = super()._repr_mimebundle_(**kwargs)  # anywidget's: (data, metadata)
        return {**bundle, "image/png": base64.b64encode(self.snapshot_png()).decode("ascii")}, metadata

    def snapshot_png(self):
        """PNG of what the page first shows: the test codes by label, the point the widget starts at, and the
        digit decoded there."""
        figure = new_figure(6.4, 3.0)
        map_ax, digit_ax = figure.subplots(1, 2, width_ratios=(1.6, 1))
        plotting.plot_latent_scatter(self.test_mu, self.test.labels, ax=map_ax)
        z, title = self._first_point()
        map_ax.plot(*z, "k+", ms=14, mew=2)
        map_ax.set(xlim=(-EXTENT, EXTENT), ylim=(-EXTENT, EXTENT), aspect="equal", title="the test digits' codes")
        digit = decode_images(self.model, torch.tensor([z], dtype=torch.float32))[0, 0]
        digit_ax.imshow(digit.numpy(), cmap="gray_r", vmin=0, vmax=1)
        digit_ax.set(xticks=[], yticks=[], title=title)
        figure.suptitle("a picture of the widget: run the notebook to use it", fontsize="small")
        return figure_to_png(figure)

    def _first_point(self):
        raise NotImplementedError
