"""Staff pages and portal pages of volunteer activities, as their users see them: the list with
upcoming activities first, the form, the roster (members by name, residents masked), the code
page, the roster buttons; on the portal the list, sign-up and cancel, 我的志愿服务 and scanning a
code.  A resident never sees another resident's sign-ups."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhouxin.portal.session import RESIDENT_KEY
from zhouxin.volunteers import activities, checkin
from zhouxin.volunteers.choices import SignUpStatus
from zhouxin.volunteers.models import Activity, SignUp

from .test_activities_helpers import MEMBER_PHONE, account, activity, confirm_member, move, portal_client

pytestmark = pytest.mark.django_db


def _no_inline_script_or_style(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert ' style="' not in html and " style='" not in html, "inline style"


# --- Staff -------------------------------------------------------------------------------

def test_list_shows_upcoming_first_by_day_and_the_nav_item(personas, client_for):
    later = activity(personas, title="下周义诊", starts_in=dt.timedelta(days=7))
    soon = activity(personas, title="明天理发", starts_in=dt.timedelta(days=1))
    past = activity(personas, title="上月巡逻")
    now = timezone.now()
    move(past, starts_at=now - dt.timedelta(days=30), ends_at=now - dt.timedelta(days=30) + dt.timedelta(hours=2))
    html = client_for("community_staff").get(reverse("volunteers:activity_list")).content.decode()
    assert html.index(soon.title) < html.index(later.title) < html.index(past.title)
    assert "志愿活动" in html and reverse("volunteers:activity_list") in html
    _no_inline_script_or_style(html)


def test_staff_create_through_the_form(personas, client_for):
    client = client_for("community_staff")
    assert client.get(reverse("volunteers:activity_create")).status_code == 200
    start = timezone.localtime() + dt.timedelta(days=2)
    response = client.post(reverse("volunteers:activity_create"), {
        "community": personas.areas["community_a"].pk, "title": "楼道清理", "category": "environment",
        "place": "3 号楼", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "slots": 8})
    made = Activity.objects.unscoped().get(title="楼道清理")
    assert response.status_code == 302 and response.url == reverse("volunteers:activity_detail", args=[made.pk])
    bad = client.post(reverse("volunteers:activity_create"), {
        "community": personas.areas["community_a"].pk, "title": "倒序", "category": "environment",
        "place": "3 号楼", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "slots": 8})
    assert bad.status_code == 422 and "结束时间必须晚于开始时间。" in bad.content.decode()
    assert not Activity.objects.unscoped().filter(title="倒序").exists()


def test_roster_names_members_and_masks_residents(personas, client_for):
    made = activity(personas)
    activities.signup(account=account("13811112345"), activity=made)
    activities.signup(account=account(MEMBER_PHONE), activity=made)
    html = client_for("community_staff").get(reverse("volunteers:activity_detail", args=[made.pk])).content.decode()
    assert "周海燕" in html
    assert "居民 138****2345" in html and "13811112345" not in html
    _no_inline_script_or_style(html)


def test_code_page_shows_a_fresh_signed_code_and_json_refreshes_it(personas, client_for):
    made = activity(personas)
    client = client_for("community_staff")
    response = client.get(reverse("volunteers:activity_code", args=[made.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html and "volunteers-code.js" in html
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    _no_inline_script_or_style(html)
    data = client.get(reverse("volunteers:activity_code_json", args=[made.pk]) + "?action=out").json()
    assert data["action"] == "out" and data["svg"].startswith("<svg")
    assert "/portal/volunteer/check/" in data["url"]
    token = data["url"].rstrip("/").rsplit("/", 1)[1]
    assert checkin.read_token(token) == (made, "out")
    # Replacing the key from the code page invalidates what was shown.
    client.post(reverse("volunteers:activity_rotate_key", args=[made.pk]), {"action": "out"})
    with pytest.raises(checkin.CheckError):
        checkin.read_token(token)


def test_roster_buttons_confirm_check_in_and_out(personas, client_for):
    made = activity(personas)
    entry = activities.signup(account=account(MEMBER_PHONE), activity=made)
    now = timezone.now()
    move(made, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))
    client = client_for("community_staff")
    at_in = timezone.localtime(now - dt.timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("volunteers:activity_check_in", args=[made.pk, entry.pk]), {"at": at_in})
    client.post(reverse("volunteers:activity_check_out", args=[made.pk, entry.pk]), {"at": ""})
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.COMPLETED and 49 <= entry.minutes <= 51
    html = client.get(reverse("volunteers:activity_detail", args=[made.pk])).content.decode()
    assert "核定服务时长（小时）" in html and "0.8" in html


def test_district_admin_reads_but_cannot_act(personas, client_for):
    made = activity(personas)
    client = client_for("district_admin")
    assert client.get(reverse("volunteers:activity_detail", args=[made.pk])).status_code == 200
    assert client.post(reverse("volunteers:activity_cancel", args=[made.pk]), {"reason": "x"}).status_code == 403
    made.refresh_from_db()
    assert made.status == "published"


def test_activity_outsider_cases(personas):
    """The activity cases of outsiders_volunteers.py on their own (the whole-project test runs them too)."""
    from zhouxin.testing.clients import verified_client

    from .outsiders_volunteers import _activity_cases

    failures = []
    for case in _activity_cases(personas):
        client = verified_client(personas, case.persona) if case.persona else Client()
        response = getattr(client, case.method)(case.url, data=case.data or {})
        body = response.content.decode(errors="replace")
        leaked = [text for text in case.must_not_contain if text in body]
        if response.status_code not in case.expected or leaked:
            failures.append(f"{case.url_name} as {case.persona}: {response.status_code} leaked={leaked}")
    assert not failures, "\n".join(failures)
    assert SignUp.objects.unscoped().filter(status=SignUpStatus.SIGNED_UP).count() == 1  # nothing acted


def test_portal_urls_are_listed_public_with_reasons():
    from zhouxin.testing.outsiders import PUBLIC

    for name in ("activities", "activity", "activity_signup", "activity_withdraw", "me", "check"):
        assert PUBLIC.get(f"volunteers_public:{name}")


# --- Portal ------------------------------------------------------------------------------

def test_portal_lists_published_activities_only_and_filters_by_community(personas):
    shown = activity(personas, title="多福巷敬老")
    activity(personas, title="草稿活动", publish=False)
    other = activity(personas, title="吉祥社区植树", actor="community_staff_b", area="community_b")
    html = Client().get(reverse("volunteers_public:activities")).content.decode()
    assert shown.title in html and other.title in html and "草稿活动" not in html
    _no_inline_script_or_style(html)
    filtered = Client().get(reverse("volunteers_public:activities"), {"community": "110101002001"}).content.decode()
    assert other.title in filtered and shown.title not in filtered
    draft = Activity.objects.unscoped().get(title="草稿活动")
    assert Client().get(reverse("volunteers_public:activity", args=[draft.pk])).status_code == 404


def test_sign_up_and_cancel_on_the_portal(personas):
    made = activity(personas)
    page = reverse("volunteers_public:activity", args=[made.pk])
    anonymous = Client().post(reverse("volunteers_public:activity_signup", args=[made.pk]))
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("portal:signin"))
    assert "next=" in anonymous.url
    acc = account("13811113456")
    client = portal_client(acc)
    done = client.post(reverse("volunteers_public:activity_signup", args=[made.pk]))
    assert done.status_code == 302
    html = client.get(done.url).content.decode()
    assert "报名成功" in html and "取消报名" in html
    assert SignUp.objects.unscoped().get(activity=made, account=acc).status == SignUpStatus.SIGNED_UP
    client.post(reverse("volunteers_public:activity_withdraw", args=[made.pk]))
    assert SignUp.objects.unscoped().get(activity=made, account=acc).status == SignUpStatus.CANCELLED
    assert "报名参加" in client.get(page).content.decode()


def test_members_only_page_points_to_registration(personas):
    made = activity(personas, members_only=True)
    client = portal_client(account("13811113457"))
    response = client.post(reverse("volunteers_public:activity_signup", args=[made.pk]))
    assert response.status_code == 422
    assert "仅限已向社区报到的在职党员" in response.content.decode()


def test_a_resident_never_sees_or_touches_another_residents_sign_ups(personas):
    made = activity(personas, title="独居老人陪伴")
    alice, bob = account("13811110101"), account("13811110102")
    activities.signup(account=alice, activity=made)
    bob_client = portal_client(bob)
    me = bob_client.get(reverse("volunteers_public:me")).content.decode()
    assert "独居老人陪伴" not in me and "还没有报名志愿活动" in me
    page = bob_client.get(reverse("volunteers_public:activity", args=[made.pk])).content.decode()
    assert "138****0101" not in page and "13811110101" not in page and "我的报名" not in page
    refused = bob_client.post(reverse("volunteers_public:activity_withdraw", args=[made.pk]))
    assert refused.status_code == 422
    assert SignUp.objects.unscoped().get(account=alice).status == SignUpStatus.SIGNED_UP
    alice_me = portal_client(alice).get(reverse("volunteers_public:me")).content.decode()
    assert "独居老人陪伴" in alice_me
    assert Client().get(reverse("volunteers_public:me")).status_code == 302


def test_member_sees_hours_points_and_yearly_progress(personas):
    member_account = account(MEMBER_PHONE)
    confirm_member(personas, member_account)
    made = activity(personas, title="社区义诊")
    entry = activities.signup(account=member_account, activity=made)
    now = timezone.now()
    move(made, starts_at=now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(hours=1))
    checkin.confirm_check_in(actor=personas.community_staff, signup=entry, at=made.starts_at)
    checkin.confirm_check_out(actor=personas.community_staff, signup=entry, at=made.ends_at)
    html = portal_client(member_account).get(reverse("volunteers_public:me")).content.decode()
    if made.starts_at.year == timezone.localdate().year:
        assert "今年已核定 2.0 小时" in html
    assert "至少参加 50 小时" in html and "<progress" in html
    assert "2.0" in html  # points: 1 per hour
    _no_inline_script_or_style(html)


def test_scanning_before_signing_in_then_confirming(personas):
    made = activity(personas)
    member_account = account(MEMBER_PHONE)
    entry = activities.signup(account=member_account, activity=made)
    now = timezone.now()
    move(made, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=2))
    # A code with two seconds left when scanned; it expires while the volunteer signs in.
    issued = now - dt.timedelta(seconds=checkin.valid_seconds(made) - 2)
    url = reverse("volunteers_public:check", args=[checkin.code_token(made, "in", issued_at=issued)])
    client = Client()
    first = client.get(url)
    scanned = timezone.now()
    assert first.status_code == 302 and first.url.startswith(reverse("portal:signin")) and "next=" in first.url
    time.sleep(3)
    assert Client().get(url).status_code == 400  # expired for anyone who did not scan it in time
    # Signed in (same browser session): the page asks for one tap.
    session = client.session
    session[RESIDENT_KEY] = {"id": member_account.pk, "since": time.time(), "seen": time.time()}
    session.save()
    confirm = client.get(url)
    assert confirm.status_code == 200 and "确认签到" in confirm.content.decode()
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.SIGNED_UP  # opening the page records nothing
    done = client.post(url)
    assert done.status_code == 200 and "签到成功" in done.content.decode()
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.CHECKED_IN
    assert abs((entry.checked_in_at - scanned).total_seconds()) < 2  # the time of the scan
    again = client.post(url)
    assert again.status_code == 400 and "已经签到过了" in again.content.decode()


def test_an_expired_or_forged_code_page_says_so(personas):
    made = activity(personas)
    old = timezone.now() - dt.timedelta(minutes=10)
    client = portal_client(account(MEMBER_PHONE))
    expired = client.get(reverse("volunteers_public:check", args=[checkin.code_token(made, "in", issued_at=old)]))
    assert expired.status_code == 400 and "签到码已过期" in expired.content.decode()
    forged = Client().get(reverse("volunteers_public:check", args=["abc:def:ghi"]))
    assert forged.status_code == 400 and "签到码无效" in forged.content.decode()
