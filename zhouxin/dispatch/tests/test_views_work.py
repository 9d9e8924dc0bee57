"""The staff work pages as clerks meet them: intake, receipt, queues, the request detail with its
actions (dispatch screen, accept, return, extension, contact, reply, callback, reopen, merge,
invalidate), bulk actions, attachments and the logged reveal of a contact phone."""

from __future__ import annotations

import datetime as dt
import re
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.dispatch import classify, services
from zhouxin.dispatch.choices import AssignmentStatus, EventAction, ExtensionStatus, Status
from zhouxin.dispatch.models import Assignment, Attachment, Extension, RequestEvent, ServiceRequest

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def text(response) -> str:
    return response.content.decode()


def png(width=64, height=48) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00\x00\x00\x00" + b"\x00" * 64


def make(personas, actor="street_hub", area="community_a", category=None, **kwargs) -> ServiceRequest:
    values = {"kind": "complaint", "channel": "hotline", "title": "楼道堆放杂物",
              "description": "3号楼2单元楼道长期堆放纸箱杂物，影响通行。", "contact_name": "吴女士",
              "contact_phone": "13812345678"}
    values.update(kwargs)
    return services.request_intake(actor=personas.users[actor], area=personas.areas[area], category=category,
                                   **values)


def intake_data(personas, **overrides):
    data = {"idempotency_key": KEY, "channel": "hotline", "kind": "complaint",
            "area": personas.areas["community_a"].code, "title": "夜间施工噪音扰民",
            "description": "小区东侧工地每天夜里十一点以后还在施工，噪音很大，影响休息。",
            "category": "", "urgency": "normal", "address": "多福巷 8 号", "contact_name": "王先生",
            "contact_phone": "13912345678"}
    data.update(overrides)
    return data


def act(client, sr, action, data=None, **extra):
    return client.post(reverse("dispatch:request_action", args=[sr.number, action]), data or {}, **extra)


def fresh(sr) -> ServiceRequest:
    return ServiceRequest.objects.unscoped().get(pk=sr.pk)


# --- intake ------------------------------------------------------------------------------

def test_intake_form_offers_staff_channels_and_only_areas_in_scope(personas, dispatch_world, client_for):
    page = text(client_for("community_staff").get(reverse("dispatch:intake")))
    assert "12345 热线" in page and "来访" in page and "网格巡查" in page
    assert "居民网站" not in page  # the portal is a channel of its own, not a clerk's choice
    assert "多福巷社区" in page and "多福巷社区第一网格" in page
    assert "吉祥社区" not in page and "银闸社区" not in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)
    other = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"',
                      text(client_for("community_staff").get(reverse("dispatch:intake")))).group(1)
    assert key != other  # a new key for every blank form
    assert "楼道卫生" in page and "物业管理 › 物业服务" in page  # the category picker, grouped


def test_intake_records_and_shows_a_receipt_with_the_number_and_a_masked_phone(personas, dispatch_world,
                                                                               client_for):
    client = client_for("street_hub")
    response = client.post(reverse("dispatch:intake"), intake_data(personas))
    sr = ServiceRequest.objects.unscoped().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:request_receipt", args=[sr.number])
    receipt = text(client.get(response["Location"]))
    assert sr.number in receipt and "登记成功" in receipt
    assert "139****5678" in receipt and "13912345678" not in receipt
    assert sr.received_by == personas.street_hub and sr.channel == "hotline"
    assert sr.contact_phone == "13912345678"  # stored in full (encrypted), shown masked


def test_a_double_submit_creates_one_request(personas, dispatch_world, client_for):
    client = client_for("community_staff")
    first = client.post(reverse("dispatch:intake"), intake_data(personas))
    second = client.post(reverse("dispatch:intake"), intake_data(personas))
    assert ServiceRequest.objects.unscoped().count() == 1
    assert first["Location"] == second["Location"]


def test_intake_with_a_category_that_has_a_rule_is_dispatched_at_once(personas, dispatch_world, client_for):
    category = dispatch_world.categories["040102"]
    client = client_for("community_staff")
    client.post(reverse("dispatch:intake"), intake_data(personas, category=category.pk, title="楼道垃圾"))
    sr = ServiceRequest.objects.unscoped().get()
    assert sr.status == Status.DISPATCHED and sr.lead_org == dispatch_world.orgs["community_a"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"title": ""}, "请填写标题。"),
    ({"description": "太吵"}, "诉求内容太短"),
    ({"channel": "portal"}, "请选择来源渠道。"),
    ({"area": "110101002001"}, "请选择您管辖范围内的社区或网格。"),  # 吉祥社区: another street
    ({"contact_phone": "12345"}, "联系电话应为 11 位手机号或带区号的固定电话"),
    ({"idempotency_key": "not-a-key"}, "表单已失效"),
    ({"category": "999999"}, "请从目录中选择一个具体的（第三级）类别。"),
])
def test_bad_intake_input_is_explained_and_nothing_is_created(personas, dispatch_world, client_for, overrides,
                                                             message):
    response = client_for("community_staff").post(reverse("dispatch:intake"), intake_data(personas, **overrides))
    assert response.status_code == 422
    assert message in text(response)
    assert not ServiceRequest.objects.unscoped().exists()


