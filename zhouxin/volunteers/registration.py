"""Every write of 双报到 registration, and the dates its rules give.

Rules and where they come from (DESIGN §3 volunteers, issue 7):
* 单位报到: a unit's liaison registers the unit with the community where it sits, or another
  community of the same street, naming a contact and the services it offers; staff of that
  community (or its street hub) confirm or decline; the liaison or the staff end it.  One live
  (pending or confirmed) registration per unit and community, backed by a partial unique index.
* 在职党员到居住社区报到: a Party member registers with their home community (or another community
  of their district) on the portal, signed in with their own phone, or staff of their area
  register them (channel staff: confirmed at once when the staff may confirm for that community).
  A registration is valid until the registration day + `renew_months` of the rule
  volunteers.registration in force that day; renewing extends it from max(today, valid until) by
  the months in force on the renewal day.  An expired registration counts as not registered
  until renewed.  One live registration per person (partial unique index).
* The yearly deadline is `first_by` of the rule in force: a unit's member with no valid
  registration after that day of the year is overdue; `reminders_send` texts members whose
  registration ends within `remind_days` (once per period, `reminded_at`) and unregistered
  members of units when the deadline is within `remind_days` (once a year).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit, policy
from zhouxin.core.permissions import can, ensure_can
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Person

from .choices import LIVE_REGISTRATION_STATUSES, Channel, PointSource, RegistrationStatus
from .identity import city_of, member_for_account
from .models import MemberRegistration, UnitRegistration
from .policy import REGISTRATION_KEY

CONTACT_MAX = 64
TEXT_MAX = 300
# Renewal opens this many days before the end at the earliest (or remind_days, if longer), so
# renewing twice in a row cannot stack periods far into the future.
RENEW_WINDOW_MIN_DAYS = 30
DEADLINE_REMINDER_ACTION = "volunteers.registration.deadline_reminded"


class MemberState(models.TextChoices):
    """A member's registration as the completion figures and the portal see it on a day."""

    UNREGISTERED = "unregistered", gettext_lazy("未报到")
    PENDING = "pending", gettext_lazy("待社区确认")
    REGISTERED = "registered", gettext_lazy("已报到")
    EXPIRED = "expired", gettext_lazy("已过期，待续报")


class InvalidTransition(ValidationError):
    """The registration is no longer in the state the action needs (someone else acted first)."""


# --- Dates and rules ---------------------------------------------------------------------

def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter: 08-31 + 6 → 02-28)."""
    index = day.month - 1 + int(months)
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def ancestor(area: Area | None, level: str) -> Area | None:
    """`area` itself or its ancestor at `level` (None when there is none)."""
    node = area
    while node is not None and node.level != level:
        node = node.parent
    return node


def registration_rule(area: Area | None, on: dt.date) -> dict:
    """The rule volunteers.registration in force on `on` for the city of `area`."""
    return policy.get(REGISTRATION_KEY, city=city_of(area) if area is not None else None, on=on)


def first_by(rule: dict, year: int) -> dt.date:
    """The yearly first-registration deadline of `rule` ("06-30") in `year`."""
    month, day = (int(part) for part in str(rule["first_by"]).split("-"))
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def deadline_for(area: Area | None, on: dt.date) -> dt.date:
    """The deadline of `on`'s year under the rule in force on `on`."""
    return first_by(registration_rule(area, on), on.year)


def state_of(registration: MemberRegistration | None, on: dt.date) -> str:
    if registration is None or registration.status not in LIVE_REGISTRATION_STATUSES:
        return MemberState.UNREGISTERED
    if registration.status == RegistrationStatus.PENDING:
        return MemberState.PENDING
    return MemberState.REGISTERED if registration.valid_until >= on else MemberState.EXPIRED


def is_overdue(state: str, on: dt.date, deadline: dt.date) -> bool:
    """Past the deadline of the year without a registration that counts."""
    return on > deadline and state in (MemberState.UNREGISTERED, MemberState.EXPIRED)


def live_member_registration(person: Person) -> MemberRegistration | None:
    return (MemberRegistration.objects.unscoped().filter(person=person, status__in=LIVE_REGISTRATION_STATUSES)
            .select_related("community", "work_unit").first())


def renewal_opens(registration: MemberRegistration, rule: dict) -> dt.date:
    """The first day the member may renew."""
    window = max(int(rule["remind_days"]), RENEW_WINDOW_MIN_DAYS)
    return registration.valid_until - dt.timedelta(days=window)


