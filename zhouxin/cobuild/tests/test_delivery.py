"""Delivery of a co-building project: lifecycle, milestones, service records, evidence (delivery.py)
and the delivery panel of the project page (views_delivery.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from zhouxin.cobuild import delivery, services
from zhouxin.cobuild.choices import ClaimStatus, NeedStatus, ProjectStatus
from zhouxin.cobuild.models import Claim, Evidence, Milestone, Project, ServiceRecord
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal.tests.helpers import jpeg

from .helpers import need, resource

TODAY = timezone.localdate()
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(width=64, height=48) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00\x00\x00\x00" + b"\x00" * 64


def make_project(personas, *, quantity=30, capacity=40, start=False) -> Project:
    """A need of 多福巷社区 met by the hospital's canteen: claimed, confirmed, and a project."""
    posted = need(personas, quantity=quantity, quantity_unit="份")
    offered = resource(personas, capacity=capacity)
    claim = services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered, quantity=quantity)
    services.claim_confirm(actor=personas.street_hub, claim=claim)
    project = services.project_create_from_claim(actor=personas.community_staff, claim=claim, title="多福巷助老餐桌")
    if start:
        delivery.project_start(actor=personas.community_staff, project=project)
    return project


def _state(project):
    with scopes_disabled():
        project = Project.objects.unscoped().select_related("need", "claim__resource").get(pk=project.pk)
    return project.status, project.need.status, project.claim.status, project.claim.resource.committed


# --- Lifecycle -----------------------------------------------------------------------------

def test_a_project_runs_and_completes_and_the_need_is_met(personas):
    project = make_project(personas)
    assert project.status == ProjectStatus.PLANNED
    delivery.project_start(actor=personas.unit_liaison, project=project)  # a party's liaison may start it
    assert project.status == ProjectStatus.RUNNING and project.starts_on == TODAY
    milestone = delivery.milestone_add(actor=personas.community_staff, project=project, title="首次送餐",
                                       due_on=TODAY)
    with pytest.raises(ValidationError) as exc:
        delivery.project_complete(actor=personas.community_staff, project=project)
    assert exc.value.message_dict == {"milestones": ["还有 1 个节点未完成（首次送餐），请先完成或删除这些节点再结项。"]}
    assert _state(project)[:2] == (ProjectStatus.RUNNING, NeedStatus.IN_PROJECT)
    delivery.milestone_done(actor=personas.unit_liaison, milestone=milestone)
    milestone.refresh_from_db()
    assert milestone.done_on == TODAY and milestone.done_by == personas.unit_liaison
    delivery.project_complete(actor=personas.street_hub, project=project, note="按期完成")
    status, need_status, claim_status, committed = _state(project)
    assert (status, need_status, claim_status, committed) == (
        ProjectStatus.COMPLETED, NeedStatus.MET, ClaimStatus.FULFILLED, 0)
    assert project.completed_at is not None
    entry = AuditEntry.objects.get(action="cobuild.project.completed", object_id=str(project.pk))
    assert entry.after["note"] == "按期完成"
    with pytest.raises(ValidationError, match="只有实施中的项目可以结项"):
        delivery.project_complete(actor=personas.street_hub, project=project)
    with pytest.raises(ValidationError, match="只有筹备中或实施中的项目可以取消"):
        delivery.project_cancel(actor=personas.street_hub, project=project, reason="重复")


def test_transitions_out_of_order_are_refused_and_change_nothing(personas):
    project = make_project(personas)
    with pytest.raises(ValidationError, match="只有实施中的项目可以结项"):
        delivery.project_complete(actor=personas.community_staff, project=project)
    delivery.project_start(actor=personas.community_staff, project=project)
    with pytest.raises(ValidationError, match="只有筹备中的项目可以开始实施"):
        delivery.project_start(actor=personas.community_staff, project=project)
    assert _state(project)[0] == ProjectStatus.RUNNING
    assert AuditEntry.objects.filter(action="cobuild.project.started").count() == 1


