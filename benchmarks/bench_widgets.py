"""Time every widget of the series: seconds from a control's value change to the new image, per update.

    .venv/bin/python benchmarks/bench_widgets.py [--steps 25]

Each control of each kernel-backed explorer (a LiveFigure of vae_helpers.explorers.all_explorers; the figures
computed in the page are timed by bench_browser.py) is swept across `--steps` values of its range,
one change at a time, as a learner dragging it would; the median and 95th percentile of the update times are
printed. Budget: 50 ms median and 100 ms at the 95th percentile per widget.
"""

import argparse
import statistics
import sys

import ipywidgets as widgets
import numpy as np

from results import write_section

from vae_helpers.explorers import all_explorers, kinds
from vae_helpers.widgets import LiveFigure

MEDIAN_BUDGET_MS, P95_BUDGET_MS = 50, 100


def sweep_values(control, steps):
    if isinstance(control, (widgets.FloatSlider, widgets.IntSlider)):
        values = np.linspace(control.min, control.max, steps)
        return [int(round(v)) for v in values] if isinstance(control, widgets.IntSlider) else [float(v) for v in values]
    if isinstance(control, widgets.Checkbox):
        return [not control.value, control.value] * (steps // 2)
    return [option[1] if isinstance(option, tuple) else option for option in control.options]


def time_explorer(factory, steps):
    """Update times in milliseconds for every value change of every control, after the first draw."""
    live = factory()
    live.update_seconds.clear()
    for control in live.controls.values():
        for value in sweep_values(control, steps):
            control.value = value
    return [seconds * 1000 for seconds in live.update_seconds]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=25)
    args = parser.parse_args()
    failures, rows = [], []
    print(f"{'widget':40s} {'updates':>7s} {'median ms':>10s} {'p95 ms':>8s}")
    for name, factory in all_explorers().items():
        if not issubclass(kinds()[name], LiveFigure):  # computed in the page: timed by bench_browser.py only
            continue
        times = time_explorer(factory, args.steps)
        median, p95 = statistics.median(times), float(np.percentile(times, 95))
        flag = "" if median <= MEDIAN_BUDGET_MS and p95 <= P95_BUDGET_MS else "  over budget"
        print(f"{name:40s} {len(times):7d} {median:10.1f} {p95:8.1f}{flag}")
        rows.append(f"| `{name}` | {len(times)} | {median:.1f} | {p95:.1f} |")
        if flag:
            failures.append(name)
    verdict = f"budget: {MEDIAN_BUDGET_MS} ms median, {P95_BUDGET_MS} ms 95th percentile; over budget: {failures or 'none'}"
    print(verdict)
    write_section("widgets", "Widget update times", [
        f"`benchmarks/bench_widgets.py --steps {args.steps}`: every control of every widget swept across its range, "
        "one change at a time; time from the value change to the new PNG.", "",
        "| widget | updates | median ms | 95th percentile ms |", "|---|---:|---:|---:|", *rows, "", verdict + "."])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
