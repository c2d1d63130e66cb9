"""The book site (make html), read offline in headless Chromium: every page of the series with its title, sidebar,
previous/next links, page contents, launch and download buttons, typeset math, images and live in-page widgets, and
not one request to another host.

The site is built as `make html` builds it (a rebuild reuses the executed outputs cached in build/book, so only the
first build executes the notebooks). Screenshots go to build/book-*.png.
"""

import functools
import gzip
import http.server
import re
import subprocess
import sys
import threading
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from jupyter_cache import get_cache
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from series_tools import book, series
from vae_helpers.config import REPO_ROOT

pytestmark = pytest.mark.book

PAGES = [("index", book.TITLE)] + [(stem, series.heading(i)) for i, (stem, *_) in enumerate(series.SERIES)]
# What one book page may load in all (its HTML with the widgets' states, styles, scripts, fonts, images), as a host
# sends it: text compressed with gzip (GitHub Pages, Read the Docs and Netlify all do), the rest as it is. A first
# visit: nothing in the browser's cache.
PAGE_WEIGHT_BYTES = 3_000_000
COMPRESSED_TYPES = (".html", ".js", ".css", ".json", ".svg", ".txt")


def sent_bytes(folder, path):
    """The bytes a compressing host sends for the site's file at `path` (a URL path)."""
    data = (folder / unquote(path).lstrip("/")).read_bytes()
    return len(gzip.compress(data, compresslevel=6)) if path.endswith(COMPRESSED_TYPES) else len(data)
