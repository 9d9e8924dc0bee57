"""Room bookings (场地预约, DESIGN §3 centers; issue 10 item 3): request, approval, cancellation,
no-shows and use, and the scoped reads of the booking pages.

Rules and where they come from:
* a booking is for an active, bookable room of an active centre; it lies inside one opening
  interval of the centre on its day (centres.opening_intervals: evenings, weekends and the
  calendar's holidays included), starts in the future and at most "days_ahead" days ahead, lasts
  at least "minimum_minutes" and at most "maximum_hours" (policy "centers.booking" in force for
  the centre's city), and expects at least one and at most the room's capacity of people;
* who books: a unit liaison for their own unit (booker "unit", rooms of centres in the area of
  their liaison grant); community and street staff for the community ("staff") or for a named
  group (社会组织或居民团队, "group"); a signed-in resident account for themselves ("resident");
* a resident or a unit with "no_show_limit" no-shows within the last "no_show_days" days is
  refused, with the count named (0 turns the rule off);
* a room that needs approval starts pending, any other room is approved at once;
* a booking never overlaps a live (pending or approved) booking of the same room: the room row is
  locked and the overlap checked inside the transaction, and the database refuses it again
  (booking_sql: an exclusion constraint on PostgreSQL, triggers on SQLite); both answer with the
  same message.  A resident is told only the time that is taken, never who took it;
* staff holding "centers.manage" on the centre's area approve or reject (with a reason) pending
  bookings, cancel a live one with a reason before it ends, mark an approved one as a no-show or
  as used (with the attendance) once it has started;
* the booker cancels a live booking before it starts: a resident their own, a liaison their unit's,
  staff what they booked;
* the booker gets a text when staff decide or cancel: a resident on their account's phone, a staff
  booker on the phone of their person record; only about their own booking.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit, policy
from zhouxin.core.choices import Role
from zhouxin.core.permissions import can, ensure_can
from zhouxin.core.scoping import scope_for_user

from . import booking_sql
from .choices import LIVE_BOOKING_STATUSES, BookerKind, BookingStatus
from .models import Booking, Room
from .policy import BOOKING_KEY

TITLE_MAX = 80
GROUP_MAX = 80
NOTE_MAX = 300
REASON_MIN = 2
ATTENDED_MAX = 100000
# Roles that book for the community or a group (staff of the area); a liaison books for a unit.
STAFF_BOOKER_ROLES = frozenset({Role.STREET_HUB, Role.COMMUNITY_STAFF})
LIAISON_ROLES = frozenset({Role.UNIT_LIAISON})


# --- Small helpers ------------------------------------------------------------------------------

def _any(parts) -> Q:
    parts = list(parts)
    return reduce(or_, parts) if parts else Q(pk__in=[])


def _city_of(area):
    """The city-level ancestor of `area` (the policy store keeps rules per city)."""
    from zhouxin.orgs.choices import AreaLevel

    node = area
    while node is not None and node.level != AreaLevel.CITY:
        node = node.parent
    return node


def rules(centre, on: dt.date | None = None) -> dict:
    """The booking rule ("centers.booking") in force on `on` for the centre's city."""
    return policy.get(BOOKING_KEY, city=_city_of(centre.area), on=on or timezone.localdate())


def hm(value: dt.datetime | dt.time) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return value.strftime("%H:%M")


