"""Run time and peak memory of every notebook, executed top to bottom on a fresh kernel with default settings.

    .venv/bin/python benchmarks/bench_notebooks.py [--repeats 3] [--only 05 06] [--binder-box]

The series is run --repeats times; each notebook's time is the median of its runs, the series' time the median
of the runs' totals. Peak memory is the kernel process's high-water mark of resident memory (VmHWM in /proc,
Linux only), read just before the kernel shuts down; the largest over the runs is reported. Budgets: each
notebook under 90 s and 1 GB; the whole series under 6 minutes.

--binder-box runs the series the way Binder runs it: inside a cgroup (v1) with a CPU quota of one CPU and a 2 GB
memory limit, which this script creates (as root), enters, and removes again when it is done or fails. Every
kernel starts inside it. Besides the kernel's own peak it reports the box's peak memory (memory.max_usage_in_bytes,
reset before each notebook), the seconds the box was throttled, and the torch threads the setup cell chose.
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from results import write_section

from binder_box import BinderBox

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_SECONDS_BUDGET, SERIES_SECONDS_BUDGET, MEMORY_MB_BUDGET = 90, 360, 1024
BOX_MEMORY_BYTES = 2 * 1024**3  # Binder's limit


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


def setup_threads(notebook):
    """The torch thread count that the setup cell printed ("... · 1 CPU thread"), or None."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            found = re.search(r"· (\d+) CPU threads?", output.get("text", ""))
            if found:
                return int(found.group(1))
    return None


def run_notebook(path):
    """Execute `path` in notebooks/; return (seconds, peak MB, torch threads of the setup cell)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        peak = kernel_peak_mb(client)
    return time.perf_counter() - start, peak, setup_threads(notebook)


def measure(paths, repeats, box=None):
    """{notebook name: [run, ...]} over `repeats` runs of `paths`; a run is a dict of what was measured."""
    runs = {path.name: [] for path in paths}
    for repeat in range(1, repeats + 1):
        for path in paths:
            if box is not None:
                box.reset_peak_memory()
                throttled_before = box.throttled_seconds()
            seconds, peak, threads = run_notebook(path)
            run = {"seconds": seconds, "peak": peak, "threads": threads}
            if box is not None:
                run |= {"box_peak": box.peak_memory_mb(), "throttled": box.throttled_seconds() - throttled_before}
            runs[path.name].append(run)
            print(f"run {repeat}: {path.name:48s} {seconds:6.1f} s {peak:7.0f} MB, torch threads {threads}"
                  + (f", box peak {run['box_peak']:.0f} MB, throttled {run['throttled']:.1f} s" if box else ""),
                  flush=True)
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the series (medians are reported)")
    parser.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 05 06")
    parser.add_argument("--binder-box", action="store_true",
                        help="run inside a cgroup with a 1-CPU quota and a 2 GB memory limit (needs root)")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "agg")
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [path for path in paths if path.name[:2] in args.only]
    if args.binder_box:
        with BinderBox(cpus=1.0, memory_bytes=BOX_MEMORY_BYTES) as box:
            runs = measure(paths, args.repeats, box)
    else:
        runs = measure(paths, args.repeats)
    rows, over = [], []
    for name, results in runs.items():
        row = {"name": name, "seconds": statistics.median(run["seconds"] for run in results),
               "peak": max(run["peak"] for run in results), "threads": sorted({run["threads"] for run in results},
                                                                             key=str)}
        if args.binder_box:
            row |= {"box_peak": max(run["box_peak"] for run in results),
                    "throttled": statistics.median(run["throttled"] for run in results)}
        rows.append(row)
        if row["seconds"] > NOTEBOOK_SECONDS_BUDGET or max(row["peak"], row.get("box_peak", 0)) > MEMORY_MB_BUDGET:
            over.append(name)
    total = statistics.median(sum(results[repeat]["seconds"] for results in runs.values())
                              for repeat in range(args.repeats))
    if total > SERIES_SECONDS_BUDGET:
        over.append("whole series")
    for row in rows:
        print(f"{row['name']:48s} {row['seconds']:6.1f} s {row['peak']:7.0f} MB")
    verdict = (f"Budgets: {NOTEBOOK_SECONDS_BUDGET} s and {MEMORY_MB_BUDGET} MB per notebook, "
               f"{SERIES_SECONDS_BUDGET} s for the series; over budget: {', '.join(over) or 'none'}")
    print(f"{'whole series':48s} {total:6.1f} s\n{verdict}")
    if args.only:
        return 1 if over else 0
    if args.binder_box:
        write_section("binder-box", "Notebooks inside a Binder-like box (1 CPU, 2 GB)", [
            f"`benchmarks/bench_notebooks.py --binder-box --repeats {args.repeats}` (as root): the series run inside "
            "a cgroup v1 made for the run, with a CPU quota of one CPU (cpu.cfs_quota_us = cpu.cfs_period_us = "
            f"100000) and a memory limit of {BOX_MEMORY_BYTES / 2**30:.0f} GB, as Binder gives a user; the box "
            "holds the benchmark process and so every kernel it starts, and is removed afterwards. Each notebook "
            "executed top to bottom on a fresh kernel with default settings. Seconds are medians over the runs; "
            "kernel peak is the kernel's resident high-water mark, box peak the box's memory.max_usage_in_bytes "
            "(reset before each notebook; it also counts the page cache the kernel reads); throttled is how long "
            "the quota held the box's threads back (cpu.stat, median); threads is what the setup cell set torch "
            "to (vh.cpus.set_torch_threads: the quota allows one CPU).", "",
            "| notebook | seconds | kernel peak MB | box peak MB | throttled s | torch threads |",
            "|---|---:|---:|---:|---:|---:|",
            *[f"| {row['name'].removesuffix('.ipynb')} | {row['seconds']:.1f} | {row['peak']:.0f} | "
              f"{row['box_peak']:.0f} | {row['throttled']:.1f} | {', '.join(map(str, row['threads']))} |"
              for row in rows],
            f"| whole series | {total:.1f} | | | | |", "", verdict + "."])
    else:
        write_section("notebooks", "Notebook run time and memory", [
            f"`benchmarks/bench_notebooks.py --repeats {args.repeats}`: each notebook executed top to bottom on a "
            "fresh kernel with default settings (shipped checkpoints loaded); seconds are medians over the runs, "
            "peak memory is the kernel's largest resident high-water mark.", "",
            "| notebook | seconds | peak MB |", "|---|---:|---:|",
            *[f"| {row['name']} | {row['seconds']:.1f} | {row['peak']:.0f} |" for row in rows],
            f"| whole series | {total:.1f} | |", "", verdict + "."])
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