# Raw TeX a reader must never see: what is left on a page whose math was not typeset.
RAW_TEX = re.compile(r"\$\$|\\begin\{|\\\(|\\\[")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    """The built site, served on localhost as a reader's browser would get it: (base URL, folder)."""
    # Every page read again (outputs from the cache, or executed on a first build): each warning is shown, and
    # a warning is a page that shows something wrong (a widget with no static form, a broken link, bad math).
    built = subprocess.run([sys.executable, "-m", "series_tools.book", "--quiet", "--fresh-env"], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-5000:]
    warnings = [line for line in built.stderr.splitlines() if "WARNING:" in line or "ERROR:" in line]
    assert warnings == [], "\n".join(warnings)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(book.SITE_DIR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", book.SITE_DIR
    server.shutdown()


def test_a_change_to_prose_reuses_the_cached_outputs_and_a_change_to_code_does_not(site):
    """What makes a rebuild after a prose change take seconds: the cache matches a notebook by its code alone."""
    cache = get_cache(book.cache_dir())
    notebook = nbformat.read(series.NOTEBOOK_DIR / "04_the_reparameterization_trick.ipynb", as_version=4)
    record = cache.match_cache_notebook(notebook)
    markdown = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    markdown.source += "\n\nOne more sentence."
    assert cache.match_cache_notebook(notebook).pk == record.pk
    code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    code.source += "\nprint('one more line')"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(notebook)


@pytest.fixture
def offline_page(browser, site):
    """A page on which every request that is not for the site itself is refused (and recorded in page.refused)."""
    base, _ = site
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.refused = []

    def local_only(route):
        if route.request.url.startswith((base, "data:", "blob:")):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    yield page
    page.close()


def has_math(stem):
    """Whether the notebook's text holds a formula (the index page holds none)."""
    if stem == "index":
        return False
    notebook = nbformat.read(series.NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    return any("$" in cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def plain(text):
    """Text as series.py writes it: docutils' smart quotes turn ' into ’ on the page."""
    return text.strip().replace("’", "'")


def open_page(page, base, stem):
    page.goto(f"{base}{stem}.html", wait_until="load")
    # MathJax typesets after load; its startup promise resolves once the whole page is done.
    try:
        page.wait_for_function("() => !document.querySelector('.math') || window.MathJax?.startup?.promise")
    except PlaywrightTimeout:
        pytest.fail(f"{stem}: MathJax never started (requests refused: {page.refused})")
    page.evaluate("() => window.MathJax?.startup?.promise")


def prose_text(page):
    """The article's text outside code and typeset math: where raw TeX would show if MathJax had failed."""
    return page.evaluate("""() => {
        const article = document.querySelector('article').cloneNode(true);
        article.querySelectorAll('pre, code, .highlight, script, style, mjx-container').forEach((e) => e.remove());
        return article.textContent;
    }""")


def check_title_and_sidebar(page, stem, title):
    assert plain(page.title()).startswith(f"{title} — The VAE series"), page.title()
    assert plain(page.locator("article h1").first.inner_text()) == title
    # The sidebar lists every notebook, by its title, in the series' order.
    sidebar = [plain(text) for text in page.locator("nav.bd-docs-nav a").all_inner_texts()]
    assert sidebar == [series.heading(i) for i in range(len(series.SERIES))], f"{stem}: sidebar {sidebar}"


def check_math(page, stem):
    """Every formula typeset, none in error, no raw TeX left in the prose."""
    formulas = page.locator(".math").count()
    untypeset = page.locator(".math:not(:has(mjx-container))").count()
    assert untypeset == 0, f"{stem}: {untypeset} of {formulas} formulas were not typeset"
    errors = page.locator("mjx-merror, .MathJax_Error, .katex-error").all_inner_texts()
    assert errors == [], f"{stem}: MathJax could not typeset {errors}"
    assert formulas > 0 or not has_math(stem), f"{stem}: no typeset formula"
    raw = RAW_TEX.findall(prose_text(page))
    assert raw == [], f"{stem}: raw TeX in the text: {raw}"


def check_images(page, stem):
    """Every image loaded (the figures; the in-page widgets draw on canvases, not images)."""
    broken = page.evaluate("() => Array.from(document.images).filter((i) => !(i.complete && i.naturalWidth > 0))"
                           ".map((i) => i.src.slice(0, 80))")
    assert broken == [], f"{stem}: images that did not load: {broken}"


def check_links(page, base, folder, number):
    """Previous and next follow the series; every link within the site leads to a page (and anchor) that exists."""
    stem = PAGES[number][0]
    previous_link, next_link = page.locator("a.left-prev"), page.locator("a.right-next")
    expected_previous = f"{PAGES[number - 1][0]}.html" if number > 0 else None
    expected_next = f"{PAGES[number + 1][0]}.html" if number + 1 < len(PAGES) else None
    assert (previous_link.get_attribute("href") if previous_link.count() else None) == expected_previous
    assert (next_link.get_attribute("href") if next_link.count() else None) == expected_next
    for href in page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), (a) => a.href)"):
        if href.startswith(base):
            target, _, anchor = href[len(base):].partition("#")
            assert (folder / (target or "index.html")).is_file(), f"{stem}: a link to {href} leads nowhere"
            if anchor and target in ("", f"{stem}.html"):
                assert page.locator(f"[id='{anchor}']").count() == 1, f"{stem}: no #{anchor} on the page"


def check_contents_and_buttons(page, folder, index):
    """The page's own contents, and the buttons: Binder, Colab, and the notebook itself to download."""
    stem = series.SERIES[index][0]
    assert page.locator(".page-toc .toc-entry a").count() >= 3, f"{stem}: no table of contents for the page"
    assert page.locator(f"a[href='{series.binder_url(index)}']").count() == 1
    assert page.locator(f"a[href='{series.colab_url(index)}']").count() == 1
    assert page.locator(f"a[href='_sources/{stem}.ipynb']").count() == 1
    downloaded = (folder / "_sources" / f"{stem}.ipynb").read_bytes()
    assert downloaded == (series.NOTEBOOK_DIR / f"{stem}.ipynb").read_bytes()  # the notebook, as committed


@pytest.mark.browser
def test_every_page_weighs_under_3_mb_as_a_host_sends_it(browser, site):
    """Each page opened in a fresh browser context (an empty cache), everything it loads counted."""
    base, folder = site
    for stem, _ in PAGES:
        context = browser.new_context()
        page = context.new_page()
        loaded = []
        page.on("requestfinished", lambda request: loaded.append(request.url))
        page.goto(f"{base}{stem}.html", wait_until="load")
        page.wait_for_function("() => !window.MathJax?.startup || window.MathJax.startup.promise")
        page.evaluate("() => window.MathJax?.startup?.promise")  # MathJax's fonts load while it typesets
        weight = sum(sent_bytes(folder, urlparse(url).path) for url in loaded if url.startswith(base))
        context.close()
        assert weight < PAGE_WEIGHT_BYTES, f"{stem}: {weight / 1e6:.2f} MB sent, over {PAGE_WEIGHT_BYTES / 1e6:g} MB"


@pytest.mark.browser
def test_every_page_reads_offline_with_navigation_math_images_and_buttons(offline_page, site):
    base, folder = site
    page = offline_page
    for number, (stem, title) in enumerate(PAGES):
        open_page(page, base, stem)
        check_title_and_sidebar(page, stem, title)
        check_math(page, stem)
        check_images(page, stem)
        check_links(page, base, folder, number)
        if stem != "index":
            check_contents_and_buttons(page, folder, number - 1)
    assert page.refused == [], f"requests that left the site: {page.refused}"


FIGURES_IN_THE_PAGE = {"01_bayes_rule_and_the_intractable_evidence": 2, "02_kl_divergence": 2,
                       "03_variational_inference_and_the_elbo": 1, "04_the_reparameterization_trick": 1,
                       "07_exploring_the_latent_space": 4, "08_when_training_goes_wrong": 1,
                       "09_pixels_likelihoods_and_blur": 1}


def canvases_of(figure):
    return figure.evaluate("el => Array.from(el.querySelectorAll('canvas'), (c) => c.toDataURL())")


@pytest.mark.browser
def test_the_figures_computed_in_the_page_run_without_a_kernel(offline_page, site):
    """Every figure of 01-04 and 07-09 redraws on the book site, with no kernel and no network: by the keyboard (an
    arrow on its first slider) and by the mouse (a click near the end of its last slider); no test hooks are on,
    and 07's four widgets share one copy of the decoder and of the test digits."""
    base, _ = site
    page = offline_page
    for stem, count in FIGURES_IN_THE_PAGE.items():
        open_page(page, base, stem)
        figures = page.locator(".vae-page-figure")
        assert figures.count() == count, f"{stem}: {figures.count()} figures computed in the page"
        for index in range(count):
            figure = figures.nth(index)
            figure.scroll_into_view_if_needed()
            assert figure.evaluate("el => el.__latencies") is None, f"{stem}: test hooks on the book site"
            readout = figure.locator("[aria-live]").inner_text()
            before = canvases_of(figure)
            figure.locator("input[type=range]").first.press("ArrowRight")
            assert canvases_of(figure) != before, f"{stem}, figure {index}: an arrow key did not redraw it"
            before = canvases_of(figure)
            last = figure.locator("input[type=range]").last
            box = last.bounding_box()
            page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
            assert canvases_of(figure) != before, f"{stem}, figure {index}: a click on a slider did not redraw it"
            assert figure.locator("[aria-live]").inner_text() != readout
        if stem.startswith("01"):  # with the formulas above it: the page a reader meets, for a person to look at
            first = figures.first
            page.evaluate("(el) => window.scrollBy(0, el.getBoundingClientRect().top - 350)", first.element_handle())
            page.screenshot(path=REPO_ROOT / "build" / "book-01-math-and-widget.png")
    assert page.refused == []


@pytest.mark.browser
def test_the_in_page_widgets_run_live_without_a_kernel(offline_page, site):
    base, _ = site
    page = offline_page
    for stem in ("05_your_first_vae", "07_exploring_the_latent_space"):
        open_page(page, base, stem)
        widget = page.locator(".vae-touch-map").first
        widget.scroll_into_view_if_needed()
        box = widget.locator("canvas[aria-label^='latent map']").bounding_box()
        digit = widget.locator("canvas[aria-label='decoded at the pointer']")
        before = digit.evaluate("c => c.toDataURL()")
        page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.3 * box["height"])
        assert digit.evaluate("c => c.toDataURL()") != before, f"{stem}: the map did not decode a new point"
        widget.locator("canvas[aria-label^='latent map']").press("ArrowRight")  # a screen reader hears the point
        assert widget.locator("[aria-live]").inner_text().startswith("z = ("), f"{stem}: the map's move is silent"
        # one copy of the weights on the page, which both widgets read (on 07 also the conv decoder's and the test
        # digits', which its four other widgets share), and no test hooks (VAE_WIDGET_HOOKS)
        shared = page.locator("script[id^='vae-widget-state-']").count()
        assert shared == (3 if stem.startswith("07") else 1), f"{stem}: the weights are not shared"
        assert widget.get_attribute("data-decoded") is None and widget.evaluate("el => el.__latencies") is None
        draw = page.locator(".vae-touch-draw").first
        assert draw.get_attribute("data-state") == "drawn" and "ELBO of the drawing" in draw.inner_text()
        draw.locator("button:has-text('Clear')").click()
        assert draw.get_attribute("data-state") == "empty"
        if stem.startswith("05"):
            widget.scroll_into_view_if_needed()
            page.screenshot(path=REPO_ROOT / "build" / "book-05-latent-map.png")
    assert page.refused == []


