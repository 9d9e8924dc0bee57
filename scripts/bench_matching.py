#!/usr/bin/env python
"""Matching: top 10 resources for a need among 50,000 (DESIGN §5: p95 < 50 ms).

Runs in a throw-away test database (created and dropped here), on SQLite by default or on
PostgreSQL with DATABASE_URL.  Two layouts of the same number of resources:

  city      spread over a city of 16 districts × 20 streets × 10 communities
  district  all in one district (17 streets × 10 communities): the dense case, where a
            need's district-wide candidates are many

Each has 13 categories, five kinds, a mix of service radii (community 30 %, street 50 %,
district 20 %), some capacity already committed and a few hundred rated projects (the
units' record).  It times `matching.resources_for_need` for 100 needs in random
communities (after one warm-up query) and prints p50/p95/max and the mean number of
resources the SQL prefilter admits ("prefiltered", before matching skips the rings of
kind-only fits that cannot reach the top 10).

Served: the same needs' pages (cobuild:need_detail, /cobuild/needs/<id>/, which ranks the top
10 with the same function and shows them) through gunicorn (`--workers` × `--threads`, DEBUG
off) on 127.0.0.1 and a load generator on the same machine (scripts/bench_common.py: asyncio,
`--clients` HTTP/1.1 keep-alive connections going round the needs for `--seconds` after
`--warmup`), signed in as a district admin of the layout with the second factor verified: p50/
p95/p99, requests a second, errors (only a 200 showing the matches counts).  The budget is
the ranking's in-process p95; the served need page is reported beside it.  (The API's /api/v1/cobuild/needs/<id>/matches/ answers the same ranking, but
its read limit of 1,200 a minute per account would turn a load run into 429s.)  Served needs a
test database another process can open: PostgreSQL, or SQLite in a file (the default).

    .venv/bin/python scripts/bench_matching.py [--resources 50000] [--queries 100]
        [--workers 4] [--threads 1] [--clients 4] [--seconds 5] [--warmup 1] [--no-serve]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zx_bench .venv/bin/python scripts/bench_matching.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
os.environ.setdefault("ZHOUXIN_TESTING", "1")

import django  # noqa: E402

django.setup()

import bench_common as common  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from zhouxin.cobuild import matching  # noqa: E402
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius  # noqa: E402
from zhouxin.cobuild.models import Need, Project, Resource  # noqa: E402
from zhouxin.cobuild.text import terms_of  # noqa: E402
from zhouxin.core.choices import Role  # noqa: E402
from zhouxin.core.models import Grant, User  # noqa: E402
from zhouxin.core.scoping import scopes_disabled  # noqa: E402
from zhouxin.orgs.choices import AreaLevel, OrgKind  # noqa: E402
from zhouxin.orgs.models import Area, Organisation  # noqa: E402

BATCH = 5000
TEXTS = {
    NeedCategory.ELDERLY_MEAL: ("职工食堂助老午餐", "食堂每天中午为社区老人提供助餐午餐，可送餐上门"),
    NeedCategory.ELDERLY_CARE: ("为老陪护志愿服务", "组织党员志愿者上门陪伴独居老人，代购药品"),
    NeedCategory.EDUCATION: ("青少年课后辅导", "教师志愿者为双职工家庭孩子提供课后作业辅导"),
    NeedCategory.MEDICAL: ("医院专家义诊", "医院组织专家团队到社区开展健康义诊和慢病咨询"),
    NeedCategory.LEGAL: ("律师事务所法律咨询", "律师每月到社区开展法律咨询和普法讲座"),
    NeedCategory.ENVIRONMENT: ("楼院环境整治志愿队", "清理楼道堆物，绿化补植，垃圾分类宣传"),
    NeedCategory.CULTURE: ("文艺演出与健身指导", "单位文艺队到社区演出，体育老师指导健身"),
    NeedCategory.EMPLOYMENT: ("就业技能培训", "企业为辖区失业人员提供岗位推荐和技能培训"),
    NeedCategory.SAFETY: ("消防安全培训", "消防知识讲座和应急演练"),
    NeedCategory.VENUE: ("单位会议室开放", "周末开放会议室和多功能厅供社区活动使用"),
    NeedCategory.GOODS: ("爱心物资捐赠", "米面油等生活物资，节日慰问困难家庭"),
    NeedCategory.VOLUNTEER: ("党员志愿服务队", "在职党员志愿者参与社区治理和服务"),
    NeedCategory.OTHER: ("其他共建资源", "单位可提供的其他支持"),
}
KINDS = list(ResourceKind.values)
RADII = [ServiceRadius.COMMUNITY] * 3 + [ServiceRadius.STREET] * 5 + [ServiceRadius.DISTRICT] * 2


def build_areas(layout: str) -> list[Area]:
    """The communities of the layout (with their street and district nodes)."""
    shape = (16, 20, 10) if layout == "city" else (1, 17, 10)
    prefix = "91" if layout == "city" else "92"
    city = Area.objects.unscoped().create(code=prefix + "01", name=f"基准市{prefix}", level=AreaLevel.CITY)
    communities = []
    for d in range(shape[0]):
        district = Area.objects.unscoped().create(code=f"{city.code}{d + 1:02d}", name=f"区{d}",
                                                  level=AreaLevel.DISTRICT, parent=city)
        for s in range(shape[1]):
            street = Area.objects.unscoped().create(code=f"{district.code}{s + 1:03d}", name=f"街道{d}-{s}",
                                                    level=AreaLevel.STREET, parent=district)
            communities.extend(Area(code=f"{street.code}{c + 1:03d}", name=f"社区{d}-{s}-{c}",
                                    level=AreaLevel.COMMUNITY, parent=street) for c in range(shape[2]))
    return Area.objects.unscoped().bulk_create(communities, batch_size=BATCH)


def populate(layout: str, resources: int, user, rng: random.Random) -> list[Area]:
    communities = build_areas(layout)
    units = Organisation.objects.unscoped().bulk_create(
        [Organisation(name=f"{layout}单位{i}", kind=OrgKind.RESIDENT_UNIT, area=rng.choice(communities))
         for i in range(resources // 10)], batch_size=BATCH)
    terms = {c: terms_of(*TEXTS[c]) for c in TEXTS}
    categories = list(TEXTS)
    rows = []
    for i in range(resources):
        unit = units[i % len(units)]
        category = rng.choice(categories)
        capacity = rng.randint(5, 200)
        starts = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 120))
        rows.append(Resource(
            owner=unit, kind=rng.choice(KINDS), category=category, title=TEXTS[category][0],
            description=TEXTS[category][1], capacity=capacity, capacity_unit="人次",
            committed=rng.choice([0, 0, 0, capacity // 2, capacity - 1]),
            available_from=starts, available_until=rng.choice([None, dt.date(2026, 12, 31), starts + dt.timedelta(60)]),
            radius=rng.choice(RADII), area=unit.area, area_code=unit.area.code, terms=terms[category],
            created_by=user))
    Resource.objects.unscoped().bulk_create(rows, batch_size=BATCH)
    projects = Project.objects.unscoped().bulk_create(
        [Project(title=f"往年项目{i}", area=rng.choice(communities), created_by=user,
                 rating_average=rng.choice(["3.50", "4.00", "4.50", "5.00"])) for i in range(500)])
    through = Project.parties.through
    through.objects.bulk_create([through(project_id=p.pk, organisation_id=rng.choice(units).pk) for p in projects])
    return communities


def served_database_url() -> str | None:
    """The test database as a DATABASE_URL for gunicorn, or None (SQLite in memory)."""
    d = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(d["USER"] or "", safe="") + (f":{quote(d['PASSWORD'], safe='')}" if d["PASSWORD"] else "")
        return f"postgres://{auth}@{d['HOST'] or 'localhost'}:{d['PORT'] or 5432}/{d['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{Path(d['NAME']).resolve()}"
    return None


def serve_needs(layout: str, communities: list[Area], needs: list[Need], args) -> tuple[dict, str]:
    """The needs' pages through gunicorn under the load generator, as a district admin of the layout."""
    city = communities[0].parent.parent.parent
    staff = User.objects.create_user(username=f"bench_staff_{layout}", password="Bench-Matching-2026!",
                                     full_name="基准区级管理员")
    Grant.objects.create(user=staff, role=Role.DISTRICT_ADMIN, area=city)
    TOTPDevice.objects.create(user=staff, name="bench", confirmed=True)
    cookie = common.signed_in_session(staff.username)
    paths = [reverse("cobuild:need_detail", args=[need.pk]) for need in needs]
    with common.serve(served_database_url(), workers=args.workers, threads=args.threads, port=args.port) as server:
        figures = common.load(server.host, server.port, paths, clients=args.clients, seconds=args.seconds,
                              warmup=args.warmup, cookie=cookie, expect='id="zx-matches-title"')
        how = common.served_setup(server, args.clients, args.seconds, args.warmup).replace(
            "s per page after", f"s over the {len(paths)} needs' pages in turn after")
    return figures, how


