"""The three rates (三率), composite score, monthly rankings, 治理类 flags and 每月一题.

Everything here reads the roll-ups (Rollup, CategoryRollup), never raw requests,
so a ranking costs a few indexed queries whatever the number of requests.

Rates (DESIGN §3 dispatch; weights from policy "dispatch.rates"):
  response rate     = responded_in_time / response_due
  resolution rate   = (resolved + partly × partly_resolved_weight) / callbacks
  satisfaction rate = (satisfied + basic × basic_satisfied_weight) / evaluated
Invalid requests are already out of every denominator and numerator: their
invalidation took their counters back (rollups.py).  A rate whose denominator is
0 is None and shows as "—", never as 0 % or a division error.
Composite = the weighted mean of the rates that exist (weights response_weight,
resolution_weight, satisfaction_weight, renormalised over the rates present), so
a month without callbacks is scored on response alone rather than punished with 0.
All arithmetic is Decimal; rates are shown as percentages with one decimal.

Publication scope (who sees what) is `Viewer`: the district's street ranking is
published to every street and community of the district (as Beijing publishes
its monthly 接诉即办 rankings), but figures below street level only to the
district, the street itself and the community itself; department rankings to
the district and the departments.  Those reads are therefore made with the
models' unscoped managers and bounded here, explicitly, by the Viewer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit, policy
from zhouxin.core.choices import Role
from zhouxin.core.permissions import ensure_can
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from .models import Category, CategoryRollup, MonthlyTheme, Rollup
from .rollups import COUNTER_FIELDS

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)
DASH = "—"


# --- Months ------------------------------------------------------------------------

def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


MONTH_MIN = dt.date(2000, 1, 1)
MONTH_MAX = dt.date(2099, 12, 1)


def parse_month(value: str | None) -> dt.date:
    """"2026-03" → date(2026, 3, 1); a clear message for anything else."""
    text = (value or "").strip()
    try:
        month = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValidationError(_("月份格式不正确，应为“年-月”，例如 2026-03。")) from None
    if not MONTH_MIN <= month <= MONTH_MAX:
        raise ValidationError(_("月份应在 2000 年到 2099 年之间。"))
    return month


# --- Weights and rates --------------------------------------------------------------

@dataclass(frozen=True)
class Weights:
    partly: Decimal
    basic: Decimal
    response: Decimal
    resolution: Decimal
    satisfaction: Decimal
    bottom_share: Decimal


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def weights(*, city=None, on: dt.date | None = None) -> Weights:
    rule = policy.get("dispatch.rates", city=city, on=on)
    return Weights(partly=_dec(rule["partly_resolved_weight"]), basic=_dec(rule["basic_satisfied_weight"]),
                   response=_dec(rule["response_weight"]), resolution=_dec(rule["resolution_weight"]),
                   satisfaction=_dec(rule["satisfaction_weight"]), bottom_share=_dec(rule["governance_bottom_share"]))


@dataclass(frozen=True)
class Figures:
    """The roll-up counters of one subject and period (summed over rows)."""

    received: int = 0
    invalid: int = 0
    response_due: int = 0
    responded_in_time: int = 0
    callbacks: int = 0
    resolved: int = 0
    partly: int = 0
    evaluated: int = 0
    satisfied: int = 0
    basic: int = 0
    returned: int = 0
    overdue: int = 0
    reopened: int = 0
    closed: int = 0

    @classmethod
    def of(cls, mapping) -> Figures:
        return cls(**{name: int(mapping.get(name) or 0) for name in COUNTER_FIELDS})

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{name: getattr(self, name) + getattr(other, name) for name in COUNTER_FIELDS})


def ratio(numerator: Decimal | int, denominator: int) -> Decimal | None:
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True)
class Rates:
    response: Decimal | None
    resolution: Decimal | None
    satisfaction: Decimal | None
    composite: Decimal | None


def rates_of(f: Figures, w: Weights) -> Rates:
    response = ratio(f.responded_in_time, f.response_due)
    resolution = ratio(f.resolved + f.partly * w.partly, f.callbacks)
    satisfaction = ratio(f.satisfied + f.basic * w.basic, f.evaluated)
    parts = [(rate, weight) for rate, weight in
             ((response, w.response), (resolution, w.resolution), (satisfaction, w.satisfaction))
             if rate is not None and weight > 0]
    total = sum((weight for _, weight in parts), Decimal(0))
    composite = sum((rate * weight for rate, weight in parts), Decimal(0)) / total if total else None
    return Rates(response=response, resolution=resolution, satisfaction=satisfaction, composite=composite)


def as_percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else (value * HUNDRED).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def percent(value: Decimal | None) -> str:
    """0.8756 → "87.6%"; None → "—"."""
    shown = as_percent(value)
    return DASH if shown is None else f"{shown}%"


def score(value: Decimal | None) -> str:
    """The composite as a score out of 100 with one decimal: 0.8756 → "87.6"."""
    shown = as_percent(value)
    return DASH if shown is None else f"{shown}"


def points(delta: Decimal | None) -> str:
    """A change in percentage points, signed: "+2.5", "-0.4", "0.0"; None → "—"."""
    if delta is None:
        return DASH
    shown = as_percent(delta)
    return f"+{shown}" if shown > 0 else f"{shown}"


# --- Rankings -------------------------------------------------------------------------

GOVERNANCE_REASONS = {
    "volume": gettext_lazy("诉求量高"),
    "score": gettext_lazy("综合得分低"),
}


@dataclass
class Entry:
    """One row of a ranking: a street, community or department in a month."""

    pk: int
    code: str
    name: str
    figures: Figures
    rates: Rates
    previous: Rates | None = None
    rank: int | None = None
    previous_rank: int | None = None
    governance: list[str] = field(default_factory=list)
    parent_name: str = ""

    @property
    def volume(self) -> int:
        return self.figures.received

    @property
    def response(self) -> str:
        return percent(self.rates.response)

    @property
    def resolution(self) -> str:
        return percent(self.rates.resolution)

    @property
    def satisfaction(self) -> str:
        return percent(self.rates.satisfaction)

    @property
    def composite(self) -> str:
        return score(self.rates.composite)

    @property
    def composite_change(self) -> Decimal | None:
        if self.previous is None or self.previous.composite is None or self.rates.composite is None:
            return None
        return self.rates.composite - self.previous.composite

    @property
    def composite_change_text(self) -> str:
        return points(self.composite_change)

    @property
    def rank_change(self) -> int | None:
        """Places gained since last month (positive: moved up)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def rank_change_abs(self) -> int:
        return abs(self.rank_change or 0)

    @property
    def governance_labels(self) -> list[str]:
        return [str(GOVERNANCE_REASONS[reason]) for reason in self.governance]


