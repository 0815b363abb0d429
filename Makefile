# Two commands a newcomer needs: `make check` (the main job, against the embedded
# sandbox) and `make test` (the whole suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: check test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

check: $(STAMP)
	env -u SAKARI_BASE_URL $(BIN)/sakari-contract check

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_strategies.py

clean:
	rm -rf $(VENV) reports/latest reports/contract
