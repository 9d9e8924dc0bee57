"""Public community pages: streets → communities → a community's page with its office and
the sections the domains register (dispatch now): aggregates only, nothing personal."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from zhouxin.core import public_sections
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import services
from zhouxin.orgs.models import Organisation

from .helpers import make_request

pytestmark = pytest.mark.django_db


def test_streets_lead_to_their_communities(personas):
    client = Client()
    page = client.get(reverse("portal:communities")).content.decode()
    assert "东城区" in page and "东华门街道" in page and "西长安街街道" in page
    street = client.get(reverse("portal:street", args=[personas.areas["street_a"].code]))
    assert street.status_code == 200
    body = street.content.decode()
    assert "多福巷社区" in body and "银闸社区" in body and "吉祥社区" not in body
    assert reverse("portal:community", args=[personas.areas["community_a"].code]) in body


@pytest.mark.parametrize("name, code", [
    ("portal:street", "110101001001"),      # a community is not a street
    ("portal:street", "999999999"),
    ("portal:community", "110101001"),      # a street is not a community
    ("portal:community", "110101001001001"),  # nor is a grid
    ("portal:community", "abc"),
])
def test_unknown_places_are_404_in_the_portals_words(personas, name, code):
    response = Client().get(reverse(name, args=[code]))
    assert response.status_code == 404 and "页面不存在" in response.content.decode()
    assert "返回工作台" not in response.content.decode()


def test_an_inactive_community_has_no_page(personas):
    area = personas.areas["community_a2"]
    with scopes_disabled():
        type(area).objects.unscoped().filter(pk=area.pk).update(is_active=False)
    assert Client().get(reverse("portal:community", args=[area.code])).status_code == 404


def test_community_page_shows_its_office_and_request_figures_but_nothing_personal(personas, dispatch_world):
    with scopes_disabled():
        Organisation.objects.unscoped().filter(pk=personas.orgs["community_a_committee"].pk).update(
            address="东城区多福巷 12 号", contact_phone="010-65121234")
    requests = [make_request(personas, title=f"私密标题{i}", name=f"居民{i}", phone=f"1391111000{i}",
                             category=dispatch_world.categories["040102"], address=f"{i}号楼私人住址")
                for i in range(6)]
    clerk = personas.community_staff
    for r in requests:
        services.request_accept(actor=clerk, request=r)
        services.request_contact(actor=clerk, request=r, note="电话联系")
    page = Client().get(reverse("portal:community", args=[personas.areas["community_a"].code])).content.decode()
    assert "<h1" in page and "多福巷社区" in page and "东华门街道" in page
    assert "东城区多福巷 12 号" in page and "010-65121234" in page
    assert "接诉即办" in page and "受理诉求" in page and "物业管理" in page
    assert "100.0%" in page  # six contacted in time: the response rate is shown (≥ 5 due)
    for r in requests:
        assert r.number not in page and r.title not in page and r.contact_name not in page
        assert r.contact_phone not in page and r.address not in page


def test_small_samples_show_no_rate(personas, dispatch_world):
    r = make_request(personas, category=dispatch_world.categories["040102"])
    services.request_accept(actor=personas.community_staff, request=r)
    services.request_contact(actor=personas.community_staff, request=r, note="电话联系")
    page = Client().get(reverse("portal:community", args=[personas.areas["community_a"].code])).content.decode()
    assert "100.0%" not in page and "—" in page and "少于 5 件" in page


def test_a_registered_section_appears_in_order_and_a_failing_one_is_left_out(personas):
    # Any template will do: this one lists `choices`.
    def volunteers(area):
        return {"choices": [("", f"{area.name}志愿服务 128 小时")]}

    def broken(area):
        raise RuntimeError("boom")

    public_sections.register("test.volunteers", title="志愿服务", template="portal/_grid_options.html",
                             context=volunteers, order=5)
    public_sections.register("test.broken", title="坏掉的板块", template="portal/_grid_options.html",
                             context=broken, order=6)
    public_sections.register("test.nothing", title="无内容板块", template="portal/_grid_options.html",
                             context=lambda area: None, order=7)
    try:
        response = Client().get(reverse("portal:community", args=[personas.areas["community_a"].code]))
    finally:
        for name in ("test.volunteers", "test.broken", "test.nothing"):
            public_sections.unregister(name)
    body = response.content.decode()
    assert response.status_code == 200
    assert "多福巷社区志愿服务 128 小时" in body
    assert body.index("志愿服务") < body.index("接诉即办")  # order 5 before dispatch's 10
    assert "坏掉的板块" not in body and "无内容板块" not in body


def test_pages_are_in_chinese_by_default_and_complete_in_english(personas):
    url = reverse("portal:community", args=[personas.areas["community_a"].code])
    zh = Client().get(url).content.decode()
    assert '<html lang="zh-hans">' in zh and "社区办公地点与联系方式" in zh
    en = Client(HTTP_ACCEPT_LANGUAGE="en").get(url).content.decode()
    assert '<html lang="en">' in en
    assert "Community office" in en and "社区办公地点与联系方式" not in en
    assert "Requests received" in en