def competition_ranks(values: list[Decimal | None]) -> list[int | None]:
    """Standard competition ranking, highest first: ties share a rank and the next rank
    skips (1, 2, 2, 4); None (no rate at all) is not ranked."""
    ordered = sorted((v for v in values if v is not None), reverse=True)
    first_place: dict[Decimal, int] = {}
    for place, value in enumerate(ordered, start=1):
        first_place.setdefault(value, place)
    return [None if v is None else first_place[v] for v in values]


def _rank(entries: list[Entry]) -> list[Entry]:
    for entry, rank in zip(entries, competition_ranks([e.rates.composite for e in entries]), strict=True):
        entry.rank = rank
    previous = competition_ranks([e.previous.composite if e.previous else None for e in entries])
    for entry, rank in zip(entries, previous, strict=True):
        entry.previous_rank = rank
    # Ranked first by rank, ties by volume then code; then the unranked by code.
    return sorted(entries, key=lambda e: (e.rank is None, e.rank or 0, -e.volume, e.code))


def flag_governance(entries: list[Entry], share: Decimal) -> None:
    """治理类: the streets with the highest volume and those with the lowest composite,
    each the top / bottom `share` (rounded up) of the streets with requests that month;
    a street tied with the last one flagged is flagged too."""
    active = [e for e in entries if e.volume > 0]
    if not active or share <= 0:
        return
    count = math.ceil(share * len(active))
    threshold = sorted((e.volume for e in active), reverse=True)[min(count, len(active)) - 1]
    for entry in active:
        if entry.volume >= threshold:
            entry.governance.append("volume")
    scored = [e for e in active if e.rates.composite is not None]
    if not scored:
        return
    count = math.ceil(share * len(scored))
    threshold = sorted(e.rates.composite for e in scored)[min(count, len(scored)) - 1]
    for entry in scored:
        if entry.rates.composite <= threshold:
            entry.governance.append("score")


