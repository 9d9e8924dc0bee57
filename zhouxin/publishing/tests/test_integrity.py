"""The integrity monitor: approve → verify passes; a body changed in the database, a template
changed on disk, crawler cloaking and a link to a site off the allow-list are each found, the
page is withheld, the security admin is alerted and everything is audited."""

import datetime as dt
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing import integrity, monitor, services
from zhouxin.publishing.choices import AlertKind, CheckResult, NoticeStatus
from zhouxin.publishing.models import FileBaseline, Notice, PublishedPage, SecurityAlert

from .helpers import publish

SPAM_TEXT = "澳门葡京赌场"


def _run(portal=False):
    with scopes_disabled():
        return monitor.run(portal=portal)


def _public(path):
    return Client().get(path, headers={"User-Agent": integrity.BROWSER_UA})


def _assert_withheld(notice, *, code):
    page = PublishedPage.objects.get(notice=notice)
    assert page.withheld and page.last_result == CheckResult.MISMATCH
    assert code in {p["code"] for p in page.last_problems}
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.WITHHELD
    for ua in (integrity.BROWSER_UA, integrity.BAIDUSPIDER_UA):
        response = Client().get(page.path, headers={"User-Agent": ua})
        assert response.status_code == 503
        text = response.content.decode()
        assert "页面核查中" in text and notice.title not in text and SPAM_TEXT not in text
    alert = SecurityAlert.objects.get(kind=AlertKind.PAGE, page=page)
    assert alert.acknowledged_at is None and page.path in alert.message
    assert AuditEntry.objects.filter(action="publishing.page.withheld", object_id=str(page.pk)).exists()
    return page


def test_approved_notice_verifies_and_is_public(personas):
    notice = publish(personas)
    response = _public(notice.public_path)
    assert response.status_code == 200 and "停水通知" in response.content.decode()
    result = _run(portal=True)
    assert result.ok, result.as_dict()
    assert result.baseline_recorded and FileBaseline.objects.exists()
    paths = {p["path"] for p in result.pages}
    assert notice.public_path in paths
    assert f"/portal/community/{personas.areas['community_a'].code}/" in paths  # portal pages checked too
    page = PublishedPage.objects.get(notice=notice)
    assert page.last_result == CheckResult.OK and not page.withheld and page.last_checked_at
    run = AuditEntry.objects.filter(action="publishing.verify.run").latest("id")
    assert run.result == "ok"
    # The community page lists the notice (public section).
    community = _public(f"/portal/community/{personas.areas['community_a'].code}/").content.decode()
    assert notice.title in community and notice.public_path in community


def test_body_changed_in_the_database_is_detected_and_withheld(personas):
    notice = publish(personas)
    assert _run().ok
    Notice.objects.unscoped().filter(pk=notice.pk).update(body=notice.body + f"<p>{SPAM_TEXT} 在线博彩</p>")
    assert SPAM_TEXT in _public(notice.public_path).content.decode()  # tampered, before the monitor runs
    result = _run()
    assert not result.ok and result.newly_withheld == [notice.public_path]
    page = _assert_withheld(notice, code="hash")
    # A second run does not raise a second alert for the same page.
    _run()
    assert SecurityAlert.objects.filter(page=page).count() == 1


def test_verify_command_exits_non_zero_and_prints_json(personas):
    notice = publish(personas)
    out = StringIO()
    call_command("verify_published", "--json", "--no-portal", stdout=out)
    assert json.loads(out.getvalue())["ok"] is True
    Notice.objects.unscoped().filter(pk=notice.pk).update(title="改过的标题")
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("verify_published", "--json", "--no-portal", stdout=out)
    assert exc.value.returncode == 1
    report = json.loads(out.getvalue())
    assert report["ok"] is False
    [page] = [p for p in report["pages"] if p["path"] == notice.public_path]
    assert page["withheld"] and page["problems"][0]["message"] == "页面正文与审核通过时不一致。"


def test_cloaking_for_spiders_is_detected(personas, settings):
    notice = publish(personas)
    assert _run().ok
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "zhouxin.publishing.tests.cloaking.SpamForSpiders"]
    # People see the real page; only crawlers get the spam.
    assert SPAM_TEXT not in _public(notice.public_path).content.decode()
    result = _run()
    assert not result.ok
    page = _assert_withheld(notice, code="cloaking")
    variants = {p["details"].get("variant") for p in page.last_problems if p["code"] == "cloaking"}
    assert variants == {"baiduspider", "googlebot"}
    assert any(SPAM_TEXT in p["details"].get("excerpt", "") for p in page.last_problems)
    assert {"www.bet365-cn.example", "www.av-example.net"} <= set(
        next(p for p in page.last_problems if p["code"] == "links")["details"]["hosts"])


def test_cloaking_for_search_referers_is_detected_on_portal_pages_too(personas, settings):
    publish(personas)
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "zhouxin.publishing.tests.cloaking.SpamForSearchVisitors"]
    result = _run(portal=True)
    assert not result.ok
    community = f"/portal/community/{personas.areas['community_a'].code}/"
    page = PublishedPage.objects.get(path=community)
    assert page.withheld
    assert [p["details"]["variant"] for p in page.last_problems if p["code"] == "cloaking"] == ["search_referer"]
    response = Client().get(community, headers={"Referer": "https://www.baidu.com/s?wd=多福巷"})
    assert response.status_code == 503 and SPAM_TEXT not in response.content.decode()