def test_only_area_staff_and_party_liaisons_act_on_a_project(personas):
    project = make_project(personas)
    for actor in (personas.outsider, personas.community_staff_b, personas.district_admin, personas.grid_worker):
        with pytest.raises(PermissionDenied):
            delivery.project_start(actor=actor, project=project)
        with pytest.raises(PermissionDenied):
            delivery.milestone_add(actor=actor, project=project, title="越权节点", due_on=TODAY)
    assert _state(project)[0] == ProjectStatus.PLANNED
    with scopes_disabled():
        assert not Milestone.objects.exists()


def test_cancelling_reopens_the_need_and_releases_the_committed_quantity(personas):
    project = make_project(personas, quantity=30, capacity=40, start=True)
    assert _state(project)[3] == 30
    with pytest.raises(ValidationError) as exc:
        delivery.project_cancel(actor=personas.community_staff, project=project, reason="  ")
    assert exc.value.message_dict == {"reason": ["请填写取消项目的原因。"]}
    assert _state(project) == (ProjectStatus.RUNNING, NeedStatus.IN_PROJECT, ClaimStatus.CONFIRMED, 30)
    delivery.project_cancel(actor=personas.unit_liaison, project=project, reason="单位食堂装修停业")
    assert _state(project) == (ProjectStatus.CANCELLED, NeedStatus.OPEN, ClaimStatus.WITHDRAWN, 0)
    entry = AuditEntry.objects.get(action="cobuild.project.cancelled", object_id=str(project.pk))
    assert entry.after["reason"] == "单位食堂装修停业" and entry.after["released"] == 30
    # The need can be claimed again (the cancelled project's claim no longer holds it), and
    # the full capacity is available again.
    with scopes_disabled():
        claim = Claim.objects.unscoped().get(pk=project.claim_id)
    again = services.claim_create(actor=personas.unit_liaison, need=claim.need, resource=claim.resource, quantity=40)
    services.claim_confirm(actor=personas.community_staff, claim=again)
    claim.resource.refresh_from_db()
    assert claim.resource.committed == 40
    # A cancelled project takes no milestones, records or evidence.
    with pytest.raises(ValidationError, match="已结项或已取消"):
        delivery.milestone_add(actor=personas.community_staff, project=project, title="补记", due_on=TODAY)
    with pytest.raises(ValidationError, match="只有实施中或已完成"):
        delivery.record_add(actor=personas.community_staff, project=project, held_on=TODAY, title="补记")
    with pytest.raises(ValidationError, match="项目已取消"):
        delivery.evidence_upload(actor=personas.community_staff, project=project,
                                 upload=SimpleUploadedFile("a.png", png()))


def test_cancelling_a_planned_project_releases_only_once(personas):
    project = make_project(personas, quantity=10, capacity=40)
    delivery.project_cancel(actor=personas.community_staff, project=project, reason="社区调整计划")
    with pytest.raises(ValidationError):
        delivery.project_cancel(actor=personas.community_staff, project=project, reason="再次取消")
    assert _state(project)[3] == 0


# --- Milestones ----------------------------------------------------------------------------

def test_milestone_rules(personas):
    project = make_project(personas)
    with pytest.raises(ValidationError) as exc:
        delivery.milestone_add(actor=personas.community_staff, project=project, title=" ", due_on=None)
    assert exc.value.message_dict == {"title": ["请填写节点名称。"], "due_on": ["请填写计划完成日期。"]}
    first = delivery.milestone_add(actor=personas.community_staff, project=project, title="签订协议",
                                   due_on=TODAY + dt.timedelta(days=7), note="双方盖章")
    second = delivery.milestone_add(actor=personas.community_staff, project=project, title="首次送餐",
                                    due_on=TODAY + dt.timedelta(days=14))
    with pytest.raises(ValidationError) as exc:
        delivery.milestone_done(actor=personas.community_staff, milestone=first, done_on=TODAY + dt.timedelta(days=1))
    assert exc.value.message_dict == {"done_on": ["完成日期不能晚于今天。"]}
    delivery.milestone_done(actor=personas.community_staff, milestone=first, done_on=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="已经标记为完成"):
        delivery.milestone_done(actor=personas.community_staff, milestone=first)
    with pytest.raises(ValidationError, match="已完成的节点不能删除"):
        delivery.milestone_delete(actor=personas.community_staff, milestone=first)
    delivery.milestone_delete(actor=personas.unit_liaison, milestone=second)
    with scopes_disabled():
        assert list(Milestone.objects.values_list("title", "done_on")) == [
            ("签订协议", TODAY - dt.timedelta(days=1))]
    assert AuditEntry.objects.filter(action="cobuild.milestone.deleted", object_id=str(second.pk)).exists()


