"""Disclosures (三务公开, DESIGN §3 funds, issue 9 item 4): yearly, quarterly and immediate items on
the portal, each with a content hash anyone can recompute, chained per community.

What is published and where the rule comes from:

* yearly (年度公开, topic 经费预算): the community's funds of the year with their budget, sources
  and sharing ratio, the spending scope in force (funds.categories) and the approved plans;
* quarterly (季度公开, topic 经费收支): money in by source and out by category in the quarter,
  every disbursement (date, plan, category, amount, receiving organisation) and the balance at
  the end of the quarter, published once the quarter is over;
* immediate (即时公开): the residents' decision of a plan (决议公开, 四议两公开's first 公开) with
  the four deliberations as counts, and the plan's result after acceptance (结果公开, the second
  公开) with its notice period (funds.deliberation notice_days, calendar days from the day it is
  published).

The content is a plain JSON object of strings and integers (money as "12345.00", dates in ISO
form).  Never a person's name, phone or ID number: the builders read amounts, titles,
categories, dates, vote counts and organisation names only, and before anything is published
`personal_data_problems()` refuses content holding a mainland mobile number or an 18-digit ID
number, naming the field (a payee typed as a phone number can never go public).

Hash and chain:  content_hash = sha256(canonical_bytes(content)), where canonical_bytes is the
JSON with sorted keys and no spaces, in UTF-8: exactly the bytes the portal serves as
content.json, so `sha256sum content.json` gives the fingerprint printed on the page and on the
notice board.  Per community: seq = the previous item's seq + 1, link_hash =
sha256(prev_link | content_hash) with the first prev_link 64 zeros; the rows are append-only
(ledger_sql triggers).  A correction is a new item that supersedes the old one (its content
names the item it corrects and why); nothing is ever edited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit, personal_numbers
from zhouxin.core import policy as policy_store
from zhouxin.core.permissions import ensure_can
from zhouxin.orgs.choices import AreaLevel

from .choices import (
    DELIBERATION_ORDER,
    DeliberationStep,
    DisclosureKind,
    DisclosureTopic,
    EntryKind,
    FundKind,
    FundSourceKind,
    PlanStatus,
    VoucherKind,
)
from .ledger import money
from .models import Deliberation, Disclosure, Fund, LedgerEntry, SpendingPlan, Voucher
from .policy import CATEGORIES_KEY, DELIBERATION_KEY

GENESIS = "0" * 64
SCHEMA = "zhouxin.funds.disclosure/1"
ZERO = Decimal("0.00")
REASON_MAX = 200
FIRST_YEAR = 2000
PUBLISH_ATTEMPTS = 5
# Plans that the street has approved (and filed): what the yearly item lists.
APPROVED_STATUSES = (PlanStatus.APPROVED, PlanStatus.DISBURSED, PlanStatus.ACCEPTED, PlanStatus.NOTICE,
                     PlanStatus.FILED)
SOURCE_ORDER = [FundSourceKind.CITY, FundSourceKind.DISTRICT, FundSourceKind.STREET, FundSourceKind.OTHER]

# --- Canonical form and hashes ----------------------------------------------------------------

def canonical_bytes(content) -> bytes:
    """The one byte form of a content object: sorted keys, no spaces, UTF-8 (also content.json)."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_hash(content) -> str:
    """SHA-256 (hex) of the canonical bytes: the item's 内容指纹."""
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def link_of(prev_link: str, hash_: str) -> str:
    """The item's place in its community's chain: sha256(previous link | content hash)."""
    return hashlib.sha256(f"{prev_link}|{hash_}".encode()).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as a resident may copy it from paper: spaces, dashes and case do not matter."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\-:：_]+", "", text).lower()


def money_text(value) -> str:
    """Money in the content: a plain string with two places ("12345.00")."""
    return str(money(value or 0))


# --- Personal data ----------------------------------------------------------------------------

