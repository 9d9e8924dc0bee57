"""Roll-ups: the monthly counters behind the three rates, kept up to date event by event.

Every RequestEvent is folded into the roll-up tables by `apply_event()`, called by
the services in the same transaction right after the event is written, so no page
ever scans raw requests.  `rebuild()` recomputes the tables by replaying every
event through the same fold (`fold()`), and `check()` compares without writing;
`manage.py rebuild_rollups` runs either.

Subjects.  The month of every counter is the month the *request* was received
(Asia/Shanghai), whatever the month of the event: a request received on 30 April
and called back on 3 May counts in April's rates, as the 12345 monthly assessment
counts a month's requests.  Each event moves
  * Rollup of the request's street,
  * Rollup of the request's community (the community-level ancestor of its area,
    code[:12]; none when the request was filed on the street itself),
  * Rollup of ``event.organisation`` (the lead handler at that moment), when set,
  * CategoryRollup (month, street, top-level category): volume by category.

Which counters each action moves is the table COUNTERS below, the one place it is
defined.  Three rules need the request's earlier events (its "state"), and all are
computed by folding those events again, so live and replayed results agree:
  * Response rate = first contact within the deadline / requests due (DESIGN).  A
    request becomes due either when it is first contacted (``contacted``, in time or
    not) or when the SLA sweep finds its contact deadline passed with nobody having
    called (``contact_overdue``, written once per request), whichever comes first: a
    request that is never contacted counts as due and not in time, so ignoring a
    request cannot flatter a handler.  A ``contacted`` event of a request whose
    ``contact_overdue`` event already counted it on a row adds nothing more to that
    row (neither due nor in time: the deadline had passed).  Rows are counted per
    subject: when the lead changed between the two events (or there was none when the
    sweep ran), the organisation that finally calls gets its own late response.
  * Invalidation (无效/恶意诉求) takes the request out of every rate: the event
    adds 1 to ``invalid`` and subtracts the rate counters (response_due,
    responded_in_time, callbacks, resolved, partly, evaluated, satisfied, basic)
    that the request's earlier events added, from the same rows; rate counters of
    later events of an invalid request are not counted.  ``received`` keeps the
    request: volume is what residents asked, valid or not (shown with ``invalid``).
  * Re-categorisation moves the request's CategoryRollup count from the old
    top-level category to the new one (``data = {"from": id, "to": id}``).  The
    category counted at intake is the one the request had when it was received:
    live, ``request.category`` at that moment; on replay, the ``from`` of the
    request's first re-categorisation, or its category if it never changed.

Events are replayed per request in the order they were written (id), which is
the order apply_event saw them.

Concurrency.  Each counter moves by a conditional ``UPDATE … SET x = x + 1``; when
no row matched, the row is INSERTed in a savepoint; if a concurrent transaction
inserted the same row first (IntegrityError on the unique index), the UPDATE is
retried and now finds that row.  On PostgreSQL (READ COMMITTED) the second insert
waits for the first transaction and the retried UPDATE sees its row; on SQLite
writers are serialised by the IMMEDIATE write lock.  Rows are touched in a fixed
order (street, community, organisation, categories by id) so two transitions
never wait on each other crosswise.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from zhouxin.orgs.models import Area, Organisation

from .choices import EventAction, Resolution, Satisfaction
from .models import Category, CategoryRollup, RequestEvent, Rollup, ServiceRequest

logger = logging.getLogger("zhouxin.dispatch.rollups")

COUNTER_FIELDS = ("received", "invalid", "response_due", "responded_in_time", "callbacks", "resolved", "partly",
                  "evaluated", "satisfied", "basic", "returned", "overdue", "reopened", "closed")
# The counters of the three rates: an invalidated request is taken out of them.
RATE_FIELDS = frozenset({"response_due", "responded_in_time", "callbacks", "resolved", "partly", "evaluated",
                         "satisfied", "basic"})

Fields = tuple[str, ...]


def _contacted(data: dict) -> Fields:
    # First contact: one request due for a response; in time when the contact
    # deadline had not passed (the services put {"in_time": bool} in the event).
    return ("response_due", "responded_in_time") if data.get("in_time") else ("response_due",)


def _callback(data: dict) -> Fields:
    # Every callback (回访) counts: a reopened request called back again is evaluated again.
    moved = ["callbacks"]
    resolution = data.get("resolution")
    if resolution == Resolution.RESOLVED:
        moved.append("resolved")
    elif resolution == Resolution.PARTLY:
        moved.append("partly")
    satisfaction = data.get("satisfaction")
    # "Unreachable" is no evaluation: it is neither in the numerator nor the denominator.
    if satisfaction in (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.UNSATISFIED):
        moved.append("evaluated")
        if satisfaction == Satisfaction.SATISFIED:
            moved.append("satisfied")
        elif satisfaction == Satisfaction.BASIC:
            moved.append("basic")
    return tuple(moved)


def _reopened(data: dict) -> Fields:
    return () if "master" in data else ("reopened",)


@dataclass(frozen=True)
class Move:
    """The counters an action adds 1 to: on the street and community rows (`area`)
    and on the row of the event's organisation (`org`).  A callable gets event.data."""

    area: Fields | Callable[[dict], Fields] = ()
    org: Fields | Callable[[dict], Fields] = ()

    def fields(self, subject: str, data: dict) -> Fields:
        chosen = self.area if subject == "area" else self.org
        return chosen(data) if callable(chosen) else chosen


