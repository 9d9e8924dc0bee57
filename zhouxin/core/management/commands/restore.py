"""Restore the database from a backup file, verified before and after (see zhouxin/core/backup.py)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from zhouxin.core import backup

from .backup import describe, table_lines


class Command(BaseCommand):
    help = "从备份文件恢复数据库，恢复前后都校验 (restore the database from a backup, verified before and after)"

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="备份文件 (.zxbak)")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接覆盖当前数据库 (do not ask)")
        parser.add_argument("--verify-only", action="store_true",
                            help="只校验备份文件，不恢复 (check the archive, restore nothing)")
        parser.add_argument("--no-safety-copy", action="store_true",
                            help="恢复前不为当前数据库写安全副本 (skip the safety copy of the current database)")

    def handle(self, *args, **options):
        try:
            # --verify-only checks the dump itself too; a restore does that once, before touching anything.
            check = backup.verify_archive if options["verify_only"] else backup.read_archive
            archive = check(options["file"])
        except backup.BackupError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(describe(archive))
        for warning in archive.warnings:
            self.stdout.write(self.style.WARNING(warning))
        if options["verify_only"]:
            if options["verbosity"] >= 2:
                self.stdout.write("\n".join(table_lines(archive.manifest)))
            return
        if not options["yes"]:
            self.confirm(archive)
        try:
            result = backup.restore_backup(actor=None, archive=archive, safety_copy=not options["no_safety_copy"],
                                           on_progress=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(exc.message) from None
        if result.problems:
            bar = "!" * 72
            lines = [bar, _("恢复后校验失败！数据库已被替换，但与备份清单不一致："), *[f"  - {p}" for p in result.problems]]
            if result.safety_copy:
                lines.append(_("恢复前的数据库保存在安全副本 %(path)s，可用它再次恢复。") % {"path": result.safety_copy})
            lines.append(bar)
            self.stderr.write("\n".join(lines))
            raise CommandError(_("恢复后校验失败。"), returncode=2)
        if options["verbosity"] >= 2:
            self.stdout.write("\n".join(table_lines(archive.manifest)))
        self.stdout.write(self.style.SUCCESS(_(
            "恢复完成，校验通过（OK）：%(tables)d 张表、%(rows)d 行的行数与内容摘要一致；迁移状态一致；"
            "审计链完整（链头第 %(head)s 环）。") % {
            "tables": len(archive.manifest["tables"]), "rows": archive.total_rows,
            "head": archive.manifest["audit"]["head_seq"] or "-"}))

    def confirm(self, archive: backup.Archive) -> None:
        name = connection.settings_dict.get("NAME")
        if not sys.stdin.isatty():
            raise CommandError(_("恢复会用备份覆盖当前数据库 %(db)s。非交互运行时请加 --yes 确认。") % {"db": name})
        answer = input(_("恢复会用 %(created)s 的备份覆盖当前数据库 %(db)s。输入 yes 继续：")
                       % {"created": archive.manifest["created_at"], "db": name})
        if answer.strip().lower() not in ("yes", "是"):
            raise CommandError(_("已取消，数据库未改动。"))
