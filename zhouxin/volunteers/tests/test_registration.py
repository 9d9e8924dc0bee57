"""双报到 registration: units with their community, Party members on the portal (or by staff),
confirmation, renewal, the policy version in force, reminders, and who may see what."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.portal import sms
from zhouxin.portal.tests.helpers import signed_in
from zhouxin.volunteers import registration
from zhouxin.volunteers.choices import Channel, PointSource, RegistrationStatus
from zhouxin.volunteers.models import MemberRegistration, PointEntry, UnitRegistration
from zhouxin.volunteers.policy import REGISTRATION_KEY

MEMBER_PHONE = "13900001111"  # 周海燕, Party member of the hospital, living in 多福巷社区
RESIDENT_PHONE = "13812341234"  # 吴桂兰, a resident, not a Party member
REGISTER = "/portal/volunteer/register/"


def _unit_reg(personas, community="community_a"):
    with scopes_disabled():
        return registration.unit_register(actor=personas.unit_liaison, unit=personas.orgs["unit"],
                                          community=personas.areas[community], contact_name="孙雅琴",
                                          services_offered="义诊、健康讲座")


def _confirmed_member(personas, *, valid_until=None, person="member_a"):
    with scopes_disabled():
        reg = registration.member_register_by_staff(actor=personas.community_staff, person=personas.people[person])
        if valid_until is not None:
            MemberRegistration.objects.unscoped().filter(pk=reg.pk).update(valid_until=valid_until)
            reg.refresh_from_db()
    return reg


def _party_member(personas, name, phone, *, unit=True, home="community_a"):
    with scopes_disabled():
        return Person.objects.unscoped().create(
            name=name, home_area=personas.areas[home], phone=phone, phone_index=blind_index("phone", phone),
            is_party_member=True, work_unit=personas.orgs["unit"] if unit else None)


class _Travel:
    """registration.py's clock moved to `day` (no time-travel library in the venv)."""

    def __init__(self, day: dt.date):
        self.day = day

    def now(self):
        return timezone.make_aware(dt.datetime.combine(self.day, dt.time(10, 0)))

    def localdate(self, value=None):
        return timezone.localdate(value) if value is not None else self.day

    def __getattr__(self, name):
        return getattr(timezone, name)


# --- Unit registration -------------------------------------------------------------------

def test_liaison_registers_the_unit_and_community_staff_confirm(personas, client_for):
    liaison = client_for("unit_liaison")
    page = liaison.get(reverse("volunteers:my_unit"))
    assert page.status_code == 200 and "北京市东城区第一人民医院" in page.content.decode()
    response = liaison.post(reverse("volunteers:my_unit"), {
        "unit": personas.orgs["unit"].pk, "community": personas.areas["community_a"].pk,
        "contact_name": "孙雅琴", "services_offered": "义诊、健康讲座"})
    assert response.status_code == 302
    reg = UnitRegistration.objects.unscoped().get()
    assert reg.status == RegistrationStatus.PENDING and reg.community == personas.areas["community_a"]

    staff = client_for("community_staff")
    listing = staff.get(reverse("volunteers:registration_list") + "?kind=unit").content.decode()
    assert "北京市东城区第一人民医院" in listing and "待社区确认" in listing and "确认" in listing
    # The liaison may not confirm their own unit.
    assert liaison.post(reverse("volunteers:unit_registration_decide", args=[reg.pk]),
                        {"decision": "confirm"}).status_code == 403
    staff.post(reverse("volunteers:unit_registration_decide", args=[reg.pk]), {"decision": "confirm"})
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.CONFIRMED and reg.decided_by == personas.community_staff
    assert AuditEntry.objects.filter(action="volunteers.unit_registration.confirmed", object_id=str(reg.pk)).exists()
    # The liaison ends it; a new registration is then possible.
    liaison.post(reverse("volunteers:unit_registration_decide", args=[reg.pk]), {"decision": "end"})
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.ENDED and reg.ended_at
    assert _unit_reg(personas).status == RegistrationStatus.PENDING


