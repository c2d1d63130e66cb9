"""Notebook 11's widgets, computed in the page: complete a digit from its visible quadrants, and ask for a digit.

Both run a conditional VAE's decoder in the page (widgets/conditional.js, on in_page_core.js's layer loop), so they
follow the pointer with no round trip to the kernel and also work on the book site. The decoder's weights go to the
page once (widgets/in_page.py's shared_network). What the kernel keeps: the layout and the last condition drawn
(`.num_visible`, `.condition`, sent once per stroke), the pinned style and label (`.z`, `.label`). The page computes
what torch would: tests/test_browser.py compares both to 1e-4.
"""

import base64

import anywidget
import ipywidgets
import matplotlib
import numpy as np
import torch
import traitlets

from vae_helpers import completion, data
from vae_helpers.conditional import one_hot
from vae_helpers.pretrained import NUM_CLASSES, model_or_shipped
from vae_helpers.widgets import in_page
from vae_helpers.widgets.in_page import EXTENT, NetworkWeights, hooks_on, page_module, shared_network
from vae_helpers.widgets.live_figure import figure_to_png, new_figure

ESM = page_module("conditional.js")
COMPLETION_MODEL, LABEL_MODEL = "completion_cvae", "mlp_cvae_2d"  # the shipped checkpoints they load by default
NUM_COMPLETIONS = 8
NUM_TEST_DIGITS = 20  # test digits behind the "use a test digit" button


