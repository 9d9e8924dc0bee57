"""The queue and the lexicon pages, as a reviewer and an administrator use them."""

import pytest
from django.urls import reverse

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.moderation import registry, services
from zhouxin.moderation.choices import ItemStatus
from zhouxin.moderation.models import LexiconEntry, ModerationItem
from zhouxin.moderation.screen import screen

from .helpers import SPAM_TEXT, SPAM_TITLE, intake

pytestmark = pytest.mark.django_db


def test_a_held_request_shows_in_the_street_hubs_queue_with_its_reason(personas, seeded, client_for):
    held = intake(personas, title=SPAM_TITLE, description=SPAM_TEXT)
    other_street = intake(personas, area="community_b", actor="community_staff_b", title=SPAM_TITLE,
                          description="真人百家乐，注册送彩金。")
    body = client_for("street_hub").get(reverse("moderation:queue")).content.decode()
    assert held.number in body and "命中违规词（赌博）" in body
    assert other_street.number not in body  # 景山街道 is not this hub's street
    district = client_for("district_admin").get(reverse("moderation:queue")).content.decode()
    assert held.number in district and other_street.number in district


def test_release_from_the_queue_receives_the_request_and_is_audited(personas, seeded, client_for):
    held = intake(personas, title=SPAM_TITLE, description=SPAM_TEXT)
    client = client_for("street_hub")
    url = reverse("moderation:decide", args=["requests", held.pk, "release"])
    assert "审核通过并受理" in client.get(url).content.decode()
    response = client.post(url, {"note": "经核实为居民误操作粘贴"})
    assert response.status_code == 302
    with scopes_disabled():
        held.refresh_from_db()
    assert held.status != Status.HELD and held.hold_reason == ""
    assert AuditEntry.objects.filter(action="dispatch.request.released", object_id=str(held.pk),
                                     actor_id=personas.users["street_hub"].pk).exists()
    body = client.get(reverse("moderation:queue")).content.decode()
    assert "已审核通过" in body and f'data-zx-held="requests-{held.pk}"' not in body


def test_reject_needs_a_reason_and_invalidates_the_request(personas, seeded, client_for):
    held = intake(personas, title=SPAM_TITLE, description=SPAM_TEXT)
    client = client_for("street_hub")
    url = reverse("moderation:decide", args=["requests", held.pk, "reject"])
    response = client.post(url, {"note": ""})
    assert response.status_code == 422 and "请填写理由" in response.content.decode()
    with scopes_disabled():
        assert ServiceRequest.objects.get(pk=held.pk).status == Status.HELD
    assert client.post(url, {"note": "赌博网站广告"}).status_code == 302
    with scopes_disabled():
        rejected = ServiceRequest.objects.get(pk=held.pk)
    assert rejected.status == Status.INVALID and rejected.invalid_reason == "赌博网站广告"
    assert AuditEntry.objects.filter(action="dispatch.request.invalidated", object_id=str(held.pk)).exists()


def test_items_of_other_domains_are_held_decided_and_their_domain_hears(personas, client_for):
    heard = []

    def reactor(item, decision):
        heard.append((item.source_key, decision))

    registry.on_decision("test.comment", reactor)
    try:
        verdict = screen("约炮 同城约会 加薇信")
        with scopes_disabled():
            item = services.hold_item(actor=None, kind="test.comment", source_key="test.comment:1",
                                      area=personas.areas["community_a"], text="约炮 同城约会 加薇信",
                                      reasons=verdict.reasons, title="留言 #1")
            again = services.hold_item(actor=None, kind="test.comment", source_key="test.comment:1",
                                       area=personas.areas["community_a"], text="改过的内容", reasons=["再次暂缓"],
                                       title="留言 #1")
        assert again.pk == item.pk and services.is_held("test.comment:1")
        client = client_for("street_hub")
        body = client.get(reverse("moderation:queue") + "?source=items").content.decode()
        assert "留言 #1" in body and "再次暂缓" in body
        url = reverse("moderation:decide", args=["items", item.pk, "reject"])
        assert client.post(url, {"note": "色情引流"}).status_code == 302
        assert heard == [("test.comment:1", "rejected")]
        with scopes_disabled():
            item.refresh_from_db()
        assert item.status == ItemStatus.REJECTED and item.decided_by == personas.users["street_hub"]
        assert not services.is_held("test.comment:1")
        assert AuditEntry.objects.filter(action="moderation.item.rejected", object_id=str(item.pk)).exists()
        # Decided already: the queue no longer offers it.
        assert client.post(url, {"note": "色情引流"}).status_code == 404
    finally:
        registry.remove_reactor("test.comment", reactor)