def test_a_non_leaf_category_is_refused(personas, dispatch_world, client_for):
    top = dispatch_world.categories["04"]
    response = client_for("community_staff").post(reverse("dispatch:intake"),
                                                  intake_data(personas, category=top.pk))
    assert response.status_code == 422 and "第三级" in text(response)
    assert not ServiceRequest.objects.unscoped().exists()


def test_intake_stores_images_and_serves_them_only_inside_the_scope(personas, dispatch_world, client_for):
    client = client_for("community_staff")
    images = [SimpleUploadedFile("现场1.png", png(), content_type="image/png"),
              SimpleUploadedFile("现场2.png", png(32, 32), content_type="image/png")]
    response = client.post(reverse("dispatch:intake"), {**intake_data(personas), "images": images})
    assert response.status_code == 302
    sr = ServiceRequest.objects.unscoped().get()
    attachment = Attachment.objects.filter(request=sr).order_by("pk").first()
    assert Attachment.objects.filter(request=sr).count() == 2
    url = reverse("dispatch:attachment", args=[sr.number, attachment.pk])
    assert url in text(client.get(reverse("dispatch:request_detail", args=[sr.number])))
    served = client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff" and "private" in served["Cache-Control"]
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    assert client_for("community_staff_b").get(url).status_code == 404
    assert client_for("outsider").get(url).status_code == 404
    # An attachment id under another request's number is not found either.
    other = make(personas, area="community_a2")
    assert client.get(reverse("dispatch:attachment", args=[other.number, attachment.pk])).status_code == 404


def test_more_than_nine_images_are_refused(personas, dispatch_world, client_for):
    images = [SimpleUploadedFile(f"p{i}.png", png(), content_type="image/png") for i in range(10)]
    response = client_for("community_staff").post(reverse("dispatch:intake"),
                                                  {**intake_data(personas), "images": images})
    assert response.status_code == 422 and "最多上传 9 张图片" in text(response)
    assert not ServiceRequest.objects.unscoped().exists()


def test_a_renamed_file_is_refused_by_content(personas, dispatch_world, client_for):
    fake = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    response = client_for("community_staff").post(reverse("dispatch:intake"),
                                                  {**intake_data(personas), "images": [fake]})
    assert response.status_code == 422 and "不是 JPEG、PNG 或 WebP 图片" in text(response)
    assert not ServiceRequest.objects.unscoped().exists()


def test_suggestions_follow_the_text_as_the_clerk_types(personas, dispatch_world, client_for):
    classify.invalidate_catalogue()  # the catalogue is cached per process; this test's one is new
    client = client_for("community_staff")
    response = client.post(reverse("dispatch:intake_suggest"),
                           {"title": "电梯困人", "description": "电梯突然停运，有老人被困在里面"}, **HTMX)
    page = text(response)
    assert response.status_code == 200 and "电梯故障" in page
    leaf = dispatch_world.categories["040101"]
    assert f'data-zx-pick-category="{leaf.pk}"' in page
    assert text(client.post(reverse("dispatch:intake_suggest"), {"title": "", "description": ""}, **HTMX)).strip() == ""


def test_category_search_by_name_keyword_and_parent(personas, dispatch_world, client_for):
    client = client_for("street_hub")
    assert "楼道卫生" in text(client.get(reverse("dispatch:category_search"), {"category_q": "楼道"}))
    by_keyword = text(client.get(reverse("dispatch:category_search"), {"category_q": "违建"}))
    assert "私搭乱建" in by_keyword and "城乡建设 › 违法建设" in by_keyword
    assert "没有找到" in text(client.get(reverse("dispatch:category_search"), {"category_q": "火星"}))


def test_roles_that_do_not_take_requests_cannot_open_intake(personas, dispatch_world, client_for):
    assert client_for("department_handler").get(reverse("dispatch:intake")).status_code == 403
    assert client_for("resident").get(reverse("dispatch:intake")).status_code == 403


# --- queues --------------------------------------------------------------------------------

