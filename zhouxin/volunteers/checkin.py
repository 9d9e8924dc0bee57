"""Check-in and check-out (签到、签退) and the verified hours they produce.

DESIGN §3 volunteers: hours are verified, never only self-reported.  Two ways:

* QR at the site: the organiser's phone shows the activity's code (签到码), refreshed every few
  seconds; it encodes a portal URL with a token signed by django.core.signing (TimestampSigner,
  salted with the activity's `qr_key`) carrying the activity, the action ("in"/"out") and the
  issue time.  A code is good for the policy's `qr_valid_seconds` (volunteers.service, the
  version in force); replacing the activity's key invalidates every code shown so far.  The
  volunteer scans it with their phone camera and confirms on the portal.
* The organiser confirms on the roster (method organiser), times defaulting to now, or marks
  a no-show.

Check-in is open from 30 minutes before the start to the end; check-out until 2 hours after
the end.  Check-out completes the sign-up: `minutes` is the check-in/out interval clipped to
the activity's hours (hours.interval), verified by the organiser (for QR: the activity's
organiser, whose code was scanned), and the member earns points for the hours that are new
for them once their other verified intervals are merged, so overlapping activities are never
counted twice (hours.merged_minutes before and after).
"""

from __future__ import annotations

import datetime as dt
import json

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit, policy

from . import hours, identity, points
from .choices import ActivityStatus, CheckMethod, PointSource, SignUpStatus
from .models import Activity, SignUp
from .policy import SERVICE_KEY

IN, OUT = "in", "out"
ACTIONS = (IN, OUT)
CHECK_IN_EARLY = dt.timedelta(minutes=30)
CHECK_OUT_LATE = dt.timedelta(hours=2)
# A scan seen valid on the portal may be confirmed after signing in (texting a code takes longer
# than a code lives); the time recorded is the time of the scan.
SCAN_HOLD = dt.timedelta(minutes=15)
CLOCK_SKEW = dt.timedelta(seconds=5)
SALT = "zhouxin.volunteers.check"


class CheckError(ValidationError):
    """A code or a check that is refused; the message says why, in words a volunteer understands."""


class _CodeSigner(signing.TimestampSigner):
    """TimestampSigner whose issue time can be given (codes issued at a known time in tests)."""

    def __init__(self, activity: Activity, issued_at: dt.datetime | None = None):
        super().__init__(salt=f"{SALT}:{activity.qr_key}", algorithm="sha256")
        self._issued_at = issued_at

    def timestamp(self):
        if self._issued_at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._issued_at.timestamp()))


def valid_seconds(activity: Activity, on: dt.date | None = None) -> int:
    value = policy.get(SERVICE_KEY, city=identity.city_of(activity.community), on=on or timezone.localdate())
    return int(value["qr_valid_seconds"])


def code_token(activity: Activity, action: str, issued_at: dt.datetime | None = None) -> str:
    """The signed token of the activity's current check-in ("in") or check-out ("out") code."""
    if action not in ACTIONS:
        raise ValueError(action)
    return _CodeSigner(activity, issued_at).sign_object({"a": activity.pk, "x": action})


