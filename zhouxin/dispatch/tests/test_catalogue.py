"""The dispatch catalogue: the bundled file, seeding, the edit services and the pages."""

from __future__ import annotations

import dataclasses
from collections import Counter
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import catalogue, classify
from zhouxin.dispatch.choices import SlaClass
from zhouxin.dispatch.models import Category, ServiceRequest
from zhouxin.orgs.choices import OrgKind

REQUIRED_TOP_LEVEL = {"市场管理", "公共服务", "住房", "物业管理", "医疗卫生", "城乡建设", "交通管理", "社会秩序",
                      "劳动和社会保障", "教育", "生态环境", "水电气热"}


def _seed() -> catalogue.CatalogueSeedResult:
    with scopes_disabled():
        return catalogue.catalogue_seed()


# --- The bundled file -----------------------------------------------------------------------------


def test_bundled_catalogue_is_complete_and_well_formed():
    rows = catalogue.read_catalogue()
    leaves = [r for r in rows if r.level == 3]
    assert len(leaves) >= 150
    assert {r.name for r in rows if r.level == 1} >= REQUIRED_TOP_LEVEL
    for leaf in leaves:
        assert leaf.sla_class in SlaClass.values, leaf.code
        assert leaf.org_kind in OrgKind.values, leaf.code
        assert 5 <= len(leaf.keywords.split()) <= 10, leaf.code
    # Every SLA class is used, and the 物业 items go to the community by default.
    assert {leaf.sla_class for leaf in leaves} == set(SlaClass.values)
    assert all(leaf.org_kind == OrgKind.PARTY_COMMITTEE for leaf in leaves if leaf.code.startswith("04"))
    assert all(leaf.org_kind == OrgKind.DEPARTMENT for leaf in leaves if leaf.code.startswith(("01", "06")))


def test_keywords_are_discriminative():
    """The keywords are the cold-start classifier: no keyword may point at two leaves."""
    leaves = [r for r in catalogue.read_catalogue() if r.level == 3]
    counts = Counter(word for leaf in leaves for word in leaf.keywords.split())
    assert [word for word, n in counts.items() if n > 1] == []


