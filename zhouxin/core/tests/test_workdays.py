"""The working-day calendar: official holidays and 调休, provisional years, deadlines that never raise."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhouxin.core import policy, workdays
from zhouxin.core.models import AuditEntry, CalendarDay, CalendarYear


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def seeded(db):
    call_command("calendar_seed", stdout=StringIO())


# --- seeding --------------------------------------------------------------------------

@pytest.mark.django_db
def test_seed_stores_only_days_that_differ_and_is_idempotent():
    out = StringIO()
    call_command("calendar_seed", stdout=out)
    assert "2004–2026" in out.getvalue()
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert set(range(2004, 2027)) <= years
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=dt.date(2026, 9, 20)).is_workday  # Sunday 调休
    assert not CalendarDay.objects.filter(date=dt.date(2026, 10, 3)).exists()  # a Saturday: rest anyway
    rows = CalendarDay.objects.count()
    audits = AuditEntry.objects.filter(action="core.calendar.seeded").count()
    out = StringIO()
    call_command("calendar_seed", stdout=out)
    assert "更新 0 年" in out.getvalue()
    assert CalendarDay.objects.count() == rows
    assert AuditEntry.objects.filter(action="core.calendar.seeded").count() == audits == 1


@pytest.mark.django_db
def test_seed_never_overwrites_a_year_an_administrator_published(personas):
    call_command("calendar_seed", stdout=StringIO())
    workdays.calendar_year_publish(actor=personas.district_admin, year=2026,
                                   days=[workdays.DaySpec(dt.date(2026, 1, 1), False, "元旦")], note="改过")
    call_command("calendar_seed", stdout=StringIO())
    assert CalendarDay.objects.filter(year_id=2026).count() == 1


# --- days and deadlines -----------------------------------------------------------------

def test_national_day_2026_is_skipped(seeded):
    for day in range(1, 8):
        info = workdays.is_workday(dt.date(2026, 10, day))
        assert not info.workday and not info.provisional
    assert workdays.is_workday(dt.date(2026, 10, 1)).name == "国庆节"
    # 2026-10-08 (Thursday) is a working day: the State Council's 2026 notice gives 10/1–10/7.
    assert workdays.is_workday(dt.date(2026, 10, 8)).workday
    deadline = workdays.add_working_days(at(2026, 9, 30, 10, 0), 1)
    assert deadline == workdays.Deadline(at(2026, 10, 8, 10, 0), False)
    assert workdays.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 9)) == 2


def test_adjusted_workday_on_a_weekend_is_counted(seeded):
    info = workdays.is_workday(dt.date(2026, 10, 10))  # Saturday, 国庆节调休
    assert info.workday and info.name == "国庆节调休"
    # Friday 10:00 + 1 working day: the Saturday 10/10 counts.
    assert workdays.add_working_days(at(2026, 10, 9, 10, 0), 1).at == at(2026, 10, 10, 10, 0)
    # An ordinary weekend does not.
    assert workdays.add_working_days(at(2026, 10, 16, 10, 0), 1).at == at(2026, 10, 19, 10, 0)


def test_working_hours_count_only_working_days(seeded):
    # Friday 17:00 + 24 working hours: 7 h of Friday, the weekend skipped, 17 h of Monday.
    assert workdays.add_working_hours(at(2026, 11, 6, 17, 0), 24).at == at(2026, 11, 9, 17, 0)
    # Received on a Saturday: the clock starts Monday 00:00.
    assert workdays.add_working_hours(at(2026, 11, 7, 9, 30), 2).at == at(2026, 11, 9, 2, 0)
    # Backwards: Monday 02:00 − 3 working hours is Friday 23:00.
    assert workdays.add_working_hours(at(2026, 11, 9, 2, 0), -3).at == at(2026, 11, 6, 23, 0)


def test_deadline_in_2027_does_not_raise_and_is_provisional(seeded):
    deadline = workdays.add_working_days(at(2026, 12, 30, 10, 0), 5)
    assert deadline.provisional
    assert deadline.at == at(2027, 1, 7, 10, 0)  # 12/30, 12/31, (1/1 元旦 fixed holiday), 1/4, 1/5, 1/6
    info = workdays.is_workday(dt.date(2027, 10, 2))
    assert info == workdays.DayInfo(workday=False, provisional=True, name="国庆节")
    assert workdays.is_workday(dt.date(2027, 10, 4)).workday  # 10/4 is not a fixed holiday
    assert not workdays.add_working_days(at(2026, 6, 1, 9, 0), 5).provisional


def test_publishing_2027_makes_it_final(seeded, personas):
    days = workdays.parse_year_lines(2027, "2027-01-01 元旦 休\n2027-10-01..2027-10-07 国庆节 休\n"
                                           "2027-09-26 国庆节调休 班")
    workdays.calendar_year_publish(actor=personas.district_admin, year=2027, days=days, note="国办发明电")
    deadline = workdays.add_working_days(at(2026, 12, 30, 10, 0), 5)
    assert not deadline.provisional
    assert workdays.is_workday(dt.date(2027, 10, 5)) == workdays.DayInfo(False, False, "国庆节")
    assert workdays.is_workday(dt.date(2027, 9, 26)).workday
    entry = AuditEntry.objects.get(action="core.calendar.published")
    assert entry.actor_id == personas.district_admin.pk and ["2027-01-01", False, "元旦"] in entry.after["days"]


def test_publish_needs_the_permission(seeded, personas):
    with pytest.raises(PermissionDenied):
        workdays.calendar_year_publish(actor=personas.street_hub, year=2027, days=[], note="")
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_fallback_holidays_come_from_the_policy_rule(seeded, personas):
    policy.policy_set(actor=personas.district_admin, key="core.calendar", effective_from=timezone.localdate(),
                      value={"fixed_holidays": ["01-01 元旦", "06-01 儿童节"]})
    # on_commit never runs inside a test transaction: the rule's own hook is what a commit would call.
    policy.definition("core.calendar").on_change()
    assert workdays.is_workday(dt.date(2027, 6, 1)) == workdays.DayInfo(False, True, "儿童节")
    assert workdays.is_workday(dt.date(2027, 10, 1)).workday  # 10/1 (Friday) no longer in the list


@pytest.mark.django_db
def test_fallback_rule_lines_are_validated(personas):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="月-日 名称"):
        policy.policy_set(actor=personas.district_admin, key="core.calendar", effective_from=timezone.localdate(),
                          value={"fixed_holidays": ["国庆"]})
    with pytest.raises(ValidationError, match="不是有效的日期"):
        policy.policy_set(actor=personas.district_admin, key="core.calendar", effective_from=timezone.localdate(),
                          value={"fixed_holidays": ["02-30 无"]})


# --- the year's lines ------------------------------------------------------------------------

def test_year_lines_errors_are_numbered_and_in_chinese():
    from django.core.exceptions import ValidationError

    text = "\n".join([
        "# 2027 年安排", "2027-01-01 元旦 休", "2027-02-30 春节 休", "2026-12-31 元旦 休", "2027-02-08 班",
        "2027-01-01 元旦 休", "2027-03-01 植树 歇", "hello", "2027-02-16..2027-02-10 春节 休", "2027-05-01 休",
    ])
    with pytest.raises(ValidationError) as caught:
        workdays.parse_year_lines(2027, text)
    messages = caught.value.messages
    assert messages == [
        "第 3 行：日期 2027-02-30 不存在。",
        "第 4 行：日期 2026-12-31 不在 2027 年。",
        "第 5 行：2027-02-08 是周一，本来就是工作日，不需要标为“班”。",
        "第 6 行：2027-01-01 与第 2 行重复。",
        "第 7 行：最后一项应为“休”或“班”。",
        "第 8 行：无法识别，应为“2027-01-01 元旦 休”或“2027-02-10..2027-02-16 春节 休”。",
        "第 9 行：结束日期早于开始日期。",
        "第 10 行：放假的日子需要写明节日名称。",
    ]


def test_year_lines_round_trip_through_the_editor_format():
    text = "2027-02-06..2027-02-12 春节 休\n2027-02-14 春节调休 班\n2027-10-01..2027-10-07 国庆节 休"
    days = workdays.parse_year_lines(2027, text)
    assert dt.date(2027, 2, 6) not in {d.date for d in days}  # a Saturday: not stored
    assert workdays.parse_year_lines(2027, workdays.format_year_lines(days)) == days


# --- pages -------------------------------------------------------------------------------------

def test_calendar_pages_publish_a_year(seeded, personas, client_for):
    client = client_for("district_admin")
    listing = client.get(reverse("core:calendar")).content.decode()
    assert "2026" in listing and "已发布" in listing and "暂定" in listing
    url = reverse("core:calendar_year", args=[2027])
    assert "尚未发布" in client.get(url).content.decode()
    bad = client.post(url, {"lines": "2027-01-01 元旦 休\n2027-13-01 x 休", "note": ""})
    assert bad.status_code == 400 and "第 2 行" in bad.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()
    good = client.post(url, {"lines": "2027-01-01 元旦 休\n2027-02-07 春节调休 班", "note": "国办发明电〔2026〕"})
    assert good.status_code == 302
    assert not workdays.is_workday(dt.date(2027, 1, 1)).provisional
    page = client.get(url).content.decode()
    assert "2027-01-01 元旦 休" in page and "2027-02-07 春节调休 班" in page
    assert client.get(reverse("core:calendar_year", args=[99999])).status_code == 404


# --- never raises ----------------------------------------------------------------------------

@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 12, 31, 23, 59),
                       timezones=st.just(timezone.get_current_timezone())),
    days=st.integers(min_value=-400, max_value=400),
    hours=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    other=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)),
)
def test_never_raises_for_any_date(start, days, hours, other):
    info = workdays.is_workday(start.date())
    assert isinstance(info.workday, bool)
    deadline = workdays.add_working_days(start, days)
    assert deadline.at.tzinfo is not None
    assert (deadline.at >= start) if days >= 0 else (deadline.at <= start)
    assert workdays.add_working_hours(start, hours).at.tzinfo is not None
    between = workdays.working_days_between(start.date(), other)
    assert (between >= 0) == (other >= start.date()) or between == 0
    if days > 0 and info.workday:
        # the deadline lands on a working day, exactly `days` of them after the start day
        assert workdays.working_days_between(start, deadline.at) in (days, days - 1)