def test_street_hub_sees_requests_to_dispatch_with_sla_badges(personas, dispatch_world, client_for):
    waiting = make(personas, title="路灯不亮")
    routed = make(personas, title="电梯困人", category=dispatch_world.categories["040101"])
    other_street = make(personas, actor="community_staff_b", area="community_b", title="吉祥社区的诉求")
    page = text(client_for("street_hub").get(reverse("dispatch:queue")))
    assert "待派单" in page and 'aria-current="page">待派单' in page
    assert waiting.number in page and "路灯不亮" in page
    assert routed.number not in page  # routed at intake: nothing to dispatch
    assert other_street.number not in page
    assert re.search(r'data-zx-light="green"', page) and "正常" in page


def test_the_queue_never_shows_another_streets_requests(personas, dispatch_world, client_for):
    theirs = make(personas, actor="community_staff_b", area="community_b", title="吉祥社区的诉求")
    for tab in ("mine", "due_soon", "overdue", "returned", "callback", "supervised", "all"):
        page = text(client_for("community_staff").get(reverse("dispatch:queue"), {"tab": tab}))
        assert theirs.number not in page and "吉祥社区的诉求" not in page


def test_mine_lists_what_my_organisation_handles_and_what_i_received(personas, dispatch_world, client_for):
    assigned = make(personas, title="楼道垃圾", category=dispatch_world.categories["040102"])  # → 多福巷
    received = make(personas, actor="community_staff", title="我登记的诉求")
    elsewhere = make(personas, area="community_a2", title="银闸社区诉求")
    page = text(client_for("community_staff").get(reverse("dispatch:queue"), {"tab": "mine"}))
    assert assigned.number in page and received.number in page
    assert elsewhere.number not in page


def test_department_sees_only_requests_assigned_to_it(personas, dispatch_world, client_for):
    noise = make(personas, title="夜间施工", category=dispatch_world.categories["080101"])  # → 城管执法
    water = make(personas, title="停水了", category=dispatch_world.categories["120101"])  # → 水务局
    plain = make(personas, title="未派单的诉求")
    client = client_for("department_handler")
    page = text(client.get(reverse("dispatch:queue"), {"tab": "all"}))
    assert noise.number in page
    assert water.number not in page and plain.number not in page
    assert client.get(reverse("dispatch:request_detail", args=[water.number])).status_code == 404
    assert client.get(reverse("dispatch:request_detail", args=[noise.number])).status_code == 200


def test_due_soon_and_overdue_tabs_follow_the_clock(personas, dispatch_world, client_for):
    now = timezone.now()
    yellow = make(personas, title="快到期的诉求")
    red = make(personas, title="已超时的诉求")
    green = make(personas, title="时间充裕的诉求")
    ServiceRequest.objects.unscoped().filter(pk=yellow.pk).update(
        received_at=now - dt.timedelta(days=9), warn_due_at=now - dt.timedelta(hours=1),
        contact_due_at=now - dt.timedelta(days=8), contacted_at=now - dt.timedelta(days=8),
        resolve_due_at=now + dt.timedelta(days=1))
    ServiceRequest.objects.unscoped().filter(pk=red.pk).update(
        received_at=now - dt.timedelta(days=20), warn_due_at=now - dt.timedelta(days=5),
        resolve_due_at=now - dt.timedelta(hours=2))
    client = client_for("street_hub")
    due_soon = text(client.get(reverse("dispatch:queue"), {"tab": "due_soon"}))
    overdue = text(client.get(reverse("dispatch:queue"), {"tab": "overdue"}))
    assert yellow.number in due_soon and red.number not in due_soon and green.number not in due_soon
    assert red.number in overdue and yellow.number not in overdue and green.number not in overdue
    assert 'data-zx-light="yellow"' in due_soon and "预警" in due_soon
    assert 'data-zx-light="red"' in overdue and "超时" in overdue
    # The tab counts say so too.
    assert re.search(r'data-zx-tab="overdue"[^>]*>已超时 <span class="zx-tabs__count zx-tabs__count--alert">1<',
                     overdue)


def test_filters_narrow_the_queue(personas, dispatch_world, client_for):
    complaint = make(personas, title="噪音投诉", kind="complaint")
    consult = make(personas, title="政策咨询", kind="consult", channel="walk_in")
    in_a2 = make(personas, title="银闸社区的路灯", area="community_a2")
    client = client_for("street_hub")
    url = reverse("dispatch:queue")
    by_kind = text(client.get(url, {"tab": "all", "kind": "consult"}))
    assert consult.number in by_kind and complaint.number not in by_kind
    by_channel = text(client.get(url, {"tab": "all", "channel": "walk_in"}))
    assert consult.number in by_channel and complaint.number not in by_channel
    by_text = text(client.get(url, {"tab": "all", "q": "噪音"}))
    assert complaint.number in by_text and consult.number not in by_text
    by_number = text(client.get(url, {"tab": "all", "q": consult.number}))
    assert consult.number in by_number and complaint.number not in by_number
    by_area = text(client.get(url, {"tab": "all", "area": personas.areas["community_a2"].code}))
    assert in_a2.number in by_area and complaint.number not in by_area
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert complaint.number not in text(client.get(url, {"tab": "all", "date_from": tomorrow}))
    assert complaint.number in text(client.get(url, {"tab": "all", "date_to": timezone.localdate().isoformat()}))
    bad = text(client.get(url, {"tab": "all", "date_from": "2026-13-45"}))
    assert "部分筛选条件无效" in bad and complaint.number in bad