# What the fields are called on the page, for the refusal message.
FIELD_LABELS = {
    "community": gettext_lazy("社区"), "funds": gettext_lazy("经费"), "plans": gettext_lazy("支出计划"), "plan": gettext_lazy("支出计划"),
    "disbursements": gettext_lazy("支出明细"), "deliberations": gettext_lazy("四议记录"), "income": gettext_lazy("收入"),
    "spending": gettext_lazy("支出"), "sources": gettext_lazy("来源"), "acceptance": gettext_lazy("验收"), "vouchers": gettext_lazy("凭证"),
    "spending_scope": gettext_lazy("经费支出范围"), "correction": gettext_lazy("更正说明"), "notice": gettext_lazy("公示期"),
    "title": gettext_lazy("名称"), "purpose": gettext_lazy("用途说明"), "beneficiaries": gettext_lazy("受益对象"), "implementer": gettext_lazy("实施单位"),
    "payee": gettext_lazy("收款单位"), "note": gettext_lazy("验收意见"), "category": gettext_lazy("支出类别"), "reason": gettext_lazy("更正原因"),
    "name": gettext_lazy("名称"), "street": gettext_lazy("街道"), "plan_title": gettext_lazy("项目名称"), "number": gettext_lazy("计划编号"),
    "plan_number": gettext_lazy("计划编号"), "label": gettext_lazy("名称"), "kinds": gettext_lazy("凭证类型"), "allowed": gettext_lazy("允许的支出类别"),
    "forbidden": gettext_lazy("禁止的支出类别"), "filing_number": gettext_lazy("备案号"), "headline": gettext_lazy("标题"),
}


def _field_name(path: list) -> str:
    parts = []
    for step in path:
        if isinstance(step, int):
            parts.append(_("第 %(n)d 条") % {"n": step + 1})
        else:
            parts.append(str(FIELD_LABELS.get(step, step)))
    return " › ".join(parts) or _("内容")


def _walk_strings(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, [*path, key])
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk_strings(item, [*path, index])
    elif isinstance(value, str):
        yield path, value


def personal_data_problems(content, *, title: str = "") -> list[str]:
    """What in `content` (and the title) looks like a mobile number or an ID number, field by field."""
    problems = []
    found = list(_walk_strings(content, []))
    if title:
        found.insert(0, (["headline"], title))
    for path, text in found:
        if personal_numbers.has_mobile(text):
            problems.append(_("“%(field)s”中含有疑似手机号码，不能公开；请改为单位名称或删去号码后再发布。")
                            % {"field": _field_name(path)})
        if personal_numbers.has_id_number(text):
            problems.append(_("“%(field)s”中含有疑似身份证号码，不能公开；请删去后再发布。") % {"field": _field_name(path)})
    return problems


def check_personal_data(content, *, title: str = "") -> None:
    problems = personal_data_problems(content, title=title)
    if problems:
        raise ValidationError(problems)


# --- Content builders -------------------------------------------------------------------------

