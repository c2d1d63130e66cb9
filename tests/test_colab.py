"""The series runs with Colab's package versions.

Colab opens a notebook with its own packages, and the setup cell puts a clone of the series on sys.path there,
installing nothing. So this test builds a venv with Colab's versions (tests/colab_requirements.txt), adds this
checkout to it with `pip install --no-deps -e` (the same import, without the clone), and executes every notebook on
a kernel of that venv, at smoke-test sizes (VAE_SMOKE_TEST=1: the same code on fewer digits and epochs; what is
tested here is that Colab's versions run it, and tests/test_notebooks.py checks the full runs' numbers).
The venv is kept in build/colab-venv and rebuilt only when the pins change (about 2 minutes on 2 cores).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from vae_helpers.config import REPO_ROOT

from .test_notebooks import NOTEBOOKS, execute

REQUIREMENTS = REPO_ROOT / "tests" / "colab_requirements.txt"
VENV = REPO_ROOT / "build" / "colab-venv"
KERNEL_NAME = "colab-like"

pytestmark = pytest.mark.colab


def pinned(text):
    """{package: version} of the `name==version` lines of a requirements text."""
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M))


def torch_pin():
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(pin for pin in dependencies if pin.startswith("torch=="))


def pip(python, *args):
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
                   check=True)


@pytest.fixture(scope="module")
def colab_python():
    """The Python of a venv with Colab's versions and this checkout's vae_helpers (installed without dependencies)."""
    python = VENV / "bin" / "python"
    stamp = hashlib.sha256(f"{sys.version}\n{torch_pin()}\n{REQUIREMENTS.read_text()}".encode()).hexdigest()
    marker = VENV / ".built"
    if not (python.exists() and marker.is_file() and marker.read_text() == stamp):
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        index = ["--index-url", os.environ["TORCH_INDEX"]] if os.environ.get("TORCH_INDEX") else []
        pip(python, *index, torch_pin())  # first and pinned, as the Makefile does: never the multi-GB CUDA build
        pip(python, "-r", str(REQUIREMENTS))
        marker.write_text(stamp)
    pip(python, "--no-deps", "-e", str(REPO_ROOT))  # vae_helpers importable, nothing else changed
    return python


@pytest.fixture(scope="module")
def colab_kernel(colab_python, tmp_path_factory):
    """A kernel spec that starts the Colab-like venv's Python; returns the folder to put on JUPYTER_PATH."""
    folder = tmp_path_factory.mktemp("colab-kernels")
    (folder / "kernels" / KERNEL_NAME).mkdir(parents=True)
    spec = {"argv": [str(colab_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python (Colab's versions)", "language": "python"}
    (folder / "kernels" / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec))
    return folder


def test_the_venv_has_colabs_versions_and_no_jupyterlab(colab_python):
    script = ("import json, importlib.metadata as m\n"
              "def v(name):\n"
              "    try: return m.version(name)\n"
              "    except m.PackageNotFoundError: return None\n"
              f"print(json.dumps({{n: v(n) for n in {[*pinned(REQUIREMENTS.read_text()), 'jupyterlab', 'torch']}}}))")
    installed = json.loads(subprocess.run([str(colab_python), "-c", script], check=True, capture_output=True,
                                          text=True).stdout)
    for package, version in pinned(REQUIREMENTS.read_text()).items():
        assert installed[package] == version, (package, installed[package])
    assert installed["jupyterlab"] is None
    assert installed["torch"].split("+")[0] == torch_pin().split("==")[1]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_with_colabs_versions(path, colab_kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [str(colab_kernel),
                                                                     os.environ.get("JUPYTER_PATH")])))
    monkeypatch.setenv("VAE_SMOKE_TEST", "1")
    notebook = execute(path, tmp_path, monkeypatch, kernel_name=KERNEL_NAME)
    if path.name.startswith("00"):  # the version check lists what Colab lacks instead of stopping
        text = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
        assert re.search(r"^jupyterlab\s+missing\s+<- tested with", text, re.M), text
        assert re.search(r"^ipywidgets\s+7\.7\.1\s+<- tested with", text, re.M), text