def _build(subjects, rows, month: dt.date, w: Weights, key: str) -> list[Entry]:
    by_subject: dict[tuple[int, dt.date], Figures] = {}
    for row in rows:
        by_subject[(row[key], row["month"])] = Figures.of(row)
    last = add_months(month, -1)
    entries = []
    for pk, code, name, parent_name in subjects:
        current = by_subject.get((pk, month), Figures())
        before = by_subject.get((pk, last))
        entries.append(Entry(pk=pk, code=code, name=name, figures=current, rates=rates_of(current, w),
                             previous=rates_of(before, w) if before is not None else None,
                             parent_name=parent_name))
    return _rank(entries)


def area_ranking(*, district: Area, month: dt.date, level: str, within: str | None = None,
                 w: Weights) -> list[Entry]:
    """Streets or communities of `district` (or of the street `within`), ranked for `month`,
    with last month's rank and composite.  Two queries."""
    prefix = within or district.code
    subjects = list(Area.objects.unscoped().filter(level=level, code__startswith=prefix, is_active=True)
                    .order_by("code").values_list("id", "code", "name", "parent__name"))
    rows = (Rollup.objects.unscoped()
            .filter(district=district, month__in=[month, add_months(month, -1)], area__level=level,
                    area__code__startswith=prefix)
            .values("area_id", "month", *COUNTER_FIELDS))
    entries = _build(subjects, rows, month, w, "area_id")
    if level == AreaLevel.STREET:
        flag_governance(entries, w.bottom_share)
    return entries


def department_ranking(*, district: Area, month: dt.date, w: Weights) -> list[Entry]:
    """The district's departments (职能部门) ranked for `month`.  Two queries."""
    subjects = [(pk, str(pk), name, "") for pk, name in
                Organisation.objects.unscoped().filter(kind=OrgKind.DEPARTMENT, area__code__startswith=district.code,
                                                       is_active=True)
                .order_by("name").values_list("id", "name")]
    rows = (Rollup.objects.unscoped()
            .filter(district=district, month__in=[month, add_months(month, -1)],
                    organisation__kind=OrgKind.DEPARTMENT)
            .values("organisation_id", "month", *COUNTER_FIELDS))
    return _build(subjects, rows, month, w, "organisation_id")


# --- Trends ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Subject:
    """Whose figures a trend shows: a district (sum of its streets), an area or an organisation."""

    kind: str  # "city" | "district" | "area" | "org"
    pk: int
    name: str
    code: str = ""
    level: str = ""


@dataclass(frozen=True)
class Point:
    month: dt.date
    figures: Figures
    rates: Rates


def trend(*, subject: Subject, months: list[dt.date], w: Weights) -> list[Point]:
    """The subject's figures and rates month by month.  One query."""
    base = Rollup.objects.unscoped().filter(month__in=months)
    if subject.kind == "district":
        base = base.filter(district_id=subject.pk, area__level=AreaLevel.STREET)
    elif subject.kind == "city":
        # The city's street rows, joined through the street's own parents (street → district → city):
        # PostgreSQL then walks the city's streets by the area index instead of scanning every row of
        # the months (about 3 ms instead of 100 ms at Beijing scale).
        base = base.filter(area__parent__parent_id=subject.pk, area__level=AreaLevel.STREET)
    elif subject.kind == "area":
        base = base.filter(area_id=subject.pk)
    else:
        base = base.filter(organisation_id=subject.pk)
    sums = {row["month"]: Figures.of(row) for row in
            base.values("month").annotate(**{name: Sum(name) for name in COUNTER_FIELDS})
            .values("month", *COUNTER_FIELDS)}
    return [Point(month=m, figures=sums.get(m, Figures()), rates=rates_of(sums.get(m, Figures()), w))
            for m in months]


def category_breakdown(*, subject: Subject, months: list[dt.date]) -> list[dict]:
    """Volume by top-level category over `months` for a city, a district or a street (the
    category roll-up is kept per street); [] for other subjects.  One query."""
    base = CategoryRollup.objects.unscoped().filter(month__in=months)
    if subject.kind == "district":
        base = base.filter(district_id=subject.pk)
    elif subject.kind == "city":
        base = base.filter(district__parent_id=subject.pk)
    elif subject.kind == "area" and subject.level == AreaLevel.STREET:
        base = base.filter(street_id=subject.pk)
    else:
        return []
    rows = (base.values("category_id", "category__code", "category__name").annotate(total=Sum("received"))
            .filter(total__gt=0).order_by("-total", "category__code"))
    return [{"code": r["category__code"], "name": r["category__name"], "value": r["total"]} for r in rows]