# THE table.  Actions not listed (held, released, accepted, extension_*, replied,
# merged, warned, whistled) move no Rollup counter; "categorised" moves CategoryRollup only.
COUNTERS: dict[str, Move] = {
    # A new request: volume of its street and community.  A handling organisation's
    # volume is what was dispatched to it (below), re-dispatch included.
    EventAction.RECEIVED: Move(area=("received",)),
    EventAction.DISPATCHED: Move(org=("received",)),
    # 退单, by the lead or a co-handler for its part: the returning organisation (the
    # event's organisation) and the area.
    EventAction.RETURNED: Move(area=("returned",), org=("returned",)),
    # Response rate = responded_in_time / response_due: due at first contact, or when the
    # sweep finds the contact deadline passed uncontacted (then the contact adds nothing more).
    EventAction.CONTACTED: Move(area=_contacted, org=_contacted),
    EventAction.CONTACT_OVERDUE: Move(area=("response_due",), org=("response_due",)),
    # Resolution and satisfaction rates.
    EventAction.CALLBACK: Move(area=_callback, org=_callback),
    EventAction.CLOSED: Move(area=("closed",), org=("closed",)),
    # 督办重办 of the request itself; a merged request going back to follow its reopened
    # master (data has "master") is not a reopening of its own.
    EventAction.REOPENED: Move(area=_reopened, org=_reopened),
    # The sweep escalated the request because its resolve deadline passed.
    EventAction.ESCALATED: Move(area=("overdue",), org=("overdue",)),
    # Plus: the request's earlier rate counters are taken back (see the module docstring).
    EventAction.INVALIDATED: Move(area=("invalid",), org=("invalid",)),
}
# Actions whose fold needs the request's earlier events.
STATEFUL_ACTIONS = frozenset({EventAction.CONTACTED, EventAction.CONTACT_OVERDUE, EventAction.CALLBACK,
                              EventAction.INVALIDATED})
# The counters of a first contact that a "contact_overdue" event already settled on a row.
CONTACT_FIELDS = frozenset({"response_due", "responded_in_time"})


# --- The fold -----------------------------------------------------------------------

@dataclass(frozen=True)
class RequestFacts:
    """What the fold needs to know about the request (none of it changes after intake)."""

    month: dt.date
    district_id: int
    street_id: int
    community_id: int | None


