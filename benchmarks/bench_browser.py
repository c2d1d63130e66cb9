"""Time every widget of the series in a real JupyterLab in headless Chromium, from the input event to new pixels.

    .venv/bin/python benchmarks/bench_browser.py [--events 30] [--only 05 07] [--binder-box]

Each notebook with widgets is opened in JupyterLab (started as `make lab` starts it) and run; then every widget is
driven by real input events, one at a time, as a learner would:
- a kernel-backed widget (a LiveFigure without precompute: its figure is a PNG the kernel renders; the series has none
  now, but a learner's own may): key presses on its first slider (ArrowRight, or ArrowLeft at the slider's end);
  timed from the keydown event's own timestamp to the animation frame after the new figure has been decoded and
  drawn on the page's canvas;
- a figure computed in the page (a PageFigure, 01-04 and 07; a PrecomputedFigure, 08 and 09): key presses on each of
  its sliders in turn (an equal share of the events each; ArrowRight, or ArrowLeft at the slider's end), timed by the
  widget itself, from the input event's timestamp to the animation frame after its canvases were drawn;
- 10's prior switcher: the arrow key on its radio group, timed by the widget from the keydown event's timestamp to the
  animation frame after its redraw;
- an in-page widget (explorers/touch.py, explorers/conditional.py): mouse moves over a map (05's latent map, 11's
  style plane), and a stroke on a drawing canvas (05's, 11's completion pad), spaced by a random part of a frame so that they meet the screen's frames at every phase; timed by the widget itself, from
  the pointer event's timestamp to the animation frame after its canvases were drawn.
Medians and 95th percentiles over `--events` events per widget go to benchmarks/RESULTS.md. A timer started in
playwright would add its own ~40 ms; these use the page's clock only.

JupyterLab runs with its default windowing (contentVisibility: cells out of view are not rendered), as a learner
gets it; the tests use "none" instead, so that every cell is in the page for their locators.

--binder-box runs JupyterLab and its kernels inside the Binder-like box of bench_notebooks.py (a 1-CPU quota and
2 GB); the browser stays outside it, as a learner's browser runs on their own machine.
"""

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from binder_box import BinderBox  # noqa: E402
from results import write_section  # noqa: E402

from tests.browser.lab import CHROMIUM_ARGS, LabServer, NotebookPage, find_chromium  # noqa: E402
from vae_helpers.widgets.in_page import HOOKS_VARIABLE  # noqa: E402

IN_PAGE_BUDGET_MS = (20, 35)  # median, 95th percentile: drawing and dragging, computed in the page
KERNEL_BUDGET_MS = (40, 80)  # a widget whose pixels come from the kernel (none in the series now; issue 33's budget)
BOX_MEMORY_BYTES = 2 * 1024**3

# In the page: remember the keydown's timestamp; when the widget's FigureImage has drawn the new figure on its canvas
# (figure_view.js says so with an event), wait for the next animation frame (the first one that can show it), and
# record the time since the keydown.
WATCH_FIGURE = """cell => {
    const handle = cell.querySelector('.widget-slider .noUi-handle'), figure = cell.querySelector('.vae-figure');
    cell.__times = [];
    let start = null;
    handle.addEventListener('keydown', (event) => { start = event.timeStamp; }, true);
    figure.addEventListener('vae-figure-painted', () => {
        if (start === null) return;
        const began = start;
        start = null;
        requestAnimationFrame(() => cell.__times.push(performance.now() - began));
    });
}"""


def widget_cells(page):
    """(label, locator, kind) for every widget output of the open notebook, in order."""
    found = []
    cells = page.panel.locator(".jp-Notebook .jp-CodeCell")
    for index in range(cells.count()):
        cell = cells.nth(index)
        # The editor's own lines, as text: inner_text is empty for a cell whose rendering content-visibility skips.
        lines = [line for line in cell.locator(".jp-InputArea-editor .cm-line").all_text_contents() if line.strip()]
        calls = [line for line in lines if "explorer(" in line or "explorers.touch." in line
                 or "explorers.conditional." in line]
        source = (calls or lines)[-1].strip()  # the call that builds the widget
        if cell.locator(".vae-page-figure").count():
            found.append((source, cell, "page"))
        elif cell.locator(".vae-prior-switch").count():
            found.append((source, cell, "prior"))
        elif cell.locator(".vae-touch-map").count():
            found.append((source, cell, "map"))
        elif cell.locator(".vae-touch-draw").count():
            found.append((source, cell, "draw"))
        elif cell.locator(".vae-touch-complete").count():
            found.append((source, cell, "complete"))
        elif cell.locator(".vae-touch-ask").count():
            found.append((source, cell, "ask"))
        elif cell.locator(".vae-figure").count() and cell.locator(".widget-slider .noUi-handle").count():
            found.append((source, cell, "slider"))
    return found


