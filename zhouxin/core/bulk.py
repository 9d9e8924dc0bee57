"""Reading and writing rows where Django's helpers cost more than the work.

`get_by_pk` reads one row by primary key with SQL compiled once per model and database (the
signed-in user on every request, core.backends).

`update_rows` is QuerySet.bulk_update for a batch whose rows each get their own values.
bulk_update builds one `CASE WHEN id = … THEN …` per field and row: measured in the intake
worker (docs/performance.md, "Request intake"), it spent 1.6 s of Python on three batches
of 200 rows with ten fields, more than everything else the worker does.  On PostgreSQL
`update_rows` sends one `UPDATE … FROM UNNEST(column arrays)` instead (one array parameter
per column, as Django's own bulk_create does there); other databases keep bulk_update.
Values are prepared by the fields themselves (get_db_prep_save), so encrypted fields and
JSON are written exactly as save() writes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router

UPDATE_BATCH = 1000

_by_pk: dict[tuple, tuple] = {}


def get_by_pk(model, pk):
    """`model._base_manager.filter(pk=pk).first()` (no manager's filter, every concrete field),
    or None, without compiling the query again: the SQL and the fields' converters (JSON, …)
    are worked out once per model and database, which is most of the 0.45 ms the ORM spends
    on such a read (docs/performance.md, "Request intake")."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    compiled = _by_pk.get((model, alias))
    if compiled is None:
        query = model._base_manager.using(alias).filter(pk=pk).query
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        if len(params) != 1 or len(compiler.select) != len(model._meta.concrete_fields):
            raise ValueError(f"get_by_pk: unexpected query for {model._meta.label}: {sql[:80]}")
        columns = [col for col, _sql, _alias in compiler.select]
        # The backend's converters (SQLite's times) and the fields' (JSON), as the ORM applies them.
        converters = [(index, functions, col)
                      for index, (functions, col) in compiler.get_converters(columns).items()]
        compiled = _by_pk[(model, alias)] = (sql, [col.target.attname for col in columns], converters)
    sql, attnames, converters = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.pk.get_db_prep_value(pk, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = list(row)
        for index, functions, col in converters:
            for function in functions:
                row[index] = function(row[index], col, connection)
    return model.from_db(alias, attnames, row)


def update_rows(model, objects: Sequence, field_names: Sequence[str], *, manager=None) -> int:
    """UPDATE `field_names` of every object (each with its own values) by primary key.

    `manager`: the manager bulk_update uses where the fast path does not apply (default: the
    model's `_base_manager`, which no scope restricts).  Returns the number of rows updated."""
    if not objects:
        return 0
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    if connection.vendor != "postgresql":
        return (manager or model._base_manager).bulk_update(objects, field_names, batch_size=UPDATE_BATCH)
    quote = connection.ops.quote_name
    pk = meta.pk
    columns = [pk, *fields]
    # One array per column, in psycopg's binary format where PostgreSQL binds the parameters
    # (zhouxin/core/pgbackend: four times cheaper to build than the text format).
    placeholder = "%b" if connection.features.uses_server_side_binding else "%s"
    arrays = ", ".join(f"({placeholder})::{f.db_type(connection).split('(')[0]}[]" for f in columns)
    names = ", ".join(quote(f.column) for f in columns)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    table = quote(meta.db_table)
    # bandit B608 (medium) reviewed: quoted table/column names and db types from _meta; the values are parameters
    sql = (f"UPDATE {table} SET {assignments} FROM UNNEST({arrays}) AS v({names}) "
           f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}")
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objects), UPDATE_BATCH):
            chunk = objects[start:start + UPDATE_BATCH]
            params = [[obj.pk for obj in chunk]]
            params += [[f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in chunk] for f in fields]
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated



_insert_sql: dict[tuple, str] = {}
_insert_fields: dict[tuple, tuple] = {}
# Field classes whose get_db_prep_save gives a value of this exact type back unchanged (no
# subclasses: an encrypted text field is a TextField too).
_UNCHANGED = {models.CharField: str, models.TextField: str, models.BooleanField: bool, models.AutoField: int,
              models.BigAutoField: int, models.SmallAutoField: int, models.IntegerField: int,
              models.BigIntegerField: int, models.SmallIntegerField: int, models.PositiveIntegerField: int,
              models.PositiveSmallIntegerField: int, models.PositiveBigIntegerField: int}


def _preparers(obj, connection, with_pk: bool) -> tuple[list, list]:
    """insert_statement's columns and, for each, (field, the value type it passes through unchanged or
    None, whether None passes through unchanged), worked out once per model and database: preparing
    some fifty values with get_db_prep_save was a tenth of an intake's time in the web process."""
    meta = obj._meta
    key = (meta.label, connection.alias, with_pk)
    found = _insert_fields.get(key)
    if found is None:
        fields = [f for f in meta.local_concrete_fields if not f.generated and (with_pk or f is not meta.pk)]
        preparers = []
        for field in fields:
            target = field.target_field if field.is_relation else field
            passes = _UNCHANGED.get(type(target)) if not field.is_relation or type(field) is models.ForeignKey else None
            preparers.append((field, passes, field.get_db_prep_save(None, connection) is None))
        found = _insert_fields[key] = (fields, preparers)
    return found


def insert_statement(obj, *, connection) -> tuple[str, list]:
    """The `INSERT INTO … (columns) VALUES (…)` that save(force_insert=True) would send for an
    unsaved `obj` (every local column, its primary key too when set), with its parameters.

    Values are prepared as save() prepares them, by the fields themselves (pre_save:
    auto_now times; get_db_prep_save: encryption, JSON); the statement text is built once per
    model and column list.  For writing the row together with other rows in one statement
    (audit.record_with_insert).  A field left at its database default (db_default) is
    refused: its DEFAULT keyword cannot be moved into a SELECT list.  Empty (NULL) values are
    written into the statement's text rather than passed as parameters."""
    from django.db.models.expressions import DatabaseDefault

    connection = connections[connection.alias]  # the connection itself: not the proxy, looked up per access
    meta = obj._meta
    with_pk = obj.pk is not None
    fields, preparers = _preparers(obj, connection, with_pk)
    params = []
    for field, passes, none_passes in preparers:
        value = field.pre_save(obj, True)
        kind = type(value)
        if kind is passes or (value is None and none_passes):
            params.append(value)  # what get_db_prep_save would give back: the value itself
        else:
            params.append(field.get_db_prep_save(value, connection))
    unset = [f.name for f, value in zip(fields, params, strict=True) if isinstance(value, DatabaseDefault)]
    if unset:
        raise ValueError(f"insert_statement: give {meta.label}'s {', '.join(unset)} a value")
    # NULLs are written into the text, so that a new
    # row's many empty columns add no parameters: psycopg caches the parsing of a statement
    # only up to 50 of them, and a new request has 50 columns.
    nulls = tuple(value is None for value in params)
    key = (meta.label, connection.alias, with_pk, nulls)
    sql = _insert_sql.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        values = ", ".join("NULL" if null else "%s" for null in nulls)
        # bandit B608 (medium) reviewed: quoted table and column names from _meta; the values are parameters
        sql = _insert_sql[key] = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                                  f"VALUES ({values})")
    return sql, [value for value in params if value is not None]

