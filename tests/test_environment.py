"""pyproject.toml holds the tested versions; environment.yml (Binder) must list the same packages and versions."""

import re
import tomllib

import yaml

from vae_helpers.config import REPO_ROOT

# pip name -> conda-forge name, where they differ
CONDA_NAMES = {"torch": "pytorch-cpu"}
# conda-only entries that pip does not list
CONDA_ONLY = {"python", "pip"}


def pinned_pip_packages():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["dependencies"]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.]*)", requirement).groups()
        pins[CONDA_NAMES.get(name.lower(), name.lower())] = version
    return pins


def conda_packages():
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    packages = {}
    for entry in environment["dependencies"]:
        assert isinstance(entry, str), f"environment.yml should install nothing through pip, found {entry}"
        name, _, version = entry.partition("=")
        packages[name.lower()] = version
    return environment, packages


def test_every_runtime_dependency_is_pinned_exactly():
    assert "torch" not in {name for name in pinned_pip_packages()}  # mapped to its conda name
    assert pinned_pip_packages()["pytorch-cpu"] == "2.13.0"


def test_environment_yml_lists_the_same_packages_and_versions_as_pyproject():
    _, conda = conda_packages()
    listed = {name: version for name, version in conda.items() if name not in CONDA_ONLY}
    assert listed == pinned_pip_packages()


def test_environment_yml_uses_conda_forge_only_and_python_311():
    environment, conda = conda_packages()
    assert environment["channels"] == ["conda-forge"]
    assert not any("::" in name for name in conda), "a channel-prefixed package would need another channel"
    assert conda["python"] == "3.11"


def test_no_torchvision_anywhere():
    for name in ("pyproject.toml", "environment.yml", "Makefile", "postBuild"):
        assert "torchvision" not in (REPO_ROOT / name).read_text()
    for path in (REPO_ROOT / "vae_helpers").glob("*.py"):
        assert "torchvision" not in path.read_text(), path


def test_binder_installs_vae_helpers_without_touching_condas_packages():
    post_build = REPO_ROOT / "postBuild"
    assert post_build.stat().st_mode & 0o111, "repo2docker runs postBuild only if it is executable"
    commands = [line for line in post_build.read_text().splitlines() if line and not line.startswith("#")]
    install = [line for line in commands if "pip install" in line]
    assert install and all("--no-deps" in line and "-e ." in line for line in install), install


def test_every_way_of_starting_jupyterlab_uses_the_no_delay_kernel_connection():
    """make lab, Binder's postBuild and the browser tests: the widget timings in benchmarks/ hold for all three."""
    from series_tools.lab_server import NoDelayKernelConnection, SERVER_FLAG

    class_path = SERVER_FLAG.split("=", 1)[1]
    assert class_path == f"{NoDelayKernelConnection.__module__}.{NoDelayKernelConnection.__name__}"
    assert SERVER_FLAG in (REPO_ROOT / "Makefile").read_text().replace("\\\n\t  ", "")
    assert f"kernel_websocket_connection_class = '{class_path}'" in (REPO_ROOT / "postBuild").read_text()
    assert "SERVER_FLAG" in (REPO_ROOT / "tests" / "browser" / "lab.py").read_text()
