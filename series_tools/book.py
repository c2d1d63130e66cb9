"""The series as a book site, for reading without a kernel: `make html`, or

    python -m series_tools.book [--output build/html] [--quiet] [--fresh-env]

Sphinx with myst-nb and sphinx-book-theme (README, "Read it as a book", says why not Jupyter Book 2). The notebooks
are the pages' only source: build/book/src holds a copy of them, refreshed at every build, and an index page
written from series.SERIES.
myst-nb executes each notebook on a fresh kernel and keeps its outputs in a jupyter-cache, so a rebuild after a
change to prose only re-renders; the cache sits in a folder named after a digest of vae_helpers, the data and
pyproject.toml, because a change there can change every output. MathJax is served from the site itself
(sphinx-mathjax-offline), widgets become what render.py makes of them: nothing on a page comes from another host.
"""

import argparse
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

from docutils import nodes

from series_tools import series
from vae_helpers.config import REPO_ROOT

BUILD_DIR = REPO_ROOT / "build"
BOOK_DIR = BUILD_DIR / "book"
SITE_DIR = BUILD_DIR / "html"
TITLE = "Variational autoencoders, from Bayes' rule to a latent space you can explore"
# What an executed output can depend on besides the notebook's code: the helpers, the shipped digits and
# checkpoints, the pinned versions. The book's own modules change how outputs are shown, not what they are.
OUTPUT_INPUTS = ("vae_helpers", "data", "pyproject.toml")
# Nor does data/downloads (the full datasets, fetched only on request).
NOT_OUTPUT_INPUTS = ("data/downloads",)


def outputs_digest(root=REPO_ROOT):
    """A digest of everything besides a notebook's own code that its outputs depend on (OUTPUT_INPUTS)."""
    digest = hashlib.sha256()
    for name in OUTPUT_INPUTS:
        top = root / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            relative = path.relative_to(root).as_posix()
            if "__pycache__" in path.parts or any(relative == other or relative.startswith(other + "/")
                                                  for other in NOT_OUTPUT_INPUTS):
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def index_page():
    """The site's front page: what the series is, its notebooks in order (the sidebar's toctree) and how to run it."""
    rows = "\n".join(f"| {stem[:2]} | [{title}]({stem}.ipynb) | {learn} |" for stem, title, learn in series.SERIES)
    pages = "\n".join(stem for stem, *_ in series.SERIES)
    return f"""# {TITLE}

A numbered series of Jupyter notebooks that takes you from Bayes' rule to a trained convolutional VAE whose latent
space you explore, and through what goes wrong in training and how to see it and fix it. Every page here is a
notebook, executed top to bottom: the figures and numbers are what its code printed. Read them in order, starting
with [00 · Start here]({series.SERIES[0][0]}.ipynb).

To run a notebook and move its sliders, use the buttons at the top of its page: launch it on Binder, open it in
Colab, or download the `.ipynb`. The widgets that compute in the page itself (drawing a digit, dragging through a
latent map) also work here; the others show the figure of their first setting, with its values below it.

| # | Notebook | What you will learn |
|---|---|---|
{rows}

The source, with its tests: [{series.REPOSITORY}]({series.REPOSITORY_URL}).

```{{toctree}}
:hidden:
:maxdepth: 1

{pages}
```
"""


def write_sources(source_dir, notebook_dir=series.NOTEBOOK_DIR):
    """build/book/src: the index page and each notebook as it stands in notebooks/ (copied, not linked: Sphinx
    resolves a link to its target, and links between pages then point outside the book)."""
    source_dir.mkdir(parents=True, exist_ok=True)
    wanted = {"index.md": index_page().encode("utf-8")}
    wanted.update({f"{stem}.ipynb": (notebook_dir / f"{stem}.ipynb").read_bytes() for stem, *_ in series.SERIES})
    for path in source_dir.iterdir():
        if path.name not in wanted:  # a notebook renamed or removed since the last build
            path.unlink()
    for name, content in wanted.items():
        path = source_dir / name
        if not path.is_file() or path.read_bytes() != content:
            path.write_bytes(content)  # only what changed: Sphinx rereads a source whose time stamp is newer


