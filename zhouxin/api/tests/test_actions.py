"""Dispatch actions through the API: each calls its service; refusals come back structured."""

from __future__ import annotations

import pytest

from zhouxin.core.models import AuditEntry
from zhouxin.dispatch import services
from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.models import ServiceRequest

pytestmark = pytest.mark.django_db


def url(r, action):
    return f"/api/v1/requests/{r.number}/{action}/"


def status_of(r):
    return ServiceRequest.objects.unscoped().get(pk=r.pk).status


def test_the_whole_life_through_the_api(personas, token_client, new_request, dispatch_world):
    r = new_request()  # no category: waits for the street hub
    services.request_categorise(actor=personas.street_hub, request=r, category=dispatch_world.categories["040102"])
    hub, clerk = token_client("street_hub"), token_client("community_staff")
    lead = personas.orgs["community_a_committee"].pk

    response = hub.post(url(r, "dispatch"), {"lead": lead, "co_handlers": [dispatch_world.orgs["water"].pk]},
                        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "dispatched" and response.json()["lead_org"] == lead

    returned = clerk.post(url(r, "return"), {"reason": "不属于本社区管辖范围"}, format="json")
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assert hub.post(url(r, "dispatch"), {"lead": lead}, format="json").json()["status"] == "dispatched"

    assert clerk.post(url(r, "accept"), {}, format="json").json()["status"] == "accepted"
    assert clerk.post(url(r, "contact"), {"note": "已电话联系"}, format="json").json()["status"] == "contacted"
    replied = clerk.post(url(r, "reply"), {"reply": "已协调物业清理楼道。"}, format="json").json()
    assert replied["status"] == "replied" and replied["reply"] == "已协调物业清理楼道。"
    called = clerk.post(url(r, "callback"), {"resolution": "not_resolved", "satisfaction": "unsatisfied"},
                        format="json").json()
    assert called["status"] == "replied" and called["satisfaction"] == "unsatisfied"
    reopened = hub.post(url(r, "reopen"), {"reason": "诉求人反映仍未清理"}, format="json")
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"
    clerk.post(url(r, "reply"), {"reply": "已再次清理。"}, format="json")
    early = hub.post(url(r, "close"), {}, format="json")
    assert early.status_code == 409 and early.json()["errors"][0]["message"] == "请先完成回访，再办结。"
    unreachable = clerk.post(url(r, "callback"), {"resolution": "resolved", "satisfaction": "unreachable"},
                             format="json")
    assert unreachable.json()["status"] == "replied"
    closed = hub.post(url(r, "close"), {"note": "督办后办结"}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert AuditEntry.objects.filter(action__startswith="dispatch.request.").count() >= 9


def test_callback_resolved_and_satisfied_closes(personas, token_client, new_request, dispatch_world):
    r = new_request(category=dispatch_world.categories["040102"])
    clerk = token_client("community_staff")
    for action, data in [("accept", {}), ("contact", {}), ("reply", {"reply": "已清理。"})]:
        assert clerk.post(url(r, action), data, format="json").status_code == 200
    done = clerk.post(url(r, "callback"), {"resolution": "resolved", "satisfaction": "satisfied"}, format="json")
    assert done.json()["status"] == "closed"


def test_a_refused_transition_is_409_with_the_services_message(personas, token_client, new_request, dispatch_world):
    r = new_request(category=dispatch_world.categories["040102"])
    clerk = token_client("community_staff")
    clerk.post(url(r, "accept"), {}, format="json")
    again = clerk.post(url(r, "return"), {"reason": "不归我们管"}, format="json")
    assert again.status_code == 409
    assert again.json() == {"errors": [{"code": "conflict", "field": None, "message": "该工单已被签收，不能退单。"}]}
    early = clerk.post(url(r, "reply"), {"reply": "答复"}, format="json")
    assert early.status_code == 409
    assert early.json()["errors"][0]["message"] == "请先记录与诉求人的首次联系，再答复。"
    assert status_of(r) == Status.ACCEPTED


def test_bad_input_is_400_and_service_validation_is_422(personas, token_client, new_request, dispatch_world):
    r = new_request(category=dispatch_world.categories["040102"])
    clerk = token_client("community_staff")
    missing = clerk.post(url(r, "return"), {}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "reason"
    short = clerk.post(url(r, "return"), {"reason": "不"}, format="json")
    assert short.status_code == 422
    assert short.json()["errors"] == [{"code": "invalid", "field": "reason", "message": "退单理由至少写 2 个字。"}]
    bad_choice = clerk.post(url(r, "callback"), {"resolution": "maybe", "satisfaction": "satisfied"}, format="json")
    assert bad_choice.status_code == 400 and bad_choice.json()["errors"][0]["field"] == "resolution"
    wrong_lead = token_client("street_hub").post(url(new_request(), "dispatch"),
                                                 {"lead": personas.orgs["community_x_committee"].pk}, format="json")
    assert wrong_lead.status_code == 400
    assert wrong_lead.json()["errors"][0] == {"code": "invalid", "field": "lead",
                                              "message": "请从可派单的单位中选择主办单位。"}
    assert status_of(r) == Status.DISPATCHED


def test_who_may_not_act_gets_403(personas, token_client, new_request, dispatch_world):
    r = new_request(category=dispatch_world.categories["040102"])
    refused = token_client("district_admin").post(url(r, "accept"), {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == "您没有权限执行此操作。"
    not_theirs = token_client("street_hub").post(url(r, "accept"), {}, format="json")
    assert not_theirs.status_code == 403
    assert not_theirs.json()["errors"][0]["message"] == "该工单没有派给您所在的单位，您不能办理。"
    clerk_dispatch = token_client("community_staff").post(
        url(new_request(), "dispatch"), {"lead": personas.orgs["community_a_committee"].pk}, format="json")
    assert clerk_dispatch.status_code == 403
    assert status_of(r) == Status.DISPATCHED


def test_actions_on_an_unknown_number_are_404(personas, token_client):
    response = token_client("street_hub").post("/api/v1/requests/11010199999999999/accept/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "未找到该对象，或不在您的管辖范围内。"