def code_svg(url: str) -> str:
    """The QR code of `url` as inline SVG (no size: it scales to its box)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=True, svgclass="zx-vol-qr__svg",
                                                  lineclass="", title=None)


FORGED = _("签到码无效（可能已被篡改或已更换），请扫描现场组织者手机上的最新签到码。")


def read_token(token: str, *, at: dt.datetime | None = None) -> tuple[Activity, str]:
    """The activity and action of a code, when it is genuine and was still valid at `at`
    (default now); otherwise CheckError with the reason."""
    at = at or timezone.now()
    token = str(token or "")
    try:
        head = token.split(":", 1)[0]
        claimed = json.loads(signing.b64_decode(head.encode()))
        activity_id = int(claimed["a"])
    except (ValueError, TypeError, KeyError, UnicodeError, json.JSONDecodeError, AttributeError):
        raise CheckError(FORGED) from None
    activity = Activity.objects.unscoped().select_related("community__parent", "organiser").filter(
        pk=activity_id).first()
    if activity is None:
        raise CheckError(FORGED)
    signer = _CodeSigner(activity)
    try:
        # Signer.unsign checks the signature over "payload:timestamp" without the age test,
        # so the age is measured against `at` (the time of the scan), below.
        stamped = signing.Signer.unsign(signer, token)
        payload_b64, stamp = stamped.rsplit(signer.sep, 1)
        issued = dt.datetime.fromtimestamp(signing.b62_decode(stamp), tz=dt.UTC)
        payload = json.loads(signing.b64_decode(payload_b64.encode()))
    except (signing.BadSignature, ValueError, TypeError, UnicodeError, json.JSONDecodeError):
        raise CheckError(FORGED) from None
    if payload.get("a") != activity.pk:
        raise CheckError(_("这个签到码不属于该活动。"))
    action = payload.get("x")
    if action not in ACTIONS:
        raise CheckError(FORGED)
    if issued > at + CLOCK_SKEW or at - issued > dt.timedelta(seconds=valid_seconds(activity)):
        raise CheckError(_("签到码已过期，请扫描组织者手机上刷新后的签到码。"))
    return activity, action


def _window_error(activity: Activity, action: str, at: dt.datetime) -> str:
    if action == IN:
        if activity.status != ActivityStatus.PUBLISHED:
            return _("活动已取消或已结束，不能签到。")
        if at < activity.starts_at - CHECK_IN_EARLY:
            return _("还没到签到时间：活动开始前 30 分钟开放签到。")
        if at > activity.ends_at:
            return _("活动已经结束，不能再签到。")
        return ""
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.FINISHED):
        return _("活动已取消，不能签退。")
    if at < activity.starts_at - CHECK_IN_EARLY:
        return _("活动还没有开始，不能签退。")
    if at > activity.ends_at + CHECK_OUT_LATE:
        return _("已超过签退时间（活动结束后 2 小时内），请联系组织者确认。")
    return ""


def signup_of(activity: Activity, account) -> SignUp | None:
    """The account's live sign-up for the activity (or the member's, added by the organiser)."""
    member = identity.member_for_account(account)
    who = Q(account=account) | Q(person=member) if member is not None else Q(account=account)
    return (SignUp.objects.unscoped().filter(who, activity=activity)
            .exclude(status=SignUpStatus.CANCELLED).select_related("activity", "person").order_by("-id").first())


def _check_in(signup: SignUp, at: dt.datetime, method: str, *, allowed=(SignUpStatus.SIGNED_UP,)) -> SignUp:
    updated = SignUp.objects.unscoped().filter(pk=signup.pk, status__in=allowed).update(
        status=SignUpStatus.CHECKED_IN, checked_in_at=at, check_in_method=method)
    if updated != 1:
        signup.refresh_from_db()
        if signup.status in (SignUpStatus.CHECKED_IN, SignUpStatus.COMPLETED):
            raise CheckError(_("已经签到过了，无需重复签到。"))
        raise CheckError(_("这个报名不能签到（%(status)s）。") % {"status": signup.get_status_display()})
    signup.refresh_from_db()
    return signup


def _complete(signup: SignUp, at: dt.datetime, method: str, verifier) -> SignUp:
    """Check out, verify the minutes and award the points that are new for the person."""
    from zhouxin.orgs.models import Person

    if signup.person_id:
        # One person's check-outs are serialised, so two overlapping ones cannot both count the overlap.
        Person.objects.unscoped().select_for_update().filter(pk=signup.person_id).first()
    current = SignUp.objects.unscoped().select_for_update().get(pk=signup.pk)
    if current.status == SignUpStatus.COMPLETED:
        raise CheckError(_("已经签退过了，无需重复签退。"))
    if current.status != SignUpStatus.CHECKED_IN or current.checked_in_at is None:
        raise CheckError(_("还没有签到，不能签退。"))
    if at < current.checked_in_at:
        raise CheckError(_("签退时间不能早于签到时间。"))
    current.status = SignUpStatus.COMPLETED
    current.checked_out_at = at
    current.check_out_method = method
    current.activity = signup.activity
    span = hours.interval(current)
    current.minutes = int((span[1] - span[0]).total_seconds() // 60) if span else 0
    current.verified_by = verifier
    current.verified_at = timezone.now()
    current.save(update_fields=["status", "checked_out_at", "check_out_method", "minutes", "verified_by",
                                "verified_at"])
    new_minutes = 0
    if current.person_id and span:
        new_minutes = new_minutes_for(current, span)
        quantity = hours.to_hours(new_minutes)
        if quantity > 0:
            points.award(person=current.person, source=PointSource.HOURS, source_id=current.pk, quantity=quantity,
                         rule="per_hour", on=timezone.localdate(span[0]),
                         note=_("志愿服务：%(title)s") % {"title": current.activity.title})
    current._new_minutes = new_minutes
    return current


def new_minutes_for(signup: SignUp, span) -> int:
    """Minutes of `span` not already covered by the person's other verified intervals."""
    start, end = span
    others = (SignUp.objects.unscoped().filter(Q(person_id=signup.person_id) | Q(account_id=signup.account_id)
                                               if signup.account_id else Q(person_id=signup.person_id),
                                               status=SignUpStatus.COMPLETED, activity__ends_at__gt=start,
                                               activity__starts_at__lt=end)
              .exclude(pk=signup.pk).select_related("activity"))
    spans = [s for s in (hours.interval(o) for o in others) if s]
    return hours.merged_minutes([*spans, span]) - hours.merged_minutes(spans)


def _snapshot(signup: SignUp) -> dict:
    return {"status": signup.status, "checked_in_at": signup.checked_in_at, "checked_out_at": signup.checked_out_at,
            "check_in_method": signup.check_in_method, "check_out_method": signup.check_out_method,
            "minutes": signup.minutes}


