"""A latent space you can touch: drag through the 2-D map, and draw a digit to see where it lands (05 and 07).

Both widgets run the 2-D MLP VAE of 05 in the page itself (vae_helpers/widgets/in_page.py and in_page_vae.js): its
weights go to the browser once per page, as one float32 buffer that both widgets share, and a pointer move is
answered there, with no round trip to the kernel. So they follow the hand at frame rate, and they still work on the
book site (make html, series_tools/render.py), where no kernel runs. The
kernel keeps what matters: the pinned point (`.z`) of the map, and the last drawing with its encoding (`.drawing`,
`.mu`, `.logvar`, `.elbo`), sent back once per stroke.

The page computes what torch would (tests/test_browser.py compares them to 1e-4), so the numbers the widgets show
are the model's, not an approximation of it.
"""

import torch
import traitlets

from vae_helpers.distributions import closed_form_kl
from vae_helpers.latent_space import decode_images
from vae_helpers.objectives import log_likelihood_of_draws
from vae_helpers.pretrained import model_or_shipped
from vae_helpers.widgets.in_page import InPageVAE

MAP_MODEL = "mlp_vae_2d"  # the shipped checkpoint the widgets load by default
NUM_ELBO_DRAWS = 16  # draws of z behind the drawing's ELBO estimate: fixed, so the number does not flicker
NUM_TEST_DIGITS = 20  # test digits behind the "use a test digit" button


def elbo_with_draws(model, x, eps):
    """The ELBO the draw widget shows, for binary images x (B, 1, 28, 28): E_q[log p(x|z)] averaged over
    z = mu + sigma * eps for the K given standard-normal draws eps (K, D), the same for every image, minus the
    closed-form KL(q || p(z)) (5.5). Returns (B,) nats. Fixed draws keep the estimate from flickering as the
    drawing changes; in_page_vae.js computes the same in the page (the browser test compares the two).
    """
    with torch.inference_mode():
        x = model.check_input(x, exact=True)
        q = model.posterior(x)  # (B, D)
        z = q.reparameterize(eps.unsqueeze(1))  # (K, B, D)
        return log_likelihood_of_draws(model, x, z).mean(0) - closed_form_kl(q, model.prior())


class LatentMapWidget(InPageVAE):
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
            return decode_images(self.page_model, torch.tensor([self.z]))[0]


class DrawDigitWidget(InPageVAE):
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

    def __init__(self, model, seed=0, **kwargs):
        super().__init__(model, **kwargs)
        eps = torch.randn(NUM_ELBO_DRAWS, 2, generator=torch.Generator().manual_seed(seed))
        test_elbo = elbo_with_draws(self.page_model, self.test.images, eps)  # scored as the page scores a drawing
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
    return LatentMapWidget(model_or_shipped(model, MAP_MODEL), view="map", z=list(z))


def draw_digit(model=None, seed=0):
    """A canvas to draw a digit on, with its q(z|x) on the map of `model` (default: the shipped 2-D MLP VAE)."""
    return DrawDigitWidget(model_or_shipped(model, MAP_MODEL), seed=seed, view="draw")