@dataclass
class RequestState:
    """What the request's earlier events left behind: is it invalid, which rate counters
    did it add to which row (so that invalidation can take them back), and on which rows
    a "contact_overdue" event already counted it as due (so that its contact does not)."""

    invalid: bool = False
    rated: dict[tuple, Counter] = field(default_factory=lambda: defaultdict(Counter))
    contact_settled: set[tuple] = field(default_factory=set)


@dataclass(frozen=True)
class EventRow:
    action: str
    data: dict
    organisation_id: int | None


# A change: ("rollup", (month, area_id, organisation_id)) or ("category", (month, street_id, category_id)).
Key = tuple
Changes = dict[tuple[str, Key], Counter]


def month_of(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date().replace(day=1)


def fold(event: EventRow, facts: RequestFacts, state: RequestState, *, received_top: int | None = None,
         top_of: Callable[[int | None], int | None] = lambda _: None) -> Changes:
    """The counter changes one event makes, given the request's facts and state; updates `state`.

    `received_top` is the top-level category counted at intake (RECEIVED only);
    `top_of` maps a category id to its top-level category id (CATEGORISED only).
    """
    changes: Changes = defaultdict(Counter)
    m = facts.month
    subjects = [("area", (m, facts.street_id, None))]
    if facts.community_id is not None:
        subjects.append(("area", (m, facts.community_id, None)))
    if event.organisation_id is not None:
        subjects.append(("org", (m, None, event.organisation_id)))

    move = COUNTERS.get(event.action)
    if move is not None:
        if event.action == EventAction.INVALIDATED:
            if not state.invalid:
                for kind, key in subjects:
                    for name in move.fields(kind, event.data):
                        changes[("rollup", key)][name] += 1
                for key, added in state.rated.items():
                    for name, amount in added.items():
                        changes[("rollup", key)][name] -= amount
                state.invalid = True
                state.rated.clear()
        else:
            for kind, key in subjects:
                fields = move.fields(kind, event.data)
                if event.action == EventAction.CONTACT_OVERDUE:
                    state.contact_settled.add(key)
                elif event.action == EventAction.CONTACTED and key in state.contact_settled:
                    fields = tuple(name for name in fields if name not in CONTACT_FIELDS)
                for name in fields:
                    if name in RATE_FIELDS:
                        if state.invalid:
                            continue
                        state.rated[key][name] += 1
                    changes[("rollup", key)][name] += 1

    if event.action == EventAction.RECEIVED and received_top is not None:
        changes[("category", (m, facts.street_id, received_top))]["received"] += 1
    elif event.action == EventAction.CATEGORISED:
        old, new = top_of(event.data.get("from")), top_of(event.data.get("to"))
        if old != new:
            if old is not None:
                changes[("category", (m, facts.street_id, old))]["received"] -= 1
            if new is not None:
                changes[("category", (m, facts.street_id, new))]["received"] += 1
    return changes


def _top_categories(ids: Iterable[int | None], *, known: Category | None = None) -> dict[int, int]:
    """Category id → its top-level category id (the catalogue has three levels).

    `known`: a category already loaded with its parent (intake passes the request's), which
    answers without a query when it is the one asked for."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    if known is not None and wanted == {known.pk}:
        if known.parent_id is None:
            return {known.pk: known.pk}
        parent = known._state.fields_cache.get("parent")
        if parent is not None and parent.pk == known.parent_id:
            return {known.pk: parent.parent_id or parent.pk}
    rows = Category.objects.filter(pk__in=wanted).values_list("id", "parent_id", "parent__parent_id")
    return {pk: grand or parent or pk for pk, parent, grand in rows}


# --- Applying one event (live) ------------------------------------------------------

def _facts_live(request: ServiceRequest) -> RequestFacts:
    cached = getattr(request, "_rollup_facts", None)
    if cached is not None and cached[0] == (request.area_id, request.received_at):
        return cached[1]
    area = request._state.fields_cache.get("area")
    code = area.code if area is not None and area.pk == request.area_id else (
        Area.objects.unscoped().filter(pk=request.area_id).values_list("code", flat=True).get())
    if len(code) == 12:
        community_id = request.area_id
    elif len(code) > 12:
        community_id = Area.objects.unscoped().filter(code=code[:12]).values_list("id", flat=True).first()
    else:
        community_id = None
    facts = RequestFacts(month=month_of(request.received_at), district_id=request.district_id,
                         street_id=request.street_id, community_id=community_id)
    request._rollup_facts = ((request.area_id, request.received_at), facts)
    return facts


def _state_live(event: RequestEvent, facts: RequestFacts) -> RequestState:
    """Fold the request's earlier events (written before this one) into a state."""
    state = RequestState()
    earlier = (RequestEvent.objects.filter(request_id=event.request_id, id__lt=event.pk)
               .order_by("id").values_list("action", "data", "organisation_id"))
    for action, data, org_id in earlier:
        if action in COUNTERS:
            fold(EventRow(action, data or {}, org_id), facts, state)
    return state


def apply_event(event: RequestEvent) -> None:
    """Fold one event into the roll-ups.  Call it inside the transaction that wrote the event.

    Inside `deferred()` the changes are collected and written once when the block ends."""
    action = event.action
    if action not in COUNTERS and action != EventAction.CATEGORISED:
        return
    request = event.request
    facts = _facts_live(request)
    data = event.data or {}
    state = _state_live(event, facts) if action in STATEFUL_ACTIONS else RequestState()
    received_top = None
    tops: dict[int, int] = {}
    if action == EventAction.RECEIVED:
        initial = data.get("category", request.category_id)
        tops = _top_categories([initial], known=request._state.fields_cache.get("category"))
        received_top = tops.get(initial)
    elif action == EventAction.CATEGORISED:
        tops = _top_categories([data.get("from"), data.get("to")])
    changes = fold(EventRow(action, data, event.organisation_id), facts, state, received_top=received_top,
                   top_of=tops.get)
    pending = getattr(_deferred, "pending", None)
    if pending is None:
        _write_changes(changes, facts)
        return
    for key, deltas in changes.items():
        pending.setdefault(key, [Counter(), facts])[0].update(deltas)


_deferred = threading.local()


@contextmanager
def deferred():
    """Collect the roll-up changes of the events applied inside the block and write them
    once at its end, one statement per row however many events moved it (intake writes two
    events that touch the street, community, organisation and category rows).

    The rows are written where the block ends, inside the caller's transaction, so callers
    end the block as late as possible: a row stays locked until commit.  Nested blocks
    write at the outermost end; an exception writes nothing (the transaction rolls back).
    """
    if getattr(_deferred, "pending", None) is not None:
        yield
        return
    _deferred.pending = pending = {}
    try:
        yield
    except BaseException:
        _deferred.pending = None
        raise
    _deferred.pending = None
    by_facts: dict[RequestFacts, Changes] = {}
    for key, (deltas, facts) in pending.items():
        by_facts.setdefault(facts, defaultdict(Counter))[key].update(deltas)
    for facts, changes in by_facts.items():
        _write_changes(changes, facts)


def _write_changes(changes: Changes, facts: RequestFacts) -> None:
    """Apply the fold's changes in a fixed order: street, community, organisation, categories by id."""
    area_keys = [(facts.month, facts.street_id, None)]
    if facts.community_id is not None:
        area_keys.append((facts.month, facts.community_id, None))
    ordered = [("rollup", key) for key in area_keys]
    ordered += sorted(ck for ck in changes if ck[0] == "rollup" and ck[1][2] is not None)
    ordered += sorted((ck for ck in changes if ck[0] == "category"), key=lambda ck: ck[1][2])
    for kind, key in ordered:
        deltas = changes.get((kind, key))
        if not deltas:
            continue
        if kind == "rollup":
            month, area_id, org_id = key
            if org_id is None:
                _bump(Rollup, {"month": month, "area_id": area_id}, deltas, district_id=facts.district_id)
            else:
                _bump(Rollup, {"month": month, "organisation_id": org_id}, deltas,
                      district_id=lambda org_id=org_id: _org_district(org_id, facts.district_id))
        else:
            month, street_id, category_id = key
            _bump(CategoryRollup, {"month": month, "street_id": street_id, "category_id": category_id}, deltas,
                  district_id=facts.district_id)


def _org_district(org_id: int, fallback: int) -> int:
    """An organisation's row belongs to the organisation's own district (a department
    may handle requests of another district); a city-level body falls back to the request's."""
    code = Organisation.objects.unscoped().filter(pk=org_id).values_list("area__code", flat=True).first() or ""
    if len(code) >= 6:
        found = Area.objects.unscoped().filter(code=code[:6]).values_list("id", flat=True).first()
        if found:
            return found
    return fallback


def _bump(model, lookup: dict, deltas: Counter, *, district_id) -> None:
    """UPDATE … SET x = x + d WHERE <row>; INSERT when missing; retry the UPDATE if a
    concurrent transaction inserted it first."""
    deltas = {name: amount for name, amount in deltas.items() if amount}
    if not deltas:
        return
    manager = model._base_manager
    # A decrement never takes a counter below zero (the column is unsigned); it cannot
    # happen while the roll-ups match the events, and `check` would show it if it did.
    update = {name: (F(name) + amount) if amount > 0 else Greatest(F(name) + amount, Value(0))
              for name, amount in deltas.items()}
    if _add(model, lookup, deltas) if all(amount > 0 for amount in deltas.values()) \
            else manager.filter(**lookup).update(**update):
        return
    if any(amount < 0 for amount in deltas.values()):
        logger.warning("roll-up %s %s missing for a decrement %s", model.__name__, lookup, deltas)
    values = {name: max(amount, 0) for name, amount in deltas.items()}
    try:
        with transaction.atomic():
            manager.create(**lookup, district_id=district_id() if callable(district_id) else district_id,
                           **values)
        return
    except IntegrityError:
        pass  # inserted meanwhile by a concurrent transaction: its row is visible now
    if not manager.filter(**lookup).update(**update):
        raise IntegrityError(f"roll-up row {model.__name__} {lookup} could be neither inserted nor updated")


def _add(model, lookup: dict, deltas: dict) -> int:
    """`UPDATE <table> SET x = x + %s … WHERE <lookup>` for increments, the roll-ups' hot path
    (every intake, dispatch and callback): the same statement the ORM builds from F()
    expressions, without compiling it each time.  Column names come from the model."""
    table = connection.ops.quote_name(model._meta.db_table)
    sets, params = [], []
    for name, amount in deltas.items():
        column = connection.ops.quote_name(model._meta.get_field(name).column)
        sets.append(f"{column} = {column} + %s")
        params.append(amount)
    where = []
    for name, value in lookup.items():
        where.append(f"{connection.ops.quote_name(model._meta.get_field(name).column)} = %s")
        params.append(connection.ops.adapt_datefield_value(value) if isinstance(value, dt.date) else value)
    with connection.cursor() as cursor:
        # bandit B608 (medium) reviewed: table and column names are the model's, quoted; values are parameters
        cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(where)}", params)
        return cursor.rowcount


