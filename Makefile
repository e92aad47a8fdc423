# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint check-fresh clean

run: setup
	$(BIN)/telos db upgrade
	$(BIN)/telos journeys load
	$(BIN)/telos demo --if-empty
	$(BIN)/telos serve --with-worker

test: setup
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/mypy
	$(BIN)/pytest

setup: $(STAMP) node_modules/.package-lock.json

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) node_modules