def run(layout: str, resources: int, queries: int, user, rng: random.Random, args) -> dict:
    communities = populate(layout, resources, user, rng)
    needs = []
    for _ in range(queries + 1):
        category = rng.choice([NeedCategory.ELDERLY_MEAL, NeedCategory.MEDICAL, NeedCategory.VENUE,
                               NeedCategory.CULTURE])
        title, description = TEXTS[category]
        needs.append(Need.objects.unscoped().create(
            area=rng.choice(communities), title="社区需要" + title, description=description, category=category,
            quantity=30, quantity_unit="人次", wanted_from=dt.date(2026, 6, 1), wanted_until=dt.date(2026, 6, 30),
            terms=terms_of("社区需要" + title, description), created_by=user))
    needs = list(Need.objects.unscoped().select_related("area").filter(pk__in=[n.pk for n in needs]))
    today = dt.date(2026, 5, 1)
    matching.resources_for_need(needs[0], today=today)  # warm-up: policy cache, connection
    latencies, candidates, kind_fit, matched = [], [], [], []
    for need in needs[1:]:
        t0 = time.perf_counter()
        ranked = matching.resources_for_need(need, limit=10, today=today)
        elapsed = (time.perf_counter() - t0) * 1000
        latencies.append(elapsed)
        if need.category in matching.KIND_FITS:
            kind_fit.append(elapsed)
        assert len(ranked) <= 10
        if ranked:
            matched.append(need)
        candidates.append(_candidates(need, today))
    latencies.sort()
    kind_fit.sort()
    served, served_how = None, ""
    if args.serve and matched:
        # Only needs with matches: their page shows the matches section, which the load generator checks.
        served, served_how = serve_needs(layout, communities, matched, args)
    return {"p50": statistics.median(latencies), "p95": _p95(latencies), "max": latencies[-1],
            "candidates": statistics.mean(candidates),
            "kind_fit_p95": _p95(kind_fit) if kind_fit else 0.0, "kind_fit_share": len(kind_fit) / len(latencies),
            "served": served, "served_how": served_how, "served_needs": len(matched)}


