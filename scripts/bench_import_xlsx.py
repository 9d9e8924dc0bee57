#!/usr/bin/env python
"""Benchmark: the xlsx import of 20,000 organisations and of 20,000 people, run by the real worker.

DESIGN §4: "a long import must not stall intake".  On SQLite the import's final
write transaction holds the database's only write lock (IMMEDIATE transactions),
so every other writer (the web server, intake, the sealer) waits for as long as it
lasts.  This script measures that transaction and the whole job:

1. creates a throw-away test database (SQLite by default, PostgreSQL with
   DATABASE_URL) and the test personas in it (street hub of 东华门街道);
2. builds each workbook with openpyxl (valid rows only: the point is the write);
3. submits the job as the street hub (`imports.import_job_submit`) and runs
   django-tasks-db's own worker on it, as `manage.py db_worker` would;
4. prints the time spent inside the final write transaction (the outermost
   atomic block imports.py opens on the success path: it creates every row,
   audits it and marks the job succeeded; timed from BEGIN to COMMIT) and the whole job (reading the file, validating every row,
   writing), and, with --probe, the worst latency seen meanwhile by another
   connection that writes one audited row every 20 ms (what intake would feel).

    .venv/bin/python scripts/bench_import_xlsx.py [--rows 20000] [--kinds organisations people] [--probe]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python scripts/bench_import_xlsx.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
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
from django_tasks_db.management.commands.db_worker import Worker  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from zhouxin.core import audit  # noqa: E402
from zhouxin.core.choices import JobStatus  # noqa: E402
from zhouxin.core.scoping import scopes_disabled  # noqa: E402
from zhouxin.orgs import imports  # noqa: E402
from zhouxin.orgs.models import Organisation, Person, Sector  # noqa: E402
from zhouxin.orgs.services import credit_code_check_char  # noqa: E402
from zhouxin.orgs.validators import id_check_char  # noqa: E402
from zhouxin.testing.personas import build_personas  # noqa: E402

DUOFU = "110101001001"  # 多福巷社区
YINZHA = "110101001002"  # 银闸社区
GRID = "110101001001001"  # 多福巷社区第一网格
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅春燕德海燕晓东淑珍立新振"


def _workbook(headers: list[str], rows) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def organisation_rows(n: int):
    """Every 20th row a Party committee under an existing one; the rows after it branches under
    that committee (a parent defined earlier in the same file); every 7th a resident unit."""
    areas = (DUOFU, YINZHA, GRID)
    committee = ""
    for i in range(n):
        area = areas[i % len(areas)]
        if i % 20 == 0:
            committee = f"测试第{i // 20 + 1}联合党委"
            yield [committee, "党委", area, "中共东华门街道工作委员会", "", "", f"测试路 {i} 号", "010-65120001", 120]
        elif i % 7 == 0:
            first17 = f"91110101MA{i:07d}"
            yield [f"测试驻区单位{i}", "驻区单位", area, "", "卫生健康", first17 + credit_code_check_char(first17),
                   f"测试路 {i} 号", "", ""]
        else:
            yield [f"测试第{i}党支部", "党支部", area, committee, "", "", "", "", i % 60]


def people_rows(n: int):
    areas = (DUOFU, YINZHA, GRID)
    for i in range(n):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[i % len(GIVEN)]
        born = dt.date(1960, 1, 1) + dt.timedelta(days=i // 900)  # 900 sequence numbers a day: all unique
        first17 = f"110101{born:%Y%m%d}{i % 900 + 100:03d}"
        member = i % 3 == 0
        yield [name, areas[i % len(areas)], f"139{i:08d}", first17 + id_check_char(first17),
               "北京市东城区第一人民医院" if i % 5 == 0 else "", "是" if member else "否",
               "中共多福巷社区委员会" if member else ""]


def run_worker() -> None:
    Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
           max_tasks=None, worker_id="bench-worker", excluded_queue_names=[]).run()


class _Timed:
    """Wraps an atomic block; records how long the outermost one stayed open."""

    def __init__(self, block, record: list[float]):
        self.block, self.record, self.outermost, self.started = block, record, False, 0.0

    def __enter__(self):
        self.outermost = not connection.in_atomic_block
        self.started = time.perf_counter()
        return self.block.__enter__()

    def __exit__(self, *exc):
        try:
            return self.block.__exit__(*exc)
        finally:
            if self.outermost:
                self.record.append(time.perf_counter() - self.started)


class Probe(threading.Thread):
    """Another connection writing one small audited row every 20 ms, as intake would."""

    def __init__(self, tag: str):
        super().__init__(daemon=True)
        self.tag = tag
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0
        self.first_failure = ""

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                try:
                    with transaction.atomic():
                        sector = Sector.objects.create(code=f"probe-{self.tag}-{i}", name=f"探针{self.tag}{i}")
                        audit.record(actor=None, action="bench.probe.written", obj=sector)
                except Exception as exc:
                    self.failures += 1
                    if self.failures == 1:
                        self.first_failure = f"{type(exc).__name__}: {exc}"
                self.latencies.append(time.perf_counter() - t0)
                i += 1
                self.stop.wait(0.02)
        finally:
            connections.close_all()


def bench(kind: str, rows: int, hub, probe: bool) -> dict:
    import_kind = imports.kind_for(kind)
    headers = [c.header for c in import_kind.columns]
    t0 = time.perf_counter()
    content = _workbook(headers, organisation_rows(rows) if kind == imports.ORGANISATIONS else people_rows(rows))
    build_s = time.perf_counter() - t0
    sheet = imports.read_sheet(import_kind, content)
    with scopes_disabled():
        area = hub.grants.get().area
        model = Organisation if kind == imports.ORGANISATIONS else Person
        before = model.objects.unscoped().count()
    job = imports.import_job_submit(actor=hub, kind=import_kind, area=area, filename=f"bench-{kind}.xlsx",
                                    content=content, total=len(sheet.rows))

    # Time the outermost transaction that imports.py opens on the success path: the final write.
    commits: list[float] = []
    real_transaction = imports.transaction

    class TimedTransaction:
        @staticmethod
        def atomic(*args, **kwargs):
            return _Timed(real_transaction.atomic(*args, **kwargs), commits)

        def __getattr__(self, name):
            return getattr(real_transaction, name)

    imports.transaction = TimedTransaction()
    prober = Probe(kind) if probe else None
    if prober:
        prober.start()
    try:
        t0 = time.perf_counter()
        run_worker()
        job_s = time.perf_counter() - t0
    finally:
        imports.transaction = real_transaction
        if prober:
            prober.stop.set()
            prober.join()
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"{kind}: job {job.status}: {job.errors[:5]}")
    with scopes_disabled():
        created = model.objects.unscoped().count() - before
    result = {"kind": kind, "rows": len(sheet.rows), "created": created, "xlsx_kb": len(content) // 1024,
              "build_s": build_s, "job_s": job_s, "write_s": commits[0] if commits else float("nan")}
    if prober and prober.latencies:
        ordered = sorted(prober.latencies)
        result.update(probe_writes=len(ordered), probe_failures=prober.failures,
                      probe_max_ms=ordered[-1] * 1000, probe_p50_ms=statistics.median(ordered) * 1000,
                      probe_first_failure=prober.first_failure)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--kinds", nargs="+", default=[imports.ORGANISATIONS, imports.PEOPLE],
                        choices=[imports.ORGANISATIONS, imports.PEOPLE])
    parser.add_argument("--probe", action="store_true",
                        help="measure another connection's write latency while the job runs")
    args = parser.parse_args()

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        personas = build_personas()
        hub = personas.users["street_hub"]
        results = [bench(kind, args.rows, hub, args.probe) for kind in args.kinds]
        audit.seal_all(scope="all")
        chain = audit.verify_chain()
        print(f"database: {connection.vendor}; importer: street hub of 东华门街道; chain ok: {chain.ok} "
              f"({chain.checked} links)")
        print(f"{'kind':<14}{'rows':>7}{'created':>9}{'xlsx KB':>9}{'whole job s':>13}{'write txn s':>13}"
              + (f"{'probe max ms':>14}{'probe p50 ms':>14}{'failed':>8}" if args.probe else ""))
        for r in results:
            line = (f"{r['kind']:<14}{r['rows']:>7}{r['created']:>9}{r['xlsx_kb']:>9}{r['job_s']:>13.2f}"
                    f"{r['write_s']:>13.2f}")
            if "probe_max_ms" in r:
                line += f"{r['probe_max_ms']:>14.0f}{r['probe_p50_ms']:>14.1f}{r['probe_failures']:>8}"
            print(line)
            if r.get("probe_first_failure"):
                print(f"    first failed probe write: {r['probe_first_failure']}")
        return 0 if chain.ok and all(r["created"] == r["rows"] for r in results) else 1
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
