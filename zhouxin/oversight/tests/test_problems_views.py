"""The pages of responsibility lists, key problems and topic meetings: what each level sees,
overdue problems in red with their days, the forms and their messages, evidence downloads
scoped to the problem's readers, and a list page whose query count does not grow."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import problems
from zhouxin.oversight.choices import ItemStatus, ProblemStatus
from zhouxin.oversight.models import (
    KeyProblem,
    ProblemEvidence,
    Responsibility,
    ResponsibilityItem,
    TopicMeeting,
)

from .outsiders_problems import make_list, make_problem

TODAY = timezone.localdate()
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(name="现场照片.png") -> SimpleUploadedFile:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 20), (90, 160, 90)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def spread(personas):
    """A problem in each of 多福巷, 银闸 (both 东华门街道), 东华门街道 itself and 吉祥 (景山街道)."""
    with scopes_disabled():
        return {
            "a": make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                              title="多福巷停车难"),
            "a2": make_problem(personas, area="community_a2", actor="street_hub", lead="street_a_committee",
                               title="银闸社区积水点"),
            "street": make_problem(personas, area="street_a", actor="street_hub", lead="street_a_committee",
                                   title="东华门背街小巷整治"),
            "b": make_problem(personas, title="吉祥社区群租整治"),
        }


@pytest.mark.parametrize("persona,seen", [
    ("community_staff", {"多福巷停车难"}),
    ("community_staff_b", {"吉祥社区群租整治"}),
    ("street_hub", {"多福巷停车难", "银闸社区积水点", "东华门背街小巷整治"}),
    ("district_admin", {"多福巷停车难", "银闸社区积水点", "东华门背街小巷整治", "吉祥社区群租整治"}),
    ("outsider", set()),
])
def test_the_problem_list_shows_each_level_its_own(client_for, spread, persona, seen):
    body = text(client_for(persona).get(reverse("oversight:problem_list")))
    shown = {p.title for p in spread.values() if p.title in body}
    assert shown == seen


def test_overdue_problems_are_red_with_their_days_and_can_be_filtered(personas, client_for):
    with scopes_disabled():
        late = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                            title="逾期的问题", today=TODAY - dt.timedelta(days=100), days=30)
        make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                     title="按期推进的问题")
    client = client_for("street_hub")
    body = text(client.get(reverse("oversight:problem_list")))
    row = re.search(r'<tr class="is-overdue">(.*?)</tr>', body, re.S).group(1)
    assert "逾期的问题" in row and "逾期 70 天" in row and 'class="zx-overdue"' in row
    assert "逾期未销号 1 个" in body
    body = text(client.get(reverse("oversight:problem_list"), {"overdue": "1"}))
    assert "逾期的问题" in body and "按期推进的问题" not in body
    detail = text(client.get(reverse("oversight:problem_detail", args=[late.pk])))
    assert "已逾期 70 天" in detail


def test_status_and_area_filters(client_for, spread):
    client = client_for("district_admin")
    body = text(client.get(reverse("oversight:problem_list"), {"area": spread["a"].area.code[:9]}))
    assert "多福巷停车难" in body and "东华门背街小巷整治" in body and "吉祥社区群租整治" not in body
    body = text(client.get(reverse("oversight:problem_list"), {"status": "closed"}))
    assert "没有重点难点问题。" in body
    # Nonsense in the query string is ignored, not an error.
    assert client.get(reverse("oversight:problem_list"), {"year": "abc", "status": "x"}).status_code == 200


def test_the_list_page_does_not_query_per_row(personas, client_for, django_assert_max_num_queries):
    client = client_for("district_admin")
    with scopes_disabled():
        make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee", title="一")
    client.get(reverse("oversight:problem_list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("oversight:problem_list"))
    with scopes_disabled():
        for n in range(8):
            make_problem(personas, area="community_a2", actor="street_hub", lead="street_a_committee",
                         title=f"问题{n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("oversight:problem_list"))


def test_listing_a_problem_through_the_form(personas, client_for):
    client = client_for("community_staff")
    url = reverse("oversight:problem_create")
    form = text(client.get(url))
    assert "多福巷社区" in form and "吉祥社区" not in form   # only the user's own areas are offered
    data = {"area": personas.areas["community_a"].pk, "title": "楼道堆物清理", "description": "楼道堆物多",
            "source": "residents", "owner": "张丽华", "lead_org": personas.orgs["community_a_committee"].pk,
            "co_orgs": [personas.orgs["department"].pk], "target": "全部清理",
            "deadline": TODAY.isoformat()}
    response = client.post(url, data)
    assert response.status_code == 422 and "完成时限应晚于今天。" in text(response)
    with scopes_disabled():
        assert not KeyProblem.objects.unscoped().exists()
    data["deadline"] = (TODAY + dt.timedelta(days=60)).isoformat()
    response = client.post(url, data)
    with scopes_disabled():
        problem = KeyProblem.objects.unscoped().get()
        assert list(problem.co_orgs.all()) == [personas.orgs["department"]]
    assert response.status_code == 302 and response["Location"] == reverse("oversight:problem_detail",
                                                                            args=[problem.pk])
    assert problem.created_by == personas.community_staff
    # The district department helping is shown to the community's staff (organisations are reference data).
    assert "东城区城市管理综合行政执法监察局" in text(client.get(response["Location"]))


def test_progress_with_a_photo_and_the_scoped_download(personas, client_for):
    with scopes_disabled():
        problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    client = client_for("community_staff")
    url = reverse("oversight:problem_update", args=[problem.pk])
    response = client.post(url, {"p-progress": "40", "p-note": "完成摸底", "p-uploads": [png()],
                                 "p-organisation": personas.orgs["department"].pk}, follow=True)
    assert "进展已填报。" in text(response)
    assert "张丽华（东城区城市管理综合行政执法监察局）" in text(response)   # the district department reported
    assert "进度达到 100% 后才能申请销号（当前 40%）。" in text(response)
    assert '<progress max="100" value="40"' in text(response)
    with scopes_disabled():
        evidence = ProblemEvidence.objects.unscoped().get()
    download = reverse("oversight:problem_evidence", args=[problem.pk, evidence.pk])
    assert download in text(response)   # listed on the timeline and with the evidence
    got = client.get(download)
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert b"".join(got.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert client_for("street_hub").get(download).status_code == 200
    assert client_for("community_staff_b").get(download).status_code == 404
    # Going back is allowed, and said.
    response = client.post(url, {"p-progress": "25", "p-note": "发现新增点位"}, follow=True)
    body = text(response)
    assert "进度由 40% 调整为 25%，低于上次填报" in body


def test_a_refused_progress_report_shows_the_message_in_the_page(personas, client_for):
    with scopes_disabled():
        problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    fake = SimpleUploadedFile("整改照片.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    response = client_for("community_staff").post(reverse("oversight:problem_update", args=[problem.pk]),
                                                  {"p-progress": "40", "p-note": "附照片", "p-uploads": [fake]})
    assert response.status_code == 422
    assert "“整改照片.jpg”不是 PDF 文件或 JPEG、PNG、WebP 图片" in text(response)
    with scopes_disabled():
        assert KeyProblem.objects.unscoped().get(pk=problem.pk).progress == 0


def test_closure_request_and_decision_through_the_pages(personas, client_for):
    with scopes_disabled():
        problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
        problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="完成", progress=100)
    staff = client_for("community_staff")
    detail = reverse("oversight:problem_detail", args=[problem.pk])
    request_url = reverse("oversight:problem_request_closure", args=[problem.pk])
    response = staff.post(request_url, {"c-note": "全部完成"})
    assert response.status_code == 422 and "申请销号须有佐证材料" in text(response)
    response = staff.post(request_url, {"c-note": "全部完成", "c-uploads": [SimpleUploadedFile(
        "验收意见.pdf", PDF_BYTES, content_type="application/pdf")]}, follow=True)
    assert "销号申请已提交，等待上一级审核。" in text(response)
    # The community's staff wait; they have no decision form and may not post one.
    body = text(staff.get(detail))
    assert "等待上一级审核" in body and reverse("oversight:problem_decide_closure", args=[problem.pk]) not in body
    decide = reverse("oversight:problem_decide_closure", args=[problem.pk])
    assert staff.post(decide, {"d-decision": "approve"}).status_code == 403
    hub = client_for("street_hub")
    assert decide in text(hub.get(detail))
    response = hub.post(decide, {"d-decision": "reject", "d-note": ""})
    assert response.status_code == 422 and "不同意销号时，请写明理由" in text(response)
    response = hub.post(decide, {"d-decision": "approve", "d-note": "核查属实"}, follow=True)
    assert "已同意销号。" in text(response)
    with scopes_disabled():
        saved = KeyProblem.objects.unscoped().get(pk=problem.pk)
    assert saved.status == ProblemStatus.CLOSED and saved.closed_by == personas.street_hub
    assert "李淑珍 于" in text(hub.get(detail))


def test_requests_problems_link_to_the_dispatch_records(personas, client_for):
    with scopes_disabled():
        problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                               source="requests")
        other = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                             title="调研发现的问题")
    client = client_for("community_staff")
    body = text(client.get(reverse("oversight:problem_detail", args=[problem.pk])))
    assert f"{reverse('dispatch:trends')}?area={personas.areas['community_a'].code}" in body
    assert reverse("dispatch:rankings") in body
    assert reverse("dispatch:trends") not in text(client.get(reverse("oversight:problem_detail", args=[other.pk])))


def test_meetings_are_recorded_from_a_problem_and_listed_on_it(personas, client_for):
    with scopes_disabled():
        problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    client = client_for("community_staff")
    form = text(client.get(reverse("oversight:meeting_create"), {"problem": problem.pk}))
    assert re.search(rf'<option value="{problem.pk}" selected>', form)
    data = {"area": personas.areas["community_a"].pk, "kind": "topic", "title": "停车治理专题会",
            "held_on": (TODAY + dt.timedelta(days=2)).isoformat(), "chair": "张丽华", "attendees": "15",
            "decisions": "与驻区单位签订错时停车协议", "problems": [problem.pk]}
    response = client.post(reverse("oversight:meeting_create"), data)
    assert response.status_code == 422 and "召开日期不能晚于今天" in text(response)
    data["held_on"] = TODAY.isoformat()
    response = client.post(reverse("oversight:meeting_create"), data)
    with scopes_disabled():
        meeting = TopicMeeting.objects.unscoped().get()
    assert response["Location"] == reverse("oversight:meeting_detail", args=[meeting.pk])
    assert problem.title in text(client.get(response["Location"]))
    assert "停车治理专题会" in text(client.get(reverse("oversight:problem_detail", args=[problem.pk])))
    assert "停车治理专题会" in text(client.get(reverse("oversight:meeting_list")))
    assert "停车治理专题会" not in text(client_for("community_staff_b").get(reverse("oversight:meeting_list")))


# --- Responsibility lists -------------------------------------------------------------------------------

def test_lists_are_grouped_by_organisation_and_filtered_by_year(personas, client_for):
    with scopes_disabled():
        make_list(personas, area="community_a", org="community_a_committee", actor="community_staff", holder="张丽华")
        make_list(personas, area="street_a", org="street_a_committee", actor="street_hub", holder="赵振东")
        make_list(personas, area="street_a", org="street_a_committee", actor="street_hub", holder="孙立新",
                  year=TODAY.year - 1)
        make_list(personas, holder="刘志强")   # 吉祥社区
    client = client_for("street_hub")
    body = text(client.get(reverse("oversight:responsibility_list")))
    assert "中共多福巷社区委员会" in body and "中共东华门街道工作委员会" in body
    assert "张丽华" in body and "赵振东" in body and "孙立新" not in body   # this year by default
    assert "刘志强" not in body   # another street
    body = text(client.get(reverse("oversight:responsibility_list"), {"year": TODAY.year - 1}))
    assert "孙立新" in body and "赵振东" not in body
    body = text(client.get(reverse("oversight:responsibility_list"), {"year": ""}))
    assert "孙立新" in body and "赵振东" in body
    body = text(client_for("community_staff").get(reverse("oversight:responsibility_list")))
    assert "张丽华" in body and "赵振东" not in body


def test_creating_a_list_and_keeping_its_items(personas, client_for):
    client = client_for("community_staff")
    form = text(client.get(reverse("oversight:responsibility_create")))
    assert "中共多福巷社区委员会" in form and "中共吉祥社区委员会" not in form
    assert "东城区第一人民医院党支部" not in form   # a branch keeps no leader's list
    response = client.post(reverse("oversight:responsibility_create"), {
        "organisation": personas.orgs["community_a_committee"].pk, "year": TODAY.year, "role": "secretary",
        "holder": "张丽华"})
    with scopes_disabled():
        listing = Responsibility.objects.unscoped().get()
    detail = reverse("oversight:responsibility_detail", args=[listing.pk])
    assert response["Location"] == detail
    response = client.post(reverse("oversight:responsibility_item_add", args=[listing.pk]),
                           {"add-text": "每月召开党委会", "add-due": f"{TODAY.year + 1}-01-10"})
    assert response.status_code == 422 and f"完成时限应在 {TODAY.year} 年内。" in text(response)
    client.post(reverse("oversight:responsibility_item_add", args=[listing.pk]),
                {"add-text": "每月召开党委会", "add-due": f"{TODAY.year}-01-01"})
    with scopes_disabled():
        item = ResponsibilityItem.objects.unscoped().get()
    body = text(client.get(detail))
    if dt.date(TODAY.year, 1, 1) < TODAY:
        assert "逾期" in body   # due and not done: in red
    update = reverse("oversight:responsibility_item_update", args=[listing.pk, item.pk])
    prefix = f"i{item.pk}"
    response = client.post(update, {f"{prefix}-text": item.text, f"{prefix}-status": "done",
                                    f"{prefix}-due": f"{TODAY.year}-01-01"})
    assert response.status_code == 422 and "请写明完成情况" in text(response)
    response = client.post(update, {f"{prefix}-text": item.text, f"{prefix}-status": "done",
                                    f"{prefix}-due": f"{TODAY.year}-01-01", f"{prefix}-evidence": "全年 12 次，纪要已归档"},
                           follow=True)
    assert "已标记为完成。" in text(response) and "全年 12 次，纪要已归档" in text(response)
    with scopes_disabled():
        assert ResponsibilityItem.objects.unscoped().get().status == ItemStatus.DONE
    # The street reads it; 景山's staff do not find it.
    assert client_for("street_hub").get(detail).status_code == 200
    assert client_for("community_staff_b").get(detail).status_code == 404
