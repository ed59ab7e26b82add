# SecureCloud Console. Needs only python3 (>= 3.11), git and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests and local runs must not need a real secret; production sets its own.
TEST_ENV := SECRET_KEY=test-only-insecure-key DEBUG=0

.PHONY: help install run test test-fast bench lint lock clean

help:
	@echo "make run    set up, load the demo and serve the console on http://$(HOST):$(PORT)"
	@echo "make test   run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make bench  run the benchmarks and write BENCHMARKS.md"

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py setup_demo
	@echo "Console: http://$(HOST):$(PORT)/   Django admin: http://$(HOST):$(PORT)/admin/"
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(TEST_ENV) $(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# Regenerate the full pin list after changing pyproject.toml's dependencies.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet $$($(PYTHON) bench/deps.py)
	.lock-venv/bin/pip freeze | grep -viE '^(pip|setuptools|wheel)==' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) staticfiles test-results
