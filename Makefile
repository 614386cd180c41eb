# cardbatch: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DB ?= demo.db
DEMO_DIR ?= out/demo
# Test processes (pytest-xdist); the e2e tests mostly wait on subprocesses and browsers.
TEST_WORKERS ?= 2

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## make demo: a synthetic bank on a fresh SQLite file, its batch work, and a ledger check.
demo: $(VENV)/.installed
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	rm -rf $(DEMO_DIR)
	$(BIN)/cardbatch --db sqlite:///$(DEMO_DB) demo --workdir $(DEMO_DIR)
	$(BIN)/cardbatch --db sqlite:///$(DEMO_DB) ledger check

## make test: ruff, mypy and the whole test suite (SQLite and PostgreSQL).
test: lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

## make bench: every benchmark at a size that takes about a minute; out/bench/report.json.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/unit

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache $(DEMO_DB)*
