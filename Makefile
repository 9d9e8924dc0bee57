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
	$(PY) manage.py seed_lexicon -v0

demo: migrate
	$(PY) manage.py load_demo
	$(PY) manage.py seed_catalogue --routing-district 110101
	$(PY) manage.py load_demo_requests
	$(PY) manage.py load_demo_notices
	$(PY) manage.py load_demo_conferences
	$(PY) manage.py load_demo_cobuild
	$(PY) manage.py load_demo_volunteers
	$(PY) manage.py load_demo_funds
	$(PY) manage.py load_demo_centers
	$(PY) manage.py load_demo_oversight

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
	@# Static security analysis: no high-severity finding (mediums are reviewed in place).
	$(VENV)/bin/bandit -q -r zhouxin -x '*/tests/*,zhouxin/testing' --severity-level high

migrations-check: venv
	$(PY) manage.py makemigrations --check --dry-run -v1

pytest: setup
	ZHOUXIN_TESTING=1 $(VENV)/bin/pytest -p no:randomly -q $(PYTEST_ARGS)

## make bench: DESIGN §5 budgets of dispatch on the local PostgreSQL (BENCH_SERVER), in a fresh
## database $(BENCH_DB) (dropped and re-created; never a test database).  Figures in var/bench/.
BENCH_SERVER ?= postgres://postgres@127.0.0.1:5432
BENCH_DB ?= zhouxin_bench
BENCH_REQUESTS ?= 1000000
bench: setup
	@mkdir -p var/bench docs/benchmarks
	$(PY) scripts/bench_intake.py --server $(BENCH_SERVER) --db $(BENCH_DB) --clients 50 --seconds 20 --rounds 2 \
		--json var/bench/intake.json
	@# The same with intake doing everything in its own transaction (no intake worker), for comparison.
	$(PY) scripts/bench_intake.py --server $(BENCH_SERVER) --db $(BENCH_DB) --reuse --inline --clients 50 \
		--seconds 20 --rounds 2 --json var/bench/intake-inline.json
	$(PY) scripts/bench_rankings.py --server $(BENCH_SERVER) --db $(BENCH_DB) --reuse \
		--requests $(BENCH_REQUESTS) --repeat 30 --json var/bench/rankings.json
	$(PY) scripts/bench_report.py var/bench/intake.json var/bench/intake-inline.json var/bench/rankings.json \
		| tee docs/benchmarks/summary.md
	@# Integrity: spam screening per text; backup and archive verification of the database above.
	$(PY) scripts/bench_integrity.py --backup-url $(BENCH_SERVER)/$(BENCH_DB) --json var/bench/integrity.json \
		| tee docs/benchmarks/integrity.md
	@# Co-building matching: top 10 resources for a need among 50,000 (budget p95 < 50 ms).
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_matching $(PY) scripts/bench_matching.py | tee docs/benchmarks/matching.md
	@# All of Beijing with 1 M requests first: the staff list pages (the work queue) at their budget's size
	@# (p95 < 150 ms, queries independent of page size).
	$(PY) scripts/bench_dashboard.py --server $(BENCH_SERVER) --db $(BENCH_DB)_city --steps 1000000 --generate-only
	$(PY) scripts/bench_lists.py --server $(BENCH_SERVER) --db $(BENCH_DB)_city --repeat 30 \
		--json var/bench/lists-1m.json --markdown docs/benchmarks/lists-1m.md
	@# Oversight: the district dashboard over that city at 1 M, then grown to 10 M requests (p95 < 300 ms, ≥ 20 × naive).
	$(PY) scripts/bench_dashboard.py --server $(BENCH_SERVER) --db $(BENCH_DB)_city --reuse --steps 1000000,10000000 \
		--repeat 30 --json var/bench/dashboard.json --markdown docs/benchmarks/dashboard.md
	@# The staff list pages again at 10 M requests, ten times their budget's size.
	$(PY) scripts/bench_lists.py --server $(BENCH_SERVER) --db $(BENCH_DB)_city --repeat 30 \
		--json var/bench/lists.json --markdown docs/benchmarks/lists.md
	@# Workforce: monthly payroll for 10,000 workers (budget < 5 s); writes docs/benchmarks/payroll.md.
	$(PY) scripts/bench_payroll.py
	@# The same end to end: roster read, payslips written, for 10,000 workers on PostgreSQL.
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_payroll $(PY) scripts/bench_payroll_db.py | tee docs/benchmarks/payroll-db.md

## make bench-quick: the same measurements at small sizes (under 2 minutes).
bench-quick: setup
	@mkdir -p var/bench docs/benchmarks
	$(PY) scripts/bench_intake.py --server $(BENCH_SERVER) --db $(BENCH_DB) --clients 50 --seconds 5 --rounds 1 \
		--json var/bench/intake-quick.json
	$(PY) scripts/bench_rankings.py --server $(BENCH_SERVER) --db $(BENCH_DB) --reuse \
		--requests 50000 --repeat 10 --json var/bench/rankings-quick.json
	$(PY) scripts/bench_report.py var/bench/intake-quick.json var/bench/rankings-quick.json \
		| tee docs/benchmarks/summary-quick.md
	@# Its own small city set: `make bench`'s 10 M-request zhouxin_bench_city is left alone.
	$(PY) scripts/bench_dashboard.py --server $(BENCH_SERVER) --db $(BENCH_DB)_city_quick --steps 100000 \
		--repeat 10 --seconds 2 --json var/bench/dashboard-quick.json --markdown docs/benchmarks/dashboard-quick.md
	$(PY) scripts/bench_lists.py --server $(BENCH_SERVER) --db $(BENCH_DB)_city_quick --repeat 10 --seconds 2 \
		--json var/bench/lists-quick.json --markdown docs/benchmarks/lists-quick.md

clean:
	rm -rf $(VENV) node_modules zhouxin/static/vendor staticfiles