# --- Service records -----------------------------------------------------------------------

def test_service_records_need_a_running_project_and_sane_figures(personas):
    project = make_project(personas)
    with pytest.raises(ValidationError, match="只有实施中或已完成的项目可以登记服务记录"):
        delivery.record_add(actor=personas.unit_liaison, project=project, held_on=TODAY, title="送餐")
    delivery.project_start(actor=personas.community_staff, project=project)
    with pytest.raises(ValidationError) as exc:
        delivery.record_add(actor=personas.unit_liaison, project=project, held_on=TODAY + dt.timedelta(days=1),
                            title="", volunteers=2, volunteer_hours="48.5", beneficiaries=-1)
    assert exc.value.message_dict == {
        "title": ["请填写服务内容。"], "held_on": ["服务日期不能晚于今天。"], "beneficiaries": ["人数不能为负数。"],
        "volunteer_hours": ["服务时长不能超过志愿者人数 × 24 小时（2 名志愿者最多 48 小时）。"]}
    with pytest.raises(ValidationError) as exc:
        delivery.record_add(actor=personas.unit_liaison, project=project, held_on=TODAY, title="送餐",
                            volunteer_hours="-1")
    assert exc.value.message_dict == {"volunteer_hours": ["服务时长不能为负数。"]}
    with scopes_disabled():
        assert not ServiceRecord.objects.exists()
    record = delivery.record_add(actor=personas.unit_liaison, project=project, held_on=TODAY, title="午间送餐",
                                 beneficiary_group="高龄独居老人", beneficiaries=30, volunteers=4,
                                 volunteer_hours="8.5")
    assert str(record.volunteer_hours) == "8.5" and record.created_by == personas.unit_liaison
    # Late paperwork: a record may still be added once the project is completed.
    delivery.project_complete(actor=personas.community_staff, project=project)
    delivery.record_add(actor=personas.community_staff, project=project, held_on=TODAY, title="补记回访",
                        beneficiaries=5)
    with scopes_disabled():
        assert ServiceRecord.objects.count() == 2


# --- Evidence ------------------------------------------------------------------------------

def test_evidence_is_checked_by_content(personas, settings):
    project = make_project(personas, start=True)
    fake = SimpleUploadedFile("现场.jpg", b"<html><body><script>alert(1)</script></body></html>", "image/jpeg")
    with pytest.raises(ValidationError) as exc:
        delivery.evidence_upload(actor=personas.unit_liaison, project=project, upload=fake)
    assert exc.value.message_dict == {"upload": ["“现场.jpg”不是 PDF 文件或 JPEG、PNG、WebP 图片（按文件内容判断）。"]}
    polyglot = SimpleUploadedFile("合影.png", png() + b"<script>alert(document.cookie)</script>", "image/png")
    with pytest.raises(ValidationError, match="夹带了网页或脚本代码"):
        delivery.evidence_upload(actor=personas.unit_liaison, project=project, upload=polyglot)
    big = SimpleUploadedFile("大图.png", png() + b"\x00" * (10 * 1024 * 1024), "image/png")
    with pytest.raises(ValidationError, match="超过 10 MB"):
        delivery.evidence_upload(actor=personas.unit_liaison, project=project, upload=big)
    with scopes_disabled():
        assert not Evidence.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [f for f in media.rglob("*") if f.is_file()]

    photo = delivery.evidence_upload(actor=personas.unit_liaison, project=project, caption="送餐现场",
                                     upload=SimpleUploadedFile("送餐.jpg", jpeg(exif=True), "image/jpeg"))
    stored = Path(photo.file.path).read_bytes()
    assert photo.content_type == "image/jpeg" and b"Exif" not in stored and b"13912345678" not in stored
    assert photo.sha256 == hashlib.sha256(stored).hexdigest() and photo.size == len(stored)
    assert photo.original_name == "送餐.jpg" and not photo.file.name.endswith("送餐.jpg")
    report = delivery.evidence_upload(actor=personas.community_staff, project=project,
                                      upload=SimpleUploadedFile("验收报告.pdf", PDF_BYTES, "application/pdf"))
    assert report.content_type == "application/pdf" and report.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    delivery.evidence_delete(actor=personas.community_staff, evidence=report)
    with scopes_disabled():
        assert list(Evidence.objects.values_list("original_name", flat=True)) == ["送餐.jpg"]


