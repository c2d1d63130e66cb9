"""How long `make html` takes: the book site built from nothing, and rebuilt after a change to prose.

    .venv/bin/python benchmarks/bench_book.py [--full-repeats 1] [--prose-repeats 3]

Each build runs `python -m series_tools.book --quiet` in a new process, as `make html` does, over a copy of
notebooks/ and with its own empty build folder (the repository's build/ is left alone). From nothing: every notebook
is executed and its outputs cached. After a change to prose: one sentence appended to a markdown cell of a different
notebook each time; the build must take its outputs from the cache (checked: the cache holds no new record).
Seconds are medians over the runs. Budgets: 300 s from nothing, 30 s after a change to prose.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_cache import get_cache

from results import write_section

from series_tools import book, series

FULL_BUDGET_S = 300
PROSE_BUDGET_S = 30


def timed_build(work):
    """Seconds of one `python -m series_tools.book` over work/notebooks, into work/html."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "series_tools.book", "--quiet", "--output", str(work / "html"),
                    "--book-dir", str(work / "book"), "--notebooks", str(work / "notebooks")],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cached_records(work):
    return len(get_cache(book.cache_dir(work / "book")).list_cache_records())


def edit_prose(notebook_path, number):
    """Append a sentence to the first markdown cell after the title: a change to prose only."""
    notebook = nbformat.read(notebook_path, as_version=4)
    cell = next(cell for cell in notebook.cells[1:] if cell.cell_type == "markdown")
    cell.source += f"\n\nA sentence added by benchmarks/bench_book.py ({number})."
    nbformat.write(notebook, notebook_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-repeats", type=int, default=1)
    parser.add_argument("--prose-repeats", type=int, default=3)
    args = parser.parse_args()
    full, prose = [], []
    for _ in range(args.full_repeats):
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            shutil.copytree(series.NOTEBOOK_DIR, work / "notebooks")
            full.append(timed_build(work))
            print(f"from nothing: {full[-1]:.1f} s", flush=True)
            records = cached_records(work)
            for number in range(args.prose_repeats):
                stem = series.SERIES[1 + number % (len(series.SERIES) - 1)][0]
                edit_prose(work / "notebooks" / f"{stem}.ipynb", number)
                prose.append(timed_build(work))
                assert cached_records(work) == records, f"a change to the prose of {stem} executed it again"
                print(f"after a change to the prose of {stem}: {prose[-1]:.1f} s", flush=True)
    full_s, prose_s = statistics.median(full), statistics.median(prose)
    held = full_s <= FULL_BUDGET_S and prose_s <= PROSE_BUDGET_S
    verdict = (f"budgets: {FULL_BUDGET_S} s from nothing, {PROSE_BUDGET_S} s after a change to prose; "
               f"{'held' if held else 'MISSED'}")
    print(verdict)
    write_section("book", "Book site build time", [
        f"`benchmarks/bench_book.py --full-repeats {args.full_repeats} --prose-repeats {args.prose_repeats}`: "
        "`python -m series_tools.book --quiet` (what `make html` runs) in a new process over a copy of notebooks/, "
        "into an empty build folder; then, after a sentence is appended to a markdown cell of one notebook (a "
        "different one each time), again, taking every output from the cache (no notebook executed). Seconds, "
        "median over the runs.", "",
        "| build | runs | seconds |", "|---|---:|---:|",
        f"| from nothing (every notebook executed) | {len(full)} | {full_s:.0f} |",
        f"| after a change to prose | {len(prose)} | {prose_s:.1f} |",
        "", verdict + "."])
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
