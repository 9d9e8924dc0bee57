"""Helpers for the Playwright journeys."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


class Axe:
    """Runs axe-core (from npm, injected by the test; the page's context needs bypass_csp=True)
    on pages and keeps the serious and critical violations."""

    def __init__(self):
        if not AXE_JS.exists():
            pytest.fail(f"{AXE_JS} is missing: run `npm ci` (axe-core is a devDependency in package.json)")
        self.source = AXE_JS.read_text(encoding="utf-8")
        self.checked: list[str] = []
        self.findings: list[str] = []

    def check(self, page, name: str) -> None:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=self.source)
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
        }""")
        self.checked.append(name)
        for violation in result:
            if violation["impact"] in BLOCKING_IMPACTS:
                for node in violation["nodes"]:
                    self.findings.append(f"[{name}] {violation['id']} ({violation['impact']}): {violation['help']}\n"
                                         f"    {node['target']}\n    {node['summary']}")

    def check_url(self, context, url: str) -> None:
        """Open `url` in a new page of `context`, check it, close the page."""
        page = context.new_page()
        page.goto(url)
        self.check(page, url)
        page.close()

    def assert_clean(self) -> None:
        report = "\n".join(self.findings)
        if report:
            print(f"axe-core: serious/critical violations\n{report}")
        assert not self.findings, f"axe-core found serious/critical violations:\n{report}"



def open_from_menu(page, menu: str, entry: str) -> None:
    """Click `entry` in the top bar: inside the menu named `menu` when the user's bar groups
    it there, or the plain link when the group has a single entry for this user."""
    nav = page.get_by_role("navigation", name="主导航")
    toggle = nav.get_by_role("button", name=menu)
    if toggle.count():
        toggle.click()
        nav.locator(".dropdown-menu.show").get_by_role("link", name=entry, exact=True).click()
    else:
        nav.get_by_role("link", name=entry, exact=True).click()


def sign_in(page, url: str, personas, username: str) -> None:
    """Sign a persona in on the staff site: password, then the TOTP code where the role has one
    (a unit's liaison signs in with the password alone); ends on the workbench."""
    import re

    from django.urls import reverse
    from playwright.sync_api import expect

    from zhouxin.testing.personas import PASSWORD

    page.goto(url + reverse("core:login"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(url) + f"({re.escape(reverse('core:verify_totp'))}|/)$"))
    if page.url.endswith(reverse("core:verify_totp")):
        page.get_by_label("验证码").fill(personas.totp(username))
        page.get_by_role("button", name="验证并登录").click()
    expect(page).to_have_url(url + reverse("core:home"))


def portal_sign_in(page, url: str, next_path: str, phone: str) -> None:
    """Sign a resident in on the portal by phone and text code (the code read from the in-memory
    outbox, settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"); ends on `next_path`."""
    import re

    from django.urls import reverse
    from playwright.sync_api import expect

    from zhouxin.portal import sms

    page.goto(url + reverse("portal:signin") + f"?next={next_path}")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label(re.compile("^我已阅读并同意《居民账号个人信息处理告知》")).check()
    page.get_by_role("button", name="获取登录验证码").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("输入登录验证码")
    page.get_by_label("短信验证码").fill(re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1))
    page.get_by_role("button", name="登录").tap()
    expect(page).to_have_url(url + next_path)