# --- QR at the site ----------------------------------------------------------------------

@transaction.atomic
def check_by_code(*, account, token: str, scanned_at: dt.datetime | None = None) -> SignUp:
    """Record the check-in or check-out of the account's sign-up from a scanned code.

    `scanned_at` is when the portal saw the code valid (kept in the session while the volunteer
    signs in); it is at most SCAN_HOLD old and is the time recorded."""
    if account is None:
        raise PermissionDenied(_("请先登录。"))
    now = timezone.now()
    at = scanned_at if scanned_at is not None and now - SCAN_HOLD <= scanned_at <= now else now
    activity, action = read_token(token, at=at)
    reason = _window_error(activity, action, at)
    if reason:
        raise CheckError(reason)
    signup = signup_of(activity, account)
    if signup is None:
        raise CheckError(_("您没有报名这个活动，请联系现场组织者。"))
    before = _snapshot(signup)
    if action == IN:
        signup = _check_in(signup, at, CheckMethod.QR)
        event = "volunteers.signup.checked_in"
    else:
        if signup.status == SignUpStatus.SIGNED_UP:
            raise CheckError(_("您还没有签到，不能签退；请先扫描签到码或请组织者确认。"))
        signup = _complete(signup, at, CheckMethod.QR, activity.organiser)
        event = "volunteers.signup.checked_out"
    audit.record(actor=None, action=event, obj=signup, before=before,
                 after={**_snapshot(signup), "method": CheckMethod.QR, "account": account.pk})
    return signup


# --- The organiser on the roster ---------------------------------------------------------

def _organiser_time(errors_field: str, at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=1):
        raise ValidationError({errors_field: [_("时间不能晚于现在。")]})
    return at


def _roster_signup(actor, signup: SignUp) -> SignUp:
    signup = SignUp.objects.unscoped().select_related("activity__community", "person", "account").get(pk=signup.pk)
    from zhouxin.core.permissions import ensure_can

    ensure_can(actor, "volunteers.manage", signup.activity.community.code)
    if signup.activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.FINISHED):
        raise ValidationError(_("活动已取消或尚未发布，不能确认签到签退。"))
    return signup


@transaction.atomic
def confirm_check_in(*, actor, signup: SignUp, at: dt.datetime | None = None) -> SignUp:
    """The organiser confirms a volunteer's arrival (or corrects a no-show) at `at` (default now)."""
    signup = _roster_signup(actor, signup)
    at = _organiser_time("checked_in_at", at)
    activity = signup.activity
    if at < activity.starts_at - CHECK_IN_EARLY or at > activity.ends_at:
        raise ValidationError({"checked_in_at": [_("签到时间应在活动开始前 30 分钟到活动结束之间。")]})
    before = _snapshot(signup)
    signup = _check_in(signup, at, CheckMethod.ORGANISER, allowed=(SignUpStatus.SIGNED_UP, SignUpStatus.NO_SHOW))
    audit.record(actor=actor, action="volunteers.signup.checked_in", obj=signup, before=before,
                 after={**_snapshot(signup), "method": CheckMethod.ORGANISER})
    return signup


@transaction.atomic
def confirm_check_out(*, actor, signup: SignUp, at: dt.datetime | None = None) -> SignUp:
    """The organiser confirms a volunteer's departure at `at` (default now): the hours are verified."""
    signup = _roster_signup(actor, signup)
    at = _organiser_time("checked_out_at", at)
    activity = signup.activity
    if at > activity.ends_at + CHECK_OUT_LATE:
        raise ValidationError({"checked_out_at": [_("签退时间不能晚于活动结束后 2 小时。")]})
    if signup.status == SignUpStatus.SIGNED_UP:
        raise CheckError(_("这位志愿者还没有签到，请先确认签到。"))
    before = _snapshot(signup)
    signup = _complete(signup, at, CheckMethod.ORGANISER, actor)
    audit.record(actor=actor, action="volunteers.signup.checked_out", obj=signup, before=before,
                 after={**_snapshot(signup), "method": CheckMethod.ORGANISER})
    return signup


@transaction.atomic
def mark_no_show(*, actor, signup: SignUp) -> SignUp:
    """The organiser marks a signed-up volunteer who did not come (未到场), once the activity started."""
    signup = _roster_signup(actor, signup)
    if signup.activity.starts_at > timezone.now():
        raise ValidationError(_("活动开始后才能标记未到场。"))
    updated = SignUp.objects.unscoped().filter(pk=signup.pk, status=SignUpStatus.SIGNED_UP).update(
        status=SignUpStatus.NO_SHOW)
    if updated != 1:
        raise ValidationError(_("只有已报名、未签到的志愿者可以标记为未到场。"))
    signup.refresh_from_db()
    audit.record(actor=actor, action="volunteers.signup.no_show", obj=signup,
                 before={"status": SignUpStatus.SIGNED_UP}, after={"status": signup.status})
    return signup
