"""Append-only tables: triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), on
SQLite and on PostgreSQL, for the audit log (core.audit_sql) and the funds ledger and disclosures
(funds.ledger_sql).

Row triggers refuse UPDATE and DELETE on both databases; on PostgreSQL a statement trigger also
refuses TRUNCATE (row triggers do not see it).  The only code that lifts them is
`triggers_lifted()`, used inside one transaction by retention jobs and by `flush` (emptying a
whole test or demo database): DDL is transactional on both databases, so no other connection
ever sees the tables unprotected, and a failure restores the triggers with the rollback.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.db import DatabaseError

_GROUPS: dict[str, AppendOnly] = {}


@dataclass(frozen=True)
class AppendOnly:
    """A group of append-only tables sharing one PostgreSQL trigger function."""

    function: str  # PostgreSQL function name
    label: str  # what the refusal message calls the tables ("audit log")
    tables: tuple[str, ...]

    def create_statements(self, vendor: str) -> list[str]:
        statements = []
        if vendor == "postgresql":
            statements.append(
                f"""
                CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION '{self.label} is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                        USING ERRCODE = 'insufficient_privilege';
                END;
                $$ LANGUAGE plpgsql;
                """
            )
            for table in self.tables:
                statements.append(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {self.function}();"
                )
                statements.append(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {self.function}();"
                )
        elif vendor == "sqlite":
            for table in self.tables:
                for op in ("UPDATE", "DELETE"):
                    statements.append(
                        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{self.label} is append-only: {op} on {table} refused'); END;"
                    )
        return statements

    def drop_statements(self, vendor: str) -> list[str]:
        statements = []
        if vendor == "postgresql":
            for table in self.tables:
                statements.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
                statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
            statements.append(f"DROP FUNCTION IF EXISTS {self.function}();")
        elif vendor == "sqlite":
            for table in self.tables:
                for op in ("update", "delete"):
                    statements.append(f"DROP TRIGGER IF EXISTS {table}_no_{op};")
        return statements

    def install(self, schema_editor) -> None:
        for sql in self.create_statements(schema_editor.connection.vendor):
            schema_editor.execute(sql, None)

    def uninstall(self, schema_editor) -> None:
        for sql in self.drop_statements(schema_editor.connection.vendor):
            schema_editor.execute(sql, None)

    def installed(self, connection) -> bool:
        """True when the append-only triggers are in place on every table of the group."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                names = [f"{t}_append_only" for t in self.tables] + [f"{t}_no_truncate" for t in self.tables]
                cursor.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)",
                               [names])
                return cursor.fetchone()[0] == len(names)
            if connection.vendor == "sqlite":
                names = [f"{t}_no_{op}" for t in self.tables for op in ("update", "delete")]
                cursor.execute(
                    # bandit B608 (medium) reviewed: only "?" placeholders are joined in; the names are parameters
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                    f"({','.join('?' * len(names))})",
                    names,
                )
                return cursor.fetchone()[0] == len(names)
        return False

    @contextlib.contextmanager
    def triggers_lifted(self, connection):
        """Drop the append-only triggers for the enclosing transaction only.

        Must run inside `transaction.atomic()`: the triggers are recreated before the block
        ends, and if anything fails the rollback restores them anyway.
        """
        if not connection.in_atomic_block:
            raise RuntimeError(f"{self.label} triggers may only be lifted inside a transaction")
        vendor = connection.vendor
        with connection.cursor() as cursor:
            for sql in self.drop_statements(vendor):
                cursor.execute(sql)
        try:
            yield
        except BaseException:
            # On SQLite the transaction may still commit if the caller swallows the error, so
            # put the triggers back; on PostgreSQL the failed transaction can only roll back,
            # which restores them, and this attempt just fails.
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                for sql in self.create_statements(vendor):
                    cursor.execute(sql)
            raise
        with connection.cursor() as cursor:
            for sql in self.create_statements(vendor):
                cursor.execute(sql)


def register(group: AppendOnly) -> AppendOnly:
    """Make a group known to `all_lifted()` (flush); returns it for a module-level constant."""
    _GROUPS[group.function] = group
    return group


def groups() -> list[AppendOnly]:
    return list(_GROUPS.values())


@contextlib.contextmanager
def all_lifted(connection):
    """Every registered group's triggers lifted (flush of a whole database)."""
    with contextlib.ExitStack() as stack:
        for group in list(_GROUPS.values()):
            stack.enter_context(group.triggers_lifted(connection))
        yield
