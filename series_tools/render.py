"""How a widget output shows on a page without a kernel (the book site of series_tools.book).

An anywidget of explorers/touch.py runs its own module in the page from its saved state, so it stays fully
interactive; the widgets it refers to (the shared weights of widgets/in_page.py) go into the page once, as JSON
that the module reads through model.widget_manager.get_model. A kernel-backed widget (a widgets.LiveFigure)
becomes the image of its initial state, captioned with its controls' values and readout. SeriesRenderer hands
these to myst-nb in place of its ipywidgets embedding, which would load the widget manager from a CDN.
"""

import html
import json

from docutils import nodes
from myst_nb.core.render import NbElementRenderer

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Runs an anywidget's own module on a page without a kernel: a model that answers get() from the saved state
# (binary buffers as DataViews, as in JupyterLab), keeps set() values and tells on() listeners, and saves nothing;
# its widget_manager finds the models it refers to in the page's saved states (SAVED_STATE), each decoded once.
STATIC_ANYWIDGET = """<div id="{element_id}"></div>
<script type="module">
const models = (globalThis.vaeSavedModels ||= new Map());
function staticModel(saved) {{
  const values = saved.state, listeners = {{}};
  for (const {{ path, data }} of saved.buffers || []) {{
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    values[path[0]] = new DataView(bytes.buffer);
  }}
  return {{
    get: (name) => values[name],
    set: (name, value) => {{ values[name] = value; (listeners["change:" + name] || []).forEach((f) => f()); }},
    on: (event, callback) => {{ (listeners[event] ||= []).push(callback); }},
    off: () => {{}},
    save_changes: () => {{}},
    widget_manager: {{
      get_model: async (id) => {{
        if (!models.has(id)) models.set(id, staticModel(JSON.parse(document.getElementById("{state_prefix}" + id).textContent)));
        return models.get(id);
      }},
    }},
  }};
}}
const model = staticModel({state});
const url = URL.createObjectURL(new Blob([model.get("_esm")], {{ type: "text/javascript" }}));
const widget = (await import(url)).default;
await (widget.render ?? widget().render)({{ model, el: document.getElementById("{element_id}") }});
</script>"""
STATE_PREFIX = "vae-widget-state-"
# The saved state of a widget that another refers to, once per page, for STATIC_ANYWIDGET's get_model.
SAVED_STATE = '<script type="application/json" id="{element_id}">{state}</script>'


def _as_script_text(state):
    return json.dumps(state).replace("</", "<\\/")  # no early </script>


def referenced_models(saved):
    """The ids of the widgets that `saved` (a widget's saved state) refers to ("IPY_MODEL_<id>" values), except its
    layout and style, which a page without a widget manager does not apply."""
    values = [value for name, entry in saved.get("state", {}).items() if name not in ("layout", "style")
              for value in (entry if isinstance(entry, list) else [entry])]
    return [value.removeprefix("IPY_MODEL_") for value in values
            if isinstance(value, str) and value.startswith("IPY_MODEL_")]


def anywidget_page(model_id, saved, models=None, on_page=None):
    """HTML that runs the anywidget `model_id` in the page from its saved state, with no kernel (touch.py's
    widgets compute everything in the page, so they stay fully interactive), preceded by the saved state of each
    widget it refers to that is not already in the page. models: the notebook's saved states by id; on_page: the
    ids whose state the page already holds (updated here)."""
    on_page = set() if on_page is None else on_page
    states = []
    for reference in referenced_models(saved):
        if reference not in on_page:
            referred = (models or {}).get(reference, {})
            text = _as_script_text({"state": referred.get("state", {}), "buffers": referred.get("buffers", [])})
            states.append(SAVED_STATE.format(element_id=STATE_PREFIX + reference, state=text))
            on_page.add(reference)
    state = {"state": dict(saved["state"]), "buffers": saved.get("buffers", [])}
    return "".join(states) + STATIC_ANYWIDGET.format(element_id=f"widget-{model_id}", state_prefix=STATE_PREFIX,
                                                     state=_as_script_text(state))



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


def static_widget(model_id, models, bundle, on_page=None):
    """The HTML a page without a kernel shows for the widget output `bundle` of model `model_id`: an anywidget runs
    its module from its saved state; a LiveFigure is its image/png with the text/plain (controls and readout) as
    caption; a progress bar is its last state. None when it is none of these. `models`: the notebook's saved widget
    states by model id; on_page: the ids of the saved states the page already holds (anywidget_page)."""
    saved = models.get(model_id, {})
    if "_esm" in saved.get("state", {}):
        return anywidget_page(model_id, saved, models, on_page)
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
        if not hasattr(self, "states_on_page"):  # one renderer per page: the shared states go into it once
            self.states_on_page = set()
        page_html = static_widget(model_id, saved_models, bundle, self.states_on_page)
        if page_html is None:
            self.logger.warning(f"cell {data.cell_index}: render.static_widget has no static form for widget "
                                f"{saved_models.get(model_id, {}).get('model_name')}; the page shows nothing there",
                                subtype="widget", line=data.line)
            return []
        return [nodes.raw(text=page_html, format="html", classes=["output", "text_html"])]

    def render_nb_finalise(self, metadata):
        """Add nothing: the widgets' saved state is already in their pages, and the manager would need a CDN."""