def in_site_language(build):
    """Build published text in the site's language (简体中文), whatever the language of the staff
    member's screen: a disclosure says the same thing to everyone, and its hash depends on it."""
    @wraps(build)
    def wrapped(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return build(*args, **kwargs)

    return wrapped


def _community_part(community) -> dict:
    street = community.parent if community.parent_id else None
    return {"code": community.code, "name": community.name, "street": street.name if street else ""}


def _city_of(area):
    node = area
    while node is not None and node.level != AreaLevel.CITY:
        node = node.parent
    return node


def _label(choices, value) -> str:
    return str(dict(choices.choices).get(value, value))


def _sharing_ratio(amounts: dict[str, Decimal]) -> str:
    from .funds import sharing_ratio  # the ratio as the funds pages show it

    return sharing_ratio(amounts)


def _local_date(moment) -> str:
    return timezone.localtime(moment).date().isoformat()


def _day_start(day: dt.date):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def quarter_period(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, 3 * (quarter - 1) + 1, 1)
    after = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, after - dt.timedelta(days=1)


@in_site_language
def yearly_content(community, year: int, *, today: dt.date | None = None) -> dict:
    """年度公开: the funds of the year (budget, sources, sharing ratio, money in and out so far),
    the spending scope in force and the approved plans."""
    today = today or timezone.localdate()
    funds = list(Fund.objects.unscoped().filter(community=community, year=year).prefetch_related("sources")
                 .order_by("kind"))
    fund_rows, totals = [], Counter()
    for fund in funds:
        sources = sorted(fund.sources.all(), key=lambda s: SOURCE_ORDER.index(s.source)
                         if s.source in SOURCE_ORDER else len(SOURCE_ORDER))
        total = sum((s.amount for s in sources), ZERO)
        entries = list(LedgerEntry.objects.unscoped().filter(fund=fund).values_list("kind", "amount"))
        allocated = sum((a for k, a in entries if k == EntryKind.ALLOCATION), ZERO)
        refunded = sum((a for k, a in entries if k == EntryKind.REFUND), ZERO)
        disbursed = -sum((a for k, a in entries if k == EntryKind.DISBURSEMENT), ZERO)
        fund_rows.append({
            "kind": fund.kind, "kind_label": _label(FundKind, fund.kind), "budget": money_text(fund.budget),
            "sources": [{"source": s.source, "label": _label(FundSourceKind, s.source), "amount": money_text(s.amount),
                         "share": f"{(s.amount * 100 / total).quantize(Decimal('0.1')) if total else 0}%"}
                        for s in sources],
            "sharing_ratio": _sharing_ratio({s.source: s.amount for s in sources}),
            "allocated": money_text(allocated), "disbursed": money_text(disbursed),
            "refunded": money_text(refunded), "balance": money_text(fund.balance),
        })
        totals.update({"budget": fund.budget, "allocated": allocated, "disbursed": disbursed,
                       "balance": fund.balance})
    plans = (SpendingPlan.objects.unscoped().filter(community=community, fund__year=year,
                                                    status__in=APPROVED_STATUSES)
             .select_related("fund").order_by("number"))
    rule = policy_store.get(CATEGORIES_KEY, city=_city_of(community), on=min(today, dt.date(year, 12, 31)))
    threshold = policy_store.get(DELIBERATION_KEY, city=_city_of(community), on=min(today, dt.date(year, 12, 31)))
    return {
        "schema": SCHEMA, "type": DisclosureKind.YEARLY.value, "topic": DisclosureTopic.FUNDS.value,
        "community": _community_part(community), "year": year, "as_of": today.isoformat(),
        "funds": fund_rows,
        "totals": {key: money_text(totals[key]) for key in ("budget", "allocated", "disbursed", "balance")},
        "spending_scope": {"allowed": [str(n) for n in rule["allowed"]], "forbidden": [str(n) for n in rule["forbidden"]]},
        "deliberation_threshold": money_text(Decimal(str(threshold["threshold"]))),
        "plans": [{
            "number": p.number, "title": p.title, "category": p.category_label or p.category,
            "fund": _label(FundKind, p.fund.kind), "amount": money_text(p.amount), "disbursed": money_text(p.disbursed),
            "status": _label(PlanStatus, p.status), "filing_number": p.filing_number,
            "deliberated": bool(p.needs_deliberation), "implementer": p.implementer,
        } for p in plans],
    }


@in_site_language
def quarterly_content(community, year: int, quarter: int, *, today: dt.date | None = None) -> dict:
    """季度公开: money in (by source) and out (by category) in the quarter, every disbursement,
    and each fund's balance at the start and the end of the quarter."""
    today = today or timezone.localdate()
    first, last = quarter_period(year, quarter)
    start, end = _day_start(first), _day_start(last + dt.timedelta(days=1))
    funds = list(Fund.objects.unscoped().filter(community=community, year=year).order_by("kind"))
    fund_rows, income, spending, disbursements = [], OrderedDict(), OrderedDict(), []
    totals = Counter()
    for fund in funds:
        before = (LedgerEntry.objects.unscoped().filter(fund=fund, recorded_at__lt=start).order_by("-seq")
                  .values_list("balance", flat=True).first())
        closing = (LedgerEntry.objects.unscoped().filter(fund=fund, recorded_at__lt=end).order_by("-seq")
                   .values_list("balance", flat=True).first())
        opening, closing = before or ZERO, closing or ZERO
        fund_in = fund_out = ZERO
        kind_label = _label(FundKind, fund.kind)
        for entry in (LedgerEntry.objects.unscoped().filter(fund=fund, recorded_at__gte=start, recorded_at__lt=end)
                      .select_related("plan").order_by("seq")):
            if entry.amount > 0:
                fund_in += entry.amount
                label = (_label(FundSourceKind, entry.source) if entry.kind == EntryKind.ALLOCATION and entry.source
                         else _label(EntryKind, entry.kind))
                row = income.setdefault((fund.kind, label), {"fund": kind_label, "label": label, "amount": ZERO,
                                                            "count": 0})
                row["amount"] += entry.amount
                row["count"] += 1
            else:
                amount = -entry.amount
                fund_out += amount
                plan = entry.plan
                category = (plan.category_label or plan.category) if plan else _("其他支出")
                row = spending.setdefault(category, {"category": category, "amount": ZERO, "count": 0})
                row["amount"] += amount
                row["count"] += 1
                disbursements.append({
                    "date": _local_date(entry.recorded_at), "fund": kind_label,
                    "plan_number": plan.number if plan else "", "plan_title": plan.title if plan else entry.memo,
                    "category": category, "amount": money_text(amount), "payee": entry.payee,
                })
        fund_rows.append({"kind": fund.kind, "kind_label": kind_label, "opening_balance": money_text(opening),
                          "income": money_text(fund_in), "spending": money_text(fund_out),
                          "closing_balance": money_text(closing)})
        totals.update({"opening_balance": opening, "income": fund_in, "spending": fund_out,
                       "closing_balance": closing})
    return {
        "schema": SCHEMA, "type": DisclosureKind.QUARTERLY.value, "topic": DisclosureTopic.SPENDING.value,
        "community": _community_part(community), "year": year, "quarter": quarter,
        "period": {"from": first.isoformat(), "to": last.isoformat()}, "as_of": today.isoformat(),
        "funds": fund_rows,
        "income": [{**row, "amount": money_text(row["amount"])} for row in income.values()],
        "spending": [{**row, "amount": money_text(row["amount"])} for row in spending.values()],
        "disbursements": disbursements,
        "totals": {key: money_text(totals[key]) for key in ("opening_balance", "income", "spending",
                                                             "closing_balance")},
    }


def _plan_part(plan) -> dict:
    return {
        "number": plan.number, "title": plan.title, "purpose": plan.purpose,
        "category": plan.category_label or plan.category, "amount": money_text(plan.amount),
        "beneficiaries": plan.beneficiaries, "implementer": plan.implementer,
        "fund": _label(FundKind, plan.fund.kind), "year": plan.fund.year,
    }


@in_site_language
def decision_content(plan, *, today: dt.date | None = None) -> dict:
    """决议公开: the plan as decided and its four deliberations, with attendance and votes as counts."""
    today = today or timezone.localdate()
    order = {step: n for n, step in enumerate(DELIBERATION_ORDER)}
    rows = sorted(Deliberation.objects.unscoped().filter(plan=plan),
                  key=lambda d: (order.get(d.step, 9), d.held_on, d.pk))
    decided = next((d for d in rows if d.step == DeliberationStep.RESIDENTS_DECISION and d.passed), None)
    notice_days = int(policy_store.get(DELIBERATION_KEY, city=_city_of(plan.community), on=today)["notice_days"])
    return {
        "schema": SCHEMA, "type": DisclosureKind.IMMEDIATE.value, "topic": DisclosureTopic.DECISION.value,
        "community": _community_part(plan.community), "year": plan.fund.year,
        "plan": _plan_part(plan),
        "deliberations": [{
            "step": d.step, "step_label": _label(DeliberationStep, d.step), "held_on": d.held_on.isoformat(),
            "due": d.due, "present": d.present, "for": d.votes_for, "against": d.votes_against,
            "abstained": d.abstained, "passed": bool(d.passed),
        } for d in rows],
        "decided_on": decided.held_on.isoformat() if decided else "",
        "notice": {"from": today.isoformat(), "until": (today + dt.timedelta(days=notice_days)).isoformat(),
                   "days": notice_days},
    }


@in_site_language
def result_content(plan, *, today: dt.date | None = None) -> dict:
    """结果公开: what was spent on the plan and to which organisations, its vouchers (count and
    kinds), the acceptance and the notice period."""
    today = today or timezone.localdate()
    notice_days = int(policy_store.get(DELIBERATION_KEY, city=_city_of(plan.community), on=today)["notice_days"])
    start = plan.notice_from or today
    until = plan.notice_until or start + dt.timedelta(days=notice_days)
    entries = list(LedgerEntry.objects.unscoped().filter(plan=plan).order_by("recorded_at", "pk"))
    kinds = Counter(Voucher.objects.unscoped().filter(plan=plan).values_list("kind", flat=True))
    paid = [e for e in entries if e.kind == EntryKind.DISBURSEMENT]
    refunds = [e for e in entries if e.kind == EntryKind.REFUND]
    return {
        "schema": SCHEMA, "type": DisclosureKind.IMMEDIATE.value, "topic": DisclosureTopic.RESULT.value,
        "community": _community_part(plan.community), "year": plan.fund.year,
        "plan": {**_plan_part(plan), "filing_number": plan.filing_number},
        "amounts": {"planned": money_text(plan.amount), "disbursed": money_text(plan.disbursed),
                    "refunded": money_text(sum((e.amount for e in refunds), ZERO))},
        "disbursements": [{"date": _local_date(e.recorded_at), "amount": money_text(-e.amount), "payee": e.payee}
                          for e in paid],
        "vouchers": {"count": sum(kinds.values()),
                     "kinds": [{"kind": k, "label": _label(VoucherKind, k), "count": kinds[k]}
                               for k in VoucherKind.values if kinds.get(k)]},
        "acceptance": {"date": _local_date(plan.accepted_at) if plan.accepted_at else "",
                       "note": plan.acceptance_note},
        "notice": {"from": start.isoformat(), "until": until.isoformat(), "days": (until - start).days},
    }


# --- Titles ----------------------------------------------------------------------------------

@in_site_language
def yearly_title(community, year: int) -> str:
    return _("%(community)s%(year)s年度社区经费公开") % {"community": community.name, "year": year}


@in_site_language
def quarterly_title(community, year: int, quarter: int) -> str:
    return _("%(community)s%(year)s年第%(quarter)s季度经费收支公开") % {
        "community": community.name, "year": year, "quarter": quarter}


@in_site_language
def decision_title(plan) -> str:
    return _("%(title)s（%(number)s）决议公开") % {"title": plan.title, "number": plan.number}


@in_site_language
def result_title(plan) -> str:
    return _("%(title)s（%(number)s）实施结果公开") % {"title": plan.title, "number": plan.number}


# --- Publishing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Draft:
    """What would be published: for the staff preview and for the service."""

    community: object
    kind: str
    topic: str
    year: int
    quarter: int | None
    plan: object | None
    title: str
    content: dict
    content_hash: str
    current: Disclosure | None  # the item of the same period (or plan) it would correct
    problems: tuple[str, ...]  # personal data found: the draft cannot be published

    @property
    def unchanged(self) -> bool:
        return self.current is not None and _without_correction(self.current.content) == self.content

    @property
    def corrects(self) -> bool:
        return self.current is not None and not self.unchanged


def _without_correction(content) -> dict:
    if not isinstance(content, dict):
        return content
    return {k: v for k, v in content.items() if k != "correction"}


def current_item(community, *, kind: str, topic: str, year: int, quarter: int | None = None, plan=None):
    """The newest item of this period (or plan) that no later item corrects, or None."""
    rows = Disclosure.objects.unscoped().filter(community=community, kind=kind, topic=topic, year=year,
                                                quarter=quarter, superseded_by__isnull=True)
    if plan is not None:
        rows = rows.filter(plan=plan)
    return rows.order_by("-seq").first()


def _draft(community, *, kind, topic, year, quarter, plan, title, content) -> Draft:
    current = current_item(community, kind=kind, topic=topic, year=year, quarter=quarter, plan=plan)
    return Draft(community=community, kind=kind, topic=topic, year=year, quarter=quarter, plan=plan, title=title,
                 content=content, content_hash=content_hash(content), current=current,
                 problems=tuple(personal_data_problems(content, title=title)))


def _check_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": [_("年度不是有效的年份。")]}) from None
    if not FIRST_YEAR <= year <= timezone.localdate().year + 1:
        raise ValidationError({"year": [_("年度应在 %(first)s 年到明年之间。") % {"first": FIRST_YEAR}]})
    return year


def _check_community(community) -> None:
    if community is None or community.level != AreaLevel.COMMUNITY or not community.is_active:
        raise ValidationError({"community": [_("三务公开只能为在册的社区发布。")]})


def yearly_draft(community, year, *, today: dt.date | None = None) -> Draft:
    _check_community(community)
    year = _check_year(year)
    if not Fund.objects.unscoped().filter(community=community, year=year).exists():
        raise ValidationError({"year": [_("%(community)s%(year)s年度尚未设立经费，没有可公开的内容。")
                                        % {"community": community.name, "year": year}]})
    return _draft(community, kind=DisclosureKind.YEARLY, topic=DisclosureTopic.FUNDS, year=year, quarter=None,
                  plan=None, title=yearly_title(community, year), content=yearly_content(community, year, today=today))


def quarterly_draft(community, year, quarter, *, today: dt.date | None = None) -> Draft:
    _check_community(community)
    year = _check_year(year)
    try:
        quarter = int(quarter)
    except (TypeError, ValueError):
        quarter = 0
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": [_("季度应为 1 到 4。")]})
    today = today or timezone.localdate()
    last = quarter_period(year, quarter)[1]
    if last >= today:
        # 季度公开 reports a whole quarter: published once it is over, so it never needs redoing.
        raise ValidationError({"quarter": [_("%(year)s年第%(quarter)s季度到 %(last)s 才结束，季度结束后才能公开本季度收支。")
                                           % {"year": year, "quarter": quarter, "last": last.isoformat()}]})
    if not Fund.objects.unscoped().filter(community=community, year=year).exists():
        raise ValidationError({"year": [_("%(community)s%(year)s年度尚未设立经费，没有可公开的内容。")
                                        % {"community": community.name, "year": year}]})
    return _draft(community, kind=DisclosureKind.QUARTERLY, topic=DisclosureTopic.SPENDING, year=year,
                  quarter=quarter, plan=None, title=quarterly_title(community, year, quarter),
                  content=quarterly_content(community, year, quarter, today=today))


def decision_draft(plan, *, today: dt.date | None = None) -> Draft:
    plan = SpendingPlan.objects.unscoped().select_related("community__parent", "fund").get(pk=plan.pk)
    if not Deliberation.objects.unscoped().filter(plan=plan, step=DeliberationStep.RESIDENTS_DECISION,
                                                  passed=True).exists():
        raise ValidationError(_("居民（代表）会议尚未通过这项计划，没有可公开的决议。"))
    return _draft(plan.community, kind=DisclosureKind.IMMEDIATE, topic=DisclosureTopic.DECISION, year=plan.fund.year,
                  quarter=None, plan=plan, title=decision_title(plan), content=decision_content(plan, today=today))


def result_draft(plan, *, today: dt.date | None = None) -> Draft:
    plan = SpendingPlan.objects.unscoped().select_related("community__parent", "fund").get(pk=plan.pk)
    if plan.accepted_at is None:
        raise ValidationError(_("计划尚未验收，没有可公开的实施结果。"))
    return _draft(plan.community, kind=DisclosureKind.IMMEDIATE, topic=DisclosureTopic.RESULT, year=plan.fund.year,
                  quarter=None, plan=plan, title=result_title(plan), content=result_content(plan, today=today))


def _notice_until(content) -> dt.date | None:
    notice = content.get("notice") if isinstance(content, dict) else None
    if not notice or not notice.get("until"):
        return None
    return dt.date.fromisoformat(notice["until"])


def _with_correction(draft: Draft, current, reason: str, if_unchanged: str):
    """The content to publish: the draft's, naming the item it corrects and why; or the current
    item itself when nothing changed and the caller wants it back."""
    content = dict(draft.content)
    if current is None:
        return content
    if _without_correction(current.content) == content:
        if if_unchanged == "return":
            return current
        raise ValidationError(_("“%(title)s”已于 %(day)s 公开，内容没有变化，无需重新发布。") % {
            "title": current.title, "day": _local_date(current.published_at)})
    if not reason:
        raise ValidationError({"reason": [_("“%(title)s”已经公开过，内容有变化：请填写更正原因，"
                                            "新发布的内容将更正原公开。") % {"title": current.title}]})
    content["correction"] = {"supersedes_seq": current.seq, "supersedes_hash": current.content_hash,
                             "reason": reason}
    return content


def publish(*, actor, draft: Draft, reason: str = "", if_unchanged: str = "refuse") -> Disclosure:
    """Publish a draft as the community's next chained item.

    An item of the same period (or plan) already public: identical content is refused
    (`if_unchanged="refuse"`) or that item is returned (`"return"`, for the workflow); changed
    content is published as a correction superseding it, with the reason in its content."""
    community = draft.community
    ensure_can(actor, "funds.disclose", community.code)
    if draft.problems:
        raise ValidationError(list(draft.problems))
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("更正原因不能超过 %(n)s 个字。") % {"n": REASON_MAX}]})
    with transaction.atomic():
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                with transaction.atomic():  # a savepoint: a concurrent publisher may take the same seq
                    # The chain head, locked; then the item being corrected, read under that lock
                    # (a concurrent twin may have published this period a moment ago).
                    newest = (Disclosure.objects.unscoped().select_for_update().filter(community=community)
                              .order_by("-seq").only("seq", "link_hash").first())
                    current = current_item(community, kind=draft.kind, topic=draft.topic, year=draft.year,
                                           quarter=draft.quarter, plan=draft.plan)
                    content = _with_correction(draft, current, reason, if_unchanged)
                    if isinstance(content, Disclosure):
                        return content
                    check_personal_data(content, title=draft.title)
                    hash_ = content_hash(content)
                    prev_link = newest.link_hash if newest else GENESIS
                    item = Disclosure(
                        community=community, kind=draft.kind, topic=draft.topic, year=draft.year,
                        quarter=draft.quarter, plan=draft.plan, title=draft.title[:120], content=content,
                        content_hash=hash_, seq=(newest.seq if newest else 0) + 1, prev_link=prev_link,
                        link_hash=link_of(prev_link, hash_), published_by=actor, published_at=timezone.now(),
                        notice_until=_notice_until(content), supersedes=current)
                    item.save(force_insert=True)
                break
            except IntegrityError:
                if attempt == PUBLISH_ATTEMPTS - 1:
                    raise ValidationError(_("同一社区正有其他公开在发布，请稍后重试。")) from None
        audit.record(actor=actor, action="funds.disclosure.published", obj=item, object_repr=item.title,
                     after={"community": community.code, "seq": item.seq, "kind": item.kind, "topic": item.topic,
                            "year": item.year, "quarter": item.quarter, "plan": draft.plan.pk if draft.plan else None,
                            "content_hash": hash_, "link_hash": item.link_hash,
                            "supersedes": current.pk if current else None, "reason": reason})
    return item


