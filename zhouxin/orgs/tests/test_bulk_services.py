"""Bulk services for imports: the single-row rules, one masked audit entry per object, all or nothing."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from zhouxin.core import audit
from zhouxin.core.crypto import decrypt
from zhouxin.core.models import AuditEntry, AuditSeal
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import services
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation, Person
from zhouxin.orgs.validators import id_check_char

pytestmark = pytest.mark.django_db


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


def people_rows(personas, n: int, *, start: int = 0) -> list[dict]:
    area = personas.areas["community_a"]
    return [{"name": f"林秀{'英兰芳梅'[i % 4]}", "home_area": area, "phone": f"139 0000 {i:04d}",
             "id_number": id_number(f"11010119900101{i:03d}"), "is_party_member": i % 2 == 0,
             "party_branch": personas.orgs["unit_branch"] if i % 2 == 0 else None,
             "work_unit": personas.orgs["unit"]} for i in range(start, start + n)]


def audit_count(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def counts() -> tuple[int, int, int]:
    return Person.objects.unscoped().count(), Organisation.objects.unscoped().count(), AuditEntry.objects.count()


# --- people -------------------------------------------------------------------------

def test_people_are_created_encrypted_indexed_and_audited_one_entry_each(personas):
    rows = people_rows(personas, 5)
    people = services.people_create_many(actor=personas.community_staff, rows=rows)

    assert [p.name for p in people] == [r["name"] for r in rows]
    assert all(p.pk for p in people)
    first = Person.objects.unscoped().get(pk=people[0].pk)
    assert first.phone == "13900000000" and first.pinyin_initials == "lxy"
    assert first.party_branch == personas.orgs["unit_branch"] and first.is_party_member
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number FROM orgs_person WHERE id = %s", [first.pk])
        raw_phone, raw_id = cursor.fetchone()
    assert "13900000000" not in raw_phone and decrypt(raw_id) == rows[0]["id_number"]

    entries = AuditEntry.objects.filter(action="orgs.person.created").order_by("id")
    assert [int(e.object_id) for e in entries] == [p.pk for p in people]
    for entry, row in zip(entries, rows, strict=True):
        assert entry.actor == personas.community_staff and entry.object_type == "orgs.person"
        assert entry.after["phone"].startswith("139****") and entry.after["id_number"].startswith("110***")
        text = json.dumps([entry.after, entry.object_repr], ensure_ascii=False)
        assert row["id_number"] not in text and row["phone"].replace(" ", "") not in text
        assert audit.check_entry(entry).content_ok


def test_bulk_audit_entry_is_the_one_person_create_writes(personas):
    first, second = people_rows(personas, 2)
    second.update(is_party_member=first["is_party_member"], party_branch=first["party_branch"])
    single = services.person_create(actor=personas.community_staff, **first)
    [bulk] = services.people_create_many(actor=personas.community_staff, rows=[second])
    single_entry = AuditEntry.objects.get(action="orgs.person.created", object_id=str(single.pk))
    bulk_entry = AuditEntry.objects.get(action="orgs.person.created", object_id=str(bulk.pk))
    assert bulk_entry.after == {**single_entry.after, "name": second["name"], "phone": "139****0001",
                                "id_number": bulk.id_number_masked}
    assert (bulk_entry.object_type, bulk_entry.actor_id, bulk_entry.result) == \
        (single_entry.object_type, single_entry.actor_id, single_entry.result)


def test_bulk_created_people_are_found_by_their_blind_indexes(personas):
    rows = people_rows(personas, 3)
    people = services.people_create_many(actor=personas.community_staff, rows=rows)
    found = services.person_find_by_id_number(actor=personas.community_staff, id_number=rows[2]["id_number"])
    assert list(found) == [people[2]]
    assert list(services.person_find_by_phone(actor=personas.community_staff, phone="13900000001")) == [people[1]]
    # Outside the actor's scope the same number finds nothing.
    assert not services.person_find_by_id_number(actor=personas.community_staff_b, id_number=rows[2]["id_number"])


def test_an_id_number_twice_in_the_batch_is_refused_and_nothing_is_written(personas):
    rows = people_rows(personas, 3)
    rows[2]["id_number"] = rows[0]["id_number"]
    before = counts()
    with pytest.raises(services.BatchValidationError) as exc:
        services.people_create_many(actor=personas.community_staff, rows=rows)
    assert list(exc.value.rows) == [2]
    assert "第 1 条" in exc.value.rows[2]["id_number"][0]
    assert counts() == before


def test_one_bad_row_among_good_ones_writes_nothing_and_names_every_bad_row(personas):
    rows = people_rows(personas, 4)
    rows[1]["phone"] = "1234"
    rows[2]["id_number"] = "11010119800101007X"  # the personas' resident has it already
    rows[3]["name"] = " "
    before = counts()
    with pytest.raises(services.BatchValidationError) as exc:
        services.people_create_many(actor=personas.community_staff, rows=rows)
    assert exc.value.rows.keys() == {1, 2, 3}
    assert exc.value.rows[1].keys() == {"phone"} and "11 位" in exc.value.rows[1]["phone"][0]
    assert exc.value.rows[2] == {"id_number": ["该身份证号已登记。"]}
    assert exc.value.rows[3] == {"name": ["请填写姓名。"]}
    assert exc.value.messages[0].startswith("第 2 条：")
    assert counts() == before


def test_an_id_number_already_registered_is_refused(personas):
    rows = people_rows(personas, 2)
    rows[1]["id_number"] = "11010119800101007X"
    before = counts()
    with pytest.raises(services.BatchValidationError) as exc:
        services.people_create_many(actor=personas.community_staff, rows=rows)
    assert exc.value.rows == {1: {"id_number": ["该身份证号已登记。"]}}
    assert counts() == before


def test_no_permission_on_one_home_area_writes_nothing(personas):
    rows = people_rows(personas, 2)
    rows[1]["home_area"] = personas.areas["community_b"]  # another street: not 张丽华's
    before = counts()
    with pytest.raises(PermissionDenied):
        services.people_create_many(actor=personas.community_staff, rows=rows)
    assert counts() == before


def test_the_system_may_bulk_create_only_with_scoping_disabled_on_purpose(personas):
    rows = people_rows(personas, 1)
    with pytest.raises(PermissionDenied):
        services.people_create_many(actor=None, rows=rows)
    with scopes_disabled():
        [person] = services.people_create_many(actor=None, rows=rows)
    assert AuditEntry.objects.get(action="orgs.person.created", object_id=str(person.pk)).actor_label == "system"


def test_prepared_rows_belong_to_their_actor(personas):
    prepared = services.people_prepare_many(actor=personas.community_staff, rows=people_rows(personas, 1))
    with pytest.raises(TypeError):
        services.people_create_many(actor=personas.street_hub, rows=prepared)
    with pytest.raises(TypeError):
        services.organisations_create_many(actor=personas.community_staff, rows=prepared)
    assert Person.objects.unscoped().count() == 4  # the personas' own


# --- organisations ------------------------------------------------------------------

def org_row(personas, name: str, kind=OrgKind.BRANCH, parent=None, area="community_a", **extra) -> dict:
    return {"name": name, "kind": kind, "area": personas.areas[area], "party_parent": parent, **extra}


def test_party_parents_in_the_batch_are_created_first_whatever_the_order(personas):
    committee = personas.orgs["community_a_committee"]
    rows = [
        org_row(personas, "多福巷第一党小组", OrgKind.PARTY_GROUP, parent=1),  # its parent is the next row
        org_row(personas, "多福巷第一党支部", OrgKind.BRANCH, parent=2),
        org_row(personas, "多福巷联合党总支", OrgKind.GENERAL_BRANCH, parent=committee),
        org_row(personas, "多福巷物业公司", OrgKind.RESIDENT_UNIT, credit_code="", member_count="3"),
    ]
    group, branch, general, unit = services.organisations_create_many(actor=personas.community_staff, rows=rows)

    assert group.party_parent == branch and branch.party_parent == general and general.party_parent == committee
    assert general.pk < branch.pk < group.pk  # written level by level
    assert unit.member_count == 3 and unit.pinyin_initials == "dfxwygs"
    stored = Organisation.objects.unscoped().get(pk=group.pk)
    assert stored.party_parent_id == branch.pk
    entries = {int(e.object_id): e for e in AuditEntry.objects.filter(action="orgs.organisation.created")}
    assert set(entries) == {group.pk, branch.pk, general.pk, unit.pk}
    assert entries[group.pk].after["party_parent"] == branch.pk
    assert entries[general.pk].after["party_parent"] == committee.pk
    assert all(audit.check_entry(e).content_ok for e in entries.values())


def test_bulk_organisation_audit_entry_is_the_one_organisation_create_writes(personas):
    committee = personas.orgs["community_a_committee"]
    single = services.organisation_create(actor=personas.community_staff, name="甲党支部", kind=OrgKind.BRANCH,
                                          area=personas.areas["community_a"], party_parent=committee,
                                          address="多福巷 1 号")
    [bulk] = services.organisations_create_many(actor=personas.community_staff, rows=[
        org_row(personas, "乙党支部", party_parent=committee, address="多福巷 1 号")])
    single_after = AuditEntry.objects.get(action="orgs.organisation.created", object_id=str(single.pk)).after
    bulk_after = AuditEntry.objects.get(action="orgs.organisation.created", object_id=str(bulk.pk)).after
    assert {**single_after, "name": "乙党支部"} == bulk_after


def test_same_name_twice_in_one_area_or_already_there_is_refused(personas):
    rows = [
        org_row(personas, "多福巷第九党支部"),
        org_row(personas, "多福巷第九党支部"),
        org_row(personas, "多福巷第九党支部", area="community_a2"),  # another area: fine
        org_row(personas, "中共多福巷社区委员会", OrgKind.PARTY_COMMITTEE),  # exists already
    ]
    before = counts()
    with pytest.raises(services.BatchValidationError) as exc:
        services.organisations_create_many(actor=personas.street_hub, rows=rows)
    assert set(exc.value.rows) == {1, 3}
    assert "第 1 条" in exc.value.rows[1]["name"][0]
    assert exc.value.rows[3]["name"] == ["“多福巷社区”已有名为“中共多福巷社区委员会”的组织。"]
    assert counts() == before


@pytest.mark.parametrize(
    ("rows", "bad", "message"),
    [
        ([("甲支部", OrgKind.BRANCH, 1), ("乙支部", OrgKind.BRANCH, 0)], {0, 1}, "不能是本组织或其下级组织"),
        ([("甲支部", OrgKind.BRANCH, 0)], {0}, "本批中的另一条"),
        ([("甲支部", OrgKind.BRANCH, 5)], {0}, "本批中的另一条"),
        ([("某单位", OrgKind.RESIDENT_UNIT, None), ("甲支部", OrgKind.BRANCH, 0)], {1}, "不是党组织"),
        ([("某单位", OrgKind.RESIDENT_UNIT, None), ("某某公司", OrgKind.RESIDENT_UNIT, 0)], {1}, "只有党组织"),
    ],
)
def test_bad_references_between_rows_are_refused(personas, rows, bad, message):
    before = counts()
    with pytest.raises(services.BatchValidationError) as exc:
        services.organisations_create_many(actor=personas.community_staff, rows=[
            org_row(personas, name, kind, parent=parent) for name, kind, parent in rows])
    assert set(exc.value.rows) == bad
    assert all(message in " ".join(exc.value.rows[i]["party_parent"]) for i in bad)
    assert counts() == before


def test_an_invalid_field_in_one_organisation_row_writes_nothing(personas):
    good_code = "91110101MA01ABCD1" + services.credit_code_check_char("91110101MA01ABCD1")
    wrong_check = good_code[:17] + ("0" if good_code[17] != "0" else "1")
    rows = [org_row(personas, "丙党支部"), org_row(personas, "丁党支部", kind="党小队"),
            org_row(personas, "戊单位", OrgKind.RESIDENT_UNIT, credit_code=wrong_check)]
    before = counts()
    with pytest.raises(services.BatchValidationError) as exc:
        services.organisations_create_many(actor=personas.community_staff, rows=rows)
    assert exc.value.rows.keys() == {1, 2}
    assert exc.value.rows[1].keys() == {"kind"} and exc.value.rows[2].keys() == {"credit_code"}
    assert counts() == before


# --- the audit helper -----------------------------------------------------------------

def test_record_many_entries_hash_like_record_and_are_sealed_after_commit(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        people = services.people_create_many(actor=personas.community_staff, rows=people_rows(personas, 30))
    entries = list(AuditEntry.objects.filter(action="orgs.person.created").order_by("id"))
    assert len(entries) == 30 and len({e.at for e in entries}) == 1
    assert [e.content_hash for e in entries] == [audit.content_hash(e) for e in entries]
    assert AuditSeal.objects.filter(entry__in=entries).count() == 30
    assert audit.verify_chain().ok
    assert {int(e.object_id) for e in entries} == {p.pk for p in people}


def test_record_many_outside_a_transaction_writes_all_entries(personas):
    sector = personas.orgs["unit"].sector
    written = audit.record_many(actor=personas.district_admin, entries=[
        {"action": "orgs.sector.checked", "obj": sector, "after": {"n": n}} for n in range(3)])
    assert [e.after for e in AuditEntry.objects.filter(action="orgs.sector.checked").order_by("id")] == \
        [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(e.pk and e.object_id == str(sector.pk) for e in written)
    assert audit.record_many(actor=None, entries=[]) == []
