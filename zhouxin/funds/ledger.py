"""The ring-fenced ledger (经费台账): append-only, hash-chained per fund, never below zero.

Every write goes through `post()`, inside the caller's transaction:

* the fund row is locked (SELECT … FOR UPDATE on PostgreSQL; on SQLite the connection's
  IMMEDIATE transaction already holds the database's write lock), so two disbursements from
  one fund run one after the other and the second sees the first's balance;
* the new balance is the fund's balance plus the signed amount; below zero is refused with a
  message naming the fund, its balance and the amount, and CHECK constraints on both the fund
  and the entry refuse it again should a bug get past the service;
* the entry's position is the fund's entry count + 1 (unique per fund) and its hash is
  sha256(previous hash | canonical content), the previous hash being the fund's head hash;
* database triggers (ledger_sql) refuse UPDATE and DELETE of entries.

`verify()` walks every fund's chain from its first entry, recomputing each hash and balance,
and reports the first link that does not hold; the fund row's entry count, head hash and
balance are the outside witness that the newest entries were not dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit

from .choices import EntryKind
from .models import Fund, LedgerEntry

GENESIS = "0" * 64
# Audit actions a caller may give post() instead of "funds.ledger.<kind>" (verify looks them up).
OTHER_AUDIT_ACTIONS = frozenset({"funds.fund.allocated"})
CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def content_of(entry: LedgerEntry) -> dict:
    """The hashed content of an entry: everything it says, as stable text."""
    return {
        "fund": entry.fund_id,
        "seq": entry.seq,
        "kind": entry.kind,
        "amount": str(money(entry.amount)),
        "balance": str(money(entry.balance)),
        "plan": entry.plan_id,
        "source": entry.source,
        "payee": entry.payee,
        "memo": entry.memo,
        "recorded_by": entry.recorded_by_id,
        "recorded_at": entry.recorded_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
    }


def entry_hash(prev_hash: str, entry: LedgerEntry) -> str:
    canonical = json.dumps(content_of(entry), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


def locked_fund(fund_id: int) -> Fund:
    """The fund row, locked until the caller's transaction ends."""
    return Fund.objects.unscoped().select_for_update().get(pk=fund_id)


def post(*, actor, fund: Fund, kind: str, amount, memo: str, plan=None, source: str = "", payee: str = "",
         audit_action: str | None = None) -> LedgerEntry:
    """Append one entry (signed amount) to a fund's ledger; ValidationError if it would overdraw."""
    if audit_action is not None and audit_action not in OTHER_AUDIT_ACTIONS:
        raise ValueError(f"unknown ledger audit action {audit_action!r}")
    amount = money(amount)
    if amount == 0:
        raise ValidationError(_("金额不能为零。"))
    if kind == EntryKind.DISBURSEMENT and amount > 0:
        raise ValidationError(_("支出金额应记为负数。"))
    if kind != EntryKind.DISBURSEMENT and amount < 0:
        raise ValidationError(_("拨入或退回金额应为正数。"))
    with transaction.atomic():
        current = locked_fund(fund.pk)
        balance = money(current.balance) + amount
        if balance < 0:
            raise ValidationError(
                _("%(fund)s余额 %(balance)s 元，不足以支出 %(amount)s 元（经费专款专用，不得透支）。")
                % {"fund": current, "balance": money(current.balance), "amount": -amount}
            )
        entry = LedgerEntry(
            fund=current, seq=current.entry_count + 1, kind=kind, amount=amount, balance=balance, plan=plan,
            source=source, payee=payee, memo=memo, recorded_by=actor, recorded_at=timezone.now(),
            prev_hash=current.head_hash or GENESIS,
        )
        entry.hash = entry_hash(entry.prev_hash, entry)
        entry.save(force_insert=True)
        Fund.objects.unscoped().filter(pk=current.pk).update(
            balance=balance, entry_count=entry.seq, head_hash=entry.hash)
        fund.balance, fund.entry_count, fund.head_hash = balance, entry.seq, entry.hash
        audit.record(actor=actor, action=audit_action or f"funds.ledger.{kind}", obj=entry,
                     object_repr=f"{current} #{entry.seq}",
                     after={"fund": current.pk, "seq": entry.seq, "amount": str(amount), "balance": str(balance),
                            "plan": plan.pk if plan else None, "hash": entry.hash})
    return entry