# --- 每月一题 --------------------------------------------------------------------------

THEME_WINDOW = 3  # months compared before and after the theme month


@dataclass
class ThemeImpact:
    theme: MonthlyTheme
    before: list[tuple[dt.date, int]]
    during: int
    after: list[tuple[dt.date, int]]

    @staticmethod
    def _average(points: list[tuple[dt.date, int]]) -> Decimal | None:
        return Decimal(sum(v for _, v in points)) / len(points) if points else None

    @property
    def before_average(self) -> Decimal | None:
        return self._average(self.before)

    @property
    def after_average(self) -> Decimal | None:
        return self._average(self.after)

    @property
    def change(self) -> Decimal | None:
        """Relative change of the monthly average volume, after vs before."""
        before, after = self.before_average, self.after_average
        if before is None or after is None or before == 0:
            return None
        return (after - before) / before

    @property
    def before_text(self) -> str:
        value = self.before_average
        return DASH if value is None else f"{value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)}"

    @property
    def after_text(self) -> str:
        value = self.after_average
        return DASH if value is None else f"{value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)}"

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return DASH
        shown = as_percent(change)
        return f"+{shown}%" if shown > 0 else f"{shown}%"

    @property
    def went_down(self) -> bool:
        return self.change is not None and self.change < 0


def theme_impacts(*, district: Area, themes: list[MonthlyTheme], today: dt.date | None = None) -> list[ThemeImpact]:
    """Each theme's category volume in the district: the THEME_WINDOW months before, the theme
    month, and the (up to THEME_WINDOW, already begun) months after.  One query."""
    if not themes:
        return []
    current = (today or timezone.localdate()).replace(day=1)
    months = {add_months(t.month, n) for t in themes for n in range(-THEME_WINDOW, THEME_WINDOW + 1)}
    volume: dict[tuple[int, dt.date], int] = defaultdict(int)
    for category_id, month, total in (
            CategoryRollup.objects.unscoped()
            .filter(district=district, category_id__in={t.category_id for t in themes}, month__in=months)
            .values("category_id", "month").annotate(total=Sum("received"))
            .values_list("category_id", "month", "total")):
        volume[(category_id, month)] = total
    impacts = []
    for theme in themes:
        before = [(add_months(theme.month, n), volume[(theme.category_id, add_months(theme.month, n))])
                  for n in range(-THEME_WINDOW, 0)]
        after = [(add_months(theme.month, n), volume[(theme.category_id, add_months(theme.month, n))])
                 for n in range(1, THEME_WINDOW + 1) if add_months(theme.month, n) <= current]
        impacts.append(ThemeImpact(theme=theme, before=before, during=volume[(theme.category_id, theme.month)],
                                   after=after))
    return impacts


TITLE_MAX = 120


@transaction.atomic
def monthly_theme_set(*, actor, district: Area, month: dt.date, category: Category, title: str,
                      note: str = "") -> MonthlyTheme:
    """Set (or re-word) the district's 每月一题 for a month: a top-level category of the
    catalogue chosen for focused work, whose volume before and after is then tracked.
    Only the district (district admin) chooses it."""
    ensure_can(actor, "dispatch.theme.set", district.code)
    if district.level != AreaLevel.DISTRICT:
        raise ValidationError(_("每月一题只能设在区一级。"))
    if category.level != 1 or category.parent_id is not None:
        raise ValidationError(_("请选择一级类别：诉求量按一级类别统计。"))
    if not category.is_active:
        raise ValidationError(_("该类别已停用。"))
    title = (title or "").strip()
    note = (note or "").strip()
    if not title:
        raise ValidationError(_("请填写主题。"))
    if len(title) > TITLE_MAX:
        raise ValidationError(_("主题不能超过 %(max)d 个字。") % {"max": TITLE_MAX})
    if not MONTH_MIN <= month <= MONTH_MAX:
        raise ValidationError(_("月份应在 2000 年到 2099 年之间。"))
    month = month.replace(day=1)
    themes = MonthlyTheme.objects.unscoped()
    existing = themes.select_for_update().filter(district=district, month=month, category=category).first()
    if existing is None:
        try:
            with transaction.atomic():
                theme = themes.create(district=district, month=month, category=category, title=title, note=note)
            before = None
        except IntegrityError:  # set by someone else a moment ago: re-word theirs
            existing = themes.select_for_update().get(district=district, month=month, category=category)
    if existing is not None:
        before = {"title": existing.title, "note": existing.note}
        existing.title, existing.note = title, note
        existing.save(update_fields=["title", "note"])
        theme = existing
    audit.record(actor=actor, action="dispatch.theme.set", obj=theme, before=before,
                 after={"district": district.code, "month": month.strftime("%Y-%m"), "category": category.code,
                        "title": title, "note": note})
    return theme


