"""Scoping: every read of scoped data is limited to the caller's grants.

A scoped model's default manager refuses to build a query unless a scope is
active (the request's user, set by ScopeMiddleware), the caller asked for one
explicitly (`Model.objects.restrict(user)`) or scoping was disabled on purpose
(`scopes_disabled()` in imports, tasks and commands that act for the system).
A forgotten scope therefore fails loudly instead of leaking another community's
rows: the same contract as django-scopes, with the area tree's subtree rule
(a grant on a node reaches every code that starts with the node's code).
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db import connections, models, router
from django.db.models import Q

from .choices import ADMIN_ROLES, AREA_ROLES


class ScopeError(RuntimeError):
    """A scoped model was queried with no scope active."""


@dataclass(frozen=True)
class Scope:
    """What one user reaches: area code prefixes per role, and their organisations."""

    prefixes_by_role: dict[str, tuple[str, ...]] = field(default_factory=dict)
    organisation_ids: tuple[int, ...] = ()
    user_id: int | None = None
    # The id of each granted area by its code (read with the grants), for models that store the
    # district or street of a row as a column: see ScopedManager's id_fields.
    area_ids: dict[str, int] = field(default_factory=dict)

    def prefixes(self, roles=AREA_ROLES) -> tuple[str, ...]:
        found: set[str] = set()
        for role in roles:
            found.update(self.prefixes_by_role.get(role, ()))
        # A prefix already covered by a shorter one adds nothing.
        ordered = sorted(found, key=len)
        kept: list[str] = []
        for prefix in ordered:
            if not any(prefix.startswith(k) for k in kept):
                kept.append(prefix)
        return tuple(kept)

    def covers(self, code: str, roles=AREA_ROLES) -> bool:
        return any(code.startswith(p) for p in self.prefixes(roles))

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.prefixes_by_role)


EMPTY_SCOPE = Scope()


class _Disabled:
    pass


DISABLED = _Disabled()
_current: contextvars.ContextVar[Scope | _Disabled | None] = contextvars.ContextVar("zhouxin_scope", default=None)


def scope_for_user(user) -> Scope:
    """Build (and cache on the user object) the scope of a user's active grants."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY_SCOPE
    cached = getattr(user, "_zhouxin_scope", None)
    if cached is not None:
        return cached

    by_role: dict[str, set[str]] = {}
    org_ids: set[int] = set()
    area_ids: dict[str, int] = {}
    for role, code, area_id, org_id in _active_grants(user.pk):
        if role in ADMIN_ROLES:
            by_role.setdefault(role, set())  # 三员 reach no business data
            continue
        by_role.setdefault(role, set()).add(code)
        area_ids[code] = area_id
        if org_id:
            org_ids.add(org_id)
    scope = Scope(
        prefixes_by_role={role: tuple(sorted(codes)) for role, codes in by_role.items()},
        organisation_ids=tuple(sorted(org_ids)),
        user_id=user.pk,
        area_ids=area_ids,
    )
    user._zhouxin_scope = scope
    return scope


_GRANTS_SQL: dict[str, str] = {}