def test_a_queue_row_shows_its_link_status_clock_place_and_time(personas, dispatch_world, client_for, settings):
    """What a row says, exactly: it is made in Python once per page (work._queue_rows), not by the template."""
    sr = make(personas, title="楼道<杂物>", kind="complaint", channel="walk_in",
              category=dispatch_world.categories["040102"])
    sr.refresh_from_db()
    page = text(client_for("street_hub").get(reverse("dispatch:queue"), {"tab": "all"}))
    row = re.search(rf'<tr data-zx-request="{sr.number}">(.*?)</tr>', page, re.S).group(1)
    detail = reverse("dispatch:request_detail", args=[sr.number])
    assert f'<a class="zx-queue__title" href="{detail}">楼道&lt;杂物&gt;</a>' in row
    assert f'aria-label="选择工单 {sr.number}"' in row
    assert f'<span class="zx-status zx-status--{sr.status}">{sr.get_status_display()}</span>' in row
    assert '<span class="zx-light zx-light--green">正常</span>' in row
    due = timezone.localtime(sr.contact_due_at).strftime("%m-%d %H:%M")  # nobody called yet: the contact clock
    assert f'<span class="zx-light__due">{due}</span>' in row
    received = timezone.localtime(sr.received_at).strftime("%Y-%m-%d %H:%M")
    assert f'{received} <span class="zx-muted">来访</span>' in row
    assert sr.area.name in row and sr.category.name in row and sr.lead_org.name in row
    # The filters' options: the chosen area and category selected, each once.
    code = personas.areas["community_a"].code
    filtered = text(client_for("street_hub").get(reverse("dispatch:queue"),
                                                 {"tab": "all", "area": code, "category": "040102"}))
    areas = re.search(r'<select class="form-select" id="zx-f-area".*?</select>', filtered, re.S).group(0)
    categories = re.search(r'<select class="form-select" id="zx-f-category".*?</select>', filtered, re.S).group(0)
    assert areas.count(" selected>") == 1 and f'<option value="{code}" selected>' in areas
    assert categories.count(" selected>") == 1 and '<option value="040102" selected>' in categories
    assert re.search(r'<optgroup label="[^"]+ › [^"]+"><option value="04', filtered)


def test_an_area_filter_outside_the_scope_is_not_found(personas, dispatch_world, client_for):
    response = client_for("community_staff").get(reverse("dispatch:queue"),
                                                 {"area": personas.areas["community_b"].code})
    assert response.status_code == 404


def _queue_queries(client, per_page) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dispatch:queue"), {"tab": "all", "per_page": per_page})
    assert response.status_code == 200
    return len(queries)


def test_queue_query_count_does_not_grow_with_the_page(personas, dispatch_world, client_for):
    categories = [dispatch_world.categories[c] for c in ("040102", "080101", "120101", "060101")]
    for i in range(12):
        make(personas, title=f"诉求{i}", category=categories[i % 4],
             area="community_a" if i % 2 else "community_a2")
    client = client_for("street_hub")
    small = _queue_queries(client, 10)
    for i in range(30):
        make(personas, title=f"更多诉求{i}", category=categories[i % 4])
    large = _queue_queries(client, 50)
    page = text(client.get(reverse("dispatch:queue"), {"tab": "all", "per_page": 50}))
    assert page.count("data-zx-request=") == 42
    assert small == large


def test_htmx_tab_switch_returns_only_the_queue(personas, dispatch_world, client_for):
    make(personas)
    response = client_for("street_hub").get(reverse("dispatch:queue"), {"tab": "all"},
                                            HTTP_HX_REQUEST="true", HTTP_HX_TARGET="zx-queue")
    page = text(response)
    assert "<html" not in page and 'class="zx-tabs"' in page


# --- detail --------------------------------------------------------------------------------

