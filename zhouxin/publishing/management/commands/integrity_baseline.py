"""Record the template and static files on disk as the integrity baseline (run by `make run`
before the server starts; the audit entry keeps what changed since the previous baseline)."""

from django.core.management.base import BaseCommand

from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing import services


class Command(BaseCommand):
    help = "记录模板与静态文件的基线哈希 (record the template and static file baseline)"

    def handle(self, *args, **options):
        with scopes_disabled():
            changes = services.baseline_record(actor=None)
        count = services.baseline_count()
        self.stdout.write(f"已记录文件基线 {count} 个文件，与上次相比改动 {len(changes.changed)}、新增 {len(changes.added)}、"
                          f"删除 {len(changes.removed)} (baseline recorded: {count} files)")
