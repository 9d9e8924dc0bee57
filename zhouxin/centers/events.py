"""Centre events (中心活动): publish, registration with a waiting list, QR check-in, cancel.

Rules and where they come from (DESIGN §3 centers, issue 10 item 4):
* staff holding "centers.manage" on the centre's area (its street hub and community staff) publish
  an event at a centre, optionally on an approved booking of one of its rooms — then the time
  and the room are the booking's (a unit liaison's approved booking is turned into a public
  event this way) and the places never exceed the room's capacity;
* an event may be linked to a volunteer activity (志愿服务活动) of the centre's area and a
  co-building project (共建项目); the link is shown, nothing is counted twice: volunteer hours are
  still only verified by the volunteer activity's own check-in and check-out (volunteers.checkin);
* a signed-in resident (portal account) registers while the event takes registrations: up to the
  capacity as 已报名, then on the waiting list (候补) in order; the event row is locked while the
  places are counted, so two last registrations cannot both take the last place; one live
  registration per account (a database constraint too);
* a registration cancelled before the start gives its place to the first on the waiting list,
  who is texted; once the event started, registrations stand;
* check-in: staff show the event's code (签到码) on a screen, refreshed every few seconds; it
  encodes a portal URL with a token signed by django.core.signing (TimestampSigner salted with the
  event's `qr_key`) carrying the event and the issue time, good for CODE_VALID_SECONDS.  A
  registered resident scans it and is checked in; a waitlisted or unregistered resident is told
  why not; a walk-in may register on the spot while places remain and is then checked in;
* cancelling an event texts everybody registered or waiting.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from functools import reduce
from operator import or_

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.permissions import can, ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user

from .choices import BookingStatus, EventStatus, RegistrationStatus
from .models import Booking, Centre, Event, EventRegistration

TITLE_MAX = 80
DESCRIPTION_MAX = 2000
REASON_MAX = 200
CAPACITY_MAX = 10000
LONGEST = dt.timedelta(hours=24)
# A code lives this long on the staff screen, which fetches a fresh one every third of it.
CODE_VALID_SECONDS = 60
CHECK_IN_EARLY = dt.timedelta(minutes=30)
# A scan seen valid on the portal may be confirmed after signing in (texting a sign-in code takes
# longer than a code lives); the time recorded is the time of the scan.
SCAN_HOLD = dt.timedelta(minutes=15)
CLOCK_SKEW = dt.timedelta(seconds=5)
SALT = "zhouxin.centers.event_check"
LIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


class CheckError(ValidationError):
    """A code or a check-in that is refused; the message says why, in words a resident understands."""


# --- Reads -------------------------------------------------------------------------------

def _any(parts) -> Q:
    parts = list(parts)
    return reduce(or_, parts) if parts else Q(pk__in=[])


def _prefixes(user, permission: str) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for(permission))


def events_for(user):
    """Events the user may see on the staff pages: of centres in their "centers.view" subtree."""
    return Event.objects.unscoped().filter(_any(Q(centre__area__code__startswith=p)
                                                for p in _prefixes(user, "centers.view")))


def centres_managed_by(user):
    """Active centres where the user may publish events ("centers.manage" on the centre's area)."""
    return (Centre.objects.unscoped().filter(_any(Q(area__code__startswith=p) for p in _prefixes(user, "centers.manage")),
                                             is_active=True).select_related("area").order_by("area__code", "name"))


def can_manage(user, event: Event) -> bool:
    return can(user, "centers.manage", event.centre.area.code)


def bookings_for_events(user):
    """Approved bookings not yet over and not yet an event, in the centres the user manages: the
    bookings an event can be published on (a unit's or a group's included)."""
    return (Booking.objects.unscoped().filter(room__centre__in=centres_managed_by(user), status=BookingStatus.APPROVED,
                                              ends_at__gt=timezone.now(), event__isnull=True)
            .select_related("room__centre", "organisation").order_by("starts_at", "id"))


def activity_choices(centre: Centre):
    """Volunteer activities an event of the centre may be linked to: of communities in the
    centre's area, not cancelled."""
    from zhouxin.volunteers.choices import ActivityStatus
    from zhouxin.volunteers.models import Activity

    return (Activity.objects.unscoped().filter(community__code__startswith=centre.area.code)
            .exclude(status=ActivityStatus.CANCELLED))


def _street_code(code: str) -> str | None:
    from zhouxin.orgs.choices import CODE_LENGTH, AreaLevel

    street = CODE_LENGTH.get(AreaLevel.STREET, 9)
    return code[:street] if len(code) > street else None


def project_choices(centre: Centre):
    """Co-building projects an event of the centre may be linked to: of the centre's area (or
    below it), or of the street the centre's community belongs to; not cancelled."""
    from zhouxin.cobuild.choices import ProjectStatus
    from zhouxin.cobuild.models import Project

    code = centre.area.code
    where = Q(area__code__startswith=code)
    street = _street_code(code)
    if street:
        where |= Q(area__code=street)
    return Project.objects.unscoped().filter(where).exclude(status=ProjectStatus.CANCELLED)


def with_counts(queryset):
    """Annotate `registered`, `waitlisted` and `checked_in` on a queryset of events, in one query."""
    return queryset.annotate(
        registered=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED)),
        waitlisted=Count("registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)),
        checked_in=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED,
                                                   registrations__checked_in_at__isnull=False)))


