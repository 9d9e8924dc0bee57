"""Load two years of demo community funds (经费保障): funds, spending plans through 四议两公开, the ledger and the
disclosures (idempotent; only where the demo is enabled)."""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.funds import demo
from zhouxin.orgs.demo import DemoUnavailable


class Command(BaseCommand):
    help = "为演示区加载两年的社区经费、支出计划和三务公开（可重复执行）(load demo community funds; idempotent)"

    def handle(self, *args, **options):
        try:
            created = demo.load_demo_funds()
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            "演示社区经费：新建经费 {funds} 个、支出计划 {plans} 个、三务公开 {disclosures} 条 (demo funds created: "
            "{funds} funds, {plans} spending plans, {disclosures} disclosures)".format(**created))
