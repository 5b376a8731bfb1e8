# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Run history, schedules and the UI's state live under data/dagster, whatever the working directory.
export DAGSTER_HOME := $(CURDIR)/data/dagster
# dg runs in the project's virtual environment as if it were activated.
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install demo test dev lint check-config

$(BIN)/dg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/dg

# The instance reads $DAGSTER_HOME/dagster.yaml: a link, so edits to dagster.yaml apply at once.
$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	ln -sf $(CURDIR)/dagster.yaml $@

install: $(BIN)/dg $(DAGSTER_HOME)/dagster.yaml

demo: install  ## run the nightly job end to end on the built-in demo
	$(BIN)/dg launch --job nightly_scorecard

# Tests make their own temporary DAGSTER_HOME and warehouses; they never touch data/.
test: install  ## run the test suite
	env -u DAGSTER_HOME $(BIN)/python -m pytest -q

dev: install  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/dg dev

lint: install
	$(BIN)/ruff format --check . && $(BIN)/ruff check .

check-config: install
	$(BIN)/itsm-scorecard check-config
