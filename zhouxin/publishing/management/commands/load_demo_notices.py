"""Publish a few demo notices in the demo district (idempotent; only where the demo is enabled)."""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.orgs.demo import DemoUnavailable
from zhouxin.publishing import demo


class Command(BaseCommand):
    help = "为演示区发布几条社区公告（可重复执行）(publish demo notices; idempotent)"

    def handle(self, *args, **options):
        try:
            created = demo.load_demo_notices()
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"演示公告：新发布 {created} 条 (demo notices published: {created})")