# --- Replaying everything (rebuild and check) ---------------------------------------

@dataclass
class Totals:
    """Roll-ups computed in memory: counters per row, and each row's district."""

    rollups: dict[Key, Counter] = field(default_factory=lambda: defaultdict(Counter))
    categories: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    districts: dict[tuple[str, Key], int] = field(default_factory=dict)
    events: int = 0
    requests: int = 0


def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    following = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=tz)
    return start, following


def _months_q(months: Iterable[dt.date] | None, prefix: str = "") -> Q:
    if months is None:
        return Q()
    q = Q(pk__in=[])
    for month in months:
        start, end = _month_bounds(month)
        q |= Q(**{f"{prefix}received_at__gte": start, f"{prefix}received_at__lt": end})
    return q


REPLAY_CHUNK = 5000


def compute(*, months: Iterable[dt.date] | None = None) -> Totals:
    """Replay the events of the requests received in `months` (all when None) through `fold`."""
    months = None if months is None else sorted({m.replace(day=1) for m in months})
    totals = Totals()
    communities = dict(Area.objects.unscoped().filter(level="community").values_list("code", "id"))
    area_codes = dict(Area.objects.unscoped().values_list("id", "code"))
    parents = {pk: (parent, grand) for pk, parent, grand in
               Category.objects.values_list("id", "parent_id", "parent__parent_id")}
    tops = {pk: grand or parent or pk for pk, (parent, grand) in parents.items()}
    districts = dict(Area.objects.unscoped().filter(level="district").values_list("code", "id"))
    org_codes = dict(Organisation.objects.unscoped().values_list("id", "area__code"))

    def org_district(org_id: int, fallback: int) -> int:
        code = org_codes.get(org_id) or ""
        return districts.get(code[:6], fallback) if len(code) >= 6 else fallback

    rows = (RequestEvent.objects.filter(_months_q(months, "request__"))
            .order_by("request_id", "id")
            .values_list("request_id", "action", "data", "organisation_id", "request__received_at",
                         "request__district_id", "request__street_id", "request__area_id",
                         "request__category_id"))

    def flush(batch: list) -> None:
        if not batch:
            return
        first = batch[0]
        _, _, _, _, received_at, district_id, street_id, area_id, category_id = first
        code = area_codes.get(area_id, "")
        community_id = area_id if len(code) == 12 else (communities.get(code[:12]) if len(code) > 12 else None)
        facts = RequestFacts(month=month_of(received_at), district_id=district_id, street_id=street_id,
                             community_id=community_id)
        initial = category_id
        for row in batch:
            if row[1] == EventAction.RECEIVED and "category" in (row[2] or {}):
                initial = row[2]["category"]
                break
            if row[1] == EventAction.CATEGORISED:
                initial = (row[2] or {}).get("from")
                break
        state = RequestState()
        for _, action, data, org_id, *_rest in batch:
            totals.events += 1
            if action not in COUNTERS and action != EventAction.CATEGORISED:
                continue
            changes = fold(EventRow(action, data or {}, org_id), facts, state,
                           received_top=tops.get(initial) if initial is not None else None, top_of=tops.get)
            for (kind, key), deltas in changes.items():
                if kind == "rollup":
                    totals.rollups[key].update(deltas)
                    if ("rollup", key) not in totals.districts:
                        totals.districts[("rollup", key)] = (
                            org_district(key[2], district_id) if key[2] else district_id)
                else:
                    totals.categories[key] += deltas["received"]
                    totals.districts.setdefault(("category", key), district_id)
        totals.requests += 1

    batch: list = []
    current = None
    for row in rows.iterator(chunk_size=REPLAY_CHUNK):
        if row[0] != current:
            flush(batch)
            batch, current = [], row[0]
        batch.append(row)
    flush(batch)
    return totals


