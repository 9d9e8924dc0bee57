"""Feedback to work units (反馈到单位, DESIGN §3 volunteers): each in-service Party member's service
in their home community goes back to their work unit's Party organisation, as a quarterly
service card (季度服务卡) or a yearly letter (年度反馈函), one page per member, in one PDF per
unit with an xlsx beside it; and the figures of the volunteers dashboards.

What a member's feedback for a period (a quarter "2026Q3" or a year "2026") holds, all computed
from the records, never typed in:
* registration (报到): registered when a confirmed registration (or one since ended) was in force
  at some time in the period: made before the period ends, valid until at least its first day and
  not ended before it.  Pending, declined and lapsed registrations are "not registered";
* verified hours: hours.minutes_by_person over the period, overlapping activities merged
  (checked in at two at once counts once), plus the same from 1 January to the period's end
  (the year to date, which the yearly minimum is measured on);
* activities attended: the member's completed (checked-out) sign-ups of activities that started
  in the period, with titles and dates;
* wishes completed: wishes the member took (Wish.taken_by_person) completed in the period;
* points: the ledger's entries earned in the period (points.total);
* the yearly minimum (volunteers.service yearly_minimum_hours) of the version in force on the
  period's last day (or today, for a period not over yet) in the city of the member's community.

The community's assessment suggestion (社区评价建议), kept simple and explicit:
* a member who has not registered in the period cannot be rated 合格 or above (DESIGN §3):
  the suggestion says "未报到，不能评为合格及以上" and there is no grade;
* otherwise the year-to-date hours are held against a target: the yearly minimum for a letter,
  and for a quarterly card the yearly minimum × quarters elapsed / 4 (Q1 a quarter of it, Q4 all):
  at least 1.5 × the target (and some hours) → 优秀; at least the target → 合格; below → 基本合格.
"Yearly minimum met" is the year-to-date hours against the whole yearly minimum.

A unit's completion rate (完成率, DESIGN: "members registered and served / members") is the share
of its members registered in the period with verified hours in the year to the period's end (the
same "served" as completion.py), flagged below the policy's unit_threshold_percent.

A unit's members: Party members whose work unit it is (orgs.Person.work_unit), and members whose
live registration names it as work unit (the feedback goes where they worked when registering).

Who: staff holding volunteers.feedback (district, street, community) whose area contains the unit
or the community where one of its members is registered; and the unit's liaison for their own
unit.  A batch is the unit's: it covers all its members, whoever of them generates it, and every
one who reaches the unit reads its batches.  Regenerating the same unit, kind and period makes a
new batch; history is kept and listed newest first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from zhouxin.core import audit
from zhouxin.core import policy as policy_store
from zhouxin.core.choices import AREA_ROLES, Role
from zhouxin.core.pdf import Document
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user

from . import hours, points
from .choices import ActivityStatus, FeedbackKind, RegistrationStatus, SignUpStatus, WishStatus
from .identity import city_of
from .models import Activity, FeedbackBatch, MemberRegistration, SignUp, UnitRegistration, Wish
from .policy import SERVICE_KEY

FIRST_YEAR = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
QUARTER_NAMES = ("", gettext_lazy("第一季度"), gettext_lazy("第二季度"), gettext_lazy("第三季度"),
                 gettext_lazy("第四季度"))
EXCELLENT, PASS, BASIC = gettext_lazy("优秀"), gettext_lazy("合格"), gettext_lazy("基本合格")
EXCELLENT_FACTOR = Decimal("1.5")
COMPLETED_WISHES = (WishStatus.COMPLETED, WishStatus.THANKED)
# Registrations that count for a period when they were in force in it.
COUNTED_REGISTRATIONS = (RegistrationStatus.CONFIRMED, RegistrationStatus.ENDED)
PERIOD_RE = re.compile(r"^(\d{4})(?:Q([1-4]))?$")


# --- Periods ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def label(self) -> str:
        if self.quarter:
            return _("%(year)d年%(quarter)s") % {"year": self.year, "quarter": QUARTER_NAMES[self.quarter]}
        return _("%(year)d年度") % {"year": self.year}

    @property
    def kind(self) -> str:
        """The feedback a period gets: a card for a quarter, a letter for a year."""
        return FeedbackKind.QUARTERLY_CARD if self.quarter else FeedbackKind.YEARLY_LETTER

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * (self.quarter - 1) + 1, 1) if self.quarter else dt.date(self.year, 1, 1)

    @property
    def end_day(self) -> dt.date:
        """The day after the period (exclusive bound)."""
        if not self.quarter or self.quarter == 4:
            return dt.date(self.year + 1, 1, 1)
        return dt.date(self.year, 3 * self.quarter + 1, 1)

    @property
    def last_day(self) -> dt.date:
        return self.end_day - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        return _aware(self.first_day)

    @property
    def end(self) -> dt.datetime:
        return _aware(self.end_day)

    @property
    def year_start(self) -> dt.datetime:
        return _aware(dt.date(self.year, 1, 1))

    @property
    def target_share(self) -> Decimal:
        """The part of the yearly minimum due by the period's end."""
        return Decimal(self.quarter) / 4 if self.quarter else Decimal(1)

    def __str__(self) -> str:
        return self.code


