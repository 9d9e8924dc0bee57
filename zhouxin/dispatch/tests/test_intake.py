"""Intake: the one service every channel uses (validation, scope, idempotency, numbers,
encrypted contact, images checked by content, screening, suggestions, deadlines, routing)."""

from __future__ import annotations

import re
import struct
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.utils import timezone

from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import screening, services
from zhouxin.dispatch.choices import AssignmentRole, EventAction, Status
from zhouxin.dispatch.models import Assignment, Attachment, RequestEvent, Rollup, ServiceRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def intake(personas, actor="community_staff", area="community_a", **kwargs):
    values = {
        "kind": "complaint", "channel": "hotline", "title": "楼道堆放杂物",
        "description": "3号楼2单元楼道长期堆放纸箱杂物，影响通行，存在消防隐患。",
        "contact_name": "吴女士", "contact_phone": "138 1234 5678",
    }
    values.update(kwargs)
    user = personas.users[actor] if isinstance(actor, str) else actor
    return services.request_intake(actor=user, area=personas.areas[area], **values)


def png(width=640, height=480) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00\x00\x00\x00" + b"\x00" * 64


def jpeg(width=800, height=600) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp(width=320, height=200) -> bytes:
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def test_hotline_intake_is_numbered_encrypted_routed_and_timed(personas, dispatch_world):
    category = dispatch_world.categories["040102"]  # 楼道卫生 → rule "04" @ 东城区 → 多福巷社区
    request = intake(personas, category=category)
    request.refresh_from_db()
    today = timezone.localdate()
    assert re.fullmatch(rf"110101{today:%y%m%d}\d{{5}}", request.number)
    assert request.district == personas.areas["dongcheng"] and request.street == personas.areas["street_a"]
    assert request.received_by == personas.community_staff
    # Routed automatically to the rule's organisation as lead; the system dispatched it.
    assert request.status == Status.DISPATCHED and request.lead_org == dispatch_world.orgs["community_a"]
    lead = Assignment.objects.get(request=request)
    assert lead.role == AssignmentRole.LEAD and lead.assigned_by is None
    events = list(request.events.values_list("action", "actor_id"))
    assert events == [(EventAction.RECEIVED, personas.community_staff.pk), (EventAction.DISPATCHED, None)]
    # The phone is normalised, stored encrypted and findable by its blind index only.
    assert request.contact_phone == "13812345678" and request.contact_phone_masked == "138****5678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_phone FROM dispatch_servicerequest WHERE id = %s", [request.pk])
        stored = cursor.fetchone()[0]
    assert "13812345678" not in stored
    assert ServiceRequest.objects.unscoped().get(contact_phone_index=blind_index("phone", "13812345678")) == request
    # Deadlines from the SLA rules (general class: 7 days, complaint: 15 working days → 7 days wins).
    assert request.received_at < request.warn_due_at < request.resolve_due_at
    assert (request.resolve_due_at - request.received_at).days == 7
    ratio = (request.warn_due_at - request.received_at) / (request.resolve_due_at - request.received_at)
    assert abs(ratio - 0.8) < 0.001
    # Counted in the street's roll-up in the same transaction; audited with the phone masked.
    assert Rollup.objects.unscoped().get(area=personas.areas["street_a"]).received == 1
    entry = AuditEntry.objects.get(action="dispatch.request.received")
    assert entry.after["number"] == request.number and entry.after["contact_phone"] == "138****5678"


def test_without_category_the_request_waits_for_the_street_hub_with_suggestions(personas, dispatch_world):
    request = intake(personas, title="电梯故障困人", description="5号楼电梯突然停运，有老人被困在电梯里。")
    assert request.status == Status.RECEIVED and request.lead_org is None
    assert not Assignment.objects.filter(request=request).exists()
    assert request.suggestions and request.suggestions[0]["code"] == "040101"
    assert set(request.suggestions[0]) == {"category_id", "code", "name", "confidence"}


def test_broken_suggestions_never_block_intake(personas, dispatch_world, monkeypatch):
    from zhouxin.dispatch import classify

    def broken(text, *, top=3):
        raise RuntimeError("model file is corrupt")

    monkeypatch.setattr(classify, "suggest", broken)
    request = intake(personas)
    assert request.pk and request.suggestions == []


