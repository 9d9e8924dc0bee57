"""The audit log: every write and every reveal of personal data, append-only and hash-chained.

How the chain is built (DESIGN §4: "append unlinked entries and let a single
sealer link them in commit order shortly after", chosen over a lock on the
chain head inside every writing transaction, which would serialise all writers):

* `record()` inserts an AuditEntry in the caller's transaction with a SHA-256
  of its own content.
* The writer takes no lock.  After its transaction commits it tries to link
  the entries that are now visible (from the lowest id it wrote) into the
  chain (AuditSeal: position `seq`, the previous link's hash, and
  sha256(prev | seq | entry id | content hash)), at most once per
  AUDIT_SEAL_INTERVAL per process, because a sealing transaction after every
  write would cost more than the write (measured in docs/performance.md,
  "Audit chain").  One sealer at a time: on PostgreSQL a transaction-level
  advisory lock (an attempt that finds it taken leaves the work to its
  holder), on SQLite the IMMEDIATE write lock.  A long import therefore never
  stalls intake behind a chain-head lock.
* The primary key on `seq` and the one-to-one on `entry` make a fork
  impossible even if two sealers did race: the loser's insert fails and
  nothing is linked twice.
* An entry not linked by an attempt (interval, busy lock) is linked by
  `manage.py audit_seal --loop 2` (started next to the task worker by
  `make run`; a loop, because django-tasks has no periodic schedule) within
  seconds, or by `verify_audit`.  The setting AUDIT_LINK_ON_WRITE = False
  leaves all linking to that loop (used by scripts/bench_audit.py).
* Database triggers (audit_sql) refuse UPDATE and DELETE on both tables.
  `purge()` is the only code that deletes, inside one transaction, after the
  retention period; it leaves the first kept link as the new anchor and
  records itself in the chain, so the chain still verifies afterwards.

`verify_chain()` walks the chain from its anchor and reports the first link
that does not hold.  A hash chain proves that nothing *inside* it was changed;
deleting the newest links, or rewriting everything with fresh hashes, needs an
outside witness: `verify_audit` prints the head position and hash for that.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit_sql, context
from .choices import AuditResult
from .models import AuditEntry, AuditSeal

logger = logging.getLogger("zhouxin.audit")

GENESIS = "0" * 64
SEAL_LOCK_KEY = 7_310_486_512  # pg advisory lock id for the sealer
# The sealer loop's sweep rounds look at least this far below the chain head's entry id for
# stragglers (entries a transaction committed after newer ones were sealed); its other rounds
# and the after-commit attempts look only above it, or above the ids they wrote.
SEAL_WINDOW = 10_000
# The sealer loop's periodic sweep looks back this far (no transaction stays open that long);
# verify_audit and purge look at everything.
SWEEP_HORIZON = dt.timedelta(hours=1)
PURGE_ACTION = "core.audit.purged"


# --- Content and hashes -------------------------------------------------------

def _clean(value: Any) -> Any:
    """Make a JSON value store and read back identically on SQLite and PostgreSQL.

    jsonb and text columns refuse NUL characters and lone surrogates, and
    PostgreSQL prints floats of 1e16 and above as integers; such values are
    stored as text so the content hash still holds after the round trip.
    """
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= 1e16:
            return repr(value)
        return value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean(v) for k, v in value.items()}
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(text: str, limit: int | None = None) -> str:
    text = text.replace("\x00", "")
    if not text.isascii() and _SURROGATE.search(text):
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text


def _canonical(value: Any) -> Any:
    """JSON-safe, stable representation (Decimal and dates as strings)."""
    try:
        return _plain(value)
    except _NotPlain:
        return _clean(json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)))


class _NotPlain(Exception):
    pass


def _plain(value: Any) -> Any:
    """_canonical() of a value made only of dicts with text keys, lists, text, whole numbers, floats,
    booleans and None, without the JSON round trip: the same value with its keys in order (an
    audit entry's `after` is usually such a value; the round trip was a third of building it)."""
    kind = type(value)
    if kind is str:
        return _clean_text(value)
    if value is None or kind is bool or kind is int or kind is float:
        return _clean(value)
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _NotPlain
        return {_clean_text(key): _plain(value[key]) for key in sorted(value)}
    if kind is list:
        return [_plain(item) for item in value]
    raise _NotPlain


def _ip(value: str | None) -> str | None:
    """A valid IP address or None (an unparseable forwarded header must not break a write)."""
    if not value:
        return None
    return _parsed_ip(str(value))


@functools.lru_cache(maxsize=4096)
def _parsed_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.split("%", 1)[0].strip()))
    except ValueError:
        return None


