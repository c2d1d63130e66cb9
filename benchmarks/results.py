"""Each benchmark script owns one section of benchmarks/RESULTS.md and rewrites only that section."""

import os
import platform
import re
from datetime import date
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nWritten by `make bench` (the scripts in this folder, one section each); each section says when and where.\n"


def machine():
    """One line naming the processor, its vector instructions, cores and torch build, so figures from different machines are not mixed."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # The vector instructions matter: the same "AMD EPYC" runs convolutions several times faster with AVX-512.
    return (f"{name} ({torch.backends.cpu.get_cpu_capability()}), {os.cpu_count()} cores, torch {torch.__version__} "
            f"using {torch.get_num_threads()} threads")


def write_section(name, title, body_lines, day=None, machine_name=None):
    """Replace (or append) the section `name` of RESULTS.md with a dated heading and `body_lines`; day and
    machine_name default to today and this machine (a section rewritten from saved results passes theirs)."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    section = "\n".join([start, f"## {title}", "", f"Measured {day or date.today().isoformat()} on {machine_name or machine()}.", "",
                         *body_lines, end])
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")
