"""Editing and withdrawing the lists: needs, resources and claims (services.need_update,
resource_update, resource_deactivate, claim_withdraw) and their pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from zhouxin.cobuild import matching, services
from zhouxin.cobuild.choices import ClaimStatus, NeedCategory, NeedStatus
from zhouxin.cobuild.models import Need, Resource
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled

from .helpers import need, resource, unit_with_liaison

NEED_FIELDS = {"title": "为高龄老人提供午餐", "category": NeedCategory.ELDERLY_MEAL,
               "description": "每天中午送餐约40份。", "quantity": 40, "quantity_unit": "份"}


def _resource_fields(**extra):
    import datetime as dt

    return {"kind": "goods", "category": NeedCategory.ELDERLY_MEAL, "title": "职工食堂助老餐", "capacity": 40,
            "capacity_unit": "份", "available_from": dt.date(2026, 1, 1), "radius": "district", **extra}


def _body(response) -> str:
    return response.content.decode()


# --- Needs ---------------------------------------------------------------------------------

def test_an_open_need_is_edited_by_staff_of_its_area(personas):
    posted = need(personas)
    services.need_update(actor=personas.street_hub, need=posted, **NEED_FIELDS)
    posted.refresh_from_db()
    assert posted.title == "为高龄老人提供午餐" and posted.quantity == 40 and "午餐" in posted.terms.split()
    entry = AuditEntry.objects.get(action="cobuild.need.updated", object_id=str(posted.pk))
    assert entry.before["title"] == "为社区高龄独居老人提供午餐配送" and entry.after["title"] == "为高龄老人提供午餐"
    for actor in (personas.community_staff_b, personas.unit_liaison, personas.district_admin):
        with pytest.raises(PermissionDenied):
            services.need_update(actor=actor, need=posted, **{**NEED_FIELDS, "title": "越权修改"})
    with pytest.raises(ValidationError) as exc:
        services.need_update(actor=personas.community_staff, need=posted, **{**NEED_FIELDS, "title": ""})
    assert exc.value.message_dict == {"title": ["请填写需求名称。"]}
    posted.refresh_from_db()
    assert posted.title == "为高龄老人提供午餐"


def test_a_claimed_need_cannot_be_edited(personas):
    posted = need(personas)
    services.claim_create(actor=personas.unit_liaison, need=posted, resource=resource(personas))
    with pytest.raises(ValidationError, match="只有待认领的需求可以修改"):
        services.need_update(actor=personas.community_staff, need=posted, **NEED_FIELDS)
    posted.refresh_from_db()
    assert posted.title == "为社区高龄独居老人提供午餐配送"


def test_withdrawing_an_open_need_is_closing_it(personas):
    posted = need(personas)
    services.need_close(actor=personas.community_staff, need=posted, met=False, note="社区已自行解决")
    posted.refresh_from_db()
    assert posted.status == NeedStatus.CLOSED


def test_need_edit_page_reuses_the_form(personas, client_for):
    posted = need(personas)
    staff = client_for("community_staff")
    detail = _body(staff.get(reverse("cobuild:need_detail", args=[posted.pk])))
    assert reverse("cobuild:need_edit", args=[posted.pk]) in detail
    page = _body(staff.get(reverse("cobuild:need_edit", args=[posted.pk])))
    assert "修改需求" in page and "保存修改" in page and 'name="area"' not in page
    assert "为社区高龄独居老人提供午餐配送" in page
    response = staff.post(reverse("cobuild:need_edit", args=[posted.pk]), {"title": "", "category": "elderly_meal"})
    assert response.status_code == 422 and "请填写需求名称。" in _body(response)
    response = staff.post(reverse("cobuild:need_edit", args=[posted.pk]),
                          {"title": "午间助餐（修改）", "category": "elderly_meal", "quantity": "20"}, follow=True)
    assert "需求已修改。" in _body(response) and "午间助餐（修改）" in _body(response)
    posted.refresh_from_db()
    assert posted.area == personas.areas["community_a"] and posted.quantity == 20


# --- Resources -----------------------------------------------------------------------------

def test_a_resource_is_edited_by_its_liaison_but_not_below_what_is_committed(personas):
    offered = resource(personas, capacity=40)
    claim = services.claim_create(actor=personas.unit_liaison, need=need(personas), resource=offered, quantity=25)
    services.claim_confirm(actor=personas.community_staff, claim=claim)
    with pytest.raises(ValidationError) as exc:
        services.resource_update(actor=personas.unit_liaison, resource=offered, **_resource_fields(capacity=20))
    assert exc.value.message_dict == {"capacity": ["可提供数量不能少于已承诺的 25 份。"]}
    offered.refresh_from_db()
    assert offered.capacity == 40
    services.resource_update(actor=personas.unit_liaison, resource=offered,
                             **_resource_fields(capacity=25, title="食堂午餐"))
    offered.refresh_from_db()
    assert (offered.capacity, offered.committed, offered.available, offered.title) == (25, 25, 0, "食堂午餐")
    assert AuditEntry.objects.filter(action="cobuild.resource.updated", object_id=str(offered.pk)).exists()
    _other_unit, other_liaison = unit_with_liaison(personas, "东城区图书馆", "community_a", "liaison_lib")
    for actor in (other_liaison, personas.community_staff):
        with pytest.raises(PermissionDenied):
            services.resource_update(actor=actor, resource=offered, **_resource_fields(capacity=99))


def test_deactivating_a_resource(personas):
    offered = resource(personas)
    posted = need(personas)
    pending = services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered, quantity=5)
    with pytest.raises(ValidationError, match="还有待确认的认领"):
        services.resource_deactivate(actor=personas.unit_liaison, resource=offered)
    with pytest.raises(PermissionDenied):
        services.resource_deactivate(actor=personas.community_staff, resource=offered)
    services.claim_withdraw(actor=personas.unit_liaison, claim=pending)
    services.resource_deactivate(actor=personas.unit_liaison, resource=offered, note="食堂装修")
    offered.refresh_from_db()
    assert not offered.is_active
    posted.refresh_from_db()
    assert posted.status == NeedStatus.OPEN
    assert not [m for m in matching.resources_for_need(posted) if m.obj.pk == offered.pk]
    with pytest.raises(ValidationError, match="该资源已停用"):
        services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered)
    with pytest.raises(ValidationError, match="已经停用"):
        services.resource_deactivate(actor=personas.unit_liaison, resource=offered)


def test_resource_pages(personas, client_for):
    offered = resource(personas, capacity=40)
    liaison = client_for("unit_liaison")
    detail = _body(liaison.get(reverse("cobuild:resource_detail", args=[offered.pk])))
    assert reverse("cobuild:resource_edit", args=[offered.pk]) in detail and "停用资源" in detail
    assert reverse("cobuild:resource_edit", args=[offered.pk]) not in _body(
        client_for("community_staff").get(reverse("cobuild:resource_detail", args=[offered.pk])))
    page = _body(liaison.get(reverse("cobuild:resource_edit", args=[offered.pk])))
    assert "修改资源" in page and 'name="owner"' not in page and "单位职工食堂助老餐" in page
    data = {"title": "食堂午餐", "kind": "goods", "category": "elderly_meal", "capacity": "0", "capacity_unit": "份",
            "available_from": "2026-01-01", "radius": "district"}
    response = liaison.post(reverse("cobuild:resource_edit", args=[offered.pk]), data)
    assert response.status_code == 422 and "可提供数量必须大于 0。" in _body(response)
    response = liaison.post(reverse("cobuild:resource_edit", args=[offered.pk]), {**data, "capacity": "60"},
                            follow=True)
    assert "资源已修改。" in _body(response) and "余 60 / 共 60 份" in _body(response)
    response = liaison.post(reverse("cobuild:resource_deactivate", args=[offered.pk]), follow=True)
    assert "资源已停用" in _body(response) and "已停用" in _body(response)
    with scopes_disabled():
        assert not Resource.objects.get(pk=offered.pk).is_active


# --- Claims --------------------------------------------------------------------------------

def test_only_the_side_that_made_a_claim_withdraws_it(personas):
    posted = need(personas)
    offered = resource(personas)
    offer = services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered)
    for actor in (personas.community_staff, personas.street_hub, personas.outsider):
        with pytest.raises(PermissionDenied):
            services.claim_withdraw(actor=actor, claim=offer)
    services.claim_withdraw(actor=personas.unit_liaison, claim=offer, note="人手不足")
    offer.refresh_from_db()
    posted.refresh_from_db()
    assert offer.status == ClaimStatus.WITHDRAWN and posted.status == NeedStatus.OPEN
    with pytest.raises(ValidationError, match="只有待确认的认领可以撤回"):
        services.claim_withdraw(actor=personas.unit_liaison, claim=offer)
    request = services.claim_create(actor=personas.community_staff, need=posted, resource=offered, quantity=5)
    with pytest.raises(PermissionDenied):
        services.claim_withdraw(actor=personas.unit_liaison, claim=request)
    services.claim_confirm(actor=personas.unit_liaison, claim=request)
    with pytest.raises(ValidationError, match="只有待确认的认领可以撤回"):
        services.claim_withdraw(actor=personas.community_staff, claim=request)
    posted.refresh_from_db()
    assert posted.status == NeedStatus.CONFIRMED


def test_withdraw_button_on_the_need_page(personas, client_for):
    posted = need(personas)
    offered = resource(personas)
    claim = services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered)
    url = reverse("cobuild:claim_withdraw", args=[claim.pk])
    assert url not in _body(client_for("community_staff").get(reverse("cobuild:need_detail", args=[posted.pk])))
    liaison = client_for("unit_liaison")
    assert url in _body(liaison.get(reverse("cobuild:need_detail", args=[posted.pk])))
    response = liaison.post(url, {"note": "另有安排"}, follow=True)
    assert "认领已撤回，需求重新开放认领。" in _body(response)
    with scopes_disabled():
        assert Need.objects.get(pk=posted.pk).status == NeedStatus.OPEN


def test_another_units_liaison_does_not_find_the_resource(personas, client_for):
    from django.test import Client

    offered = resource(personas)
    _unit, other = unit_with_liaison(personas, "东城区图书馆", "community_a", "liaison_lib")
    client = Client()
    client.force_login(other)
    assert client.get(reverse("cobuild:resource_edit", args=[offered.pk])).status_code == 404
    assert client.post(reverse("cobuild:resource_deactivate", args=[offered.pk])).status_code == 404
    offered.refresh_from_db()
    assert offered.is_active


def test_a_claimed_need_has_no_edit_page(personas, client_for):
    posted = need(personas)
    services.claim_create(actor=personas.unit_liaison, need=posted, resource=resource(personas))
    staff = client_for("community_staff")
    assert reverse("cobuild:need_edit", args=[posted.pk]) not in _body(
        staff.get(reverse("cobuild:need_detail", args=[posted.pk])))
    response = staff.get(reverse("cobuild:need_edit", args=[posted.pk]), follow=True)
    assert "只有待认领的需求可以修改" in _body(response)
