"""Widgets in a real JupyterLab, in headless Chromium: run the notebook, move a control, see the image change.

Needs Debian's `chromium` (make test installs it when run as root; elsewhere these tests are skipped, but never
in CI). Screenshots of each widget before and after go to build/browser-screenshots/ (printed at the end of the run).
"""

import base64
import json
import shutil

import numpy as np
import pytest
import torch

from vae_helpers.config import REPO_ROOT
from vae_helpers.distributions import DiagonalGaussian, gaussian_kl
from vae_helpers import completion, data as vae_helpers_data
from vae_helpers.explorers import conditional, touch
from vae_helpers.widgets import in_page

from .browser.lab import LabServer, NotebookPage, page_with_module

SCREENSHOTS = REPO_ROOT / "build" / "browser-screenshots"
# The figures precomputed by the kernel and swapped in the page (LiveFigure with precompute=True, shown by a
# PrecomputedFigure): (notebook, text in the widget cell's source, ArrowRight presses on its slider).
PRECOMPUTED_CHECKS = {
    "08_when_training_goes_wrong.ipynb": [("beta_ladder_explorer(", 2)],
    "09_pixels_likelihoods_and_blur.ipynb": [("likelihood_explorer(", 3)],
}

# The figures computed in the page (PageFigure): (notebook, text in the cell's source, how to move it, the explorer
# whose Python readout the page's must equal). "keys:N" presses ArrowRight N times on the first slider; "click:TEXT"
# clicks the button with that text.
PAGE_FIGURE_CHECKS = {
    "01_bayes_rule_and_the_intractable_evidence.ipynb": [
        ("posterior_explorer(", "keys:5", "posterior.posterior"),
        ("naive_monte_carlo_explorer(", "keys:5", "evidence.naive_monte_carlo"),
        ("naive_monte_carlo_explorer(", "click:New samples", "evidence.naive_monte_carlo")],
    "02_kl_divergence.ipynb": [("gaussian_kl_explorer(", "keys:5", "kl.gaussian_kl"),
                               ("mixture_fit_explorer(", "keys:5", "kl.mixture_fit")],
    "03_variational_inference_and_the_elbo.ipynb": [("elbo_explorer(", "keys:5", "elbo.elbo")],
    "04_the_reparameterization_trick.ipynb": [("gradient_explorer(", "keys:5", "gradients.gradients"),
                                              ("gradient_explorer(", "click:64", "gradients.gradients"),
                                              ("gradient_explorer(", "click:∂/∂σ", "gradients.gradients")],
    "07_exploring_the_latent_space.ipynb": [("generation_explorer(", "click:New digits", "latent.generation"),
                                            ("generation_explorer(", "keys:3", "latent.generation"),
                                            ("traversal_explorer(", "keys:5", "latent.traversal"),
                                            ("interpolation_explorer(", "keys:5", "latent.interpolation"),
                                            ("uncertainty_explorer(", "keys:5", "latent.uncertainty")],
}

TOUCH_NOTEBOOK = "05_your_first_vae.ipynb"  # has both in-page widgets: drag through the map, draw a digit
PRIOR_NOTEBOOK = "10_learned_priors_and_flow_posteriors.ipynb"  # the prior switcher, drawn in the page
CONDITIONAL_NOTEBOOK = "11_the_conditional_vae.ipynb"  # complete a digit, ask for a digit: decoders in the page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    for name in [*PRECOMPUTED_CHECKS, *PAGE_FIGURE_CHECKS, TOUCH_NOTEBOOK, PRIOR_NOTEBOOK, CONDITIONAL_NOTEBOOK]:  # copies: JupyterLab autosaves outputs into the file it opens
        shutil.copy(REPO_ROOT / "notebooks" / name, root / name)
    # Smoke-test sizes (fewer epochs and digits): the widgets are the same, and tests/test_notebooks.py checks the
    # full runs' numbers already; the full runs would add minutes here. The in-page widgets' test hooks on.
    environment = {"VAE_SMOKE_TEST": "1", in_page.HOOKS_VARIABLE: "1"}
    with LabServer(root, tmp_path_factory.mktemp("lab-home"), environment=environment) as server:
        yield server