def unit_communities(unit):
    """Where a unit may register: the active communities of the street where it sits (its own
    community alone when it sits in no street)."""
    street = ancestor(unit.area, AreaLevel.STREET)
    rows = Area.objects.unscoped().filter(level=AreaLevel.COMMUNITY, is_active=True)
    if street is not None:
        return rows.filter(parent=street).order_by("code")
    own = ancestor(unit.area, AreaLevel.COMMUNITY)
    return rows.filter(pk=own.pk if own else None)


def member_communities(person: Person):
    """Where a member may register: the active communities of their home district."""
    district = ancestor(person.home_area, AreaLevel.DISTRICT)
    rows = Area.objects.unscoped().filter(level=AreaLevel.COMMUNITY, is_active=True)
    if district is None:
        own = ancestor(person.home_area, AreaLevel.COMMUNITY)
        return rows.filter(pk=own.pk if own else None)
    return rows.filter(code__startswith=district.code).order_by("code")


def _text(errors: dict, field: str, value, *, limit: int, missing: str | None = None) -> str:
    value = (value or "").strip()
    if missing and not value:
        errors.setdefault(field, []).append(missing)
    elif len(value) > limit:
        errors.setdefault(field, []).append(_("不能超过 %(n)d 个字。") % {"n": limit})
    return value


def _decision_note(note: str, *, required: bool) -> str:
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=TEXT_MAX, missing=_("请填写原因。") if required else None)
    if errors:
        raise ValidationError(errors)
    return note


# --- Unit registration (单位报到) -----------------------------------------------------------

def _is_liaison_of(actor, unit) -> bool:
    from zhouxin.cobuild.services import liaison_units

    return unit is not None and can(actor, "volunteers.unit") and liaison_units(actor).filter(pk=unit.pk).exists()


def _unit_snapshot(reg: UnitRegistration) -> dict:
    return {"unit": reg.unit_id, "community": reg.community.code, "status": reg.status,
            "contact_name": reg.contact_name, "services_offered": reg.services_offered}


@transaction.atomic
def unit_register(*, actor, unit, community, contact_name: str, services_offered: str = "") -> UnitRegistration:
    """A liaison registers their unit with a community of the unit's street (pending until confirmed)."""
    if not _is_liaison_of(actor, unit):
        raise PermissionDenied(_("您不是该单位的联络员，不能为它报到。"))
    errors: dict[str, list[str]] = {}
    contact_name = _text(errors, "contact_name", contact_name, limit=CONTACT_MAX, missing=_("请填写联系人。"))
    services_offered = _text(errors, "services_offered", services_offered, limit=TEXT_MAX,
                             missing=_("请填写可提供的服务。"))
    if community is None or not unit_communities(unit).filter(pk=community.pk).exists():
        errors.setdefault("community", []).append(_("只能向单位所在街道的社区报到。"))
    if errors:
        raise ValidationError(errors)
    duplicate = ValidationError({"community": [_("该单位已向这个社区报到。")]})
    if UnitRegistration.objects.unscoped().filter(unit=unit, community=community,
                                                  status__in=LIVE_REGISTRATION_STATUSES).exists():
        raise duplicate
    try:
        with transaction.atomic():
            reg = UnitRegistration.objects.unscoped().create(
                unit=unit, community=community, contact_name=contact_name, services_offered=services_offered,
                registered_by=actor, registered_at=timezone.now())
    except IntegrityError:
        raise duplicate from None
    audit.record(actor=actor, action="volunteers.unit_registration.created", obj=reg, after=_unit_snapshot(reg))
    return reg


def can_decide_unit(actor, reg: UnitRegistration) -> bool:
    return can(actor, "volunteers.manage", reg.community.code)


def can_end_unit(actor, reg: UnitRegistration) -> bool:
    return can_decide_unit(actor, reg) or _is_liaison_of(actor, reg.unit)


def _transition(model, reg, *, from_statuses, values: dict, message: str):
    claimed = model.objects.unscoped().filter(pk=reg.pk, status__in=from_statuses).update(**values)
    if claimed != 1:
        raise InvalidTransition(message)
    before = reg.status
    for field, value in values.items():
        setattr(reg, field, value)
    return before


@transaction.atomic
def unit_registration_decide(*, actor, registration: UnitRegistration, confirm: bool,
                             note: str = "") -> UnitRegistration:
    """Staff of the community (or its street) confirm or decline a pending unit registration;
    declining needs a reason."""
    ensure_can(actor, "volunteers.manage", registration.community.code)
    note = _decision_note(note, required=not confirm)
    status = RegistrationStatus.CONFIRMED if confirm else RegistrationStatus.DECLINED
    before = _transition(UnitRegistration, registration, from_statuses=[RegistrationStatus.PENDING],
                         values={"status": status, "decided_by": actor, "decided_at": timezone.now(),
                                 "decision_note": note},
                         message=_("这条报到已经处理过了。"))
    audit.record(actor=actor, action=f"volunteers.unit_registration.{'confirmed' if confirm else 'declined'}",
                 obj=registration, before={"status": before}, after={"status": status, "note": note})
    return registration


