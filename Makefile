# The front door: `make run` serves the demo site, `make test` runs everything CI runs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1:8000

.PHONY: run test prod setup setup-test setup-bench demo lint format test-sqlite test-postgres migrations bench clean

run: setup demo ## Set up, load the demo and serve http://127.0.0.1:8000 (SQLite, tasks in-process)
	$(MANAGE) runserver $(HOST)

test: setup-test lint test-sqlite test-postgres ## Set up, lint, and run the suite on SQLite and on PostgreSQL

prod: setup ## The production stack on this machine (LOCAL_HTTP=1: plain HTTP; DEMO=1: demo trainings; docs/deploy.md)
	$(if $(LOCAL_HTTP),CEU_LOCAL_HTTP=$(LOCAL_HTTP)) $(PY) scripts/prod --bind $(HOST) $(if $(DEMO),--demo)

setup:
	@scripts/setup run

setup-test:
	@scripts/setup test

setup-bench:
	@scripts/setup bench

demo: ## Migrate, load the demo trainings and create the demo accounts (idempotent)
	$(MANAGE) migrate --noinput -v 0
	$(MANAGE) seed_demo

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-sqlite: ## The whole suite on SQLite, with Redis, a Celery worker and Chromium
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: ## The database-backed suite again on a throwaway PostgreSQL server
	$(PY) -m ceu.testing.postgres -- $(VENV)/bin/pytest -m "not browser and not prod_stack and not restore_drill" $(PYTEST_ARGS)

bench: setup-bench ## Benchmarks beside their baselines (see bench/README.md)
	$(PY) bench/render_certificate.py
	$(PY) bench/issue_throughput.py --count 1000
	$(PY) bench/pages.py

migrations:
	$(MANAGE) makemigrations

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
