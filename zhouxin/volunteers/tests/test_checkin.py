"""Check-in and check-out: signed, short-lived codes (expired, forged, tampered, another activity's,
a replaced key: all refused), the time windows, the order (no check-out before check-in, nothing
twice), the organiser's confirmation and no-show, verified minutes and points for hours, with
overlapping activities never counted twice."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zhouxin.volunteers import activities, checkin, hours, points
from zhouxin.volunteers.choices import CheckMethod, PointSource, SignUpStatus
from zhouxin.volunteers.models import PointEntry, SignUp

from .test_activities_helpers import MEMBER_PHONE, account, activity, move

pytestmark = pytest.mark.django_db

EXPIRED = "签到码已过期，请扫描组织者手机上刷新后的签到码。"


def _running(personas, **extra):
    """An activity that started 10 minutes ago and ends in 2 hours, with the member signed up."""
    made = activity(personas, **extra)
    member_account = account(MEMBER_PHONE)
    entry = activities.signup(account=member_account, activity=made)
    now = timezone.now()
    move(made, starts_at=now - dt.timedelta(minutes=10), ends_at=now + dt.timedelta(hours=2))
    return made, member_account, entry


def _tamper_payload(token: str, **changes) -> str:
    """The token with its payload changed and the original signature kept."""
    head, rest = token.split(":", 1)
    payload = {**json.loads(signing.b64_decode(head.encode())), **changes}
    return signing.b64_encode(json.dumps(payload, separators=(",", ":")).encode()).decode() + ":" + rest


def test_scanning_the_codes_checks_in_and_out_and_verifies_the_hours(personas):
    made, member_account, entry = _running(personas)
    done = checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in"))
    assert done.status == SignUpStatus.CHECKED_IN and done.check_in_method == CheckMethod.QR
    # Pretend the check-in was at the start, so the verified time is measurable.
    SignUp.objects.unscoped().filter(pk=entry.pk).update(checked_in_at=made.starts_at - dt.timedelta(minutes=20))
    done = checkin.check_by_code(account=member_account, token=checkin.code_token(made, "out"))
    assert done.status == SignUpStatus.COMPLETED and done.check_out_method == CheckMethod.QR
    assert done.minutes == 10  # clipped to the activity's start, not the early arrival
    assert done.verified_by == made.organiser and done.verified_at is not None
    entry_points = PointEntry.objects.unscoped().get(source=PointSource.HOURS, source_id=entry.pk)
    assert entry_points.person == personas.people["member_a"] and entry_points.points == Decimal("0.2")


def test_an_expired_code_is_refused(personas):
    made, member_account, entry = _running(personas)
    old = timezone.now() - dt.timedelta(seconds=checkin.valid_seconds(made) + 5)
    with pytest.raises(ValidationError) as exc:
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in", issued_at=old))
    assert exc.value.messages == [EXPIRED]
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.SIGNED_UP and entry.checked_in_at is None


def test_a_code_from_the_future_is_refused(personas):
    made, member_account, _entry = _running(personas)
    later = timezone.now() + dt.timedelta(minutes=5)
    with pytest.raises(ValidationError, match="签到码已过期"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in", issued_at=later))


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
    lambda t: _tamper_payload(t, x="out"),  # check-in code turned into a check-out code
    lambda t: "not-a-code",
    lambda t: "eyJhIjo5OTk5OTl9:abc:def",  # names an activity that does not exist
])
def test_a_forged_or_tampered_code_is_refused(personas, tamper):
    made, member_account, entry = _running(personas)
    with pytest.raises(ValidationError) as exc:
        checkin.check_by_code(account=member_account, token=tamper(checkin.code_token(made, "in")))
    assert exc.value.messages == [checkin.FORGED]
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.SIGNED_UP


def test_a_code_of_another_activity_is_refused(personas):
    mine, member_account, entry = _running(personas, title="我报名的活动")
    other = activity(personas, title="别的活动")
    now = timezone.now()
    move(other, starts_at=now - dt.timedelta(minutes=10), ends_at=now + dt.timedelta(hours=2))
    # The other activity's genuine code: the member is not signed up there.
    with pytest.raises(ValidationError, match="您没有报名这个活动"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(other, "in"))
    # The other activity's code re-labelled as this activity's: the signature does not hold.
    with pytest.raises(ValidationError) as exc:
        checkin.check_by_code(account=member_account, token=_tamper_payload(checkin.code_token(other, "in"),
                                                                            a=mine.pk))
    assert exc.value.messages == [checkin.FORGED]
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.SIGNED_UP
    assert not SignUp.objects.unscoped().filter(activity=other).exists()


def test_replacing_the_key_invalidates_every_code_shown(personas):
    made, member_account, _entry = _running(personas)
    shown = checkin.code_token(made, "in")
    activities.activity_rotate_qr_key(actor=personas.community_staff, activity=made)
    with pytest.raises(ValidationError) as exc:
        checkin.check_by_code(account=member_account, token=shown)
    assert exc.value.messages == [checkin.FORGED]
    assert checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in")).checked_in_at


def test_check_out_before_check_in_is_refused_and_nothing_twice(personas):
    made, member_account, entry = _running(personas)
    with pytest.raises(ValidationError, match="您还没有签到，不能签退"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "out"))
    checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in"))
    with pytest.raises(ValidationError, match="已经签到过了"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in"))
    checkin.check_by_code(account=member_account, token=checkin.code_token(made, "out"))
    with pytest.raises(ValidationError, match="已经签退过了"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "out"))
    with pytest.raises(ValidationError, match="已经签到过了"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in"))
    assert PointEntry.objects.unscoped().filter(source_id=entry.pk).count() <= 1


def test_a_volunteer_not_signed_up_is_refused(personas):
    made, _member_account, _entry = _running(personas)
    with pytest.raises(ValidationError, match="您没有报名这个活动"):
        checkin.check_by_code(account=account("13811119999"), token=checkin.code_token(made, "in"))
    with pytest.raises(PermissionDenied):
        checkin.check_by_code(account=None, token=checkin.code_token(made, "in"))


def test_codes_work_only_while_the_activity_runs(personas):
    made = activity(personas)  # starts in 2 hours
    member_account = account(MEMBER_PHONE)
    entry = activities.signup(account=member_account, activity=made)
    with pytest.raises(ValidationError, match="还没到签到时间"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in"))
    now = timezone.now()
    move(made, starts_at=now + dt.timedelta(minutes=20), ends_at=now + dt.timedelta(hours=2))  # 30 min early is fine
    assert checkin.check_by_code(account=member_account, token=checkin.code_token(made, "in")).checked_in_at
    move(made, starts_at=now - dt.timedelta(hours=5), ends_at=now - dt.timedelta(hours=2, minutes=1))
    with pytest.raises(ValidationError, match="已超过签退时间"):
        checkin.check_by_code(account=member_account, token=checkin.code_token(made, "out"))
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.CHECKED_IN
    other = activity(personas, title="已结束的活动")
    other_account = account("13811110032")
    activities.signup(account=other_account, activity=other)
    move(other, starts_at=now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(minutes=1))
    with pytest.raises(ValidationError, match="活动已经结束，不能再签到"):
        checkin.check_by_code(account=other_account, token=checkin.code_token(other, "in"))


def test_a_scan_seen_before_signing_in_counts_at_the_time_of_the_scan(personas):
    made, member_account, _entry = _running(personas)
    seen = timezone.now() - dt.timedelta(minutes=5)
    token = checkin.code_token(made, "in", issued_at=seen - dt.timedelta(seconds=10))
    with pytest.raises(ValidationError, match="签到码已过期"):
        checkin.check_by_code(account=member_account, token=token)
    done = checkin.check_by_code(account=member_account, token=token, scanned_at=seen)
    assert done.checked_in_at == seen
    # A scan older than the hold counts as now: expired.
    stale = timezone.now() - checkin.SCAN_HOLD - dt.timedelta(minutes=1)
    out = checkin.code_token(made, "out", issued_at=stale)
    with pytest.raises(ValidationError, match="签到码已过期"):
        checkin.check_by_code(account=member_account, token=out, scanned_at=stale)


def _past_pair(personas):
    """Two activities of the member that overlap by an hour: A 3h–1h ago, B 2h–5min ago."""
    now = timezone.now()
    member_account = account(MEMBER_PHONE)
    first = activity(personas, title="活动甲")
    second = activity(personas, title="活动乙")
    a = activities.signup(account=member_account, activity=first)
    b = activities.signup(account=member_account, activity=second)
    move(first, starts_at=now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(hours=1))
    move(second, starts_at=now - dt.timedelta(hours=2), ends_at=now - dt.timedelta(minutes=5))
    return now, first, second, a, b


@pytest.mark.parametrize("order", ["first_then_second", "second_then_first"])
def test_overlapping_activities_are_not_counted_twice(personas, order):
    now, first, second, a, b = _past_pair(personas)
    staff = personas.community_staff
    jobs = [(a, first), (b, second)]
    if order == "second_then_first":
        jobs.reverse()
    for entry, act in jobs:
        checkin.confirm_check_in(actor=staff, signup=entry, at=act.starts_at)
        checkin.confirm_check_out(actor=staff, signup=entry, at=act.ends_at)
    a.refresh_from_db()
    b.refresh_from_db()
    # Each sign-up keeps its own verified minutes ...
    assert (a.minutes, b.minutes) == (120, 115)
    assert a.verified_by == staff and a.check_out_method == CheckMethod.ORGANISER
    member = personas.people["member_a"]
    # ... but the member's hours and points count the shared hour once: 3h → 5min ago = 175 minutes.
    assert hours.minutes_by_person([member.pk])[member.pk] == 175
    assert points.total([member.pk])[member.pk] == Decimal("2.9")


def test_a_resident_without_membership_gets_minutes_but_no_points(personas):
    made = activity(personas)
    resident = account("13811110030")
    entry = activities.signup(account=resident, activity=made)
    now = timezone.now()
    move(made, starts_at=now - dt.timedelta(hours=2), ends_at=now - dt.timedelta(minutes=30))
    checkin.confirm_check_in(actor=personas.community_staff, signup=entry, at=made.starts_at)
    done = checkin.confirm_check_out(actor=personas.community_staff, signup=entry)  # now: clipped to the end
    assert done.minutes == 90
    assert hours.minutes_for_account(resident.pk) == 90
    assert not PointEntry.objects.unscoped().exists()


def test_organiser_confirmation_rules(personas):
    made, _member_account, entry = _running(personas)
    staff = personas.community_staff
    with pytest.raises(PermissionDenied):
        checkin.confirm_check_in(actor=personas.community_staff_b, signup=entry)
    with pytest.raises(ValidationError, match="这位志愿者还没有签到"):
        checkin.confirm_check_out(actor=staff, signup=entry)
    with pytest.raises(ValidationError) as exc:
        checkin.confirm_check_in(actor=staff, signup=entry, at=timezone.now() + dt.timedelta(hours=1))
    assert exc.value.message_dict["checked_in_at"] == ["时间不能晚于现在。"]
    checkin.mark_no_show(actor=staff, signup=entry)
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.NO_SHOW
    # The volunteer turns up late after all: the organiser checks them in (time defaults to now).
    done = checkin.confirm_check_in(actor=staff, signup=entry)
    assert done.status == SignUpStatus.CHECKED_IN and done.check_in_method == CheckMethod.ORGANISER
    with pytest.raises(ValidationError, match="只有已报名、未签到"):
        checkin.mark_no_show(actor=staff, signup=entry)


def test_no_show_only_after_the_start(personas):
    made = activity(personas)
    entry = activities.signup(account=account("13811110031"), activity=made)
    with pytest.raises(ValidationError, match="活动开始后才能标记未到场"):
        checkin.mark_no_show(actor=personas.community_staff, signup=entry)