def test_template_changed_on_disk_is_detected(personas, settings, tmp_path):
    """A copy of the publishing templates comes first in DIRS; changing the copy on disk (as an
    intruder editing a template would) is found even before the server reloads it."""
    copy = tmp_path / "templates"
    shutil.copytree(Path(settings.BASE_DIR) / "zhouxin" / "publishing" / "templates", copy)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [copy, *settings.TEMPLATES[0]["DIRS"]]}]
    notice = publish(personas)
    assert _run().ok
    detail = copy / "publishing" / "public" / "notice.html"
    detail.write_text(detail.read_text().replace("{% endblock %}", f"<p>{SPAM_TEXT}</p>{{% endblock %}}"))
    result = _run()
    key = integrity.template_key(str(detail))
    assert result.files.changed == [key]
    page = _assert_withheld(notice, code="files")
    assert next(p for p in page.last_problems if p["code"] == "files")["details"]["files"] == [key]
    files_alert = SecurityAlert.objects.get(kind=AlertKind.FILES)
    assert files_alert.details["changed"] == [key]
    assert AuditEntry.objects.filter(action="publishing.files.changed").count() == 1
    # Re-approval is refused while the files differ from the baseline.
    with pytest.raises(ValidationError) as exc, scopes_disabled():
        services.page_reapprove(actor=personas.security_admin, page=page, note="已核查")
    assert "基线" in exc.value.messages[0]


def test_added_template_file_is_reported(personas, settings, tmp_path):
    copy = tmp_path / "templates"
    copy.mkdir()
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [copy, *settings.TEMPLATES[0]["DIRS"]]}]
    assert _run().ok
    (copy / "seo.html").write_text(f"<a href='http://x.example/'>{SPAM_TEXT}</a>")
    result = _run()
    assert result.files.added == [integrity.template_key(str(copy / "seo.html"))]
    assert not result.ok


def test_link_to_a_site_off_the_allow_list_is_detected(personas):
    today = timezone.localdate()
    with scopes_disabled():
        policy.policy_set(actor=personas.security_admin, key="publishing.links",
                          value={"allowed_hosts": ["gov.cn", "example.org"]}, effective_from=today)
    notice = publish(personas, body='<p>报名见 <a href="https://www.example.org/form">报名表</a></p>')
    assert _run().ok
    with scopes_disabled():
        policy.policy_set(actor=personas.security_admin, key="publishing.links",
                          value={"allowed_hosts": ["gov.cn"]}, effective_from=today)
    result = _run()
    assert not result.ok
    page = _assert_withheld(notice, code="links")
    assert [p["code"] for p in page.last_problems] == ["links"]
    assert page.last_problems[0]["details"]["hosts"] == ["www.example.org"]


def test_security_admin_reapproves_after_review(personas):
    notice = publish(personas)
    _run()
    Notice.objects.unscoped().filter(pk=notice.pk).update(body="<p>停水时间改为6月4日（经核实的更正）</p>")
    _run()
    page = PublishedPage.objects.get(notice=notice)
    assert page.withheld
    with pytest.raises(ValidationError) as exc, scopes_disabled():
        services.page_reapprove(actor=personas.security_admin, page=page, note="")
    assert exc.value.messages == ["请填写复核说明：核查了什么、为什么可以恢复公开。"]
    with scopes_disabled():
        services.page_reapprove(actor=personas.security_admin, page=page, note="已与社区核实，属正常更正")
    page.refresh_from_db()
    notice.refresh_from_db()
    assert not page.withheld and notice.status == NoticeStatus.PUBLISHED
    assert page.approved_hash == notice.content_hash != ""
    assert "6月4日" in _public(notice.public_path).content.decode()
    assert _run().ok
    assert AuditEntry.objects.filter(action="publishing.page.reapproved", actor=personas.security_admin).exists()


def test_reapproval_refused_while_cloaking_goes_on(personas, settings):
    notice = publish(personas)
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "zhouxin.publishing.tests.cloaking.SpamForSpiders"]
    _run()
    page = PublishedPage.objects.get(notice=notice)
    with pytest.raises(ValidationError) as exc, scopes_disabled():
        services.page_reapprove(actor=personas.security_admin, page=page, note="看过了")
    assert "页面仍有问题" in exc.value.messages[0]
    page.refresh_from_db()
    assert page.withheld


def test_unpublished_notice_leaves_the_monitor(personas):
    notice = publish(personas)
    with scopes_disabled():
        services.notice_unpublish(actor=personas.community_staff, notice=notice)
    result = _run()
    assert result.ok and notice.public_path not in {p["path"] for p in result.pages}
    assert _public(notice.public_path).status_code == 404


def test_baseline_command_records_files(personas):
    out = StringIO()
    call_command("integrity_baseline", stdout=out)
    count = FileBaseline.objects.count()
    assert count > 10 and f"{count} 个文件" in out.getvalue()
    assert FileBaseline.objects.filter(key="template:zhouxin/publishing/templates/publishing/public/_article.html")\
        .exists()
    assert FileBaseline.objects.filter(key="static:zhouxin/app.css").exists()
    entry = AuditEntry.objects.get(action="publishing.baseline.recorded")
    assert entry.after["files"] == count


def test_canonical_region_is_exactly_what_was_hashed(personas):
    notice = publish(personas)
    html = _public(notice.public_path).content.decode()
    [region] = integrity.canonical_regions(html)
    assert integrity.region_hash(region) == notice.content_hash
    assert integrity.canonical_regions(html + '<article data-zx-canonical="x"><p>2</p></article>').__len__() == 2


def test_published_at_of_the_page_is_shanghai_time(personas):
    notice = publish(personas)
    html = _public(notice.public_path).content.decode()
    local = timezone.localtime(notice.published_at)
    assert local.utcoffset() == dt.timedelta(hours=8)
    assert local.strftime("%Y-%m-%d") in html
