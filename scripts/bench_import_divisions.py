#!/usr/bin/env python
"""Benchmark: import all of Beijing (and Shanghai) from the bundled divisions files.

Budget (issue 2): all of Beijing (--city 1101: 16 districts, 349 streets, 7,535
communities) in under 30 s, on SQLite and on PostgreSQL.

Each run uses a fresh database: a new SQLite file in a temporary directory, and,
with --postgres SERVER_URL, a new PostgreSQL database created on that server and
dropped afterwards.  The timed figure is the wall-clock time of the whole
`manage.py import_divisions` process (Python start-up included); migrations are
not timed.  Exit status 1 when any import exceeds the budget.

    .venv/bin/python scripts/bench_import_divisions.py
    .venv/bin/python scripts/bench_import_divisions.py --postgres postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DIVISIONS = ROOT / "zhouxin" / "orgs" / "data" / "divisions"
BUDGET_SECONDS = 30.0


def manage(env: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed with status {done.returncode}")
    return seconds, done.stdout.strip()


def run_suite(label: str, env: dict) -> list[tuple[str, str, float, str]]:
    manage(env, "migrate", "--noinput", "-v0")
    results = []
    for city, what in (("1101", "Beijing, first import"), ("1101", "Beijing, re-run (no change)"),
                       ("3101", "Shanghai, first import")):
        seconds, out = manage(env, "import_divisions", str(DIVISIONS), "--city", city)
        results.append((label, what, seconds, out))
        print(f"{label:<11} {what:<30} {seconds:6.2f} s   {out}", flush=True)
    return results


def with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="SERVER_URL",
                        help="a PostgreSQL server URL whose user may CREATE DATABASE (the path is ignored)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()

    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ZHOUXIN_TESTING"}}
    results = []
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="zx-bench-") as var_dir:
            results += run_suite("SQLite", {**base_env, "ZHOUXIN_VAR_DIR": var_dir})
    if args.postgres:
        import psycopg

        name = f"zx_bench_import_{os.getpid()}"
        admin_url = with_database(args.postgres, "postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            results += run_suite("PostgreSQL", {**base_env, "DATABASE_URL": with_database(args.postgres, name)})
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    over = [r for r in results if r[2] >= BUDGET_SECONDS]
    for label, what, seconds, _out in over:
        print(f"OVER BUDGET: {label} {what}: {seconds:.2f} s ≥ {BUDGET_SECONDS:.0f} s", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
