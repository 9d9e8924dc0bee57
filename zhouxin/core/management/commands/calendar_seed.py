"""Seed the working-day calendar from the chinese-calendar package (idempotent, fast)."""

from django.core.management.base import BaseCommand

from zhouxin.core import workdays


class Command(BaseCommand):
    help = "用 chinese-calendar 包初始化节假日日历 (seed the holiday calendar from chinese-calendar)"

    def handle(self, *args, **options):
        result = workdays.calendar_seed(actor=None)
        first, last = result.years[0], result.years[-1]
        self.stdout.write(
            f"节假日日历：{first}–{last} 年，更新 {len(result.changed)} 年，"
            f"管理员已发布而保留 {len(result.skipped_admin)} 年 "
            f"(calendar {first}-{last}: {len(result.changed)} years written, "
            f"{len(result.skipped_admin)} kept as published by an administrator)"
        )
