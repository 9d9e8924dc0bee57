"""Funds and their sources (经费保障, DESIGN §3 funds): setting up a community's fund of a year,
allocating more money to it, and verifying its ledger.

Rules and where they come from:
* a fund belongs to one community, one year and one kind (社区工作经费 or 服务群众专项经费); a
  second fund of the same kind and year for the community is refused (the database's unique
  constraint backs the check);
* it is set up, and money is allocated to it, by the street hub of the community's street or the
  district administrator ("funds.allocate" on the community);
* its money comes from sources (市级财政, 区级财政, 街道财政, 其他来源), each a positive amount; the
  budget is their sum, and every source's money goes into the ledger as one allocation entry
  (ledger.post), so the balance starts at the budget;
* the standard of the service-the-masses fund and its sharing between city and district are the
  "funds.budget" rule of the community's city (*default* ¥200,000 a year, 1:1): default_sources()
  prefills the form, the street may still change the amounts;
* allocating more money later (追加拨款) raises the source's amount and the budget by the same
  amount, so the budget is always what was allocated and the execution rate is spent / budget.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit, policy
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.permissions import ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import ledger
from .choices import OPEN_PLAN_STATUSES, EntryKind, FundKind, FundSourceKind
from .models import Fund, FundSource, LedgerEntry, SpendingPlan
from .policy import BUDGET_KEY

CENT = ledger.CENT
money = ledger.money  # one rounding rule for every amount of the funds domain
ZERO = Decimal("0.00")
FIRST_YEAR = 2000
# One source of one community's fund: ten hundred million yuan is far beyond any real figure, and
# keeps every sum inside the database's 14 digits.
SOURCE_MAX = Decimal("999999999.99")
MEMO_MAX = 200
NOTE_MAX = 300
SOURCE_ORDER = [FundSourceKind.CITY, FundSourceKind.DISTRICT, FundSourceKind.STREET, FundSourceKind.OTHER]


def yuan(value) -> str:
    """Money as shown everywhere in the funds pages: "¥12,345.00" (negative: "-¥12,345.00")."""
    if value is None:
        return "—"
    amount = money(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def city_of(area: Area | None) -> Area | None:
    """The city-level ancestor of `area` (funds rules are per city), or None for the national rule."""
    node = area
    while node is not None and node.level != AreaLevel.CITY:
        node = node.parent
    return node


# --- Who reaches what ---------------------------------------------------------------------------

def area_prefixes(user, permission: str) -> tuple[str, ...]:
    """Area code prefixes where `user` holds `permission` through an area role."""
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for(permission))


def _under(prefixes, field: str) -> Q:
    parts = [Q(**{f"{field}__startswith": p}) for p in prefixes]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def funds_for(user):
    """The funds `user` may read ("funds.view": district, street, community staff of the area)."""
    return Fund.objects.unscoped().filter(_under(area_prefixes(user, "funds.view"), "community__code"))


def viewable_communities(user):
    """Active communities where `user` may read funds, by code."""
    return Area.objects.unscoped().filter(_under(area_prefixes(user, "funds.view"), "code"),
                                          level=AreaLevel.COMMUNITY, is_active=True).order_by("code")


def allocatable_communities(user):
    """Active communities where `user` may set up funds and allocate money ("funds.allocate")."""
    return Area.objects.unscoped().filter(_under(area_prefixes(user, "funds.allocate"), "code"),
                                          level=AreaLevel.COMMUNITY, is_active=True).order_by("code")


# --- Figures ------------------------------------------------------------------------------------

def with_figures(funds):
    """Annotate funds with `allocated` (the allocation entries), `committed` (what open plans may
    still draw: amount − disbursed) and `spent` (money out net of refunds: allocated − balance,
    since the balance is the sum of every entry)."""
    money_field = DecimalField(max_digits=16, decimal_places=2)
    allocated = (LedgerEntry.objects.unscoped().filter(fund=OuterRef("pk"), kind=EntryKind.ALLOCATION)
                 .order_by().values("fund").annotate(total=Sum("amount")).values("total"))
    committed = (SpendingPlan.objects.unscoped().filter(fund=OuterRef("pk"), status__in=OPEN_PLAN_STATUSES)
                 .order_by().values("fund").annotate(total=Sum(F("amount") - F("disbursed"))).values("total"))
    return funds.annotate(
        allocated=Coalesce(Subquery(allocated, output_field=money_field), Value(ZERO), output_field=money_field),
        committed=Coalesce(Subquery(committed, output_field=money_field), Value(ZERO), output_field=money_field),
    ).annotate(spent=F("allocated") - F("balance"))


def execution_rate(spent, budget) -> Decimal | None:
    """Spent as a percentage of the budget, one decimal; None when there is no budget."""
    if not budget:
        return None
    return (Decimal(spent) * 100 / Decimal(budget)).quantize(Decimal("0.1"))


def sharing_ratio(amounts: dict[str, Decimal]) -> str:
    """The sharing ratio of the sources, in their usual order: "1 : 1" when the amounts reduce to
    small whole numbers (≤ 20 parts), otherwise percentages ("62.5% : 37.5%")."""
    rows = [(kind, money(amounts[kind])) for kind in SOURCE_ORDER if amounts.get(kind)]
    if not rows:
        return "—"
    if len(rows) == 1:
        return "100%"
    cents = [int(amount * 100) for _kind, amount in rows]
    divisor = reduce(math.gcd, cents)
    parts = [c // divisor for c in cents]
    if max(parts) <= 20:
        return " : ".join(str(p) for p in parts)
    total = sum(cents)
    return " : ".join(f"{Decimal(c * 100) / total:.1f}%" for c in cents)


@dataclass(frozen=True)
class SourceShare:
    source: str
    label: str
    amount: Decimal
    share: Decimal  # percent of the fund's budget, one decimal


def source_shares(fund: Fund) -> list[SourceShare]:
    """The fund's sources in their usual order, with each one's share of the total (prefetch
    `sources` to read them without a query)."""
    rows = sorted(fund.sources.all(), key=lambda s: SOURCE_ORDER.index(s.source) if s.source in SOURCE_ORDER else 9)
    total = sum((s.amount for s in rows), ZERO)
    labels = dict(FundSourceKind.choices)
    return [SourceShare(s.source, str(labels.get(s.source, s.source)), money(s.amount),
                        (s.amount * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0.0"))
            for s in rows]


def fund_ratio(fund: Fund) -> str:
    return sharing_ratio({s.source: s.amount for s in fund.sources.all()})


# --- The standard -------------------------------------------------------------------------------

def valid_year(year: int, today: dt.date | None = None) -> bool:
    return FIRST_YEAR <= year <= (today or timezone.localdate()).year + 1


def default_sources(community: Area, year: int) -> dict[str, Decimal]:
    """The service-the-masses fund's standard for `community` in `year`, split between city and
    district ("funds.budget": service_yearly by city_share : district_share, *default* ¥200,000
    at 1:1).  The rule read is the one in force on the last day of that year, or today for the
    current and next years, so a standard changed during the year applies to that year's funds.
    The district's part takes the odd cent, so the parts add up to the standard exactly."""
    today = timezone.localdate()
    on = min(today, dt.date(year, 12, 31))
    rule = policy.get(BUDGET_KEY, city=city_of(community), on=on)
    total = money(Decimal(str(rule["service_yearly"])))
    city_share, district_share = int(rule["city_share"]), int(rule["district_share"])
    shares = city_share + district_share
    if total <= 0 or shares <= 0:
        return {}
    city = money(total * city_share / shares)
    out: dict[str, Decimal] = {}
    if city > 0:
        out[FundSourceKind.CITY.value] = city
    if total - city > 0:
        out[FundSourceKind.DISTRICT.value] = total - city
    return out


