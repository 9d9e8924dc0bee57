"""Django's PostgreSQL compilers; the INSERT one sends bulk column arrays in binary (see __init__)."""

from django.db.backends.postgresql import compiler as _postgresql
from django.db.backends.postgresql.compiler import (
    InsertUnnest,
    SQLAggregateCompiler,
    SQLCompiler,
    SQLDeleteCompiler,
    SQLUpdateCompiler,
)

__all__ = ["SQLAggregateCompiler", "SQLCompiler", "SQLDeleteCompiler", "SQLInsertCompiler", "SQLUpdateCompiler"]


def binary_array(placeholder: str) -> str:
    """`(%s)::type[]` → `(%b)::type[]`: the parameter in psycopg's binary format."""
    if not placeholder.startswith("(%s)::"):
        raise ValueError(f"unexpected UNNEST placeholder: {placeholder}")
    return "(%b)" + placeholder[4:]


class SQLInsertCompiler(_postgresql.SQLInsertCompiler):
    def assemble_as_sql(self, fields, value_rows):
        placeholders, params = super().assemble_as_sql(fields, value_rows)
        if isinstance(placeholders, InsertUnnest) and self.connection.features.uses_server_side_binding:
            placeholders = InsertUnnest([binary_array(p) for p in placeholders])
        return placeholders, params