@pytest.mark.parametrize("notebook", sorted(PRECOMPUTED_CHECKS))
def test_precomputed_figures_swap_in_the_page_in_jupyterlab(notebook, lab, browser):
    page = NotebookPage(browser, lab, notebook)
    assert_math_typeset(page)
    page.run_all()
    assert page.error_outputs() == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for step, (snippet, presses) in enumerate(PRECOMPUTED_CHECKS[notebook]):
        cell = page.widget_cell(snippet)
        figure = cell.locator(".vae-precomputed").first
        figure.wait_for(state="visible", timeout=120_000)
        canvas = figure.locator("canvas")
        page.wait_for(lambda: canvas.evaluate("c => c.width > 0"), 120, f"{snippet}: its figure to be painted")
        stem = f"{notebook[:2]}_{step}_{snippet.strip('(').split('.')[-1]}"
        cell.screenshot(path=SCREENSHOTS / f"{stem}_before.png")
        before, readout = canvas.evaluate("c => c.toDataURL()"), figure.locator("[aria-live]").inner_text()
        slider = figure.locator("input[type=range]")
        slider.focus()
        for _ in range(presses):
            slider.press("ArrowRight")
        page.wait_for(lambda: canvas.evaluate("c => c.toDataURL()") != before, 30, f"{snippet} to swap its figure")
        assert figure.locator("[aria-live]").inner_text() != readout
        shown = figure.locator("output").inner_text()
        assert figure.evaluate("el => el.__values.option") == shown
        assert slider.get_attribute("aria-valuetext").endswith(shown)  # what a screen reader says
        cell.screenshot(path=SCREENSHOTS / f"{stem}_after.png")
        assert page.error_outputs() == [], f"{snippet}: an error appeared"
    page.close()


@pytest.mark.parametrize("notebook", sorted(PAGE_FIGURE_CHECKS))
def test_the_figures_computed_in_the_page_follow_the_keyboard_and_show_pythons_numbers(notebook, lab, browser):
    """Each figure of 01-04 and 07 in JupyterLab: a key press or a click redraws it in the page, and the numbers it
    shows are the Python readout's for the values the page now holds (tests/test_page_figures.py checks a grid)."""
    from vae_helpers.explorers import all_explorers

    explorers = all_explorers()
    page = NotebookPage(browser, lab, notebook)
    assert_math_typeset(page)
    page.run_all()
    assert page.error_outputs() == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for step, (snippet, action, name) in enumerate(PAGE_FIGURE_CHECKS[notebook]):
        cell = page.widget_cell(snippet)
        figure = cell.locator(".vae-page-figure").first
        figure.wait_for(state="visible", timeout=120_000)
        canvases = figure.locator("canvas")
        stem = f"{notebook[:2]}_page_{step}_{snippet.strip('(')}"
        cell.screenshot(path=SCREENSHOTS / f"{stem}_before.png")
        before = [canvases.nth(k).evaluate("c => c.toDataURL()") for k in range(canvases.count())]
        kind, _, argument = action.partition(":")
        if kind == "keys":
            slider = figure.locator("input[type=range]").first
            slider.focus()
            for _ in range(int(argument)):
                slider.press("ArrowRight")
        else:
            figure.locator(f"button:text-is('{argument}')").click()
        after = [canvases.nth(k).evaluate("c => c.toDataURL()") for k in range(canvases.count())]
        assert after != before, f"{snippet}: {action} did not redraw the figure"
        cell.screenshot(path=SCREENSHOTS / f"{stem}_after.png")
        values, shown = figure.evaluate("el => [el.__values, el.__readout]")
        widget = explorers[name]()
        relative, absolute = widget.tolerance
        assert shown == pytest.approx(widget.readout(**values), rel=relative, abs=absolute), f"{snippet} at {values}"
        assert page.error_outputs() == [], f"{snippet}: an error appeared after {action}"
    page.close()