# --- The page ------------------------------------------------------------------------------

def _body(response) -> str:
    return response.content.decode()


def test_the_delivery_panel_walks_a_project_through(personas, client_for):
    project = make_project(personas)
    url = reverse("cobuild:project_detail", args=[project.pk])
    staff = client_for("community_staff")
    page = _body(staff.get(url))
    assert "项目实施" in page and "开始实施" in page and "取消项目" in page
    assert reverse("cobuild:record_add", args=[project.pk]) not in page  # not running yet
    response = staff.post(reverse("cobuild:project_start", args=[project.pk]), follow=True)
    assert "项目已开始实施。" in _body(response)
    response = staff.post(reverse("cobuild:milestone_add", args=[project.pk]),
                          {"milestone-title": "", "milestone-due_on": ""}, follow=True)
    assert "请填写节点名称。" in _body(response) and "请填写计划完成日期。" in _body(response)
    staff.post(reverse("cobuild:milestone_add", args=[project.pk]),
               {"milestone-title": "首次送餐", "milestone-due_on": TODAY.isoformat()})
    with scopes_disabled():
        milestone = Milestone.objects.get()
    response = staff.post(reverse("cobuild:project_complete", args=[project.pk]), follow=True)
    assert "还有 1 个节点未完成（首次送餐）" in _body(response)
    liaison = client_for("unit_liaison")
    for held_on, beneficiaries, volunteers, hours in ((TODAY, "30", "4", "8.5"), (TODAY, "12", "2", "3")):
        response = liaison.post(reverse("cobuild:record_add", args=[project.pk]), {
            "record-held_on": held_on.isoformat(), "record-title": "午间送餐", "record-beneficiary_group": "高龄独居老人",
            "record-beneficiaries": beneficiaries, "record-volunteers": volunteers, "record-volunteer_hours": hours},
            follow=True)
        assert "服务记录已登记。" in _body(response)
    response = liaison.post(reverse("cobuild:record_add", args=[project.pk]), {
        "record-held_on": TODAY.isoformat(), "record-title": "夜间送餐", "record-volunteers": "1",
        "record-volunteer_hours": "30"}, follow=True)
    assert "2 名志愿者" not in _body(response) and "1 名志愿者最多 24 小时" in _body(response)
    page = _body(liaison.get(url))
    tiles = {label: count for count, label in re.findall(
        r'<span class="zx-tile__count">([^<]*)</span><span class="zx-tile__label">([^<]*)</span>', page)}
    assert tiles == {"服务次数": "2", "受益人次": "42", "志愿者": "6", "志愿服务时长（小时）": "11.5"}
    staff.post(reverse("cobuild:milestone_done", args=[project.pk, milestone.pk]), {"done_on": "", "note": "已送达"})
    response = staff.post(reverse("cobuild:project_complete", args=[project.pk]), {"complete-note": "按期完成"},
                          follow=True)
    page = _body(response)
    assert "项目已结项，需求标记为已满足。" in page and "已完成" in page
    assert reverse("cobuild:milestone_add", args=[project.pk]) not in page
    assert _state(project)[:2] == (ProjectStatus.COMPLETED, NeedStatus.MET)


