"""The audit log: every write and every reveal of personal data, append-only and hash-chained.

Writers insert an AuditEntry in their own transaction with a hash of its own
content and take no lock.  A single sealer then links entries into the chain
(AuditSeal) in the order their transactions committed: on PostgreSQL it holds a
transaction-level advisory lock, so two sealers never link the same position;
on SQLite every write transaction is IMMEDIATE and so serialised already.  A
long import therefore never stalls intake behind a chain-head lock.

Database triggers (see audit_sql) refuse UPDATE and DELETE on both tables.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from . import context
from .choices import AuditResult
from .models import AuditEntry, AuditSeal

logger = logging.getLogger("zhouxin.audit")

GENESIS = "0" * 64
SEAL_LOCK_KEY = 7_310_486_512  # pg advisory lock id for the sealer


def _canonical(value: Any) -> Any:
    """JSON-safe, stable representation (Decimal and dates as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True))


def _at_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_hash(entry: AuditEntry) -> str:
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
        "ip": entry.ip,
        "request_id": entry.request_id,
        "result": entry.result,
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def link_hash(prev_hash: str, seq: int, entry_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{seq}|{entry_hash}".encode()).hexdigest()


def snapshot(obj, fields: list[str]) -> dict[str, Any]:
    """The named fields of a model instance, for before/after (foreign keys as ids)."""
    data = {}
    for name in fields:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        if isinstance(value, Decimal):
            value = str(value)
        data[name] = value
    return _canonical(data)


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
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    ctx = context.current()
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    entry = AuditEntry(
        at=timezone.now(),
        actor_id=actor_id,
        actor_label=(str(getattr(actor, "username", "")) if actor is not None else "system")[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=str(object_repr)[:200],
        before=_canonical(before) if before is not None else None,
        after=_canonical(after) if after is not None else None,
        ip=ctx.ip,
        request_id=ctx.request_id,
        result=result,
    )
    entry.content_hash = content_hash(entry)
    entry.save(force_insert=True)
    if connection.in_atomic_block:
        transaction.on_commit(seal_pending_quietly)
    else:
        seal_pending_quietly()
    return entry


def seal_pending_quietly() -> None:
    try:
        seal_pending()
    except Exception:  # sealing is retried by the next write, the worker and verify_audit
        logger.exception("audit sealing failed; it will be retried")


def seal_pending(limit: int = 5000) -> int:
    """Link unsealed entries into the chain, oldest id first.  Returns how many."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return 0  # another sealer is at work; it will pick these up
        head = AuditSeal.objects.order_by("-seq").only("seq", "hash").first()
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
        pending = list(
            AuditEntry.objects.filter(seal__isnull=True).order_by("id").values_list("id", "content_hash")[:limit]
        )
        if not pending:
            return 0
        now = timezone.now()
        seals = []
        for entry_id, entry_hash in pending:
            seq += 1
            linked = link_hash(prev, seq, entry_hash)
            seals.append(AuditSeal(seq=seq, entry_id=entry_id, prev_hash=prev, hash=linked, sealed_at=now))
            prev = linked
        AuditSeal.objects.bulk_create(seals)
        return len(seals)


@dataclass
class ChainReport:
    checked: int
    unsealed: int
    broken_seq: int | None = None
    broken_entry_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain from the start; report the first link that does not hold."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        seals = list(
            AuditSeal.objects.filter(seq__gt=last_seq).order_by("seq").select_related("entry")[:batch]
        )
        if not seals:
            break
        for seal in seals:
            entry = seal.entry
            if seal.seq != expected_seq:
                return ChainReport(checked, 0, seal.seq, entry.pk, f"missing link before position {seal.seq}")
            if seal.prev_hash != prev:
                return ChainReport(checked, 0, seal.seq, entry.pk, "previous hash does not match")
            actual = content_hash(entry)
            if actual != entry.content_hash:
                return ChainReport(checked, 0, seal.seq, entry.pk, "entry content was altered")
            if link_hash(prev, seal.seq, entry.content_hash) != seal.hash:
                return ChainReport(checked, 0, seal.seq, entry.pk, "link hash does not match")
            prev = seal.hash
            expected_seq += 1
            checked += 1
            last_seq = seal.seq
    unsealed = AuditEntry.objects.filter(seal__isnull=True).count()
    return ChainReport(checked, unsealed)