def canvas_pixels(canvas):
    return canvas.evaluate("c => c.toDataURL()")


def test_drag_through_the_map_and_draw_a_digit_in_jupyterlab(lab, browser):
    """Real mouse input on 05's in-page widgets; what the page shows is compared with torch's numbers."""
    page = NotebookPage(browser, lab, TOUCH_NOTEBOOK)
    assert_math_typeset(page)
    page.run_all()
    assert page.error_outputs() == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    model = touch.draw_digit().page_model  # the shipped 2-D model the widgets load, with the weights the page gets

    # Drag: the decoded digit follows the pointer, and is the model's decoding of the point under it.
    widget = page.panel.locator(".vae-touch-map").first
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=SCREENSHOTS / "05_map_before.png")
    map_canvas = widget.locator("canvas[aria-label^='latent map']")
    box = map_canvas.bounding_box()
    before = widget.get_attribute("data-decoded")
    for step in range(20):  # from the upper left towards the lower right of the map
        page.page.mouse.move(box["x"] + box["width"] * (0.2 + 0.03 * step), box["y"] + box["height"] * (0.25 + 0.02 * step))
    assert widget.get_attribute("data-decoded") != before, "the decoded digit did not follow the pointer"
    z = json.loads(widget.get_attribute("data-z"))
    assert z[0] == pytest.approx(-4.5 + 9 * 0.77, abs=0.1) and z[1] == pytest.approx(4.5 - 9 * 0.63, abs=0.1)
    with torch.no_grad():
        expected = torch.sigmoid(model.decode(torch.tensor([z]))).reshape(-1).numpy()
    np.testing.assert_allclose(json.loads(widget.get_attribute("data-decoded")), expected, atol=1e-4)
    widget.screenshot(path=SCREENSHOTS / "05_map_after.png")

    # Draw: clear (a message, not NaN), then a stroke; q(z|x) moves on the map and the reconstruction changes.
    widget = page.panel.locator(".vae-touch-draw").first
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=SCREENSHOTS / "05_draw_before.png")
    pad, ellipse_map = widget.locator("canvas[aria-label^='drawing']"), widget.locator("canvas[aria-label^='latent map']")
    reconstruction = widget.locator("canvas[aria-label='reconstruction']")
    first_mu = json.loads(widget.get_attribute("data-mu"))  # the first test digit's, where the widget starts
    widget.locator("button:has-text('Clear')").click()
    assert widget.get_attribute("data-state") == "empty"
    assert "The canvas is empty" in widget.inner_text() and "NaN" not in widget.inner_text()
    map_before, reconstruction_before = canvas_pixels(ellipse_map), canvas_pixels(reconstruction)
    box = pad.bounding_box()
    page.page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.2 * box["height"])
    page.page.mouse.down()
    for step in range(1, 25):  # a 7: across, then down to the left
        t = step / 24
        x, y = (0.3 + 0.8 * t, 0.2) if t < 0.5 else (0.7 - 0.6 * (t - 0.5), 0.2 + 1.4 * (t - 0.5))
        page.page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.page.mouse.up()
    assert widget.get_attribute("data-state") == "drawn"
    assert canvas_pixels(ellipse_map) != map_before and canvas_pixels(reconstruction) != reconstruction_before
    mu, logvar = json.loads(widget.get_attribute("data-mu")), json.loads(widget.get_attribute("data-logvar"))
    assert mu != first_mu
    pixels = torch.tensor(json.loads(widget.get_attribute("data-pixels")), dtype=torch.float32).reshape(1, 1, 28, 28)
    assert 20 < pixels.sum() < 300  # a stroke two or three pixels wide, fitted into 20 x 20
    with torch.no_grad():
        expected_mu, expected_logvar = model.encode(pixels)
    np.testing.assert_allclose(mu, expected_mu[0].numpy(), atol=1e-4)
    np.testing.assert_allclose(logvar, expected_logvar[0].numpy(), atol=1e-4)
    widget.screenshot(path=SCREENSHOTS / "05_draw_after.png")
    assert page.error_outputs() == []
    page.close()


