import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing import integrity, services
from zhouxin.publishing.choices import NoticeStatus
from zhouxin.publishing.models import Notice, PublishedPage

from .helpers import BODY, publish


def _draft(personas, *, body=BODY, title="银闸社区垃圾分类宣传周", author="community_staff", area="community_a"):
    with scopes_disabled():
        return services.notice_create(actor=personas.users[author], area=personas.areas[area], title=title, body=body)


def test_create_sanitises_the_body_and_audits(personas):
    notice = _draft(personas, body='<p style="display:none" onclick="x()">通知</p><script>alert(1)</script>')
    assert notice.body == "<p>通知</p>"
    assert notice.status == NoticeStatus.DRAFT
    entry = AuditEntry.objects.get(action="publishing.notice.created")
    assert entry.actor_id == personas.community_staff.pk and entry.object_id == str(notice.pk)


def test_bad_input_gets_chinese_messages_and_changes_nothing(personas):
    with pytest.raises(ValidationError) as exc:
        _draft(personas, title=" ", body="<script>alert(1)</script>")
    assert exc.value.message_dict == {"title": ["请填写标题。"], "body": ["请填写正文。"]}
    with pytest.raises(ValidationError) as exc, scopes_disabled():
        services.notice_create(actor=personas.community_staff, area=personas.areas["grid_a"], title="t", body="b")
    assert "公告只能发布在启用中的街道或社区。" in exc.value.messages
    with scopes_disabled():
        assert not Notice.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="publishing.").exists()


def test_staff_cannot_write_for_another_community(personas):
    with pytest.raises(PermissionDenied), scopes_disabled():
        services.notice_create(actor=personas.community_staff, area=personas.areas["community_b"], title="越权",
                               body="<p>x</p>")
    with pytest.raises(PermissionDenied), scopes_disabled():
        services.notice_create(actor=personas.grid_worker, area=personas.areas["community_a"], title="网格员",
                               body="<p>x</p>")


def test_author_cannot_approve_own_notice(personas):
    notice = _draft(personas, author="street_hub")
    with scopes_disabled():
        services.notice_submit(actor=personas.street_hub, notice=notice)
        with pytest.raises(ValidationError) as exc:
            services.notice_approve(actor=personas.street_hub, notice=notice)
    assert exc.value.messages == ["不能批准自己撰写的公告，请由另一位审核人批准。"]
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING and not notice.content_hash
    assert not PublishedPage.objects.exists()


def test_four_eyes_is_also_a_database_constraint(personas):
    notice = _draft(personas)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.unscoped().filter(pk=notice.pk).update(approver=personas.community_staff)


def test_community_staff_cannot_approve_and_other_street_cannot_either(personas):
    notice = _draft(personas)
    with scopes_disabled():
        services.notice_submit(actor=personas.community_staff, notice=notice)
        with pytest.raises(PermissionDenied):
            services.notice_approve(actor=personas.community_staff_b, notice=notice)
        with pytest.raises(PermissionDenied):
            services.notice_approve(actor=personas.outsider, notice=notice)
        with pytest.raises(PermissionDenied):
            services.notice_approve(actor=personas.security_admin, notice=notice)


def test_approval_publishes_with_the_hash_of_the_public_article(personas):
    notice = publish(personas)
    assert notice.status == NoticeStatus.PUBLISHED
    assert notice.approver == personas.street_hub and notice.published_at is not None
    page = PublishedPage.objects.get(notice=notice)
    assert page.path == f"/portal/notices/{notice.area.code}/{notice.pk}/"
    assert page.approved_hash == notice.content_hash == integrity.notice_hash(notice)
    assert len(notice.content_hash) == 64
    assert AuditEntry.objects.filter(action="publishing.notice.approved", object_id=str(notice.pk)).exists()


def test_screening_holds_the_notice_with_its_reason(personas):
    notice = _draft(personas, body="<p>欢迎光临澳门赌场</p>")
    with scopes_disabled():
        services.notice_submit(actor=personas.community_staff, notice=notice)
        notice.refresh_from_db()
        assert notice.hold_reason == "含有疑似垃圾信息词语：赌场"
        with pytest.raises(services.NoticeHeld) as exc:
            services.notice_approve(actor=personas.street_hub, notice=notice)
    assert exc.value.reason == "含有疑似垃圾信息词语：赌场"
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING and notice.approver is None
    assert not PublishedPage.objects.exists()
    held = AuditEntry.objects.get(action="publishing.notice.held")
    assert held.result == "denied" and held.actor_id == personas.street_hub.pk


def test_hidden_spam_is_screened_after_sanitising(personas):
    """The spam hidden with display:none is visible after sanitising, so the screen sees it."""
    notice = _draft(personas, body='<p>通知</p><div style="display:none"><a href="http://x.example/">博彩</a></div>')
    with scopes_disabled():
        services.notice_submit(actor=personas.community_staff, notice=notice)
    notice.refresh_from_db()
    assert "博彩" in notice.hold_reason


def test_links_outside_the_allow_list_are_refused_at_approval(personas):
    notice = _draft(personas, body='<p>详见 <a href="https://www.bet-example.com/">这里</a></p>')
    with scopes_disabled():
        services.notice_submit(actor=personas.community_staff, notice=notice)
        with pytest.raises(ValidationError) as exc:
            services.notice_approve(actor=personas.street_hub, notice=notice)
    assert "www.bet-example.com" in exc.value.messages[0] and "允许名单" in exc.value.messages[0]
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING


def test_return_edit_resubmit_and_unpublish(personas):
    notice = _draft(personas)
    with scopes_disabled():
        services.notice_submit(actor=personas.community_staff, notice=notice)
        with pytest.raises(ValidationError):
            services.notice_update(actor=personas.community_staff, notice=notice, title="改", body="<p>改</p>")
        with pytest.raises(ValidationError) as exc:
            services.notice_return(actor=personas.street_hub, notice=notice, reason="")
        assert exc.value.messages == ["请填写退回原因。"]
        services.notice_return(actor=personas.street_hub, notice=notice, reason="请补充停水范围")
        notice.refresh_from_db()
        assert notice.status == NoticeStatus.DRAFT and notice.return_reason == "请补充停水范围"
        services.notice_update(actor=personas.community_staff, notice=notice, title="停水通知（更正）",
                               body="<p>1—8号楼停水</p>")
        services.notice_submit(actor=personas.community_staff, notice=notice)
        services.notice_approve(actor=personas.district_admin, notice=notice)
        assert PublishedPage.objects.filter(notice=notice).exists()
        services.notice_unpublish(actor=personas.community_staff, notice=notice, reason="已恢复供水")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.UNPUBLISHED
    assert not PublishedPage.objects.filter(notice=notice).exists()
    actions = list(AuditEntry.objects.filter(object_id=str(notice.pk), action__startswith="publishing.notice.")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["publishing.notice.created", "publishing.notice.submitted", "publishing.notice.returned",
                       "publishing.notice.updated", "publishing.notice.submitted", "publishing.notice.approved",
                       "publishing.notice.unpublished"]
