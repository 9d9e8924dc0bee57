"""Load the demo joint conferences (idempotent; only where the demo is enabled)."""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.conferences import demo
from zhouxin.orgs.demo import DemoUnavailable


class Command(BaseCommand):
    help = "为演示区加载联席会议、会议与督办事项（可重复执行）(load demo joint conferences; idempotent)"

    def handle(self, *args, **options):
        try:
            created = demo.load_demo_conferences()
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"演示联席会议：新建 {created} 个 (demo conferences created: {created})")
