# Covenant — the README's two commands (demo, test) and the everyday ones.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: help demo serve test lint format migrate install clean i18n e2e test-faults fuzz scale-test bench

help:
	@echo "make demo     set up, migrate the SQLite database, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test     set up and run the whole test suite"
	@echo "make lint     ruff, mypy, import contracts, migrations in step with the models"
	@echo "make migrate  apply migrations to the configured database"
	@echo "make e2e      real-browser journeys and accessibility checks (Debian's chromium)"
	@echo "make test-faults  kill and stop real processes and services, check nothing is lost"
	@echo "make fuzz     schemathesis against every JSON route, many examples"
	@echo "make scale-test   2 web, 2 workers, 2 relays as processes on PostgreSQL + Redis, with kills"
	@echo "make bench    the benchmark suite, results under benchmarks/results/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Covenant needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/covenant db upgrade

demo: install
	$(BIN)/covenant db upgrade
	$(BIN)/covenant demo
	$(BIN)/covenant serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/covenant serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check platform modules tests migrations
	$(BIN)/ruff format --check platform modules tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	@tmp=$$(mktemp -d); COVENANT_DATABASE_URL= COVENANT_VAR_DIR=$$tmp $(BIN)/covenant db upgrade >/dev/null \
	  && COVENANT_DATABASE_URL= COVENANT_VAR_DIR=$$tmp $(BIN)/covenant db check; rc=$$?; rm -rf $$tmp; exit $$rc

e2e: install
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

test-faults: install
	$(BIN)/python -m pytest -m faults tests/faults $(PYTEST_ARGS)

fuzz: install
	COVENANT_FUZZ_EXAMPLES=$${COVENANT_FUZZ_EXAMPLES:-300} $(BIN)/python -m pytest tests/platform/security/test_api_fuzz.py $(PYTEST_ARGS)

scale-test: install
	$(BIN)/python scripts/scale_test.py

bench: install
	@command -v wrk >/dev/null || (echo "bench: installing wrk (Debian)" && apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null) || echo "bench: could not install wrk; install it (apt-get install wrk)"
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

format: install
	$(BIN)/ruff format platform modules tests
	$(BIN)/ruff check --fix platform modules tests

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

i18n: install
	$(BIN)/python scripts/i18n.py
