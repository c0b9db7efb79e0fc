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

# Labels the bundled sample export (300 messy postings) and explains one text.
demo: install
	mkdir -p out
	$(BIN)/mktsales label data/samples/postings.csv -o out/postings_labelled.csv \
		--text-column description --title-column title --id-column posting_id --jobs 2 --force
	$(BIN)/mktsales explain "Own the quarterly pipeline and close enterprise deals"

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

# Accuracy on public data, the O*NET label audit, the learning curve, the evaluation harness, speed. (Peak memory on a 1 GB CSV takes about
# 5 minutes: $(BIN)/python benchmarks/memory.py --size-mb 1000 --jobs 2)
bench: install
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/onet_audit.py
	$(BIN)/python benchmarks/learning_curve.py
	$(BIN)/python benchmarks/evaluate_harness.py
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/parallel.py

clean:
	rm -rf $(VENV) build dist out .pytest_cache .mypy_cache .ruff_cache
