# yunjian — the two commands: `make run` (demo) and `make test` (whole suite on PostgreSQL).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test lint check-db clean mutation

$(PY):
	$(PYTHON) -c 'import sys; sys.exit("需要 Python 3.11 或更高版本 (Python 3.11+ required)") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP_RUN): requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(STAMP_DEV): requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(STAMP_RUN)

## make run: install, migrate, load the demo data and accounts, serve http://127.0.0.1:8000 (on PostgreSQL:
## the job queue lives there; DATABASE_URL, else the local server as for make test)
RUN_DB = DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/yunjian}
run: $(STAMP_RUN)
	$(RUN_DB) $(PY) -m yunjian.dbcheck --create
	mkdir -p var/staticfiles
	$(RUN_DB) DEBUG=true $(PY) manage.py migrate --no-input
	$(RUN_DB) DEBUG=true $(PY) manage.py load_demo
# The demo accounts sign in with a password only: the second factor is off here, and only here.
	$(RUN_DB) DEBUG=true OTP_REQUIRED=false $(PY) manage.py rundemo

## make test: install dev requirements, lint, check the layers (docs/architecture.md), check migrations, run every
## test on PostgreSQL, in two processes (pytest-xdist: each has its own test database)
test: $(STAMP_DEV) check-db
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=true DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/yunjian} $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -q -p no:randomly -n 2

## make mutation [MODULES="review.services ..."]: mutation testing of the rule modules (mutmut; takes hours
## for all of them, so not part of `make test`; docs/testing.md). Its own database: MUTATION_DATABASE_URL.
mutation: $(STAMP_DEV) check-db
	MUTATION_DATABASE_URL=$${MUTATION_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/yunjian_mutation} \
		$(PY) tools/mutation.py $(MODULES)

check-db: $(STAMP_RUN)
	$(PY) -m yunjian.dbcheck

lint: $(STAMP_DEV)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf var/yunjian.sqlite3 var/staticfiles var/test-media