def test_unit_registration_refusals_are_chinese_and_change_nothing(personas):
    _unit_reg(personas)
    with pytest.raises(ValidationError) as exc:
        _unit_reg(personas)
    assert "该单位已向这个社区报到。" in exc.value.messages
    # Another street's community is not the unit's to register with; the same street's is.
    with pytest.raises(ValidationError) as exc:
        _unit_reg(personas, community="community_b")
    assert "只能向单位所在街道的社区报到。" in exc.value.messages
    assert _unit_reg(personas, community="community_a2").status == RegistrationStatus.PENDING
    with scopes_disabled(), pytest.raises(ValidationError) as exc:
        registration.unit_register(actor=personas.unit_liaison, unit=personas.orgs["unit"],
                                   community=personas.areas["community_x"], contact_name="", services_offered="")
    assert {"请填写联系人。", "请填写可提供的服务。", "只能向单位所在街道的社区报到。"} <= set(exc.value.messages)
    with scopes_disabled(), pytest.raises(PermissionDenied):
        registration.unit_register(actor=personas.community_staff, unit=personas.orgs["unit"],
                                   community=personas.areas["community_a"], contact_name="张", services_offered="x")
    assert UnitRegistration.objects.unscoped().count() == 2
    reg = UnitRegistration.objects.unscoped().filter(community=personas.areas["community_a"]).get()
    with scopes_disabled():
        with pytest.raises(PermissionDenied):  # another street's staff
            registration.unit_registration_decide(actor=personas.community_staff_b, registration=reg, confirm=True)
        with pytest.raises(ValidationError) as exc:  # declining needs a reason
            registration.unit_registration_decide(actor=personas.street_hub, registration=reg, confirm=False)
        assert "请填写原因。" in exc.value.messages
        registration.unit_registration_decide(actor=personas.street_hub, registration=reg, confirm=False,
                                              note="服务内容请与社区先沟通")
        with pytest.raises(ValidationError) as exc:
            registration.unit_registration_decide(actor=personas.street_hub, registration=reg, confirm=True)
        assert "这条报到已经处理过了。" in exc.value.messages
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.DECLINED and reg.decision_note == "服务内容请与社区先沟通"


# --- Member registration on the portal ---------------------------------------------------

def test_member_registers_on_the_portal_and_community_confirms(personas, client_for):
    anonymous = Client().get(REGISTER)
    assert anonymous.status_code == 302 and "next=" in anonymous.url

    client = signed_in(MEMBER_PHONE)
    page = client.get(REGISTER).content.decode()
    assert "未报到" in page and "提交报到" in page and "多福巷社区" in page
    response = client.post(REGISTER, {"action": "register", "community": personas.areas["community_a"].pk,
                                      "skills": "医疗咨询，周末可服务"})
    assert response.status_code == 302
    reg = MemberRegistration.objects.unscoped().get()
    today = timezone.localdate()
    assert (reg.status, reg.channel, reg.person, reg.work_unit) == (
        RegistrationStatus.PENDING, Channel.PORTAL, personas.people["member_a"], personas.orgs["unit"])
    assert reg.valid_until == registration.add_months(today, 6)
    assert "待社区确认" in client.get(REGISTER).content.decode()
    # A second registration is refused and changes nothing.
    again = client.post(REGISTER, {"action": "register", "community": personas.areas["community_a"].pk})
    assert again.status_code == 422 and MemberRegistration.objects.unscoped().count() == 1

    staff = client_for("community_staff")
    listing = staff.get(reverse("volunteers:registration_list")).content.decode()
    assert "周海燕" in listing and "13900001111" not in listing
    staff.post(reverse("volunteers:member_registration_decide", args=[reg.pk]), {"decision": "confirm"})
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.CONFIRMED
    page = client.get(REGISTER).content.decode()
    assert "已报到" in page and reg.valid_until.strftime("%Y-%m-%d") in page


def test_member_may_choose_another_community_of_the_district_only(personas):
    client = signed_in(MEMBER_PHONE)
    response = client.post(REGISTER, {"action": "register", "community": personas.areas["community_x"].pk})
    assert response.status_code == 422 and "请选择本区的一个社区。" in response.content.decode()
    assert not MemberRegistration.objects.unscoped().exists()
    client.post(REGISTER, {"action": "register", "community": personas.areas["community_b"].pk})
    assert MemberRegistration.objects.unscoped().get().community == personas.areas["community_b"]


def test_a_resident_who_is_not_a_party_member_is_pointed_to_activities(personas):
    client = signed_in(RESIDENT_PHONE)
    page = client.get(REGISTER)
    body = page.content.decode()
    assert page.status_code == 200 and "双报到面向在职党员" in body and "提交报到" not in body
    response = client.post(REGISTER, {"action": "register", "community": personas.areas["community_a"].pk})
    assert response.status_code == 422 and not MemberRegistration.objects.unscoped().exists()


