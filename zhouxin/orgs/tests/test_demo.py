"""The demo district.  The demo is loaded once for the module inside a transaction that is
rolled back at the end (each test runs in a savepoint within it); the tests that need an
empty database come first in the file."""

import io
import re
from collections import Counter

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhouxin.core.choices import STAFF_ROLES, Role
from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as demo_module
from zhouxin.orgs.choices import PARTY_KINDS, AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation, Person, Sector
from zhouxin.orgs.services import community_short_name
from zhouxin.orgs.validators import is_valid_id_number, is_valid_mobile_phone


def command(name, *args) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- Without the demo ------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_commands_refuse_before_the_demo_is_loaded():
    assert not AuditEntry.objects.filter(action=demo_module.MARKER_ACTION).exists()
    for args in (("demo_code", "street_hub"), ("demo_logins",)):
        with pytest.raises(CommandError, match="演示数据尚未加载"):
            command(*args)


@pytest.mark.django_db
def test_everything_is_refused_when_demo_is_disabled(settings):
    settings.DEMO_ENABLED = False
    for args in (("load_demo",), ("demo_code", "street_hub"), ("demo_logins", "--url", "http://x/")):
        with pytest.raises(CommandError, match="演示模式未开启"):
            command(*args)
    with scopes_disabled():
        assert not Area.objects.exists()
    assert not User.objects.exists()


# --- With the demo ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        report = demo_module.load_demo()
        yield report
        transaction.set_rollback(True)


def test_dongcheng_areas(demo, db):
    with scopes_disabled():
        areas = Area.objects.filter(code__startswith="110101")
        assert Area.objects.get(code="1101").name == "北京市"
        assert areas.get(code="110101").name == "东城区"
        assert areas.filter(level=AreaLevel.STREET).count() == 17
        communities = list(areas.filter(level=AreaLevel.COMMUNITY))
        assert len(communities) == 169
        grids = Counter(areas.filter(level=AreaLevel.GRID).values_list("parent__code", flat=True))
        assert set(grids) == {c.code for c in communities}
        assert min(grids.values()) >= 3 and max(grids.values()) <= 6
        grid = areas.get(code="110101001001001")
        assert grid.name == "多福巷社区第一网格" and grid.parent.code == "110101001001"
        for community in communities:
            assert community.households and community.population > community.households
            assert community.community_type
            names = set(areas.filter(parent=community).values_list("name", flat=True))
            assert f"{community_short_name(community.name)}第一网格" in names
    assert demo.totals["communities"] == 169 and demo.totals["streets"] == 17


def test_dongcheng_organisations(demo, db):
    with scopes_disabled():
        orgs = Organisation.objects.filter(area__code__startswith="110101")
        district = orgs.get(name="中共北京市东城区委员会")
        working = orgs.filter(kind=OrgKind.WORKING_COMMITTEE)
        assert working.count() == 17
        assert set(working.values_list("party_parent", flat=True)) == {district.pk}
        assert orgs.get(name="中共北京市东城区东华门街道工作委员会").area.code == "110101001"
        committees = orgs.filter(kind=OrgKind.PARTY_COMMITTEE, area__level=AreaLevel.COMMUNITY)
        assert committees.count() == 169
        assert not committees.exclude(party_parent__kind=OrgKind.WORKING_COMMITTEE).exists()
        assert orgs.filter(kind=OrgKind.BRANCH, area__level=AreaLevel.COMMUNITY).count() >= 2 * 169
        departments = set(orgs.filter(kind=OrgKind.DEPARTMENT).values_list("name", flat=True))
        assert {"东城区城市管理综合执法局", "东城区住房和城乡建设委员会", "东城区市场监督管理局",
                "北京市公安局东城分局", "北京市公安局东城分局东华门派出所"} <= departments
        units = orgs.filter(kind__in=[OrgKind.RESIDENT_UNIT, OrgKind.NONPUBLIC_ENTERPRISE])
        sectors = set(units.values_list("sector__name", flat=True))
        assert {"教育", "卫生健康", "金融", "物流快递", "物业管理", "国有企业"} <= sectors
        assert units.filter(name="北京协和医院").exists()
        assert units.filter(name__startswith="顺丰速运").exists() or units.filter(name__startswith="京东物流").exists()
        assert Sector.objects.filter(name__in=["公安", "城市管理", "住房建设", "文化旅游", "市场监管"]).count() == 5
        # Every Party organisation but the district committee hangs under another Party organisation.
        party = orgs.filter(kind__in=PARTY_KINDS).exclude(pk=district.pk)
        assert not party.filter(party_parent__isnull=True).exists()
        assert not party.exclude(party_parent__kind__in=PARTY_KINDS).exists()


