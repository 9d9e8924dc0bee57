"""The database engine `zhouxin.core.pgbackend`: Django's PostgreSQL backend with its own
INSERT compiler (compiler.py).  Everything else is Django's."""

from django.db.backends.postgresql import base


class DatabaseOperations(base.DatabaseOperations):
    compiler_module = "zhouxin.core.pgbackend.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
