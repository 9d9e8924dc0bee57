"""python manage.py load_demo [--seed N]

Loads the demo district (Beijing Dongcheng) deterministically from a seed.
Idempotent: a second run finds everything and adds nothing.  Refused unless
settings.DEMO_ENABLED (never in production).
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhouxin.orgs.demo import DEFAULT_SEED, DemoUnavailable, load_demo


class Command(BaseCommand):
    help = "Load the demo district (Beijing Dongcheng) with a login for every role. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")

    def handle(self, *args, seed, **options):
        try:
            report = load_demo(seed=seed)
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        labels = {"areas": _("区域"), "grids": _("网格"), "sectors": _("行业"), "organisations": _("组织"),
                  "people": _("人员"), "logins": _("账号"), "grants": _("授权"), "totp_devices": _("动态口令设备")}
        created = pgettext("列表分隔", "，").join(f"{labels.get(kind, kind)} {n}" for kind, n in report.created.items()) or _("无")
        totals = report.totals
        self.stdout.write(_(
            "演示数据（种子 %(seed)d）：%(streets)d 个街道、%(communities)d 个社区、%(grids)d 个网格、"
            "%(orgs)d 个组织、%(people)d 名人员、%(logins)d 个演示账号。本次新增：%(created)s。用时 %(s).1f 秒。"
        ) % {"seed": seed, "streets": totals["streets"], "communities": totals["communities"],
             "grids": totals["grids"], "orgs": totals["organisations"], "people": totals["people"],
             "logins": totals["logins"], "created": created, "s": report.seconds})