def publish_yearly(*, actor, community, year, reason: str = "", today: dt.date | None = None) -> Disclosure:
    """年度公开 of a community's funds of `year` (community staff or the street hub): published
    early in the year with the budget, and again as a correction when the plans change."""
    ensure_can(actor, "funds.disclose", community.code)
    return publish(actor=actor, draft=yearly_draft(community, year, today=today), reason=reason)


def publish_quarterly(*, actor, community, year, quarter, reason: str = "",
                      today: dt.date | None = None) -> Disclosure:
    """季度公开 of a community's money in and out in one quarter of `year`, once the quarter is over."""
    ensure_can(actor, "funds.disclose", community.code)
    return publish(actor=actor, draft=quarterly_draft(community, year, quarter, today=today), reason=reason)


def publish_decision(*, actor, plan) -> Disclosure:
    """决议公开, called by plans.deliberation_record when the residents' decision passes.
    Called again with nothing changed, it returns the item already public."""
    ensure_can(actor, "funds.disclose", plan.community.code)
    return publish(actor=actor, draft=decision_draft(plan), reason=_("计划信息有更新，重新公开"),
                   if_unchanged="return")


def publish_result(*, actor, plan) -> Disclosure:
    """结果公开, called by plans.plan_accept: its notice period starts today and lasts the
    notice_days of funds.deliberation in force (calendar days)."""
    ensure_can(actor, "funds.disclose", plan.community.code)
    return publish(actor=actor, draft=result_draft(plan), reason=_("计划信息有更新，重新公开"),
                   if_unchanged="return")