# --- Writes -------------------------------------------------------------------------------------

def _amount(value, label: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(_("%(source)s金额不是有效的数字。") % {"source": label}) from None
    if not amount.is_finite():
        raise ValidationError(_("%(source)s金额不是有效的数字。") % {"source": label})
    if amount != amount.quantize(CENT):
        raise ValidationError(_("%(source)s金额最多精确到分（两位小数）。") % {"source": label})
    if amount <= 0:
        raise ValidationError(_("%(source)s金额必须大于零。") % {"source": label})
    if amount > SOURCE_MAX:
        raise ValidationError(_("%(source)s金额过大（单项不超过 %(max)s）。") % {"source": label, "max": yuan(SOURCE_MAX)})
    return money(amount)


def _source_label(source: str) -> str:
    labels = dict(FundSourceKind.choices)
    if source not in labels:
        raise ValidationError(_("未知的经费来源“%(source)s”。") % {"source": source})
    return str(labels[source])


def _duplicate_message(community: Area, year: int, kind: str) -> str:
    return _("%(community)s%(year)s年度已设立%(kind)s，不能重复设立；如需追加资金，请在该经费页面“追加拨款”。") % {
        "community": community.name, "year": year, "kind": FundKind(kind).label}


def fund_create(*, actor, community: Area, year: int, kind: str, sources: dict[str, Decimal], note: str = "") -> Fund:
    """Set up `community`'s fund of `kind` for `year` with its sources (street hub or district
    admin of the area); the budget is the sum of the sources and each source is posted to the
    ledger as an allocation, so the new fund's balance equals its budget."""
    ensure_can(actor, "funds.allocate", community.code)
    if community.level != AreaLevel.COMMUNITY or not community.is_active:
        raise ValidationError({"community": [_("经费只能为在册的社区设立。")]})
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": [_("年度不是有效的年份。")]}) from None
    if not valid_year(year):
        raise ValidationError({"year": [_("年度应在 %(first)s 年到明年之间。") % {"first": FIRST_YEAR}]})
    if kind not in FundKind.values:
        raise ValidationError({"kind": [_("未知的经费类型。")]})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("说明不能超过 %(n)s 个字。") % {"n": NOTE_MAX}]})
    if not sources:
        raise ValidationError({"sources": [_("请至少填写一项经费来源的金额。")]})
    amounts = {source: _amount(value, _source_label(source)) for source, value in sources.items()}
    if Fund.objects.unscoped().filter(community=community, year=year, kind=kind).exists():
        raise ValidationError({"kind": [_duplicate_message(community, year, kind)]})
    budget = sum(amounts.values(), ZERO)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin trips the unique constraint
                fund = Fund.objects.unscoped().create(community=community, year=year, kind=kind, budget=budget,
                                                      note=note, created_by=actor)
        except IntegrityError:
            raise ValidationError({"kind": [_duplicate_message(community, year, kind)]}) from None
        ordered = sorted(amounts.items(), key=lambda item: SOURCE_ORDER.index(item[0]))
        FundSource.objects.bulk_create([FundSource(fund=fund, source=s, amount=a) for s, a in ordered])
        for source, amount in ordered:
            ledger.post(actor=actor, fund=fund, kind=EntryKind.ALLOCATION, amount=amount, source=source,
                        memo=_("%(year)s年度%(kind)s拨入（%(source)s）") % {
                            "year": year, "kind": fund.get_kind_display(), "source": _source_label(source)})
        audit.record(actor=actor, action="funds.fund.created", obj=fund, object_repr=str(fund),
                     after={"community": community.code, "year": year, "kind": kind, "budget": str(budget),
                            "sources": {s: str(a) for s, a in ordered}, "ratio": sharing_ratio(amounts),
                            "note": note})
    return fund