def test_switch_the_prior_with_the_keyboard_and_the_mouse_in_jupyterlab(lab, browser):
    """10's prior switcher: the arrow keys and a click change the prior; the map and the digits are redrawn from
    what the kernel sent."""
    page = NotebookPage(browser, lab, PRIOR_NOTEBOOK)
    assert_math_typeset(page)
    page.run_all()
    assert page.error_outputs() == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    widget = page.panel.locator(".vae-prior-switch").first
    widget.wait_for(state="visible", timeout=120_000)
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=SCREENSHOTS / "10_priors_before.png")
    map_canvas = widget.locator("canvas[aria-label^='prior density']")
    digits = widget.locator("canvas[aria-label='decoded prior draws']")
    names = widget.locator("[role='radio']").all_inner_texts()
    assert names == ["N(0, I)", "mixture", "VampPrior", "after the fact"]
    before = canvas_pixels(map_canvas), canvas_pixels(digits)
    widget.locator("[role='radio'][aria-checked='true']").focus()
    widget.locator("[role='radio'][aria-checked='true']").press("ArrowRight")  # the keyboard: N(0, I) -> mixture
    assert widget.get_attribute("data-selected") == "1"
    assert widget.locator("[role='radio'][aria-checked='true']").inner_text() == "mixture"
    assert canvas_pixels(map_canvas) != before[0] and canvas_pixels(digits) != before[1]
    widget.locator("[role='radio']:has-text('VampPrior')").click()  # the mouse
    assert widget.get_attribute("data-selected") == "2" and "VampPrior" in widget.inner_text()
    digits_before = canvas_pixels(digits)
    widget.locator("button:has-text('Other draws')").click()
    assert widget.get_attribute("data-draw-set") == "1" and canvas_pixels(digits) != digits_before
    widget.screenshot(path=SCREENSHOTS / "10_priors_after.png")
    assert page.error_outputs() == []
    page.close()


def test_complete_a_digit_and_ask_for_one_with_the_mouse_and_the_keyboard_in_jupyterlab(lab, browser):
    """11's in-page widgets: a stroke drawn with the mouse in the visible part, the layout changed with a button, a
    style picked on the plane and a label typed; every completion and decoded digit compared with torch's."""
    page = NotebookPage(browser, lab, CONDITIONAL_NOTEBOOK)
    assert_math_typeset(page)
    page.run_all()
    assert page.error_outputs() == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reference = conditional.complete_digit()  # the shipped model and the same fixed draws of z as the notebook's

    widget = page.panel.locator(".vae-touch-complete").first
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=SCREENSHOTS / "11_complete_before.png")
    widget.locator("button:has-text('Clear')").click()
    empty = json.loads(widget.get_attribute("data-condition"))
    assert set(empty) == {completion.HIDDEN, 0}  # two visible quadrants, no ink
    first = widget.locator("canvas[aria-label='completion 1']")
    before = canvas_pixels(first)
    pad = widget.locator("canvas[aria-label^='drawing']")
    box = pad.bounding_box()
    page.page.mouse.move(box["x"] + 0.35 * box["width"], box["y"] + 0.2 * box["height"])
    page.page.mouse.down()
    for step in range(1, 16):  # a stroke down the left half: the upper part of a 1, say
        page.page.mouse.move(box["x"] + 0.35 * box["width"], box["y"] + (0.2 + 0.04 * step) * box["height"])
    page.page.mouse.up()
    assert canvas_pixels(first) != before, "the completions did not follow the stroke"
    condition = torch.tensor(json.loads(widget.get_attribute("data-condition")))
    visible = completion.visible_mask(2).reshape(-1)
    assert (condition[~visible] == completion.HIDDEN).all() and 10 < condition[visible].sum() < 200
    shown = torch.tensor(json.loads(widget.get_attribute("data-completions")))
    np.testing.assert_allclose(shown.numpy(), reference.completions(condition).reshape(len(shown), -1).numpy(),
                               atol=1e-4)
    widget.locator("button:has-text('3 visible')").click()
    assert widget.locator("button[aria-pressed='true']").inner_text() == "3 visible"
    condition = torch.tensor(json.loads(widget.get_attribute("data-condition")))
    assert (condition == completion.HIDDEN).sum() == 196  # only the bottom-right quadrant is left to complete
    widget.locator("button:has-text('Use a test digit')").click()  # the second test digit, its visible part exact
    second = vae_helpers_data.load_digits(split="test", limit=2).images[1:]
    np.testing.assert_allclose(json.loads(widget.get_attribute("data-condition")),
                               completion.hide(second, 3).reshape(-1).numpy(), atol=1e-6)
    widget.screenshot(path=SCREENSHOTS / "11_complete_after.png")

    reference = conditional.ask_for_a_digit()
    widget = page.panel.locator(".vae-touch-ask").first
    widget.scroll_into_view_if_needed()
    plane = widget.locator("canvas[aria-label^='latent map']")
    box = plane.bounding_box()
    before = widget.get_attribute("data-decoded")
    for step in range(10):
        page.page.mouse.move(box["x"] + box["width"] * (0.3 + 0.03 * step), box["y"] + box["height"] * 0.4)
    assert widget.get_attribute("data-decoded") != before, "the row did not follow the pointer"
    z = json.loads(widget.get_attribute("data-z"))
    np.testing.assert_allclose(json.loads(widget.get_attribute("data-decoded")),
                               reference.decoded(z).reshape(10, -1).numpy(), atol=1e-4)
    plane.click()  # pins the style under the pointer
    pinned = json.loads(widget.get_attribute("data-z"))
    plane.press("7")
    plane.press("ArrowUp")
    assert widget.locator("button[aria-pressed='true']").get_attribute("aria-label") == "ask for a 7"
    assert json.loads(widget.get_attribute("data-z")) == pytest.approx([pinned[0], pinned[1] + 0.1], abs=1e-6)
    widget.screenshot(path=SCREENSHOTS / "11_ask_after.png")
    assert page.error_outputs() == []
    page.close()