def places_taken(event: Event) -> int:
    return EventRegistration.objects.unscoped().filter(event=event, status=RegistrationStatus.REGISTERED).count()


def public_events():
    """Events anyone may see on the portal: published, at an active centre."""
    return Event.objects.unscoped().filter(status=EventStatus.PUBLISHED, centre__is_active=True)


def registration_of(event: Event, account) -> EventRegistration | None:
    """The account's live registration (registered or waiting) for the event, if any."""
    if account is None:
        return None
    return (EventRegistration.objects.unscoped().filter(event=event, account=account, status__in=LIVE)
            .order_by("-id").first())


def waitlist_position(registration: EventRegistration) -> int:
    """1 for the first on the waiting list."""
    ahead = EventRegistration.objects.unscoped().filter(
        Q(registered_at__lt=registration.registered_at)
        | Q(registered_at=registration.registered_at, id__lt=registration.pk),
        event_id=registration.event_id, status=RegistrationStatus.WAITLISTED).count()
    return ahead + 1


def registration_closed_reason(event: Event, now: dt.datetime | None = None) -> str:
    """"" when the event takes registrations now, else why not (shown on the portal)."""
    now = now or timezone.now()
    if event.status != EventStatus.PUBLISHED:
        return _("活动已取消。")
    if not event.centre.is_active:
        return _("该服务中心已停用。")
    if event.ends_at <= now:
        return _("活动已经结束。")
    return ""


# --- Publishing and cancelling -----------------------------------------------------------

def _snapshot(event: Event) -> dict:
    return {"centre": event.centre_id, "booking": event.booking_id, "title": event.title,
            "starts_at": event.starts_at, "ends_at": event.ends_at, "capacity": event.capacity,
            "status": event.status, "volunteer_activity": event.volunteer_activity_id, "project": event.project_id}


def _clean_texts(errors: dict, title: str, description: str) -> tuple[str, str]:
    title = " ".join(str(title or "").split())
    description = str(description or "").strip()
    if not title:
        errors.setdefault("title", []).append(_("请填写活动名称。"))
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(_("活动名称不能超过 %(n)d 个字。") % {"n": TITLE_MAX})
    if len(description) > DESCRIPTION_MAX:
        errors.setdefault("description", []).append(_("活动介绍不能超过 %(n)d 个字。") % {"n": DESCRIPTION_MAX})
    return title, description