def test_detail_shows_header_clocks_facts_masked_phone_and_timeline(personas, dispatch_world, client_for):
    sr = make(personas, title="楼道垃圾", category=dispatch_world.categories["040102"])
    page = text(client_for("street_hub").get(reverse("dispatch:request_detail", args=[sr.number])))
    assert sr.number in page and "楼道垃圾" in page and "已派单" in page
    assert 'data-zx-clock="contact"' in page and 'data-zx-clock="resolve"' in page
    assert "物业管理 › 物业服务 › 楼道卫生" in page and "12345 热线" in page
    assert "东华门街道 › 多福巷社区" in page
    assert "138****5678" in page and "13812345678" not in page
    assert 'data-zx-event="received"' in page and 'data-zx-event="dispatched"' in page
    assert "中共多福巷社区委员会" in page  # the lead handler


def test_a_provisional_deadline_is_marked(personas, dispatch_world, client_for):
    sr = make(personas)
    ServiceRequest.objects.unscoped().filter(pk=sr.pk).update(deadline_provisional=True)
    page = text(client_for("street_hub").get(reverse("dispatch:request_detail", args=[sr.number])))
    assert "暂定" in page


def test_another_communitys_request_is_not_found(personas, dispatch_world, client_for):
    sr = make(personas)
    for persona in ("community_staff_b", "outsider", "department_handler"):
        response = client_for(persona).get(reverse("dispatch:request_detail", args=[sr.number]))
        assert response.status_code == 404, persona
    assert client_for("anonymous" if False else "community_staff").get(
        reverse("dispatch:request_detail", args=["11010199999999999"])).status_code == 404


def test_actions_offered_follow_status_and_role(personas, dispatch_world, client_for):
    sr = make(personas, title="楼道垃圾", category=dispatch_world.categories["040102"])  # dispatched to 多福巷
    url = reverse("dispatch:request_detail", args=[sr.number])
    community = text(client_for("community_staff").get(url))
    hub = text(client_for("street_hub").get(url))
    assert 'data-zx-action="accept"' in community and 'data-zx-action="return"' in community
    assert 'data-zx-action="reply"' not in community and 'data-zx-action="dispatch"' not in community
    assert 'data-zx-action="accept"' not in hub  # the street's organisation was not assigned
    assert 'data-zx-action="invalidate"' in hub and 'data-zx-action="callback"' not in hub


# --- the whole life through the pages ---------------------------------------------------------

def test_dispatch_accept_contact_reply_callback_reopen_through_the_pages(personas, dispatch_world, client_for):
    hub, community = client_for("street_hub"), client_for("community_staff")
    sr = make(personas, title="楼道堆放杂物")
    detail = reverse("dispatch:request_detail", args=[sr.number])

    # No category yet: the dispatcher confirms one first; the dispatch screen then suggests the routed org.
    page = text(hub.get(detail))
    assert 'data-zx-action="categorise"' in page and 'data-zx-action="dispatch"' not in page
    leaf = dispatch_world.categories["040102"]
    response = act(hub, sr, "categorise", {"category": leaf.pk}, **HTMX)
    assert response.status_code == 200 and "类别已确认为“楼道卫生”" in text(response)
    page = text(hub.get(detail))
    assert 'data-zx-action="dispatch"' in page and "按派单规则建议由 <strong>中共多福巷社区委员会</strong> 主办" in page

    lead = dispatch_world.orgs["community_a"]
    response = act(hub, sr, "dispatch", {"lead": lead.pk, "co_handlers": [dispatch_world.orgs["department"].pk]},
                   **HTMX)
    panel = text(response)
    assert response.status_code == 200 and "<html" not in panel and 'id="zx-request-panel"' in panel
    assert "已派单给中共多福巷社区委员会" in panel
    assert fresh(sr).status == Status.DISPATCHED
    assert Assignment.objects.filter(request=sr, role="co", organisation=dispatch_world.orgs["department"]).exists()

    # Reply before contact is refused with the service's message; nothing changes.
    assert act(community, sr, "accept").status_code == 302
    assert fresh(sr).status == Status.ACCEPTED
    refused = act(community, sr, "reply", {"reply": "已清理"}, **HTMX)
    assert refused.status_code == 422 and "工单没有变化" in text(refused)
    assert fresh(sr).status == Status.ACCEPTED
    assert act(community, sr, "contact", {"note": "电话联系了吴女士"}).status_code == 302
    assert act(community, sr, "reply", {"reply": "已组织物业清理楼道杂物。"}).status_code == 302
    assert fresh(sr).status == Status.REPLIED

    # The callback: not resolved, unsatisfied → stays open for the supervisor, who reopens it.
    page = text(hub.get(detail))
    assert 'data-zx-action="callback"' in page
    response = act(hub, sr, "callback", {"resolution": "not_resolved", "satisfaction": "unsatisfied",
                                         "note": "杂物仍在"}, **HTMX)
    assert "回访结果已记录" in text(response)
    assert 'data-zx-action="reopen"' in text(response) and 'data-zx-action="close"' in text(response)
    response = act(hub, sr, "reopen", {"reason": "回访不满意，杂物未清理"}, **HTMX)
    assert "工单已重新办理，列入督办" in text(response)
    reopened = fresh(sr)
    assert reopened.status == Status.REOPENED and reopened.supervised and reopened.reopen_count == 1
    supervised = text(hub.get(reverse("dispatch:queue"), {"tab": "supervised"}))
    assert sr.number in supervised
    actions = list(RequestEvent.objects.filter(request=sr).order_by("at", "id").values_list("action", flat=True))
    assert actions == [EventAction.RECEIVED, EventAction.CATEGORISED, EventAction.DISPATCHED, EventAction.ACCEPTED,
                       EventAction.CONTACTED, EventAction.REPLIED, EventAction.CALLBACK, EventAction.REOPENED]