# --- Who sees what -----------------------------------------------------------------------

RATE_ROLES = (Role.DISTRICT_ADMIN, Role.STREET_HUB, Role.COMMUNITY_STAFF, Role.DEPARTMENT_HANDLER)


@dataclass(frozen=True)
class Viewer:
    """What one user may see of the rates of one district."""

    district: Area
    districts: tuple[Area, ...]
    district_admin: bool
    streets: tuple[str, ...]  # street codes the user hubs
    communities: tuple[str, ...]  # community codes the user works in
    departments: tuple[int, ...]  # organisation ids the user handles for

    @property
    def sees_streets(self) -> bool:
        return self.district_admin or bool(self.streets or self.communities)

    @property
    def sees_communities(self) -> bool:
        return self.district_admin or bool(self.streets)

    @property
    def sees_departments(self) -> bool:
        return self.district_admin or bool(self.departments)

    def community_prefixes(self) -> tuple[str, ...]:
        """Whose communities the user may rank: the district's, or their own streets'."""
        return (self.district.code,) if self.district_admin else self.streets

    def may_see_area(self, code: str) -> bool:
        """Trends below district level: the district admin anywhere in the district, a street
        hub in its street, community staff in their community."""
        if not code.startswith(self.district.code):
            return False
        if self.district_admin:
            return True
        return any(code.startswith(s) for s in self.streets) or code in self.communities

    def may_see_org(self, org: Organisation) -> bool:
        if org.pk in self.departments:
            return True
        return self.district_admin and org.kind == OrgKind.DEPARTMENT and org.area.code.startswith(self.district.code)


def viewer_for(user, district_code: str | None = None) -> Viewer:
    """The user's rates view of a district (their first one unless `district_code`).
    PermissionDenied with no rates role; Http404 for a district they have no grant in."""
    from zhouxin.core.models import Grant

    grants = list(Grant.objects.filter(user=user, active=True, role__in=RATE_ROLES)
                  .values_list("role", "area__code", "organisation_id"))
    if not grants:
        raise PermissionDenied(_("您没有权限查看三率考核。"))
    district_codes = sorted({code[:6] for _, code, _ in grants if len(code) >= 6})
    wide = [code for role, code, _ in grants if len(code) < 6 and role == Role.DISTRICT_ADMIN]
    query = Area.objects.unscoped().filter(level=AreaLevel.DISTRICT, code__in=district_codes)
    for prefix in wide:
        query = query | Area.objects.unscoped().filter(level=AreaLevel.DISTRICT, code__startswith=prefix)
    districts = tuple(query.order_by("code"))
    if not districts:
        raise PermissionDenied(_("您的授权不在任何区内，无法查看三率考核。"))
    if district_code:
        chosen = next((d for d in districts if d.code == district_code), None)
        if chosen is None:
            raise Http404(_("该区不在您的管辖范围内。"))
    else:
        chosen = districts[0]
    code = chosen.code
    return Viewer(
        district=chosen,
        districts=districts,
        district_admin=any(role == Role.DISTRICT_ADMIN and (c.startswith(code) or code.startswith(c))
                           for role, c, _ in grants if len(c) <= 6),
        streets=tuple(sorted({c[:9] for role, c, _ in grants if role == Role.STREET_HUB
                              and c.startswith(code) and len(c) >= 9})),
        communities=tuple(sorted({c[:12] for role, c, _ in grants if role == Role.COMMUNITY_STAFF
                                  and c.startswith(code) and len(c) >= 12})),
        departments=tuple(sorted({org for role, c, org in grants if role == Role.DEPARTMENT_HANDLER
                                  and org is not None and c.startswith(code)})),
    )
