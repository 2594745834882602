# The whole set-up on a fresh machine: `make run` and `make test` (each creates .venv first).
# Debian's python3.11 is built with PGO and LTO: it runs this code about a third faster than a
# plain source build such as pyenv's. Use it when it is there.
PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || echo python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (or set PYTHON=python3)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); python3.11 -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/hub run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check core hub plugins tests bench docs/examples
	$(BIN)/ruff format --check core hub plugins tests bench docs/examples
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m hub.licences >/dev/null

format: $(STAMP)
	$(BIN)/ruff check --fix core hub plugins tests bench
	$(BIN)/ruff format core hub plugins tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
