"""Volunteering indicators: verified service hours, members registered (双报到) at the period's
end and the micro-wishes completion rate, computed from the records for communities, streets and
the district, in a fixed number of queries, with links to the lists behind them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core.crypto import blind_index
from zhouxin.core.indicators import Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Person
from zhouxin.portal.models import ResidentAccount
from zhouxin.volunteers import registration, wishes
from zhouxin.volunteers.choices import ActivityCategory, ActivityStatus, RegistrationStatus, SignUpStatus
from zhouxin.volunteers.models import Activity, MemberRegistration, SignUp, Wish

D = Decimal
APRIL = Period.month(2025, 4)
MARCH = Period.month(2025, 3)


def _at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2025) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


def _account(phone: str) -> ResidentAccount:
    now = timezone.now()
    return ResidentAccount.objects.create(phone=phone, phone_index=blind_index("phone", phone),
                                          consent_version="2026-11", created_at=now, last_signed_in_at=now)


def _member(personas, name: str, phone: str, home="community_a") -> Person:
    with scopes_disabled():
        return Person.objects.unscoped().create(
            name=name, home_area=personas.areas[home], phone=phone, phone_index=blind_index("phone", phone),
            is_party_member=True, work_unit=personas.orgs["unit"])


def _activity(personas, area, starts_at, ends_at, title="助老服务"):
    return Activity.objects.unscoped().create(
        community=personas.areas[area], title=title, category=ActivityCategory.ELDERLY, place="社区服务站",
        starts_at=starts_at, ends_at=ends_at, slots=10, status=ActivityStatus.FINISHED, qr_key="k",
        organiser=personas.community_staff)


def _served(personas, activity, checked_in, checked_out, *, person=None, account=None,
            status=SignUpStatus.COMPLETED):
    return SignUp.objects.unscoped().create(
        activity=activity, person=person, account=account, status=status, checked_in_at=checked_in,
        checked_out_at=checked_out if status == SignUpStatus.COMPLETED else None,
        verified_by=personas.community_staff, verified_at=checked_out)


def _values(name, areas, period=APRIL):
    with scopes_disabled():
        return indicators.compute(name, areas, period)


# --- Hours ----------------------------------------------------------------------------------

@pytest.fixture
def hours_world(personas):
    member = personas.people["member_a"]
    other = _member(personas, "李明", "13600009999", home="community_a2")
    volunteer = _account("13812345670")
    with scopes_disabled():
        morning = _activity(personas, "community_a", _at(4, 10, 9), _at(4, 10, 12))
        overlapping = _activity(personas, "community_a", _at(4, 10, 10), _at(4, 10, 13))
        _served(personas, morning, _at(4, 10, 9), _at(4, 10, 12), person=member)
        _served(personas, overlapping, _at(4, 10, 10), _at(4, 10, 13), person=member)  # 9–13: 4 h, not 6
        # Checked in before the start: only the activity's own hours count (9–11).
        _served(personas, morning, _at(4, 10, 8), _at(4, 10, 11), account=volunteer)
        # Checked in, never out: nothing verified.
        _served(personas, morning, _at(4, 10, 9), None, account=_account("13812345671"),
                status=SignUpStatus.CHECKED_IN)
        # A night patrol across the month's end: 2 h in April, 2 h in May.
        night = _activity(personas, "community_a2", _at(4, 30, 22), _at(5, 1, 2))
        _served(personas, night, _at(4, 30, 22), _at(5, 1, 2), person=other)
        jixiang = _activity(personas, "community_b", _at(4, 3, 14), _at(4, 3, 15, 30))
        _served(personas, jixiang, _at(4, 3, 14), _at(4, 3, 15, 30), account=_account("13812345672"))
        march = _activity(personas, "community_a", _at(3, 3, 9), _at(3, 3, 10))
        _served(personas, march, _at(3, 3, 9), _at(3, 3, 10), person=member)


def test_verified_hours_by_level(personas, hours_world):
    a = personas.areas
    values = _values("volunteers.hours", [a["community_a"], a["community_a2"], a["community_b"], a["community_x"],
                                          a["street_a"], a["dongcheng"], a["city"]])
    assert values == {a["community_a"].pk: D("6.0"), a["community_a2"].pk: D("2.0"), a["community_b"].pk: D("1.5"),
                      a["community_x"].pk: D("0.0"), a["street_a"].pk: D("8.0"), a["dongcheng"].pk: D("9.5"),
                      a["city"].pk: D("9.5")}
    may = _values("volunteers.hours", [a["street_a"]], Period.month(2025, 5))
    assert may == {a["street_a"].pk: D("2.0")}
    q1 = _values("volunteers.hours", [a["community_a"]], Period.parse("2025-Q1"))
    assert q1 == {a["community_a"].pk: D("1.0")}


# --- Members ----------------------------------------------------------------------------------

def _register(personas, person, community, *, decided: dt.datetime, valid_until: dt.date):
    with scopes_disabled():
        reg = registration.member_register_by_staff(actor=personas.street_hub, person=person,
                                                    community=personas.areas[community])
        MemberRegistration.objects.unscoped().filter(pk=reg.pk).update(
            registered_at=decided, decided_at=decided, valid_until=valid_until)
    return reg


@pytest.fixture
def members_world(personas):
    """On 31 March 2025: 多福巷 has 周海燕 and 王芳 (whose registration ended in May); 银闸 has 李明.
    Not counted: 赵强 (still pending), 钱伟 (expired on 15 March), 孙丽 (confirmed in April)."""
    jan = _at(1, 10)
    _register(personas, personas.people["member_a"], "community_a", decided=jan, valid_until=dt.date(2025, 7, 10))
    ended = _register(personas, _member(personas, "王芳", "13600008888"), "community_a", decided=jan,
                      valid_until=dt.date(2025, 7, 10))
    with scopes_disabled():
        registration.member_registration_end(registration=ended, actor=personas.community_staff, note="迁出本区")
        MemberRegistration.objects.unscoped().filter(pk=ended.pk).update(ended_at=_at(5, 1))
    _register(personas, _member(personas, "李明", "13600009999"), "community_a2", decided=jan,
              valid_until=dt.date(2025, 7, 10))
    pending = _register(personas, _member(personas, "赵强", "13600007777"), "community_a", decided=jan,
                        valid_until=dt.date(2025, 7, 10))
    MemberRegistration.objects.unscoped().filter(pk=pending.pk).update(status=RegistrationStatus.PENDING,
                                                                       decided_at=None)
    _register(personas, _member(personas, "钱伟", "13600006666"), "community_a", decided=_at(1, 2, year=2024),
              valid_until=dt.date(2025, 3, 15))
    _register(personas, _member(personas, "孙丽", "13600005555"), "community_a", decided=_at(4, 5),
              valid_until=dt.date(2025, 10, 5))


def test_members_registered_at_the_periods_end(personas, members_world):
    a = personas.areas
    areas = [a["community_a"], a["community_a2"], a["community_b"], a["street_a"], a["dongcheng"]]
    assert _values("volunteers.members", areas, MARCH) == {
        a["community_a"].pk: 2, a["community_a2"].pk: 1, a["community_b"].pk: 0, a["street_a"].pk: 3,
        a["dongcheng"].pk: 3}
    # 31 May: 王芳 has ended, 孙丽 is in.
    assert _values("volunteers.members", [a["community_a"]], Period.month(2025, 5)) == {a["community_a"].pk: 2}
    # The first quarter is read on its last day, like March.
    assert _values("volunteers.members", [a["street_a"]], Period.parse("2025-Q1")) == {a["street_a"].pk: 3}


def test_members_of_the_current_period_are_read_today(personas):
    a = personas.areas
    with scopes_disabled():
        registration.member_register_by_staff(actor=personas.community_staff, person=personas.people["member_a"])
    this_year = Period.of(indicators.YEAR, timezone.localdate())
    assert _values("volunteers.members", [a["community_a"]], this_year) == {a["community_a"].pk: 1}


# --- Wishes -----------------------------------------------------------------------------------

def _wish(personas, title, community="community_a", *, posted_at):
    actor = personas.community_staff if community == "community_a" else personas.community_staff_b
    with scopes_disabled():
        wish = wishes.wish_create(actor=actor, community=personas.areas[community], title=title,
                                  beneficiary="独居老人", value=80)
        Wish.objects.unscoped().filter(pk=wish.pk).update(posted_at=posted_at)
    return wish


@pytest.fixture
def wishes_world(personas):
    taker = _account("13700001111")
    done = _wish(personas, "一台收音机", posted_at=_at(4, 2))
    taken = _wish(personas, "一副老花镜", posted_at=_at(4, 3))
    _wish(personas, "一床棉被", posted_at=_at(4, 20))
    _wish(personas, "一盏台灯", "community_b", posted_at=_at(4, 8))
    _wish(personas, "三月的心愿", posted_at=_at(3, 28))
    orderer = _account("13912345678")
    with scopes_disabled():
        wishes.wish_take(account=taker, wish=done)
        wishes.wish_complete(actor=personas.community_staff, wish=done)
        wishes.wish_take(account=taker, wish=taken)
        # Ordered by a resident and posted, then withdrawn by them: not the community's to fulfil.
        ordered = wishes.wish_order(account=orderer, community=personas.areas["community_a"], title="一把轮椅",
                                    beneficiary="腿脚不便的老人", value=150)
        wishes.wish_post(actor=personas.community_staff, wish=ordered)
        wishes.wish_withdraw(account=orderer, wish=ordered)
        Wish.objects.unscoped().filter(pk=ordered.pk).update(posted_at=_at(4, 5))
        # Ordered in April, never posted.
        wishes.wish_order(account=orderer, community=personas.areas["community_a"], title="一个保温杯",
                          beneficiary="环卫工人", value=50)
    return {"done": done}


def test_wishes_rate(personas, wishes_world):
    a = personas.areas
    values = _values("volunteers.wishes_rate", [a["community_a"], a["community_b"], a["community_x"],
                                                a["street_a"], a["dongcheng"]])
    assert values == {a["community_a"].pk: D("1") / D("3"), a["community_b"].pk: D("0"),
                      a["street_a"].pk: D("1") / D("3"), a["dongcheng"].pk: D("0.25")}
    assert a["community_x"].pk not in values  # no wish posted: no figure
    # Thanked by the resident still counts as fulfilled.
    Wish.objects.unscoped().filter(pk=wishes_world["done"].pk).update(status="thanked")
    assert _values("volunteers.wishes_rate", [a["community_a"]])[a["community_a"].pk] == D("1") / D("3")
    assert _values("volunteers.wishes_rate", [a["community_a"]], MARCH)[a["community_a"].pk] == D("0")


# --- Queries and links ------------------------------------------------------------------------

def test_a_fixed_number_of_queries_for_one_or_many_areas(personas, hours_world, members_world, wishes_world):
    a = personas.areas
    with scopes_disabled():
        extra = [Area.objects.unscoped().create(code=f"110101001{100 + i:03d}", name=f"测试{i}社区",
                                                level=AreaLevel.COMMUNITY, parent=a["street_a"]) for i in range(12)]
    for name in ("volunteers.hours", "volunteers.members", "volunteers.wishes_rate"):
        with CaptureQueriesContext(connection) as one:
            _values(name, [a["community_a"]])
        with CaptureQueriesContext(connection) as many:
            _values(name, [a["community_a"], a["community_a2"], a["community_b"], *extra])
        assert len(one) == len(many) == 1, name
        with CaptureQueriesContext(connection) as levels:
            _values(name, [a["community_a"], a["street_a"], a["street_b"], a["dongcheng"]])
        assert len(levels) == 3, name  # one per level


def test_links_open_the_records(personas, hours_world, members_world, client_for):
    a = personas.areas
    client = client_for("community_staff")
    link = indicators.link("volunteers.hours", a["community_a"], APRIL)
    assert link == f"{reverse('volunteers:activity_list')}?community=110101001001"
    page = client.get(link)
    assert page.status_code == 200 and "助老服务" in page.content.decode()
    link = indicators.link("volunteers.members", a["community_a"], MARCH)
    assert link.startswith(reverse("volunteers:registration_list")) and "area=110101001001" in link
    page = client.get(link)
    assert page.status_code == 200 and "周海燕" in page.content.decode()
    assert client.get(indicators.link("volunteers.wishes_rate", a["community_a"], APRIL)).status_code == 200
    assert indicators.link("volunteers.hours", a["street_a"], APRIL) == reverse("volunteers:activity_list")