@transaction.atomic
def unit_registration_end(*, actor, registration: UnitRegistration, note: str = "") -> UnitRegistration:
    """The unit's liaison or the community's staff end a live unit registration."""
    if not can_end_unit(actor, registration):
        raise PermissionDenied(_("您没有权限结束这条报到。"))
    note = _decision_note(note, required=False)
    values = {"status": RegistrationStatus.ENDED, "ended_at": timezone.now()}
    if note:
        values["decision_note"] = note
    before = _transition(UnitRegistration, registration, from_statuses=LIVE_REGISTRATION_STATUSES, values=values,
                         message=_("这条报到已经结束或未通过。"))
    audit.record(actor=actor, action="volunteers.unit_registration.ended", obj=registration,
                 before={"status": before}, after={"status": RegistrationStatus.ENDED, "note": note})
    return registration


# --- Member registration (在职党员到居住社区报到) --------------------------------------------

def _member_snapshot(reg: MemberRegistration) -> dict:
    return {"person": reg.person_id, "community": reg.community.code, "work_unit": reg.work_unit_id,
            "account": reg.account_id, "channel": reg.channel, "status": reg.status,
            "valid_until": reg.valid_until, "skills": reg.skills}


def _award_on_time(reg: MemberRegistration) -> None:
    """按时报到积分 when a registration is confirmed that was made by the year's deadline."""
    from . import points

    day = timezone.localdate(reg.registered_at)
    if day <= deadline_for(reg.community, day):
        points.award(person=reg.person, source=PointSource.REGISTRATION, source_id=reg.pk, on=day,
                     rule="on_time_registration", note=_("按时报到"))


def _member_register(*, person: Person, community, skills: str, channel: str, account=None, actor=None,
                     duplicate_message: str) -> MemberRegistration:
    errors: dict[str, list[str]] = {}
    skills = _text(errors, "skills", skills, limit=TEXT_MAX)
    if community is None:
        community = ancestor(person.home_area, AreaLevel.COMMUNITY)
    if community is None or not member_communities(person).filter(pk=community.pk).exists():
        errors.setdefault("community", []).append(_("请选择本区的一个社区。"))
    if errors:
        raise ValidationError(errors)
    duplicate = ValidationError({NON_FIELD_ERRORS: [duplicate_message]})
    if MemberRegistration.objects.unscoped().filter(person=person, status__in=LIVE_REGISTRATION_STATUSES).exists():
        raise duplicate
    now = timezone.now()
    today = timezone.localdate(now)
    rule = registration_rule(community, today)
    confirm_now = actor is not None and can(actor, "volunteers.manage", community.code)
    try:
        with transaction.atomic():
            reg = MemberRegistration.objects.unscoped().create(
                person=person, community=community, work_unit=person.work_unit, account=account, channel=channel,
                status=RegistrationStatus.CONFIRMED if confirm_now else RegistrationStatus.PENDING, skills=skills,
                registered_at=now, valid_until=add_months(today, rule["renew_months"]),
                decided_by=actor if confirm_now else None, decided_at=now if confirm_now else None)
    except IntegrityError:
        raise duplicate from None
    audit.record(actor=actor, action="volunteers.member_registration.created", obj=reg, after=_member_snapshot(reg))
    if confirm_now:
        _award_on_time(reg)
    return reg


@transaction.atomic
def member_register_on_portal(*, account, community=None, skills: str = "") -> MemberRegistration:
    """A signed-in resident whose phone is a Party member's registers with a community
    (their home community unless they choose another of their district)."""
    person = member_for_account(account)
    if person is None:
        raise ValidationError({NON_FIELD_ERRORS: [_("您的手机号不是党员登记的号码：双报到面向在职党员。")]})
    return _member_register(person=person, community=community, skills=skills, channel=Channel.PORTAL,
                            account=account, duplicate_message=_("您已经报到，无需重复报到；到期前可以续报。"))