def test_a_satisfied_callback_closes_the_request(personas, dispatch_world, client_for):
    sr = make(personas, category=dispatch_world.categories["040102"])
    community = client_for("community_staff")
    act(community, sr, "accept")
    act(community, sr, "contact")
    act(community, sr, "reply", {"reply": "已清理完毕"})
    act(client_for("street_hub"), sr, "callback", {"resolution": "resolved", "satisfaction": "satisfied"})
    assert fresh(sr).status == Status.CLOSED


def test_return_needs_a_reason_and_goes_back_to_the_street(personas, dispatch_world, client_for):
    sr = make(personas, category=dispatch_world.categories["080101"])  # → 城管执法
    dept = client_for("department_handler")
    response = act(dept, sr, "return", {"reason": ""}, **HTMX)
    assert response.status_code == 422 and "请填写退单理由。" in text(response)
    assert fresh(sr).status == Status.DISPATCHED
    response = act(dept, sr, "return", {"reason": "噪声源为居民装修，不属于城管职责"})
    assert response.status_code == 302
    assert fresh(sr).status == Status.RETURNED
    # The department still reads what it returned (its history), with nothing left to do.
    page = text(dept.get(response["Location"]))
    assert "已退单" in page and "噪声源为居民装修" in page and 'data-zx-action=' not in page
    hub = text(client_for("street_hub").get(reverse("dispatch:queue"), {"tab": "returned"}))
    assert sr.number in hub


def test_merging_away_a_request_tells_the_clerk_where_it_went(personas, dispatch_world, client_for):
    master = make(personas, title="路灯不亮")
    dup = make(personas, title="路灯不亮了")
    response = act(client_for("street_hub"), dup, "merge", {"master": master.number}, **HTMX)
    page = text(response)
    assert response.status_code == 200 and f"已并入工单 {master.number}" in page
    assert 'data-zx-status="merged"' in page and f'href="/dispatch/requests/{master.number}/"' in page


def test_two_clerks_accepting_at_once_one_gets_the_message(personas, dispatch_world, client_for):
    sr = make(personas, category=dispatch_world.categories["040102"])
    first, second = client_for("community_staff"), client_for("community_staff")
    page = text(second.get(reverse("dispatch:request_detail", args=[sr.number])))
    assert 'data-zx-action="accept"' in page
    assert act(first, sr, "accept").status_code == 302
    late = act(second, sr, "accept", **HTMX)
    assert late.status_code == 422 and "该工单已被签收，不能重复签收。" in text(late)


def test_extension_request_and_approval(personas, dispatch_world, client_for):
    sr = make(personas, category=dispatch_world.categories["060101"])  # 私搭乱建 → 城管执法
    dept, hub = client_for("department_handler"), client_for("street_hub")
    act(dept, sr, "accept")
    bad = act(dept, sr, "extension", {"working_days": "0", "reason": "需要协调"}, **HTMX)
    assert bad.status_code == 422 and "至少延长 1 个工作日" in text(bad)
    before = fresh(sr).resolve_due_at
    assert act(dept, sr, "extension", {"working_days": "5", "reason": "需要协调规划部门联合认定"}).status_code == 302
    extension = Extension.objects.get(request=sr)
    page = text(hub.get(reverse("dispatch:request_detail", args=[sr.number])))
    assert 'data-zx-action="extension_decide"' in page and "申请延长 5 个工作日" in page
    response = act(hub, sr, "extension_decide", {"extension": extension.pk, "decision": "approve"}, **HTMX)
    assert "已批准延期" in text(response)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED and fresh(sr).resolve_due_at > before


