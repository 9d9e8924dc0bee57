"""Django's flush, able to empty the append-only tables (audit log, funds ledger and disclosures).

SQLite flushes with DELETE, which the row triggers refuse; PostgreSQL flushes
with TRUNCATE, which the statement trigger refuses.  Flushing wipes the whole
database (tests, a fresh demo), so the triggers are lifted inside the flush's
own transaction and are back in place when it commits.  Deleting old audit
entries in production is `audit_purge`'s job, never this command's.
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections, transaction

from zhouxin.core import append_only, audit_sql  # noqa: F401  (audit_sql registers its group)


class Command(FlushCommand):
    def handle(self, **options):
        database = options["database"]
        connection = connections[database]
        if connection.vendor not in ("sqlite", "postgresql"):
            return super().handle(**options)
        with transaction.atomic(using=database), append_only.all_lifted(connection):
            return super().handle(**options)