def _at_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_hash(entry: AuditEntry) -> str:
    """SHA-256 over the entry's own fields, in a form both databases give back unchanged."""
    payload = {
        "at": _at_text(entry.at),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": entry.before,
        "after": entry.after,
        # PostgreSQL's inet may print an address differently from how it was written.
        "ip": _ip(entry.ip),
        "request_id": entry.request_id,
        "result": entry.result,
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def link_hash(prev_hash: str, seq: int, entry_id: int, entry_hash: str) -> str:
    """A link binds its position, the previous link, which entry it seals and that entry's content."""
    return hashlib.sha256(f"{prev_hash}|{seq}|{entry_id}|{entry_hash}".encode()).hexdigest()


def snapshot(obj, fields: list[str]) -> dict[str, Any]:
    """The named fields of a model instance, for before/after (foreign keys as ids)."""
    data = {}
    for name in fields:
        model_field = obj._meta.get_field(name)
        value = getattr(obj, model_field.attname)
        if isinstance(value, Decimal):
            value = str(value)
        data[name] = value
    return _canonical(data)


# --- Writing ------------------------------------------------------------------

class AuditUnavailable(Exception):
    """The audit entry could not be written, so the action it records must not happen.

    Raised by record() and record_many() in place of the database's error (a trigger, a
    revoked privilege, a full disk…).  Leaving the service's atomic block it rolls the
    whole transaction back; zhouxin.core.faults answers the visitor with a clear 503
    ("refused, nothing changed") instead of a 500.  A lost connection is not turned into
    this: it stays the database's error, answered as "database unavailable".
    """

    def __init__(self, action: str = ""):
        super().__init__(f"audit entry could not be written: {action}")
        self.action = action


def _insert(action: str, write) -> None:
    """Run the INSERT of an audit entry; any refusal by the database becomes AuditUnavailable."""
    from django.db import DatabaseError

    from .faults import is_database_unavailable

    try:
        write()
    except DatabaseError as exc:
        if is_database_unavailable(exc):
            raise
        logger.error("audit entry %s could not be written; the action is refused", action, exc_info=True)
        raise AuditUnavailable(action) from exc


def _entry(*, actor, at: datetime | None, ctx, action: str, obj=None, object_type: str = "",
           object_id: str | int = "", object_repr: str = "", before: dict | None = None, after: dict | None = None,
           result: str = AuditResult.OK, hashed: bool = True) -> AuditEntry:
    """An unsaved entry with its content hash (unless hashed=False): what record() and
    record_many() insert."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id not in ("", None) else obj.pk
        object_repr = object_repr or str(obj)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        actor_label=_clean_text(str(getattr(actor, "username", "")) if actor is not None else "system", 150),
        action=_clean_text(action, 80),
        object_type=_clean_text(object_type, 80),
        object_id=_clean_text(str(object_id if object_id is not None else ""), 64),
        object_repr=_clean_text(str(object_repr), 200),
        before=_canonical(before) if before is not None else None,
        after=_canonical(after) if after is not None else None,
        ip=_ip(ctx.ip),
        request_id=_clean_text(ctx.request_id or "", 64),
        result=result,
    )
    if hashed:
        entry.content_hash = content_hash(entry)
    return entry


def record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
    result: str = AuditResult.OK,
) -> AuditEntry:
    """Append an audit entry in the caller's transaction; it is sealed after commit."""
    entry = _entry(actor=actor, at=timezone.now(), ctx=context.current(), action=action, obj=obj,
                   object_type=object_type, object_id=object_id, object_repr=object_repr, before=before,
                   after=after, result=result)
    _insert(entry.action, lambda: entry.save(force_insert=True))
    _schedule_seal(entry)
    return entry


class _ObjectRefused(Exception):
    """The INSERT written with an entry (record_with_insert) broke one of its own constraints."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def record_with_insert(statement: tuple[str, list], *, actor, action: str, obj, before: dict | None = None,
                       after: dict | None = None, result: str = AuditResult.OK) -> AuditEntry:
    """record() for an object not written yet, in the same statement as its INSERT (PostgreSQL).

    `statement` is the object's `INSERT … VALUES (…)` (core.bulk.insert_statement); `obj`
    must already have its primary key (the entry names it).  One statement writes both —
    `WITH written AS (<the INSERT> RETURNING 1) INSERT INTO <audit> … SELECT … FROM written`
    — so the object is never written without its entry, even outside a transaction, and
    the caller saves two round trips and a transaction (intake's hot path).  The entry is
    what record() would write, with the same content hash, sealed the same way.

    The object's own constraint failures (IntegrityError) reach the caller unchanged;
    any other refusal by the database is AuditUnavailable, as in record()."""
    from django.db import IntegrityError

    from .bulk import insert_statement

    if obj.pk is None:
        raise ValueError("record_with_insert: the object needs its primary key before it is written")
    entry = _entry(actor=actor, at=timezone.now(), ctx=context.current(), action=action, obj=obj,
                   before=before, after=after, result=result)
    written_sql, written_params = statement
    entry_sql, entry_params = insert_statement(entry, connection=connection)
    head, values = entry_sql.split(" VALUES ", 1)
    if not (values.startswith("(") and values.endswith(")")):
        raise ValueError(f"record_with_insert: unexpected INSERT shape: {entry_sql[:80]}")
    sql = (f"WITH written AS ({written_sql} RETURNING 1) {head} SELECT {values[1:-1]} FROM written "
           f"RETURNING {connection.ops.quote_name(AuditEntry._meta.pk.column)}")

    def write():
        with connection.cursor() as cursor:
            try:
                cursor.execute(sql, [*written_params, *entry_params])
            except IntegrityError as exc:  # the object's unique or foreign key: not the audit's refusal
                raise _ObjectRefused(exc) from exc
            entry.pk = cursor.fetchone()[0]

    try:
        _insert(action, write)
    except _ObjectRefused as refused:
        raise refused.error from None
    entry._state.adding, entry._state.db = False, connection.alias
    _schedule_seal(entry)
    return entry


RECORD_MANY_BATCH = 1000


@dataclass
class PreparedEntries:
    """Entries built by prepare_entries(): everything but their time, object ids and hashes."""

    actor: Any
    entries: list[AuditEntry]
    objects: list[Any]  # each entry's `obj` (or None); its id is read when the entry is recorded
    ids_given: list[bool]  # an explicit object_id was passed: keep it


def prepare_entries(*, actor, entries: list[dict[str, Any]]) -> PreparedEntries:
    """The per-entry work of record_many() (cleaning, canonical before/after), done ahead.

    For bulk services that build their rows before opening the write transaction: the
    objects may still be unsaved here; record_many() takes their ids, stamps the time
    and computes each content hash when it writes.  An `after` or `before` may still be
    completed in between (e.g. a foreign key id known only once its target is written)
    with JSON-native values (numbers, plain strings)."""
    ctx = context.current()
    built, objects, ids_given = [], [], []
    for item in entries:
        built.append(_entry(actor=actor, at=None, ctx=ctx, hashed=False, **item))
        objects.append(item.get("obj"))
        ids_given.append(item.get("object_id") not in ("", None))
    return PreparedEntries(actor=actor, entries=built, objects=objects, ids_given=ids_given)


def record_many(*, actor, entries: list[dict[str, Any]] | PreparedEntries) -> list[AuditEntry]:
    """Append one audit entry per item of `entries`, in bulk INSERTs, in the caller's transaction.

    Each item holds record()'s keyword arguments other than the actor (action, obj,
    object_type, object_id, object_repr, before, after, result), or `entries` is what
    prepare_entries() returned for them.  Every entry is what record() would write
    (same fields, same content hash), stamped with one time for the whole call, in the
    order given: one INSERT per RECORD_MANY_BATCH entries instead of one per entry.
    Sealed after commit like record(): one attempt from the lowest id written, the rest
    by the sealer loop.
    """
    prepared = entries if isinstance(entries, PreparedEntries) else prepare_entries(actor=actor, entries=entries)
    if prepared.actor is not actor:
        raise ValueError("record_many: the entries were prepared for another actor")
    if not prepared.entries:
        return []
    if not connection.in_atomic_block:
        # Without a transaction a failure half-way would leave some entries written, some not.
        with transaction.atomic():
            return record_many(actor=actor, entries=prepared)
    at = timezone.now()
    built = prepared.entries
    for entry, obj, id_given in zip(built, prepared.objects, prepared.ids_given, strict=True):
        if entry.pk is not None:
            raise ValueError("record_many: these entries were recorded already")
        entry.at = at
        if obj is not None and not id_given:
            entry.object_id = _clean_text(str(obj.pk if obj.pk is not None else ""), 64)
        entry.content_hash = content_hash(entry)
    _insert(built[0].action, lambda: AuditEntry.objects.bulk_create(built, batch_size=RECORD_MANY_BATCH))
    first = built[0]
    if first.pk is None:  # a database that cannot return ids from a bulk INSERT (SQLite < 3.35)
        first.pk = (AuditEntry.objects.filter(at=at, action=first.action, content_hash=first.content_hash)
                    .order_by("id").values_list("id", flat=True).first())
    _schedule_seal(first)
    return built


_attempts = threading.Lock()
_attempt_state: dict[str, Any] = {"last": -1e9, "from_id": None}


def _schedule_seal(entry: AuditEntry) -> None:
    """Try to link the entry right after the writing transaction commits.

    One callback per transaction however many entries it wrote; it starts at
    the lowest entry id the transaction wrote, so it probes only entries
    written since, never the whole table.
    """
    if not getattr(settings, "AUDIT_LINK_ON_WRITE", True):
        return
    if not connection.in_atomic_block:
        _SealAfterCommit(entry.pk)()
        return
    for _sids, func, _robust in connection.run_on_commit:
        if isinstance(func, _SealAfterCommit) and not func.done:
            func.from_id = min(func.from_id, entry.pk)
            return
    transaction.on_commit(_SealAfterCommit(entry.pk))


class _SealAfterCommit:
    """An after-commit sealing attempt, at most one per AUDIT_SEAL_INTERVAL per process.

    Measured (docs/performance.md, "Audit chain"): a sealing transaction after
    every write costs more than the write itself on PostgreSQL.  So a process
    attempts at most every AUDIT_SEAL_INTERVAL seconds (default 0.5); a write
    inside the interval leaves its ids to the next attempt of this process and
    to the sealer loop.  An idle system therefore seals each write at once, a
    busy one a batch at a time.
    """

    def __init__(self, from_id: int):
        self.from_id = from_id
        self.done = False

    def __call__(self) -> None:
        self.done = True
        interval = float(getattr(settings, "AUDIT_SEAL_INTERVAL", 0.5))
        now = time.monotonic()
        with _attempts:
            waiting = _attempt_state["from_id"]
            from_id = self.from_id if waiting is None else min(waiting, self.from_id)
            if now - _attempt_state["last"] < interval:
                _attempt_state["from_id"] = from_id
                return
            _attempt_state["last"] = now
            _attempt_state["from_id"] = None
        try:
            sealed = seal_pending(from_id=from_id)
        except Exception:  # retried by the next attempt, the sealer loop and verify_audit
            logger.exception("audit sealing failed; it will be retried")
            sealed = 0
        if not sealed:  # the lock was busy (or the work already done): let the next attempt look again
            with _attempts:
                waiting = _attempt_state["from_id"]
                _attempt_state["from_id"] = from_id if waiting is None else min(waiting, from_id)


def _pending(scope: str, limit: int, from_id: int | None = None) -> list[tuple[int, str]]:
    qs = AuditEntry.objects.filter(seal__isnull=True)
    if from_id is not None:
        qs = qs.filter(id__gte=from_id)
    elif scope in ("recent", "sweep"):
        head_entry = AuditSeal.objects.order_by("-seq").values_list("entry_id", flat=True).first()
        if scope == "recent" and head_entry is not None:
            # Written since the chain's head: a short range, probed twice a round by the sealer
            # loop.  Probing SEAL_WINDOW entries below the head as well cost PostgreSQL a join
            # over the whole seal table each time (29 ms with 68,000 seals); that window is the
            # sweep's.
            qs = qs.filter(id__gt=head_entry)
        elif scope == "sweep":
            since = Q(at__gte=timezone.now() - SWEEP_HORIZON)
            if head_entry is not None:
                since |= Q(id__gt=head_entry - SEAL_WINDOW)
            qs = qs.filter(since)
    return list(qs.order_by("id").values_list("id", "content_hash")[:limit])


def _link(head: tuple[int, str] | None, pending: list[tuple[int, str]]) -> int:
    seq, prev = head if head else (0, GENESIS)
    now = timezone.now()
    seals = []
    for entry_id, entry_hash in pending:
        seq += 1
        linked = link_hash(prev, seq, entry_id, entry_hash)
        seals.append(AuditSeal(seq=seq, entry_id=entry_id, prev_hash=prev, hash=linked, sealed_at=now))
        prev = linked
    AuditSeal.objects.bulk_create(seals)
    return len(seals)


def seal_pending(limit: int = 5000, *, scope: str = "recent", wait: bool = False,
                 from_id: int | None = None) -> int:
    """Link one batch of unsealed entries into the chain, oldest id first.  Returns how many.

    from_id: only entries from this id on (the after-commit attempt of one transaction).
    scope: otherwise "recent" (entries above the chain head's entry), "sweep" (the
    periodic sealer: SEAL_WINDOW ids below the head and the last SWEEP_HORIZON) or "all"
    (verify_audit, purge).
    wait: block for the sealer lock instead of leaving the work to its holder.
    """
    if scope not in ("recent", "sweep", "all"):
        raise ValueError(scope)
    if not _pending(scope, 1, from_id):  # a read, so an idle attempt takes no write lock on SQLite
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Seals can be rebuilt from the entries, which committed durably with their
            # writer: a crash that loses the last seals only leaves entries for the
            # sealer loop to link again.  So the sealer's commit need not wait for the
            # WAL flush (synchronous_commit off, this transaction only), which is most
            # of what an after-commit attempt would otherwise add to a write.
            with connection.cursor() as cursor:
                lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
                cursor.execute(f"SELECT set_config('synchronous_commit', 'off', true), {lock}(%s)",
                               [SEAL_LOCK_KEY])
                if not wait and not cursor.fetchone()[1]:
                    return 0  # another sealer is at work
        head = AuditSeal.objects.order_by("-seq").values_list("seq", "hash").first()
        pending = _pending(scope, limit, from_id)
        if not pending:
            return 0
        return _link(head, pending)


def seal_all(*, scope: str = "all", limit: int = 5000) -> int:
    """Seal batch after batch until nothing in `scope` is left.  Returns how many."""
    total = 0
    while True:
        sealed = seal_pending(limit, scope=scope, wait=True)
        total += sealed
        if sealed < limit:
            return total


# --- Verifying ----------------------------------------------------------------

REASONS: dict[str, tuple[str, str]] = {
    # code: (Chinese, English)
    "missing_link": ("链上缺少该位置之前的环节（封存记录被删除）", "missing link before this position"),
    "prev_mismatch": ("前一环摘要与上一环不符", "previous hash does not match"),
    "content_altered": ("审计记录内容已被篡改（内容摘要不符）", "entry content was altered"),
    "link_mismatch": ("本环摘要不符（记录被调换或链被改写）", "link hash does not match"),
    "unanchored": ("链不从第 1 环开始，也没有清理记录说明起点", "chain does not start at position 1 and no purge record anchors it"),
    "anchor_mismatch": ("链的起点与最近一次清理记录的锚点不符", "chain start does not match the anchor of the last purge"),
}


@dataclass
class ChainReport:
    checked: int
    unsealed: int
    broken_seq: int | None = None
    broken_entry_id: int | None = None
    reason_code: str = ""
    anchor_seq: int = 1
    head_seq: int | None = None
    head_hash: str = ""
    entries: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_seq is None

    @property
    def reason(self) -> str:
        return REASONS[self.reason_code][0] if self.reason_code else ""

    @property
    def reason_en(self) -> str:
        return REASONS[self.reason_code][1] if self.reason_code else ""


def _anchor() -> tuple[int, str] | None:
    """The anchor left by the newest sealed purge record: (first kept position, its previous hash)."""
    purge = (
        AuditEntry.objects.filter(action=PURGE_ACTION, seal__isnull=False)
        .order_by("-seal__seq").values_list("after", flat=True).first()
    )
    if not purge:
        return None
    try:
        return int(purge["anchor_seq"]), str(purge["anchor_prev_hash"])
    except (KeyError, TypeError, ValueError):
        return None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain from its anchor; report the first link that does not hold."""
    first = AuditSeal.objects.order_by("seq").values_list("seq", "prev_hash", "entry_id").first()
    report = ChainReport(checked=0, unsealed=0)
    report.entries = AuditEntry.objects.count()
    report.unsealed = AuditEntry.objects.filter(seal__isnull=True).count()
    if first is None:
        return report
    first_seq, first_prev, first_entry = first
    if first_seq == 1:
        prev = GENESIS
    else:
        anchor = _anchor()
        if anchor is None:
            return _broken(report, first_seq, first_entry, "unanchored")
        if anchor != (first_seq, first_prev):
            return _broken(report, first_seq, first_entry, "anchor_mismatch")
        prev = first_prev
    report.anchor_seq = expected = first_seq
    last_seq = first_seq - 1
    while True:
        seals = list(AuditSeal.objects.filter(seq__gt=last_seq).order_by("seq").select_related("entry")[:batch])
        if not seals:
            break
        for seal in seals:
            entry = seal.entry
            if seal.seq != expected:
                return _broken(report, seal.seq, entry.pk, "missing_link")
            if seal.prev_hash != prev:
                return _broken(report, seal.seq, entry.pk, "prev_mismatch")
            if content_hash(entry) != entry.content_hash:
                return _broken(report, seal.seq, entry.pk, "content_altered")
            if link_hash(prev, seal.seq, entry.pk, entry.content_hash) != seal.hash:
                return _broken(report, seal.seq, entry.pk, "link_mismatch")
            prev = seal.hash
            expected += 1
            report.checked += 1
            last_seq = seal.seq
    report.head_seq = last_seq
    report.head_hash = prev
    return report


def _broken(report: ChainReport, seq: int, entry_id: int, code: str) -> ChainReport:
    report.broken_seq = seq
    report.broken_entry_id = entry_id
    report.reason_code = code
    return report


@dataclass
class EntryCheck:
    """What the audit detail page shows about one entry's integrity."""

    content_ok: bool
    sealed: bool
    link_ok: bool | None = None
    prev_ok: bool | None = None
    recomputed: str = ""
    problems: list[str] = field(default_factory=list)


def check_entry(entry: AuditEntry) -> EntryCheck:
    recomputed = content_hash(entry)
    seal = entry.seal if hasattr(entry, "seal") else None  # the reverse one-to-one raises when absent
    check = EntryCheck(content_ok=recomputed == entry.content_hash, sealed=seal is not None, recomputed=recomputed)
    if seal is not None:
        check.link_ok = link_hash(seal.prev_hash, seal.seq, entry.pk, entry.content_hash) == seal.hash
        if seal.seq == 1:
            check.prev_ok = seal.prev_hash == GENESIS
        else:
            previous = AuditSeal.objects.filter(seq=seal.seq - 1).values_list("hash", flat=True).first()
            # A missing predecessor is fine only where a purge left this link as the anchor.
            check.prev_ok = previous == seal.prev_hash if previous is not None else _anchor() == (
                seal.seq, seal.prev_hash)
    return check


# --- Retention ------------------------------------------------------------------

def retention_days() -> int:
    return max(180, int(getattr(settings, "AUDIT_RETENTION_DAYS", 180)))


def earliest_purgeable_cutoff() -> dt.date:
    """The latest `before` date a purge may use today: entries younger than the retention stay."""
    return timezone.localdate() - dt.timedelta(days=retention_days())


@dataclass
class PurgeResult:
    deleted_entries: int
    deleted_seals: int
    anchor_seq: int
    anchor_prev_hash: str
    record: AuditEntry


def purge(*, actor, before: dt.date) -> PurgeResult:
    """Delete the audit entries recorded before `before` — the only way audit rows are deleted.

    Refused when `before` is later than today minus AUDIT_RETENTION_DAYS (≥ 180
    days, DESIGN §4) or when the chain does not verify (a broken chain is
    evidence and is kept).  Only a prefix of the chain is removed: every link
    before the first one whose entry is from `before` on.  Inside one
    transaction the triggers are lifted, the rows deleted, the triggers put
    back, and a "core.audit.purged" entry records the new anchor (the first
    kept position and its previous hash) and is sealed, so verify_chain can
    start from the anchor and the purge itself is in the chain.
    """
    limit = earliest_purgeable_cutoff()
    if before > limit:
        raise ValidationError(
            _("审计记录至少保留 %(days)d 天：只能清理 %(limit)s 之前的记录。")
            % {"days": retention_days(), "limit": limit.isoformat()}
        )
    seal_all(scope="all")
    report = verify_chain()
    if not report.ok:
        raise ValidationError(
            _("审计链校验未通过（第 %(seq)d 环，记录 #%(id)d：%(reason)s），拒绝清理。")
            % {"seq": report.broken_seq, "id": report.broken_entry_id, "reason": report.reason}
        )
    cutoff = timezone.make_aware(dt.datetime.combine(before, dt.time.min))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        head = AuditSeal.objects.order_by("-seq").values_list("seq", "hash").first()
        kept = AuditSeal.objects.filter(entry__at__gte=cutoff).order_by("seq").values_list("seq", "prev_hash").first()
        if kept is not None:
            anchor_seq, anchor_prev = kept
        elif head is not None:  # everything is old: the purge record itself becomes the anchor
            anchor_seq, anchor_prev = head[0] + 1, head[1]
        else:
            anchor_seq, anchor_prev = 1, GENESIS
        entry_table = AuditEntry._meta.db_table
        seal_table = AuditSeal._meta.db_table
        with audit_sql.triggers_lifted(connection), connection.cursor() as cursor:
            # Foreign keys are deferred on both databases, so the order does not matter.
            cursor.execute(
                # bandit B608 (medium) reviewed: table names from the models' _meta; the value is a parameter
                f"DELETE FROM {entry_table} WHERE id IN (SELECT entry_id FROM {seal_table} WHERE seq < %s)",
                [anchor_seq],
            )
            deleted_entries = cursor.rowcount
            cursor.execute(f"DELETE FROM {seal_table} WHERE seq < %s", [anchor_seq])  # bandit B608 reviewed: table from _meta
            deleted_seals = cursor.rowcount
        entry = record(
            actor=actor, action=PURGE_ACTION, object_type="core.auditentry",
            object_repr=_("清理 %(date)s 之前的审计记录") % {"date": before.isoformat()},
            after={
                "before": before, "retention_days": retention_days(),
                "deleted_entries": deleted_entries, "deleted_seals": deleted_seals,
                "anchor_seq": anchor_seq, "anchor_prev_hash": anchor_prev,
            },
        )
        # Seal now, under the lock we hold, so the anchor is in the chain when this commits.
        seal_all(scope="all")
    return PurgeResult(deleted_entries, deleted_seals, anchor_seq, anchor_prev, entry)
