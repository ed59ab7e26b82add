# SecureCloud Console. Needs only python3 (>= 3.11), git and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests and local runs must not need a real secret; production sets its own.
TEST_ENV := SECRET_KEY=test-only-insecure-key DEBUG=0
# pyproject.toml's direct dependencies: `runtime` ([project] dependencies) or `dev` (the dev extra).
DIRECT_DEPS = $(PYTHON) -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(" ".join(p["dependencies"] if sys.argv[1] == "runtime" else p["optional-dependencies"]["dev"]))'
NOT_PIP_ITSELF := grep -viE '^(pip|setuptools|wheel)=='

.PHONY: help install install-dev run test lint bench bench-cluster lock clean

help: ## list these targets
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Two stamps: production installs the runtime pins only; tests and linters add the dev pins.
$(VENV)/.installed-runtime: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-runtime requirements-dev.lock
	$(VENV)/bin/pip install --quiet -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed-runtime ## make the virtualenv with what production installs (requirements.lock)

install-dev: $(VENV)/.installed-dev ## add the test and lint tools (requirements-dev.lock)

run: install ## set up, load the demo and serve the console on http://HOST:PORT (127.0.0.1:8000)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py setup_demo
	@echo "Console: http://$(HOST):$(PORT)/   Django admin: http://$(HOST):$(PORT)/admin/"
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install-dev ## run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)
	$(TEST_ENV) $(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: install-dev ## ruff (check and format), the import contracts (pyproject.toml) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(TEST_ENV) $(VENV)/bin/mypy

bench: install ## run the benchmarks and write BENCHMARKS.md
	$(PY) bench/run.py

# PostgreSQL (DATABASE_URL, a database of its own beside it) and RabbitMQ on 127.0.0.1;
# CLUSTER_ARGS="--broker redis --duration 60" and the like.
bench-cluster: install ## two app instances and two workers, one of each killed: BENCHMARKS.md
	$(PY) bench/cluster.py $(CLUSTER_ARGS)

# requirements.lock: the runtime dependencies and everything they pull in; then the dev
# extra on top of exactly those pins, minus them, into requirements-dev.lock.
lock: ## regenerate both lock files after changing pyproject.toml's dependencies
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet $$($(DIRECT_DEPS) runtime)
	.lock-venv/bin/pip freeze | $(NOT_PIP_ITSELF) > requirements.lock
	.lock-venv/bin/pip install --quiet -c requirements.lock $$($(DIRECT_DEPS) dev)
	{ echo "-r requirements.lock"; .lock-venv/bin/pip freeze | $(NOT_PIP_ITSELF) \
		| grep -vxFf requirements.lock; } > requirements-dev.lock
	rm -rf .lock-venv

clean: ## remove the virtualenv, collected static files, test results and caches
	rm -rf $(VENV) staticfiles test-results .mypy_cache .import_linter_cache
