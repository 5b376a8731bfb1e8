# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)
# dg runs in the project's virtual environment as if it were activated.
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install demo test dev lint check-config

$(BIN)/dg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/dg

install: $(BIN)/dg

demo: install  ## run the nightly job end to end on the built-in demo
	$(BIN)/dg launch --job nightly_scorecard

test: install  ## run the test suite
	$(BIN)/python -m pytest -q

dev: install  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/dg dev

lint: install
	$(BIN)/ruff format --check . && $(BIN)/ruff check .

check-config: install
	$(BIN)/itsm-scorecard check-config
