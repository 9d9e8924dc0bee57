"""Load a year of demo volunteering (双报到): registrations, activities, hours, wishes (idempotent; only where the
demo is enabled)."""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.orgs.demo import DemoUnavailable
from zhouxin.volunteers import demo


class Command(BaseCommand):
    help = "为演示区加载一年的双报到、志愿服务活动和微心愿（可重复执行）(load demo volunteering; idempotent)"

    def handle(self, *args, **options):
        try:
            created = demo.load_demo_volunteers()
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            "演示双报到：新建单位报到 {unit_registrations} 个、党员报到 {member_registrations} 个、志愿活动 {activities} 个、"
            "微心愿 {wishes} 个、单位反馈 {feedback_batches} 批 (demo volunteering created: "
            "{unit_registrations} unit and {member_registrations} member registrations, {activities} activities, "
            "{wishes} wishes, {feedback_batches} feedback batches)".format(**created))