def _aware(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())


def parse_period(raw: str) -> Period:
    """"2026Q3" or "2026"; a period not begun yet, or before FIRST_YEAR, is refused."""
    match = PERIOD_RE.match((raw or "").strip().upper())
    if not match:
        raise ValidationError({"period": [_("期间应写成“2026Q3”（季度）或“2026”（年度）。")]})
    period = Period(int(match.group(1)), int(match.group(2)) if match.group(2) else None)
    if period.year < FIRST_YEAR or period.first_day > timezone.localdate():
        raise ValidationError({"period": [_("只能为已经开始的期间生成反馈。")]})
    return period


def recent_periods(today: dt.date | None = None, *, quarters: int = 8, years: int = 3) -> list[Period]:
    """The selector's choices: the last `quarters` quarters and `years` years, newest first."""
    today = today or timezone.localdate()
    out: list[Period] = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _i in range(quarters):
        out.append(Period(year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    out.extend(Period(today.year - i) for i in range(years))
    return out


def default_period(today: dt.date | None = None) -> Period:
    """The last quarter that is over: the one a card is due for."""
    today = today or timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    return Period(today.year, quarter - 1) if quarter > 1 else Period(today.year - 1, 4)


# --- Who reaches which unit ------------------------------------------------------------------

def _staff_prefixes(user) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for("volunteers.feedback"))


def liaison_unit_ids(user) -> list[int]:
    """The units the user is liaison of (active unit-liaison grants tied to an organisation)."""
    from zhouxin.core.models import Grant

    if not can(user, "volunteers.feedback"):
        return []
    return list(Grant.objects.filter(user=user, active=True, role=Role.UNIT_LIAISON, organisation__isnull=False)
                .values_list("organisation_id", flat=True))


def _registered_in(prefixes) -> Q:
    return reduce(or_, (Q(community__code__startswith=p) for p in prefixes))


def units_for(user):
    """Units whose feedback the user may read and generate: for staff, units located in their
    area, or with a member (or the unit itself) registered with one of their communities; for a
    liaison, their own units."""
    from zhouxin.orgs.models import Organisation, Person

    base = Organisation.objects.unscoped()
    if not can(user, "volunteers.feedback"):
        return base.none()
    parts = []
    prefixes = _staff_prefixes(user)
    if prefixes:
        with_members = (Q(pk__in=Person.objects.unscoped().filter(is_party_member=True, work_unit__isnull=False)
                          .values("work_unit_id"))
                        | Q(pk__in=MemberRegistration.objects.unscoped().filter(work_unit__isnull=False)
                            .values("work_unit_id"))
                        | Q(pk__in=UnitRegistration.objects.unscoped().values("unit_id")))
        located = reduce(or_, (Q(area__code__startswith=p) for p in prefixes))
        parts.append(located & with_members)
        registered = _registered_in(prefixes) & Q(status__in=(*COUNTED_REGISTRATIONS, RegistrationStatus.PENDING))
        parts.append(Q(pk__in=MemberRegistration.objects.unscoped().filter(registered, work_unit__isnull=False)
                       .values("work_unit_id")))
        parts.append(Q(pk__in=UnitRegistration.objects.unscoped().filter(registered).values("unit_id")))
    own = liaison_unit_ids(user)
    if own:
        parts.append(Q(pk__in=own))
    if not parts:
        return base.none()
    ids = base.filter(reduce(or_, parts)).values("pk")
    return base.filter(pk__in=ids, is_active=True).select_related("area").order_by("name", "id")


def batches_for(user):
    """Feedback batches of the units the user reaches, newest first."""
    return (FeedbackBatch.objects.unscoped().filter(unit__in=units_for(user).values("pk"))
            .select_related("unit", "generated_by").order_by("-generated_at", "-id"))


def communities_for(user):
    """The communities whose dashboard the user may open (staff: those in their area)."""
    from zhouxin.orgs.choices import AreaLevel
    from zhouxin.orgs.models import Area

    prefixes = scope_for_user(user).prefixes(AREA_ROLES & roles_for("volunteers.view"))
    if not prefixes:
        return Area.objects.unscoped().none()
    return (Area.objects.unscoped().filter(reduce(or_, (Q(code__startswith=p) for p in prefixes)),
                                           level=AreaLevel.COMMUNITY, is_active=True)
            .select_related("parent").order_by("code"))


# --- A member's feedback ---------------------------------------------------------------------

@dataclass
class MemberFeedback:
    person_id: int
    name: str
    branch: str  # the member's Party organisation at the unit ("" when unknown)
    registered: bool
    registration_status: str
    community: str
    registered_on: dt.date | None
    valid_until: dt.date | None
    minutes: int
    year_minutes: int
    yearly_minimum: Decimal
    target: Decimal
    points: Decimal
    grade: str  # 优秀 / 合格 / 基本合格, "" for a member not registered
    suggestion: str
    signer: str  # the community Party organisation that gives the feedback
    activities: list[tuple[dt.date, str, str]] = field(default_factory=list)  # (date, title, community)
    wishes: list[tuple[dt.date, str, str]] = field(default_factory=list)  # (date, title, community)

    @property
    def hours(self) -> Decimal:
        return hours.to_hours(self.minutes)

    @property
    def year_hours(self) -> Decimal:
        return hours.to_hours(self.year_minutes)

    @property
    def minimum_met(self) -> bool:
        return self.year_minutes >= self.yearly_minimum * 60

    @property
    def completed(self) -> bool:
        """Registered and served (verified hours this year): counts towards the completion rate."""
        return self.registered and self.year_minutes > 0


def assess(*, registered: bool, year_minutes: int, target_hours: Decimal) -> tuple[str, str]:
    """(grade, suggestion) by the rule of the module docstring."""
    if not registered:
        return "", _("未报到，不能评为合格及以上")
    target = target_hours * 60
    if year_minutes > 0 and year_minutes >= target * EXCELLENT_FACTOR:
        grade = str(EXCELLENT)
    elif year_minutes >= target:
        grade = str(PASS)
    else:
        grade = str(BASIC)
    return grade, grade


def _registration_q(period: Period) -> Q:
    return (Q(status__in=COUNTED_REGISTRATIONS, registered_at__lt=period.end, valid_until__gte=period.first_day)
            & (Q(ended_at__isnull=True) | Q(ended_at__gte=period.start)))


def _signers(area_ids) -> dict[int, str]:
    """The Party organisation of each community (its committee first), by area id."""
    from zhouxin.orgs.choices import OrgKind
    from zhouxin.orgs.models import Organisation

    rank = {OrgKind.PARTY_COMMITTEE: 0, OrgKind.GENERAL_BRANCH: 1, OrgKind.BRANCH: 2}
    found: dict[int, tuple[int, int, str]] = {}
    for pk, area_id, kind, name in (Organisation.objects.unscoped()
                                    .filter(area_id__in=set(area_ids), kind__in=list(rank), is_active=True)
                                    .values_list("pk", "area_id", "kind", "name")):
        key = (rank[kind], pk, name)
        if area_id not in found or key < found[area_id]:
            found[area_id] = key
    return {area_id: value[2] for area_id, value in found.items()}


class _Minimums:
    """The yearly minimum hours in force on a day, per city (cached per area)."""

    def __init__(self, on: dt.date):
        self.on = on
        self.by_area: dict[int, Decimal] = {}

    def for_area(self, area) -> Decimal:
        if area.pk not in self.by_area:
            value = policy_store.get(SERVICE_KEY, city=city_of(area), on=self.on)
            self.by_area[area.pk] = Decimal(str(value["yearly_minimum_hours"]))
        return self.by_area[area.pk]


def unit_members(unit):
    """The unit's Party members (see the module docstring), by name."""
    from zhouxin.orgs.models import Person

    live = (RegistrationStatus.PENDING, RegistrationStatus.CONFIRMED)
    registered = MemberRegistration.objects.unscoped().filter(work_unit=unit, status__in=live).values("person_id")
    return (Person.objects.unscoped().filter(Q(is_party_member=True, work_unit=unit) | Q(pk__in=registered))
            .select_related("home_area", "party_branch").order_by("pinyin_initials", "name", "id"))


def members_feedback(people, period: Period) -> list[MemberFeedback]:
    """Each person's feedback for the period, in the order given (a fixed number of queries)."""
    people = list(people)
    ids = [p.pk for p in people]
    if not ids:
        return []
    regs: dict[int, MemberRegistration] = {}
    for reg in (MemberRegistration.objects.unscoped().filter(_registration_q(period), person_id__in=ids)
                .select_related("community").order_by("registered_at", "id")):
        regs[reg.person_id] = reg  # the latest in force wins
    pending = set(MemberRegistration.objects.unscoped().filter(person_id__in=ids, status=RegistrationStatus.PENDING,
                                                               registered_at__lt=period.end)
                  .values_list("person_id", flat=True))
    minutes = hours.minutes_by_person(ids, period.start, period.end)
    year_minutes = hours.minutes_by_person(ids, period.year_start, period.end)
    earned = points.total(ids, period.first_day, period.end_day)
    activities: dict[int, list] = defaultdict(list)
    for person_id, title, starts_at, community in (
            SignUp.objects.unscoped().filter(person_id__in=ids, status=SignUpStatus.COMPLETED,
                                             activity__starts_at__gte=period.start, activity__starts_at__lt=period.end)
            .order_by("activity__starts_at", "id")
            .values_list("person_id", "activity__title", "activity__starts_at", "activity__community__name")):
        activities[person_id].append((timezone.localtime(starts_at).date(), title, community))
    wishes: dict[int, list] = defaultdict(list)
    for person_id, title, completed_at, community in (
            Wish.objects.unscoped().filter(taken_by_person_id__in=ids, status__in=COMPLETED_WISHES,
                                           completed_at__gte=period.start, completed_at__lt=period.end)
            .order_by("completed_at", "id").values_list("taken_by_person_id", "title", "completed_at",
                                                        "community__name")):
        wishes[person_id].append((timezone.localtime(completed_at).date(), title, community))
    signers = _signers([r.community_id for r in regs.values()] + [p.home_area_id for p in people])
    minimums = _Minimums(min(period.last_day, timezone.localdate()))
    out = []
    for person in people:
        reg = regs.get(person.pk)
        community = reg.community if reg else person.home_area
        minimum = minimums.for_area(community)
        target = (minimum * period.target_share).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        grade, suggestion = assess(registered=reg is not None, year_minutes=year_minutes.get(person.pk, 0),
                                   target_hours=target)
        if reg is not None:
            status = _("已报到")
        elif person.pk in pending:
            status = _("未报到（报到待社区确认）")
        else:
            status = _("未报到")
        out.append(MemberFeedback(
            person_id=person.pk, name=person.name, branch=person.party_branch.name if person.party_branch else "",
            registered=reg is not None, registration_status=status, community=reg.community.name if reg else "",
            registered_on=timezone.localtime(reg.registered_at).date() if reg else None,
            valid_until=reg.valid_until if reg else None, minutes=minutes.get(person.pk, 0),
            year_minutes=year_minutes.get(person.pk, 0), yearly_minimum=minimum, target=target,
            points=Decimal(earned.get(person.pk) or 0), grade=grade, suggestion=suggestion,
            signer=signers.get(community.pk) or _("中共%(community)s委员会") % {"community": community.name},
            activities=activities.get(person.pk, []), wishes=wishes.get(person.pk, [])))
    return out


# --- A unit's feedback -----------------------------------------------------------------------

@dataclass
class UnitFeedback:
    unit_name: str
    period: Period
    kind: str
    generated_at: dt.datetime
    threshold_percent: Decimal
    members: list[MemberFeedback] = field(default_factory=list)

    @property
    def registered(self) -> int:
        return sum(1 for m in self.members if m.registered)

    @property
    def unregistered(self) -> int:
        return len(self.members) - self.registered

    @property
    def completed(self) -> int:
        return sum(1 for m in self.members if m.completed)

    @property
    def completion_percent(self) -> Decimal | None:
        if not self.members:
            return None
        return (Decimal(self.completed * 100) / len(self.members)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def below_threshold(self) -> bool:
        rate = self.completion_percent
        return rate is not None and rate < self.threshold_percent

    @property
    def hours(self) -> Decimal:
        return hours.to_hours(sum(m.minutes for m in self.members))

    @property
    def points(self) -> Decimal:
        return sum((m.points for m in self.members), Decimal("0"))


def unit_feedback(unit, period: Period, *, generated_at: dt.datetime | None = None) -> UnitFeedback:
    on = min(period.last_day, timezone.localdate())
    threshold = Decimal(str(policy_store.get(SERVICE_KEY, city=city_of(unit.area), on=on)["unit_threshold_percent"]))
    return UnitFeedback(unit_name=unit.name, period=period, kind=period.kind,
                        generated_at=generated_at or timezone.now(), threshold_percent=threshold,
                        members=members_feedback(unit_members(unit), period))


# --- Output ----------------------------------------------------------------------------------

def _cn_date(day: dt.date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def _h(value: Decimal) -> str:
    return f"{value:.1f}"


def _p(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.1f}"


def _registration_text(m: MemberFeedback) -> str:
    if not m.registered:
        return m.registration_status
    return _("已报到：%(community)s，有效期至%(until)s") % {"community": m.community, "until": _cn_date(m.valid_until)}


def _salutation(fb: UnitFeedback, m: MemberFeedback) -> str:
    return m.branch or _("%(unit)s党组织") % {"unit": fb.unit_name}


def _letter_title() -> str:
    return _("在职党员到社区报到服务情况反馈函")


def _card_title(period: Period) -> str:
    return _("%(period)s在职党员社区服务卡") % {"period": period.label}


def _activities_table(doc: Document, m: MemberFeedback) -> None:
    if m.activities:
        doc.table([_("序号"), _("日期"), _("活动名称"), _("社区")],
                  [(i, d.isoformat(), title, community) for i, (d, title, community) in enumerate(m.activities, 1)],
                  col_widths=(1, 2.2, 6, 3), align=("C", "C", "L", "L"))
    else:
        doc.paragraph(_("本期没有参加社区志愿服务活动。"), indent=False)


def _wishes_lines(doc: Document, m: MemberFeedback) -> None:
    if m.wishes:
        doc.items([f"{i}. {d.isoformat()} {title}（{community}）" for i, (d, title, community) in enumerate(m.wishes, 1)])
    else:
        doc.paragraph(_("本期没有认领完成的微心愿。"), indent=False)


def _signature(doc: Document, m: MemberFeedback, day: dt.date) -> None:
    doc.spacer(6)
    doc.paragraph(_("%(signer)s（盖章）") % {"signer": m.signer}, align="R")
    doc.paragraph(_cn_date(day), align="R")


def _letter_page(doc: Document, fb: UnitFeedback, m: MemberFeedback, day: dt.date) -> None:
    year = fb.period.year
    doc.paragraph(_("%(to)s：") % {"to": _salutation(fb, m)}, indent=False)
    if m.registered:
        joined = _("已于%(on)s到%(community)s报到（有效期至%(until)s）") % {
            "on": _cn_date(m.registered_on), "community": m.community, "until": _cn_date(m.valid_until)}
    else:
        joined = _("本年度未到居住社区报到")
    met = _("已达到") if m.minimum_met else _("未达到")
    doc.paragraph(_("贵单位在职党员%(name)s同志%(joined)s。%(year)d年度，该同志经社区核定的志愿服务时长为%(hours)s小时"
                    "（年度最低要求%(minimum)s小时，%(met)s），参加社区志愿服务活动%(activities)d次，认领并完成微心愿"
                    "%(wishes)d个，获得志愿服务积分%(points)s分。") % {
        "name": m.name, "joined": joined, "year": year, "hours": _h(m.year_hours), "minimum": _h(m.yearly_minimum),
        "met": met, "activities": len(m.activities), "wishes": len(m.wishes), "points": _p(m.points)})
    doc.heading(_("一、参加志愿服务活动"), level=2)
    _activities_table(doc, m)
    doc.heading(_("二、认领完成微心愿"), level=2)
    _wishes_lines(doc, m)
    doc.heading(_("三、社区评价建议"), level=2)
    doc.paragraph(_("根据该同志本年度在社区的报到和服务情况，社区党组织的评价建议为：%(s)s。") % {"s": m.suggestion})
    doc.paragraph(_("特此函告，请在党员民主评议和年度考核中参考。"))
    doc.paragraph(_("此致"))
    doc.paragraph(_("敬礼！"), indent=False)
    _signature(doc, m, day)


def _card_page(doc: Document, fb: UnitFeedback, m: MemberFeedback, day: dt.date) -> None:
    doc.key_values([
        (_("姓名"), m.name), (_("工作单位"), fb.unit_name), (_("所在党组织"), m.branch or "—"),
        (pgettext("dual registration", "报到情况"), _registration_text(m)),
        (_("本季度服务时长"), _("%(h)s小时") % {"h": _h(m.hours)}),
        (_("本年累计时长"), _("%(h)s小时（年度最低要求%(min)s小时，%(met)s）") % {
            "h": _h(m.year_hours), "min": _h(m.yearly_minimum), "met": _("已达到") if m.minimum_met else _("未达到")}),
        (_("本季度积分"), _("%(p)s分") % {"p": _p(m.points)}),
        (_("社区评价建议"), m.suggestion),
    ], label_width=34)
    doc.heading(_("参加志愿服务活动"), level=2)
    _activities_table(doc, m)
    doc.heading(_("认领完成微心愿"), level=2)
    _wishes_lines(doc, m)
    _signature(doc, m, day)


def feedback_pdf(fb: UnitFeedback) -> bytes:
    """One page (or more) per member: the yearly letter or the quarterly card."""
    letter = fb.kind == FeedbackKind.YEARLY_LETTER
    day = timezone.localtime(fb.generated_at).date()
    title = _letter_title() if letter else _card_title(fb.period)
    subtitle = fb.period.label if letter else fb.unit_name
    doc = Document(title=title, subtitle=subtitle, creation_date=fb.generated_at,
                   subject=f"{fb.unit_name} {fb.period.label} {FeedbackKind(fb.kind).label}",
                   keywords=(str(FeedbackKind(fb.kind).label), fb.unit_name),
                   footer_note=f"{fb.unit_name} · {fb.period.label}")
    if not fb.members:
        doc.paragraph(_("%(unit)s没有在册的在职党员。") % {"unit": fb.unit_name})
    for index, member in enumerate(fb.members):
        if index:
            doc.page_break(title=title, subtitle=subtitle)
        (_letter_page if letter else _card_page)(doc, fb, member, day)
    return doc.output()


MEMBER_HEADERS = (gettext_lazy("姓名"), gettext_lazy("所在党组织"), gettext_lazy("报到状态"), gettext_lazy("报到社区"), gettext_lazy("有效期至"), gettext_lazy("本期服务时长（小时）"),
                  gettext_lazy("本年累计时长（小时）"), gettext_lazy("年度最低时长（小时）"), gettext_lazy("达到年度最低"), gettext_lazy("参加活动（次）"),
                  gettext_lazy("完成微心愿（个）"), gettext_lazy("本期积分"), gettext_lazy("社区评价建议"), gettext_lazy("未报到（不能评为合格及以上）"))


def feedback_xlsx(fb: UnitFeedback) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    flag_fill = PatternFill("solid", fgColor="FFF3CD")
    yes, no = _("是"), _("否")
    wb = Workbook()
    sheet = wb.active
    sheet.title = _("党员")
    sheet.append([str(h) for h in MEMBER_HEADERS])
    for m in fb.members:
        sheet.append([m.name, m.branch, m.registration_status, m.community, m.valid_until, m.hours, m.year_hours,
                      m.yearly_minimum, yes if m.minimum_met else no, len(m.activities), len(m.wishes), m.points,
                      m.suggestion, "" if m.registered else yes])
        if not m.registered:
            for cell in sheet[sheet.max_row]:
                cell.fill = flag_fill
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2"
    for index, width in enumerate((12, 24, 20, 16, 12, 14, 14, 14, 10, 10, 12, 10, 26, 22), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=2):
        row[4].number_format = "yyyy-mm-dd"
        for cell in (row[5], row[6], row[7], row[11]):
            cell.number_format = "0.0"
    summary = wb.create_sheet(_("汇总"))
    rate = fb.completion_percent
    rows = [
        (_("单位"), fb.unit_name), (_("期间"), fb.period.label), (_("类型"), str(FeedbackKind(fb.kind).label)),
        (_("党员人数"), len(fb.members)), (_("已报到"), fb.registered), (_("未报到"), fb.unregistered),
        (_("已报到且参加服务"), fb.completed),
        (_("完成率（%）"), rate if rate is not None else "—"),
        (_("完成率警戒线（%）"), fb.threshold_percent),
        (_("低于警戒线"), yes if fb.below_threshold else no),
        (_("本期服务时长合计（小时）"), fb.hours), (_("本期积分合计"), fb.points),
        (_("生成时间"), timezone.localtime(fb.generated_at).strftime("%Y-%m-%d %H:%M")),
    ]
    for label, value in rows:
        summary.append([label, value])
        summary.cell(summary.max_row, 1).font = bold
    summary.column_dimensions["A"].width = 26
    summary.column_dimensions["B"].width = 36
    wb.properties.creator = "轴心"
    wb.properties.title = f"{fb.unit_name} {fb.period.label}"
    stamp = timezone.localtime(fb.generated_at).replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def batch_filename(batch: FeedbackBatch, ext: str) -> str:
    period = parse_period_unchecked(batch.period)
    return _("%(unit)s-%(period)s%(kind)s.%(ext)s") % {
        "unit": batch.unit.name, "period": period.label if period else batch.period,
        "kind": FeedbackKind(batch.kind).label, "ext": ext}


def parse_period_unchecked(raw: str) -> Period | None:
    match = PERIOD_RE.match(raw or "")
    return Period(int(match.group(1)), int(match.group(2)) if match.group(2) else None) if match else None


# --- The service -----------------------------------------------------------------------------

@transaction.atomic
def batch_generate(*, actor, unit, kind: str, period: str) -> FeedbackBatch:
    """Generate a unit's batch of quarterly cards (kind "card", period "2026Q3") or yearly
    letters (kind "letter", period "2026") and store its PDF and xlsx with the PDF's SHA-256.
    Every generation is a new batch (the history is kept)."""
    if not can(actor, "volunteers.feedback") or not units_for(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("只有单位所在或党员报到社区、街道的工作人员和本单位联络员可以生成单位反馈。"))
    if kind not in FeedbackKind.values:
        raise ValidationError({"kind": [_("请选择季度服务卡或年度反馈函。")]})
    parsed = parse_period(period)
    if parsed.kind != kind:
        raise ValidationError({"period": [_("季度服务卡按季度生成（如 2026Q3），年度反馈函按年度生成（如 2026）。")]})
    now = timezone.now()
    fb = unit_feedback(unit, parsed, generated_at=now)
    pdf = feedback_pdf(fb)
    xlsx = feedback_xlsx(fb)
    batch = FeedbackBatch(unit=unit, kind=kind, period=parsed.code, members=len(fb.members),
                          unregistered=fb.unregistered, pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                          generated_by=actor, generated_at=now)
    stem = f"feedback-{unit.pk}-{parsed.code}-{kind}-{uuid.uuid4().hex[:12]}"
    batch.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
    try:
        batch.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx), save=False)
        batch.save(force_insert=True)
        audit.record(actor=actor, action="volunteers.feedback.generated", obj=batch,
                     after={"unit": unit.pk, "kind": kind, "period": parsed.code, "members": batch.members,
                            "unregistered": batch.unregistered, "completed": fb.completed,
                            "pdf_sha256": batch.pdf_sha256, "pdf_size": len(pdf), "xlsx_size": len(xlsx)})
    except Exception:
        for stored in (batch.pdf, batch.xlsx):  # no file without its row
            if stored.name:
                stored.storage.delete(stored.name)
        raise
    return batch


# --- The community dashboard -----------------------------------------------------------------

@dataclass
class CommunityRow:
    area_id: int
    name: str
    street: str
    members_registered: int = 0
    units_registered: int = 0
    activities_held: int = 0
    minutes: int = 0
    volunteers: int = 0
    wishes_completed: int = 0

    @property
    def hours(self) -> Decimal:
        return hours.to_hours(self.minutes)


def community_dashboard(communities, year: int) -> list[CommunityRow]:
    """Per community, the year's figures: members registered (in force in the year), units
    registered (confirmed), activities held (published or finished, started in the year and over by
    now), verified hours (every volunteer's, overlaps merged per person), volunteers who served, and
    wishes completed.  A fixed number of queries, whatever the number of communities."""
    from django.db.models import Count

    communities = list(communities)
    rows = {c.pk: CommunityRow(c.pk, c.name, c.parent.name if c.parent_id else "") for c in communities}
    ids = list(rows)
    if not ids:
        return []
    period = Period(year)
    now = timezone.now()
    for area_id, n in (MemberRegistration.objects.unscoped().filter(_registration_q(period), community_id__in=ids)
                       .values("community_id").annotate(n=Count("person_id", distinct=True))
                       .values_list("community_id", "n")):
        rows[area_id].members_registered = n
    for area_id, n in (UnitRegistration.objects.unscoped()
                       .filter(community_id__in=ids, status__in=COUNTED_REGISTRATIONS, registered_at__lt=period.end)
                       .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=period.start))
                       .values("community_id").annotate(n=Count("unit_id", distinct=True))
                       .values_list("community_id", "n")):
        rows[area_id].units_registered = n
    for area_id, n in (Activity.objects.unscoped()
                       .filter(community_id__in=ids, status__in=(ActivityStatus.PUBLISHED, ActivityStatus.FINISHED),
                               starts_at__gte=period.start, starts_at__lt=period.end, ends_at__lte=now)
                       .values("community_id").annotate(n=Count("id")).values_list("community_id", "n")):
        rows[area_id].activities_held = n
    for area_id, n in (Wish.objects.unscoped()
                       .filter(community_id__in=ids, status__in=COMPLETED_WISHES, completed_at__gte=period.start,
                               completed_at__lt=period.end)
                       .values("community_id").annotate(n=Count("id")).values_list("community_id", "n")):
        rows[area_id].wishes_completed = n
    spans: dict[tuple, list] = defaultdict(list)
    for area_id, person_id, account_id, checked_in, checked_out, act_start, act_end in (
            SignUp.objects.unscoped().filter(activity__community_id__in=ids, status=SignUpStatus.COMPLETED,
                                             checked_in_at__isnull=False, checked_out_at__isnull=False,
                                             activity__ends_at__gt=period.start, activity__starts_at__lt=period.end)
            .values_list("activity__community_id", "person_id", "account_id", "checked_in_at", "checked_out_at",
                         "activity__starts_at", "activity__ends_at")):
        lo = max(checked_in, act_start, period.start)
        hi = min(checked_out, act_end, period.end)
        if hi > lo:
            who = ("p", person_id) if person_id else ("a", account_id)
            spans[(area_id, who)].append((lo, hi))
    for (area_id, _who), intervals in spans.items():
        rows[area_id].minutes += hours.merged_minutes(intervals)
        rows[area_id].volunteers += 1
    return [rows[c.pk] for c in communities]
