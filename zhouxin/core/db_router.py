"""Read-replica routing for dashboards, reports and exports.

With DATABASE_REPLICA_URL set (zhouxin/settings.py) a second alias "replica" points at a
PostgreSQL streaming standby.  Reads go there only inside ``replica_reads()`` — a context
manager and decorator put on the heavy read paths (the analytics dashboard, the oversight
report builder, the dispatch rankings and trends, the xlsx exports).  Everything else, and
every write, stays on "default".

The trade-off is replication lag: a standby replays the primary's WAL a little later (usually
milliseconds, seconds under load, longer if replay is paused or the standby is behind), so a
page read from the replica may not yet show what was saved a moment ago.  That is acceptable
for aggregate dashboards, rankings and exports, which already describe a period, not the
last second; it is not acceptable for pages that confirm a user's own change or for services
that read and then write — so those never use the replica:

- ``db_for_write`` is always "default", also inside ``replica_reads()``;
- inside ``transaction.atomic()`` on "default" reads stay on "default" (read-your-writes in
  services, and a service that reads and then writes sees one consistent database);
- without a "replica" alias (development, SQLite) nothing changes; under the test runner the
  alias mirrors "default" and test cases run inside a transaction, so reads stay on "default";
- put ``@replica_reads`` inside ``@staff_view``: the session, the user and the view's permission
  check are then read on the primary before the block starts.  Scoping inside the block may
  read grants on the replica, so a grant revoked a moment ago can still narrow or widen an
  export's rows for the length of the lag — the view's own check has already refused the user.
- if the replica is down, the pages that use it answer 503 like any database outage
  (zhouxin/core/faults.py); there is no automatic fallback to the primary.

Relations between objects loaded from either alias are allowed (same data); migrations run
only on "default" (the standby is read-only and gets the schema through replication).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from contextlib import ContextDecorator

from django.db import connections

REPLICA = "replica"
DEFAULT = "default"

_replica_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("zhouxin_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def reading_from_replica() -> bool:
    """True where a read made now would go to the replica."""
    return (_replica_allowed.get() and replica_configured()
            and not connections[DEFAULT].in_atomic_block)


class replica_reads(ContextDecorator):  # noqa: N801 - used like a function: `with replica_reads():`
    """Allow reads to go to the replica within the block or the decorated function.

    Nests; restores the previous state on exit (also on exceptions).  Usable as
    ``@replica_reads()`` or bare ``@replica_reads`` on views and task functions.
    """

    def __new__(cls, func=None):
        self = super().__new__(cls)
        self._tokens = []
        if func is not None and callable(func):
            return self(func)
        return self

    def __enter__(self):
        self._tokens.append(_replica_allowed.set(True))
        return self

    def __exit__(self, *exc):
        _replica_allowed.reset(self._tokens.pop())
        return False

    def __call__(self, func):
        if inspect.iscoroutinefunction(func):  # pragma: no cover - no async views yet
            @functools.wraps(func)
            async def inner(*args, **kwargs):
                with replica_reads():
                    return await func(*args, **kwargs)
            return inner

        @functools.wraps(func)
        def inner(*args, **kwargs):
            # A fresh instance per call: the decorator is shared between threads.
            with replica_reads():
                return func(*args, **kwargs)
        return inner


class ReplicaRouter:
    """Send reads to "replica" only inside replica_reads() and outside transactions on default."""

    def db_for_read(self, model, **hints):
        return REPLICA if reading_from_replica() else DEFAULT

    def db_for_write(self, model, **hints):
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT
