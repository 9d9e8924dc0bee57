"""The working-day calendar: official holidays and adjusted workdays (调休), and deadlines on it.

The calendar table (CalendarYear, CalendarDay) holds, per published year, only
the days that differ from the default week (Monday–Friday work, Saturday and
Sunday rest): holidays on weekdays and adjusted workdays on weekends.  It is
seeded from the `chinese-calendar` package for the years that package knows
(`calendar_seed`) and edited by an administrator when the State Council
publishes a new year (`calendar_year_publish`).

A year that is not in the table, or not published, falls back to weekends
plus the fixed-date public holidays of the policy rule "core.calendar"
(元旦 1/1, 劳动节 5/1, 国庆节 10/1–10/3 by default), and everything computed
from it is marked provisional.  Nothing here raises for any date: a database
that cannot be read also falls back (provisional) rather than failing intake.

Working time is counted on a 24-hour clock per working day: a deadline of N
working days is N × 24 hours of working-day time.  A request received on
Tuesday at 10:00 with 1 working day is due Wednesday 10:00; one received on
Friday at 10:00 is due Monday 10:00 (14 h of Friday + 10 h of Monday); one
received on Saturday is due at the end of Monday (Tuesday 00:00).  Office
hours are deliberately not used: 12345 hotline time limits are counted in
working days, and a 24-hour working-day clock gives the same due dates while
keeping the time of day the resident submitted at.

Year data is cached in-process; publishing a year or changing the
"core.calendar" rule clears the cache at once in this process, and every other
process re-reads a year after CACHE_SECONDS.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger("zhouxin.workdays")

CACHE_SECONDS = 60
DAY = dt.timedelta(days=1)
MIN_EDIT_YEAR, MAX_EDIT_YEAR = 1949, 2200
WEEKDAY_NAMES = (gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"), gettext_lazy("周四"),
                 gettext_lazy("周五"), gettext_lazy("周六"), gettext_lazy("周日"))


@dataclass(frozen=True)
class DayInfo:
    workday: bool
    provisional: bool
    name: str = ""


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    provisional: bool


@dataclass(frozen=True)
class DaySpec:
    """One day of a published year as an administrator enters it."""

    date: dt.date
    workday: bool
    name: str


@dataclass
class _Year:
    year: int
    published: bool
    overrides: dict[dt.date, tuple[bool, str]]
    loaded_at: float
    working_days: int | None = None


_cache: dict[int, _Year] = {}
_lock = threading.Lock()


def invalidate(year: int | None = None) -> None:
    """Forget cached year data (all years, or one)."""
    with _lock:
        if year is None:
            _cache.clear()
        else:
            _cache.pop(year, None)


# --- Fixed-date fallback -----------------------------------------------------------

_FIXED = re.compile(r"^\s*(\d{1,2})-(\d{1,2})\s+(\S.*?)\s*$")


def parse_fixed_holiday(line: str) -> tuple[int, int, str]:
    """"10-01 国庆节" → (10, 1, "国庆节"); ValidationError in Chinese otherwise."""
    match = _FIXED.match(str(line))
    if not match:
        raise ValidationError(_("“%(line)s”格式不对，应为“月-日 名称”，例如“10-01 国庆节”。") % {"line": line})
    month, day, name = int(match[1]), int(match[2]), match[3]
    try:
        dt.date(2000, month, day)  # a leap year, so 02-29 is accepted (it applies in leap years)
    except ValueError:
        raise ValidationError(_("“%(line)s”不是有效的日期。") % {"line": line}) from None
    return month, day, name[:32]


def _fallback_overrides(year: int) -> dict[dt.date, tuple[bool, str]]:
    from . import policy

    try:
        rule = policy.get("core.calendar", on=dt.date(year, 1, 1))
        lines = rule["fixed_holidays"]
    except Exception:  # never fail a deadline over the rule store
        logger.exception("core.calendar rule unreadable; using the built-in fixed holidays")
        lines = policy.definition("core.calendar").default["fixed_holidays"]
    overrides: dict[dt.date, tuple[bool, str]] = {}
    for line in lines:
        try:
            month, day, name = parse_fixed_holiday(line)
            overrides[dt.date(year, month, day)] = (False, name)
        except (ValidationError, ValueError):  # 02-29 in a common year, or a bad stored line
            continue
    return overrides


# --- Year data ----------------------------------------------------------------------

def _load(year: int) -> _Year:
    from .models import CalendarDay, CalendarYear

    try:
        published = CalendarYear.objects.filter(year=year, published=True).exists()
        if published:
            overrides = {
                day: (workday, name)
                for day, workday, name in CalendarDay.objects.filter(year_id=year).values_list(
                    "date", "is_workday", "name")
            }
            return _Year(year, True, overrides, time.monotonic())
    except Exception:  # a database that cannot be read must not stop a deadline
        logger.exception("calendar year %s unreadable; falling back to fixed holidays", year)
    return _Year(year, False, _fallback_overrides(year), time.monotonic())


def _year(year: int) -> _Year:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(year)
    if cached is not None and now - cached.loaded_at < CACHE_SECONDS:
        return cached
    loaded = _load(year)
    with _lock:
        _cache[year] = loaded
    return loaded


def _default_workday(day: dt.date) -> bool:
    return day.weekday() < 5


def _day(day: dt.date) -> tuple[bool, bool, str]:
    data = _year(day.year)
    workday, name = data.overrides.get(day, (_default_workday(day), ""))
    return workday, not data.published, name


def is_workday(day: dt.date | dt.datetime) -> DayInfo:
    """Whether `day` is a working day, whether that is provisional, and the holiday's name."""
    day = _local_date(day)
    workday, provisional, name = _day(day)
    return DayInfo(workday=workday, provisional=provisional, name=name)


