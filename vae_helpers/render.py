"""How a widget output shows on a page without a kernel (the book site of vae_helpers.book).

An anywidget of explorers/touch.py runs its own module in the page from its saved state, so it stays fully
interactive; a kernel-backed widget (a widgets.LiveFigure) becomes the image of its initial state, captioned with
its controls' values and readout. SeriesRenderer hands these to myst-nb in place of its ipywidgets embedding, which
would load the widget manager from a CDN.
"""

import html
import json

from docutils import nodes
from myst_nb.core.render import NbElementRenderer

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
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



# Under a kernel-backed widget's picture: the page cannot move it, the notebook can.
STILL_NOTE = ("<p><em>The widget at its first setting: its controls need a running notebook (the launch and "
              "download buttons at the top of the page).</em></p>")


def static_controls(model_id, models):
    """What a box of HTML, labels and progress bars (tqdm's bar in a notebook) showed when its state was saved, as
    HTML; None for any other ipywidget. `models`: the notebook's saved widget states by model id."""
    saved = models.get(model_id, {})
    name, state = saved.get("model_name"), saved.get("state", {})
    if name in ("HBoxModel", "VBoxModel"):
        parts = [static_controls(child.removeprefix("IPY_MODEL_"), models) for child in state.get("children", [])]
        if None in parts:
            return None
        direction = "row" if name == "HBoxModel" else "column"
        return (f'<div style="display: flex; flex-direction: {direction}; flex-wrap: wrap; align-items: center; '
                f'gap: 0.5em; font-family: monospace; font-size: 0.85em">{"".join(parts)}</div>')
    if name == "HTMLModel":
        return f"<span>{state.get('value', '')}</span>"  # already HTML (tqdm escapes its own text)
    if name == "LabelModel":
        return f"<span>{html.escape(state.get('value', ''))}</span>"
    if name in ("FloatProgressModel", "IntProgressModel"):
        return (f'<progress style="flex: none; width: 8em" value="{state.get("value", 0)}" '
                f'max="{state.get("max", 100)}"></progress>')
    return None


def static_widget(model_id, models, bundle):
    """The HTML a page without a kernel shows for the widget output `bundle` of model `model_id`: an anywidget runs
    its module from its saved state; a LiveFigure is its image/png with the text/plain (controls and readout) as
    caption; a progress bar is its last state. None when it is none of these. `models`: the notebook's saved widget
    states by model id."""
    saved = models.get(model_id, {})
    if "_esm" in saved.get("state", {}):
        return anywidget_page(model_id, saved)
    if "image/png" in bundle:
        caption = html.escape(bundle.get("text/plain", ""))
        return (f'<figure class="vae-widget-image"><img alt="the widget in its initial state" '
                f'src="data:image/png;base64,{bundle["image/png"].strip()}">'
                f'<figcaption><pre>{caption}</pre>{STILL_NOTE}</figcaption></figure>')
    return static_controls(model_id, models)


class SeriesRenderer(NbElementRenderer):
    """myst-nb's renderer (entry point `vae-series` in pyproject.toml) with the series' static widgets."""

    def render_widget_view(self, data):
        client = self.renderer.nb_client
        model_id = data.content["model_id"]
        saved_models = client.notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        bundle = client.code_cell_outputs(data.cell_index)[1][data.output_index]["data"]
        page_html = static_widget(model_id, saved_models, bundle)
        if page_html is None:
            self.logger.warning(f"cell {data.cell_index}: render.static_widget has no static form for widget "
                                f"{saved_models.get(model_id, {}).get('model_name')}; the page shows nothing there",
                                subtype="widget", line=data.line)
            return []
        return [nodes.raw(text=page_html, format="html", classes=["output", "text_html"])]

    def render_nb_finalise(self, metadata):
        """Add nothing: the widgets' saved state is already in their pages, and the manager would need a CDN."""