def assert_math_typeset(page):
    """MathJax marks what it cannot typeset (e.g. \\tag inside aligned) with <mjx-merror>; none may appear. However
    busy the machine: wait until the typeset formulas stop increasing, not for a fixed time."""
    rendered = page.wait_for_typesetting(at_least=1)
    errors = page.panel.locator("mjx-merror").all_inner_texts()
    assert rendered > 0, f"{page.name}: no math was typeset"
    assert errors == [], f"{page.name}: MathJax could not typeset {errors}"


def test_the_other_notebooks_render_their_math_without_errors(tmp_path_factory, browser):
    """The notebooks no widget test opens (those check their math as they run); no kernel is needed to read."""
    root = tmp_path_factory.mktemp("math-root")
    names = [path.name for path in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             if path.name not in {*PRECOMPUTED_CHECKS, *PAGE_FIGURE_CHECKS, TOUCH_NOTEBOOK, PRIOR_NOTEBOOK,
                                  CONDITIONAL_NOTEBOOK}]
    assert names  # 00 and 06
    for name in names:
        shutil.copy(REPO_ROOT / "notebooks" / name, root / name)
    with LabServer(root, tmp_path_factory.mktemp("math-home")) as server:
        for name in names:
            page = NotebookPage(browser, server, name, wait_for_kernel=False)
            assert_math_typeset(page)
            page.close()


# ---- in_page_vae.js in a blank page: the module the widgets run, against torch and against MNIST's recipe ----------

@pytest.fixture(scope="module")
def touch_js(browser):
    """A blank Chromium page with in_page_vae.js imported as `window.touch`."""
    page = page_with_module(browser, in_page.ESM, "touch")
    yield page
    page.close()


def mnist_style_in_page(page, ink):
    """touch.mnistStyle of a (H, W) ink array, as a (28, 28) array, or None when the page returns null."""
    height, width = ink.shape
    pixels = page.evaluate("([ink, w, h]) => { const p = touch.mnistStyle(Float64Array.from(ink), w, h); "
                           "return p && Array.from(p); }", [ink.reshape(-1).tolist(), width, height])
    return None if pixels is None else np.array(pixels).reshape(28, 28)


