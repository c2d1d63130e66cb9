"""A latent space you can touch: drag through the 2-D map, and draw a digit to see where it lands (05 and 07).

Both widgets run the 2-D MLP VAE of 05 in the page itself (touch.js): its weights go to the browser once, as one
float32 buffer, and a pointer move is answered there, with no round trip to the kernel. So they follow the hand at
frame rate, and they still work on the book site (make html, vae_helpers/render.py), where no kernel runs. The
kernel keeps what matters: the pinned point (`.z`) of the map, and the last drawing with its encoding (`.drawing`,
`.mu`, `.logvar`, `.elbo`), sent back once per stroke.

The page computes what torch would (tests/test_browser.py compares them to 1e-4), so the numbers the widgets show
are the model's, not an approximation of it.
"""

import base64
from pathlib import Path

import anywidget
import matplotlib
import numpy as np
import torch
import traitlets
from torch import nn

from vae_helpers import data, models, plotting
from vae_helpers.explorers.latent import MAP_MODEL, _model_or_shipped, decode_images, encode_images
from vae_helpers.distributions import gaussian_kl
from vae_helpers.objectives import log_likelihood_of_draws
from vae_helpers.widgets import figure_to_png, new_figure

ESM = (Path(__file__).with_name("touch.js")).read_text(encoding="utf-8")
EXTENT = 4.5  # the map shows [-4.5, 4.5]^2: 99.99% of the prior's mass, and almost every test code
NUM_ELBO_DRAWS = 16  # draws of z behind the drawing's ELBO estimate: fixed, so the number does not flicker
NUM_TEST_DIGITS = 20  # test digits behind the "use a test digit" button


def network_spec(model):
    """The encoder and decoder of an MLP VAE as (layers, weights) for the page's layer loop (touch.js `forward`).

    Returns ({"encoder": [...], "decoder": [...], "logvar_range": [low, high]}, weights): each layer is
    {"rows", "cols", "offset", "relu"}; weights is one float32 array holding, per layer, its rows x cols matrix
    column by column (the transpose of nn.Linear's row-major weight, so the page can skip the columns of zero
    inputs) and then its biases.
    Raises ValueError for a network that is not Linear and ReLU layers (a convolutional VAE, say), which the page
    cannot evaluate.
    """
    chunks, offset, spec = [], 0, {"logvar_range": [models.LOGVAR_MIN, models.LOGVAR_MAX]}
    for part in ("encoder", "decoder"):
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
                                 f"{type(module).__name__}: use an MLP VAE such as the shipped {MAP_MODEL!r}")
        spec[part] = layers
    return spec, torch.cat(chunks).numpy().astype("<f4")


def elbo_with_draws(model, x, eps):
    """The ELBO the draw widget shows, for binary images x (B, 1, 28, 28): E_q[log p(x|z)] averaged over
    z = mu + sigma * eps for the K given standard-normal draws eps (K, D), the same for every image, minus the
    closed-form KL(q || N(0, I)) (5.5). Returns (B,) nats. Fixed draws keep the estimate from flickering as the
    drawing changes; touch.js computes the same in the page (the browser test compares the two).
    """
    with torch.inference_mode():
        mu, logvar = model.encode(model.check_input(x, binary=True))  # (B, D) each
        z = mu + torch.exp(0.5 * logvar) * eps.unsqueeze(1)  # (K, B, D)
        return log_likelihood_of_draws(model, x, z).mean(0) - gaussian_kl(mu, logvar)


