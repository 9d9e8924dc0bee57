import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from zhouxin.core.choices import AuditResult
from zhouxin.core.crypto import decrypt
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import services
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation, Person
from zhouxin.orgs.validators import id_check_char

PHONE = "13856781234"  # the personas' resident has 13812341234


def id_ending_in_123x() -> str:
    """A valid Dongcheng ID number whose last four characters are 123X."""
    day = dt.date(1980, 1, 1)
    while True:
        first17 = f"110101{day:%Y%m%d}123"
        if id_check_char(first17) == "X":
            return first17 + "X"
        day += dt.timedelta(days=1)


ID_NUMBER = id_ending_in_123x()


def audit_text(entry: AuditEntry) -> str:
    return json.dumps([entry.before, entry.after, entry.object_repr], ensure_ascii=False)


@pytest.fixture
def new_person(personas):
    return services.person_create(
        actor=personas.community_staff, name="林秀英", home_area=personas.areas["community_a"],
        phone="138 5678 1234", id_number=ID_NUMBER.lower())


def test_person_create_validates_encrypts_and_indexes(personas, new_person):
    assert new_person.phone == PHONE
    assert new_person.id_number == ID_NUMBER  # lower-case x normalised
    assert new_person.pinyin_initials == "lxy"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number, phone_index FROM orgs_person WHERE id = %s", [new_person.pk])
        raw_phone, raw_id, raw_index = cursor.fetchone()
    assert PHONE not in raw_phone
    assert ID_NUMBER not in raw_id
    assert PHONE not in raw_index
    assert decrypt(raw_phone) == PHONE and decrypt(raw_id) == ID_NUMBER


def test_masked_forms(new_person):
    assert new_person.phone_masked == "138****1234"
    assert new_person.id_number_masked == "110***********123X"


def test_creation_is_audited_with_masked_values_only(personas, new_person):
    entry = AuditEntry.objects.filter(action="orgs.person.created", object_id=str(new_person.pk)).get()
    assert entry.actor == personas.community_staff
    assert entry.after["phone"] == "138****1234"
    assert entry.after["id_number"] == "110***********123X"
    assert PHONE not in audit_text(entry) and ID_NUMBER not in audit_text(entry)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"phone": "1381234123"}, "phone", "应为 11 位"),
        ({"id_number": "110101198001011230"}, "id_number", "校验位不正确"),
        ({"id_number": "11010119800101007X"}, "id_number", "已登记"),  # the personas' resident
        ({"name": "  "}, "name", "请填写姓名"),
    ],
)
def test_person_create_refuses_bad_input_and_writes_nothing(personas, kwargs, field, message):
    args = {"actor": personas.community_staff, "name": "林秀英", "home_area": personas.areas["community_a"],
            "phone": PHONE, "id_number": ID_NUMBER, **kwargs}
    with scopes_disabled():
        before = Person.objects.count()
    audit_before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as info:
        services.person_create(**args)
    assert any(message in m for m in info.value.message_dict[field])
    with scopes_disabled():
        assert Person.objects.count() == before
    assert AuditEntry.objects.count() == audit_before


def test_party_branch_needs_membership_and_a_party_organisation(personas):
    with pytest.raises(ValidationError) as info:
        services.person_create(actor=personas.community_staff, name="林秀英",
                               home_area=personas.areas["community_a"], party_branch=personas.orgs["unit_branch"])
    assert "只有中共党员" in info.value.message_dict["party_branch"][0]
    with pytest.raises(ValidationError) as info:
        services.person_create(actor=personas.community_staff, name="林秀英", is_party_member=True,
                               home_area=personas.areas["community_a"], party_branch=personas.orgs["unit"])
    assert "不是党组织" in info.value.message_dict["party_branch"][0]


def test_person_create_outside_scope_is_refused(personas):
    with pytest.raises(PermissionDenied):
        services.person_create(actor=personas.community_staff_b, name="林秀英",
                               home_area=personas.areas["community_a"], phone=PHONE)
    with pytest.raises(PermissionDenied):  # the system acts only inside scopes_disabled()
        services.person_create(actor=None, name="林秀英", home_area=personas.areas["community_a"])


