"""Indicators: the figures each domain computes for an area and a period (DESIGN §2,
"registries, not fan-in").

Oversight (ratings, secretaries' reviews, rectification), the dashboards and the generated
reports know no domain: they iterate this registry.  A domain registers its indicators in
its AppConfig.ready():

    from zhouxin.core import indicators
    indicators.register(
        "dispatch.resolution_rate", title=gettext_lazy("解决率"), unit=indicators.PERCENT,
        domain=gettext_lazy("接诉即办"), compute=resolution_rates, link=rates_link, order=20)

`compute(areas, period)` gets a list of areas (orgs Area rows, usually of one level) and a
Period and returns {area id: value} for the areas it has a figure for, in a fixed number of
queries however many areas it is asked about (a city dashboard asks for 7,535 communities).
A value is a Decimal (a rate is a fraction 0–1 with unit PERCENT), an int, or None when the
figure does not exist (no requests to rate).  Figures come from the domain's roll-ups or its
own records, never from a form: these are the fields "the platform filled itself".

`link(area, period)` gives the staff URL of the records behind the figure (the rankings page
of that month, the community's fund ledger …), or None.

`area`s may be of any level; a domain that has nothing at a level returns nothing for it.
A compute that fails is logged and yields no values, so one domain's bug cannot take a
dashboard down; tests call `compute()` directly to see the error.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

logger = logging.getLogger("zhouxin.indicators")

PERCENT = "percent"   # a fraction 0–1 shown as 87.6%
COUNT = "count"       # a whole number of things (件, 人, 个)
HOURS = "hours"       # hours (volunteer service)
YUAN = "yuan"         # money, Decimal
DAYS = "days"
UNITS = {
    PERCENT: gettext_lazy("%"),
    COUNT: pgettext_lazy("indicator unit", "个"),
    HOURS: pgettext_lazy("indicator unit", "小时"),
    YUAN: pgettext_lazy("indicator unit", "元"),
    DAYS: pgettext_lazy("indicator unit", "天"),
}

Value = Decimal | int | None


# --- Periods ---------------------------------------------------------------------------

MONTH, QUARTER, YEAR = "month", "quarter", "year"
PERIOD_KINDS = {MONTH: gettext_lazy("月度"), QUARTER: gettext_lazy("季度"), YEAR: gettext_lazy("年度")}


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year (Asia/Shanghai dates, both ends inclusive)."""

    start: dt.date
    end: dt.date
    kind: str

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = calendar.monthrange(year, month)[1]
        return cls(dt.date(year, month, 1), dt.date(year, month, last), MONTH)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        last = calendar.monthrange(year, first + 2)[1]
        return cls(dt.date(year, first, 1), dt.date(year, first + 2, last), QUARTER)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), YEAR)

    @classmethod
    def of(cls, kind: str, day: dt.date) -> Period:
        """The period of `kind` that holds `day`."""
        if kind == MONTH:
            return cls.month(day.year, day.month)
        if kind == QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        if kind == YEAR:
            return cls.year(day.year)
        raise ValueError(kind)

    @classmethod
    def parse(cls, text: str | None) -> Period:
        """"2026-10" (a month), "2026-Q3" (a quarter) or "2026" (a year); a clear message otherwise."""
        value = (text or "").strip().upper()
        try:
            if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
                year, month = int(m[1]), int(m[2])
                if 1 <= month <= 12:
                    period = cls.month(year, month)
                else:
                    raise ValueError
            elif m := re.fullmatch(r"(\d{4})-?Q([1-4])", value):
                period = cls.quarter(int(m[1]), int(m[2]))
            elif re.fullmatch(r"\d{4}", value):
                period = cls.year(int(value))
            else:
                raise ValueError
        except ValueError:
            raise ValidationError(_("统计期格式不正确，应为“2026-10”（月）、“2026-Q3”（季）或“2026”（年）。")) from None
        if not 2000 <= period.start.year <= 2099:
            raise ValidationError(_("统计期应在 2000 年到 2099 年之间。"))
        return period

    @property
    def key(self) -> str:
        """The inverse of parse(): "2026-10", "2026-Q3", "2026"."""
        if self.kind == MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return _("%(year)d年%(month)d月") % {"year": self.start.year, "month": self.start.month}
        if self.kind == QUARTER:
            return _("%(year)d年第%(q)d季度") % {"year": self.start.year, "q": (self.start.month - 1) // 3 + 1}
        return _("%(year)d年") % {"year": self.start.year}

    def months(self) -> list[dt.date]:
        """The first day of each month of the period."""
        out, day = [], self.start
        while day <= self.end:
            out.append(day)
            day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return out

    def previous(self) -> Period:
        return Period.of(self.kind, self.start - dt.timedelta(days=1))

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first moment, moment after the last day) as aware datetimes of the current time zone,
        for filtering timestamps: `created_at__gte=start, created_at__lt=end`."""
        tz = timezone.get_current_timezone()
        after = self.end + dt.timedelta(days=1)
        return (timezone.make_aware(dt.datetime(self.start.year, self.start.month, self.start.day), tz),
                timezone.make_aware(dt.datetime(after.year, after.month, after.day), tz))

    def as_of(self, today: dt.date | None = None) -> dt.date:
        """The day a stock figure ("members registered at the period's end") is read on: the
        period's last day, or today for a period not yet over."""
        return min(self.end, today or timezone.localdate())