@transaction.atomic
def event_create(*, actor, centre: Centre | None, title: str, starts_at: dt.datetime | None,
                 ends_at: dt.datetime | None, capacity: int, description: str = "", booking: Booking | None = None,
                 volunteer_activity=None, project=None) -> Event:
    """Publish an event at a centre (报名中 at once).  On a booking, the booking's centre, time and
    room are the event's: the booking must be approved and not over, and the places cannot exceed
    the room's capacity."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if booking is not None:
        booking = (Booking.objects.unscoped().select_for_update().select_related("room__centre__area")
                   .filter(pk=booking.pk).first())
        if booking is None:
            raise ValidationError({"booking": [_("该场地预约不存在。")]})
        if centre is None:
            centre = booking.room.centre
        elif booking.room.centre_id != centre.pk:
            errors.setdefault("booking", []).append(_("所选预约不在该服务中心。"))
    if centre is None:
        raise ValidationError({"centre": [_("请选择服务中心。")]})
    centre = Centre.objects.unscoped().select_related("area").get(pk=centre.pk)
    ensure_can(actor, "centers.manage", centre.area.code)
    if not centre.is_active:
        errors.setdefault("centre", []).append(_("该服务中心已停用，不能发布活动。"))
    title, description = _clean_texts(errors, title, description)
    if booking is not None:
        if booking.status != BookingStatus.APPROVED:
            errors.setdefault("booking", []).append(_("只有已批准的场地预约可以发布为活动。"))
        elif booking.ends_at <= now:
            errors.setdefault("booking", []).append(_("该预约的时段已经结束。"))
        elif Event.objects.unscoped().filter(booking=booking).exists():
            errors.setdefault("booking", []).append(_("该预约已发布过活动。"))
        starts_at, ends_at = booking.starts_at, booking.ends_at
        if isinstance(capacity, int) and capacity > booking.room.capacity:
            errors.setdefault("capacity", []).append(
                _("名额不能超过功能室“%(room)s”的容纳人数 %(n)d 人。") % {"room": booking.room.name,
                                                                  "n": booking.room.capacity})
    else:
        if starts_at is None:
            errors.setdefault("starts_at", []).append(_("请填写开始时间。"))
        elif starts_at <= now:
            errors.setdefault("starts_at", []).append(_("开始时间必须在现在之后。"))
        if ends_at is None:
            errors.setdefault("ends_at", []).append(_("请填写结束时间。"))
        if starts_at and ends_at:
            if ends_at <= starts_at:
                errors.setdefault("ends_at", []).append(_("结束时间必须晚于开始时间。"))
            elif ends_at - starts_at > LONGEST:
                errors.setdefault("ends_at", []).append(_("一次活动不能超过 24 小时；跨天的活动请分次发布。"))
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        errors.setdefault("capacity", []).append(_("名额必须大于 0。"))
    elif capacity > CAPACITY_MAX:
        errors.setdefault("capacity", []).append(_("名额不能超过 %(n)d 人。") % {"n": CAPACITY_MAX})
    if volunteer_activity is not None and not activity_choices(centre).filter(pk=volunteer_activity.pk).exists():
        errors.setdefault("volunteer_activity", []).append(_("只能关联本中心所在区域、未取消的志愿服务活动。"))
    if project is not None and not project_choices(centre).filter(pk=project.pk).exists():
        errors.setdefault("project", []).append(_("只能关联本中心所在社区或街道、未取消的共建项目。"))
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            event = Event.objects.unscoped().create(
                centre=centre, booking=booking, title=title, description=description, starts_at=starts_at,
                ends_at=ends_at, capacity=capacity, status=EventStatus.PUBLISHED,
                volunteer_activity=volunteer_activity, project=project, qr_key=secrets.token_urlsafe(32),
                created_by=actor)
    except IntegrityError:
        raise ValidationError({"booking": [_("该预约已发布过活动。")]}) from None
    audit.record(actor=actor, action="centers.event.created", obj=event, after=_snapshot(event))
    return event


def _texts_to(registrations) -> list[str]:
    phones: list[str] = []
    for registration in registrations:
        phone = registration.account.phone if registration.account_id else ""
        if phone and phone not in phones:
            phones.append(phone)
    return phones


def _when(event: Event) -> str:
    return timezone.localtime(event.starts_at).strftime("%m-%d %H:%M")


@transaction.atomic
def event_cancel(*, actor, event: Event, reason: str) -> Event:
    """Cancel a published event that has not ended; everybody registered or waiting is texted
    (after commit) and their registrations are cancelled.  The room's booking, if any, stays:
    cancel it on the booking if the room is no longer needed."""
    from zhouxin.portal import sms

    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因，会以短信告知已报名的居民。")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("取消原因不能超过 %(n)d 个字。") % {"n": REASON_MAX}]})
    event = Event.objects.unscoped().select_related("centre__area").get(pk=event.pk)
    ensure_can(actor, "centers.manage", event.centre.area.code)
    now = timezone.now()
    if event.ends_at <= now:
        raise ValidationError(_("活动已经结束，不能取消。"))
    updated = Event.objects.unscoped().filter(pk=event.pk, status=EventStatus.PUBLISHED).update(
        status=EventStatus.CANCELLED)
    if updated != 1:
        raise ValidationError(_("活动已经取消。"))
    event.status = EventStatus.CANCELLED
    live = list(EventRegistration.objects.unscoped().filter(event=event, status__in=LIVE).select_related("account"))
    phones = _texts_to(live)
    EventRegistration.objects.unscoped().filter(pk__in=[r.pk for r in live]).update(
        status=RegistrationStatus.CANCELLED, cancelled_at=now)
    text = _("【轴心】您报名的活动“%(title)s”（%(when)s，%(centre)s）已取消：%(reason)s。给您带来不便，敬请谅解。") % {
        "title": event.title, "when": _when(event), "centre": event.centre.name, "reason": reason}
    for phone in phones:
        transaction.on_commit(lambda phone=phone: sms.send(phone, text))
    audit.record(actor=actor, action="centers.event.cancelled", obj=event, before={"status": EventStatus.PUBLISHED},
                 after={"status": event.status, "reason": reason, "registrations_cancelled": len(live),
                        "texts": len(phones)})
    return event


# --- Registration ------------------------------------------------------------------------

def _locked(event: Event) -> Event:
    return Event.objects.unscoped().select_for_update().select_related("centre").get(pk=event.pk)


@transaction.atomic
def event_register(*, account, event: Event) -> EventRegistration:
    """Register a signed-in resident: 已报名 while places remain, otherwise on the waiting list
    (候补) until the event starts; after the start (a walk-in) only while places remain."""
    if account is None:
        raise PermissionDenied(_("请先登录。"))
    current = _locked(event)
    now = timezone.now()
    reason = registration_closed_reason(current, now)
    if reason:
        raise ValidationError(reason)
    mine = registration_of(current, account)
    if mine is not None:
        if mine.status == RegistrationStatus.WAITLISTED:
            raise ValidationError(_("您已在这个活动的候补名单上。"))
        raise ValidationError(_("您已报名这个活动。"))
    if places_taken(current) < current.capacity:
        status = RegistrationStatus.REGISTERED
    elif current.starts_at > now:
        status = RegistrationStatus.WAITLISTED
    else:
        raise ValidationError(_("活动已经开始，名额已满。"))
    try:
        with transaction.atomic():
            registration = EventRegistration.objects.unscoped().create(event=current, account=account, status=status,
                                                                       registered_at=now)
    except IntegrityError:
        raise ValidationError(_("您已报名这个活动。")) from None
    audit.record(actor=None, action="centers.event.registered", obj=registration,
                 after={"event": current.pk, "account": account.pk, "status": status})
    return registration


def _promote(event: Event) -> list[EventRegistration]:
    """Fill free places from the waiting list, first come first served; each promoted resident is
    texted after commit.  The caller holds the event's lock."""
    from zhouxin.portal import sms

    promoted: list[EventRegistration] = []
    free = event.capacity - places_taken(event)
    if free <= 0:
        return promoted
    waiting = list(EventRegistration.objects.unscoped().filter(event=event, status=RegistrationStatus.WAITLISTED)
                   .select_related("account").order_by("registered_at", "id")[:free])
    for registration in waiting:
        moved = EventRegistration.objects.unscoped().filter(
            pk=registration.pk, status=RegistrationStatus.WAITLISTED).update(status=RegistrationStatus.REGISTERED)
        if moved != 1:
            continue
        registration.status = RegistrationStatus.REGISTERED
        promoted.append(registration)
        audit.record(actor=None, action="centers.event.waitlist_promoted", obj=registration,
                     before={"status": RegistrationStatus.WAITLISTED}, after={"status": registration.status})
        phone = registration.account.phone
        text = _("【轴心】您候补的活动“%(title)s”（%(when)s，%(centre)s）有了空位，您已报名成功。"
                 "如不能参加，请在网上取消报名，把名额留给其他居民。") % {
            "title": event.title, "when": _when(event), "centre": event.centre.name}
        transaction.on_commit(lambda phone=phone, text=text: sms.send(phone, text))
    return promoted


