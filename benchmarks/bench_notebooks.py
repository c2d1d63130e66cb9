"""Run time and peak memory of every notebook, executed top to bottom on a fresh kernel with default settings.

    .venv/bin/python benchmarks/bench_notebooks.py [--repeats 3] [--only 05 06]

The series is run --repeats times; each notebook's time is the median of its runs, the series' time the median
of the runs' totals. Peak memory is the kernel process's high-water mark of resident memory (VmHWM in /proc,
Linux only), read just before the kernel shuts down; the largest over the runs is reported. Budgets: each notebook under 90 s and 1 GB; the whole series under 6 minutes.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from results import write_section

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_SECONDS_BUDGET, SERIES_SECONDS_BUDGET, MEMORY_MB_BUDGET = 90, 360, 1024


def kernel_peak_mb(client):
    """High-water mark of the kernel's resident memory in MB, or nan where /proc is not available."""
    try:
        pid = client.km.provisioner.process.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (AttributeError, OSError):
        pass
    return float("nan")


def run_notebook(path):
    """Execute `path` in notebooks/; return (seconds, peak MB)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        peak = kernel_peak_mb(client)
    return time.perf_counter() - start, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the series (medians are reported)")
    parser.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 05 06")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "agg")
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [path for path in paths if path.name[:2] in args.only]
    runs = {path.name: [] for path in paths}  # name -> [(seconds, peak MB)] over repeats
    for repeat in range(1, args.repeats + 1):
        for path in paths:
            seconds, peak = run_notebook(path)
            runs[path.name].append((seconds, peak))
            print(f"run {repeat}: {path.name:48s} {seconds:6.1f} s {peak:7.0f} MB", flush=True)
    rows, over = [], []
    for name, results in runs.items():
        seconds, peak = statistics.median(s for s, _ in results), max(p for _, p in results)
        rows.append((name, seconds, peak))
        if seconds > NOTEBOOK_SECONDS_BUDGET or peak > MEMORY_MB_BUDGET:
            over.append(name)
    total = statistics.median(sum(results[repeat][0] for results in runs.values()) for repeat in range(args.repeats))
    if total > SERIES_SECONDS_BUDGET:
        over.append("whole series")
    for name, seconds, peak in rows:
        print(f"{name:48s} {seconds:6.1f} s {peak:7.0f} MB")
    verdict = (f"Budgets: {NOTEBOOK_SECONDS_BUDGET} s and {MEMORY_MB_BUDGET} MB per notebook, "
               f"{SERIES_SECONDS_BUDGET} s for the series; over budget: {', '.join(over) or 'none'}")
    print(f"{'whole series':48s} {total:6.1f} s\n{verdict}")
    if not args.only:
        write_section("notebooks", "Notebook run time and memory", [
            f"`benchmarks/bench_notebooks.py --repeats {args.repeats}`: each notebook executed top to bottom on a "
            "fresh kernel with default settings (shipped checkpoints loaded); seconds are medians over the runs, "
            "peak memory is the kernel's largest resident high-water mark.", "",
            "| notebook | seconds | peak MB |", "|---|---:|---:|",
            *[f"| {name} | {seconds:.1f} | {peak:.0f} |" for name, seconds, peak in rows],
            f"| whole series | {total:.1f} | |", "", verdict + "."])
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