class _InPageVAE(anywidget.AnyWidget):
    """What both widgets send the page: the network, the encoded test digits and the map's look."""

    _esm = ESM
    view = traitlets.Unicode().tag(sync=True)
    network = traitlets.Dict().tag(sync=True)
    weights = traitlets.Bytes().tag(sync=True)
    codes = traitlets.Bytes().tag(sync=True)  # (N, 2) float32 posterior means of the test digits
    labels = traitlets.Bytes().tag(sync=True)  # (N,) uint8
    centres = traitlets.List().tag(sync=True)  # [[z0, z1]] * 10: each class's median code, where its label goes
    palette = traitlets.List().tag(sync=True)  # 10 CSS colours: matplotlib's tab10, as in every scatter of the series
    extent = traitlets.Float(EXTENT).tag(sync=True)

    def __init__(self, model=None, **kwargs):
        model = _model_or_shipped(model, MAP_MODEL)
        if model.latent_dim != 2:
            raise ValueError(f"the latent map needs a model with latent_dim = 2 (like the shipped {MAP_MODEL!r}), "
                             f"got latent_dim = {model.latent_dim}")
        spec, weights = network_spec(model)
        test = data.load_digits(split="test", binarized=True)
        mu = encode_images(model, test.images)[0].cpu()
        centres = [mu[test.labels == digit].median(0).values.tolist() for digit in range(10)]
        palette = [matplotlib.colors.to_hex(colour) for colour in matplotlib.colormaps["tab10"].colors]
        super().__init__(network=spec, weights=weights.tobytes(), codes=mu.numpy().astype("<f4").tobytes(),
                         labels=test.labels.numpy().astype(np.uint8).tobytes(), centres=centres, palette=palette,
                         **kwargs)
        self.model, self.test, self.test_mu = model, test, mu

    def __repr__(self):  # what a viewer without widgets shows; the default would print the weights' 1.9 MB
        return f"{type(self).__name__}(view={self.view!r}) of {self.model.extra_repr()}"

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a picture of its first state for viewers without widgets (GitHub, nbviewer), so
        they show the map rather than an empty box."""
        data, metadata = super()._repr_mimebundle_(**kwargs)  # anywidget's: (data, metadata)
        return {**data, "image/png": base64.b64encode(self.snapshot_png()).decode("ascii")}, metadata

    def snapshot_png(self):
        """PNG of what the page first shows: the test codes by label, the point the widget starts at, and the
        digit decoded there."""
        figure = new_figure(6.4, 3.0)
        map_ax, digit_ax = figure.subplots(1, 2, width_ratios=(1.6, 1))
        plotting.plot_latent_scatter(self.test_mu, self.test.labels, ax=map_ax)
        z, title = self._first_point()
        map_ax.plot(*z, "k+", ms=14, mew=2)
        map_ax.set(xlim=(-EXTENT, EXTENT), ylim=(-EXTENT, EXTENT), aspect="equal",
                   title="the test digits' codes")
        with torch.inference_mode():
            digit = decode_images(self.model, torch.tensor([z], dtype=torch.float32))[0, 0]
        digit_ax.imshow(digit.numpy(), cmap="gray_r", vmin=0, vmax=1)
        digit_ax.set(xticks=[], yticks=[], title=title)
        figure.suptitle("a picture of the widget: run the notebook to use it", fontsize="small")
        return figure_to_png(figure)


class LatentMapWidget(_InPageVAE):
    """Drag through the map: the digit decoded under the pointer; a click (or the arrow keys) pins `.z`."""

    z = traitlets.List([0.0, 0.0]).tag(sync=True)
    key_step = traitlets.Float(0.1).tag(sync=True)

    @traitlets.validate("z")
    def _check_z(self, proposal):
        z = [float(v) for v in proposal["value"]]
        if len(z) != 2:
            raise traitlets.TraitError(f"z must be a point [z0, z1] of the 2-D latent space, got {proposal['value']}")
        return z

    def _first_point(self):
        return list(self.z), f"decoded at z = ({self.z[0]:.1f}, {self.z[1]:.1f})"

    def decoded(self):
        """The digit decoded at the pinned point, as pixel probabilities (1, 28, 28): what the page shows."""
        with torch.inference_mode():
            return decode_images(self.model, torch.tensor([self.z]))[0]


class DrawDigitWidget(_InPageVAE):
    """Draw a digit: reduced to 28 x 28 the MNIST way, encoded, and shown as q(z|x) on the map, its reconstruction
    and its ELBO. After each stroke the kernel holds the drawing (`.drawing`, 784 grey levels, empty when cleared)
    and what the page computed from it (`.mu`, `.logvar`, `.elbo`)."""

    eps = traitlets.List().tag(sync=True)  # (K, 2) standard-normal draws behind the ELBO estimate
    test_digits = traitlets.Bytes().tag(sync=True)  # (NUM_TEST_DIGITS, 784) uint8: binary test digits times 255
    test_elbo_range = traitlets.List().tag(sync=True)  # 5% and 95% quantiles of the test digits' ELBO, same draws
    stroke_width = traitlets.Float(30.0).tag(sync=True)  # on the 280-pixel pad: 2-3 pixels at 28 x 28, as in MNIST
    drawing = traitlets.List().tag(sync=True)
    mu = traitlets.List().tag(sync=True)
    logvar = traitlets.List().tag(sync=True)
    elbo = traitlets.Float(None, allow_none=True).tag(sync=True)  # None while empty

    def __init__(self, model=None, seed=0, **kwargs):
        super().__init__(model, **kwargs)
        eps = torch.randn(NUM_ELBO_DRAWS, 2, generator=torch.Generator().manual_seed(seed))
        test_elbo = elbo_with_draws(self.model, self.test.images, eps)
        low, high = torch.quantile(test_elbo, torch.tensor([0.05, 0.95])).tolist()
        digits = (self.test.images[:NUM_TEST_DIGITS].reshape(NUM_TEST_DIGITS, -1) * 255).to(torch.uint8)
        self.eps, self.test_elbo_range, self.test_digits = eps.tolist(), [low, high], digits.numpy().tobytes()

    def _first_point(self):  # the widget starts on the first test digit: its q's mean and reconstruction
        return self.test_mu[0].tolist(), "the first test digit, reconstructed"

    def drawn_image(self):
        """The last drawing as the encoder saw it: binary pixels (1, 1, 28, 28) (grey levels above 1/2 are ink).
        Raises ValueError while the canvas is empty."""
        if not self.drawing:
            raise ValueError("nothing is drawn yet: draw a digit on the canvas (or press 'Use a test digit') first")
        return (torch.tensor(self.drawing, dtype=torch.float32).reshape(1, 1, 28, 28) > 0.5).float()


def latent_map(model=None, z=(0.0, 0.0)):
    """The 2-D latent map of `model` (default: the shipped 2-D MLP VAE of 05) to drag through."""
    return LatentMapWidget(model, view="map", z=list(z))


def draw_digit(model=None, seed=0):
    """A canvas to draw a digit on, with its q(z|x) on the map of `model` (default: the shipped 2-D MLP VAE)."""
    return DrawDigitWidget(model, seed=seed, view="draw")