def test_lexicon_page_adds_imports_deactivates_and_deletes(personas, client_for):
    client = client_for("security_admin")
    assert client.get(reverse("moderation:lexicon")).status_code == 200
    response = client.post(reverse("moderation:lexicon_add"),
                           {"term": "出售稀有鹦鹉", "category": "contraband", "kind": "keyword"})
    assert response.status_code == 302
    assert screen("本店出售稀有鹦鹉").hold
    # The same term in Traditional with blanks is a duplicate, refused with a message.
    response = client.post(reverse("moderation:lexicon_add"),
                           {"term": "出 售 稀 有 鸚 鵡", "category": "contraband", "kind": "keyword"})
    assert response.status_code == 422 and "已在词库中" in response.content.decode()
    entry = LexiconEntry.objects.get(key="出售稀有鹦鹉")
    assert AuditEntry.objects.filter(action="moderation.lexicon.added", object_id=str(entry.pk)).exists()

    client.post(reverse("moderation:lexicon_toggle", args=[entry.pk]))
    assert not screen("本店出售稀有鹦鹉").hold
    client.post(reverse("moderation:lexicon_toggle", args=[entry.pk]))
    assert screen("本店出售稀有鹦鹉").hold
    assert client.post(reverse("moderation:lexicon_delete", args=[entry.pk])).status_code == 302
    assert not screen("本店出售稀有鹦鹉").hold
    assert AuditEntry.objects.filter(action="moderation.lexicon.deleted", object_id=str(entry.pk)).exists()


def test_an_import_with_a_bad_line_changes_nothing(personas, client_for):
    client = client_for("district_admin")
    response = client.post(reverse("moderation:lexicon_import"), {
        "text": "稀有鹦鹉出售\n！\n金丝猴出售", "category": "contraband", "kind": "keyword"})
    assert response.status_code == 422 and "第 2 行" in response.content.decode()
    assert not LexiconEntry.objects.exists()
    response = client.post(reverse("moderation:lexicon_import"), {
        "text": "# 珍稀动物\n稀有鹦鹉出售\n\n金丝猴出售\n稀有鸚鵡出售", "category": "contraband", "kind": "keyword"})
    assert response.status_code == 302
    assert set(LexiconEntry.objects.values_list("term", flat=True)) == {"稀有鹦鹉出售", "金丝猴出售"}
    assert screen("金丝猴出售，有意者联系").hold
    assert AuditEntry.objects.filter(action="moderation.lexicon.added").count() == 2


def test_domains_are_checked_as_domains(personas, client_for):
    client = client_for("security_admin")
    response = client.post(reverse("moderation:lexicon_add"),
                           {"term": "不是 域名", "category": "gambling", "kind": "domain"})
    assert response.status_code == 422 and "不是域名" in response.content.decode()
    client.post(reverse("moderation:lexicon_add"), {"term": "*.lottery", "category": "gambling", "kind": "domain"})
    verdict = screen("看这里 https://win.big.lottery/abc 发大财")
    assert verdict.hold and "含违规网址：win.big.lottery（赌博）" in verdict.reasons


def test_the_test_page_shows_the_verdict(personas, client_for):
    client = client_for("security_admin")
    response = client.post(reverse("moderation:lexicon_test"), {"text": "澳门赌场|网上赌场|真人百家乐|六合彩|时时彩|幸运飞艇"})
    body = response.content.decode()
    assert response.status_code == 200 and "疑似关键词堆砌" in body
    assert client.post(reverse("moderation:lexicon_test"), {"text": ""}).status_code == 422


def test_held_items_are_not_in_the_queue_of_another_district(personas, client_for):
    with scopes_disabled():
        services.hold_item(actor=None, kind="test.page", source_key="test.page:9", area=personas.areas["community_a"],
                           text="内容", reasons=["疑似关键词堆砌"], title="多福巷的页面")
    assert ModerationItem.objects.unscoped().count() == 1
    body = client_for("street_hub").get(reverse("moderation:queue") + "?source=items").content.decode()
    assert "多福巷的页面" in body