@pytest.mark.parametrize("field,value,message", [
    ("title", "  ", "请填写标题。"),
    ("kind", "gossip", "请选择诉求类型。"),
    ("channel", "pigeon", "请选择受理渠道。"),
    ("contact_phone", "12345", "联系电话应为 11 位手机号或带区号的固定电话"),
    ("latitude", "north", "纬度必须是数字。"),
    ("description", "长" * 5001, "诉求内容不能超过 5000 个字。"),
])
def test_bad_input_gets_a_chinese_message_and_writes_nothing(personas, dispatch_world, field, value, message):
    with pytest.raises(ValidationError) as caught:
        intake(personas, **{field: value})
    assert any(message in m for m in caught.value.message_dict[field])
    assert ServiceRequest.objects.unscoped().count() == 0
    assert not AuditEntry.objects.filter(action__startswith="dispatch.").exists()


def test_category_must_be_an_active_leaf(personas, dispatch_world):
    with pytest.raises(ValidationError) as caught:
        intake(personas, category=dispatch_world.categories["0401"])
    assert "第三级" in caught.value.message_dict["category"][0]


def test_area_must_be_a_community_or_grid_in_scope(personas, dispatch_world):
    with pytest.raises(ValidationError) as caught:
        intake(personas, area="street_a", actor="street_hub")
    assert "社区或网格" in caught.value.message_dict["area"][0]
    for actor, area in [("community_staff_b", "community_a"), ("outsider", "community_a"),
                        ("grid_worker", "community_a2"), ("resident", "community_a"),
                        ("department_handler", "community_a")]:
        with pytest.raises(PermissionDenied):
            intake(personas, actor=actor, area=area)
    assert ServiceRequest.objects.unscoped().count() == 0
    # A grid worker reports in their own grid; the street hub anywhere in its street.
    assert intake(personas, actor="grid_worker", area="grid_a").area == personas.areas["grid_a"]
    assert intake(personas, actor="street_hub", area="community_a2").street == personas.areas["street_a"]


def test_the_system_may_take_requests_only_where_it_said_so(personas, dispatch_world):
    with pytest.raises(PermissionDenied):
        services.request_intake(actor=None, kind="help", channel="api", area=personas.areas["community_b"],
                                title="路灯不亮", description="小区门口路灯坏了一周。")
    with scopes_disabled():
        request = services.request_intake(actor=None, kind="help", channel="api", area=personas.areas["community_b"],
                                          title="路灯不亮", description="小区门口路灯坏了一周。")
    assert request.received_by is None and request.street == personas.areas["street_b"]
    assert not request.category_confirmed


def test_same_idempotency_key_returns_the_same_request(personas, dispatch_world):
    first = intake(personas, idempotency_key="hotline-call-20261126-0001")
    again = intake(personas, idempotency_key="hotline-call-20261126-0001", title="重复提交")
    assert again.pk == first.pk and again.title == first.title
    assert ServiceRequest.objects.unscoped().count() == 1
    assert RequestEvent.objects.filter(action=EventAction.RECEIVED).count() == 1
    # The key lives in the client's namespace: another clerk's identical key is another request.
    other = intake(personas, actor="street_hub", idempotency_key="hotline-call-20261126-0001")
    assert other.pk != first.pk
    with pytest.raises(ValidationError):
        intake(personas, idempotency_key="k" * 201)


def test_images_are_checked_by_content_and_stored(personas, dispatch_world):
    request = intake(personas, images=[
        SimpleUploadedFile("现场.jpg", jpeg(), content_type="image/jpeg"),
        SimpleUploadedFile("photo.PNG", png(), content_type="application/octet-stream"),
        ("scan.webp", webp()),
    ])
    stored = {a.original_name: a for a in Attachment.objects.filter(request=request)}
    assert {n: a.content_type for n, a in stored.items()} == {
        "现场.jpg": "image/jpeg", "photo.PNG": "image/png", "scan.webp": "image/webp"}
    jpg = stored["现场.jpg"]
    assert jpg.size == len(jpeg()) and jpg.file.read() == jpeg() and jpg.file.name.endswith(".jpg")
    assert "现场" not in jpg.file.name  # stored under a random name


