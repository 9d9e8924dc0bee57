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

    .venv/bin/python scripts/bench_matching.py [--resources 50000] [--queries 100]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
os.environ.setdefault("ZHOUXIN_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from zhouxin.cobuild import matching  # noqa: E402
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius  # noqa: E402
from zhouxin.cobuild.models import Need, Project, Resource  # noqa: E402
from zhouxin.cobuild.text import terms_of  # noqa: E402
from zhouxin.core.models import User  # noqa: E402
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


def run(layout: str, resources: int, queries: int, user, rng: random.Random) -> dict:
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
    latencies, candidates, kind_fit = [], [], []
    for need in needs[1:]:
        t0 = time.perf_counter()
        ranked = matching.resources_for_need(need, limit=10, today=today)
        elapsed = (time.perf_counter() - t0) * 1000
        latencies.append(elapsed)
        if need.category in matching.KIND_FITS:
            kind_fit.append(elapsed)
        assert len(ranked) <= 10
        candidates.append(_candidates(need, today))
    latencies.sort()
    kind_fit.sort()
    return {"p50": statistics.median(latencies), "p95": _p95(latencies), "max": latencies[-1],
            "candidates": statistics.mean(candidates),
            "kind_fit_p95": _p95(kind_fit) if kind_fit else 0.0, "kind_fit_share": len(kind_fit) / len(latencies)}


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
    args = parser.parse_args()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with scopes_disabled():
            user = User.objects.create_user(username="bench", password="Bench-Matching-2026!")
            print(f"matching bench on {connection.vendor}: top 10 among {args.resources:,} resources, "
                  f"{args.queries} needs (budget: p95 < 50 ms)")
            layouts = ["city", "district"] if args.layout == "both" else [args.layout]
            worst = 0.0
            for layout in layouts:
                t0 = time.perf_counter()
                result = run(layout, args.resources, args.queries, user, random.Random(6))
                # The next layout adds its own resources: clear this one's so each has exactly N.
                Resource.objects.unscoped().all().delete()
                worst = max(worst, result["p95"])
                print(f"  {layout:8s} p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
                      f"max {result['max']:6.1f} ms  prefiltered {result['candidates']:6.0f}  "
                      f"(set-up {time.perf_counter() - t0:.0f} s)")
                print(f"           needs matched by kind too (venue, goods; {result['kind_fit_share']:.0%}): "
                      f"p95 {result['kind_fit_p95']:.1f} ms")
            print(f"  budget {'met' if worst < 50 else 'MISSED'}: worst p95 {worst:.1f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
