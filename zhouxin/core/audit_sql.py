"""Triggers that make the audit tables append-only, on SQLite and on PostgreSQL."""

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