@dataclass(frozen=True)
class Break:
    fund_id: int
    fund: str
    seq: int | None
    problem: str

    def __str__(self):
        where = _("第 %(seq)s 条") % {"seq": self.seq} if self.seq is not None else _("经费账户")
        return f"{self.fund}（ID {self.fund_id}）{where}：{self.problem}"


def verify_fund(fund: Fund) -> Break | None:
    """The first link of one fund's chain that does not hold, or None."""
    prev, balance, seq = GENESIS, Decimal("0.00"), 0
    for entry in LedgerEntry.objects.unscoped().filter(fund=fund).order_by("seq").iterator(chunk_size=2000):
        seq += 1
        if entry.seq != seq:
            return Break(fund.pk, str(fund), seq, _("缺少这一条（下一条是第 %(found)s 条）") % {"found": entry.seq})
        if entry.prev_hash != prev:
            return Break(fund.pk, str(fund), entry.seq, _("前一条哈希对不上，链条在此断开"))
        if entry_hash(prev, entry) != entry.hash:
            return Break(fund.pk, str(fund), entry.seq, _("内容与哈希不符，这一条被改动过"))
        balance = balance + money(entry.amount)
        if money(entry.balance) != balance or balance < 0:
            return Break(fund.pk, str(fund), entry.seq,
                         _("余额应为 %(expected)s，记为 %(found)s") % {"expected": balance, "found": money(entry.balance)})
        prev = entry.hash
    if seq != fund.entry_count or (fund.head_hash or GENESIS) != prev:
        return Break(fund.pk, str(fund), None,
                     _("账户记有 %(count)s 条、末条哈希 %(head)s，台账实有 %(found)s 条：末尾的记录被删除或替换")
                     % {"count": fund.entry_count, "head": (fund.head_hash or GENESIS)[:12], "found": seq})
    if money(fund.balance) != balance:
        return Break(fund.pk, str(fund), None,
                     _("账户余额 %(found)s 与台账余额 %(expected)s 不符") % {"found": money(fund.balance),
                                                                       "expected": balance})
    # The audit log (append-only, sealed) recorded every entry's position and hash when it was
    # written: a newest entry missing from the ledger is found even if the fund row was rewritten.
    audited = _audited_positions(fund)
    missing = sorted(position for position in audited if position > seq)
    if missing:
        return Break(fund.pk, str(fund), missing[0],
                     _("审计日志记有这一条（哈希 %(hash)s），台账中却没有：末尾的记录被删除")
                     % {"hash": audited[missing[0]][:12]})
    if seq and audited.get(seq, prev) != prev:
        return Break(fund.pk, str(fund), seq, _("哈希与记账时审计日志记下的不同：这一条被整体重写过"))
    return None


def _audited_positions(fund: Fund) -> dict[int, str]:
    """{position: hash} of the fund's entries as the audit log recorded them when written."""
    from zhouxin.core.models import AuditEntry

    found = {}
    actions = [f"funds.ledger.{kind}" for kind in EntryKind.values] + list(OTHER_AUDIT_ACTIONS)
    for after in (AuditEntry.objects.filter(action__in=actions, object_type=LedgerEntry._meta.label_lower,
                                            after__fund=fund.pk)
                  .values_list("after", flat=True).iterator(chunk_size=2000)):
        if isinstance(after, dict) and after.get("seq"):
            found[int(after["seq"])] = str(after.get("hash") or "")
    return found


def verify(funds=None) -> list[Break]:
    """Every fund's first broken link (funds in id order); empty when the whole ledger holds."""
    queryset = funds if funds is not None else Fund.objects.unscoped().all()
    found = []
    for fund in queryset.order_by("pk").iterator(chunk_size=500):
        broken = verify_fund(fund)
        if broken:
            found.append(broken)
    return found
