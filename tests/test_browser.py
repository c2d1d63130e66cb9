"""Widgets in a real JupyterLab, in headless Chromium: run the notebook, move a control, see the image change.

Needs Debian's `chromium` (make test installs it when run as root; elsewhere these tests are skipped, but never
in CI). Screenshots of each widget before and after go to build/browser-screenshots/ (printed at the end of the run).
"""

import os
import shutil

import pytest

from vae_helpers.config import REPO_ROOT

from .browser.lab import CHROMIUM_ARGS, LabServer, NotebookPage, find_chromium

SCREENSHOTS = REPO_ROOT / "build" / "browser-screenshots"
# (notebook, text in the widget cell's source, how to move it): "slider:N" presses ArrowRight N times on the
# first slider handle of the cell; "button:LABEL" clicks the button with that label.
WIDGET_CHECKS = {
    "01_bayes_rule_and_the_intractable_evidence.ipynb": [("posterior_explorer(", "slider:5"),
                                                         ("naive_monte_carlo_explorer(", "slider:5"),
                                                         ("naive_monte_carlo_explorer(", "button:New samples")],
    "03_variational_inference_and_the_elbo.ipynb": [("elbo_explorer(", "slider:5")],
    "04_the_reparameterization_trick.ipynb": [("gradient_explorer(", "slider:5")],
    "07_exploring_the_latent_space.ipynb": [("generation_explorer(", "button:New digits"),
                                            ("traversal_explorer(", "slider:5"),
                                            ("latent_map_explorer(", "slider:5"),
                                            ("interpolation_explorer(", "slider:5"),
                                            ("uncertainty_explorer(", "slider:5")],
    "08_when_training_goes_wrong.ipynb": [("beta_ladder_explorer(", "slider:2")],
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        message = "Chromium is not installed: `apt-get install chromium` (make test does it when run as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    for name in WIDGET_CHECKS:  # copies: JupyterLab autosaves outputs into the file it opens
        shutil.copy(REPO_ROOT / "notebooks" / name, root / name)
    with LabServer(root, tmp_path_factory.mktemp("lab-home")) as server:
        yield server


def move(cell, action):
    kind, _, argument = action.partition(":")
    if kind == "slider":
        handle = cell.locator(".widget-slider .noUi-handle").first
        handle.focus()
        for _ in range(int(argument)):
            handle.press("ArrowRight")
    elif kind == "button":
        cell.locator(f"button.jupyter-button:has-text('{argument}')").first.click()
    else:
        raise ValueError(f"action must be 'slider:N' or 'button:LABEL', got {action!r}")


@pytest.mark.parametrize("notebook", sorted(WIDGET_CHECKS))
def test_widgets_render_and_respond_in_jupyterlab(notebook, lab, browser):
    page = NotebookPage(browser, lab, notebook)
    page.run_all()
    assert page.error_outputs() == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for step, (snippet, action) in enumerate(WIDGET_CHECKS[notebook]):
        cell = page.widget_cell(snippet)
        image = cell.locator("img.widget-image").first
        image.wait_for(state="visible", timeout=120_000)
        assert image.evaluate("img => img.naturalWidth > 0"), f"{snippet}: the image is empty"
        stem = f"{notebook[:2]}_{step}_{snippet.strip('(').split('.')[-1]}"
        cell.screenshot(path=SCREENSHOTS / f"{stem}_before.png")
        before = image.get_attribute("src")
        move(cell, action)
        page.wait_idle()
        page.wait_for(lambda: image.get_attribute("src") != before, 120, f"{snippet} to redraw after {action}")
        cell.screenshot(path=SCREENSHOTS / f"{stem}_after.png")
        assert page.error_outputs() == [], f"{snippet}: an error appeared after {action}"
    page.close()


def test_every_notebook_renders_its_math_without_errors(tmp_path_factory, browser):
    """MathJax marks what it cannot typeset (e.g. \\tag inside aligned) with <mjx-merror>; none may appear."""
    root = tmp_path_factory.mktemp("math-root")
    names = [path.name for path in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    for name in names:
        shutil.copy(REPO_ROOT / "notebooks" / name, root / name)
    with LabServer(root, tmp_path_factory.mktemp("math-home")) as server:
        for name in names:
            page = NotebookPage(browser, server, name)
            # However busy the machine: wait until the typeset formulas stop increasing, not for a fixed time.
            rendered = page.wait_for_typesetting(at_least=0 if name.startswith("00") else 1)
            errors = page.panel.locator("mjx-merror").all_inner_texts()
            assert rendered > 0 or name.startswith("00"), f"{name}: no math was typeset"
            assert errors == [], f"{name}: MathJax could not typeset {errors}"
            page.close()
