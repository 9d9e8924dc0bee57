"""Triggers that make the audit tables append-only, on SQLite and on PostgreSQL.

Row triggers refuse UPDATE and DELETE on both databases; on PostgreSQL a
statement trigger also refuses TRUNCATE (row triggers do not see it).  The
only code that lifts them is `triggers_lifted()`, used inside one transaction
by `audit_purge` (retention) and `flush` (emptying a whole test or demo
database): DDL is transactional on both databases, so no other connection
ever sees the tables unprotected, and a failure restores the triggers with
the rollback.
"""

from __future__ import annotations

import contextlib

from django.db import DatabaseError

AUDIT_TABLES = ("core_auditentry", "core_auditseal")


def create_statements(vendor: str) -> list[str]:
    statements = []
    if vendor == "postgresql":
        statements.append(
            """
            CREATE OR REPLACE FUNCTION zhouxin_audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table in AUDIT_TABLES:
            statements.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION zhouxin_audit_append_only();"
            )
            statements.append(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION zhouxin_audit_append_only();"
            )
    elif vendor == "sqlite":
        for table in AUDIT_TABLES:
            for op in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: {op} on {table} refused'); END;"
                )
    return statements


def drop_statements(vendor: str) -> list[str]:
    statements = []
    if vendor == "postgresql":
        for table in AUDIT_TABLES:
            statements.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
        statements.append("DROP FUNCTION IF EXISTS zhouxin_audit_append_only();")
    elif vendor == "sqlite":
        for table in AUDIT_TABLES:
            for op in ("update", "delete"):
                statements.append(f"DROP TRIGGER IF EXISTS {table}_no_{op};")
    return statements


def install(schema_editor) -> None:
    for sql in create_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, None)


def uninstall(schema_editor) -> None:
    for sql in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, None)


def installed(connection) -> bool:
    """True when the append-only triggers are in place on both tables."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)",
                [[f"{t}_append_only" for t in AUDIT_TABLES] + [f"{t}_no_truncate" for t in AUDIT_TABLES]],
            )
            return cursor.fetchone()[0] == 2 * len(AUDIT_TABLES)
        if connection.vendor == "sqlite":
            names = [f"{t}_no_{op}" for t in AUDIT_TABLES for op in ("update", "delete")]
            cursor.execute(
                # bandit B608 (medium) reviewed: only "?" placeholders are joined in; the names are parameters
                f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({','.join('?' * len(names))})",
                names,
            )
            return cursor.fetchone()[0] == len(names)
    return False


@contextlib.contextmanager
def triggers_lifted(connection):
    """Drop the append-only triggers for the enclosing transaction only.

    Must run inside `transaction.atomic()`: the triggers are recreated before
    the block ends, and if anything fails the rollback restores them anyway.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit triggers may only be lifted inside a transaction")
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for sql in drop_statements(vendor):
            cursor.execute(sql)
    try:
        yield
    except BaseException:
        # On SQLite the transaction may still commit if the caller swallows the
        # error, so put the triggers back; on PostgreSQL the failed transaction
        # can only roll back, which restores them, and this attempt just fails.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            for sql in create_statements(vendor):
                cursor.execute(sql)
        raise
    with connection.cursor() as cursor:
        for sql in create_statements(vendor):
            cursor.execute(sql)