def _lock_rollups() -> None:
    """Hold transitions' roll-up writes until the rebuild commits (PostgreSQL; SQLite's
    IMMEDIATE transaction already holds the database's write lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Rollup._meta.db_table}, {CategoryRollup._meta.db_table} "
                           "IN EXCLUSIVE MODE")


BULK_BATCH = 1000


@dataclass(frozen=True)
class RebuildResult:
    months: tuple[dt.date, ...] | None
    requests: int
    events: int
    rollups: int
    category_rollups: int


@transaction.atomic
def rebuild(*, months: Iterable[dt.date] | None = None) -> RebuildResult:
    """Delete the roll-ups of `months` (all when None) and recompute them from the events."""
    months = None if months is None else sorted({m.replace(day=1) for m in months})
    _lock_rollups()
    totals = compute(months=months)
    month_filter = Q() if months is None else Q(month__in=months)
    Rollup._base_manager.filter(month_filter).delete()
    CategoryRollup._base_manager.filter(month_filter).delete()
    new_rows = []
    for key, counters in totals.rollups.items():
        if not any(counters.values()):
            continue
        month, area_id, org_id = key
        new_rows.append(Rollup(month=month, area_id=area_id, organisation_id=org_id,
                               district_id=totals.districts[("rollup", key)],
                               **{name: counters.get(name, 0) for name in COUNTER_FIELDS}))
    Rollup._base_manager.bulk_create(new_rows, batch_size=BULK_BATCH)
    new_categories = [
        CategoryRollup(month=key[0], street_id=key[1], category_id=key[2], received=count,
                       district_id=totals.districts[("category", key)])
        for key, count in totals.categories.items() if count
    ]
    CategoryRollup._base_manager.bulk_create(new_categories, batch_size=BULK_BATCH)
    return RebuildResult(months=None if months is None else tuple(months), requests=totals.requests,
                         events=totals.events, rollups=len(new_rows), category_rollups=len(new_categories))


@dataclass(frozen=True)
class Difference:
    table: str
    key: Key  # (month, area_id, organisation_id) or (month, street_id, category_id)
    field: str
    stored: int
    computed: int


def stored(*, months: Iterable[dt.date] | None = None) -> tuple[dict[Key, dict], dict[Key, int]]:
    """The roll-ups as they are in the database (rows of all-zero counters left out)."""
    month_filter = Q() if months is None else Q(month__in=sorted({m.replace(day=1) for m in months}))
    rollups = {}
    for row in Rollup._base_manager.filter(month_filter).values("month", "area_id", "organisation_id",
                                                                *COUNTER_FIELDS):
        counters = {name: row[name] for name in COUNTER_FIELDS if row[name]}
        if counters:
            rollups[(row["month"], row["area_id"], row["organisation_id"])] = counters
    categories = {
        (month, street_id, category_id): received
        for month, street_id, category_id, received in CategoryRollup._base_manager.filter(month_filter)
        .values_list("month", "street_id", "category_id", "received") if received
    }
    return rollups, categories


def normalised(totals: Totals) -> tuple[dict[Key, dict], dict[Key, int]]:
    rollups = {}
    for key, counters in totals.rollups.items():
        kept = {name: amount for name, amount in counters.items() if amount}
        if kept:
            rollups[key] = kept
    return rollups, {key: count for key, count in totals.categories.items() if count}


def check(*, months: Iterable[dt.date] | None = None) -> list[Difference]:
    """Compare the stored roll-ups with a replay, writing nothing; [] when they agree."""
    computed_rollups, computed_categories = normalised(compute(months=months))
    stored_rollups, stored_categories = stored(months=months)
    found: list[Difference] = []
    for key in sorted(set(computed_rollups) | set(stored_rollups), key=_sort_key):
        have, want = stored_rollups.get(key, {}), computed_rollups.get(key, {})
        for name in COUNTER_FIELDS:
            if have.get(name, 0) != want.get(name, 0):
                found.append(Difference("rollup", key, name, have.get(name, 0), want.get(name, 0)))
    for key in sorted(set(computed_categories) | set(stored_categories), key=_sort_key):
        have, want = stored_categories.get(key, 0), computed_categories.get(key, 0)
        if have != want:
            found.append(Difference("category", key, "received", have, want))
    return found


def _sort_key(key: Key) -> tuple:
    return tuple((0, v) if v is not None else (-1, 0) for v in key)