def time_slider(page, cell, events):
    cell.scroll_into_view_if_needed()
    cell.evaluate(WATCH_FIGURE)
    handle = cell.locator(".widget-slider .noUi-handle").first
    handle.focus()
    key, misses = "ArrowRight", 0
    while cell.evaluate("c => c.__times.length") < events:
        count = cell.evaluate("c => c.__times.length")
        handle.press(key)
        try:  # wait for this step's image before the next key, as a learner watching the figure would
            page.page.wait_for_function(f"c => c.__times.length > {count}", arg=cell.element_handle(), timeout=3000)
            misses = 0
        except Exception:  # at the slider's end nothing changes: turn round
            key, misses = ("ArrowLeft" if key == "ArrowRight" else "ArrowRight"), misses + 1
            if misses > 2:
                raise RuntimeError("the slider does not redraw its image in either direction")
        page.page.wait_for_timeout(100)
    return cell.evaluate("c => c.__times")[:events]


def time_page(page, cell, events):
    """Key presses on each slider of a PageFigure in turn, one at a time, each after the last one's frame."""
    widget = cell.locator(".vae-page-figure").first
    widget.scroll_into_view_if_needed()
    sliders = widget.locator("input[type=range]")
    count = sliders.count()
    for index in range(count):
        slider, key = sliders.nth(index), "ArrowRight"
        slider.focus()
        for _ in range(-(-events // count)):
            value, low, high = slider.evaluate("s => [Number(s.value), Number(s.min), Number(s.max)]")
            if (key, value) in (("ArrowRight", high), ("ArrowLeft", low)):  # at the end: turn round
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
            done = widget.evaluate("el => el.__latencies.length")
            slider.press(key)
            page.page.wait_for_function(f"el => el.__latencies.length > {done}", arg=widget.element_handle(),
                                        timeout=5000)
            page.page.wait_for_timeout(pause(50))
    return widget.evaluate("el => el.__latencies")[-events:]


def time_prior(page, cell, events):
    """10's prior switcher: the arrow key on its radio group, one press at a time, round and round the priors."""
    widget = cell.locator(".vae-prior-switch").first
    widget.scroll_into_view_if_needed()
    for _ in range(events):
        done = widget.evaluate("el => el.__latencies.length")
        widget.locator("[role='radio'][aria-checked='true']").press("ArrowRight")
        page.page.wait_for_function(f"el => el.__latencies.length > {done}", arg=widget.element_handle(), timeout=5000)
        page.page.wait_for_timeout(pause(50))
    return widget.evaluate("el => el.__latencies")[-events:]


def settled_box(page, widget):
    """The widget's first canvas on screen, after the cells around it have been rendered: with Lab's default
    windowing (content-visibility) the cells scrolled past only now get their real heights, and move it."""
    for _ in range(3):
        widget.scroll_into_view_if_needed()
        page.page.wait_for_timeout(300)
    return widget.locator("canvas").first.bounding_box()


def time_map(page, cell, events, kind="map"):
    widget = cell.locator(f".vae-touch-{kind}").first
    box = settled_box(page, widget)
    for step in range(events):  # a slow diagonal sweep
        t = step / max(1, events - 1)
        page.page.mouse.move(box["x"] + box["width"] * (0.15 + 0.7 * t), box["y"] + box["height"] * (0.2 + 0.6 * t))
        page.page.wait_for_timeout(pause(50))
    page.page.wait_for_timeout(200)
    return widget.evaluate("el => el.__latencies")[-events:]


def time_draw(page, cell, events, kind="draw"):
    widget = cell.locator(f".vae-touch-{kind}").first
    widget.locator("button:has-text('Clear')").click()
    box = settled_box(page, widget)
    page.page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.15 * box["height"])
    page.page.mouse.down()
    for step in range(events):  # a stroke down the pad
        t = (step + 1) / events
        page.page.mouse.move(box["x"] + box["width"] * (0.5 - 0.2 * t), box["y"] + box["height"] * (0.15 + 0.7 * t))
        page.page.wait_for_timeout(pause(30))
    page.page.mouse.up()
    page.page.wait_for_timeout(200)
    return widget.evaluate("el => el.__latencies")[-events:]


TIMERS = {"slider": time_slider, "page": time_page, "prior": time_prior, "map": time_map, "draw": time_draw,
          "complete": lambda page, cell, events: time_draw(page, cell, events, "complete"),  # 11: a stroke on the pad
          "ask": lambda page, cell, events: time_map(page, cell, events, "ask")}  # 11: a sweep over the style plane
JITTER = random.Random(0)


def pause(milliseconds):
    """`milliseconds` plus up to one frame (1/60 s) at random: evenly spaced events would meet the screen's frames
    at one phase only, and the wait for the next frame (0 to 17 ms) would be the same for all of them."""
    return milliseconds + JITTER.uniform(0, 1000 / 60)


def measure(browser, server, notebooks, events):
    rows = []
    for name in notebooks:
        page = NotebookPage(browser, server, name)
        page.run_all()
        for label, cell, kind in widget_cells(page):
            times = TIMERS[kind](page, cell, events)
            budget = KERNEL_BUDGET_MS if kind == "slider" else IN_PAGE_BUDGET_MS
            median, p95 = statistics.median(times), float(np.percentile(times, 95))
            rows.append({"notebook": name[:2], "widget": label, "kind": kind, "events": len(times),
                         "median": median, "p95": p95, "over": median > budget[0] or p95 > budget[1]})
            print(f"{name[:2]} {label[:60]:60s} {kind:6s} {median:6.1f} {p95:6.1f}{'  over budget' if rows[-1]['over'] else ''}",
                  flush=True)
        page.close()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--only", nargs="*", help="notebook numbers, e.g. 05 07")
    parser.add_argument("--binder-box", action="store_true", help="JupyterLab inside a 1-CPU, 2 GB cgroup (root)")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("bench_browser.py needs Debian's chromium: apt-get install chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    notebooks = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                       if any(call in path.read_text() for call in ("explorer(", "explorers.touch",
                                                                    "explorers.conditional")))
    notebooks = [name for name in notebooks if not args.only or name[:2] in args.only]
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        root, home = Path(folder) / "root", Path(folder) / "home"
        root.mkdir()
        home.mkdir()
        for name in notebooks:  # copies: JupyterLab autosaves outputs into the file it opens
            (root / name).write_bytes((ROOT / "notebooks" / name).read_bytes())
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)  # outside any box
        hooks = {HOOKS_VARIABLE: "1"}  # the in-page widgets time every input event only when asked
        if args.binder_box:
            with (BinderBox(cpus=1.0, memory_bytes=BOX_MEMORY_BYTES),
                  LabServer(root, home, windowing="contentVisibility", environment=hooks) as server):
                rows = measure(browser, server, notebooks, args.events)
        else:
            with LabServer(root, home, windowing="contentVisibility", environment=hooks) as server:
                rows = measure(browser, server, notebooks, args.events)
        browser.close()
    over = [f"{row['notebook']} {row['widget']}" for row in rows if row["over"]]
    verdict = (f"Budgets (median, 95th percentile): {IN_PAGE_BUDGET_MS[0]} and {IN_PAGE_BUDGET_MS[1]} ms in the page, "
               f"{KERNEL_BUDGET_MS[0]} and {KERNEL_BUDGET_MS[1]} ms through the kernel; over budget: "
               f"{', '.join(over) or 'none'}")
    print(verdict)
    if args.only:
        return 1 if over else 0
    where = ("JupyterLab and its kernels inside the Binder-like box of bench_notebooks.py (1-CPU quota, 2 GB), "
             "Chromium outside it" if args.binder_box else "JupyterLab, its kernels and Chromium on this machine")
    write_section("browser-box" if args.binder_box else "browser",
                  "Widgets in the browser" + (", inside the Binder-like box" if args.binder_box else ""), [
        f"`benchmarks/bench_browser.py --events {args.events}{' --binder-box' if args.binder_box else ''}`: {where}. "
        "Every widget of the series driven by real input events in headless Chromium, one event at a time: key "
        "presses on the first slider of each kernel-backed widget (timed from the keydown event's own timestamp to "
        "the animation frame after the new figure was decoded and drawn on its canvas), key presses on every slider "
        "of each figure computed in the page (an equal share of the events each; timed by the widget, from the "
        "input event's timestamp to the animation frame after its canvases were drawn), the arrow key on 10's prior "
        "switcher (timed the same way), mouse moves over the map and one stroke on the "
        "drawing canvas of the in-page widgets (timed by the widget, from the pointer event's timestamp to the "
        "animation frame after its canvases were drawn). JupyterLab runs as `make lab` runs it, with the kernel "
        "connection of series_tools/lab_server.py, and with its default notebook windowing (contentVisibility), "
        "as learners get it. Milliseconds; median and 95th percentile per widget.", "",
        "| notebook | widget | driven by | events | median ms | p95 ms |", "|---|---|---|---:|---:|---:|",
        *[f"| {row['notebook']} | `{row['widget']}` | {'keys' if row['kind'] in ('slider', 'page', 'prior') else 'mouse'} | "
          f"{row['events']} | {row['median']:.1f} | {row['p95']:.1f} |" for row in rows], "", verdict + "."])
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
