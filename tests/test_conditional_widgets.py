"""The Python side of notebook 11's in-page widgets (vae_helpers/explorers/conditional.py): what they send the page
and what they compute for the tests. The page's own numbers are compared with these in Chromium
(tests/test_browser.py)."""

import base64

import numpy as np
import pytest
import torch
import traitlets

from vae_helpers import completion, data
from vae_helpers.conditional import one_hot
from vae_helpers.explorers import conditional
from vae_helpers.models import MLPVAE
from vae_helpers.widgets import in_page

from .test_touch import page_forward


@pytest.fixture(scope="module")
def small_completer():
    torch.manual_seed(0)
    return completion.CompletionVAE(latent_dim=3, hidden_dims=(16, 8)).eval()


def test_a_conditional_decoder_is_sent_alone_and_computes_what_torch_computes(small_completer):
    spec, weights = in_page.network_spec(small_completer, ("decoder",))
    assert spec["encoder"] == [] and weights.size == sum(p.numel() for p in small_completer.decoder.parameters())
    c = completion.hide(data.load_digits(split="test", limit=2).images, 1)
    z = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = in_page.as_sent(small_completer).decode(z, c)
    for b in range(2):  # the page's input: the code and the condition side by side
        page = page_forward(spec["decoder"], weights, torch.cat([z[b], c[b].reshape(-1)]).numpy())
        np.testing.assert_allclose(page, logits[b].reshape(-1).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="decoder only"):
        in_page.network_spec(small_completer)  # the page never encodes with a condition


def test_the_completion_widget_shows_one_completion_per_draw_with_the_visible_pixels_kept(small_completer):
    widget = conditional.complete_digit(small_completer, num_visible=1, seed=3)
    assert np.array(widget.eps).shape == (conditional.NUM_COMPLETIONS, 3)
    assert len(widget.test_digits) == conditional.NUM_TEST_DIGITS * 784
    c = completion.hide(data.load_digits(split="test", limit=1).images, 1)
    shown = widget.completions(c)
    mask = completion.visible_mask(1)
    assert shown.shape == (conditional.NUM_COMPLETIONS, 1, 28, 28)
    assert torch.equal(shown[..., mask], c[..., mask].expand(len(shown), -1, -1))
    with torch.no_grad():  # completion k is the decoder's output at the k-th draw, with the weights the page gets
        expected = torch.sigmoid(in_page.as_sent(small_completer).decode(torch.tensor(widget.eps[2:3]), c))
    assert torch.allclose(shown[2][..., ~mask], expected[0][..., ~mask])
    with pytest.raises(traitlets.TraitError):
        widget.num_visible = 4
    with pytest.raises(ValueError, match="CompletionVAE"):
        conditional.complete_digit(MLPVAE(latent_dim=2))
    bundle, _ = widget._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")  # a picture for viewers without widgets


def test_the_ask_widget_decodes_one_style_as_every_label():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=2, hidden_dims=(16,), condition_dim=10).eval()
    widget = conditional.ask_for_a_digit(model, z=(0.5, -1.0), label=4)
    decoded = widget.decoded()
    with torch.no_grad():
        four = torch.sigmoid(in_page.as_sent(model).decode(torch.tensor([[0.5, -1.0]]), one_hot(torch.tensor([4]))))
    assert decoded.shape == (10, 1, 28, 28) and torch.allclose(decoded[4], four[0])
    assert len(widget.codes) == 4 * 2 * 1000 and widget.centres == []  # the test digits' codes, float32 pairs
    with pytest.raises(traitlets.TraitError, match="0-9"):
        widget.label = 10
    with pytest.raises(ValueError, match="one-hot label"):
        conditional.ask_for_a_digit(MLPVAE(latent_dim=2))