class InPageDecoder(anywidget.AnyWidget):
    """What both widgets send the page: the decoder (a reference to its shared weights) and the prior N(0, I)."""

    _esm = ESM
    view = traitlets.Unicode().tag(sync=True)
    network = traitlets.Instance(NetworkWeights).tag(sync=True, **ipywidgets.widget_serialization)
    prior = traitlets.Dict().tag(sync=True)  # {"mu", "logvar"}: Network.of reads it (the page samples z itself)
    hooks = traitlets.Bool(False).tag(sync=True)  # the tests' and benchmark's hooks (in_page.HOOKS_VARIABLE)

    def __init__(self, model, **kwargs):
        prior = model.prior()
        super().__init__(network=shared_network(model, ("decoder",)),
                         prior={"mu": prior.mu.tolist(), "logvar": prior.logvar.tolist()},
                         hooks=hooks_on(), **kwargs)
        self.model, self.page_model = model, in_page.as_sent(model)  # page_model: what the page runs

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a picture of its first state for viewers without widgets (GitHub, nbviewer)."""
        bundle, metadata = super()._repr_mimebundle_(**kwargs)
        return {**bundle, "image/png": base64.b64encode(self.snapshot_png()).decode("ascii")}, metadata


class CompletionWidget(InPageDecoder):
    """Draw in the visible quadrants (or start from a test digit): NUM_COMPLETIONS completions, one per fixed draw of z."""

    eps = traitlets.List().tag(sync=True)  # (K, latent_dim) standard-normal draws: the completions' codes
    num_visible = traitlets.Int(2).tag(sync=True)
    test_digits = traitlets.Bytes().tag(sync=True)  # (NUM_TEST_DIGITS, 784) uint8 grey test digits
    stroke_width = traitlets.Float(22.0).tag(sync=True)  # on the 280-pixel pad: about 2 pixels at 28 x 28
    condition = traitlets.List().tag(sync=True)  # the last condition drawn (784 numbers, -1 hidden), per stroke

    @traitlets.validate("num_visible")
    def _check_layout(self, proposal):
        if proposal["value"] not in completion.QUADRANT_LAYOUTS:
            raise traitlets.TraitError(f"num_visible must be one of {completion.QUADRANT_LAYOUTS} quadrants, got "
                                       f"{proposal['value']!r}")
        return proposal["value"]

    def __init__(self, model, num_completions=NUM_COMPLETIONS, seed=0, num_visible=2):
        if not isinstance(model, completion.CompletionVAE):
            raise ValueError(f"complete_digit needs a CompletionVAE (like the shipped {COMPLETION_MODEL!r}), got a "
                             f"{type(model).__name__}")
        eps = torch.randn(num_completions, model.latent_dim, generator=torch.Generator().manual_seed(seed))
        test = data.load_digits(split="test", progress=False).images[:NUM_TEST_DIGITS]
        super().__init__(model, view="complete", eps=eps.tolist(), num_visible=num_visible,
                         test_digits=(test.reshape(len(test), -1) * 255).round().to(torch.uint8).numpy().tobytes())
        self.first_digit = test[:1]

    def completions(self, condition):
        """What the page shows for a condition (1, 1, 28, 28) or 784 numbers: one completion per draw in .eps,
        (K, 1, 28, 28) pixel probabilities (visible pixels as given)."""
        c = torch.as_tensor(condition, dtype=torch.float32).reshape(1, 1, 28, 28)
        return self.page_model.completions_at(torch.tensor(self.eps), c)[:, 0]

    def snapshot_png(self):
        c = completion.hide(self.first_digit, self.num_visible)
        shown = torch.cat([torch.where(c < 0, 0.35, c), self.completions(c)])  # hidden pixels grey
        figure = new_figure(7.2, 1.3)
        for ax, image, title in zip(figure.subplots(1, len(shown)), shown, ["visible", *[f"draw {k + 1}"
                                                                                     for k in range(len(shown) - 1)]]):
            ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
            ax.set_title(title, fontsize=9)
        figure.suptitle("a picture of the widget: run the notebook to draw", fontsize="small")
        return figure_to_png(figure)


class AskForDigitWidget(InPageDecoder):
    """A 2-D style plane of a label-conditional VAE: the row shows one style written as all ten digits."""

    z = traitlets.List([0.0, 0.0]).tag(sync=True)
    label = traitlets.Int(3).tag(sync=True)
    key_step = traitlets.Float(0.1).tag(sync=True)
    codes = traitlets.Bytes().tag(sync=True)  # (N, 2) float32: the test digits' q(z | x, y) means
    labels = traitlets.Bytes().tag(sync=True)  # (N,) uint8
    centres = traitlets.List([]).tag(sync=True)  # none: in a CVAE's plane the classes overlap
    palette = traitlets.List().tag(sync=True)
    extent = traitlets.Float(EXTENT).tag(sync=True)

    @traitlets.validate("label")
    def _check_label(self, proposal):
        if proposal["value"] not in range(NUM_CLASSES):
            raise traitlets.TraitError(f"label must be a digit 0-9, got {proposal['value']!r}")
        return proposal["value"]

    def __init__(self, model, z=(0.0, 0.0), label=3):
        if model.latent_dim != 2 or model.condition_dim != NUM_CLASSES:
            raise ValueError(f"ask_for_a_digit needs a VAE with a 2-D latent and a one-hot label (like the shipped "
                             f"{LABEL_MODEL!r}), got latent_dim {model.latent_dim}, condition_dim {model.condition_dim}")
        test = data.load_digits(split="test", binarized=True)
        with torch.inference_mode():
            self.test_mu = model.posterior(test.images, one_hot(test.labels, NUM_CLASSES)).mean
        palette = [matplotlib.colors.to_hex(colour) for colour in matplotlib.colormaps["tab10"].colors]
        super().__init__(model, view="ask", z=list(z), label=label, codes=self.test_mu.numpy().astype("<f4").tobytes(),
                         labels=test.labels.numpy().astype(np.uint8).tobytes(), palette=palette)
        self.test_labels = test.labels

    def decoded(self, z=None):
        """The ten digits the row shows at z (default: the pinned one): (10, 1, 28, 28) pixel probabilities."""
        z = torch.tensor([self.z if z is None else list(z)], dtype=torch.float32).expand(NUM_CLASSES, -1)
        with torch.inference_mode():
            return torch.sigmoid(self.page_model.decode(z, one_hot(torch.arange(NUM_CLASSES), NUM_CLASSES)))

    def snapshot_png(self):
        figure = new_figure(6.4, 1.4)
        for digit, (ax, image) in enumerate(zip(figure.subplots(1, NUM_CLASSES), self.decoded())):
            ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[], title=str(digit))
        figure.suptitle(f"one style, z = ({self.z[0]:.1f}, {self.z[1]:.1f}), as every digit: run the notebook to "
                        "move it", fontsize="small")
        return figure_to_png(figure)


def complete_digit(model=None, num_visible=2, seed=0):
    """Draw part of a digit and see NUM_COMPLETIONS completions by `model` (default: the shipped completion CVAE)."""
    return CompletionWidget(model_or_shipped(model, COMPLETION_MODEL), seed=seed, num_visible=num_visible)


def ask_for_a_digit(model=None, z=(0.0, 0.0), label=3):
    """The style plane of a label-conditional 2-D VAE (default: the shipped 'mlp_cvae_2d')."""
    return AskForDigitWidget(model_or_shipped(model, LABEL_MODEL), z=z, label=label)
