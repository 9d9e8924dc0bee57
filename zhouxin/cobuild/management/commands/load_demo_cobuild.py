"""Load a year of demo co-building: resources, needs, claims, projects (idempotent; only where the demo is enabled)."""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.cobuild import demo
from zhouxin.orgs.demo import DemoUnavailable


class Command(BaseCommand):
    help = "为演示区加载一年的共驻共建资源、需求、认领和项目（可重复执行）(load demo co-building; idempotent)"

    def handle(self, *args, **options):
        try:
            created = demo.load_demo_cobuild()
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"演示共建需求：新建 {created} 个 (demo co-building needs created: {created})")
