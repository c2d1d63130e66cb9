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

.PHONY: lab test bench html browser-deps clean-venv

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -e ".[test,book]"
	touch $@

# The kernel connection class sends widget replies without Nagle's 40 ms delay (series_tools/lab_server.py).
lab: $(BIN)/.installed
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(LAB_PORT) $(ROOT_FLAG) $(LAB_ARGS) \
	  --ServerApp.kernel_websocket_connection_class=series_tools.lab_server.NoDelayKernelConnection

# The browser tests drive JupyterLab in Debian's chromium (never a downloaded browser). Installed here when we
# are root; otherwise the browser tests are skipped with a message (in CI they fail instead).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: browser tests will be skipped (install Debian's chromium package)"; fi; }

test: $(BIN)/.installed browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The series as a book site in build/html/ (git-ignored): every notebook executed, for reading without a kernel.
# Executed outputs are cached in build/book/, so a rebuild after a prose change takes seconds (series_tools/book.py).
html: $(BIN)/.installed
	$(BIN)/python -m series_tools.book

# Speed, memory, model quality against the peer, the collapse fixes, the remedies and the conditional models over seeds, written to benchmarks/RESULTS.md (well over an hour on 2
# cores; not part of the tests); as root also the series and the widgets inside a Binder-like box (1 CPU, 2 GB). Every script runs even when one misses its budget; then make fails at the end.
# The README's run-time column is restamped from the new figures.
# The tuning scripts are not part of it: benchmarks/tune_conv.py chose the conv VAE's widths (run it by hand when the
# architecture changes, then retrain the checkpoints with python -m vae_helpers.pretrained), and
# benchmarks/tune_training.py chooses every compared model's learning rate and batch size for bench_quality.py
# (benchmarks/tuning.json; run it by hand when a compared model changes).
BENCHMARKS := bench_import bench_training bench_widgets bench_browser bench_notebooks bench_book bench_quality bench_collapse bench_remedies bench_conditional
bench: $(BIN)/.installed
	@status=0; for script in $(BENCHMARKS); do \
	  echo "== benchmarks/$$script.py"; $(BIN)/python benchmarks/$$script.py || status=1; done; \
	  if [ "$$(id -u)" = 0 ]; then echo "== benchmarks/bench_notebooks.py --binder-box"; \
	    $(BIN)/python benchmarks/bench_notebooks.py --binder-box || status=1; \
	    echo "== benchmarks/bench_browser.py --binder-box"; \
	    $(BIN)/python benchmarks/bench_browser.py --binder-box || status=1; \
	  else echo "skipped the Binder box (bench_notebooks.py --binder-box makes cgroups, which needs root)"; fi; \
	  $(BIN)/python -m series_tools.series; \
	  test $$status = 0 || { echo "a benchmark missed its budget: see above and benchmarks/RESULTS.md"; exit 1; }

clean-venv:
	rm -rf $(VENV)