def _weekdays_between(first: dt.date, last: dt.date) -> int:
    """Monday–Friday days in [first, last] (0 when last < first)."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    start = first.weekday()
    count += sum(1 for i in range(rest) if (start + i) % 7 < 5)
    return count


def _count_in_year(year: int, first: dt.date, last: dt.date) -> tuple[int, bool]:
    """Working days in [first, last] (both inside `year`), and whether that year is provisional."""
    data = _year(year)
    count = _weekdays_between(first, last)
    for day, (workday, _name) in data.overrides.items():
        if first <= day <= last and workday != _default_workday(day):
            count += 1 if workday else -1
    return count, not data.published


def _year_working_days(year: int) -> tuple[int, bool]:
    data = _year(year)
    if data.working_days is None:
        data.working_days = _count_in_year(year, dt.date(year, 1, 1), dt.date(year, 12, 31))[0]
    return data.working_days, not data.published


def _count(first: dt.date, last: dt.date) -> tuple[int, bool]:
    """Working days in [first, last], and whether any year consulted is provisional."""
    total, provisional = 0, False
    year = first.year
    while first <= last:
        year_end = dt.date(year, 12, 31)
        segment_end = min(last, year_end)
        if first == dt.date(year, 1, 1) and segment_end == year_end:
            count, prov = _year_working_days(year)
        else:
            count, prov = _count_in_year(year, first, segment_end)
        total += count
        provisional = provisional or prov
        if segment_end == dt.date.max:
            break
        first = segment_end + DAY
        year += 1
    return total, provisional


def working_days_between(a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
    """Working days after a's date up to and including b's date (negative when b is before a)."""
    first, last = _local_date(a), _local_date(b)
    if first == last:
        return 0
    if first < last:
        return _count(first + DAY, last)[0]
    return -_count(last + DAY, first)[0]


# --- Deadlines ----------------------------------------------------------------------

def _local_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            try:
                return timezone.localtime(value).date()
            except OverflowError:
                return value.date()
        return value.date()
    return value


def _local_wall(start) -> dt.datetime:
    """The start as a naive local wall-clock time (aware → Asia/Shanghai; naive taken as local)."""
    if isinstance(start, dt.datetime):
        if timezone.is_aware(start):
            try:
                return timezone.localtime(start).replace(tzinfo=None)
            except OverflowError:
                return start.replace(tzinfo=None)
        return start
    return dt.datetime.combine(start, dt.time.min)


def _aware(wall: dt.datetime) -> dt.datetime:
    return wall.replace(tzinfo=timezone.get_current_timezone())


_MAX_WALL = dt.datetime.max
_MIN_WALL = dt.datetime.combine(dt.date.min + DAY, dt.time.min)


def add_working_hours(start, hours) -> Deadline:
    """`start` plus `hours` of working-day time (24 hours per working day; see the module docstring).

    Negative hours count backwards.  A result beyond the representable dates is
    clamped to the first or last representable day and marked provisional.
    """
    wall = _local_wall(start)
    try:
        amount = float(hours)
    except (TypeError, ValueError, OverflowError):
        amount = 0.0
    if amount != amount:  # NaN
        amount = 0.0
    try:
        remaining = dt.timedelta(hours=amount)
    except OverflowError:
        remaining = dt.timedelta(days=999_999_999 if amount > 0 else -999_999_999)
    if not remaining:
        return Deadline(_aware(wall), False)
    if remaining > dt.timedelta(0):
        at, provisional = _forward(wall, remaining)
    else:
        at, provisional = _backward(wall, -remaining)
    return Deadline(_aware(at), provisional)


def add_working_days(start, days: int) -> Deadline:
    """`start` plus `days` working days (each 24 hours of working-day time)."""
    try:
        hours = int(days) * 24
    except (TypeError, ValueError, OverflowError):
        hours = 0
    return add_working_hours(start, hours)


def _forward(pos: dt.datetime, remaining: dt.timedelta) -> tuple[dt.datetime, bool]:
    provisional = False
    while True:
        day = pos.date()
        # Jump over whole years while the remaining time is longer than their working time.
        if day.month == 1 and day.day == 1 and pos.time() == dt.time.min:
            working, prov = _year_working_days(day.year)
            if remaining > dt.timedelta(days=working):
                provisional = provisional or prov
                if day.year >= dt.MAXYEAR:
                    return _MAX_WALL, True
                remaining -= dt.timedelta(days=working)
                pos = dt.datetime(day.year + 1, 1, 1)
                continue
        workday, prov, _name = _day(day)
        if day == dt.date.max:  # the last representable day: clamp
            if workday and remaining <= _MAX_WALL - pos:
                return pos + remaining, True
            return _MAX_WALL, True
        next_midnight = dt.datetime.combine(day + DAY, dt.time.min)
        if workday:
            provisional = provisional or prov
            available = next_midnight - pos
            if remaining <= available:
                return pos + remaining, provisional
            remaining -= available
        pos = next_midnight


def _backward(pos: dt.datetime, remaining: dt.timedelta) -> tuple[dt.datetime, bool]:
    provisional = False
    while True:
        day = pos.date()
        if pos.time() == dt.time.min:  # at midnight the time before belongs to the previous day
            if day <= _MIN_WALL.date():
                return _MIN_WALL, True
            if day.month == 1 and day.day == 1:
                working, prov = _year_working_days(day.year - 1)
                if remaining > dt.timedelta(days=working):
                    provisional = provisional or prov
                    remaining -= dt.timedelta(days=working)
                    pos = dt.datetime(day.year - 1, 1, 1)
                    continue
            day = day - DAY
            day_start = dt.datetime.combine(day, dt.time.min)
        else:
            day_start = dt.datetime.combine(day, dt.time.min)
        workday, prov, _name = _day(day)
        if workday:
            provisional = provisional or prov
            available = pos - day_start
            if remaining <= available:
                return pos - remaining, provisional
            remaining -= available
        pos = day_start


# --- Seeding from chinese-calendar ------------------------------------------------------

@dataclass
class SeedResult:
    years: list[int]
    changed: list[int]
    skipped_admin: list[int]


def _package_days() -> dict[int, dict[dt.date, tuple[bool, str]]]:
    from chinese_calendar.constants import Holiday, holidays, workdays

    names = {h.value: h.chinese for h in Holiday}
    by_year: dict[int, dict[dt.date, tuple[bool, str]]] = {
        year: {} for year in range(min(holidays).year, max(holidays).year + 1)
    }
    for day, english in holidays.items():
        if _default_workday(day):
            by_year[day.year][day] = (False, names.get(english, english)[:32])
    for day, english in workdays.items():
        if not _default_workday(day) and day.year in by_year:
            by_year[day.year][day] = (True, f"{names.get(english, english)}调休"[:32])
    return by_year


@transaction.atomic
def calendar_seed(*, actor=None) -> SeedResult:
    """Store every year the chinese-calendar package knows, only the days that differ from the default week.

    Idempotent: a year already stored with the same days is left alone, and a
    year an administrator published (source "admin") is never overwritten.
    One audit entry lists the years that changed, if any did.
    """
    from . import audit
    from .models import CalendarDay, CalendarYear

    wanted = _package_days()
    existing = CalendarYear.objects.in_bulk(list(wanted))
    stored: dict[int, dict[dt.date, tuple[bool, str]]] = {}
    for day, year, workday, name in CalendarDay.objects.filter(year_id__in=list(wanted)).values_list(
            "date", "year_id", "is_workday", "name"):
        stored.setdefault(year, {})[day] = (workday, name)
    changed, skipped = [], []
    new_days = []
    for year, days in sorted(wanted.items()):
        current = existing.get(year)
        if current is not None and current.source == CalendarYear.SOURCE_ADMIN:
            skipped.append(year)
            continue
        if current is not None and current.published and stored.get(year, {}) == days:
            continue
        changed.append(year)
        CalendarDay.objects.filter(year_id=year).delete()
        CalendarYear.objects.update_or_create(
            year=year, defaults={"published": True, "source": CalendarYear.SOURCE_SEED,
                                 "note": "chinese-calendar"})
        new_days.extend(CalendarDay(date=d, year_id=year, is_workday=w, name=n) for d, (w, n) in days.items())
    if new_days:
        CalendarDay.objects.bulk_create(new_days, batch_size=500)
    if changed:
        audit.record(actor=actor, action="core.calendar.seeded", object_type="core.calendaryear",
                     object_repr=_("节假日日历初始化"), after={"years": changed})
        transaction.on_commit(invalidate)
        invalidate()
    return SeedResult(years=sorted(wanted), changed=changed, skipped_admin=skipped)


# --- Publishing a year (administrator) ----------------------------------------------------

_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_LINE = re.compile(rf"^{_DATE}(?:\s*\.\.\s*{_DATE})?\s+(.+)$")
_REST = {"休": False, "放假": False, "休息": False, "班": True, "上班": True, "补班": True}
MAX_RANGE_DAYS = 31


def _line_error(number: int, message: str) -> str:
    return _("第 %(n)d 行：%(message)s") % {"n": number, "message": message}


def _parse_date(parts, number: int, errors: list[str]) -> dt.date | None:
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        errors.append(_line_error(number, _("日期 %(d)s 不存在。") % {"d": "-".join(parts)}))
        return None


def parse_year_lines(year: int, text: str) -> list[DaySpec]:
    """Lines like "2027-01-01 元旦 休", "2027-02-07 春节调休 班", "2027-02-10..2027-02-16 春节 休".

    Blank lines and lines starting with # are ignored.  Every problem is
    reported with its line number (ValidationError with all of them); days a
    range covers that are rest days anyway (weekends) are dropped, since only
    days that differ from the default week are stored.
    """
    errors: list[str] = []
    seen: dict[dt.date, int] = {}
    days: list[DaySpec] = []
    for number, raw in enumerate(str(text).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            errors.append(_line_error(number, _("无法识别，应为“2027-01-01 元旦 休”或“2027-02-10..2027-02-16 春节 休”。")))
            continue
        first = _parse_date(match.groups()[0:3], number, errors)
        last = _parse_date(match.groups()[3:6], number, errors) if match[4] else first
        words = match[7].split()
        kind = words[-1]
        if kind not in _REST:
            errors.append(_line_error(number, _("最后一项应为“休”或“班”。")))
            continue
        workday = _REST[kind]
        name = " ".join(words[:-1])[:32]
        if first is None or last is None:
            continue
        if not workday and not name:
            errors.append(_line_error(number, _("放假的日子需要写明节日名称。")))
            continue
        name = name or _("调休")
        if first.year != year or last.year != year:
            bad = first if first.year != year else last
            errors.append(_line_error(number, _("日期 %(d)s 不在 %(y)d 年。") % {"d": bad.isoformat(), "y": year}))
            continue
        if last < first:
            errors.append(_line_error(number, _("结束日期早于开始日期。")))
            continue
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            errors.append(_line_error(number, _("一段日期最长 %(n)d 天。") % {"n": MAX_RANGE_DAYS}))
            continue
        if first == last and workday and _default_workday(first):
            errors.append(_line_error(number, _("%(d)s 是%(wd)s，本来就是工作日，不需要标为“班”。")
                                      % {"d": first.isoformat(), "wd": WEEKDAY_NAMES[first.weekday()]}))
            continue
        day = first
        while day <= last:
            if day in seen:
                errors.append(_line_error(number, _("%(d)s 与第 %(m)d 行重复。") % {"d": day.isoformat(), "m": seen[day]}))
                break
            seen[day] = number
            if workday != _default_workday(day):
                days.append(DaySpec(day, workday, name))
            day += DAY
    if errors:
        raise ValidationError(errors)
    return sorted(days, key=lambda d: d.date)


def format_year_lines(days: list[DaySpec]) -> str:
    """The inverse of parse_year_lines: holiday runs bridged over weekends become ranges again."""
    lines: list[str] = []
    holidays = sorted((d for d in days if not d.workday), key=lambda d: d.date)
    by_date = {d.date: d for d in days}
    run: list[DaySpec] = []

    def flush():
        if not run:
            return
        first, last = run[0].date, run[-1].date
        span = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
        lines.append((first, f"{span} {run[0].name} 休"))

    for spec in holidays:
        if run and spec.name == run[-1].name:
            gap = run[-1].date + DAY
            while gap < spec.date and gap not in by_date and not _default_workday(gap):
                gap += DAY
            if gap == spec.date:
                run.append(spec)
                continue
        flush()
        run = [spec]
    flush()
    for spec in days:
        if spec.workday:
            lines.append((spec.date, f"{spec.date.isoformat()} {spec.name} 班"))
    return "\n".join(text for _d, text in sorted(lines))


@transaction.atomic
def calendar_year_publish(*, actor, year: int, days: list[DaySpec], note: str = ""):
    """Publish (or re-publish) a year's holidays and adjusted workdays, replacing what was stored.

    For when the State Council publishes the next year's schedule (usually in
    November): from then on deadlines in that year are no longer provisional.
    Only days that differ from the default week are stored.
    """
    from . import audit
    from .models import CalendarDay, CalendarYear
    from .permissions import ensure_can

    ensure_can(actor, "core.calendar.edit")
    if not MIN_EDIT_YEAR <= int(year) <= MAX_EDIT_YEAR:
        raise ValidationError(_("年份应在 %(a)d 到 %(b)d 之间。") % {"a": MIN_EDIT_YEAR, "b": MAX_EDIT_YEAR})
    seen: set[dt.date] = set()
    for spec in days:
        if spec.date.year != year:
            raise ValidationError(_("日期 %(d)s 不在 %(y)d 年。") % {"d": spec.date.isoformat(), "y": year})
        if spec.date in seen:
            raise ValidationError(_("%(d)s 重复。") % {"d": spec.date.isoformat()})
        seen.add(spec.date)
    kept = [s for s in days if s.workday != _default_workday(s.date)]
    current = CalendarYear.objects.filter(year=year).first()
    before = None
    if current is not None:
        before = {
            "published": current.published, "source": current.source, "note": current.note,
            "days": [[d.isoformat(), w, n] for d, w, n in CalendarDay.objects.filter(year_id=year)
                     .order_by("date").values_list("date", "is_workday", "name")],
        }
        CalendarDay.objects.filter(year_id=year).delete()
        current.published = True
        current.source = CalendarYear.SOURCE_ADMIN
        current.note = note[:200]
        current.save(update_fields=["published", "source", "note", "updated_at"])
    else:
        current = CalendarYear.objects.create(year=year, published=True, source=CalendarYear.SOURCE_ADMIN,
                                              note=note[:200])
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=s.date, year=current, is_workday=s.workday, name=s.name[:32]) for s in kept])
    audit.record(
        actor=actor, action="core.calendar.published", obj=current, object_repr=str(year), before=before,
        after={"published": True, "source": CalendarYear.SOURCE_ADMIN, "note": note[:200],
               "days": [[s.date.isoformat(), s.workday, s.name] for s in kept]},
    )
    invalidate(year)
    transaction.on_commit(lambda: invalidate(year))
    return current


def stored_days(year: int) -> list[DaySpec]:
    from .models import CalendarDay

    return [DaySpec(d, w, n) for d, w, n in CalendarDay.objects.filter(year_id=year).order_by("date")
            .values_list("date", "is_workday", "name")]