def sphinx_config(cache_dir):
    """Sphinx's configuration, as the conf.py of a book would hold it."""
    return {
        "project": "The VAE series",
        "html_title": "The VAE series",  # the sidebar's heading, after each page's title in the browser tab
        "extensions": ["myst_nb", "sphinx-mathjax-offline", "series_tools.book"],
        "root_doc": "index",
        "exclude_patterns": [],
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {
            "repository_url": series.REPOSITORY_URL,
            "repository_branch": series.BRANCH,
            "path_to_docs": "notebooks",
            # The theme writes the same addresses as series.binder_url and series.colab_url (the book test checks).
            "launch_buttons": {"binderhub_url": series.BINDERHUB_URL, "colab_url": series.COLAB_URL,
                               "notebook_interface": "jupyterlab"},
            "use_download_button": True,
            "use_repository_button": True,
            "show_toc_level": 2,
            "navbar_persistent": [],  # the search field sits in the sidebar; pydata's header would repeat it
        },
        "html_show_sourcelink": False,
        "html_copy_source": True,  # the download button offers _sources/<notebook>.ipynb
        # Execution: every notebook on a fresh kernel, once; its outputs cached until its code or OUTPUT_INPUTS change.
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": str(cache_dir),
        "nb_execution_timeout": 600,
        "nb_execution_raise_on_error": True,
        "nb_execution_show_tb": True,
        # Widgets: render.py's static forms, and no ipywidgets manager (it would come from a CDN).
        "nb_render_plugin": "vae-series",
        "nb_ipywidgets_js": {},
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
    }


def keep_environments_whole(app, doctree):
    r"""Show a displayed formula that is one whole environment (`$$\begin{aligned} ... \end{aligned} \tag{3.7}$$`)
    as JupyterLab does. Sphinx wraps every formula with a line break in \begin{split}, where MathJax refuses the
    \tag; an environment needs no wrapper, only MathJax's display delimiters."""
    opening, closing = app.config.mathjax_display
    for block in doctree.findall(nodes.math_block):
        tex = block.astext()
        if not block.get("nowrap") and tex.lstrip().startswith("\\begin{"):
            block[:] = [nodes.Text(f"{opening}{tex}{closing}")]
            block["nowrap"] = True


def setup(app):
    """The book's own Sphinx extension (listed in sphinx_config)."""
    app.connect("doctree-read", keep_environments_whole)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def cache_dir(book_dir=BOOK_DIR):
    """Where the executed outputs of the notebooks as they stand are cached (jupyter-cache)."""
    return book_dir / f"jupyter_cache-{outputs_digest()}"


def build(output=SITE_DIR, book_dir=BOOK_DIR, notebook_dir=series.NOTEBOOK_DIR, status=sys.stdout, fresh_env=False):
    """Build the site into `output` from the notebooks in `notebook_dir`, with its sources, doctrees and cache in
    `book_dir`; returns the path of its index page. fresh_env: read every page again, not only the changed ones
    (their outputs still come from the cache), so that every warning shows."""
    from sphinx.application import Sphinx  # imported here: a learner's `import vae_helpers` never needs Sphinx
    from sphinx.util.console import nocolor

    if not sys.stderr.isatty():
        nocolor()  # warnings read from a log or a test, not a terminal

    source_dir, cache = book_dir / "src", cache_dir(book_dir)
    for stale in book_dir.glob("jupyter_cache-*"):
        if stale != cache:
            shutil.rmtree(stale)  # outputs of code that has changed since
    write_sources(source_dir, notebook_dir)
    # The site shows the series as a learner runs it, never the test suite's shrunken smoke-test runs.
    os.environ.pop("VAE_SMOKE_TEST", None)
    app = Sphinx(str(source_dir), None, str(output), str(book_dir / "doctrees"), "html",
                 confoverrides=sphinx_config(cache), status=status, warning=sys.stderr, freshenv=fresh_env)
    app.build()
    if app.statuscode:
        raise SystemExit(app.statuscode)
    drop_icon_script(Path(output))
    return Path(output) / "index.html"


# pydata-sphinx-theme loads FontAwesome's JavaScript on every page (1.5 MB, 0.54 MB compressed) "so that users can add
# custom icons"; the site adds none, and the icons it shows (the launch and download buttons) come from the webfonts
# its style sheet already loads. Dropped, a page weighs 0.54 MB less as a host sends it.
ICON_SCRIPT = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')


def drop_icon_script(site):
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        if ICON_SCRIPT.search(text):
            page.write_text(ICON_SCRIPT.sub("", text), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(SITE_DIR), help="where the site goes")
    parser.add_argument("--book-dir", default=str(BOOK_DIR), help="sources, doctrees and the execution cache")
    parser.add_argument("--notebooks", default=str(series.NOTEBOOK_DIR), help="the notebooks to build from")
    parser.add_argument("--quiet", action="store_true", help="print warnings and errors only")
    parser.add_argument("--fresh-env", action="store_true",
                        help="read every page again (outputs still from the cache), so that every warning shows")
    args = parser.parse_args(argv)
    index = build(Path(args.output), Path(args.book_dir), Path(args.notebooks),
                  status=None if args.quiet else sys.stdout, fresh_env=args.fresh_env)
    print(f"open {index}")


if __name__ == "__main__":
    main()