def fund_allocate(*, actor, fund: Fund, source: str, amount, memo: str) -> LedgerEntry:
    """Allocate more money to a fund (追加拨款, street hub or district admin of the area): the
    source's amount and the budget grow by `amount`, which goes into the ledger as an allocation."""
    community = fund.community
    ensure_can(actor, "funds.allocate", community.code)
    label = _source_label(source)
    amount = _amount(amount, label)
    memo = (memo or "").strip()
    if not memo:
        raise ValidationError({"memo": [_("请填写拨款摘要（如文件号或用途）。")]})
    if len(memo) > MEMO_MAX:
        raise ValidationError({"memo": [_("摘要不能超过 %(n)s 个字。") % {"n": MEMO_MAX}]})
    with transaction.atomic():
        current = ledger.locked_fund(fund.pk)  # one allocation at a time: budget and sources move together
        if current.budget + amount > Decimal("999999999999.99"):
            raise ValidationError({"amount": [_("追加后预算超出可记录的范围。")]})
        entry = ledger.post(actor=actor, fund=current, kind=EntryKind.ALLOCATION, amount=amount, source=source,
                            memo=memo, audit_action="funds.fund.allocated")
        row = FundSource.objects.filter(fund=current, source=source).first()
        if row is None:
            FundSource.objects.create(fund=current, source=source, amount=amount)
        else:
            FundSource.objects.filter(pk=row.pk).update(amount=F("amount") + amount)
        Fund.objects.unscoped().filter(pk=current.pk).update(budget=F("budget") + amount)
        fund.balance, fund.entry_count, fund.head_hash = current.balance, current.entry_count, current.head_hash
        fund.budget = current.budget + amount
        audit.record(actor=actor, action="funds.fund.budget_raised", obj=current, object_repr=str(current),
                     before={"budget": str(current.budget)},
                     after={"budget": str(fund.budget), "source": source, "amount": str(amount), "seq": entry.seq})
    return entry


@dataclass(frozen=True)
class Verification:
    fund: Fund
    ok: bool
    entries: int
    head: str
    problem: str  # the first broken link, named (empty when the chain holds)


def fund_verify(*, actor, fund: Fund) -> Verification:
    """Walk one fund's ledger from its first entry (ledger.verify_fund) for staff of the area; the
    check and its outcome are audited."""
    ensure_can(actor, "funds.view", fund.community.code)
    current = Fund.objects.unscoped().select_related("community").get(pk=fund.pk)
    broken = ledger.verify_fund(current)
    entries = LedgerEntry.objects.unscoped().filter(fund=current).count()
    result = Verification(fund=current, ok=broken is None, entries=entries, head=current.head_hash,
                          problem=str(broken) if broken else "")
    audit.record(actor=actor, action="funds.ledger.verified", obj=current, object_repr=str(current),
                 after={"ok": result.ok, "entries": entries, "head": current.head_hash,
                        "problem": result.problem})
    return result
