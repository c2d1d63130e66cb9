"""Import time of vae_helpers beyond torch's own, each a median over fresh interpreters.

    .venv/bin/python benchmarks/bench_import.py [--repeats 7]

Three figures, each measured in a new Python process (so nothing is cached in memory but the operating system's
file cache, warmed by one untimed run): `import torch` alone; then, with torch already imported, `import
vae_helpers` (submodules load on first use, so this is the package's own cost); and every submodule a notebook may
touch (vh.data ... vh.explorers, which bring matplotlib, seaborn and ipywidgets; not series_tools, the
maintainers' tools, which bring nbformat and Sphinx). Budget for the package itself: 0.1 s.
"""

import argparse
import statistics
import subprocess
import sys

from results import write_section

PACKAGE_BUDGET_S = 0.1
PROBE = """
import time
start = time.perf_counter()
import torch
after_torch = time.perf_counter()
import vae_helpers as vh
after_package = time.perf_counter()
for name in vh.SUBMODULES:
    getattr(vh, name)
done = time.perf_counter()
print(after_torch - start, after_package - after_torch, done - after_package)
"""


def measure_once():
    output = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout
    return [float(value) for value in output.split()]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    measure_once()  # warm the file cache
    runs = [measure_once() for _ in range(args.repeats)]
    torch_s, package_s, submodules_s = (statistics.median(column) for column in zip(*runs))
    verdict = (f"budget: {PACKAGE_BUDGET_S} s for `import vae_helpers`; "
               f"{'held' if package_s <= PACKAGE_BUDGET_S else 'MISSED'}")
    print(f"import torch: {torch_s:.3f} s; import vae_helpers after it: {package_s * 1000:.1f} ms; "
          f"all submodules after that: {submodules_s:.3f} s\n{verdict}")
    write_section("imports", "Import time", [
        f"`benchmarks/bench_import.py --repeats {args.repeats}`: median over {args.repeats} fresh interpreters.", "",
        "| what is imported | seconds |", "|---|---:|",
        f"| `import torch` (for comparison) | {torch_s:.3f} |",
        f"| `import vae_helpers`, torch already imported | {package_s:.4f} |",
        f"| then every submodule a notebook may use (`vh.data` … `vh.explorers`, with matplotlib, seaborn, ipywidgets) | {submodules_s:.3f} |",
        "", verdict + "."])
    return 0 if package_s <= PACKAGE_BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
