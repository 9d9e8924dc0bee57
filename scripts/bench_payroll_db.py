#!/usr/bin/env python
"""Monthly payroll for 10,000 workers end to end (DESIGN §5: < 5 s): `payroll.payroll_run` for a
district, reading the roster (posts, assessments) from the database, computing every payslip
with payrules and writing the run and its payslips, in a throw-away test database (created and
dropped here), on SQLite by default or on PostgreSQL with DATABASE_URL.

The district has 100 communities of 100 workers: a mix of the four posts (some with a
concurrent post), hire dates over 15 years, education and certificates, and three years of
assessments (a few 优秀 and 不合格).  Times one first run and a re-run (which replaces the
draft's payslips) and prints them.

    .venv/bin/python scripts/bench_payroll_db.py [--workers 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zx_bench .venv/bin/python scripts/bench_payroll_db.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
os.environ.setdefault("ZHOUXIN_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from zhouxin.core.choices import Role  # noqa: E402
from zhouxin.core.models import Grant, User  # noqa: E402
from zhouxin.core.scoping import scopes_disabled  # noqa: E402
from zhouxin.orgs.choices import AreaLevel  # noqa: E402
from zhouxin.orgs.models import Area, Person  # noqa: E402
from zhouxin.workforce import payroll  # noqa: E402
from zhouxin.workforce.models import Assessment, Payslip, PostHolding, Worker  # noqa: E402

BATCH = 2000
POSTS = [("正职", "书记"), ("正职", "主任"), ("副职", "副主任"), ("专职", "社区专职工作者"), ("其他", "网格员")]
EDUCATION = ["大专", "本科", "本科", "硕士", "高中及以下", "博士"]
CERTS = ["", "", "助理社会工作师", "社会工作师", "高级社会工作师"]
GRADES = ["合格"] * 14 + ["优秀"] * 4 + ["基本合格", "不合格"]


def build(workers: int, year: int) -> tuple[Area, User]:
    rng = random.Random(2026)
    city = Area.objects.create(code="1101", name="基准市", level=AreaLevel.CITY)
    district = Area.objects.create(code="110199", name="基准区", level=AreaLevel.DISTRICT, parent=city)
    street = Area.objects.create(code="110199001", name="基准街道", level=AreaLevel.STREET, parent=district)
    communities = [Area.objects.create(code=f"110199001{n:03d}", name=f"基准社区{n}", level=AreaLevel.COMMUNITY,
                                       parent=street, households=rng.randint(800, 6000)) for n in range(1, 101)]
    people = Person.objects.bulk_create(
        [Person(name=f"工作者{i:05d}", home_area=communities[i % len(communities)]) for i in range(workers)],
        batch_size=BATCH)
    rows = [Worker(person=p, community=communities[i % len(communities)],
                   hire_date=dt.date(year - 1 - rng.randint(0, 15), rng.randint(1, 12), 1),
                   education=rng.choice(EDUCATION), has_degree=rng.random() > 0.2,
                   certificate=rng.choice(CERTS)) for i, p in enumerate(people)]
    made = Worker.objects.bulk_create(rows, batch_size=BATCH)
    posts, grades = [], []
    for worker in made:
        kind, title = rng.choice(POSTS)
        posts.append(PostHolding(worker=worker, post_type=kind, title=title, started_on=worker.hire_date))
        if rng.random() < 0.1:  # a concurrent post, paid once at the highest
            posts.append(PostHolding(worker=worker, post_type="其他", title="网格员", started_on=worker.hire_date))
        for back in (3, 2, 1):
            if worker.hire_date.year <= year - back:
                grades.append(Assessment(worker=worker, year=year - back, grade=rng.choice(GRADES)))
    PostHolding.objects.bulk_create(posts, batch_size=BATCH)
    user = User.objects.create_user(username="bench_payroll", password="Bench-Payroll-2026!")
    Grant.objects.create(user=user, role=Role.DISTRICT_ADMIN, area=district)
    now = timezone.now()
    for grade in grades:
        grade.decided_by, grade.decided_at = user, now
    Assessment.objects.bulk_create(grades, batch_size=BATCH)
    return district, user


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=10_000)
    args = parser.parse_args()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        today = timezone.localdate()
        with scopes_disabled():
            district, user = build(args.workers, today.year)
            timings = []
            for _ in range(2):  # the first run, then a re-run replacing the draft
                started = time.perf_counter()
                with transaction.atomic():
                    run = payroll.payroll_run(actor=user, area=district, year=today.year, month=today.month)
                timings.append(time.perf_counter() - started)
            slips = Payslip.objects.unscoped().filter(run=run).count()
        vendor = connection.vendor
        print("# Monthly payroll end to end (database)\n")
        print(f"`scripts/bench_payroll_db.py`: `payroll_run` for a district of {args.workers:,} workers "
              f"(100 communities), {today.year}-{today.month:02d}, on {vendor}.\n")
        print("| run | seconds | payslips | total (yuan) | budget |")
        print("|---|---|---|---|---|")
        for label, seconds in zip(("first run", "re-run (draft replaced)"), timings, strict=True):
            print(f"| {label} | {seconds:.2f} | {slips:,} | {run.total:,} | < 5 s ({'met' if seconds < 5 else 'MISSED'}) |")
        return 0
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