@pytest.mark.parametrize("images,message", [
    ([SimpleUploadedFile("invoice.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")],
     "不是 JPEG、PNG 或 WebP 图片"),
    ([SimpleUploadedFile("fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 4)], "不是 JPEG、PNG 或 WebP 图片"),
    ([SimpleUploadedFile("anim.gif", b"GIF89a" + b"\x00" * 100)], "不是 JPEG、PNG 或 WebP 图片"),
    ([SimpleUploadedFile("big.png", png() + b"\x00" * (5 * 1024 * 1024))], "超过 5 MB"),
    ([SimpleUploadedFile("bomb.png", png(100_000, 100_000))], "尺寸 100000×100000 无效或过大"),
    ([SimpleUploadedFile("empty.jpg", b"")], "是空文件"),
    ([(f"p{i}.png", png()) for i in range(10)], "最多只能上传 9 张图片"),
])
def test_bad_images_are_refused_and_nothing_is_written(personas, dispatch_world, settings, images, message):
    with pytest.raises(ValidationError) as caught:
        intake(personas, images=images)
    assert any(message in m for m in caught.value.message_dict["images"])
    assert ServiceRequest.objects.unscoped().count() == 0 and Attachment.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_nine_images_of_five_megabytes_are_accepted(personas, dispatch_world):
    exactly = png() + b"\x00" * (5 * 1024 * 1024 - len(png()))
    request = intake(personas, images=[(f"p{i}.png", exactly) for i in range(9)])
    assert Attachment.objects.filter(request=request).count() == 9


def test_screened_request_is_held_then_released_and_routed(personas, dispatch_world):
    def invoices(text):
        return screening.ScreenResult(hold="发票" in text, reason="疑似广告：代开发票")

    def broken(text):
        raise RuntimeError("screen down")

    screening.register(broken)
    screening.register(invoices)
    try:
        held = intake(personas, title="代开发票", description="代开各类发票，联系微信。",
                      category=dispatch_world.categories["040102"])
        normal = intake(personas, title="楼道卫生差", category=dispatch_world.categories["040102"])
    finally:
        screening.unregister(invoices)
        screening.unregister(broken)
    assert held.status == Status.HELD and held.hold_reason == "疑似广告：代开发票"
    assert held.lead_org is None  # held requests are not routed
    assert list(held.events.values_list("action", flat=True)) == [EventAction.RECEIVED, EventAction.HELD]
    assert normal.status == Status.DISPATCHED  # a broken screen is skipped, not fatal
    with pytest.raises(PermissionDenied):
        services.request_release(actor=personas.community_staff, request=held)
    services.request_release(actor=personas.street_hub, request=held, note="核实为居民反映")
    held.refresh_from_db()
    assert held.status == Status.DISPATCHED and held.hold_reason == ""
    assert held.lead_org == dispatch_world.orgs["community_a"]


# --- concurrency (threads, each with its own connection) -------------------------------

def _run_threads(count, target):
    errors: list[BaseException] = []
    results: list = []
    barrier = threading.Barrier(count)

    def run(n):
        try:
            barrier.wait()
            results.append(target(n))
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_get_unique_consecutive_numbers(personas, dispatch_world):
    category = dispatch_world.categories["040102"]

    def many(n):
        return [intake(personas, title=f"第{n}-{i}件", category=category).number for i in range(5)]

    results, errors = _run_threads(8, many)
    assert not errors, errors
    numbers = [n for batch in results for n in batch]
    assert len(numbers) == 40 and len(set(numbers)) == 40
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 41))
    assert Rollup.objects.unscoped().get(area=personas.areas["street_a"]).received == 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_make_one_request(personas, dispatch_world):
    results, errors = _run_threads(6, lambda n: intake(personas, idempotency_key="portal-retry-42").pk)
    assert not errors, errors
    assert len(set(results)) == 1
    assert ServiceRequest.objects.unscoped().count() == 1
    assert RequestEvent.objects.filter(action=EventAction.RECEIVED).count() == 1


def test_the_daily_sequence_widens_past_99999(personas, dispatch_world):
    """The number is drawn in the same statement that stores it (PostgreSQL) or right after it;
    past 99,999 requests a day the sequence gets a sixth digit instead of wrapping."""
    from zhouxin.dispatch.models import NumberCounter

    today = timezone.localdate()
    NumberCounter.objects.create(series="R110101", day=today, value=99_998)
    first = intake(personas, category=dispatch_world.categories["040102"])
    second = intake(personas, category=dispatch_world.categories["040102"])
    assert first.number == f"110101{today:%y%m%d}99999"
    assert second.number == f"110101{today:%y%m%d}100000"
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.number, second.number) == (f"110101{today:%y%m%d}99999", f"110101{today:%y%m%d}100000")