def centre_of_mass(image):
    rows, cols = np.indices(image.shape) + 0.5  # pixel centres
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_a_stroke_in_a_corner_is_fitted_into_20_pixels_and_centred_by_mass(touch_js):
    ink = np.zeros((280, 280))
    ink[10:90, 5:25] = 1.0  # a short, fat bar in the top-left corner
    ink[80:90, 25:60] = 0.5  # with a lighter foot
    image = mnist_style_in_page(touch_js, ink)
    rows, cols = np.nonzero(image > 0)
    assert max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == 20  # the longer side is 20 pixels
    assert np.allclose(centre_of_mass(image), (14, 14), atol=0.5)  # a whole-pixel shift: within half a pixel
    # The box 80 x 55 pixels becomes 20 x 14 (55 / 4, rounded): area averaging keeps its mean ink.
    assert image.max() <= 1 and image.sum() / (20 * 14) == pytest.approx(ink[10:90, 5:60].mean())


def test_the_aspect_ratio_is_kept_and_an_empty_canvas_gives_null(touch_js):
    ink = np.zeros((280, 280))
    ink[200:210, 40:240] = 1.0  # a horizontal bar 200 x 10 pixels
    image = mnist_style_in_page(touch_js, ink)
    rows, cols = np.nonzero(image > 0)
    assert (cols.max() - cols.min() + 1, rows.max() - rows.min() + 1) == (20, 1)
    assert mnist_style_in_page(touch_js, np.zeros((280, 280))) is None


@pytest.mark.parametrize("prior", [None, {"mu": [0.5, -1.0], "logvar": [0.3, -0.2]}], ids=["model's", "shifted"])
def test_the_page_encodes_decodes_and_scores_as_torch_does(touch_js, prior):
    widget = touch.draw_digit()
    prior = prior or widget.prior  # the model's N(0, I), and a diagonal Gaussian the page must not assume away
    network = widget.network
    state = {"spec": network.spec, "weights": base64.b64encode(network.weights).decode(), "prior": prior}
    images = widget.test.images[:8]
    z = torch.randn(8, 2, generator=torch.Generator().manual_seed(0)) * 2
    page = touch_js.evaluate("""([state, images, zs, eps]) => {
        const bytes = Uint8Array.from(atob(state.weights), (c) => c.charCodeAt(0));
        const network = new touch.Network(state.spec, bytes.buffer, state.prior);
        return images.map((x, i) => {
            const { mu, logvar } = network.encode(x);
            return { mu, logvar, decoded: network.decode(zs[i]), logPrior: network.logPrior(zs[i]),
                     elbo: network.elbo(x, mu, logvar, eps).elbo };
        });
    }""", [state, images.reshape(8, -1).tolist(), z.tolist(), widget.eps])
    p = DiagonalGaussian(torch.tensor(prior["mu"]), torch.tensor(prior["logvar"]))
    with torch.no_grad():
        mu, logvar = widget.page_model.encode(images)
        decoded = torch.sigmoid(widget.page_model.decode(z)).reshape(8, -1)
        # elbo_with_draws scores under the model's N(0, I): swap its KL for the KL to this prior
        elbo = (touch.elbo_with_draws(widget.page_model, images, torch.tensor(widget.eps)) + gaussian_kl(mu, logvar)
                - gaussian_kl(mu, logvar, p.mu, p.logvar))
    for b, result in enumerate(page):
        np.testing.assert_allclose(result["mu"], mu[b].numpy(), atol=1e-4)
        np.testing.assert_allclose(result["logvar"], logvar[b].numpy(), atol=1e-4)
        np.testing.assert_allclose(result["decoded"], decoded[b].numpy(), atol=1e-4)
        assert result["logPrior"] == pytest.approx(p.log_prob(z[b]).item(), abs=1e-5)
        assert result["elbo"] == pytest.approx(elbo[b].item(), abs=1e-2)  # a sum of 16 x 784 float32 terms
