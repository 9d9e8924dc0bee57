"""Back up the whole database into one verified file (see zhouxin/core/backup.py and docs/operations-backup.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhouxin.core import backup


def describe(archive: backup.Archive) -> str:
    m = archive.manifest
    head = m["audit"]["head_seq"]
    return _("%(path)s：校验通过。%(vendor)s 备份，创建于 %(created)s；%(tables)d 张表，%(rows)d 行；"
             "审计链头第 %(head)s 环；SHA-256 %(sha)s") % {
        "path": archive.path, "vendor": backup.VENDOR_LABELS[archive.vendor], "created": m["created_at"],
        "tables": len(m["tables"]), "rows": archive.total_rows, "head": head if head is not None else "-",
        "sha": archive.sha256}


def table_lines(manifest: dict) -> list[str]:
    return [f"  {name:<48} {info['rows']:>10}  {info['sha256'][:16]}" for name, info in manifest["tables"].items()]


class Command(BaseCommand):
    help = "备份整个数据库到一个经过校验的文件 (back up the whole database into one verified file)"

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="PATH",
                            help="备份文件或目录；默认 var/backups/zhouxin-YYYYmmdd-HHMMSS.zxbak "
                                 "(backup file or directory)")
        parser.add_argument("--verify", metavar="FILE",
                            help="只校验一个备份文件，不备份 (only verify FILE, write nothing)")

    def handle(self, *args, **options):
        try:
            if options["verify"]:
                archive = backup.verify_archive(options["verify"])
                self.stdout.write(describe(archive))
                for warning in archive.warnings:
                    self.stdout.write(self.style.WARNING(warning))
                if options["verbosity"] >= 2:
                    self.stdout.write("\n".join(table_lines(archive.manifest)))
                return
            result = backup.create_backup(actor=None, output=options["output"])
        except backup.BackupError as exc:
            raise CommandError(exc.message) from None
        if options["verbosity"] >= 2:
            self.stdout.write("\n".join(table_lines(result.manifest)))
        head = result.manifest["audit"]["head_seq"]
        self.stdout.write(self.style.SUCCESS(_(
            "备份完成：%(path)s（%(size)d 字节）；%(tables)d 张表，%(rows)d 行；审计链头第 %(head)s 环；"
            "SHA-256 %(sha)s") % {"path": result.path, "size": result.size, "tables": result.tables,
                                  "rows": result.rows, "head": head if head is not None else "-",
                                  "sha": result.sha256}))