@pytest.mark.browser
def test_the_prior_switcher_runs_without_a_kernel(offline_page, site):
    base, _ = site
    page = offline_page
    open_page(page, base, "10_learned_priors_and_flow_posteriors")
    widget = page.locator(".vae-prior-switch").first
    widget.scroll_into_view_if_needed()
    digits = widget.locator("canvas[aria-label='decoded prior draws']")
    before = digits.evaluate("c => c.toDataURL()")
    widget.locator("[role='radio']:has-text('mixture')").click()
    assert widget.get_attribute("data-selected") == "1"
    assert digits.evaluate("c => c.toDataURL()") != before, "the switcher did not redraw the prior's draws"
    widget.locator("[role='radio'][aria-checked='true']").press("ArrowRight")
    assert widget.get_attribute("data-selected") == "2"
    page.screenshot(path=REPO_ROOT / "build" / "book-10-prior-switcher.png")
    assert page.refused == []


@pytest.mark.browser
def test_the_conditional_widgets_run_without_a_kernel(offline_page, site):
    base, _ = site
    page = offline_page
    open_page(page, base, "11_the_conditional_vae")
    widget = page.locator(".vae-touch-complete").first
    widget.scroll_into_view_if_needed()
    first = widget.locator("canvas[aria-label='completion 1']")
    before = first.evaluate("c => c.toDataURL()")
    widget.locator("button:has-text('Use a test digit')").click()  # the second test digit
    assert first.evaluate("c => c.toDataURL()") != before, "the completions did not change with the test digit"
    before = first.evaluate("c => c.toDataURL()")
    widget.locator("button:has-text('1 visible')").press("Enter")  # the keyboard
    assert first.evaluate("c => c.toDataURL()") != before, "the completions did not change with the layout"
    page.screenshot(path=REPO_ROOT / "build" / "book-11-completion.png")
    ask = page.locator(".vae-touch-ask").first
    ask.scroll_into_view_if_needed()
    asked = ask.locator("canvas[aria-label='asked for']")
    before = asked.evaluate("c => c.toDataURL()")
    box = ask.locator("canvas[aria-label^='latent map']").bounding_box()
    page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.3 * box["height"])
    assert asked.evaluate("c => c.toDataURL()") != before, "the plane did not decode a new style"
    # each decoder's weights once on the page (two models), and no test hooks
    assert page.locator("script[id^='vae-widget-state-']").count() == 2
    assert ask.get_attribute("data-decoded") is None
    assert page.refused == []


@pytest.mark.browser
def test_search_finds_a_page_and_the_index_lists_the_series(offline_page, site):
    base, _ = site
    page = offline_page
    open_page(page, base, "index")
    page.screenshot(path=REPO_ROOT / "build" / "book-index.png")
    for stem, title, _ in series.SERIES:  # the table of notebooks: each title, linked to its page
        assert plain(page.locator(f"article table a[href='{stem}.html']").inner_text()) == title
    page.goto(f"{base}search.html?q=reparameterization")
    results = page.locator("#search-results a")
    results.first.wait_for(timeout=30_000)
    assert any("04_the_reparameterization_trick.html" in href for href in
               page.evaluate("() => Array.from(document.querySelectorAll('#search-results a'), (a) => a.href)"))
    assert page.refused == []
