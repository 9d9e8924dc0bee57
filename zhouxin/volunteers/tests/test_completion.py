"""双报到 completion figures: members, registered, served, the rate and its flag under the
threshold of the policy in force, each member's hours against the yearly minimum, and a
street's units in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.crypto import blind_index
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation, Person
from zhouxin.volunteers import completion, registration
from zhouxin.volunteers.choices import ActivityCategory, ActivityStatus, SignUpStatus
from zhouxin.volunteers.models import Activity, SignUp
from zhouxin.volunteers.policy import SERVICE_KEY


def _member(personas, name, phone, unit):
    with scopes_disabled():
        return Person.objects.unscoped().create(
            name=name, home_area=personas.areas["community_a"], phone=phone, phone_index=blind_index("phone", phone),
            is_party_member=True, work_unit=unit)


def _register(personas, person):
    with scopes_disabled():
        return registration.member_register_by_staff(actor=personas.community_staff, person=person)


def _served(personas, person, hours: int, *, day: dt.date | None = None):
    """A completed activity of `hours` hours this year with the person's verified check-in and out."""
    day = day or dt.date(timezone.localdate().year, 3, 1)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
    end = start + dt.timedelta(hours=hours)
    with scopes_disabled():
        activity = Activity.objects.unscoped().create(
            community=personas.areas["community_a"], title="助老服务", category=ActivityCategory.ELDERLY,
            place="多福巷社区服务站", starts_at=start, ends_at=end, slots=10, status=ActivityStatus.FINISHED,
            qr_key="k", organiser=personas.community_staff)
        SignUp.objects.unscoped().create(activity=activity, person=person, status=SignUpStatus.COMPLETED,
                                         checked_in_at=start, checked_out_at=end, minutes=hours * 60,
                                         verified_by=personas.community_staff, verified_at=end)


def test_rate_and_flag_follow_the_threshold_in_force(personas):
    year = timezone.localdate().year
    unit = personas.orgs["unit"]
    member_a = personas.people["member_a"]
    second = _member(personas, "李明", "13600009999", unit)
    _member(personas, "王芳", "13600008888", unit)  # neither registered nor served
    _register(personas, member_a)
    _served(personas, member_a, 3)
    _register(personas, second)  # registered, no hours yet
    figures = completion.area_completion(personas.areas["street_a"], year)
    [row] = figures.units
    assert (row.unit, row.members, row.registered, row.served) == (unit, 3, 2, 1)
    assert row.rate == Decimal("33.3") and row.flagged and figures.threshold == Decimal("95")
    _served(personas, second, 1)
    _register(personas, Person.objects.unscoped().get(name="王芳"))
    _served(personas, Person.objects.unscoped().get(name="王芳"), 2)
    row = completion.area_completion(personas.areas["street_a"], year).units[0]
    assert row.rate == Decimal("100.0") and not row.flagged

    # Served without a valid registration does not count.
    from zhouxin.volunteers.models import MemberRegistration

    MemberRegistration.objects.unscoped().filter(person=second).update(valid_until=timezone.localdate()
                                                                       - dt.timedelta(days=1))
    row = completion.area_completion(personas.areas["street_a"], year).units[0]
    assert (row.registered, row.served, row.rate, row.flagged) == (2, 2, Decimal("66.7"), True)
    # The district lowers the threshold from today: the unit is no longer flagged.
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key=SERVICE_KEY, effective_from=timezone.localdate(),
                          value={"unit_threshold_percent": 60})
    policy.invalidate()
    figures = completion.area_completion(personas.areas["street_a"], year)
    assert figures.threshold == Decimal("60") and not figures.units[0].flagged


def test_member_hours_against_the_yearly_minimum(personas):
    year = timezone.localdate().year
    unit = personas.orgs["unit"]
    member_a = personas.people["member_a"]
    _register(personas, member_a)
    _served(personas, member_a, 30, day=dt.date(year, 2, 1))
    _served(personas, member_a, 20, day=dt.date(year, 2, 5))
    other = _member(personas, "李明", "13600009999", unit)
    _served(personas, other, 5)
    _served(personas, other, 8, day=dt.date(year - 1, 5, 1))  # last year's hours do not count
    figures, members = completion.unit_completion(unit, year)
    by_name = {m.person.name: m for m in members}
    assert by_name["周海燕"].hours == Decimal("50.0") and by_name["周海燕"].meets_minimum
    assert by_name["李明"].hours == Decimal("5.0") and not by_name["李明"].meets_minimum
    assert by_name["李明"].state == "unregistered"
    # Past the yearly deadline (default 06-30) an unregistered member is overdue.
    ref = figures.reference_day
    assert by_name["李明"].overdue == (ref > dt.date(year, 6, 30))
    assert not by_name["周海燕"].overdue


def test_a_whole_street_takes_a_fixed_number_of_queries(personas, django_assert_max_num_queries):
    year = timezone.localdate().year
    completion.area_completion(personas.areas["street_a"], year)  # warm the policy cache
    with scopes_disabled():
        for n in range(6):
            unit = Organisation.objects.unscoped().create(name=f"驻区单位{n}", kind=OrgKind.RESIDENT_UNIT,
                                                          area=personas.areas["community_a2"])
            for k in range(3):
                person = _member(personas, f"党员{n}{k}", f"1350000{n}{k:03d}", unit)
                if k:
                    _register(personas, person)
                    _served(personas, person, 2)
    with django_assert_max_num_queries(8):
        figures = completion.area_completion(personas.areas["street_a"], year)
    new = [u for u in figures.units if u.unit.name.startswith("驻区单位")]
    assert len(figures.units) == 7 and len(new) == 6  # and the hospital, with 周海燕
    assert all(u.members == 3 and u.registered == 2 and u.served == 2 for u in new)
    assert figures.totals.members == 19 and figures.totals.served == 12 and figures.totals.rate == Decimal("63.2")


def test_completion_page_shows_the_flag_in_words(personas, client_for):
    _register(personas, personas.people["member_a"])
    _member(personas, "李明", "13600009999", personas.orgs["unit"])
    page = client_for("street_hub").get(reverse("volunteers:completion")).content.decode()
    assert "北京市东城区第一人民医院" in page and "低于警戒线" in page and "text-bg-danger" in page
    unit_page = client_for("community_staff").get(
        reverse("volunteers:completion_unit", args=[personas.orgs["unit"].pk])).content.decode()
    assert "周海燕" in unit_page and "139****1111" in unit_page and "13900001111" not in unit_page


def test_liaison_sees_the_units_members_with_masked_phones(personas, client_for):
    _register(personas, personas.people["member_a"])
    liaison = client_for("unit_liaison")
    page = liaison.get(reverse("volunteers:my_unit")).content.decode()
    assert "周海燕" in page and "139****1111" in page and "13900001111" not in page and "已报到" in page
    # The completion entry of the menu takes a liaison to their own unit.
    response = liaison.get(reverse("volunteers:completion"))
    assert response.status_code == 302 and response.url == reverse("volunteers:my_unit")
