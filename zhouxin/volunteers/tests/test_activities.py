"""Activity services: who may run them, bad input, sign-up rules (deadline, slots, members only),
cancelling texts the volunteers, the last place taken by exactly one of two at once (PG)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.test import TestCase
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal import sms
from zhouxin.volunteers import activities
from zhouxin.volunteers.choices import ActivityCategory, ActivityStatus, SignUpStatus
from zhouxin.volunteers.models import Activity, SignUp

from .test_activities_helpers import MEMBER_PHONE, account, activity, confirm_member, move

pytestmark = pytest.mark.django_db


def _create(personas, actor="community_staff", **overrides):
    now = timezone.now()
    data = {"community": personas.areas["community_a"], "title": "垃圾分类宣传", "category": ActivityCategory.PUBLICITY,
            "place": "社区广场", "starts_at": now + dt.timedelta(days=1),
            "ends_at": now + dt.timedelta(days=1, hours=2), "slots": 10, **overrides}
    with scopes_disabled():
        return activities.activity_create(actor=personas.users[actor], **data)


def test_staff_create_a_draft_with_an_audit_record(personas):
    made = _create(personas)
    assert made.status == ActivityStatus.DRAFT and made.organiser == personas.community_staff
    assert len(made.qr_key) >= 32
    assert AuditEntry.objects.filter(action="volunteers.activity.created", object_id=str(made.pk)).exists()


@pytest.mark.parametrize("actor", ["community_staff_b", "outsider", "unit_liaison", "district_admin"])
def test_staff_of_elsewhere_or_without_manage_cannot_create(personas, actor):
    with pytest.raises(PermissionDenied):
        _create(personas, actor=actor)
    assert not Activity.objects.unscoped().exists()


def test_bad_input_is_refused_in_chinese_and_changes_nothing(personas):
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        _create(personas, title=" ", starts_at=now + dt.timedelta(days=1), ends_at=now + dt.timedelta(hours=1),
                slots=0, signup_closes_at=now + dt.timedelta(days=2))
    errors = exc.value.message_dict
    assert errors["title"] == ["请填写活动名称。"]
    assert errors["ends_at"] == ["结束时间必须晚于开始时间。"]
    assert errors["slots"] == ["招募人数必须大于 0。"]
    assert errors["signup_closes_at"] == ["报名截止时间不能晚于活动开始时间。"]
    assert not Activity.objects.unscoped().exists()


def test_unit_and_project_must_belong_to_the_community(personas):
    made = _create(personas, unit=personas.orgs["unit"])  # the hospital sits in 多福巷社区
    assert made.unit == personas.orgs["unit"]
    with pytest.raises(ValidationError) as exc:
        _create(personas, unit=personas.orgs["department"])
    assert "联合开展单位须已向该社区报到或位于该社区。" in exc.value.message_dict["unit"]


def test_published_activity_takes_sign_ups_and_a_draft_does_not(personas):
    draft = activity(personas, publish=False)
    resident = account("13811110001")
    with pytest.raises(ValidationError, match="该活动不在报名中"):
        activities.signup(account=resident, activity=draft)
    with scopes_disabled():
        activities.activity_publish(actor=personas.community_staff, activity=draft)
    entry = activities.signup(account=resident, activity=draft)
    assert entry.status == SignUpStatus.SIGNED_UP and entry.person is None
    with pytest.raises(ValidationError, match="您已报名这个活动"):
        activities.signup(account=resident, activity=draft)


def test_sign_up_closes_at_the_deadline_and_at_the_start(personas):
    now = timezone.now()
    closing = activity(personas, signup_closes_at=now + dt.timedelta(hours=1))
    Activity.objects.unscoped().filter(pk=closing.pk).update(signup_closes_at=now - dt.timedelta(minutes=1))
    closing.refresh_from_db()
    with pytest.raises(ValidationError, match="报名已截止"):
        activities.signup(account=account("13811110002"), activity=closing)
    started = move(activity(personas), starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=1))
    with pytest.raises(ValidationError, match="活动已经开始"):
        activities.signup(account=account("13811110003"), activity=started)
    assert not SignUp.objects.unscoped().exists()


def test_slots_are_never_exceeded(personas):
    small = activity(personas, slots=2)
    activities.signup(account=account("13811110004"), activity=small)
    activities.signup(account=account("13811110005"), activity=small)
    with pytest.raises(ValidationError, match="名额已满"):
        activities.signup(account=account("13811110006"), activity=small)
    assert SignUp.objects.unscoped().filter(activity=small).count() == 2


def test_members_only_takes_only_members_with_a_confirmed_registration(personas):
    only = activity(personas, members_only=True)
    with pytest.raises(ValidationError, match="仅限已向社区报到的在职党员"):
        activities.signup(account=account("13811110007"), activity=only)  # a resident
    member_account = account(MEMBER_PHONE)
    with pytest.raises(ValidationError, match="仅限已向社区报到的在职党员"):
        activities.signup(account=member_account, activity=only)  # a member, not registered
    confirm_member(personas, member_account)
    entry = activities.signup(account=member_account, activity=only)
    assert entry.person == personas.people["member_a"]


def test_a_members_sign_up_carries_the_member_on_any_activity(personas):
    entry = activities.signup(account=account(MEMBER_PHONE), activity=activity(personas))
    assert entry.person == personas.people["member_a"]


def test_volunteer_cancels_own_sign_up_before_the_start_only(personas):
    open_one = activity(personas)
    mine, other = account("13811110008"), account("13811110009")
    entry = activities.signup(account=mine, activity=open_one)
    with pytest.raises(PermissionDenied):
        activities.signup_cancel(account=other, signup=entry)
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.SIGNED_UP
    activities.signup_cancel(account=mine, signup=entry)
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.CANCELLED
    # The place is free again and the volunteer may sign up again.
    again = activities.signup(account=mine, activity=open_one)
    now = timezone.now()
    move(open_one, starts_at=now - dt.timedelta(minutes=1), ends_at=now + dt.timedelta(hours=1))
    again.refresh_from_db()
    with pytest.raises(ValidationError, match="活动已经开始"):
        activities.signup_cancel(account=mine, signup=again)


def test_cancelling_an_activity_texts_everyone_signed_up(personas):
    planned = activity(personas, title="周末环境整治")
    resident = account("13811110010")
    activities.signup(account=resident, activity=planned)
    activities.signup(account=account(MEMBER_PHONE), activity=planned)
    withdrawn = activities.signup(account=account("13811110011"), activity=planned)
    activities.signup_cancel(account=withdrawn.account, signup=withdrawn)
    with pytest.raises(ValidationError) as exc:
        activities.activity_cancel(actor=personas.community_staff, activity=planned, reason=" ")
    assert exc.value.message_dict["reason"] == ["请填写取消原因，会以短信告知已报名的志愿者。"]
    assert sms.outbox == []
    with TestCase.captureOnCommitCallbacks(execute=True):
        activities.activity_cancel(actor=personas.community_staff, activity=planned, reason="暴雨预警")
    assert sorted(m.phone for m in sms.outbox) == sorted(["13811110010", MEMBER_PHONE])
    assert all("周末环境整治" in m.text and "暴雨预警" in m.text for m in sms.outbox)
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.CANCELLED
    assert not SignUp.objects.unscoped().filter(activity=planned, status=SignUpStatus.SIGNED_UP).exists()


def test_outsider_cannot_cancel_and_nobody_is_texted(personas):
    planned = activity(personas)
    activities.signup(account=account("13811110012"), activity=planned)
    with pytest.raises(PermissionDenied), TestCase.captureOnCommitCallbacks(execute=True):
        activities.activity_cancel(actor=personas.community_staff_b, activity=planned, reason="越权")
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.PUBLISHED and sms.outbox == []


def test_slots_cannot_drop_below_sign_ups(personas):
    planned = activity(personas, slots=3)
    activities.signup(account=account("13811110013"), activity=planned)
    activities.signup(account=account("13811110014"), activity=planned)
    fields = {f: getattr(planned, f) for f in ("title", "category", "place", "starts_at", "ends_at", "description")}
    with pytest.raises(ValidationError) as exc:
        activities.activity_update(actor=personas.community_staff, activity=planned, **{**fields, "slots": 1})
    assert exc.value.message_dict["slots"] == ["已有 2 人报名，招募人数不能少于报名人数。"]
    planned.refresh_from_db()
    assert planned.slots == 3


def test_finish_only_after_the_end_marks_no_shows(personas):
    planned = activity(personas)
    entry = activities.signup(account=account("13811110015"), activity=planned)
    with pytest.raises(ValidationError, match="活动尚未结束"):
        activities.activity_finish(actor=personas.community_staff, activity=planned)
    now = timezone.now()
    move(planned, starts_at=now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(hours=1))
    activities.activity_finish(actor=personas.community_staff, activity=planned)
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.NO_SHOW


def test_organiser_adds_a_member_linked_to_their_account(personas):
    planned = activity(personas)
    member_account = account(MEMBER_PHONE)
    with pytest.raises(PermissionDenied):
        activities.signup_add_member(actor=personas.outsider, activity=planned, person=personas.people["member_a"])
    with pytest.raises(ValidationError) as exc:
        activities.signup_add_member(actor=personas.community_staff, activity=planned,
                                     person=personas.people["resident_b"])  # not a member of 多福巷
    assert exc.value.message_dict["person"] == ["只能添加居住在本社区或已向本社区报到的党员。"]
    entry = activities.signup_add_member(actor=personas.community_staff, activity=planned,
                                         person=personas.people["member_a"])
    assert entry.person == personas.people["member_a"] and entry.account == member_account
    with pytest.raises(ValidationError, match="您已报名这个活动"):
        activities.signup(account=member_account, activity=planned)


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions), so two "
                           "sign-ups cannot overlap there; the race is only meaningful on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_last_sign_ups_at_once_only_one_gets_the_place(personas):
    planned = activity(personas, slots=2)
    activities.signup(account=account("13811110020"), activity=planned)
    contenders = [account("13811110021"), account("13811110022")]
    barrier = threading.Barrier(len(contenders))
    outcomes: list[str] = []

    def sign_up(acc):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)  # both transactions are open before either counts
                activities.signup(account=acc, activity=planned)
                time.sleep(0.3)  # hold the lock so the other runs into it before commit
            outcomes.append("won")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(acc,)) for acc in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["won", "名额已满，欢迎报名其他活动。"]
    assert SignUp.objects.unscoped().filter(activity=planned, status=SignUpStatus.SIGNED_UP).count() == 2