# --- Verification ------------------------------------------------------------------------------

@dataclass
class VerifyResult:
    """The outcome of checking one item: its content against its fingerprint, and its chain link."""

    ok: bool
    content_ok: bool
    link_ok: bool
    computed_hash: str
    messages: list[str] = field(default_factory=list)


def verify(disclosure: Disclosure) -> VerifyResult:
    """Recompute the item's fingerprint from its stored content and check its place in the chain
    (its previous link, its own link, and that the next item points at it)."""
    computed = content_hash(disclosure.content)
    content_ok = computed == disclosure.content_hash
    messages = []
    if content_ok:
        messages.append(_("内容与指纹一致：按公开内容重新计算的 SHA-256 与公示的内容指纹相同。"))
    else:
        messages.append(_("内容与指纹不一致：按现存内容计算得到 %(computed)s，与公示的指纹不同，公开内容已被改动。")
                        % {"computed": computed})
    rows = {d.seq: d for d in Disclosure.objects.unscoped().filter(
        community_id=disclosure.community_id, seq__in=[disclosure.seq - 1, disclosure.seq + 1])
        .only("seq", "link_hash", "prev_link")}
    previous, following = rows.get(disclosure.seq - 1), rows.get(disclosure.seq + 1)
    problems = []
    if disclosure.seq == 1:
        expected_prev = GENESIS
    elif previous is None:
        expected_prev = None
        problems.append(_("前一条（第 %(seq)s 条）公开缺失。") % {"seq": disclosure.seq - 1})
    else:
        expected_prev = previous.link_hash
    if expected_prev is not None and disclosure.prev_link != expected_prev:
        problems.append(_("与前一条的衔接不符。"))
    if link_of(disclosure.prev_link, disclosure.content_hash) != disclosure.link_hash:
        problems.append(_("本条的链接哈希与指纹不符。"))
    if following is not None and following.prev_link != disclosure.link_hash:
        problems.append(_("后一条（第 %(seq)s 条）指向的不是本条。") % {"seq": disclosure.seq + 1})
    link_ok = not problems
    if link_ok:
        messages.append(_("链条衔接正确：本条是本社区第 %(seq)s 条公开，与前后各条首尾相接。") % {"seq": disclosure.seq})
    else:
        messages.append(_("链条断开：%(problems)s") % {"problems": "".join(problems)})
    return VerifyResult(ok=content_ok and link_ok, content_ok=content_ok, link_ok=link_ok, computed_hash=computed,
                        messages=messages)