def test_refusing_an_extension_needs_a_reason(personas, dispatch_world, client_for):
    sr = make(personas, category=dispatch_world.categories["060101"])
    dept, hub = client_for("department_handler"), client_for("street_hub")
    act(dept, sr, "accept")
    act(dept, sr, "extension", {"working_days": "3", "reason": "等待鉴定结果"})
    extension = Extension.objects.get(request=sr)
    response = act(hub, sr, "extension_decide", {"extension": extension.pk, "decision": "refuse"}, **HTMX)
    assert response.status_code == 422 and "驳回延期申请时请写明理由" in text(response)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING


def test_merge_from_the_dispatch_screen(personas, dispatch_world, client_for):
    leaf = dispatch_world.categories["040102"]
    master = make(personas, title="3号楼楼道堆放杂物", description="3号楼2单元楼道堆放大量纸箱杂物，无法通行。")
    ServiceRequest.objects.unscoped().filter(pk=master.pk).update(category=leaf)
    dup = make(personas, title="3号楼楼道堆放杂物", description="3号楼2单元楼道堆放大量纸箱杂物，影响通行。")
    ServiceRequest.objects.unscoped().filter(pk=dup.pk).update(category=leaf)
    hub = client_for("street_hub")
    page = text(hub.get(reverse("dispatch:request_detail", args=[dup.number])))
    assert "疑似重复诉求" in page and master.number in page
    response = act(hub, dup, "merge", {"master": master.number}, **HTMX)
    assert f"已并入工单 {master.number}" in text(response)
    merged = fresh(dup)
    assert merged.status == Status.MERGED and merged.master_id == master.pk


def test_invalidate_needs_a_reason(personas, dispatch_world, client_for):
    sr = make(personas, title="广告推销")
    hub = client_for("street_hub")
    assert act(hub, sr, "invalidate", {"reason": ""}, **HTMX).status_code == 422
    assert fresh(sr).status == Status.RECEIVED
    act(hub, sr, "invalidate", {"reason": "推销广告，与诉求无关"})
    assert fresh(sr).status == Status.INVALID


def test_an_unknown_action_is_not_found(personas, dispatch_world, client_for):
    sr = make(personas)
    assert act(client_for("street_hub"), sr, "delete").status_code == 404


def test_a_community_cannot_act_on_a_request_assigned_to_a_department(personas, dispatch_world, client_for):
    sr = make(personas, category=dispatch_world.categories["080101"])  # → 城管执法, in 多福巷社区
    response = act(client_for("community_staff"), sr, "accept")
    assert response.status_code == 403
    assert fresh(sr).status == Status.DISPATCHED


# --- reveal ------------------------------------------------------------------------------------

def test_reveal_needs_a_reason_and_is_logged(personas, dispatch_world, client_for):
    sr = make(personas)
    client = client_for("street_hub")
    url = reverse("dispatch:request_reveal", args=[sr.number])
    refused = client.post(url, {"reason": ""}, **HTMX)
    assert refused.status_code == 422 and "请填写查看原因" in text(refused)
    assert "13812345678" not in text(refused)
    shown = client.post(url, {"reason": "电话联系诉求人"}, **HTMX)
    assert shown.status_code == 200 and "13812345678" in text(shown)
    entry = AuditEntry.objects.filter(action="dispatch.request.contact_revealed").get()
    assert entry.actor == personas.street_hub and "电话联系诉求人" in str(entry.after)
    assert "13812345678" not in str(entry.after)


def test_reveal_without_htmx_shows_the_detail_page_with_the_number(personas, dispatch_world, client_for):
    sr = make(personas)
    page = text(client_for("community_staff").post(reverse("dispatch:request_reveal", args=[sr.number]),
                                                   {"reason": "回访核实"}))
    assert "13812345678" in page and "<html" in page


def test_reveal_outside_the_scope_is_not_found_and_leaks_nothing(personas, dispatch_world, client_for):
    sr = make(personas)
    url = reverse("dispatch:request_reveal", args=[sr.number])
    for persona in ("community_staff_b", "department_handler", "outsider"):
        response = client_for(persona).post(url, {"reason": "看一下"})
        assert response.status_code == 404 and "13812345678" not in text(response)


def test_grid_worker_sees_the_masked_phone_but_cannot_reveal(personas, dispatch_world, client_for):
    sr = make(personas, actor="grid_worker", area="grid_a", channel="grid")
    client = client_for("grid_worker")
    page = text(client.get(reverse("dispatch:request_detail", args=[sr.number])))
    assert "138****5678" in page and "确认查看" not in page
    response = client.post(reverse("dispatch:request_reveal", args=[sr.number]), {"reason": "核实情况"})
    assert response.status_code == 403 and "13812345678" not in text(response)
    assert AuditEntry.objects.filter(action="dispatch.request.contact_reveal_denied").exists()


# --- bulk ----------------------------------------------------------------------------------------

