"""python manage.py demo_logins [--url URL]

Prints where the demo runs and every demo login: username, role, area,
password, and how to get the current TOTP code.  Demo mode only.
"""

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

from zhouxin.orgs.demo import DemoUnavailable, demo_login_rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "Print the demo URL and every demo login with its password and TOTP instructions (demo mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the web server listens")

    def handle(self, *args, url, **options):
        try:
            rows = demo_login_rows()
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        header = [_("用户名"), _("姓名"), _("角色"), _("区域"), _("密码"), _("动态口令")]
        table = []
        for row in rows:
            code = (f"python manage.py demo_code {row.username}" if row.needs_totp else _("无需"))
            table.append([row.username, row.full_name, row.role_label, row.area_name, row.password, code])
        widths = [max(_width(str(r[i])) for r in [header, *table]) for i in range(len(header))]
        out = self.stdout
        out.write("")
        out.write(_("轴心演示环境：%(url)s") % {"url": url})
        login = url.rstrip("/") + resolve_url(settings.LOGIN_URL)
        out.write(_("登录地址：%(url)s") % {"url": login})
        out.write(_("居民网站（无需登录）：%(url)s") % {"url": url.rstrip("/") + resolve_url("portal:home")})
        out.write(_("接口文档（登录后）：%(url)s") % {"url": url.rstrip("/") + resolve_url("api:docs")})
        out.write("")
        for line in [header, *table]:
            out.write("  ".join(_pad(str(cell), widths[i]) for i, cell in enumerate(line)).rstrip())
        out.write("")
        out.write(_("工作人员账号需要动态口令（TOTP）：在另一个终端运行 .venv/bin/python manage.py demo_code 用户名，"
                    "或把下面的密钥加到任何身份验证器 App："))
        for row in rows:
            if row.needs_totp:
                out.write(f"  {_pad(row.username, 20)}{row.secret}")
        out.write("")