@dataclass(frozen=True)
class ChainBreak:
    community_code: str
    community: str
    seq: int
    pk: int | None
    title: str
    problem: str

    def __str__(self):
        item = _("第 %(seq)s 条") % {"seq": self.seq}
        if self.pk is not None:
            item = _("第 %(seq)s 条“%(title)s”（ID %(pk)s）") % {"seq": self.seq, "title": self.title, "pk": self.pk}
        return f"{self.community}（{self.community_code}）{item}：{self.problem}"


def chain_break(community) -> ChainBreak | None:
    """The first item of a community's chain that does not hold, from the first item on; the
    audit log's record of each publication is the outside witness that none was dropped."""
    from zhouxin.core.models import AuditEntry

    prev, expected = GENESIS, 0

    def broken(seq, item, problem):
        return ChainBreak(community.code, community.name, seq, item.pk if item else None,
                          item.title if item else "", problem)

    for item in (Disclosure.objects.unscoped().filter(community=community).order_by("seq")
                 .only("pk", "seq", "title", "content", "content_hash", "prev_link", "link_hash")
                 .iterator(chunk_size=500)):
        expected += 1
        if item.seq != expected:
            return broken(expected, None, _("缺少这一条（下一条是第 %(found)s 条）") % {"found": item.seq})
        if item.prev_link != prev:
            return broken(item.seq, item, _("与前一条的衔接不符，链条在此断开"))
        if content_hash(item.content) != item.content_hash:
            return broken(item.seq, item, _("内容与指纹不符，这一条被改动过"))
        if link_of(prev, item.content_hash) != item.link_hash:
            return broken(item.seq, item, _("链接哈希与指纹不符"))
        prev = item.link_hash
    audited = (AuditEntry.objects.filter(action="funds.disclosure.published", after__community=community.code)
               .values_list("after", flat=True))
    missing = sorted(int(a["seq"]) for a in audited if isinstance(a, dict) and int(a.get("seq") or 0) > expected)
    if missing:
        return broken(expected + 1, None, _("审计日志记有第 %(seq)s 条的发布，公开记录中却没有：末尾的公开被删除")
                      % {"seq": missing[0]})
    return None


