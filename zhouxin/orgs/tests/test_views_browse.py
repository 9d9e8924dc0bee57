"""The browsing pages as a user meets them: tree, search, details, lists, masking, reveal, shell."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation, Person
from zhouxin.orgs.services import initials_of

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    return response.content.decode()


def query_count(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


# --- shell ------------------------------------------------------------------------

@pytest.mark.django_db
def test_shell_shows_user_role_navigation_and_language_switch(client_for):
    page = text(client_for("street_hub").get(reverse("core:home")))
    assert '<html lang="zh-hans">' in page
    assert "李淑珍" in page and "街道党工委" in page
    assert f'href="{reverse("orgs:tree")}"' in page
    assert 'action="/i18n/setlang/"' in page and 'name="language" value="en"' in page
    assert 'id="main"' in page and 'aria-label="主导航"' in page


@pytest.mark.django_db
def test_navigation_follows_the_role(client_for):
    handler = text(client_for("department_handler").get(reverse("core:home")))
    assert f'href="{reverse("orgs:tree")}"' not in handler
    assert f'href="{reverse("orgs:person_list")}"' not in handler


@pytest.mark.django_db
def test_language_switch_to_english_and_back(client_for):
    client = client_for("community_staff")
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("orgs:tree")})
    assert response.status_code == 302 and response["Location"] == reverse("orgs:tree")
    assert '<html lang="en">' in text(client.get(reverse("orgs:tree")))
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in text(client.get(reverse("orgs:tree")))


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["core:home", "orgs:tree", "orgs:org_list", "orgs:person_list"])
def test_pages_have_no_inline_script_or_style(client_for, name):
    page = text(client_for("district_admin").get(reverse(name)))
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all("src=" in tag for tag in scripts)
    assert " style=" not in page and " onclick=" not in page


@pytest.mark.django_db
def test_workbench_counts_the_scope_in_a_bounded_number_of_queries(personas, client_for):
    client = client_for("district_admin")
    client.get(reverse("core:home"))  # the first view reads the policy rules the panels use into their cache
    before, response = query_count(client, reverse("core:home"))
    page = text(response)
    assert re.search(r'data-tile="street">\s*<span class="zx-tile__count">2<', page)
    assert re.search(r'data-tile="community">\s*<span class="zx-tile__count">3<', page)
    assert re.search(r'data-tile="people">\s*<span class="zx-tile__count">3<', page)  # not 高志远 of 西城
    with scopes_disabled():
        for i in range(5):
            Organisation.objects.unscoped().create(name=f"测试单位{i}", kind=OrgKind.RESIDENT_UNIT,
                                                   area=personas.areas["street_b"])
    after, _ = query_count(client, reverse("core:home"))
    assert after == before


@pytest.mark.django_db
def test_workbench_of_community_staff_shows_their_community(client_for):
    page = text(client_for("community_staff").get(reverse("core:home")))
    assert "多福巷社区" in page and "吉祥社区" not in page
    assert 'data-tile="street"' not in page and 'data-tile="grid"' in page


# --- tree and search ----------------------------------------------------------------

@pytest.mark.django_db
def test_tree_starts_at_the_grant_node_with_its_first_level_open(client_for):
    page = text(client_for("street_hub").get(reverse("orgs:tree")))
    assert "东华门街道" in page and "多福巷社区" in page and "银闸社区" in page
    assert "吉祥社区" not in page and "景山街道" not in page
    # 多福巷社区 has a grid: its toggle loads the children on demand.
    children_url = reverse("orgs:area_children", args=["110101001001"])
    assert f'hx-get="{children_url}"' in page
    assert "多福巷社区第一网格" not in page


@pytest.mark.django_db
def test_tree_children_load_with_htmx_as_a_fragment_with_counts(client_for):
    client = client_for("street_hub")
    response = client.get(reverse("orgs:area_children", args=["110101001001"]), **HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and "多福巷社区第一网格" in fragment
    assert reverse("orgs:area_detail", args=["110101001001001"]) in fragment
    district = text(client_for("district_admin").get(reverse("orgs:area_children", args=["110101"]), **HTMX))
    # 东华门街道: 2 communities, 1 grid, 4 organisations, 2 people.
    row = district[district.index("东华门街道"):district.index("景山街道")]
    assert re.findall(r"<strong>(\d+)</strong>", row) == ["2", "1", "4", "2"]


@pytest.mark.django_db
def test_tree_children_without_htmx_go_to_the_detail_page(client_for):
    response = client_for("street_hub").get(reverse("orgs:area_children", args=["110101001001"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:area_detail", args=["110101001001"])


@pytest.mark.django_db
def test_search_by_pinyin_initials_as_you_type(client_for):
    response = client_for("street_hub").get(reverse("orgs:search"), {"q": "dfx"}, **HTMX)
    fragment = text(response)
    assert "<html" not in fragment
    assert "多福巷社区" in fragment and "东城区 › 东华门街道" in fragment
    assert reverse("orgs:area_detail", args=["110101001001"]) in fragment


@pytest.mark.django_db
def test_search_page_without_htmx_and_nothing_found(client_for):
    client = client_for("street_hub")
    page = text(client.get(reverse("orgs:search"), {"q": "dhm"}))
    assert "<html" in page and "东华门街道" in page and 'value="dhm"' in page
    none = text(client.get(reverse("orgs:search"), {"q": "jx"}, **HTMX))
    assert "没有找到" in none and "吉祥社区" not in none


@pytest.mark.django_db
def test_search_box_triggers_with_a_delay(client_for):
    page = text(client_for("street_hub").get(reverse("orgs:tree")))
    assert 'hx-trigger="input changed delay:300ms, search"' in page


# --- details -----------------------------------------------------------------------

@pytest.mark.django_db
def test_area_detail(client_for):
    page = text(client_for("street_hub").get(reverse("orgs:area_detail", args=["110101001001"])))
    assert "多福巷社区" in page and "110101001001" in page
    assert "2450" in page and "6120" in page and "老旧公房/售后公房" in page
    assert "多福巷社区第一网格" in page and "北京市东城区第一人民医院" in page
    # The street is in the hub's scope and linked; the district above is named but not linked.
    assert f'href="{reverse("orgs:area_detail", args=["110101001"])}"' in page
    assert f'href="{reverse("orgs:area_detail", args=["110101"])}"' not in page and "东城区" in page


@pytest.mark.django_db
def test_area_detail_outside_the_scope_is_not_found(client_for):
    client = client_for("community_staff")
    assert client.get(reverse("orgs:area_detail", args=["110101002001"])).status_code == 404
    assert client.get(reverse("orgs:area_detail", args=["not-a-code"])).status_code == 404


@pytest.mark.django_db
def test_org_detail_shows_party_parent_children_area_and_sector(personas, client_for):
    committee = personas.orgs["community_a_committee"]
    page = text(client_for("street_hub").get(reverse("orgs:org_detail", args=[committee.pk])))
    assert "中共东华门街道工作委员会" in page
    assert f'href="{reverse("orgs:org_detail", args=[personas.orgs["street_a_committee"].pk])}"' in page
    assert "东城区第一人民医院党支部" in page  # party child
    branch = personas.orgs["unit_branch"]
    branch_page = text(client_for("street_hub").get(reverse("orgs:org_detail", args=[branch.pk])))
    assert "卫生健康" in branch_page and "多福巷社区" in branch_page


# --- lists -------------------------------------------------------------------------

def _more_orgs(personas, n=30):
    with scopes_disabled():
        area = personas.areas["community_a"]
        for i in range(n):
            name = f"多福巷第{i:02d}楼门组织"
            Organisation.objects.unscoped().create(name=name, kind=OrgKind.SOCIAL_ORG, area=area,
                                                   pinyin_initials=initials_of(name))


def _more_people(personas, n=30):
    with scopes_disabled():
        for i in range(n):
            Person.objects.unscoped().create(name=f"居民{i:02d}", home_area=personas.areas["community_a"],
                                             phone=f"1390000{i:04d}")


@pytest.mark.django_db
def test_org_list_query_count_does_not_depend_on_page_size(personas, client_for):
    _more_orgs(personas)
    client = client_for("street_hub")
    small, small_page = query_count(client, reverse("orgs:org_list") + "?per_page=10")
    large, large_page = query_count(client, reverse("orgs:org_list") + "?per_page=100")
    assert small == large
    assert text(small_page).count('<th scope="row"') == 10
    assert text(large_page).count('<th scope="row"') == 34


@pytest.mark.django_db
def test_org_list_filters_and_pages(personas, client_for):
    _more_orgs(personas)
    client = client_for("district_admin")
    units = text(client.get(reverse("orgs:org_list"), {"kind": OrgKind.RESIDENT_UNIT}))
    assert "北京市东城区第一人民医院" in units and "中共东华门街道工作委员会" not in units
    health = text(client.get(reverse("orgs:org_list"), {"sector": personas.orgs["unit"].sector_id}))
    assert "东城区第一人民医院党支部" in health and "中共吉祥社区委员会" not in health
    street_b = text(client.get(reverse("orgs:org_list"), {"area": "110101002"}))
    assert "中共吉祥社区委员会" in street_b and "北京市东城区第一人民医院" not in street_b
    second = text(client.get(reverse("orgs:org_list"), {"q": "楼门", "per_page": 10, "page": 2}))
    assert "多福巷第10楼门组织" in second and "多福巷第09楼门组织" not in second
    assert "q=%E6%A5%BC%E9%97%A8" in second  # page links keep the filter
    bad = client.get(reverse("orgs:org_list"), {"kind": "nonsense", "area": "abc"})
    assert bad.status_code == 200 and "部分筛选条件无效" in text(bad)


@pytest.mark.django_db
def test_person_list_masks_phone_and_id_number(client_for):
    page = text(client_for("community_staff").get(reverse("orgs:person_list")))
    assert "吴桂兰" in page and "周海燕" in page and "马玉芬" not in page
    assert "138****1234" in page and "110***********007X" in page
    assert "13812341234" not in page and "11010119800101007X" not in page


@pytest.mark.django_db
def test_person_list_query_count_does_not_depend_on_page_size(personas, client_for):
    _more_people(personas)
    client = client_for("community_staff")
    small, small_page = query_count(client, reverse("orgs:person_list") + "?per_page=10")
    large, large_page = query_count(client, reverse("orgs:person_list") + "?per_page=100")
    assert small == large
    assert text(small_page).count('<th scope="row"') == 10
    assert text(large_page).count('<th scope="row"') == 32
    assert "13900000007" not in text(large_page) and "139****0007" in text(large_page)


@pytest.mark.django_db
def test_person_list_filters_by_name_and_area(client_for):
    client = client_for("district_admin")
    by_name = text(client.get(reverse("orgs:person_list"), {"q": "周"}))
    assert "周海燕" in by_name and "吴桂兰" not in by_name
    by_area = text(client.get(reverse("orgs:person_list"), {"area": "110101002001"}))
    assert "马玉芬" in by_area and "吴桂兰" not in by_area


@pytest.mark.django_db
def test_list_filtered_by_an_area_outside_the_scope_is_not_found(client_for):
    assert client_for("community_staff").get(reverse("orgs:person_list"), {"area": "110101002001"}).status_code == 404
    assert client_for("outsider").get(reverse("orgs:org_list"), {"area": "110101"}).status_code == 404


# --- person detail and reveal ----------------------------------------------------------

def reveal_url(person):
    return reverse("orgs:person_reveal", args=[person.pk])


@pytest.mark.django_db
def test_person_detail_is_masked_with_a_reveal_form(personas, client_for):
    person = personas.people["resident_a"]
    response = client_for("community_staff").get(reverse("orgs:person_detail", args=[person.pk]))
    page = text(response)
    assert "138****1234" in page and "110***********007X" in page
    assert "13812341234" not in page and "11010119800101007X" not in page
    assert f'hx-post="{reveal_url(person)}"' in page and "查看原因" in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_reveal_with_a_reason_shows_the_value_and_is_audited(personas, client_for):
    person = personas.people["resident_a"]
    response = client_for("community_staff").post(reveal_url(person), {"field": "phone", "reason": "电话回访诉求"},
                                                  **HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and "13812341234" in fragment and 'id="zx-reveal-phone"' in fragment
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="orgs.person.revealed")
    assert entry.actor_id == personas.community_staff.pk and entry.object_id == str(person.pk)
    assert entry.after == {"field": "phone", "reason": "电话回访诉求"}


@pytest.mark.django_db
def test_reveal_without_htmx_renders_the_page_with_the_value(personas, client_for):
    person = personas.people["resident_a"]
    response = client_for("street_hub").post(reveal_url(person), {"field": "id_number", "reason": "核实党员身份"})
    page = text(response)
    assert response.status_code == 200 and "<html" in page
    assert "11010119800101007X" in page and "138****1234" in page  # only the asked field is shown


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", " ", "查"])
def test_reveal_with_a_bad_reason_shows_the_form_again(personas, client_for, reason):
    person = personas.people["resident_a"]
    response = client_for("community_staff").post(reveal_url(person), {"field": "phone", "reason": reason}, **HTMX)
    assert response.status_code == 422
    fragment = text(response)
    assert "请填写查看原因" in fragment and "13812341234" not in fragment
    assert 'name="reason"' in fragment and 'aria-invalid="true"' in fragment
    assert not AuditEntry.objects.filter(action="orgs.person.revealed").exists()


@pytest.mark.django_db
def test_reveal_of_an_unknown_field_is_refused_with_a_message(personas, client_for):
    person = personas.people["resident_a"]
    response = client_for("community_staff").post(reveal_url(person), {"field": "name", "reason": "核实信息"}, **HTMX)
    assert response.status_code == 422 and "只能查看手机号或身份证号" in text(response)


@pytest.mark.django_db
def test_reveal_without_the_permission_is_forbidden_and_audited(personas, client_for):
    with scopes_disabled():
        person = Person.objects.unscoped().create(name="孙建军", home_area=personas.areas["grid_a"],
                                                  phone="13511112222")
    client = client_for("grid_worker")
    detail = text(client.get(reverse("orgs:person_detail", args=[person.pk])))
    assert "135****2222" in detail and "确认查看" not in detail  # no reveal form for this role
    response = client.post(reveal_url(person), {"field": "phone", "reason": "上门走访"}, **HTMX)
    assert response.status_code == 403 and "13511112222" not in text(response)
    assert AuditEntry.objects.filter(action="orgs.person.reveal_denied", actor=personas.grid_worker).exists()


@pytest.mark.django_db
def test_reveal_outside_the_scope_is_not_found(personas, client_for):
    response = client_for("community_staff").post(reveal_url(personas.people["resident_b"]),
                                                  {"field": "phone", "reason": "电话回访"}, **HTMX)
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action__startswith="orgs.person.reveal").exists()


@pytest.mark.django_db
def test_reveal_needs_post(personas, client_for):
    response = client_for("community_staff").get(reveal_url(personas.people["resident_a"]))
    assert response.status_code == 405


# --- export links on the lists ----------------------------------------------------------

def export_link(page: str, name: str) -> str | None:
    import html

    found = re.search(rf'<a [^>]*href="({re.escape(reverse(name))}[^"]*)"[^>]*>导出 Excel</a>', page)
    return html.unescape(found.group(1)) if found else None


def xlsx_names(response) -> list[str]:
    import io

    from openpyxl import load_workbook

    assert response.status_code == 200, response.status_code
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]


@pytest.mark.django_db
def test_org_list_export_link_carries_the_filters_and_exports_what_the_list_shows(personas, client_for):
    _more_orgs(personas)
    client = client_for("district_admin")
    sector = personas.orgs["unit"].sector_id
    page = text(client.get(reverse("orgs:org_list"), {"q": "医院", "area": "110101001", "kind": OrgKind.BRANCH,
                                                      "sector": sector, "per_page": 10, "page": 1}))
    link = export_link(page, "orgs:export_organisations")
    assert link == (reverse("orgs:export_organisations")
                    + f"?q=%E5%8C%BB%E9%99%A2&area=110101001&kind=branch&sector={sector}")
    assert xlsx_names(client.get(link)) == ["东城区第一人民医院党支部"]
    unfiltered = export_link(text(client.get(reverse("orgs:org_list"))), "orgs:export_organisations")
    assert unfiltered == reverse("orgs:export_organisations")


@pytest.mark.django_db
def test_person_list_export_link_carries_the_filters(client_for):
    client = client_for("district_admin")
    page = text(client.get(reverse("orgs:person_list"), {"q": "周", "area": "110101001001", "page": 1}))
    link = export_link(page, "orgs:export_people")
    assert link == reverse("orgs:export_people") + "?q=%E5%91%A8&area=110101001001"
    assert xlsx_names(client.get(link)) == ["周海燕"]
    # A filter the list refuses is not carried either.
    bad = text(client.get(reverse("orgs:person_list"), {"q": "周", "area": "abc"}))
    assert export_link(bad, "orgs:export_people") == reverse("orgs:export_people") + "?q=%E5%91%A8"


@pytest.mark.django_db
@pytest.mark.parametrize(("list_name", "export_name"), [("orgs:org_list", "orgs:export_organisations"),
                                                        ("orgs:person_list", "orgs:export_people")])
def test_export_link_only_for_users_who_may_export(client_for, list_name, export_name):
    # The grid worker may browse the lists (orgs.view) but not export them (orgs.export).
    grid_page = client_for("grid_worker").get(reverse(list_name))
    assert grid_page.status_code == 200 and "导出 Excel" not in text(grid_page)
    assert export_link(text(client_for("community_staff").get(reverse(list_name))), export_name) == \
        reverse(export_name)
