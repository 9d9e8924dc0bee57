#!/usr/bin/env python
"""What audit.record costs on the write path (DESIGN §4: measure the chain's choice against intake).

Runs in a throw-away test database (created and dropped here), on SQLite by
default or on PostgreSQL with DATABASE_URL.  Each write is one transaction
inserting one small row, the way a service writes:

  bare                 the row only
  audited (linked)     the row + audit.record, linked as the project does it: inside the
                       writing transaction on SQLite, right after commit on PostgreSQL
  audited (sealer loop) the row + audit.record, linking left to the sealer loop
  seal throughput      how fast the sealer links a backlog

and the same bare / audited writes from several threads at once.

    .venv/bin/python scripts/bench_audit.py [--writes 2000] [--threads 8]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zx_bench .venv/bin/python scripts/bench_audit.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
os.environ.setdefault("ZHOUXIN_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from zhouxin.core import audit  # noqa: E402
from zhouxin.core.models import AuditEntry, AuditSeal  # noqa: E402
from zhouxin.orgs.models import Sector  # noqa: E402


def _write(tag: str, i: int, audited: bool) -> None:
    with transaction.atomic():
        sector = Sector.objects.create(code=f"{tag}-{i}", name=f"{tag}-{i}")
        if audited:
            audit.record(actor=None, action="bench.sector.created", obj=sector,
                         after={"code": sector.code, "name": sector.name})


def _serial(tag: str, writes: int, audited: bool) -> dict:
    latencies = []
    started = time.perf_counter()
    for i in range(writes):
        t0 = time.perf_counter()
        _write(tag, i, audited)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return _summary(latencies, elapsed, writes)


def _concurrent(tag: str, writes: int, threads: int, audited: bool) -> dict:
    per_thread = writes // threads
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker(n: int):
        mine = []
        barrier.wait()
        try:
            for i in range(per_thread):
                t0 = time.perf_counter()
                _write(f"{tag}-{n}", i, audited)
                mine.append(time.perf_counter() - t0)
        finally:
            connections.close_all()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    return _summary(latencies, elapsed, per_thread * threads)


def _summary(latencies: list[float], elapsed: float, writes: int) -> dict:
    ordered = sorted(latencies)
    return {
        "writes": writes,
        "per_s": writes / elapsed if elapsed else 0.0,
        "mean_ms": statistics.fmean(ordered) * 1000,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        rows = []
        # Warm-up: connections, statement caches.
        _serial("warm", 50, True)
        rows.append(("bare", "1", _serial("bare", args.writes, False)))
        rows.append(("audited (linked on write)", "1", _serial("aud", args.writes, True)))
        with override_settings(AUDIT_LINK_ON_WRITE=False):
            rows.append(("audited (sealer loop)", "1", _serial("nos", args.writes, True)))
        backlog = AuditEntry.objects.filter(seal__isnull=True).count()
        t0 = time.perf_counter()
        sealed = audit.seal_all(scope="all")
        seal_s = time.perf_counter() - t0
        rows.append(("bare", str(args.threads), _concurrent("cbare", args.writes, args.threads, False)))
        rows.append(("audited (linked on write)", str(args.threads),
                     _concurrent("caud", args.writes, args.threads, True)))
        leftover = AuditEntry.objects.filter(seal__isnull=True).count()
        audit.seal_all(scope="all")
        report = audit.verify_chain()
        t0 = time.perf_counter()
        audit.verify_chain()
        verify_s = time.perf_counter() - t0

        print(f"database: {connection.vendor}; writes per run: {args.writes}")
        print(f"{'write':<30}{'threads':>8}{'writes/s':>11}{'mean ms':>10}{'p50 ms':>9}{'p99 ms':>9}")
        for name, threads, r in rows:
            print(f"{name:<30}{threads:>8}{r['per_s']:>11.0f}{r['mean_ms']:>10.2f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}")
        print(f"sealer: linked a backlog of {backlog} entries ({sealed} sealed) in {seal_s:.2f} s "
              f"= {sealed / seal_s if seal_s else 0:.0f} entries/s")
        print(f"after the concurrent audited run {leftover} entries were left for the sealer loop")
        print(f"verify_chain: {report.checked} links in {verify_s:.2f} s; chain ok: {report.ok}; "
              f"seals {AuditSeal.objects.count()} = entries {AuditEntry.objects.count()}")
        return 0 if report.ok else 1
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
