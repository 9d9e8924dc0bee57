"""Test data of the reports part: small fake indicators with known values (and gaps), key
problems, ratings and rectifications with chosen dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core.indicators import MONTH, Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import reports
from zhouxin.oversight.choices import FlagStatus, ProblemStatus
from zhouxin.oversight.models import KeyProblem, Rating, Rectification, Report

RATE = "测试服务满意率"
HOURS = "测试志愿服务时长"
BROKEN = "测试故障指标"


def this_month() -> Period:
    return Period.of(MONTH, timezone.localdate())


def last_month() -> Period:
    return this_month().previous()


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@dataclass
class FakeIndicators:
    """The registry holds only these three: a rate, hours and one whose computation fails.

    Values of last month (the report's period), the month before and the same month last year:
        rate   东华门街道 0.8 / 0.7 / —      多福巷社区 0.875   银闸社区 —
        hours  东华门街道 120.5 / — / 100    多福巷社区 80      银闸社区 40.5
        broken nothing (its compute raises)
    A street report of last month: 9 headline figures (3 × 3, filled 4), 6 children figures
    (filled 3), 1 rectification count and 4 key-problem counts (always filled): 20 figures,
    12 filled, 8 without data.
    """

    values: dict
    seen: list

    def set(self, name: str, period: Period, area, value) -> None:
        self.values.setdefault(name, {}).setdefault(period.key, {})[area.pk] = value


def install_fake_indicators(monkeypatch, personas, probe=None) -> FakeIndicators:
    monkeypatch.setattr(indicators, "_INDICATORS", {})
    fake = FakeIndicators(values={}, seen=[])
    a = personas.areas
    month = last_month()
    fake.set("test.rate", month, a["street_a"], Decimal("0.8"))
    fake.set("test.rate", month.previous(), a["street_a"], Decimal("0.7"))
    fake.set("test.rate", month, a["community_a"], Decimal("0.875"))
    fake.set("test.rate", month, a["dongcheng"], Decimal("0.75"))
    fake.set("test.rate", month, a["street_b"], Decimal("0.6"))
    fake.set("test.hours", month, a["street_a"], Decimal("120.5"))
    fake.set("test.hours", reports.same_period_last_year(month), a["street_a"], Decimal("100"))
    fake.set("test.hours", month, a["community_a"], Decimal("80"))
    fake.set("test.hours", month, a["community_a2"], Decimal("40.5"))

    def compute(name):
        def run(areas, period):
            if probe is not None:
                probe(name, areas, period)
            known = fake.values.get(name, {}).get(period.key, {})
            return {area.pk: known[area.pk] for area in areas if area.pk in known}
        return run

    def broken(areas, period):
        raise RuntimeError("a domain's bug")

    def link(area, period):
        return f"/records/{area.code}/{period.key}/"

    indicators.register("test.rate", title=RATE, unit=indicators.PERCENT, domain="测试领域", compute=compute("test.rate"),
                        link=link, order=1, description="满意的评价 ÷ 全部评价")
    indicators.register("test.hours", title=HOURS, unit=indicators.HOURS, domain="测试领域",
                        compute=compute("test.hours"), link=link, order=2, description="核实的服务时长")
    indicators.register("test.broken", title=BROKEN, unit=indicators.COUNT, domain="测试领域", compute=broken,
                        order=3)
    return fake


def make_report(personas, persona: str = "street_hub", area: str = "street_a", period: Period | None = None,
                language: str = "zh-hans") -> Report:
    with scopes_disabled():
        return reports.report_create(actor=personas.users[persona], area=personas.areas[area],
                                     period=period or last_month(), language=language)


def generate(report: Report) -> Report:
    reports.report_generate(report.pk)
    with scopes_disabled():
        return Report.objects.unscoped().get(pk=report.pk)


def problem(personas, area: str, title: str, *, created: dt.datetime, deadline: dt.date,
            closed: dt.datetime | None = None) -> KeyProblem:
    with scopes_disabled():
        item = KeyProblem.objects.unscoped().create(
            area=personas.areas[area], year=deadline.year, title=title, description="问题描述", owner="李淑珍",
            lead_org=personas.orgs["street_a_committee"], target="年内解决", deadline=deadline,
            status=ProblemStatus.CLOSED if closed else ProblemStatus.IN_PROGRESS, closed_at=closed,
            created_by=personas.street_hub)
        KeyProblem.objects.unscoped().filter(pk=item.pk).update(created_at=created)
    return item


def rating(personas, area: str, period: Period, *, score: str | None, stars: int, rank: int = 1) -> Rating:
    with scopes_disabled():
        return Rating.objects.unscoped().create(
            area=personas.areas[area], district=personas.areas["dongcheng"], period=period.key,
            period_kind=period.kind, period_start=period.start, period_end=period.end,
            score=Decimal(score) if score is not None else None, stars=stars, rank=rank, rank_of=3,
            computed_at=timezone.now())


def rectification(personas, area: str, period: Period, *, flagged: dt.datetime,
                  closed: dt.datetime | None = None, text: str = "书记岗位空缺超过三个月") -> Rectification:
    with scopes_disabled():
        return Rectification.objects.unscoped().create(
            area=personas.areas[area], district=personas.areas["dongcheng"], period=period.key,
            reasons=[{"reason": "vacancy", "text": text}],
            status=FlagStatus.CLOSED if closed else FlagStatus.OPEN, flagged_at=flagged, closed_at=closed)
