# Two commands for a new machine (see README):  make demo   and   make test
# Both create ./.venv with a Python >= 3.12 on first use; later runs reuse it.

VENV    := .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
EXTRAS  ?= test

.PHONY: demo test lint setup clean-venv benchmark benchmark-sweep benchmark-game docs lab notebooks

$(PY):
	"$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install when the project's dependencies change.
$(VENV)/.installed-$(EXTRAS): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

setup: $(VENV)/.installed-$(EXTRAS)

demo: setup
	$(BIN)/procsim run procurement_squeeze

test: setup
	$(PY) -m pytest

# ruff's rule set and formatter (configured in pyproject.toml); CI runs this before the tests.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

benchmark: setup
	$(PY) benchmarks/bench_model.py

benchmark-sweep: setup
	$(PY) benchmarks/bench_sweep.py

# A 40-person room game (20 team devices at 10 tables) against `procsim game`.
benchmark-game: setup
	$(PY) benchmarks/bench_game.py

# JupyterLab on the notebooks (installs the notebooks extra first); options after LAB_ARGS=,
# e.g. make lab LAB_ARGS="--port 8899 --no-browser". Stop it with Ctrl-C.
LAB_EXTRAS ?= notebooks
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab:
	$(MAKE) setup EXTRAS=$(LAB_EXTRAS)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

# Run every notebook top to bottom and save it with its outputs (as committed).
notebooks:
	$(MAKE) setup EXTRAS=$(LAB_EXTRAS)
	$(PY) scripts/run_notebooks.py

docs: setup
	$(PY) -m sim.inputs.schema_doc > docs/scenarios.md

clean-venv:
	rm -rf $(VENV)
