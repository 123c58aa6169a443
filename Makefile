# Benefit Ledger: `make run` serves the product on SQLite with demo data; `make test` runs the suite
# (on PostgreSQL when DATABASE_URL is set). Both create the virtualenv and install on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run serve worker test lint schema check bench rehearsal

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_data --host $(HOST) --port $(PORT)
	@# The webhook worker runs beside the server and stops with it.
	$(BIN)/python manage.py worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The webhook worker alone (deliveries and the scheduled event scans).
worker: install
	$(BIN)/python manage.py worker

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The production rehearsal (README, Serving in production): its own PostgreSQL primary and replica,
# PgBouncer and Redis on free loopback ports, the README's steps in a fresh virtualenv, two nodes.
rehearsal: install
	$(BIN)/pytest -p no:cacheprovider -m rehearsal tests/rehearsal

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

check: lint schema test

# The benchmark harness (PostgreSQL; see bench/run.py). BENCH_GRANT_SIZES=10000 make bench for a quick run.
bench: install
	$(BIN)/python -m bench.run