@transaction.atomic
def event_cancel_registration(*, account, event: Event) -> EventRegistration:
    """A resident withdraws their own registration (or leaves the waiting list) before the start;
    a place given back goes to the first on the waiting list."""
    if account is None:
        raise PermissionDenied(_("请先登录。"))
    current = _locked(event)
    mine = registration_of(current, account)
    if mine is None:
        raise ValidationError(_("您没有可以取消的报名。"))
    if mine.checked_in_at is not None:
        raise ValidationError(_("您已签到，不能取消报名。"))
    now = timezone.now()
    if current.starts_at <= now:
        raise ValidationError(_("活动已经开始，不能再取消报名；如不能到场请联系服务中心。"))
    before = mine.status
    updated = EventRegistration.objects.unscoped().filter(pk=mine.pk, status=before).update(
        status=RegistrationStatus.CANCELLED, cancelled_at=now)
    if updated != 1:
        raise ValidationError(_("这个报名已经不能取消。"))
    mine.refresh_from_db()
    audit.record(actor=None, action="centers.event.registration_cancelled", obj=mine, before={"status": before},
                 after={"status": mine.status, "account": account.pk})
    if before == RegistrationStatus.REGISTERED and current.status == EventStatus.PUBLISHED:
        _promote(current)
    return mine