def test_bulk_dispatch_confirms_first_then_reports_each_request(personas, dispatch_world, client_for):
    leaf = dispatch_world.categories["040102"]
    a = make(personas, title="第一张")
    b = make(personas, title="第二张")
    no_category = make(personas, title="没有类别的")
    for sr in (a, b):
        ServiceRequest.objects.unscoped().filter(pk=sr.pk).update(category=leaf)
    hub = client_for("street_hub")
    numbers = [a.number, b.number, no_category.number, "11010199999999999"]
    confirm = hub.post(reverse("dispatch:bulk"), {"action": "dispatch", "numbers": numbers})
    page = text(confirm)
    assert confirm.status_code == 200 and "确认批量派单" in page and "不在您的管辖范围内" in page
    assert ServiceRequest.objects.unscoped().filter(status=Status.DISPATCHED).count() == 0  # nothing yet
    lead = dispatch_world.orgs["community_a"]
    result = hub.post(reverse("dispatch:bulk"), {"action": "dispatch", "numbers": numbers, "lead": lead.pk,
                                                 "confirm": "1"})
    page = text(result)
    assert "成功 2 张，未完成 2 张" in page
    assert "请先确认诉求类别，再派单。" in page
    assert fresh(a).status == Status.DISPATCHED and fresh(b).status == Status.DISPATCHED
    assert fresh(no_category).status == Status.RECEIVED


def test_bulk_dispatch_needs_a_lead(personas, dispatch_world, client_for):
    sr = make(personas)
    response = client_for("street_hub").post(reverse("dispatch:bulk"),
                                             {"action": "dispatch", "numbers": [sr.number], "confirm": "1"})
    assert response.status_code == 422 and "请选择主办单位。" in text(response)


def test_bulk_accept_for_a_department(personas, dispatch_world, client_for):
    one = make(personas, title="夜间施工一", category=dispatch_world.categories["080101"])
    two = make(personas, title="夜间施工二", category=dispatch_world.categories["080101"])
    dept = client_for("department_handler")
    queue = text(dept.get(reverse("dispatch:queue"), {"tab": "mine"}))
    assert "批量签收" in queue and f'value="{one.number}"' in queue
    act(dept, two, "accept")
    result = dept.post(reverse("dispatch:bulk"), {"action": "accept", "numbers": [one.number, two.number],
                                                  "confirm": "1"})
    page = text(result)
    assert "成功 1 张，未完成 1 张" in page and "没有待签收的派单" in page
    assert Assignment.objects.get(request=one).status == AssignmentStatus.ACCEPTED


def test_bulk_dispatch_is_refused_to_a_community(personas, dispatch_world, client_for):
    sr = make(personas)
    response = client_for("community_staff").post(reverse("dispatch:bulk"),
                                                  {"action": "dispatch", "numbers": [sr.number]})
    assert response.status_code == 403


def test_bulk_only_touches_requests_in_scope(personas, dispatch_world, client_for):
    theirs = make(personas, actor="community_staff_b", area="community_b")
    ServiceRequest.objects.unscoped().filter(pk=theirs.pk).update(category=dispatch_world.categories["040102"])
    result = client_for("street_hub").post(reverse("dispatch:bulk"), {
        "action": "dispatch", "numbers": [theirs.number], "lead": dispatch_world.orgs["community_a"].pk,
        "confirm": "1"})
    assert "成功 0 张，未完成 1 张" in text(result)
    assert fresh(theirs).status == Status.RECEIVED


# --- shell ---------------------------------------------------------------------------------------

def test_navigation_has_work_and_intake_entries(personas, dispatch_world, client_for):
    hub = text(client_for("street_hub").get(reverse("core:home")))
    assert f'href="{reverse("dispatch:queue")}"' in hub and f'href="{reverse("dispatch:intake")}"' in hub
    dept = text(client_for("department_handler").get(reverse("core:home")))
    assert f'href="{reverse("dispatch:queue")}"' in dept and f'href="{reverse("dispatch:intake")}"' not in dept
    resident = client_for("resident").get(reverse("dispatch:queue"))
    assert resident.status_code == 403


@pytest.mark.parametrize("name", ["dispatch:queue", "dispatch:intake"])
def test_pages_have_no_inline_script_or_style(personas, dispatch_world, client_for, name):
    make(personas)
    page = text(client_for("street_hub").get(reverse(name)))
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all("src=" in tag for tag in scripts)
    assert " style=" not in page and " onclick=" not in page


def test_detail_page_has_no_inline_script_or_style(personas, dispatch_world, client_for):
    sr = make(personas)
    page = text(client_for("street_hub").get(reverse("dispatch:request_detail", args=[sr.number])))
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", page))
    assert " style=" not in page and " onclick=" not in page