@transaction.atomic
def member_register_by_staff(*, actor, person: Person, community=None, skills: str = "") -> MemberRegistration:
    """Staff register a Party member of their area on the member's behalf (channel staff)."""
    if person is None:
        raise ValidationError({"person": [_("请选择党员。")]})
    ensure_can(actor, "volunteers.manage", person.home_area.code)
    if not person.is_party_member:
        raise ValidationError({"person": [_("只有党员可以报到。")]})
    return _member_register(person=person, community=community, skills=skills, channel=Channel.STAFF, actor=actor,
                            duplicate_message=_("该党员已经报到。"))


def can_decide_member(actor, reg: MemberRegistration) -> bool:
    return can(actor, "volunteers.manage", reg.community.code)


@transaction.atomic
def member_registration_decide(*, actor, registration: MemberRegistration, confirm: bool,
                               note: str = "") -> MemberRegistration:
    """Staff of the community confirm or decline a pending member registration (a reason to decline)."""
    ensure_can(actor, "volunteers.manage", registration.community.code)
    note = _decision_note(note, required=not confirm)
    status = RegistrationStatus.CONFIRMED if confirm else RegistrationStatus.DECLINED
    before = _transition(MemberRegistration, registration, from_statuses=[RegistrationStatus.PENDING],
                         values={"status": status, "decided_by": actor, "decided_at": timezone.now(),
                                 "decision_note": note},
                         message=_("这条报到已经处理过了。"))
    audit.record(actor=actor, action=f"volunteers.member_registration.{'confirmed' if confirm else 'declined'}",
                 obj=registration, before={"status": before}, after={"status": status, "note": note})
    if confirm:
        _award_on_time(registration)
    return registration


def _owns(account, registration: MemberRegistration) -> bool:
    person = member_for_account(account)
    return person is not None and person.pk == registration.person_id


@transaction.atomic
def member_registration_renew(*, registration: MemberRegistration, account=None, actor=None,
                              on: dt.date | None = None) -> MemberRegistration:
    """The member (on the portal) or the community's staff renew a confirmed registration:
    valid until max(today, valid until) + renew_months of the rule in force today.  Renewal
    opens `remind_days` (at least 30 days) before the end; an expired registration may always renew."""
    if actor is not None:
        ensure_can(actor, "volunteers.manage", registration.community.code)
    elif not _owns(account, registration):
        raise PermissionDenied(_("只能续报自己的报到。"))
    if registration.status != RegistrationStatus.CONFIRMED:
        raise InvalidTransition(_("只有社区已确认的报到才能续报。"))
    today = on or timezone.localdate()
    rule = registration_rule(registration.community, today)
    opens = renewal_opens(registration, rule)
    if today < opens:
        raise ValidationError({NON_FIELD_ERRORS: [
            _("报到有效期至 %(until)s，%(opens)s 起可以续报。")
            % {"until": registration.valid_until.isoformat(), "opens": opens.isoformat()}]})
    old = registration.valid_until
    new = add_months(max(today, old), rule["renew_months"])
    now = timezone.now()
    claimed = MemberRegistration.objects.unscoped().filter(
        pk=registration.pk, status=RegistrationStatus.CONFIRMED, valid_until=old).update(valid_until=new,
                                                                                         renewed_at=now)
    if claimed != 1:
        raise InvalidTransition(_("这条报到刚刚被续报或结束，请刷新后再看。"))
    registration.valid_until, registration.renewed_at = new, now
    audit.record(actor=actor, action="volunteers.member_registration.renewed", obj=registration,
                 before={"valid_until": old},
                 after={"valid_until": new, "renew_months": rule["renew_months"], "account": getattr(account, "pk", None)})
    return registration


@transaction.atomic
def member_registration_end(*, registration: MemberRegistration, actor=None, account=None,
                            note: str = "") -> MemberRegistration:
    """Staff of the community, or the member on the portal, end a live registration (moved away …)."""
    if actor is not None:
        ensure_can(actor, "volunteers.manage", registration.community.code)
    elif not _owns(account, registration):
        raise PermissionDenied(_("只能结束自己的报到。"))
    note = _decision_note(note, required=False)
    values = {"status": RegistrationStatus.ENDED, "ended_at": timezone.now()}
    if note:
        values["decision_note"] = note
    before = _transition(MemberRegistration, registration, from_statuses=LIVE_REGISTRATION_STATUSES, values=values,
                         message=_("这条报到已经结束或未通过。"))
    audit.record(actor=actor, action="volunteers.member_registration.ended", obj=registration,
                 before={"status": before}, after={"status": RegistrationStatus.ENDED, "note": note,
                                                   "account": getattr(account, "pk", None)})
    return registration


# --- Reminders --------------------------------------------------------------------------

@dataclass
class ReminderResult:
    renewal: int = 0
    deadline: int = 0


