"""Seal what is pending, then verify the whole audit chain; exit 1 at the first broken link."""

import sys

from django.core.management.base import BaseCommand

from zhouxin.core import audit


class Command(BaseCommand):
    help = "封存待封存的审计记录并校验整条审计链 (seal pending audit entries, then verify the chain)"

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true", help="只校验，不先封存 (verify only)")

    def handle(self, *args, **options):
        sealed = 0 if options["no_seal"] else audit.seal_all(scope="all")
        report = audit.verify_chain()
        self.stdout.write(
            f"审计记录 {report.entries} 条；本次封存 {sealed} 条；已校验 {report.checked} 环；"
            f"未封存 {report.unsealed} 条 "
            f"(entries {report.entries}, sealed now {sealed}, links checked {report.checked}, "
            f"unsealed {report.unsealed})"
        )
        if report.anchor_seq != 1:
            self.stdout.write(f"链起点（清理后锚点）：第 {report.anchor_seq} 环 (anchor position {report.anchor_seq})")
        if not report.ok:
            self.stderr.write(
                f"审计链断裂：第 {report.broken_seq} 环，审计记录 #{report.broken_entry_id}：{report.reason} "
                f"(broken link at position {report.broken_seq}, audit entry #{report.broken_entry_id}: "
                f"{report.reason_en})"
            )
            sys.exit(1)
        if report.head_seq is not None:
            self.stdout.write(
                f"审计链完整；链头第 {report.head_seq} 环，摘要 {report.head_hash} "
                f"(chain intact; head position {report.head_seq}, hash {report.head_hash})"
            )
        else:
            self.stdout.write("审计链为空 (the chain is empty)")