def test_reveal_returns_plaintext_and_is_logged_without_it(personas, new_person):
    value = services.person_reveal(actor=personas.community_staff, person=new_person, field="phone",
                                   reason="电话回访核实诉求")
    assert value == PHONE
    value = services.person_reveal(actor=personas.street_hub, person=new_person, field="id_number",
                                   reason="核对身份")
    assert value == ID_NUMBER
    entries = list(AuditEntry.objects.filter(action="orgs.person.revealed", object_id=str(new_person.pk))
                   .order_by("id"))
    assert [(e.actor, e.after) for e in entries] == [
        (personas.community_staff, {"field": "phone", "reason": "电话回访核实诉求"}),
        (personas.street_hub, {"field": "id_number", "reason": "核对身份"}),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_auditentry WHERE action LIKE 'orgs.person.%%'")
        rows = json.dumps(cursor.fetchall(), default=str, ensure_ascii=False)
    assert PHONE not in rows and ID_NUMBER not in rows


@pytest.mark.parametrize("reason", ["", "   ", "查", " 查 "])
def test_reveal_without_a_reason_is_refused(personas, new_person, reason):
    with pytest.raises(ValidationError) as info:
        services.person_reveal(actor=personas.community_staff, person=new_person, field="phone", reason=reason)
    assert "请填写查看原因" in info.value.message_dict["reason"][0]
    assert not AuditEntry.objects.filter(action="orgs.person.revealed").exists()


@pytest.mark.parametrize("persona", ["grid_worker", "resident", "member", "unit_liaison", "audit_admin"])
def test_reveal_without_the_permission_is_refused_and_logged(personas, new_person, persona):
    with pytest.raises(PermissionDenied):
        services.person_reveal(actor=personas.users[persona], person=new_person, field="phone", reason="想看看")
    assert not AuditEntry.objects.filter(action="orgs.person.revealed").exists()
    denied = AuditEntry.objects.get(action="orgs.person.reveal_denied")
    assert denied.result == AuditResult.DENIED and denied.actor == personas.users[persona]


def test_reveal_of_a_person_outside_scope_is_refused(personas, new_person):
    for persona in ("community_staff_b", "outsider"):
        with pytest.raises(PermissionDenied):
            services.person_reveal(actor=personas.users[persona], person=new_person, field="id_number",
                                   reason="核对身份")
    assert not AuditEntry.objects.filter(action="orgs.person.revealed").exists()


def test_reveal_of_an_unknown_field_is_refused(personas, new_person):
    with pytest.raises(ValidationError):
        services.person_reveal(actor=personas.community_staff, person=new_person, field="name", reason="核对身份")


def test_blind_index_lookup_is_scoped_to_the_actor(personas, new_person):
    found = services.person_find_by_phone(actor=personas.community_staff, phone="+86 138-5678-1234")
    assert list(found) == [new_person]
    assert list(services.person_find_by_id_number(actor=personas.district_admin, id_number=ID_NUMBER.lower())) \
        == [new_person]
    assert not services.person_find_by_phone(actor=personas.community_staff_b, phone=PHONE).exists()
    assert not services.person_find_by_phone(actor=personas.outsider, phone=PHONE).exists()
    assert not services.person_find_by_phone(actor=personas.community_staff, phone="13856781235").exists()
    assert not services.person_find_by_phone(actor=personas.community_staff, phone="not a phone").exists()


def test_person_update_reindexes_and_audits_masked(personas, new_person):
    services.person_update(actor=personas.community_staff, person=new_person, phone="139 0000 5678")
    assert list(services.person_find_by_phone(actor=personas.community_staff, phone="13900005678")) == [new_person]
    assert not services.person_find_by_phone(actor=personas.community_staff, phone=PHONE).exists()
    entry = AuditEntry.objects.get(action="orgs.person.updated")
    assert entry.before == {"phone": "138****1234"} and entry.after == {"phone": "139****5678"}
    # Unchanged values write nothing.
    services.person_update(actor=personas.community_staff, person=new_person, phone="13900005678",
                           name="林秀英")
    assert AuditEntry.objects.filter(action="orgs.person.updated").count() == 1


def test_person_move_needs_permission_on_both_communities(personas, new_person):
    with pytest.raises(PermissionDenied):
        services.person_update(actor=personas.community_staff, person=new_person,
                               home_area=personas.areas["community_b"])
    services.person_update(actor=personas.district_admin, person=new_person,
                           home_area=personas.areas["community_b"])
    new_person.refresh_from_db()
    assert new_person.home_area == personas.areas["community_b"]


def test_organisation_create_with_initials_and_unique_names(personas):
    org = services.organisation_create(
        actor=personas.community_staff, name="多福巷社区第二党支部", kind=OrgKind.BRANCH,
        area=personas.areas["community_a"], party_parent=personas.orgs["community_a_committee"])
    assert org.pinyin_initials == "dfxsqdedzb"
    assert AuditEntry.objects.filter(action="orgs.organisation.created", object_id=str(org.pk)).exists()
    with pytest.raises(ValidationError) as info:
        services.organisation_create(actor=personas.community_staff, name="多福巷社区第二党支部",
                                     kind=OrgKind.BRANCH, area=personas.areas["community_a"])
    assert "已有名为" in info.value.message_dict["name"][0]
    with pytest.raises(ValidationError) as info:
        services.organisation_create(actor=personas.community_staff, name="某党小组", kind=OrgKind.PARTY_GROUP,
                                     area=personas.areas["community_a"], party_parent=personas.orgs["unit"])
    assert "不是党组织" in info.value.message_dict["party_parent"][0]
    with pytest.raises(PermissionDenied):
        services.organisation_create(actor=personas.community_staff_b, name="某物业公司",
                                     kind=OrgKind.NONPUBLIC_ENTERPRISE, area=personas.areas["community_a"])


def test_organisation_credit_code_checksum(personas):
    with pytest.raises(ValidationError) as info:
        services.organisation_create(actor=personas.street_hub, name="某物业公司", kind=OrgKind.NONPUBLIC_ENTERPRISE,
                                     area=personas.areas["community_a"], credit_code="91110101MA01ABCD1X")
    assert "统一社会信用代码" in info.value.message_dict["credit_code"][0]
    first17 = "91110101MA01ABCD1"
    good = first17 + services.credit_code_check_char(first17)
    org = services.organisation_create(actor=personas.street_hub, name="某物业公司",
                                       kind=OrgKind.NONPUBLIC_ENTERPRISE, area=personas.areas["community_a"],
                                       credit_code=good.lower())
    assert org.credit_code == good


def test_organisation_update_refuses_a_party_cycle(personas):
    committee = personas.orgs["street_a_committee"]
    with pytest.raises(ValidationError) as info:
        services.organisation_update(actor=personas.district_admin, organisation=committee,
                                     party_parent=personas.orgs["community_a_committee"])
    assert "下级" in info.value.message_dict["party_parent"][0]
    services.organisation_update(actor=personas.district_admin, organisation=committee, name="中共东华门街道工委")
    committee.refresh_from_db()
    assert committee.name == "中共东华门街道工委" and committee.pinyin_initials == "zgdhmjdgw"


def test_area_create_grid_and_update(personas):
    grid = services.area_create(actor=personas.community_staff, code="110101001001002", name="多福巷社区第二网格",
                                level=AreaLevel.GRID, parent=personas.areas["community_a"])
    assert grid.pinyin_initials == "dfxsqdewg"
    with pytest.raises(ValidationError) as info:
        services.area_create(actor=personas.community_staff, code="110101002001003", name="错位网格",
                             level=AreaLevel.GRID, parent=personas.areas["community_a"])
    assert "应以上级代码 110101001001 开头" in info.value.message_dict["code"][0]
    with pytest.raises(ValidationError) as info:
        services.area_create(actor=personas.community_staff, code="110101001001002", name="重复网格",
                             level=AreaLevel.GRID, parent=personas.areas["community_a"])
    assert "已存在" in info.value.message_dict["code"][0]
    with pytest.raises(PermissionDenied):
        services.area_create(actor=personas.community_staff_b, code="110101001001003", name="多福巷社区第三网格",
                             level=AreaLevel.GRID, parent=personas.areas["community_a"])
    services.area_update(actor=personas.community_staff, area=grid, households="320", population=800)
    grid.refresh_from_db()
    assert (grid.households, grid.population) == (320, 800)
    with pytest.raises(ValidationError) as info:
        services.area_update(actor=personas.community_staff, area=grid, households=-1)
    assert "不能为负数" in info.value.message_dict["households"][0]
    with scopes_disabled():
        assert Area.objects.filter(parent=personas.areas["community_a"]).count() == 2


def test_community_names_are_searchable_by_their_own_initials():
    assert services.community_short_name("多福巷社区居委会") == "多福巷社区"
    assert services.community_short_name("六铺炕南小街居委会") == "六铺炕南小街社区"
    assert services.community_short_name("海鸿村村委会") == "海鸿村"
    assert services.community_short_name("高井村委会") == "高井村"
    assert services.community_short_name("小红门村民委员会") == "小红门村"
    pinyin, initials = services.area_search_keys("多福巷社区居委会", AreaLevel.COMMUNITY)
    assert initials.startswith("dfx") and initials == "dfxsq" and pinyin == "duofuxiangshequ"
    assert services.area_search_keys("东华门街道", AreaLevel.STREET)[1] == "dhmjd"
    assert services.area_search_keys("朝阳门街道", AreaLevel.STREET)[1] == "cymjd"


def test_sector_create_is_for_district_admins(personas):
    sector = services.sector_create(actor=personas.district_admin, code="education", name="教育")
    assert sector.name == "教育"
    with pytest.raises(PermissionDenied):
        services.sector_create(actor=personas.street_hub, code="finance", name="金融")
    with pytest.raises(ValidationError):
        services.sector_create(actor=personas.district_admin, code="education", name="教育系统")
    with scopes_disabled():
        assert Organisation.objects.count() >= 1
