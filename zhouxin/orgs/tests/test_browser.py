"""The street hub's journey in a real Chromium (Debian's, see conftest.py): sign in with TOTP,
open the tree, find a community by pinyin initials, import an xlsx with one bad row and see
that row's error while nothing is imported.

The import task is run by a real `manage.py db_worker` process pointed at the test database.
pytest-playwright keeps a full-page screenshot of a failure under test-results/.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from zhouxin.core.choices import JobStatus
from zhouxin.core.models import ImportJob
from zhouxin.orgs.models import Organisation
from zhouxin.testing.browser import open_from_menu
from zhouxin.testing.personas import PASSWORD

from .test_imports import DUOFU, JIXIANG, ORG_HEADERS, YINZHA, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TIMEOUT_MS = 15_000


def test_street_hub_signs_in_finds_a_community_and_a_bad_import_changes_nothing(
        personas, live_server, task_worker, page):
    from playwright.sync_api import expect

    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url

    # 1. Password, then the TOTP code.
    page.goto(url + reverse("core:login"))
    page.get_by_label("用户名").fill("street_hub")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(url + reverse("core:verify_totp"))
    page.get_by_label("验证码").fill(personas.totp("street_hub"))
    page.get_by_role("button", name="验证并登录").click()

    # 2. The workbench.
    expect(page).to_have_url(url + reverse("core:home"))
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_text("李淑珍")).to_be_visible()

    # 3. The tree: the street is open at its first level; expanding a community loads its grids.
    open_from_menu(page, "区域与组织", "区域与组织")
    expect(page).to_have_url(url + reverse("orgs:tree"))
    tree = page.locator(".zx-tree--root")
    expect(tree.get_by_role("link", name="多福巷社区", exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="多福巷社区第一网格")).to_be_hidden()
    toggle = tree.get_by_role("button", name="多福巷社区的下级区域")
    toggle.click()
    expect(tree.get_by_role("link", name="多福巷社区第一网格")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")

    # 4. Search by pinyin initials: "dfx" is 多福巷.
    page.get_by_role("searchbox").fill("dfx")
    results = page.locator("#zx-search-results")
    expect(results.get_by_role("link").filter(has_text="多福巷社区").first).to_be_visible()
    expect(results).not_to_contain_text("吉祥社区")

    # 5. Import organisations into the street: row 3 names 吉祥社区, which is another street's.
    open_from_menu(page, "区域与组织", "数据导入")
    expect(page).to_have_url(url + reverse("orgs:import"))
    before = Organisation.objects.unscoped().count()
    content = xlsx_bytes(ORG_HEADERS, [
        ["多福巷社区第十党支部", "党支部", DUOFU, "中共多福巷社区委员会", "", "", "", "", 8],
        ["吉祥社区第十党支部", "党支部", JIXIANG, "", "", "", "", "", ""],
        ["银闸社区第十党支部", "党支部", YINZHA, "", "", "", "", "", ""],
    ])
    page.get_by_label("组织", exact=True).check()
    page.get_by_label("导入范围").select_option("110101001")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(
        {"name": "东华门街道党组织.xlsx", "mimeType": XLSX, "buffer": content})
    page.get_by_role("button", name="上传并检查").click()

    # 6. The job page polls until the worker has finished: the bar is full, the row is named.
    job = ImportJob.objects.get()
    expect(page).to_have_url(url + reverse("orgs:import_job", args=[job.pk]))
    result = page.locator("#job-result")
    expect(result).to_contain_text("发现 1 处错误，没有导入任何数据")
    bar = page.get_by_role("progressbar", name="导入进度")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar.locator(".progress-bar")).to_have_css("width", bar.evaluate("e => getComputedStyle(e).width"))
    errors = page.locator("#job-errors")
    expect(errors.get_by_role("row")).to_have_count(2)  # header + the one bad row
    bad_row = errors.get_by_role("row").nth(1)
    expect(bad_row).to_contain_text("第 3 行")
    expect(bad_row).to_contain_text("所在区域代码")
    expect(bad_row).to_contain_text(JIXIANG)

    # Nothing was imported, not even the two good rows.
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.created_count == 0
    assert Organisation.objects.unscoped().count() == before
    assert not Organisation.objects.unscoped().filter(name__endswith="第十党支部").exists()
