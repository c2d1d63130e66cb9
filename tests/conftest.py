"""Shared test settings (hypothesis runs derandomized, so the suite gives the same result on every run) and the
browser the browser tests share."""

import os

import pytest
import torch
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, max_examples=60, print_blob=True)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _seeded_torch():
    """Every test starts from the same global torch seed, whatever ran before it."""
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium (the browser tests' one browser); skipped without it, except in CI."""
    from tests.browser.lab import CHROMIUM_ARGS, find_chromium

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


@pytest.fixture
def restore_threads():
    """Put torch's thread count back after a test that sets it (the setup cell, cpus.set_torch_threads)."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def pytest_terminal_summary(terminalreporter):
    """Say where the browser tests left their screenshots, so a person can look at them."""
    from vae_helpers.config import REPO_ROOT

    folder = REPO_ROOT / "build" / "browser-screenshots"
    if folder.is_dir() and any(folder.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {folder}")
    book_shots = sorted((REPO_ROOT / "build").glob("book-*.png"))
    if book_shots:
        terminalreporter.write_line(f"book site screenshots: {', '.join(str(path) for path in book_shots)}")