# --- The check-in code -------------------------------------------------------------------

class _CodeSigner(signing.TimestampSigner):
    """TimestampSigner whose issue time can be given (codes issued at a known time in tests)."""

    def __init__(self, event: Event, issued_at: dt.datetime | None = None):
        super().__init__(salt=f"{SALT}:{event.qr_key}", algorithm="sha256")
        self._issued_at = issued_at

    def timestamp(self):
        if self._issued_at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._issued_at.timestamp()))


def checkin_token(event: Event, issued_at: dt.datetime | None = None) -> str:
    """The signed token of the event's current check-in code."""
    return _CodeSigner(event, issued_at).sign_object({"e": event.pk})


def event_code_svg(url: str) -> str:
    """The QR code of `url` as inline SVG (no size: it scales to its box)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=True, svgclass="zx-vol-qr__svg",
                                                  lineclass="", title=None)


FORGED = gettext_lazy("签到码无效（可能已被篡改或已作废），请扫描工作人员出示的最新签到码。")


def read_token(token: str, *, at: dt.datetime | None = None) -> Event:
    """The event of a code, when the code is genuine and was still valid at `at` (default now);
    otherwise CheckError with the reason."""
    at = at or timezone.now()
    token = str(token or "")
    try:
        claimed = json.loads(signing.b64_decode(token.split(":", 1)[0].encode()))
        event_id = int(claimed["e"])
    except (ValueError, TypeError, KeyError, UnicodeError, AttributeError):
        raise CheckError(str(FORGED)) from None
    event = Event.objects.unscoped().select_related("centre__area", "booking__room").filter(pk=event_id).first()
    if event is None:
        raise CheckError(str(FORGED))
    signer = _CodeSigner(event)
    try:
        # Signer.unsign checks the signature over "payload:timestamp" without the age test, so
        # the age is measured against `at` (the time of the scan), below.
        stamped = signing.Signer.unsign(signer, token)
        payload_b64, stamp = stamped.rsplit(signer.sep, 1)
        issued = dt.datetime.fromtimestamp(signing.b62_decode(stamp), tz=dt.UTC)
        payload = json.loads(signing.b64_decode(payload_b64.encode()))
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise CheckError(str(FORGED)) from None
    if payload.get("e") != event.pk:
        raise CheckError(_("这个签到码不属于该活动。"))
    if issued > at + CLOCK_SKEW or at - issued > dt.timedelta(seconds=CODE_VALID_SECONDS):
        raise CheckError(_("签到码已过期，请扫描工作人员屏幕上刷新后的签到码。"))
    return event


def check_in_window_error(event: Event, at: dt.datetime) -> str:
    if event.status != EventStatus.PUBLISHED:
        return _("活动已取消，不能签到。")
    if at < event.starts_at - CHECK_IN_EARLY:
        return _("还没到签到时间：活动开始前 30 分钟开放签到。")
    if at > event.ends_at:
        return _("活动已经结束，不能再签到。")
    return ""


def _mark_checked_in(registration: EventRegistration, at: dt.datetime) -> EventRegistration:
    claimed = EventRegistration.objects.unscoped().filter(
        pk=registration.pk, status=RegistrationStatus.REGISTERED, checked_in_at__isnull=True).update(checked_in_at=at)
    if claimed != 1:
        registration.refresh_from_db()
        if registration.checked_in_at is not None:
            raise CheckError(_("您已经签到过了，无需重复签到。"))
        raise CheckError(_("这个报名不能签到（%(status)s）。") % {"status": registration.get_status_display()})
    registration.checked_in_at = at
    return registration


@transaction.atomic
def check_in(*, account, token: str, scanned_at: dt.datetime | None = None, walk_in: bool = False
             ) -> EventRegistration:
    """Check a registered resident in from a scanned code.

    `scanned_at` is when the portal saw the code valid (kept in the session while the resident
    signs in); it is at most SCAN_HOLD old and is the time recorded.  With `walk_in`, a resident
    not registered is registered on the spot when places remain, then checked in.  A resident on
    the waiting list is not checked in: the place is not theirs."""
    if account is None:
        raise PermissionDenied(_("请先登录。"))
    now = timezone.now()
    at = scanned_at if scanned_at is not None and now - SCAN_HOLD <= scanned_at <= now else now
    event = read_token(token, at=at)
    reason = check_in_window_error(event, at)
    if reason:
        raise CheckError(reason)
    registration = registration_of(event, account)
    if registration is None:
        if not walk_in:
            raise CheckError(_("您没有报名“%(title)s”。如现场还有名额，可以现场报名后签到。") % {"title": event.title})
        current = _locked(event)
        if places_taken(current) >= current.capacity:
            raise CheckError(_("“%(title)s”名额已满，不能现场报名，请联系现场工作人员。") % {"title": event.title})
        registration = event_register(account=account, event=current)
    if registration.status == RegistrationStatus.WAITLISTED:
        raise CheckError(_("您在“%(title)s”的候补名单上（第 %(n)d 位），还没有获得名额，不能签到；请联系现场工作人员。") % {
            "title": event.title, "n": waitlist_position(registration)})
    registration = _mark_checked_in(registration, at)
    audit.record(actor=None, action="centers.event.checked_in", obj=registration,
                 after={"event": event.pk, "account": account.pk, "checked_in_at": at, "method": "qr",
                        "walk_in": bool(walk_in)})
    return registration


@transaction.atomic
def registration_check_in(*, actor, registration: EventRegistration) -> EventRegistration:
    """Staff confirm the arrival of a registered resident who cannot scan (no phone at hand)."""
    registration = (EventRegistration.objects.unscoped().select_related("event__centre__area")
                    .get(pk=registration.pk))
    event = registration.event
    ensure_can(actor, "centers.manage", event.centre.area.code)
    now = timezone.now()
    reason = check_in_window_error(event, now)
    if reason:
        raise ValidationError(reason)
    if registration.status == RegistrationStatus.WAITLISTED:
        raise ValidationError(_("候补的居民还没有获得名额，不能签到。"))
    registration = _mark_checked_in(registration, now)
    audit.record(actor=actor, action="centers.event.checked_in", obj=registration,
                 after={"event": event.pk, "checked_in_at": now, "method": "staff"})
    return registration


@transaction.atomic
def event_rotate_key(*, actor, event: Event) -> Event:
    """Replace the key that signs the event's codes: every code shown so far stops working."""
    event = Event.objects.unscoped().select_related("centre__area").get(pk=event.pk)
    ensure_can(actor, "centers.manage", event.centre.area.code)
    Event.objects.unscoped().filter(pk=event.pk).update(qr_key=secrets.token_urlsafe(32))
    event.refresh_from_db()
    audit.record(actor=actor, action="centers.event.qr_key_rotated", obj=event)
    return event


# --- The resident's own data (portal.personal_data) --------------------------------------

def personal_data_export(account) -> list[dict]:
    """The account's event registrations, for the resident's export."""
    rows = (EventRegistration.objects.unscoped().filter(account=account).select_related("event__centre")
            .order_by("registered_at", "id"))
    return [{"event": r.event.title, "centre": r.event.centre.name,
             "starts_at": timezone.localtime(r.event.starts_at).isoformat(), "status": r.status,
             "registered_at": timezone.localtime(r.registered_at).isoformat(),
             "checked_in_at": timezone.localtime(r.checked_in_at).isoformat() if r.checked_in_at else None,
             "cancelled_at": timezone.localtime(r.cancelled_at).isoformat() if r.cancelled_at else None}
            for r in rows]


def personal_data_erase(account) -> None:
    """Nothing to do before the account goes: its registrations are deleted with it (CASCADE)."""