def _p95(values: list[float]) -> float:
    return values[max(int(len(values) * 0.95) - 1, 0)]


def _candidates(need, today) -> int:
    # The same prefilter, counted (outside the timing).
    from django.db.models import F, Q

    kinds = matching.KIND_FITS.get(need.category, ())
    wanted = matching._wanted(need.wanted_from, need.wanted_until, today)
    return (Resource.objects.unscoped().filter(is_active=True, committed__lt=F("capacity"))
            .filter(Q(category=need.category) | Q(kind__in=kinds) if kinds else Q(category=need.category))
            .filter(matching._reach_q(need.area.code))
            .filter(Q(available_until__isnull=True) | Q(available_until__gte=wanted[0]))
            .filter(available_from__lte=wanted[1]).count())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--layout", choices=["city", "district", "both"], default="both")
    parser.add_argument("--no-serve", dest="serve", action="store_false",
                        help="in process only (no gunicorn, no load generator)")
    common.add_serve_arguments(parser)
    args = parser.parse_args()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    if args.serve and served_database_url() is None:
        print("served measurement skipped: the test database is SQLite in memory, which gunicorn cannot open")
        args.serve = False
    try:
        with scopes_disabled():
            user = User.objects.create_user(username="bench", password="Bench-Matching-2026!")
            print(f"matching bench on {connection.vendor}: top 10 among {args.resources:,} resources, "
                  f"{args.queries} needs (budget: p95 < 50 ms)")
            layouts = ["city", "district"] if args.layout == "both" else [args.layout]
            worst, worst_served, errors, served_how = 0.0, 0.0, 0, ""
            for layout in layouts:
                t0 = time.perf_counter()
                result = run(layout, args.resources, args.queries, user, random.Random(6), args)
                # The next layout adds its own resources: clear this one's so each has exactly N.
                Resource.objects.unscoped().all().delete()
                worst = max(worst, result["p95"])
                print(f"  {layout:8s} in process: p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
                      f"max {result['max']:6.1f} ms  prefiltered {result['candidates']:6.0f}  "
                      f"(set-up and measuring {time.perf_counter() - t0:.0f} s)")
                print(f"           needs matched by kind too (venue, goods; {result['kind_fit_share']:.0%}): "
                      f"p95 {result['kind_fit_p95']:.1f} ms")
                if served := result["served"]:
                    # NaN (no successful request) compares false: make it the worst.
                    worst_served = max(worst_served, served["p95_ms"] if served["requests"] else float("inf"))
                    errors += served["errors"]
                    served_how = result["served_how"]
                    print(f"           served, the need page ({result['served_needs']} needs): p50 "
                          f"{served['p50_ms']:6.1f} ms  p95 {served['p95_ms']:6.1f} ms  p99 {served['p99_ms']:6.1f} ms  "
                          f"{served['rps']} req/s  {served['requests']} requests  {served['errors']} errors")
                    for error in served["sample_errors"]:
                        print(f"             {error}")
                elif args.serve:
                    print("           served: skipped, no need had a match")
            # The budget is the ranking itself ("top 10 resources for a need"), timed in process; the
            # served need page adds the whole page (sign-in, the need, its projects, the template)
            # and the queueing of 4 clients on the machine's cores, and is reported beside it.
            print(f"  budget (the ranking, in process) {'met' if worst < 50 else 'MISSED'}: worst p95 {worst:.1f} ms")
            if served_how:
                print(f"  {served_how}")
                print(f"  the need page served: worst p95 {worst_served:.1f} ms, {errors} errors "
                      f"({'under' if worst_served < 50 else 'over'} 50 ms)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
