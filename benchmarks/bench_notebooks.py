"""Run time and peak memory of every notebook, executed top to bottom on a fresh kernel with default settings.

    .venv/bin/python benchmarks/bench_notebooks.py [--only 05 06]

Peak memory is the kernel process's high-water mark of resident memory (VmHWM in /proc, Linux only), read just
before the kernel shuts down. Budgets: each notebook under 90 s and 1 GB; the whole series under 6 minutes.
"""

import argparse
import os
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
    parser.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 05 06")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "agg")
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [path for path in paths if path.name[:2] in args.only]
    total, rows = 0.0, []
    for path in paths:
        seconds, peak = run_notebook(path)
        total += seconds
        over = seconds > NOTEBOOK_SECONDS_BUDGET or peak > MEMORY_MB_BUDGET
        rows.append((path.name, seconds, peak))
        print(f"{path.name:48s} {seconds:6.1f} s {peak:7.0f} MB{'  over budget' if over else ''}", flush=True)
    print(f"{'whole series':48s} {total:6.1f} s{'  over budget' if total > SERIES_SECONDS_BUDGET else ''}")
    if not args.only:
        write_section("notebooks", "Notebook run time and memory", [
            "`benchmarks/bench_notebooks.py`: each notebook executed top to bottom on a fresh kernel with default "
            "settings (shipped checkpoints loaded); peak memory is the kernel's resident high-water mark.", "",
            "| notebook | seconds | peak MB |", "|---|---:|---:|",
            *[f"| {name} | {seconds:.1f} | {peak:.0f} |" for name, seconds, peak in rows],
            f"| whole series | {total:.1f} | |", "",
            f"Budgets: {NOTEBOOK_SECONDS_BUDGET} s and {MEMORY_MB_BUDGET} MB per notebook, {SERIES_SECONDS_BUDGET} s for the series."])
    return rows, total


if __name__ == "__main__":
    main()
