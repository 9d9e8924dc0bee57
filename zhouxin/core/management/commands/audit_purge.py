"""Delete audit entries older than the retention period — the only path that deletes audit rows."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from zhouxin.core import audit


class Command(BaseCommand):
    help = "清理保留期以前的审计记录 (purge audit entries recorded before DATE; retention ≥ 180 days)"

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, metavar="YYYY-MM-DD",
                            help="清理此日期（不含）之前记录的审计条目 (purge entries recorded before this date)")

    def handle(self, *args, **options):
        try:
            before = dt.date.fromisoformat(options["before"])
        except ValueError:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{options['before']} (date must be YYYY-MM-DD)") from None
        try:
            result = audit.purge(actor=None, before=before)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"已清理 {result.deleted_entries} 条审计记录、{result.deleted_seals} 个链环；"
            f"新的链起点为第 {result.anchor_seq} 环；清理本身记为审计记录 #{result.record.pk} "
            f"(purged {result.deleted_entries} entries and {result.deleted_seals} links; "
            f"chain now starts at position {result.anchor_seq}; purge recorded as entry #{result.record.pk})"
        )
        report = audit.verify_chain()
        if not report.ok:
            raise CommandError(
                f"清理后审计链校验失败：第 {report.broken_seq} 环，记录 #{report.broken_entry_id}：{report.reason} "
                f"({report.reason_en})"
            )
        self.stdout.write(f"清理后审计链完整，已校验 {report.checked} 环 (chain verifies: {report.checked} links)")