def test_a_resident_never_sees_another_members_registration(personas):
    member = signed_in(MEMBER_PHONE)
    member.post(REGISTER, {"action": "register", "community": personas.areas["community_a2"].pk,
                           "skills": "法律咨询专长"})
    reg = MemberRegistration.objects.unscoped().get()
    other = signed_in(RESIDENT_PHONE)
    body = other.get(REGISTER).content.decode()
    assert "法律咨询专长" not in body and "银闸社区" not in body and "周海燕" not in body
    # Renewing or registering from the other account touches nothing of the member's.
    other.post(REGISTER, {"action": "renew"})
    with scopes_disabled(), pytest.raises(PermissionDenied):
        registration.member_registration_renew(account=_account_of(RESIDENT_PHONE), registration=reg)
    with scopes_disabled(), pytest.raises(PermissionDenied):
        registration.member_registration_end(account=_account_of(RESIDENT_PHONE), registration=reg)
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.PENDING and reg.renewed_at is None


def _account_of(phone):
    from zhouxin.portal.models import ResidentAccount

    return ResidentAccount.objects.get(phone_index=blind_index("phone", phone))


def test_staff_register_a_member_of_their_area(personas, client_for):
    staff = client_for("community_staff")
    assert staff.get(reverse("volunteers:member_register")).status_code == 200
    response = staff.post(reverse("volunteers:member_register"), {"person": personas.people["member_a"].pk})
    assert response.status_code == 302
    reg = MemberRegistration.objects.unscoped().get()
    # Staff registering with their own community confirm it at once.
    assert (reg.channel, reg.status, reg.community) == (Channel.STAFF, RegistrationStatus.CONFIRMED,
                                                         personas.areas["community_a"])
    on_time = timezone.localdate() <= registration.deadline_for(reg.community, timezone.localdate())
    assert PointEntry.objects.unscoped().filter(source=PointSource.REGISTRATION, source_id=reg.pk).exists() == on_time
    with scopes_disabled(), pytest.raises(ValidationError) as exc:  # a resident is not a Party member
        registration.member_register_by_staff(actor=personas.community_staff, person=personas.people["resident_a"])
    assert "只有党员可以报到。" in exc.value.messages
    with scopes_disabled(), pytest.raises(PermissionDenied):  # not their area
        registration.member_register_by_staff(actor=personas.community_staff_b, person=personas.people["member_a"])


# --- Renewal and expiry ------------------------------------------------------------------

def test_renewal_extends_from_the_later_of_today_and_the_end(personas):
    today = timezone.localdate()
    reg = _confirmed_member(personas, valid_until=today + dt.timedelta(days=10))
    client = signed_in(MEMBER_PHONE)
    page = client.get(REGISTER).content.decode()
    assert "续报 6 个月" in page
    assert client.post(REGISTER, {"action": "renew"}).status_code == 302
    reg.refresh_from_db()
    assert reg.valid_until == registration.add_months(today + dt.timedelta(days=10), 6) and reg.renewed_at
    # Right after renewing it is too early to renew again: refused, unchanged.
    before = reg.valid_until
    response = client.post(REGISTER, {"action": "renew"})
    assert response.status_code == 422 and "起可以续报" in response.content.decode()
    reg.refresh_from_db()
    assert reg.valid_until == before
    # An expired registration renews from today.
    MemberRegistration.objects.unscoped().filter(pk=reg.pk).update(valid_until=today - dt.timedelta(days=20))
    assert "已过期" in client.get(REGISTER).content.decode()
    client.post(REGISTER, {"action": "renew"})
    reg.refresh_from_db()
    assert reg.valid_until == registration.add_months(today, 6)


def test_an_expired_registration_counts_as_not_registered(personas):
    from zhouxin.volunteers import completion

    today = timezone.localdate()
    reg = _confirmed_member(personas)
    figures, members = completion.unit_completion(personas.orgs["unit"], today.year)
    assert figures.units[0].registered == 1 and members[0].state == "registered"
    MemberRegistration.objects.unscoped().filter(pk=reg.pk).update(valid_until=today - dt.timedelta(days=1))
    figures, members = completion.unit_completion(personas.orgs["unit"], today.year)
    assert figures.units[0].registered == 0 and members[0].state == "expired"
    assert completion.area_completion(personas.areas["street_a"], today.year).units[0].registered == 0


