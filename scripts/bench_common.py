"""Shared set-up of the dispatch benchmarks (bench_intake.py, bench_rankings.py).

A fresh PostgreSQL database (default zhouxin_bench on the local server, never a test
database) with the demo district, the catalogue and Dongcheng's routing rules, and a
short description of the machine for docs/performance.md.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def env_for(url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "ZHOUXIN_DEMO": "1", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "zhouxin.settings"})
    env.pop("ZHOUXIN_TESTING", None)
    env.update(extra)
    return env


def recreate_database(server: str, name: str) -> str:
    if name.startswith("test_") or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to use database {name!r}")
    import psycopg

    with psycopg.connect(database_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(server, name)


def manage(url: str, *args: str, quiet: bool = True) -> float:
    started = time.perf_counter()
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env_for(url), check=True,
                   stdout=subprocess.DEVNULL if quiet else None)
    return time.perf_counter() - started


def prepare_demo(url: str) -> dict:
    """Migrate and load the demo district with its catalogue and routing (timed)."""
    timings = {}
    timings["migrate"] = manage(url, "migrate", "--noinput", "-v0")
    timings["calendar_seed"] = manage(url, "calendar_seed")
    timings["seed_catalogue"] = manage(url, "seed_catalogue")
    timings["load_demo"] = manage(url, "load_demo")
    timings["routing"] = manage(url, "seed_catalogue", "--routing-district", "110101")
    return timings


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psycopg

        with psycopg.connect(database_url(DEFAULT_SERVER, "postgres")) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001 — only a description
        pg = "?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0
    return (f"{os.cpu_count()} vCPUs ({cpu}), {mem}, Linux {platform.release()}, Python "
            f"{sys.version.split()[0]}, PostgreSQL {pg} on 127.0.0.1; load average at start {load:.1f}")


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]