# --- The registry ----------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    name: str
    title: str | Promise
    unit: str
    domain: str | Promise
    compute: Callable[[Sequence, Period], dict[int, Value]]
    link: Callable[[object, Period], str | None] | None = None
    higher_is_better: bool = True
    description: str | Promise = ""
    order: int = 100

    @property
    def unit_label(self) -> str:
        return str(UNITS.get(self.unit, self.unit))

    def format(self, value: Value) -> str:
        return format_value(value, self.unit)


_INDICATORS: dict[str, Indicator] = {}


def register(name: str, *, title, unit: str, domain, compute, link=None, higher_is_better: bool = True,
             description="", order: int = 100) -> None:
    """Add (or, on re-registration in autoreload and tests, replace) an indicator."""
    if unit not in UNITS:
        raise ValueError(f"unknown indicator unit {unit!r}")
    _INDICATORS[name] = Indicator(name=name, title=title, unit=unit, domain=domain, compute=compute, link=link,
                                  higher_is_better=higher_is_better, description=description, order=order)


def unregister(name: str) -> None:
    _INDICATORS.pop(name, None)


def indicators() -> list[Indicator]:
    return sorted(_INDICATORS.values(), key=lambda i: (i.order, i.name))


def get(name: str) -> Indicator:
    return _INDICATORS[name]


def exists(name: str) -> bool:
    return name in _INDICATORS


def compute(name: str, areas: Sequence, period: Period) -> dict[int, Value]:
    """One indicator for many areas; errors propagate (for tests and the command line)."""
    areas = list(areas)
    if not areas:
        return {}
    return dict(get(name).compute(areas, period))


def compute_many(names: Iterable[str] | None, areas: Sequence, period: Period) -> dict[str, dict[int, Value]]:
    """Several indicators (all when `names` is None) for many areas: {name: {area id: value}}.
    An indicator whose computation fails is logged and gives {} (its figures show as "—")."""
    areas = list(areas)
    chosen = [i.name for i in indicators()] if names is None else list(names)
    out: dict[str, dict[int, Value]] = {}
    for name in chosen:
        try:
            out[name] = compute(name, areas, period)
        except Exception:  # one domain's bug must not take a dashboard or a report down
            logger.exception("indicator %s failed for %s", name, period.key)
            out[name] = {}
    return out


def link(name: str, area, period: Period) -> str | None:
    indicator = get(name)
    if indicator.link is None:
        return None
    try:
        return indicator.link(area, period)
    except Exception:
        logger.exception("indicator link %s failed", name)
        return None


# --- Helpers for computes -------------------------------------------------------------

# The levels whose figures are sums over their subtree (a street = all its communities …).
AGGREGATE_LEVELS = ("city", "district", "street", "community")


@dataclass(frozen=True)
class CodeGroup:
    """Areas whose codes have the same length (one level), for one grouped query:
    filter the records by `common` (the codes' common prefix, an index range), annotate
    `Substr(code, 1, length)` and read each row's node back through `ids`."""

    length: int
    common: str
    ids: dict[str, int]  # area code → area id


def code_groups(areas: Iterable, levels: Iterable[str] = AGGREGATE_LEVELS) -> list[CodeGroup]:
    """The areas of the given levels, grouped by code length (usually one group).  Codes are
    hierarchical (DESIGN §3 orgs), so an area's records are those whose area code starts with
    its code; a compute runs one query per group, whatever the number of areas."""
    wanted = set(levels)
    by_length: dict[int, dict[str, int]] = {}
    for area in areas:
        if area.level in wanted:
            by_length.setdefault(len(area.code), {})[area.code] = area.pk
    return [CodeGroup(length, os.path.commonprefix(list(ids)), ids) for length, ids in sorted(by_length.items())]


def share(part, whole) -> Decimal | None:
    """part ÷ whole as a Decimal fraction (unit PERCENT), None when there is nothing to divide by."""
    if not whole:
        return None
    return Decimal(part) / Decimal(whole)


# --- Showing values ---------------------------------------------------------------------

HUNDRED = Decimal(100)
ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")
DASH = "—"


def format_value(value: Value, unit: str) -> str:
    """87.6% / 1,234 / 56.5 小时 / 12,000.00 元 / "—"."""
    if value is None:
        return DASH
    if unit == PERCENT:
        return f"{(Decimal(value) * HUNDRED).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)}%"
    if unit == YUAN:
        return f"{Decimal(value).quantize(TWO_DECIMALS, rounding=ROUND_HALF_UP):,}"
    if unit == HOURS:
        return f"{Decimal(value).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP):,}"
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP):,}"
    return f"{int(value):,}"
