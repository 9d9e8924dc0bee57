from django.urls import reverse

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing import monitor
from zhouxin.publishing.choices import NoticeStatus
from zhouxin.publishing.models import Notice, PublishedPage, SecurityAlert

from .helpers import publish


def test_write_submit_and_approve_through_the_pages(personas, client_for):
    staff = client_for("community_staff")
    response = staff.post(reverse("publishing:notice_create"), {
        "area": personas.areas["community_a"].pk, "title": "社区义诊活动通知",
        "body": '<p>本周六上午社区卫生站义诊。</p><p style="display:none">隐藏</p><script>x()</script>'})
    assert response.status_code == 302
    with scopes_disabled():
        notice = Notice.objects.get(title="社区义诊活动通知")
    assert notice.body == "<p>本周六上午社区卫生站义诊。</p><p>隐藏</p>"
    staff.post(reverse("publishing:notice_submit", args=[notice.pk]))
    # The author sees that another person must approve, and has no approve button.
    page = staff.get(reverse("publishing:notice_detail", args=[notice.pk])).content.decode()
    assert "需要由另一位审核人批准发布" in page and reverse("publishing:notice_approve", args=[notice.pk]) not in page
    hub = client_for("street_hub")
    page = hub.get(reverse("publishing:notice_detail", args=[notice.pk])).content.decode()
    assert "批准并发布" in page
    response = hub.post(reverse("publishing:notice_approve", args=[notice.pk]), follow=True)
    assert "公告已发布。" in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PUBLISHED
    public = client_for("resident").get(notice.public_path)
    assert public.status_code == 200 and "社区义诊活动通知" in public.content.decode()


def test_author_approving_own_notice_sees_a_chinese_message(personas, client_for):
    hub = client_for("street_hub")
    with scopes_disabled():
        from zhouxin.publishing import services

        notice = services.notice_create(actor=personas.street_hub, area=personas.areas["street_a"],
                                        title="街道通知", body="<p>内容</p>")
        services.notice_submit(actor=personas.street_hub, notice=notice)
    response = hub.post(reverse("publishing:notice_approve", args=[notice.pk]), follow=True)
    assert "不能批准自己撰写的公告，请由另一位审核人批准。" in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING


def test_held_notice_shows_the_reason_and_cannot_be_approved(personas, client_for):
    staff = client_for("community_staff")
    staff.post(reverse("publishing:notice_create"), {
        "area": personas.areas["community_a"].pk, "title": "活动", "body": "<p>线上博彩送彩金</p>"})
    with scopes_disabled():
        notice = Notice.objects.get(title="活动")
    staff.post(reverse("publishing:notice_submit", args=[notice.pk]))
    hub = client_for("street_hub")
    page = hub.get(reverse("publishing:notice_detail", args=[notice.pk])).content.decode()
    assert "含有疑似垃圾信息词语：博彩" in page
    response = hub.post(reverse("publishing:notice_approve", args=[notice.pk]), follow=True)
    assert "内容筛查未通过，不能发布：含有疑似垃圾信息词语：博彩" in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PENDING


def test_bad_form_input_is_refused_with_messages(personas, client_for):
    staff = client_for("community_staff")
    response = staff.post(reverse("publishing:notice_create"), {
        "area": personas.areas["community_b"].pk, "title": "", "body": ""})
    assert response.status_code == 422
    text = response.content.decode()
    assert "请选择您管辖范围内的街道或社区。" in text and "请填写标题。" in text and "请填写正文。" in text
    with scopes_disabled():
        assert not Notice.objects.exists()


def test_list_is_scoped_with_bounded_queries(personas, client_for, django_assert_max_num_queries):
    for n in range(3):
        publish(personas, title=f"多福巷公告{n}")
    publish(personas, title="吉祥社区公告", area="community_b", author="community_staff_b", approver="district_admin")
    staff = client_for("community_staff")
    with django_assert_max_num_queries(14):
        text = staff.get(reverse("publishing:notice_list")).content.decode()
    assert "多福巷公告2" in text and "吉祥社区公告" not in text


def test_security_admin_sees_and_acknowledges_alerts(personas, client_for):
    notice = publish(personas)
    with scopes_disabled():
        monitor.run(portal=False)
        Notice.objects.unscoped().filter(pk=notice.pk).update(body="<p>被篡改</p>")
        monitor.run(portal=False)
    alert = SecurityAlert.objects.get()
    page = PublishedPage.objects.get(notice=notice)
    security = client_for("security_admin")
    text = security.get(reverse("publishing:integrity")).content.decode()
    assert "已暂停公开" in text and notice.public_path in text and "页面正文与审核通过时不一致" in text
    detail = security.get(reverse("publishing:page_detail", args=[page.pk])).content.decode()
    assert "&lt;p&gt;被篡改&lt;/p&gt;" in detail  # the current region as source, not rendered
    security.post(reverse("publishing:alert_acknowledge", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.acknowledged_by == personas.security_admin
    response = security.post(reverse("publishing:alert_acknowledge", args=[alert.pk]), follow=True)
    assert "这条告警已经确认过了。" in response.content.decode()
    response = security.post(reverse("publishing:page_reapprove", args=[page.pk]), {"note": "已核实"}, follow=True)
    assert "页面已复核通过，恢复公开。" in response.content.decode()
    assert AuditEntry.objects.filter(action="publishing.alert.acknowledged").count() == 1