def _portal_link() -> str:
    from django.conf import settings
    from django.urls import reverse

    base = (getattr(settings, "PORTAL_BASE_URL", "") or "").rstrip("/")
    return f"{base}{reverse('volunteers_public:register')}"


def _text_after_commit(phone: str, text: str) -> None:
    from zhouxin.portal import sms

    transaction.on_commit(lambda: sms.send(phone, text))


def _rules_by_city(now_day: dt.date):
    """Memo of the registration rule in force today per area (city looked up once per area)."""
    cities: dict[int, object] = {}

    def rule_for(area: Area) -> dict:
        if area.pk not in cities:
            cities[area.pk] = city_of(area)
        return policy.get(REGISTRATION_KEY, city=cities[area.pk], on=now_day)

    return rule_for


def reminders_send(*, now: dt.datetime | None = None) -> ReminderResult:
    """Text members whose registration ends within remind_days (once per period) and the
    unregistered Party members of units when the year's deadline is within remind_days (once a
    year).  Each text names only the community and the date; safe with several sweepers
    (compare-and-set on reminded_at; a row lock and the audit marker for the deadline)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rule_for = _rules_by_city(today)
    result = ReminderResult()
    link = _portal_link()

    due = (MemberRegistration.objects.unscoped()
           .filter(status=RegistrationStatus.CONFIRMED, valid_until__gte=today,
                   valid_until__lte=today + dt.timedelta(days=90))
           .select_related("person", "community"))
    for reg in due:
        rule = rule_for(reg.community)
        window_start = reg.valid_until - dt.timedelta(days=int(rule["remind_days"]))
        if today < window_start or not reg.person.phone:
            continue
        if reg.reminded_at is not None and timezone.localdate(reg.reminded_at) >= window_start:
            continue  # already reminded in this period
        with transaction.atomic():
            seen = Q(reminded_at=reg.reminded_at) if reg.reminded_at else Q(reminded_at__isnull=True)
            claimed = MemberRegistration.objects.unscoped().filter(
                seen, pk=reg.pk, status=RegistrationStatus.CONFIRMED, valid_until=reg.valid_until,
            ).update(reminded_at=now)
            if claimed == 1:
                _text_after_commit(reg.person.phone, _(
                    "【双报到】您在%(community)s的报到将于 %(date)s 到期，请登录居民服务网站续报：%(link)s")
                    % {"community": reg.community.name, "date": reg.valid_until.isoformat(), "link": link})
                result.renewal += 1

    counted = Q(status=RegistrationStatus.PENDING) | Q(status=RegistrationStatus.CONFIRMED, valid_until__gte=today)
    registered = MemberRegistration.objects.unscoped().filter(counted).values("person_id")
    unregistered = list(Person.objects.unscoped().filter(is_party_member=True, work_unit__isnull=False)
                        .exclude(pk__in=registered).exclude(phone_index="").select_related("home_area"))
    if unregistered:
        from zhouxin.core.models import AuditEntry

        year_start = timezone.make_aware(dt.datetime(today.year, 1, 1))
        done = set(AuditEntry.objects.filter(action=DEADLINE_REMINDER_ACTION, object_type="orgs.person",
                                             at__gte=year_start).values_list("object_id", flat=True))
        for person in unregistered:
            rule = rule_for(person.home_area)
            deadline = first_by(rule, today.year)
            if not today <= deadline <= today + dt.timedelta(days=int(rule["remind_days"])):
                continue
            if str(person.pk) in done or not person.phone:
                continue
            with transaction.atomic():
                # The row lock makes a second sweeper wait, then see this one's marker.
                Person.objects.unscoped().select_for_update().filter(pk=person.pk).first()
                if AuditEntry.objects.filter(action=DEADLINE_REMINDER_ACTION, object_type="orgs.person",
                                             object_id=str(person.pk), at__gte=year_start).exists():
                    continue
                if MemberRegistration.objects.unscoped().filter(counted, person=person).exists():
                    continue
                audit.record(actor=None, action=DEADLINE_REMINDER_ACTION, obj=person,
                             after={"year": today.year, "deadline": deadline})
                _text_after_commit(person.phone, _(
                    "【双报到】在职党员请于 %(date)s 前到居住社区报到，登录居民服务网站即可在线报到：%(link)s")
                    % {"date": deadline.isoformat(), "link": link})
                result.deadline += 1

    if result.renewal or result.deadline:
        with transaction.atomic():
            audit.record(actor=None, action="volunteers.reminders.sent", object_type="volunteers.reminders",
                         object_repr=_("双报到提醒"),
                         after={"renewal": result.renewal, "deadline": result.deadline, "on": today})
    return result
