"""The house: vae_helpers holds what the notebooks import, and none of what builds the book site or serves the lab."""

import ast
import json
import subprocess
import sys

from vae_helpers import training
from vae_helpers.config import REPO_ROOT

TOOLING = ("sphinx", "docutils", "myst_nb", "jupyter_server", "series_tools")


def imported_names(path):
    """The top-level names of every module `path` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_of_vae_helpers_imports_the_book_or_server_tooling():
    offenders = {str(path.relative_to(REPO_ROOT)): sorted(imported_names(path) & set(TOOLING))
                 for path in sorted((REPO_ROOT / "vae_helpers").rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_importing_every_module_of_vae_helpers_loads_none_of_the_tooling():
    # What the source does not name, a dependency could still import: import everything and look.
    script = ("import importlib, json, pkgutil, sys, vae_helpers\n"
              "for info in pkgutil.walk_packages(vae_helpers.__path__, 'vae_helpers.'):\n"
              "    importlib.import_module(info.name)\n"
              f"print(json.dumps(sorted({{name.split('.')[0] for name in sys.modules}} & set({list(TOOLING)}))))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    assert json.loads(loaded.stdout) == []


def test_no_notebook_imports_the_tooling():
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
                         if cell["cell_type"] == "code")
        assert not any(name in code for name in TOOLING), path.name


def test_the_recipe_defaults_are_fits_own():
    # FIT_DEFAULTS is read from fit's signature: a changed default changes every recipe (and tests/test_pretrained.py
    # then refuses the shipped checkpoints' records), never silently only one of the two.
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(training.fit).parameters.items()
                if p.default is not inspect.Parameter.empty}
    assert training.FIT_DEFAULTS == {name: defaults[name] for name in training.FIT_DEFAULTS}
    assert set(training.FIT_DEFAULTS) == {"num_epochs", "batch_size", "lr", "beta", "seed", "binarize", "dequantize",
                                          "patience", "kl_warmup_epochs", "free_bits"}