def span_text(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """"09:00–11:00" (local time; the day is said separately)."""
    return f"{hm(starts_at)}–{hm(ends_at)}"


def when_text(booking: Booking) -> str:
    """"5月3日 09:00–11:00" for texts and messages."""
    start = timezone.localtime(booking.starts_at)
    return _("%(month)d月%(day)d日 %(span)s") % {"month": start.month, "day": start.day,
                                                "span": span_text(booking.starts_at, booking.ends_at)}


def _snapshot(booking: Booking) -> dict:
    return {"room": booking.room_id, "title": booking.title, "booker_kind": booking.booker_kind,
            "organisation": booking.organisation_id, "group_name": booking.group_name,
            "account": booking.account_id, "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(), "expected": booking.expected, "status": booking.status}


def liaison_units(user):
    """The units `user` is the liaison of (active unit-liaison grants' organisations)."""
    from zhouxin.core.models import Grant
    from zhouxin.orgs.models import Organisation

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organisation.objects.unscoped().none()
    ids = Grant.objects.filter(user=user, active=True, role=Role.UNIT_LIAISON,
                               organisation__isnull=False).values("organisation_id")
    return Organisation.objects.unscoped().filter(pk__in=ids, is_active=True).order_by("name")


def booker_kinds_for(user) -> list[str]:
    """The kinds of booker `user` may book as on the staff site, in the order of the form."""
    scope = scope_for_user(user)
    kinds = []
    if scope.prefixes(STAFF_BOOKER_ROLES):
        kinds += [BookerKind.STAFF, BookerKind.GROUP]
    if scope.prefixes(LIAISON_ROLES) and liaison_units(user).exists():
        kinds.append(BookerKind.UNIT)
    return kinds


def bookable_rooms(user, kind: str | None = None):
    """Active, bookable rooms of active centres that `user` may book (for booker `kind`, or any):
    staff in their areas, a liaison in the area of their liaison grant."""
    scope = scope_for_user(user)
    if kind in (BookerKind.STAFF, BookerKind.GROUP):
        roles = STAFF_BOOKER_ROLES
    elif kind == BookerKind.UNIT:
        roles = LIAISON_ROLES if liaison_units(user).exists() else frozenset()
    elif kind is None:
        roles = STAFF_BOOKER_ROLES | (LIAISON_ROLES if liaison_units(user).exists() else frozenset())
    else:
        roles = frozenset()
    prefixes = scope.prefixes(roles) if roles else ()
    return (Room.objects.unscoped()
            .filter(_any(Q(centre__area__code__startswith=p) for p in prefixes),
                    is_active=True, bookable=True, centre__is_active=True)
            .select_related("centre__area").order_by("centre__area__code", "centre__name", "name"))


def visible_bookings(user):
    """Bookings the staff pages show `user`: area staff their areas' (the scoped manager), a liaison
    their units' (the manager's organisation path), staff who booked what they booked."""
    return Booking.objects.unscoped().filter(
        Booking.objects.scope_q(scope_for_user(user)) | Q(booked_by=user) if user.is_authenticated else Q(pk__in=[]))


def can_manage(user, booking: Booking) -> bool:
    return can(user, "centers.manage", booking.room.centre.area.code)


def is_booker(user, booking: Booking) -> bool:
    """Is `user` the booker on the staff site (who booked it, or a liaison of its unit)?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if booking.booked_by_id == user.pk:
        return True
    return (booking.booker_kind == BookerKind.UNIT and booking.organisation_id is not None
            and liaison_units(user).filter(pk=booking.organisation_id).exists())


def booker_label(booking: Booking) -> str:
    """Who booked, as staff see it (a resident only as 居民)."""
    if booking.booker_kind == BookerKind.UNIT and booking.organisation_id:
        return booking.organisation.name
    if booking.booker_kind == BookerKind.GROUP:
        return booking.group_name
    if booking.booker_kind == BookerKind.RESIDENT:
        return _("居民")
    return booking.room.centre.area.name


def overlapping(room: Room, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude: int | None = None,
                statuses=LIVE_BOOKING_STATUSES) -> Booking | None:
    """The first live booking of `room` that overlaps [starts_at, ends_at), or None."""
    query = Booking.objects.unscoped().filter(room=room, status__in=statuses, starts_at__lt=ends_at,
                                              ends_at__gt=starts_at)
    if exclude is not None:
        query = query.exclude(pk=exclude)
    return query.order_by("starts_at", "id").first()


def _taken_message(other: Booking | None, starts_at, ends_at, *, for_resident: bool) -> str:
    if other is None:  # the database refused, and the booking it saw is gone again
        return _("该时段已被预约：%(span)s") % {"span": span_text(starts_at, ends_at)}
    if for_resident:
        return _("该时段已被预约：%(span)s") % {"span": span_text(other.starts_at, other.ends_at)}
    return _("该时段已被预约：%(title)s %(span)s") % {"title": other.title,
                                                "span": span_text(other.starts_at, other.ends_at)}


def _lock_room(room: Room) -> Room:
    """Lock the room row for the rest of the transaction: requests for one room queue here, so the
    overlap check below sees every booking committed before it."""
    return (Room.objects.unscoped().select_for_update(of=("self",)).select_related("centre__area__parent")
            .get(pk=room.pk))


def _check_free(room: Room, starts_at, ends_at, *, exclude: int | None = None, for_resident: bool) -> None:
    other = overlapping(room, starts_at, ends_at, exclude=exclude)
    if other is not None:
        raise ValidationError({"starts_at": [_taken_message(other, starts_at, ends_at, for_resident=for_resident)]})


def _refused_by_database(exc: IntegrityError, room, starts_at, ends_at, *, exclude=None, for_resident: bool):
    """The database refused the row: the overlap rule becomes the same message as the service's."""
    if not booking_sql.is_overlap_error(exc):
        raise exc
    other = overlapping(room, starts_at, ends_at, exclude=exclude)
    return ValidationError({"starts_at": [_taken_message(other, starts_at, ends_at, for_resident=for_resident)]})


# --- Validation ---------------------------------------------------------------------------------

def _opening_errors(centre, starts_at: dt.datetime, ends_at: dt.datetime) -> list[str]:
    """The booking must lie inside one of the centre's opening intervals of its (local) day."""
    from .centres import opening_intervals

    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    day = start.date()
    intervals = sorted(opening_intervals(centre, day))
    day_text = _("%(m)d月%(d)d日") % {"m": day.month, "d": day.day}
    if not intervals:
        return [_("服务中心%(day)s不开放，请另选日期。") % {"day": day_text}]
    end_time = end.time()
    if end.date() != day:
        # Ending at midnight is the end of the same day; anything later crosses into the next.
        end_time = dt.time.max if end.date() == day + dt.timedelta(days=1) and end_time == dt.time(0) else None
    for opens, closes in intervals:
        closes_at = dt.time.max if closes == dt.time(0) and opens != dt.time(0) else closes
        if end_time is not None and opens <= start.time() and end_time <= closes_at:
            return []
    from .centres import intervals_text

    hours = intervals_text(intervals)
    return [_("请在开放时间内预约：%(day)s开放时间为 %(hours)s。") % {"day": day_text, "hours": hours}]


def _clean_request(*, room: Room, title, starts_at, ends_at, expected, booker_kind, organisation, group_name,
                   note, now) -> dict:
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    title = " ".join(str(title or "").split())
    group_name = " ".join(str(group_name or "").split())
    note = str(note or "").strip()
    if not title:
        add("title", _("请填写活动名称。"))
    elif len(title) > TITLE_MAX:
        add("title", _("活动名称不能超过 %(n)d 个字。") % {"n": TITLE_MAX})
    if len(note) > NOTE_MAX:
        add("note", _("备注不能超过 %(n)d 个字。") % {"n": NOTE_MAX})
    if booker_kind not in BookerKind.values:
        add("booker_kind", _("请选择预约方。"))
    if booker_kind == BookerKind.GROUP:
        if not group_name:
            add("group_name", _("请填写团队名称。"))
        elif len(group_name) > GROUP_MAX:
            add("group_name", _("团队名称不能超过 %(n)d 个字。") % {"n": GROUP_MAX})
    else:
        group_name = ""
    if booker_kind == BookerKind.UNIT and organisation is None:
        add("organisation", _("请选择预约单位。"))
    centre = room.centre
    if not (room.is_active and centre.is_active):
        add("room", _("该功能室已停用，不能预约。"))
    elif not room.bookable:
        add("room", _("该功能室不对外预约。"))
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        add("expected", _("请填写预计人数。"))
        expected = None
    if expected is not None:
        if expected < 1:
            add("expected", _("预计人数至少为 1 人。"))
        elif expected > room.capacity:
            add("expected", _("预计人数不能超过功能室容纳人数（%(n)d 人）。") % {"n": room.capacity})
    if not isinstance(starts_at, dt.datetime) or not isinstance(ends_at, dt.datetime):
        add("starts_at", _("请填写开始和结束时间。"))
    elif timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("booking times must be aware datetimes")
    elif ends_at <= starts_at:
        add("ends_at", _("结束时间应晚于开始时间。"))
    else:
        rule = rules(centre, on=timezone.localdate(now))
        minutes = (ends_at - starts_at).total_seconds() / 60
        if starts_at <= now:
            add("starts_at", _("开始时间须晚于现在。"))
        elif timezone.localdate(starts_at) > timezone.localdate(now) + dt.timedelta(days=int(rule["days_ahead"])):
            add("starts_at", _("最多可提前 %(n)d 天预约。") % {"n": int(rule["days_ahead"])})
        if minutes < int(rule["minimum_minutes"]):
            add("ends_at", _("预约时长不能少于 %(n)d 分钟。") % {"n": int(rule["minimum_minutes"])})
        elif minutes > int(rule["maximum_hours"]) * 60:
            add("ends_at", _("预约时长不能超过 %(n)d 小时。") % {"n": int(rule["maximum_hours"])})
        if "room" not in errors:
            for message in _opening_errors(centre, starts_at, ends_at):
                add("starts_at", message)
    if errors:
        raise ValidationError(errors)
    return {"title": title, "group_name": group_name, "note": note, "expected": expected}


def no_show_count(centre, *, account=None, organisation=None, now=None) -> tuple[int, int, int]:
    """(no-shows within the rule's period, the limit, the period in days) of a resident or a unit."""
    now = now or timezone.now()
    rule = rules(centre, on=timezone.localdate(now))
    days, limit = int(rule["no_show_days"]), int(rule["no_show_limit"])
    who = {"account": account} if account is not None else {"organisation": organisation}
    count = Booking.objects.unscoped().filter(status=BookingStatus.NO_SHOW, starts_at__gte=now - dt.timedelta(days=days),
                                              **who).count()
    return count, limit, days


def _refuse_after_no_shows(centre, *, account=None, organisation=None, now) -> None:
    if account is None and organisation is None:
        return
    count, limit, days = no_show_count(centre, account=account, organisation=organisation, now=now)
    if limit and count >= limit:
        if account is not None:
            message = _("您近 %(days)d 天内已爽约 %(count)d 次（达到 %(limit)d 次暂停预约），暂不能预约。")
        else:
            message = _("该单位近 %(days)d 天内已爽约 %(count)d 次（达到 %(limit)d 次暂停预约），暂不能预约。")
        raise ValidationError(message % {"days": days, "count": count, "limit": limit})


def _check_booker(*, actor, account, room: Room, booker_kind: str, organisation) -> None:
    """Who may book as which kind of booker (PermissionDenied) — see the module's rules."""
    from zhouxin.portal.models import ResidentAccount

    code = room.centre.area.code
    if account is not None:
        if actor is not None or not isinstance(account, ResidentAccount) or account.pk is None:
            raise PermissionDenied(_("请先登录居民账号。"))
        if booker_kind != BookerKind.RESIDENT:
            raise ValidationError({"booker_kind": [_("居民只能以个人名义预约。")]})
        return
    if actor is None:
        raise PermissionDenied(_("请先登录居民账号。"))
    ensure_can(actor, "centers.book", code)
    scope = scope_for_user(actor)
    if booker_kind == BookerKind.RESIDENT:
        raise ValidationError({"booker_kind": [_("居民个人预约请在居民服务网站登录后办理。")]})
    if booker_kind == BookerKind.UNIT:
        if not scope.covers(code, LIAISON_ROLES):
            raise PermissionDenied(_("只有本区域驻区单位的联络员可以以单位名义预约。"))
        if organisation is not None and not liaison_units(actor).filter(pk=organisation.pk).exists():
            raise PermissionDenied(_("只能以您担任联络员的单位名义预约。"))
    elif booker_kind in (BookerKind.STAFF, BookerKind.GROUP) and not scope.covers(code, STAFF_BOOKER_ROLES):
        raise PermissionDenied(_("只有本区域的社区或街道工作人员可以代社区或团队预约。"))


# --- Request ------------------------------------------------------------------------------------

@transaction.atomic
def booking_request(*, actor=None, account=None, room: Room, title: str, starts_at: dt.datetime,
                    ends_at: dt.datetime, expected, booker_kind: str, organisation=None, group_name: str = "",
                    note: str = "") -> Booking:
    """Book a room (see the module's rules).  Staff and liaisons act as `actor`; a signed-in
    resident as `account`.  Pending when the room needs approval, else approved at once."""
    for_resident = account is not None
    room = Room.objects.unscoped().select_related("centre__area__parent").get(pk=room.pk)
    _check_booker(actor=actor, account=account, room=room, booker_kind=booker_kind, organisation=organisation)
    now = timezone.now()
    data = _clean_request(room=room, title=title, starts_at=starts_at, ends_at=ends_at, expected=expected,
                          booker_kind=booker_kind, organisation=organisation, group_name=group_name, note=note,
                          now=now)
    if booker_kind != BookerKind.UNIT:
        organisation = None
    _refuse_after_no_shows(room.centre, account=account, organisation=organisation, now=now)
    room = _lock_room(room)
    _check_free(room, starts_at, ends_at, for_resident=for_resident)
    approved = not room.needs_approval
    booking = Booking(room=room, booker_kind=booker_kind, organisation=organisation, account=account,
                      booked_by=actor, starts_at=starts_at, ends_at=ends_at,
                      status=BookingStatus.APPROVED if approved else BookingStatus.PENDING,
                      decided_at=now if approved else None, **data)
    try:
        with transaction.atomic():
            booking.save(force_insert=True)
    except IntegrityError as exc:
        raise _refused_by_database(exc, room, starts_at, ends_at, for_resident=for_resident) from None
    audit.record(actor=actor, action="centers.booking.requested", obj=booking,
                 after={**_snapshot(booking), "auto_approved": approved})
    return booking


# --- Staff decisions ------------------------------------------------------------------------------

def _locked(booking: Booking, *, room_first: bool = False) -> Booking:
    """Lock the booking row (after its room's row with `room_first`: the order booking_request
    locks in, so two transactions never wait for each other in a circle)."""
    if room_first:
        _lock_room(Room(pk=Booking.objects.unscoped().values_list("room_id", flat=True).get(pk=booking.pk)))
    return (Booking.objects.unscoped().select_for_update(of=("self",))
            .select_related("room__centre__area", "account", "organisation", "booked_by").get(pk=booking.pk))


def _text_booker(booking: Booking, message: str) -> None:
    """A text to the booker's own phone after commit: a resident's account phone, or the phone on
    the person record of the staff member or liaison who booked.  Nobody else's details in it."""
    phone = ""
    if booking.account_id:
        phone = booking.account.phone
    elif booking.booked_by_id:
        from zhouxin.orgs.models import Person

        person = Person.objects.unscoped().filter(user_id=booking.booked_by_id).only("phone").first()
        phone = person.phone if person is not None else ""
    if not phone:
        return
    from zhouxin.portal import sms

    transaction.on_commit(lambda: sms.send(phone, message))


def _place(booking: Booking) -> str:
    return f"{booking.room.centre.name}{booking.room.name}"


@transaction.atomic
def booking_decide(*, actor, booking: Booking, approve: bool, note: str = "") -> Booking:
    """Approve or reject a pending booking (centers.manage on the centre's area).  A rejection needs
    a reason; an approval must still not overlap another live booking, and the booking must not
    have started."""
    booking = _locked(booking, room_first=True)
    ensure_can(actor, "centers.manage", booking.room.centre.area.code)
    note = str(note or "").strip()
    if booking.status != BookingStatus.PENDING:
        raise ValidationError(_("只有待审批的预约可以审批。"))
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("审批意见不能超过 %(n)d 个字。") % {"n": NOTE_MAX}]})
    now = timezone.now()
    if approve:
        if booking.starts_at <= now:
            raise ValidationError(_("预约的开始时间已过，不能再批准。"))
        _check_free(booking.room, booking.starts_at, booking.ends_at, exclude=booking.pk, for_resident=False)
    elif len(note) < REASON_MIN:
        raise ValidationError({"note": [_("请填写不予批准的原因，预约人会收到短信通知。")]})
    before = booking.status
    booking.status = BookingStatus.APPROVED if approve else BookingStatus.REJECTED
    booking.decided_by, booking.decided_at, booking.decision_note = actor, now, note
    try:
        with transaction.atomic():
            booking.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    except IntegrityError as exc:
        raise _refused_by_database(exc, booking.room, booking.starts_at, booking.ends_at, exclude=booking.pk,
                                   for_resident=False) from None
    audit.record(actor=actor, action="centers.booking.approved" if approve else "centers.booking.rejected",
                 obj=booking, before={"status": before}, after={"status": booking.status, "note": note})
    if approve:
        text = _("【轴心】您预约的%(place)s（%(when)s，%(title)s）已批准，请按时使用。")
    else:
        text = _("【轴心】您预约的%(place)s（%(when)s，%(title)s）未获批准：%(note)s。")
    _text_booker(booking, text % {"place": _place(booking), "when": when_text(booking), "title": booking.title,
                                  "note": note})
    return booking


