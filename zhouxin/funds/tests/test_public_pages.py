"""The portal's disclosure pages (三务公开, /portal/disclosures/): a community's items grouped 年度 /
季度 / 即时 with those in their notice period marked, each item's content as readable tables
with its fingerprint and the ways to check it, the section on the community page, and the pages
the integrity monitor watches.  Anyone may open them, without signing in; nothing personal or
internal is on them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from zhouxin.core import public_pages
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import disclosures
from zhouxin.funds.models import Disclosure
from zhouxin.orgs.models import Area

from . import disclosure_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(personas):
    """The workflow's decision and result, plus this year's yearly and this quarter's quarterly item."""
    w = data.build(personas)
    community = w.fund.community
    year, quarter = data.this_quarter()
    w.yearly = disclosures.publish_yearly(actor=personas.community_staff, community=community, year=w.fund.year)
    w.quarterly = disclosures.publish_quarterly(actor=personas.street_hub, community=community, year=year,
                                                quarter=quarter, today=data.after_quarter())
    return w


def text_of(html: str) -> str:
    """The visible text of a page, tags dropped and spaces collapsed."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def get(path, **params):
    response = Client().get(path, params)
    return response, response.content.decode()


# --- A community's disclosures -----------------------------------------------------------------

def test_community_list_groups_items_and_marks_the_notice_period(world):
    response, page = get(reverse("funds_public:community", args=[world.fund.community.code]))
    assert response.status_code == 200
    text = text_of(page)
    yearly, quarterly, immediate = text.index("年度公开"), text.index("季度公开"), text.index("即时公开")
    assert yearly < text.index(world.yearly.title) < quarterly < text.index(world.quarterly.title) < immediate
    assert text.index(world.decision.title, immediate) and text.index(world.result.title, immediate)
    # The decision and the result are in their notice period: listed first under 正在公示, and marked.
    assert text.index("正在公示") < yearly
    until = world.result.notice_until.isoformat()
    assert f"公示中，至 {until}" in text and text.count(f"公示中，至 {until}") == 2
    for item in (world.yearly, world.quarterly, world.decision, world.result):
        assert reverse("funds_public:disclosure", args=[item.pk]) in page


def test_an_item_past_its_notice_period_is_not_marked(personas, world, monkeypatch):
    from zhouxin.funds import views_public

    later = data.day(6)  # the day after the five-day notice period ends
    monkeypatch.setattr(views_public.timezone, "localdate", lambda: later)
    _, page = get(reverse("funds_public:community", args=[world.fund.community.code]))
    assert "公示中" not in page and "正在公示" not in page
    _, item = get(reverse("funds_public:disclosure", args=[world.result.pk]))
    assert "公示期已结束" in item


def test_community_list_filters_by_year(personas, world):
    last_year = data.make_fund(personas, year=world.fund.year - 1)
    old = disclosures.publish_yearly(actor=personas.community_staff, community=last_year.community,
                                     year=last_year.year)
    url = reverse("funds_public:community", args=[world.fund.community.code])
    _, everything = get(url)
    assert old.title in everything and world.yearly.title in everything
    _, filtered = get(url, year=last_year.year)
    assert old.title in filtered and world.yearly.title not in filtered


@pytest.mark.parametrize("code", ["110101001", "110101001001001", "999999999999", "abc"])
def test_only_a_community_has_a_disclosure_list(world, code):
    response, page = get(reverse("funds_public:community", args=[code]))
    assert response.status_code == 404 and "页面不存在" in page


def test_an_inactive_communitys_items_are_gone(world):
    with scopes_disabled():
        Area.objects.unscoped().filter(pk=world.fund.community_id).update(is_active=False)
    for url in (reverse("funds_public:community", args=[world.fund.community.code]),
                reverse("funds_public:disclosure", args=[world.yearly.pk]),
                reverse("funds_public:content", args=[world.yearly.pk]),
                reverse("funds_public:check", args=[world.yearly.pk])):
        assert Client().get(url).status_code == 404, url


def test_unknown_items_are_404(world):
    missing = Disclosure.objects.unscoped().order_by("-pk").first().pk + 1
    for name in ("funds_public:disclosure", "funds_public:content", "funds_public:check"):
        assert Client().get(reverse(name, args=[missing])).status_code == 404


def test_the_public_pages_only_answer_get(world):
    for url in (reverse("funds_public:disclosure", args=[world.yearly.pk]),
                reverse("funds_public:check", args=[world.yearly.pk]),
                reverse("funds_public:community", args=[world.fund.community.code])):
        assert Client().post(url).status_code == 405


# --- One item, as tables -----------------------------------------------------------------------

def test_yearly_item_shows_budget_sources_ratio_plans_and_scope(world):
    _, page = get(reverse("funds_public:disclosure", args=[world.yearly.pk]))
    text = text_of(page)
    assert "服务群众专项经费 ¥200,000.00 市级财政 ¥100,000.00（50.0%） 区级财政 ¥100,000.00（50.0%） 1 : 1" in text
    assert "¥33,200.00 ¥166,800.00" in text  # spent and the balance
    assert "楼院环境整治 经四议两公开" in text
    assert world.plan.number in text and world.plan.filing_number in text and "¥30,000.00" in text
    assert "不得用于 办公经费、工资福利" in text and "单项支出超过 ¥10,000.00 的" in text


def test_quarterly_item_shows_each_disbursement_and_the_closing_balance(world):
    _, page = get(reverse("funds_public:disclosure", args=[world.quarterly.pk]))
    text = text_of(page)
    assert f"楼道灯具更换 {data.day().year}年" in text and data.SMALL_PAYEE in text and "¥3,200.00" in text
    assert f"¥30,000.00 {data.PAYEE}" in text
    assert "合计 ¥0.00 ¥200,000.00 ¥33,200.00 ¥166,800.00" in text
    assert "公共设施小修 ¥3,200.00 1" in text and "市级财政 服务群众专项经费 ¥100,000.00 1" in text


def test_decision_item_shows_each_meeting_as_counts(world):
    _, page = get(reverse("funds_public:disclosure", args=[world.decision.pk]))
    text = text_of(page)
    assert "党员大会审议" in text and " 30 24 20 2 2 通过" in text and " 50 40 35 3 2 通过" in text
    assert "应到 实到 赞成 反对 弃权" in text and "决议通过本计划" in text


def test_result_item_shows_payments_vouchers_acceptance_and_notice(world):
    _, page = get(reverse("funds_public:disclosure", args=[world.result.pk]))
    text = text_of(page)
    assert "实际拨付 ¥30,000.00" in text and "支出凭证 2 份" in text and "发票 1、现场照片 1" in text
    assert "工程按计划完成" in text and world.plan.filing_number in text
    until = world.result.notice_until
    assert f"至 {until.year}年{until.month}月{until.day}日" in text


def test_the_page_is_public_mobile_first_and_keeps_staff_and_people_out(personas, world):
    response, page = get(reverse("funds_public:disclosure", args=[world.decision.pk]))
    assert response.status_code == 200 and 'name="viewport"' in page and "zx-stack" in page
    for secret in (personas.community_staff.full_name, personas.street_hub.full_name, "吴桂兰", "13812341234",
                   data.MINUTES, data.PARTICIPANTS):
        assert secret not in page
    assert "/funds/" not in page  # no link into the staff side
    # CSP: no inline script or style; the check runs from a static file.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) and 'style="' not in page


def test_the_page_offers_the_three_ways_to_check(world):
    item = world.result
    _, page = get(reverse("funds_public:disclosure", args=[item.pk]))
    assert "内容指纹（SHA-256）" in page and f'<code class="text-break" id="zx-fingerprint">{item.content_hash}</code>' in page
    assert f"本社区第 {item.seq} 条公开" in page and item.prev_link in page and item.link_hash in page
    assert "disclosure-verify.js" in page and finders.find("zhouxin/disclosure-verify.js")
    assert f'data-url="{reverse("funds_public:content", args=[item.pk])}"' in page
    assert f'data-expected="{item.content_hash}"' in page and "本机计算结果与公示指纹一致" in page
    assert f'action="{reverse("funds_public:check", args=[item.pk])}#zx-check"' in page
    size = len(disclosures.canonical_bytes(item.content))
    assert f"content.json（{size} 字节）" in page


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_browser_check_computes_the_same_fingerprint(world):
    """disclosure-verify.js's own SHA-256 (used where crypto.subtle is unavailable, e.g. plain HTTP
    on an intranet) gives the published fingerprint for the served bytes."""
    script = Path(finders.find("zhouxin/disclosure-verify.js")).read_text(encoding="utf-8")
    served = Client().get(reverse("funds_public:content", args=[world.yearly.pk])).content
    program = (
        "globalThis.window = {}; globalThis.document = {addEventListener() {}};\n"
        + script.replace('document.addEventListener("DOMContentLoaded"',
                         'globalThis.sha256Fallback = sha256Fallback; document.addEventListener("DOMContentLoaded"')
        + "\nconst bytes = new Uint8Array(JSON.parse(process.argv[1]));"
        + "\nprocess.stdout.write(globalThis.sha256Fallback(bytes));"
    )
    result = subprocess.run(["node", "-e", program, json.dumps(list(served))], capture_output=True, text=True,
                            timeout=30, check=True)
    assert result.stdout == world.yearly.content_hash


# --- The community page and the integrity monitor ------------------------------------------------

def test_the_community_page_has_a_disclosure_section(world, personas):
    _, page = get(reverse("portal:community", args=[world.fund.community.code]))
    text = text_of(page)
    assert "三务公开" in text and world.yearly.title in text and world.result.title in text
    assert reverse("funds_public:community", args=[world.fund.community.code]) in page
    _, other = get(reverse("portal:community", args=[personas.areas["community_b"].code]))
    assert "查看全部三务公开" not in other  # nothing published there: no section


def test_the_integrity_monitor_watches_every_item_and_list(world):
    from zhouxin.publishing import integrity, monitor
    from zhouxin.publishing.policy import allowed_hosts

    pages = public_pages.collect()
    expected = {reverse("funds_public:community", args=[world.fund.community.code])} | {
        reverse("funds_public:disclosure", args=[d.pk])
        for d in (world.decision, world.result, world.yearly, world.quarterly)}
    assert expected <= set(pages) and expected <= set(monitor.portal_pages())
    assert pages[reverse("funds_public:disclosure", args=[world.yearly.pk])] == world.yearly.title
    for path in sorted(expected):
        check = integrity.check_page(path, approved_hash=None, allowed=allowed_hosts(),
                                     search_words=pages[path])
        assert check.problems == [], (path, check.problems)


def test_lists_take_the_same_queries_however_many_items(personas, world, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    community = world.fund.community
    pages = [(Client(), reverse("funds_public:community", args=[community.code])),
             (Client(), reverse("portal:community", args=[community.code])),
             (client_for("street_hub"), reverse("funds:disclosure_list"))]

    def counts():
        found = []
        for client, url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    counts()  # warm the caches (the policy store's rules)
    before = counts()
    for quarter in range(1, (data.day().month - 1) // 3 + 1):  # the earlier quarters, and one more plan
        disclosures.publish_quarterly(actor=personas.street_hub, community=community, year=data.day().year,
                                      quarter=quarter)
    plan = data.propose(personas, world.fund, title="老年餐桌设备", amount="12000.00", category="为老助残服务")
    data.deliberate(personas, plan)
    assert Disclosure.objects.unscoped().filter(community=community).count() >= 5
    assert counts() == before
