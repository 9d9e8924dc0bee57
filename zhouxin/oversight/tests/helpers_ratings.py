"""Fake indicators for the ratings tests: the rating rule's indicator names, with values the test
sets per area code, so the tests do not depend on the other domains' indicators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.oversight.policy import WEIGHTS
from zhouxin.oversight.ratings import SATISFACTION, VACANCY

D = Decimal
DUOFU, YINZHA, JIXIANG = "110101001001", "110101001002", "110101002001"
STREET_A, STREET_B = "110101001", "110101002"

UNITS = {
    "dispatch.composite": indicators.PERCENT,
    "cobuild.needs_matched_rate": indicators.PERCENT,
    "volunteers.hours": indicators.HOURS,
    "volunteers.wishes_rate": indicators.PERCENT,
    "funds.execution_rate": indicators.PERCENT,
    "centers.utilisation": indicators.PERCENT,
    "workforce.certified_share": indicators.PERCENT,
    SATISFACTION: indicators.PERCENT,
    VACANCY: indicators.DAYS,
}


class Board:
    """Indicator values by name and area code; set() (re)registers the named indicator."""

    def __init__(self):
        self.values: dict[str, dict[str, object]] = {}
        self.calls: list[tuple[str, str]] = []

    def set(self, name: str, values: dict[str, object]) -> None:
        self.values[name] = dict(values)

        def compute(areas, period, name=name):
            self.calls.append((name, period.key))
            table = self.values.get(name, {})
            return {a.pk: table[a.code] for a in areas if a.code in table}

        def link(area, period, name=name):
            return f"/records/{name}/{area.code}/{period.key}/"

        indicators.register(name, title=f"测试指标{name}", unit=UNITS[name], domain="测试", compute=compute,
                            link=link, higher_is_better=name != VACANCY)

    def drop(self, name: str) -> None:
        self.values.pop(name, None)
        indicators.unregister(name)


def fake_board():
    """For a fixture (`yield from fake_board()`): every indicator the rating reads is unregistered
    for the test; the test registers the ones it needs with board.set(); the real registrations
    come back afterwards."""
    saved = dict(indicators._INDICATORS)
    for name in [*WEIGHTS.values(), SATISFACTION, VACANCY]:
        indicators.unregister(name)
    yield Board()
    indicators._INDICATORS.clear()
    indicators._INDICATORS.update(saved)


def this_month() -> Period:
    return Period.of(indicators.MONTH, timezone.localdate())


def last_month() -> Period:
    return this_month().previous()


def period_ago(months: int) -> Period:
    period = this_month()
    for _ in range(months):
        period = period.previous()
    return period


def today() -> dt.date:
    return timezone.localdate()