@transaction.atomic
def booking_cancel(*, actor=None, account=None, booking: Booking, reason: str = "") -> Booking:
    """Cancel a live booking.  The booker (a resident their own booking, a liaison their unit's,
    staff what they booked) before it starts; staff holding centers.manage on the centre's area
    before it ends, with a reason, and the booker is texted."""
    booking = _locked(booking)
    reason = str(reason or "").strip()
    now = timezone.now()
    if account is not None:
        if actor is not None or booking.account_id != account.pk:
            raise PermissionDenied(_("只能取消自己的预约。"))
        by_staff = False
    elif actor is None:
        raise PermissionDenied(_("请先登录居民账号。"))
    elif is_booker(actor, booking):
        by_staff = False
    elif can_manage(actor, booking):
        by_staff = True
    else:
        raise PermissionDenied(_("您没有权限执行此操作。"))
    if booking.status not in LIVE_BOOKING_STATUSES:
        raise ValidationError(_("只有待审批或已批准的预约可以取消。"))
    if len(reason) > NOTE_MAX:
        raise ValidationError({"reason": [_("取消原因不能超过 %(n)d 个字。") % {"n": NOTE_MAX}]})
    if by_staff:
        if len(reason) < REASON_MIN:
            raise ValidationError({"reason": [_("请填写取消原因，预约人会收到短信通知。")]})
        if booking.ends_at <= now:
            raise ValidationError(_("预约时段已结束，不能取消；请标记为已使用或爽约。"))
    elif booking.starts_at <= now:
        raise ValidationError(_("预约已经开始，不能取消。"))
    before = booking.status
    booking.status = BookingStatus.CANCELLED
    fields = ["status"]
    if by_staff:
        booking.decided_by, booking.decided_at, booking.decision_note = actor, now, reason
        fields += ["decided_by", "decided_at", "decision_note"]
    booking.save(update_fields=fields)
    audit.record(actor=actor, action="centers.booking.cancelled", obj=booking, before={"status": before},
                 after={"status": booking.status, "reason": reason, "by_staff": by_staff,
                        "account": getattr(account, "pk", None)})
    if by_staff:
        _text_booker(booking, _("【轴心】您预约的%(place)s（%(when)s，%(title)s）已被取消：%(reason)s。")
                     % {"place": _place(booking), "when": when_text(booking), "title": booking.title,
                        "reason": reason})
    return booking


