"""The Python side of the in-page widgets (vae_helpers/explorers/touch.py and widgets/in_page.py): what they send the
page, what they keep.

What the page computes from it (the MNIST-style preprocessing, the encoder and decoder, the ELBO) is tested in
Chromium by tests/test_browser.py, against torch.
"""

import numpy as np
import pytest
import torch

from vae_helpers import data, distributions
from vae_helpers.explorers import touch
from vae_helpers.widgets import in_page
from vae_helpers.models import ConvVAE, MLPVAE


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return MLPVAE(latent_dim=2, hidden_dims=(32, 16)).eval()


def page_forward(layers, weights, x):
    """in_page_vae.js's layer loop, written with numpy: column-major matrices, then the biases, in float32."""
    weights = weights.astype(np.float32)
    for layer in layers:
        rows, cols, offset = layer["rows"], layer["cols"], layer["offset"]
        matrix = weights[offset:offset + rows * cols].reshape(cols, rows).T
        x = matrix @ x + weights[offset + rows * cols:offset + rows * cols + rows]
        if layer["relu"]:
            x = np.maximum(x, 0)
    return x


def test_the_network_spec_computes_what_the_model_with_float16_weights_computes(small_model):
    spec, weights = in_page.network_spec(small_model)
    assert weights.dtype == np.dtype("<f2") and weights.size == small_model.num_parameters()
    images = data.load_digits(split="test", binarized=True, limit=5).images
    sent = in_page.as_sent(small_model)
    with torch.no_grad():
        mu, logvar = sent.encode(images)
        logits = sent.decode(mu)
    for b in range(5):
        encoded = page_forward(spec["encoder"], weights, images[b].reshape(-1).numpy())
        np.testing.assert_allclose(encoded, torch.cat([mu[b], logvar[b]]).numpy(), atol=1e-5)
        decoded = page_forward(spec["decoder"], weights, mu[b].numpy())
        np.testing.assert_allclose(decoded, logits[b].reshape(-1).numpy(), atol=1e-5)
    assert spec["logvar_range"] == [-30.0, 30.0]


def test_a_network_the_page_cannot_run_is_refused():
    with pytest.raises(ValueError, match="Linear and ReLU layers only.*Conv2d"):
        in_page.network_spec(ConvVAE(latent_dim=2))
    huge = MLPVAE(latent_dim=2, hidden_dims=(4,))
    with torch.no_grad():
        huge.decoder[0].bias[0] = 1e5
    with pytest.raises(ValueError, match="does not fit in float16"):
        in_page.network_spec(huge)


def test_the_shipped_2d_model_as_the_page_gets_it_is_within_measured_bounds_of_float32():
    """What rounding the weights to float16 costs, on the model the widgets load (the bound in_page.py states)."""
    from vae_helpers.latent_space import decode_images, encode_images
    from vae_helpers.pretrained import load_pretrained

    model = load_pretrained("mlp_vae_2d")[0]
    sent = in_page.as_sent(model)
    test = data.load_digits(split="test", binarized=True)
    mu, _ = encode_images(model, test.images)
    assert (encode_images(sent, test.images)[0] - mu).abs().max() < 1e-3
    assert (decode_images(sent, mu) - decode_images(model, mu)).abs().max() < 5e-3


def test_the_widgets_need_a_2d_model():
    with pytest.raises(ValueError, match="latent_dim = 2"):
        touch.latent_map(MLPVAE(latent_dim=3))