def test_upload_and_download_evidence_through_the_page(personas, client_for):
    project = make_project(personas, start=True)
    liaison = client_for("unit_liaison")
    upload_url = reverse("cobuild:evidence_upload", args=[project.pk])
    fake = SimpleUploadedFile("现场.png", b"GIF89a not really a png", "image/png")
    response = liaison.post(upload_url, {"evidence-upload": fake, "evidence-caption": "假图片"}, follow=True)
    assert "不是 PDF 文件或 JPEG、PNG、WebP 图片（按文件内容判断）" in _body(response)
    with scopes_disabled():
        assert not Evidence.objects.exists()
    response = liaison.post(upload_url, {"evidence-upload": SimpleUploadedFile("合影.png", png(), "image/png"),
                                         "evidence-caption": "志愿者合影"}, follow=True)
    page = _body(response)
    with scopes_disabled():
        photo = Evidence.objects.get()
    file_url = reverse("cobuild:evidence_file", args=[project.pk, photo.pk])
    assert "佐证材料已上传。" in page and "志愿者合影" in page and f'src="{file_url}"' in page
    response = liaison.get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == png()
    assert client_for("street_hub").get(f"{file_url}?download=1")["Content-Disposition"].startswith("attachment")
    # District staff see the panel but cannot change it; other communities do not find the file.
    admin = client_for("district_admin")
    assert admin.get(file_url).status_code == 200
    assert reverse("cobuild:evidence_delete", args=[project.pk, photo.pk]) not in _body(
        admin.get(reverse("cobuild:project_detail", args=[project.pk])))
    assert admin.post(reverse("cobuild:evidence_delete", args=[project.pk, photo.pk])).status_code == 403
    assert client_for("community_staff_b").get(file_url).status_code == 404
    other = make_other_project(personas)
    assert liaison.get(reverse("cobuild:evidence_file", args=[other.pk, photo.pk])).status_code == 404
    response = liaison.post(reverse("cobuild:evidence_delete", args=[project.pk, photo.pk]), follow=True)
    assert "佐证材料已删除。" in _body(response)
    with scopes_disabled():
        assert not Evidence.objects.exists()


def make_other_project(personas) -> Project:
    """A project of 吉祥社区 (another community), not the hospital's."""
    from .helpers import unit_with_liaison

    unit, liaison = unit_with_liaison(personas, "东城区图书馆", "community_b", "liaison_library")
    posted = need(personas, area="community_b", actor="community_staff_b", title="吉祥社区阅读角")
    offered = resource(personas, owner=unit, actor=liaison, title="图书馆流动书车")
    claim = services.claim_create(actor=liaison, need=posted, resource=offered, quantity=1)
    services.claim_confirm(actor=personas.community_staff_b, claim=claim)
    return services.project_create_from_claim(actor=personas.community_staff_b, claim=claim)


def test_project_page_queries_do_not_grow_with_rows(personas, client_for):
    from django.test.utils import CaptureQueriesContext

    project = make_project(personas, start=True)
    staff = client_for("community_staff")
    url = reverse("cobuild:project_detail", args=[project.pk])

    def add(i):
        milestone = delivery.milestone_add(actor=personas.community_staff, project=project, title=f"节点{i}",
                                           due_on=TODAY)
        delivery.milestone_done(actor=personas.community_staff, milestone=milestone)
        record = delivery.record_add(actor=personas.community_staff, project=project, held_on=TODAY,
                                     title=f"服务{i}", beneficiaries=3)
        delivery.evidence_upload(actor=personas.community_staff, project=project, milestone=milestone, record=record,
                                 upload=SimpleUploadedFile(f"{i}.png", png(), "image/png"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(url).status_code == 200
        return len(queries)

    add(0)
    staff.get(url)
    one = count()
    for i in range(1, 7):
        add(i)
    assert count() == one
    assert _body(staff.get(url)).count("/evidence/") >= 7


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers, so the two transactions cannot overlap there")
@pytest.mark.django_db(transaction=True)
def test_completing_and_cancelling_at_once_exactly_one_wins(personas):
    import threading
    import time

    from django.db import connections, transaction

    project = make_project(personas, quantity=30, capacity=40, start=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(name, call):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                call()
                time.sleep(0.3)
            outcomes.append(name)
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=("completed", lambda: delivery.project_complete(
            actor=personas.community_staff, project=project))),
        threading.Thread(target=act, args=("cancelled", lambda: delivery.project_cancel(
            actor=personas.street_hub, project=project, reason="同时取消"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    status, need_status, _claim, committed = _state(project)
    if status == ProjectStatus.COMPLETED:
        assert sorted(outcomes) == ["completed", "只有筹备中或实施中的项目可以取消。"]
        assert (need_status, committed) == (NeedStatus.MET, 0)
    else:
        assert sorted(outcomes) == ["cancelled", "只有实施中的项目可以结项。"]
        assert (need_status, committed) == (NeedStatus.OPEN, 0)