def test_dongcheng_people(demo, db):
    with scopes_disabled():
        people = list(Person.objects.filter(home_area__code__startswith="110101").select_related("party_branch"))
    assert 169 * 14 <= len(people) <= 169 * 22 + 2
    assert all(is_valid_id_number(p.id_number) and p.id_number.startswith("110101") for p in people)
    assert all(is_valid_mobile_phone(p.phone) for p in people)
    assert len({p.id_number for p in people}) == len(people)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", p.name) for p in people)
    assert len({p.name[0] for p in people}) > 50  # many surnames, weighted towards the common ones
    assert Counter(p.name[0] for p in people).most_common(1)[0][0] in "王李张刘陈"
    members = [p for p in people if p.is_party_member]
    assert 0.1 < len(members) / len(people) < 0.35
    assert all(p.party_branch and p.party_branch.kind in PARTY_KINDS for p in members)
    assert sum(1 for p in people if p.work_unit_id) > len(people) / 5
    # Gender digit and birth date are consistent with the given name's generation.
    assert {int(p.id_number[16]) % 2 for p in people} == {0, 1}


def test_every_persona_has_a_login_with_a_grant(demo, db):
    expected = {login.username: login for login in demo_module.LOGINS}
    users = {u.username: u for u in User.objects.filter(username__in=expected)}
    assert set(users) == set(expected)
    assert {login.role for login in demo_module.LOGINS} == set(Role.values)
    for username, login in expected.items():
        user = users[username]
        grant = Grant.objects.select_related("area").get(user=user)
        assert (grant.role, grant.area.code, grant.active) == (login.role, login.area_code, True)
        assert user.check_password(demo_module.DEMO_PASSWORD)
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
        if login.role in STAFF_ROLES:
            assert devices.get().key == demo_module.totp_key_hex(2019, username)
        else:
            assert not devices.exists()
    # The documented password satisfies the password policy (a new account, so history does not apply).
    validate_password(demo_module.DEMO_PASSWORD, User(username="district_admin", full_name="王建国"))
    street_of = {u: Grant.objects.get(user=users[u]).area.parent.code for u in ("community_staff", "community_staff_b")}
    assert street_of["community_staff"] != street_of["community_staff_b"]
    assert Grant.objects.get(user=users["department_handler"]).organisation.name == "东城区城市管理综合执法局"
    assert Grant.objects.get(user=users["unit_liaison"]).organisation.kind == OrgKind.RESIDENT_UNIT
    with scopes_disabled():
        member = Person.objects.get(user=users["member"])
        assert member.is_party_member and member.party_branch and member.home_area.code == "110101001001"
        assert Person.objects.get(user=users["resident"]).name == "吴桂兰"


def test_a_second_load_adds_nothing(demo, db):
    def counts():
        with scopes_disabled():
            return {model.__name__: model.objects.count()
                    for model in (Area, Organisation, Person, Sector, User, Grant, TOTPDevice)}

    before = counts()
    # Identities are drawn again from the seed: were they different, new people would appear.
    report = demo_module.load_demo()
    assert report.created == {}
    assert counts() == before
    assert AuditEntry.objects.filter(action=demo_module.MARKER_ACTION).count() == 1


def test_demo_code_prints_a_code_the_device_accepts(demo, db):
    code = command("demo_code", "street_hub").strip()
    assert re.fullmatch(r"\d{6}", code)
    device = TOTPDevice.objects.get(user__username="street_hub")
    assert device.verify_token(code)
    with pytest.raises(CommandError, match="不是演示账号"):
        command("demo_code", "nobody")
    with pytest.raises(CommandError, match="没有演示用的动态口令设备"):
        command("demo_code", "resident")


def test_demo_logins_lists_every_login(demo, db):
    out = command("demo_logins", "--url", "http://127.0.0.1:8000/")
    assert "http://127.0.0.1:8000/accounts/login/" in out
    assert "http://127.0.0.1:8000/portal/" in out and "http://127.0.0.1:8000/api/docs/" in out
    for login in demo_module.LOGINS:
        line = next(line for line in out.splitlines() if line.startswith(login.username + " "))
        assert demo_module.DEMO_PASSWORD in line
        assert str(Role(login.role).label) in line
        if login.role in STAFF_ROLES:
            assert f"demo_code {login.username}" in line
            secret = demo_module.totp_secret_base32(demo_module.totp_key_hex(2019, login.username))
            assert secret in out
    assert "东华门街道" in out and "多福巷社区第一网格" in out


def test_the_same_seed_gives_the_same_secrets_and_another_seed_others():
    assert demo_module.totp_key_hex(2019, "street_hub") == demo_module.totp_key_hex(2019, "street_hub")
    assert demo_module.totp_key_hex(2019, "street_hub") != demo_module.totp_key_hex(2020, "street_hub")
    assert demo_module.totp_key_hex(2019, "street_hub") != demo_module.totp_key_hex(2019, "grid_worker")
    assert len(bytes.fromhex(demo_module.totp_key_hex(2019, "street_hub"))) == 20
