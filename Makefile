# `make lab` opens the series in JupyterLab; `make test` runs the whole test suite. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch goes in first, pinned: an unpinned torch would make pip fetch the multi-GB CUDA build.
TORCH_PIN := $(shell sed -nE 's/^ *"(torch==[^"]+)".*/\1/p' pyproject.toml)
# Another build of torch (CUDA, or the CPU build on a laptop): make lab TORCH_INDEX=<index URL from pytorch.org>
TORCH_INDEX ?=
LAB_PORT ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test bench clean-venv

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

lab: $(BIN)/.installed
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(LAB_PORT) $(ROOT_FLAG) $(LAB_ARGS)

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_training.py

clean-venv:
	rm -rf $(VENV)
