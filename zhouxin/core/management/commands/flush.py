"""Django's flush, able to empty the append-only audit tables on SQLite.

SQLite flushes with DELETE, which the audit triggers refuse; PostgreSQL
flushes with TRUNCATE, which row triggers do not see.  Flushing wipes the
whole database (tests, a fresh demo), so on SQLite the triggers are dropped
and recreated around it, inside the flush's own transaction.
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections, transaction

from zhouxin.core import audit_sql


class Command(FlushCommand):
    def handle(self, **options):
        database = options["database"]
        connection = connections[database]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=database):
            with connection.cursor() as cursor:
                for sql in audit_sql.drop_statements("sqlite"):
                    cursor.execute(sql)
            try:
                return super().handle(**options)
            finally:
                with connection.cursor() as cursor:
                    for sql in audit_sql.create_statements("sqlite"):
                        cursor.execute(sql)