def _active_grants(user_id: int) -> list[tuple[str, str, int, int | None]]:
    """(role, area code, area id, organisation id) of the user's active grants.

    The same as Grant.objects.filter(user=user, active=True).values_list("role", "area__code",
    "area_id", "organisation_id"), as SQL built once per connection: every signed-in request
    asks it, and the ORM spent about 0.4 ms of CPU compiling it each time, more than the
    database spent answering (measured for request intake, docs/performance.md)."""
    from .models import Grant

    connection = connections[router.db_for_read(Grant)]
    sql = _GRANTS_SQL.get(connection.alias)
    if sql is None:
        quote = connection.ops.quote_name
        grant, area = Grant._meta, Grant._meta.get_field("area").related_model._meta
        # bandit B608 (medium) reviewed: quoted table and column names from _meta; the user id is a parameter
        sql = _GRANTS_SQL[connection.alias] = (
            f"SELECT g.{quote(grant.get_field('role').column)}, a.{quote(area.get_field('code').column)}, "
            f"g.{quote(grant.get_field('area').column)}, g.{quote(grant.get_field('organisation').column)} "
            f"FROM {quote(grant.db_table)} g INNER JOIN {quote(area.db_table)} a "
            f"ON a.{quote(area.pk.column)} = g.{quote(grant.get_field('area').column)} "
            f"WHERE g.{quote(grant.get_field('user').column)} = %s AND g.{quote(grant.get_field('active').column)} = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, True])
        return cursor.fetchall()


@contextlib.contextmanager
def activate(scope: Scope):
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


@contextlib.contextmanager
def scopes_disabled():
    """For work done on behalf of the system (imports, seeding, tasks), said out loud."""
    token = _current.set(DISABLED)
    try:
        yield
    finally:
        _current.reset(token)


def current_scope() -> Scope | _Disabled | None:
    return _current.get()


class ScopedQuerySet(models.QuerySet):
    pass


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    """Default manager of a scoped model.

    scope_field: the path to an area code (e.g. "home_area__code").
    roles: which grants reach the model through the area tree.
    org_field: optionally, the path to an organisation id that a user's
        organisation grants (department handler, unit liaison) also reach.
    id_fields: optionally, code length → a column holding the id of the row's
        area at that level, e.g. {6: "district_id", 9: "street_id"} for requests,
        whose district and street are fixed at intake.  A grant on a district
        then reads `district_id = <id>` (an index) instead of joining every row
        to its area for `code LIKE '110101%'`: at city scale the difference
        between 10 ms and seconds (docs/performance.md).  Same rows either way.
    """

    def __init__(self, *, scope_field: str | None = None, roles=AREA_ROLES, org_field: str | None = None,
                 id_fields: dict[int, str] | None = None):
        # Django builds reverse-relation managers (area.organisations) by subclassing
        # this class and calling __init__() with no arguments, so the configuration
        # lives on the model (set in contribute_to_class), not on the instance.
        super().__init__()
        self._config = (scope_field, frozenset(roles), org_field, dict(id_fields or {})) if scope_field else None

    def contribute_to_class(self, cls, name):
        super().contribute_to_class(cls, name)
        if self._config is not None:
            cls._zhouxin_scope_config = self._config

    @property
    def scope_field(self) -> str:
        return self.model._zhouxin_scope_config[0]

    @property
    def roles(self) -> frozenset[str]:
        return self.model._zhouxin_scope_config[1]

    @property
    def org_field(self) -> str | None:
        return self.model._zhouxin_scope_config[2]

    def deconstruct(self):
        # Managers are not serialised into migrations with their arguments.
        return (False, "django.db.models.Manager", None, [], {})

    @property
    def id_fields(self) -> dict[int, str]:
        return self.model._zhouxin_scope_config[3]

    def scope_parts(self, scope: Scope) -> tuple[Q, Q | None]:
        """The scope as (the area part, the organisation part or None); scope_q is their OR.

        Apart, each can be read with an index: a count over `area OR organisation` makes
        PostgreSQL scan the table (it cannot combine an index with a subquery in an OR)."""
        parts = []
        for prefix in scope.prefixes(self.roles):
            column, area_id = self.id_fields.get(len(prefix)), scope.area_ids.get(prefix)
            if column and area_id:
                parts.append(Q(**{column: area_id}))
            else:
                parts.append(Q(**{f"{self.scope_field}__startswith": prefix}))
        area = reduce(or_, parts) if parts else Q(pk__in=[])
        if not (self.org_field and scope.organisation_ids):
            return area, None
        lookup = {f"{self.org_field}__in": scope.organisation_ids}
        if self.model._meta.get_field(self.org_field.split("__")[0]).many_to_one:
            return area, Q(**lookup)
        # A to-many path (assignments__organisation_id): a subquery, so rows are not repeated.
        return area, Q(pk__in=self.model._base_manager.filter(**lookup).values("pk"))

    def scope_q(self, scope: Scope) -> Q:
        area, organisation = self.scope_parts(scope)
        return area if organisation is None else area | organisation

    def _base(self):
        return super().get_queryset()

    def get_queryset(self):
        scope = _current.get()
        if scope is None:
            raise ScopeError(
                f"{self.model.__name__} is scoped: query it inside a request, with "
                f"{self.model.__name__}.objects.restrict(user), or inside scopes_disabled()."
            )
        if scope is DISABLED:
            return self._base()
        return self._base().filter(self.scope_q(scope))

    def restrict(self, user):
        """Rows the given user's grants reach, whatever scope is active."""
        return self._base().filter(self.scope_q(scope_for_user(user)))

    def unscoped(self):
        """Every row, on purpose (system work and tests)."""
        return self._base()
