"""The on-duty rota (值班, AB 岗): warnings for a gap, one person, no B post; a complete rota with none;
holidays use the holiday hours; who may be put on duty and when; the rota pages."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from zhouxin.centers import centres
from zhouxin.centers.models import DutyShift
from zhouxin.core import policy, workdays
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled

from .helpers_centres import make_centre, travel

TODAY = dt.date(2030, 11, 20)  # a Wednesday
SATURDAY = dt.date(2030, 11, 30)
MONDAY = dt.date(2030, 11, 25)
SUNDAY = dt.date(2030, 12, 1)


@pytest.fixture
def centre(personas, monkeypatch):
    travel(monkeypatch, TODAY)
    return make_centre(personas)


def assign(personas, centre, day, period, worker, role="a", actor="community_staff"):
    with scopes_disabled():
        return centres.rota_assign(actor=personas.users[actor], centre=centre, day=day, period=period,
                                   worker=personas.users[worker], role=role)


def warnings(centre, first, last=None):
    with scopes_disabled():
        return centres.rota_warnings(centre, first, last or first)


# --- the warnings -------------------------------------------------------------------------------

def test_open_periods_with_nobody_on_duty_are_gaps(centre):
    # Saturday: open in the morning only; Sunday: closed, so nothing to warn about.
    assert warnings(centre, SATURDAY, SUNDAY) == ["11月30日（周六）上午无人值班，至少 2 人"]
    assert warnings(centre, MONDAY) == ["11月25日（周一）上午无人值班，至少 2 人", "11月25日（周一）下午无人值班，至少 2 人",
                                        "11月25日（周一）晚间无人值班，至少 2 人"]


def test_one_person_on_duty_is_short_and_has_no_backup(personas, centre):
    assign(personas, centre, SATURDAY, "morning", "community_staff", "a")
    assert warnings(centre, SATURDAY) == ["11月30日（周六）上午只有 1 人值班，至少 2 人", "11月30日（周六）上午没有 B 岗（备岗）"]


def test_two_on_the_a_post_without_a_b_post_warn_of_the_missing_backup(personas, centre):
    assign(personas, centre, SATURDAY, "morning", "community_staff", "a")
    assign(personas, centre, SATURDAY, "morning", "grid_worker", "a")
    assert warnings(centre, SATURDAY) == ["11月30日（周六）上午没有 B 岗（备岗）"]


def test_only_b_posts_warn_of_the_missing_main_post(personas, centre):
    assign(personas, centre, SATURDAY, "morning", "community_staff", "b")
    assign(personas, centre, SATURDAY, "morning", "grid_worker", "b")
    assert warnings(centre, SATURDAY) == ["11月30日（周六）上午没有 A 岗（主岗）"]


def test_a_complete_rota_has_no_warnings(personas, centre):
    for day in (MONDAY, SATURDAY):
        for period in centres.open_periods(centres.opening_intervals(centre, day)):
            assign(personas, centre, day, period, "community_staff", "a")
            assign(personas, centre, day, period, "grid_worker", "b")
    assert warnings(centre, MONDAY) == []
    assert warnings(centre, SATURDAY, SUNDAY) == []
    # The days between are still empty and say so.
    assert len(warnings(centre, MONDAY, SUNDAY)) == 3 * 4  # Tuesday to Friday, three periods each


def test_the_rota_rule_of_the_policy_store_is_applied(personas, centre):
    assign(personas, centre, SATURDAY, "morning", "community_staff", "a")
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key="centers.rota",
                          value={"minimum_staff": 1, "require_backup": False}, effective_from=TODAY,
                          city=personas.areas["city"])
    assert warnings(centre, SATURDAY) == []
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key="centers.rota",
                          value={"minimum_staff": 3, "require_backup": True}, effective_from=TODAY + dt.timedelta(1),
                          city=personas.areas["city"])
    assert warnings(centre, SATURDAY) == ["11月30日（周六）上午只有 1 人值班，至少 3 人", "11月30日（周六）上午没有 B 岗（备岗）"]


# --- holidays -------------------------------------------------------------------------------------

def test_a_holiday_uses_the_holiday_hours_from_the_fallback_calendar(personas, monkeypatch):
    travel(monkeypatch, dt.date(2030, 9, 25))
    centre = make_centre(personas)
    national_day = dt.date(2030, 10, 1)  # a Tuesday; 2030 is not published, so the fixed holidays apply
    assert centres.opening_intervals(centre, national_day) == [(dt.time(9), dt.time(12))]
    assert centres.opening_intervals(centre, dt.date(2030, 9, 30)) == [(dt.time(8, 30), dt.time(12)),
                                                                      (dt.time(13, 30), dt.time(20))]
    # Only the holiday's morning is open, so only it needs staff.
    assert warnings(centre, national_day) == ["10月1日（周二·国庆节）上午无人值班，至少 2 人"]
    with pytest.raises(ValidationError, match="10月1日（周二·国庆节）晚间中心不开放，无需排班"):
        assign(personas, centre, national_day, "evening", "community_staff")
    days = centres.opening_days(centre, dt.date(2030, 9, 30), dt.date(2030, 10, 4))
    assert [(d.holiday, d.holiday_name, d.text) for d in days] == [
        (False, "", "08:30–12:00、13:30–20:00"), (True, "国庆节", "09:00–12:00"), (True, "国庆节", "09:00–12:00"),
        (True, "国庆节", "09:00–12:00"), (False, "", "08:30–12:00、13:30–20:00")]
    assert all(d.provisional for d in days)


def test_the_published_calendar_decides_holidays_and_adjusted_workdays(personas):
    with scopes_disabled():
        workdays.calendar_seed()
    workdays.invalidate()
    centre = make_centre(personas)
    national_day = dt.date(2024, 10, 1)
    kind = centres.day_kind(national_day)
    assert kind.holiday and kind.name == "国庆节" and not kind.provisional
    assert centres.opening_intervals(centre, national_day) == [(dt.time(9), dt.time(12))]
    # Sunday 29 September 2024 was an adjusted workday (调休): it keeps Sunday's hours (closed here).
    assert not centres.day_kind(dt.date(2024, 9, 29)).holiday
    assert centres.opening_intervals(centre, dt.date(2024, 9, 29)) == []
    # An ordinary Tuesday uses the weekday hours.
    assert len(centres.opening_intervals(centre, dt.date(2024, 10, 15))) == 2


# --- who, when, and the records -------------------------------------------------------------------

def test_staff_on_duty_are_the_staff_of_the_centres_community_and_street(personas, centre):
    with scopes_disabled():
        names = set(centres.duty_staff(centre).values_list("username", flat=True))
    assert names == {"community_staff", "grid_worker", "street_hub"}


@pytest.mark.parametrize("worker", ["community_staff_b", "resident", "unit_liaison", "outsider", "member"])
def test_someone_not_on_the_centres_staff_cannot_be_put_on_duty(personas, centre, worker):
    with pytest.raises(ValidationError, match="不是本中心所在社区或街道的工作人员"):
        assign(personas, centre, SATURDAY, "morning", worker)
    with scopes_disabled():
        assert not DutyShift.objects.unscoped().exists()


def test_a_closed_period_or_a_past_day_cannot_be_assigned(personas, centre):
    with pytest.raises(ValidationError, match="12月1日（周日）上午中心不开放，无需排班"):
        assign(personas, centre, SUNDAY, "morning", "community_staff")
    with pytest.raises(ValidationError, match="11月30日（周六）下午中心不开放"):
        assign(personas, centre, SATURDAY, "afternoon", "community_staff")
    with pytest.raises(ValidationError, match="已经过去，值班记录不能再改"):
        assign(personas, centre, TODAY - dt.timedelta(days=1), "morning", "community_staff")
    with pytest.raises(ValidationError, match="最多提前一年排班"):
        assign(personas, centre, TODAY + dt.timedelta(days=400), "morning", "community_staff")
    with pytest.raises(ValidationError, match="请选择上午、下午或晚间"):
        assign(personas, centre, SATURDAY, "night", "community_staff")
    with scopes_disabled():
        assert not DutyShift.objects.unscoped().exists()


def test_the_same_person_twice_is_refused_and_the_other_post_moves_them(personas, centre):
    shift = assign(personas, centre, SATURDAY, "morning", "grid_worker", "a")
    with pytest.raises(ValidationError, match="陈晓东已在11月30日（周六）上午值班（A 岗（主岗））"):
        assign(personas, centre, SATURDAY, "morning", "grid_worker", "a")
    moved = assign(personas, centre, SATURDAY, "morning", "grid_worker", "b")
    assert moved.pk == shift.pk and moved.role == "b"
    with scopes_disabled():
        assert DutyShift.objects.unscoped().count() == 1
        changed = AuditEntry.objects.get(action="centers.rota.changed", object_id=str(shift.pk))
    assert changed.before["role"] == "a" and changed.after["role"] == "b"


def test_assigning_and_removing_are_audited(personas, centre):
    shift = assign(personas, centre, SATURDAY, "morning", "street_hub", "b")
    with scopes_disabled():
        centres.rota_remove(actor=personas.community_staff, shift=shift)
        assigned = AuditEntry.objects.get(action="centers.rota.assigned", object_id=str(shift.pk))
        removed = AuditEntry.objects.get(action="centers.rota.removed", object_id=str(shift.pk))
        assert not DutyShift.objects.unscoped().exists()
    assert assigned.actor_id == personas.community_staff.pk
    assert assigned.after == {"centre": centre.pk, "day": "2030-11-30", "period": "morning",
                              "worker": personas.street_hub.pk, "role": "b"}
    assert removed.before["worker"] == personas.street_hub.pk


def test_a_past_days_rota_is_a_record_that_stays(personas, centre, monkeypatch):
    shift = assign(personas, centre, SATURDAY, "morning", "community_staff")
    travel(monkeypatch, SATURDAY + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="已经过去"), scopes_disabled():
        centres.rota_remove(actor=personas.community_staff, shift=shift)
    with scopes_disabled():
        assert DutyShift.objects.unscoped().filter(pk=shift.pk).exists()


@pytest.mark.parametrize("actor", ["community_staff_b", "outsider", "district_admin", "grid_worker", "resident"])
def test_only_the_centres_own_street_or_community_keeps_its_rota(personas, centre, actor):
    with pytest.raises(PermissionDenied):
        assign(personas, centre, SATURDAY, "morning", "community_staff", actor=actor)
    shift = assign(personas, centre, SATURDAY, "morning", "community_staff", actor="street_hub")
    with pytest.raises(PermissionDenied), scopes_disabled():
        centres.rota_remove(actor=personas.users[actor], shift=shift)


# --- pages ----------------------------------------------------------------------------------------

def test_the_rota_page_shows_the_week_grid_and_its_warnings(personas, centre, client_for):
    assign(personas, centre, SATURDAY, "morning", "community_staff", "a")
    assign(personas, centre, SATURDAY, "morning", "street_hub", "b")
    assign(personas, centre, MONDAY, "evening", "grid_worker", "a")
    page = client_for("community_staff").get(reverse("centers:rota", args=[centre.pk]), {"week": "2030-11-27"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "2030年11月25日—12月1日" in body
    assert "张丽华" in body and "李淑珍" in body and "陈晓东" in body
    assert "11月25日（周一）晚间只有 1 人值班，至少 2 人" in body
    assert "11月25日（周一）上午无人值班，至少 2 人" in body
    assert "11月30日（周六）上午" not in body.split("值班提醒")[1].split("</ul>")[0]  # Saturday is complete
    assert 'name="worker"' in body  # the assign form


def test_assigning_on_the_page_and_taking_off_again(personas, centre, client_for):
    client = client_for("community_staff")
    url = reverse("centers:rota_assign", args=[centre.pk])
    response = client.post(url, {"day": "2030-11-30", "period": "morning", "worker": personas.grid_worker.pk,
                                 "role": "b", "week": "2030-11-25"})
    assert response.status_code == 302 and response["Location"].endswith("?week=2030-11-25")
    with scopes_disabled():
        shift = DutyShift.objects.unscoped().get()
    assert (shift.day, shift.period, shift.worker_id, shift.role) == (SATURDAY, "morning", personas.grid_worker.pk, "b")
    page = client.get(response["Location"]).content.decode()
    assert "已安排陈晓东在11月30日（周六）上午值班（B 岗（备岗））。" in page
    removed = client.post(reverse("centers:rota_remove", args=[centre.pk, shift.pk]))
    assert removed.status_code == 302
    with scopes_disabled():
        assert not DutyShift.objects.unscoped().exists()


def test_a_refused_assignment_shows_why_and_changes_nothing(personas, centre, client_for):
    client = client_for("community_staff")
    url = reverse("centers:rota_assign", args=[centre.pk])
    response = client.post(url, {"day": "2030-12-01", "period": "morning", "worker": personas.grid_worker.pk,
                                 "role": "a"})
    assert response.status_code == 422
    assert "12月1日（周日）上午中心不开放，无需排班。" in response.content.decode()
    response = client.post(url, {"day": "2030-11-30", "period": "morning", "worker": personas.community_staff_b.pk,
                                 "role": "a"})
    assert response.status_code == 422
    assert "请从本中心所在社区或街道的工作人员中选择值班人员。" in response.content.decode()
    with scopes_disabled():
        assert not DutyShift.objects.unscoped().exists()


def test_the_district_reads_the_rota_without_the_form(personas, centre, client_for):
    page = client_for("district_admin").get(reverse("centers:rota", args=[centre.pk]))
    assert page.status_code == 200
    assert "无人值班" in page.content.decode() and 'name="worker"' not in page.content.decode()


def test_the_centre_page_shows_the_next_fourteen_days_of_rota_with_warnings(personas, centre, client_for):
    assign(personas, centre, SATURDAY, "morning", "community_staff", "a")
    body = client_for("community_staff").get(reverse("centers:centre_detail", args=[centre.pk])).content.decode()
    assert "近 14 天值班" in body
    assert "11月30日（周六）上午只有 1 人值班，至少 2 人" in body
    assert "11月30日（周六）上午没有 B 岗（备岗）" in body
    assert "12月3日（周二）晚间无人值班，至少 2 人" in body  # the last of the 14 days
    assert "12月4日（周三）" not in body
