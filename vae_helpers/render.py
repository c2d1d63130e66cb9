"""Render the series, executed, to static HTML for readers without a kernel: `make html`, or

    python -m vae_helpers.render [--output build/html] [--only 00 01]

Each notebook runs top to bottom on a fresh kernel. A widget output (a widgets.LiveFigure) keeps the image of its
initial state and its readout, so the page shows the figure rather than an empty box; the in-page widgets of
explorers/touch.py run live from their saved state; links between notebooks are
pointed at the HTML pages. build/ is git-ignored.
"""

import argparse
import html
import json
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from vae_helpers.config import REPO_ROOT

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTEBOOK_LINK = re.compile(r"\]\((\d\d_[a-z0-9_]+)\.ipynb")


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Runs an anywidget's own module on a page without a kernel: a model that answers get() from the saved state
# (binary buffers as DataViews, as in JupyterLab), keeps set() values and tells on() listeners, and saves nothing.
STATIC_ANYWIDGET = """<div id="{element_id}"></div>
<script type="module">
const saved = {state};
const values = saved.state, listeners = {{}};
for (const {{ path, data }} of saved.buffers) {{
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  values[path[0]] = new DataView(bytes.buffer);
}}
const model = {{
  get: (name) => values[name],
  set: (name, value) => {{ values[name] = value; (listeners["change:" + name] || []).forEach((f) => f()); }},
  on: (event, callback) => {{ (listeners[event] ||= []).push(callback); }},
  off: () => {{}},
  save_changes: () => {{}},
}};
const url = URL.createObjectURL(new Blob([values._esm], {{ type: "text/javascript" }}));
const widget = (await import(url)).default;
await (widget.render ?? widget().render)({{ model, el: document.getElementById("{element_id}") }});
</script>"""


def anywidget_page(model_id, saved):
    """HTML that runs the anywidget `model_id` in the page from its saved state, with no kernel (touch.py's
    widgets compute everything in the page, so they stay fully interactive)."""
    state = {"state": dict(saved["state"]), "buffers": saved.get("buffers", [])}
    return STATIC_ANYWIDGET.format(element_id=f"widget-{model_id}",
                                   state=json.dumps(state).replace("</", "<\\/"))  # no early </script>


def static_outputs(notebook):
    """Replace each widget view by what a page without a kernel can show: an anywidget runs live from its saved
    state; a LiveFigure becomes its image, captioned with the controls' values and the readout.

    Returns how many widget outputs could be shown neither way.
    """
    saved_models = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    missing = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            saved = saved_models.get(data[WIDGET_VIEW]["model_id"], {})
            if "_esm" in saved.get("state", {}):
                output["data"] = {"text/html": anywidget_page(data[WIDGET_VIEW]["model_id"], saved)}
                continue
            if "image/png" not in data:
                missing += 1
                continue
            caption = html.escape(data.get("text/plain", ""))
            output["data"] = {"text/html": f'<figure><img alt="widget in its initial state" '
                                           f'src="data:image/png;base64,{data["image/png"].strip()}">'
                                           f'<figcaption><pre>{caption}</pre></figcaption></figure>'}
    notebook.metadata.pop("widgets", None)
    return missing


def link_pages(notebook):
    """Point markdown links to sibling notebooks (00_start_here.ipynb) at their HTML pages."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = NOTEBOOK_LINK.sub(r"](\1.html", cell.source)


def render_notebook(path, output_dir, timeout=600):
    """Execute `path` (working directory: its folder) and write output_dir/<name>.html; returns that path."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    missing = static_outputs(notebook)
    if missing:
        print(f"warning: {path.name}: {missing} widget output(s) have no static image")
    link_pages(notebook)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    target = Path(output_dir) / f"{Path(path).stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(REPO_ROOT / "build" / "html"))
    parser.add_argument("--only", nargs="*", help="notebook numbers, e.g. 00 07")
    args = parser.parse_args(argv)
    output_dir = Path(args.output)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        if not args.only or path.name[:2] in args.only:
            print(f"rendered {render_notebook(path, output_dir)}", flush=True)
    index = output_dir / "index.html"
    items = "\n".join(f'<li><a href="{p.stem}.html">{p.stem}</a></li>' for p in paths)
    index.write_text(f"<!doctype html><meta charset='utf-8'><title>VAE series</title><h1>The VAE series</h1>"
                     f"<ol start='0'>{items}</ol>\n", encoding="utf-8")
    print(f"open {index}")


if __name__ == "__main__":
    main()
