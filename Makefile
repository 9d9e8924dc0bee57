# Zhouxin: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export ZHOUXIN_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test setup venv frontend migrate demo lint migrations-check pytest bench bench-quick clean

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

venv: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

zhouxin/static/vendor/.built: node_modules/.installed scripts/vendor.mjs
	npm run --silent build
	touch $@

frontend: zhouxin/static/vendor/.built

setup: venv frontend
	@mkdir -p var

migrate: setup
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py calendar_seed
	$(PY) manage.py seed_catalogue

demo: migrate
	$(PY) manage.py load_demo
	$(PY) manage.py seed_catalogue --routing-district 110101

## make run: install everything, migrate the embedded SQLite database, load the demo
## district (idempotent), start the web server and the task worker.
run: demo
	$(PY) manage.py collectstatic --noinput -v0
	@HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

## make test: lint, migrations check, unit, integration and browser tests.
## With DATABASE_URL set it runs against that PostgreSQL database.
test: setup lint migrations-check pytest

lint: venv
	$(VENV)/bin/ruff check .

migrations-check: venv
	$(PY) manage.py makemigrations --check --dry-run -v1

pytest: setup
	ZHOUXIN_TESTING=1 $(VENV)/bin/pytest -p no:randomly -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules zhouxin/static/vendor staticfiles