def test_file_errors_are_reported_with_line_numbers(tmp_path):
    bad = tmp_path / "catalogue.csv"
    bad.write_text("code,name,sla_class,org_kind,route,keywords\n"
                   "04,物业管理,,party_committee,社区,\n"
                   "0401,物业服务,,party_committee,,\n"
                   "040101,电梯故障,,party_committee,,电梯 困人\n"
                   "050101,挂号难,general,department,,挂号\n"
                   "0402,物业收费,general,department,县:物业,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        catalogue.read_catalogue(bad)
    messages = caught.value.messages
    assert "第 4 行：三级类别必须设置时限类别。" in messages
    assert "第 5 行：上级编码 0501 应在本行之前出现。" in messages
    assert "第 6 行：只有三级类别设置时限类别。" in messages
    assert "第 6 行：派单目标“县:物业”无法识别。" in messages


# --- Seeding --------------------------------------------------------------------------------------


def test_seed_command_loads_everything_and_is_idempotent(db):
    out = StringIO()
    call_command("seed_catalogue", stdout=out)
    rows = catalogue.read_catalogue()
    assert Category.objects.count() == len(rows)
    assert f"新增 {len(rows)}" in out.getvalue()
    lift = Category.objects.get(code="040101")
    assert (lift.name, lift.sla_class, lift.default_org_kind, lift.level, lift.parent.code) == (
        "电梯故障", SlaClass.EMERGENCY, OrgKind.PARTY_COMMITTEE, 3, "0401")
    assert lift.pinyin_initials == "dtgz" and "困人" in lift.keywords
    audits = AuditEntry.objects.filter(action="dispatch.catalogue.seeded").count()
    again = StringIO()
    call_command("seed_catalogue", stdout=again)
    assert "新增 0，更新 0，恢复启用 0，停用 0，删除 0" in again.getvalue()
    assert AuditEntry.objects.filter(action="dispatch.catalogue.seeded").count() == audits


def test_seed_updates_names_and_keywords_it_owns(db):
    _seed()
    rows = [dataclasses.replace(r, name="电梯运行故障", keywords="电梯 困人 电梯坏了") if r.code == "040101" else r
            for r in catalogue.read_catalogue()]
    with scopes_disabled():
        result = catalogue.catalogue_seed(rows=rows)
    assert result.updated == ["040101"] and not result.created
    lift = Category.objects.get(code="040101")
    assert lift.name == "电梯运行故障" and lift.keywords == "电梯 困人 电梯坏了" and lift.pinyin_initials == "dtyxgz"


def test_seed_leaves_an_administrators_edit_alone(db, personas):
    _seed()
    lift = Category.objects.get(code="040101")
    catalogue.category_update(actor=personas.district_admin, category=lift, keywords="电梯 困人 轿厢")
    result = _seed()
    lift.refresh_from_db()
    assert lift.keywords == "电梯 困人 轿厢" and lift.source == Category.SOURCE_ADMIN
    assert "040101" in result.kept_admin and not result.updated


def test_seed_never_deletes_a_category_requests_use(db, personas):
    _seed()
    used = Category.objects.get(code="040102")
    a = personas.areas
    with scopes_disabled():
        ServiceRequest.objects.unscoped().create(
            number="ZX2026000001", district=a["dongcheng"], street=a["street_a"], area=a["community_a"],
            kind="complaint", channel="hotline", category=used, title="楼道脏", description="楼道很久没人打扫",
            received_at=timezone.now())
    rows = [r for r in catalogue.read_catalogue() if r.code not in ("040102", "040103")]
    with scopes_disabled():
        result = catalogue.catalogue_seed(rows=rows)
    assert result.deactivated == ["040102"]
    assert result.deleted == ["040103"]
    used.refresh_from_db()
    assert used.is_active is False
    assert not Category.objects.filter(code="040103").exists()
    # Back in the file → back in use.
    with scopes_disabled():
        back = catalogue.catalogue_seed()
    assert "040102" in back.reactivated and "040103" in back.created
    used.refresh_from_db()
    assert used.is_active is True


# --- Edit services --------------------------------------------------------------------------------


def test_create_checks_code_level_and_class(db, personas, dispatch_world):
    admin, parent = personas.district_admin, dispatch_world.categories["0401"]
    cases = [
        ({"code": "050103", "parent": parent}, "code", "应以上级编码 0401 开头"),
        ({"code": "04011", "parent": parent}, "code", "3 级类别的编码应为 6 位数字"),
        ({"code": "040100", "parent": parent}, "code", "不能是 00"),
        ({"code": "040101", "parent": parent}, "code", "已被使用"),
        ({"code": "040109", "parent": parent, "sla_class": ""}, "sla_class", "三级类别必须设置时限类别"),
        ({"code": "040109", "parent": parent, "default_org_kind": ""}, "default_org_kind", "默认承办组织类型"),
        ({"code": "040109", "parent": dispatch_world.categories["040101"]}, "parent", "不能再设下级类别"),
        ({"code": "13", "sla_class": SlaClass.GENERAL}, "sla_class", "只有三级类别设置时限类别"),
        ({"code": "040109", "parent": parent, "name": "楼道卫生"}, "name", "已有名为“楼道卫生”的类别"),
    ]
    count = Category.objects.count()
    for overrides, field, message in cases:
        values = {"name": "电梯维保", "sla_class": SlaClass.GENERAL, "default_org_kind": OrgKind.PARTY_COMMITTEE,
                  "keywords": "维保 保养", "parent": None, **overrides}
        with pytest.raises(ValidationError) as caught:
            catalogue.category_create(actor=admin, **values)
        assert any(message in m for m in caught.value.message_dict[field]), (overrides, caught.value.message_dict)
    assert Category.objects.count() == count


def test_create_a_leaf_is_audited_and_the_admins(db, personas, dispatch_world):
    leaf = catalogue.category_create(actor=personas.district_admin, code="040103", name="电梯维保",
                                     parent=dispatch_world.categories["0401"], sla_class=SlaClass.GENERAL,
                                     default_org_kind=OrgKind.PARTY_COMMITTEE, keywords="维保，保养、年检 维保")
    assert (leaf.level, leaf.keywords, leaf.pinyin_initials, leaf.source) == (3, "维保 保养 年检", "dtwb", "admin")
    entry = AuditEntry.objects.get(action="dispatch.category.created", object_id=str(leaf.pk))
    assert entry.actor_id == personas.district_admin.pk and entry.after["code"] == "040103"


@pytest.mark.parametrize("persona", ["street_hub", "community_staff", "department_handler", "system_admin"])
def test_only_district_admins_edit(db, personas, dispatch_world, persona):
    user = personas.users[persona]
    with pytest.raises(PermissionDenied):
        catalogue.category_create(actor=user, code="13", name="民政")
    with pytest.raises(PermissionDenied):
        catalogue.category_update(actor=user, category=dispatch_world.categories["040101"], name="电梯")
    with pytest.raises(PermissionDenied):
        catalogue.category_deactivate(actor=user, category=dispatch_world.categories["04"])


def test_deactivating_takes_the_branch_out_and_activating_brings_it_back(db, personas, dispatch_world):
    admin = personas.district_admin
    assert catalogue.category_deactivate(actor=admin, category=dispatch_world.categories["0401"]) == 3
    assert set(Category.objects.filter(is_active=False).values_list("code", flat=True)) == {"0401", "040101", "040102"}
    with pytest.raises(ValidationError, match="请先启用上级类别"):
        catalogue.category_activate(actor=admin, category=Category.objects.get(code="040101"))
    assert catalogue.category_activate(actor=admin, category=Category.objects.get(code="0401")) == 3
    assert not Category.objects.filter(is_active=False).exists()


def _suggested(text: str) -> list[str]:
    return [s.code for s in classify.suggest(text)]


def test_suggestions_follow_catalogue_edits_as_soon_as_they_commit(db, personas, dispatch_world,
                                                                   django_capture_on_commit_callbacks):
    """This process's cached catalogue is dropped when an edit commits — including the bulk
    activations and the seed, which send no model signal — not a minute later."""
    admin, noise = personas.district_admin, dispatch_world.categories["0801"]
    classify.reset_cache()
    text = "夜间施工噪音扰民，吵得睡不着"
    assert _suggested(text)[:1] == ["080101"]
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        catalogue.category_deactivate(actor=admin, category=noise)
    assert classify.invalidate_catalogue in waiting  # only once the change is committed
    for callback in waiting:
        callback()
    assert "080101" not in _suggested(text)
    with django_capture_on_commit_callbacks(execute=True):
        catalogue.category_activate(actor=admin, category=Category.objects.get(code="0801"))
    assert _suggested(text)[:1] == ["080101"]
    with django_capture_on_commit_callbacks(execute=True):
        catalogue.category_update(actor=admin, category=Category.objects.get(code="080101"),
                                  keywords="施工 噪音 噪声 夜间 扰民 广场舞")
    assert _suggested("小区广场舞音响")[:1] == ["080101"]
    with django_capture_on_commit_callbacks(execute=True):
        created = catalogue.category_create(actor=admin, code="080102", name="社会生活噪声",
                                            parent=Category.objects.get(code="0801"),
                                            sla_class=SlaClass.GENERAL, default_org_kind=OrgKind.DEPARTMENT,
                                            keywords="麻将 喇叭 叫卖")
    assert _suggested("楼下喇叭叫卖声")[:1] == [created.code]


def test_seeding_refreshes_the_suggestions_on_commit(db, django_capture_on_commit_callbacks):
    classify.reset_cache()
    assert classify.suggest("电梯困人了") == []  # empty catalogue
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _seed()
    assert classify.invalidate_catalogue in callbacks
    assert classify.suggest("电梯困人了")


def test_update_nothing_changed_writes_nothing(db, personas, dispatch_world):
    lift = dispatch_world.categories["040101"]
    before = AuditEntry.objects.count()
    catalogue.category_update(actor=personas.district_admin, category=lift, name=lift.name, keywords=lift.keywords)
    assert AuditEntry.objects.count() == before


# --- Pages ----------------------------------------------------------------------------------------


def test_catalogue_page_shows_the_tree_read_only_to_staff(dispatch_world, client_for):
    response = client_for("grid_worker").get(reverse("dispatch:catalogue"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "电梯故障" in body and "紧急类" in body and "困人" in body and "社会秩序" in body
    assert reverse("dispatch:category_edit", args=["040101"]) not in body
    assert "新增类别" not in body


def test_catalogue_search_by_pinyin_initials_and_keyword(dispatch_world, client_for):
    _seed()  # also gives the fixture's own items their search initials
    assert Category.objects.get(code="060101").pinyin_initials == "sdlj"
    client = client_for("community_staff")
    body = client.get(reverse("dispatch:catalogue"), {"q": "dtgz"}).content.decode()
    assert "电梯故障" in body and "楼道卫生" not in body and "停水" not in body
    body = client.get(reverse("dispatch:catalogue"), {"q": "没水"}).content.decode()
    assert "停水" in body and "电梯故障" not in body
    body = client.get(reverse("dispatch:catalogue"), {"q": "外星人"}).content.decode()
    assert "没有找到相关类别" in body


def test_catalogue_page_queries_do_not_grow_with_the_catalogue(dispatch_world, client_for):
    client = client_for("district_admin")
    url = reverse("dispatch:catalogue")
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    _seed()
    assert Category.objects.count() > 300
    with CaptureQueriesContext(connection) as full:
        response = client.get(url)
    assert "飞线充电" in response.content.decode()
    assert len(full.captured_queries) == len(small.captured_queries)


def test_district_admin_creates_a_category_from_the_page(dispatch_world, client_for):
    client = client_for("district_admin")
    form = client.get(reverse("dispatch:category_create"), {"parent": "0401"}).content.decode()
    assert 'value="040103"' in form  # the next free code is suggested
    response = client.post(reverse("dispatch:category_create"), {
        "parent": "0401", "code": "040103", "name": "电梯维保", "sla_class": "general",
        "default_org_kind": "party_committee", "keywords": "维保 保养"}, follow=True)
    assert "已新增类别 040103 电梯维保。" in response.content.decode()
    assert Category.objects.get(code="040103").parent.code == "0401"


def test_a_bad_category_is_explained_and_nothing_is_created(dispatch_world, client_for):
    client = client_for("district_admin")
    response = client.post(reverse("dispatch:category_create"), {
        "parent": "0401", "code": "050199", "name": "挂号难", "sla_class": "", "default_org_kind": "department"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "编码 050199 应以上级编码 0401 开头。" in body and "三级类别必须设置时限类别。" in body
    assert not Category.objects.filter(code="050199").exists()
    response = client.post(reverse("dispatch:category_create"), {"code": "abc", "name": ""})
    assert response.status_code == 400 and "编码应为 2、4 或 6 位数字。" in response.content.decode()


def test_district_admin_edits_and_deactivates_from_the_page(dispatch_world, client_for):
    client = client_for("district_admin")
    url = reverse("dispatch:category_edit", args=["040102"])
    response = client.post(url, {"name": "楼道卫生", "sla_class": "complex", "default_org_kind": "party_committee",
                                 "keywords": "楼道 卫生 小广告"}, follow=True)
    assert "已保存类别 040102 楼道卫生。" in response.content.decode()
    leaf = Category.objects.get(code="040102")
    assert leaf.sla_class == "complex" and leaf.keywords == "楼道 卫生 小广告"
    response = client.post(url, {"action": "deactivate"}, follow=True)
    assert "已停用“楼道卫生”及其下级类别，共 1 项。" in response.content.decode()
    assert Category.objects.get(code="040102").is_active is False
    response = client.post(url, {"name": "楼道卫生", "sla_class": "", "default_org_kind": "party_committee"})
    assert response.status_code == 400 and "三级类别必须设置时限类别。" in response.content.decode()


def test_editing_an_unknown_code_is_not_found(dispatch_world, client_for):
    assert client_for("district_admin").get(reverse("dispatch:category_edit", args=["9999"])).status_code == 404
