# mktsales: every target sets up what it needs. Quick start: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps-installed
PIP    := $(BIN)/python -m pip

.PHONY: install demo test lint typecheck unit train bench clean

$(DEPS): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt hatchling
	$(PIP) install --quiet -c constraints.txt --no-build-isolation ".[all,dev]"
	touch $@

# The package is installed as a wheel (not editable), so tests see exactly what users get.
install: $(DEPS)
	$(PIP) install --quiet --no-deps --no-build-isolation --force-reinstall .

demo: install
	$(BIN)/mktsales explain "Own the quarterly pipeline and close enterprise deals"
	$(BIN)/mktsales explain "Plan the annual brand campaign and commission consumer research"

lint: $(DEPS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEPS)
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest

test: lint typecheck unit

train: install
	$(BIN)/mktsales train --data data/corpus --out models
	$(PIP) install --quiet --no-deps --no-build-isolation --force-reinstall .

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist out .pytest_cache .mypy_cache .ruff_cache