def test_elbo_with_draws_averages_the_likelihood_over_the_given_draws(small_model):
    images = data.load_digits(split="test", binarized=True, limit=4).images
    eps = torch.randn(6, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mu, logvar = small_model.encode(images)
        expected = torch.stack([small_model.log_likelihood(images, mu + torch.exp(0.5 * logvar) * e) for e in eps])
        expected = expected.mean(0) - distributions.gaussian_kl(mu, logvar)
    torch.testing.assert_close(touch.elbo_with_draws(small_model, images, eps), expected)


def test_the_map_sends_the_test_codes_and_keeps_the_pinned_point(small_model):
    widget = touch.latent_map(small_model, z=(0.5, -1.0))
    test = data.load_digits(split="test", binarized=True)
    with torch.no_grad():
        mu, _ = small_model.encode(test.images)
    codes = np.frombuffer(widget.codes, dtype="<f4").reshape(-1, 2)
    np.testing.assert_allclose(codes, mu.numpy(), atol=1e-6)
    np.testing.assert_array_equal(np.frombuffer(widget.labels, dtype=np.uint8), test.labels.numpy())
    assert widget.centres[3] == pytest.approx(mu[test.labels == 3].median(0).values.tolist())
    assert widget.view == "map" and widget.z == [0.5, -1.0] and len(widget.palette) == 10
    sent = in_page.as_sent(small_model)  # what the page decodes with
    with torch.no_grad():
        torch.testing.assert_close(widget.decoded(), torch.sigmoid(sent.decode(torch.tensor([[0.5, -1.0]])))[0])
    widget.z = [2, 1]  # what a click in the page sends back
    with torch.no_grad():
        torch.testing.assert_close(widget.decoded(), torch.sigmoid(sent.decode(torch.tensor([[2.0, 1.0]])))[0])
    with pytest.raises(Exception, match=r"a point \[z0, z1\]"):
        widget.z = [1.0, 2.0, 3.0]


def test_the_draw_widget_sends_fixed_draws_and_the_test_digits(small_model):
    widget = touch.draw_digit(small_model, seed=3)
    eps = torch.tensor(widget.eps)
    assert eps.shape == (touch.NUM_ELBO_DRAWS, 2)
    torch.testing.assert_close(eps, torch.randn(touch.NUM_ELBO_DRAWS, 2, generator=torch.Generator().manual_seed(3)))
    test = data.load_digits(split="test", binarized=True)
    low, high = widget.test_elbo_range
    elbos = touch.elbo_with_draws(small_model, test.images, eps)
    assert low < high and (elbos < low).float().mean() == pytest.approx(0.05, abs=0.002)
    digits = np.frombuffer(widget.test_digits, dtype=np.uint8).reshape(-1, 28, 28)
    np.testing.assert_array_equal(digits, test.images[:touch.NUM_TEST_DIGITS, 0].numpy() * 255)


def test_the_kernel_sees_the_last_drawing_and_refuses_an_empty_one(small_model):
    widget = touch.draw_digit(small_model)
    with pytest.raises(ValueError, match="nothing is drawn yet"):
        widget.drawn_image()
    grey = np.zeros(784)
    grey[[100, 101, 102]] = [0.3, 0.6, 1.0]
    widget.drawing = grey.tolist()  # what the page sends at the end of a stroke
    image = widget.drawn_image()
    assert image.shape == (1, 1, 28, 28) and image.sum() == 2 and image.view(-1)[101] == 1  # ink above 1/2


def test_a_viewer_without_widgets_gets_a_picture_of_the_first_state(small_model):
    import base64
    import io

    from PIL import Image

    for widget, first_point in ((touch.latent_map(small_model, z=(1.0, -0.5)), [1.0, -0.5]),
                                (touch.draw_digit(small_model), None)):
        data_, _ = widget._repr_mimebundle_()
        assert data_["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id  # still live
        assert Image.open(io.BytesIO(base64.b64decode(data_["image/png"]))).size == (512, 240)  # 6.4 x 3 in at 80 dpi
        z, _ = widget._first_point()
        assert z == (first_point or widget.test_mu[0].tolist())  # the draw widget starts on the first test digit


def test_the_widgets_of_one_model_share_one_copy_of_its_weights(small_model):
    first, second = touch.latent_map(small_model), touch.draw_digit(small_model)
    assert first.network is second.network  # one NetworkWeights widget: the page and a saved notebook hold it once
    spec, weights = in_page.network_spec(small_model)
    assert first.network.spec == spec and first.network.weights == weights.tobytes()
    torch.manual_seed(1)
    other = touch.latent_map(MLPVAE(latent_dim=2, hidden_dims=(32, 16)).eval())
    assert other.network is not first.network
    assert "weights" not in first.keys  # the widget itself carries no weights, only the reference
    assert first.prior == {"mu": [0.0, 0.0], "logvar": [0.0, 0.0]}  # N(0, I), which the page evaluates


def test_the_pages_test_hooks_are_off_unless_asked_for(small_model, monkeypatch):
    monkeypatch.delenv(in_page.HOOKS_VARIABLE, raising=False)
    assert touch.latent_map(small_model).hooks is False
    monkeypatch.setenv(in_page.HOOKS_VARIABLE, "1")
    assert touch.latent_map(small_model).hooks is True


def test_a_model_the_page_cannot_evaluate_is_refused_by_what_it_lacks():
    with pytest.raises(ValueError, match="of a conditional VAE its decoder only"):
        touch.latent_map(MLPVAE(latent_dim=2, hidden_dims=(8,), condition_dim=10))