def _after_start(actor, booking: Booking) -> Booking:
    booking = _locked(booking)
    ensure_can(actor, "centers.manage", booking.room.centre.area.code)
    if booking.status != BookingStatus.APPROVED:
        raise ValidationError(_("只有已批准的预约可以登记使用情况。"))
    if booking.starts_at > timezone.now():
        raise ValidationError(_("预约还没有开始，开始后才能登记使用情况。"))
    return booking


@transaction.atomic
def booking_mark_no_show(*, actor, booking: Booking) -> Booking:
    """爽约: an approved booking nobody came to, marked by staff after its start.  No-shows count
    toward the booker's pause (no_show_limit within no_show_days)."""
    booking = _after_start(actor, booking)
    booking.status = BookingStatus.NO_SHOW
    booking.save(update_fields=["status"])
    audit.record(actor=actor, action="centers.booking.no_show", obj=booking, before={"status": BookingStatus.APPROVED},
                 after={"status": booking.status})
    return booking


@transaction.atomic
def booking_complete(*, actor, booking: Booking, attended) -> Booking:
    """已使用: staff record that an approved booking took place, with the attendance."""
    try:
        attended = int(attended)
    except (TypeError, ValueError):
        raise ValidationError({"attended": [_("请填写实到人数。")]}) from None
    if attended < 0 or attended > ATTENDED_MAX:
        raise ValidationError({"attended": [_("请填写实到人数。")]})
    if attended == 0:
        raise ValidationError({"attended": [_("实到人数为 0 时请标记为爽约。")]})
    booking = _after_start(actor, booking)
    booking.status, booking.attended = BookingStatus.COMPLETED, attended
    booking.save(update_fields=["status", "attended"])
    audit.record(actor=actor, action="centers.booking.completed", obj=booking,
                 before={"status": BookingStatus.APPROVED}, after={"status": booking.status, "attended": attended})
    return booking