def test_deadline_and_renewal_months_follow_the_policy_version_in_force(personas, monkeypatch):
    today = timezone.localdate()
    change = today + dt.timedelta(days=10)
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key=REGISTRATION_KEY, effective_from=change,
                          value={"first_by": "03-31", "renew_months": 3})
    policy.invalidate()
    area = personas.areas["community_a"]
    day_before = change - dt.timedelta(days=1)
    assert registration.deadline_for(area, day_before) == dt.date(day_before.year, 6, 30)
    assert registration.deadline_for(area, change) == dt.date(change.year, 3, 31)

    before, after = change - dt.timedelta(days=2), change + dt.timedelta(days=5)
    monkeypatch.setattr(registration, "timezone", _Travel(before))
    with scopes_disabled():
        early = registration.member_register_by_staff(actor=personas.community_staff,
                                                      person=personas.people["member_a"])
    assert early.valid_until == registration.add_months(before, 6)
    other = _party_member(personas, "李明", "13600009999")
    monkeypatch.setattr(registration, "timezone", _Travel(after))
    with scopes_disabled():
        late = registration.member_register_by_staff(actor=personas.community_staff, person=other)
        assert late.valid_until == registration.add_months(after, 3)
        # Renewal on a day after the change extends by the new 3 months.
        MemberRegistration.objects.unscoped().filter(pk=early.pk).update(valid_until=after + dt.timedelta(days=3))
        early.refresh_from_db()
        registration.member_registration_renew(actor=personas.community_staff, registration=early, on=after)
    assert early.valid_until == registration.add_months(after + dt.timedelta(days=3), 3)


# --- Reminders ---------------------------------------------------------------------------

def test_reminders_text_the_right_phones_once(personas, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    year = today.year
    now = timezone.make_aware(dt.datetime(year, 6, 20, 9, 0))  # 10 days before the default 06-30
    due = _confirmed_member(personas, valid_until=dt.date(year, 6, 25))
    _party_member(personas, "李明", "13600009999")  # unregistered member of the unit
    pending = _party_member(personas, "王芳", "13600008888")
    with scopes_disabled():
        registration.member_register_by_staff(actor=personas.community_staff, person=pending,
                                              community=personas.areas["community_a2"])  # pending
    _party_member(personas, "赵强", "13600007777", unit=False)  # no work unit: not an in-service member

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # texts leave after commit
        call_command("volunteer_reminders", "--now", now.isoformat(), stdout=out)
    texts = {m.phone: m.text for m in sms.outbox}
    assert set(texts) == {MEMBER_PHONE, "13600009999"}, texts
    assert f"{year}-06-25" in texts[MEMBER_PHONE] and "续报" in texts[MEMBER_PHONE]
    assert f"{year}-06-30" in texts["13600009999"]
    for text in texts.values():
        assert not any(name in text for name in ("周海燕", "李明", "王芳", "孙雅琴"))
    due.refresh_from_db()
    assert due.reminded_at is not None
    assert "续报提醒 1 条，报到截止提醒 1 条" in out.getvalue()
    assert AuditEntry.objects.filter(action="volunteers.reminders.sent").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        call_command("volunteer_reminders", "--now", now.isoformat(), stdout=StringIO())
    assert len(sms.outbox) == 2
    assert AuditEntry.objects.filter(action="volunteers.reminders.sent").count() == 1


def test_no_reminders_outside_the_windows(personas, django_capture_on_commit_callbacks):
    year = timezone.localdate().year
    now = timezone.make_aware(dt.datetime(year, 5, 1, 9, 0))  # deadline 60 days away
    _confirmed_member(personas, valid_until=dt.date(year, 6, 25))  # ends in 55 days (> 14)
    _party_member(personas, "李明", "13600009999")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("volunteer_reminders", "--now", now.isoformat(), stdout=StringIO())
    assert sms.outbox == []


def test_registrations_list_puts_pending_first_without_extra_queries_per_row(personas, client_for,
                                                                              django_assert_max_num_queries):
    liaison, hub = client_for("unit_liaison"), client_for("street_hub")
    first = _unit_reg(personas)
    with scopes_disabled():
        registration.unit_registration_decide(actor=personas.community_staff, registration=first, confirm=True)
    _unit_reg(personas, community="community_a2")
    people = [_party_member(personas, f"党员{n}", f"1350000{n:04d}") for n in range(6)]
    for person in people[:3]:
        with scopes_disabled():  # confirmed at once: 多福巷's staff register with 多福巷
            registration.member_register_by_staff(actor=personas.community_staff, person=person)
    url = reverse("volunteers:registration_list")
    hub.get(url)  # warm the session and caches
    with django_assert_max_num_queries(14):
        few = hub.get(url)
    for person in people[3:]:
        with scopes_disabled():  # pending: 银闸社区 confirms its own
            registration.member_register_by_staff(actor=personas.community_staff, person=person,
                                                  community=personas.areas["community_a2"])
    with django_assert_max_num_queries(14):
        more = hub.get(url)
    body = more.content.decode()
    assert few.status_code == more.status_code == 200
    assert body.index("党员3") < body.index("党员0") and body.count("zx-badge--warn\">待社区确认") == 3
    assert body.count("退回</button>") == 3  # the street hub may decide for 银闸社区
    units = liaison.get(url + "?kind=unit").content.decode()
    assert units.count("结束报到") == 2 and "确认</button>" not in units
