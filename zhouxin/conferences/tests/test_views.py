import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import screening
from zhouxin.dispatch.screening import ScreenResult

from .. import services
from ..models import ActionItem, JointConference, Meeting, Membership
from .world import OTHER_NAME

pytestmark = pytest.mark.django_db


def test_list_shows_only_conferences_in_scope(client_for, world):
    body = client_for("street_hub").get(reverse("conferences:conference_list")).content.decode()
    assert "东华门街道大工委" in body and "多福巷社区大党委" in body
    assert OTHER_NAME not in body


def test_menu_groups_conferences_under_regional_party_building(client_for, world):
    body = client_for("street_hub").get(reverse("conferences:conference_list")).content.decode()
    assert "区域化党建" in body and "督办事项" in body


def test_detail_masks_part_time_members_phone_and_shows_term(client_for, world):
    body = client_for("street_hub").get(reverse("conferences:conference_detail", args=[world.conference.pk])).content.decode()
    assert "钱卫东" in body
    assert "13511112222" not in body and "135****2222" in body
    assert "任期内" in body


def test_detail_warns_of_expiring_terms(client_for, world):
    with scopes_disabled():
        seat = world.conference.part_time_members.get()
        seat.term_end = timezone.localdate() + dt.timedelta(days=10)
        seat.save(update_fields=["term_end"])
    body = client_for("street_hub").get(reverse("conferences:conference_detail", args=[world.conference.pk])).content.decode()
    assert "30 天内到期" in body and "即将到期" in body


def test_create_conference_and_bad_input_changes_nothing(client_for, personas):
    client = client_for("street_hub")
    url = reverse("conferences:conference_create")
    response = client.post(url, {"area": personas.areas["street_a"].pk, "kind": "joint_meeting", "name": "",
                                 "established_on": "2024-01-01", "convenor": "王书记"})
    assert response.status_code == 200 and "请填写名称" in response.content.decode()
    response = client.post(url, {"area": personas.areas["street_a"].pk, "kind": "joint_meeting",
                                 "name": "东华门街道联席会议", "established_on": "2024-01-01", "convenor": "王书记"})
    assert response.status_code == 302
    with scopes_disabled():
        assert JointConference.objects.filter(name="东华门街道联席会议").count() == 1
        # Another street is not offered.
        response = client.post(url, {"area": personas.areas["street_b"].pk, "kind": "joint_meeting",
                                     "name": "越权", "established_on": "2024-01-01", "convenor": "某"})
        assert not JointConference.objects.filter(name="越权").exists()


def test_add_member_unit(client_for, personas, world):
    client = client_for("street_hub")
    with scopes_disabled():
        org = personas.orgs["community_a_committee"]
        Membership.objects.filter(conference=world.conference, organisation=org).update(left_on=timezone.localdate())
    response = client.post(reverse("conferences:membership_add", args=[world.conference.pk]),
                           {"organisation": org.pk, "joined_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    with scopes_disabled():
        assert Membership.objects.filter(conference=world.conference, organisation=org, left_on__isnull=True).exists()


def test_meeting_page_shows_liaison_warning_and_attendance_rate(client_for, world):
    client = client_for("street_hub")
    url = reverse("conferences:meeting_detail", args=[world.meeting.pk])
    body = client.get(url).content.decode()
    assert "没有召开联络员会议" in body
    with scopes_disabled():
        units, seats = services.attendees(world.meeting)
    data = {f"unit-{u.pk}": "present" for u in units[:2]}
    data[f"seat-{seats[0].pk}"] = "excused"
    client.post(reverse("conferences:attendance", args=[world.meeting.pk]), data)
    body = client.get(url).content.decode()
    assert "出席率 40%（出席 2 / 应到 5）" in body


def test_held_minutes_show_the_reason_and_are_not_saved(client_for, world):
    def spam(text):
        return ScreenResult(hold="加微信" in text, reason="疑似广告引流")

    screening.register(spam)
    try:
        response = client_for("street_hub").post(reverse("conferences:minutes", args=[world.meeting.pk]),
                                                 {"text": "本次会议 加微信 领取福利"})
    finally:
        screening.unregister(spam)
    body = response.content.decode()
    assert response.status_code == 422
    assert "疑似广告引流" in body and "本次会议 加微信 领取福利" in body  # kept on the page to correct
    with scopes_disabled():
        assert Meeting.objects.get(pk=world.meeting.pk).minutes == ""


def test_decision_form_creates_action_item(client_for, personas, world):
    response = client_for("street_hub").post(reverse("conferences:decision_add", args=[world.meeting.pk]), {
        "text": "推进垃圾分类", "owner": personas.orgs["department"].pk, "action_title": "增设分类驿站",
        "due_in_working_days": "10"})
    assert response.status_code == 302
    with scopes_disabled():
        item = ActionItem.objects.get(title="增设分类驿站")
    assert item.owner == personas.orgs["department"] and item.due_on > timezone.localdate()


def test_decision_without_due_date_is_refused(client_for, personas, world):
    client = client_for("street_hub")
    response = client.post(reverse("conferences:decision_add", args=[world.meeting.pk]), {
        "text": "推进垃圾分类", "owner": personas.orgs["department"].pk, "action_title": "无期限事项"}, follow=True)
    assert "请填写完成期限" in response.content.decode()
    with scopes_disabled():
        assert not ActionItem.objects.filter(title="无期限事项").exists()


def test_unit_liaison_proposes_agenda_and_reports_progress(client_for, personas, world):
    client = client_for("unit_liaison")
    response = client.post(reverse("conferences:agenda_propose", args=[world.planned.pk]),
                           {"proposer": personas.orgs["unit"].pk, "title": "开放医院停车场", "description": ""},
                           follow=True)
    assert "议题已提出" in response.content.decode()
    response = client.post(reverse("conferences:action_detail", args=[world.action.pk]),
                           {"text": "已开放 20 个车位", "status": "in_progress"}, follow=True)
    body = response.content.decode()
    assert "进展已填报" in body and "已开放 20 个车位" in body


def test_board_shows_overdue_after_sweep(client_for, world):
    with scopes_disabled():
        services.conference_sweep(now=timezone.now() + dt.timedelta(days=30))
    body = client_for("street_hub").get(reverse("conferences:action_board")).content.decode()
    assert "医院夜间开放停车位 50 个" in body and "已上报街道" in body
    home = client_for("street_hub").get(reverse("core:home")).content.decode()
    assert "逾期督办事项" in home and "医院夜间开放停车位 50 个" in home


def test_board_query_count_does_not_grow_with_items(client_for, personas, world, django_assert_max_num_queries):
    client = client_for("street_hub")
    with scopes_disabled():
        for n in range(15):
            services.decision_record(actor=personas.street_hub, meeting=world.meeting, text=f"决议{n}", actions=[
                services.ActionSpec(owner=personas.orgs["unit"], title=f"事项{n}", due_on=dt.date(2099, 1, 1))])
    with django_assert_max_num_queries(25):
        response = client.get(reverse("conferences:action_board"))
    assert "事项14" in response.content.decode()