def verify_chain(community) -> int | None:
    """The seq of the first broken item of a community's chain, or None when it holds."""
    found = chain_break(community)
    return found.seq if found else None


def verify_all(communities=None) -> list[ChainBreak]:
    """Every community's first broken item (communities with disclosures, in code order)."""
    from zhouxin.orgs.models import Area

    if communities is None:
        communities = Area.objects.unscoped().filter(
            Q(pk__in=Disclosure.objects.unscoped().values("community_id"))).order_by("code")
    found = []
    for community in communities:
        item = chain_break(community)
        if item:
            found.append(item)
    return found


def check_fingerprint(disclosure: Disclosure, text: str) -> dict:
    """A resident's check of a fingerprint copied from the paper notice board against this item."""
    typed = normalise_fingerprint(text)
    if not re.fullmatch(r"[0-9a-f]{64}", typed):
        return {"valid": False, "typed": typed, "message": _("内容指纹应为 64 位十六进制字符（0-9、a-f），请核对后重新输入。")}
    matches = typed == disclosure.content_hash
    other = None
    if not matches:
        other = (Disclosure.objects.unscoped().filter(community_id=disclosure.community_id, content_hash=typed)
                 .exclude(pk=disclosure.pk).only("pk", "title", "seq").first())
    return {"valid": True, "typed": typed, "matches": matches, "other": other,
            "content_ok": content_hash(disclosure.content) == typed if matches else None}
