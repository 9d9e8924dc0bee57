"""Spending plans (支出计划) through their whole workflow (DESIGN §3 funds, issue 9 item 2):

    propose → [四议两公开 when the amount is above the threshold] → submit → street review and
    filing (备案) → disbursement (拨付) → vouchers (凭证) → acceptance (验收) → result notice
    (结果公示) → filed (归档)

Rules and where they come from:

* the category must be one the spending scope in force allows (policy "funds.categories",
  经费支出范围); a forbidden one is refused naming it and the rule, an unknown one too;
* a plan whose amount is above the threshold in force (policy "funds.deliberation") goes
  through 四议两公开: the four deliberations in their order (DELIBERATION_ORDER), each with
  attendance and votes (counts only, never names).  The quorum and majority rules are enforced:
    - 社区党组织提议, 两委会议商议: more than half of those due present, passed by more than half
      of those present;
    - 党员大会审议: at least two thirds of the members due present, passed by more than half of
      the members due (not of those present);
    - 居民（代表）会议决议: more than half of those due present, passed by more than half of
      those present.
  A meeting without its quorum is no meeting: refused, nothing saved.  A meeting with its
  quorum whose vote fails is recorded (passed=False) and the plan is rejected with the count
  named.  When the residents' decision passes, the decision is published (决议公开);
* community staff ("funds.plan") propose, record deliberations, submit, add vouchers, accept
  and withdraw; the street hub reviews ("funds.review") and disburses ("funds.disburse");
  either may file the plan once the result notice period is over;
* disbursement goes through the ledger (ledger.post: locked fund row, never below zero) and
  never above the plan's amount (also a database CHECK); the plan is disbursed in full
  before acceptance, which needs at least one voucher and publishes the result (结果公开)
  with its notice period;
* every move is made on the plan row locked for the transaction, from the status it must
  have, and audited in the same transaction.

Services that depend on the day take an optional `today` (default: the local date), so a
test or an import can say which day it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhouxin.core import audit
from zhouxin.core import policy as policy_store
from zhouxin.core.permissions import can, ensure_can
from zhouxin.dispatch import attachments, imagemeta, numbering

from . import ledger
from .choices import DELIBERATION_ORDER, DeliberationStep, EntryKind, PlanStatus, VoucherKind
from .funds import city_of, yuan  # money shown one way in the funds pages: ¥12,345.00
from .models import Deliberation, Fund, LedgerEntry, SpendingPlan, Voucher
from .policy import CATEGORIES_KEY, DELIBERATION_KEY

TITLE_MAX = 80
PURPOSE_MAX = 1000
BENEFICIARIES_MAX = 200
IMPLEMENTER_MAX = 100
NOTE_MAX = 300
MINUTES_MAX = 2000
PAYEE_MAX = 100
MEMO_MAX = 200
ACCEPT_NOTE_MAX = 500
PARTICIPANTS_MAX = 300
VOUCHER_NUMBER_MAX = 64
ISSUER_MAX = 100
FILE_MAX_BYTES = 10 * 1024 * 1024
CENT = Decimal("0.01")
AMOUNT_MAX = Decimal("999999999999.99")

# Who may withdraw: before any money has gone out.
WITHDRAWABLE = (PlanStatus.DRAFT, PlanStatus.DELIBERATING, PlanStatus.STREET_REVIEW, PlanStatus.APPROVED)
VOUCHER_STATUSES = (PlanStatus.APPROVED, PlanStatus.DISBURSED)


def _money(errors: dict, field: str, value, *, label: str) -> Decimal | None:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError):
        errors.setdefault(field, []).append(_("%(label)s应为金额，如 12000.00。") % {"label": label})
        return None
    if not amount.is_finite() or amount <= 0 or amount > AMOUNT_MAX:
        errors.setdefault(field, []).append(_("%(label)s应大于零。") % {"label": label})
        return None
    return amount


def _text(errors: dict, field: str, value, *, limit: int, label: str, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        errors.setdefault(field, []).append(_("请填写%(label)s。") % {"label": label})
    elif len(text) > limit:
        errors.setdefault(field, []).append(_("%(label)s不能超过 %(limit)d 字。") % {"label": label, "limit": limit})
    return text


def _public_text(errors: dict, fields: dict[str, str]) -> None:
    """Text that the decision or result disclosure will publish may carry no phone or ID number
    (refused now, by field, rather than when the disclosure is published)."""
    from .disclosures import personal_data_problems

    for field, text in fields.items():
        if text and field not in errors:
            problems = personal_data_problems({field: text})
            if problems:
                errors.setdefault(field, []).extend(problems)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --- The rules in force --------------------------------------------------------------------

@dataclass(frozen=True)
class Categories:
    allowed: tuple[str, ...]
    forbidden: tuple[str, ...]


def categories_for(community, *, on: dt.date | None = None) -> Categories:
    """The allowed and forbidden spending categories (经费支出范围) in force for a community."""
    rule = policy_store.get(CATEGORIES_KEY, city=city_of(community), on=on)
    return Categories(tuple(rule["allowed"]), tuple(rule["forbidden"]))


def deliberation_rule(community, *, on: dt.date | None = None) -> tuple[Decimal, int]:
    """(threshold, notice days) of 四议两公开 in force for a community."""
    rule = policy_store.get(DELIBERATION_KEY, city=city_of(community), on=on)
    return Decimal(str(rule["threshold"])).quantize(CENT), int(rule["notice_days"])


def check_category(community, category: str, *, on: dt.date | None = None) -> str:
    """The category's name if the spending scope in force allows it, else a ValidationError
    naming the category and the rule."""
    rules = categories_for(community, on=on)
    name = (category or "").strip()
    if not name:
        raise ValidationError({"category": [_("请选择支出类别。")]})
    if name in rules.forbidden:
        raise ValidationError({"category": [_(
            "“%(name)s”属于不得列支的支出类别，按“经费支出范围”（funds.categories）规定不得列入支出计划。"
        ) % {"name": name}]})
    if name not in rules.allowed:
        raise ValidationError({"category": [_(
            "“%(name)s”不在“经费支出范围”（funds.categories）允许的支出类别中。允许的类别：%(allowed)s。"
        ) % {"name": name, "allowed": "、".join(rules.allowed)}]})
    return name


# --- Quorum and majority (四议) --------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What a meeting's figures mean: without its quorum it is no meeting (`quorate` False,
    `message` says why); with it, `passed` says whether the vote carried and `message` the count."""

    quorate: bool
    passed: bool
    message: str


def _half_plus(n: int) -> int:
    """The least whole number that is more than half of n."""
    return n // 2 + 1


def _two_thirds(n: int) -> int:
    """The least whole number that is at least two thirds of n."""
    return -(-2 * n // 3)


def assess(step: str, *, due: int, present: int, votes_for: int) -> Verdict:
    """Apply the 四议两公开 quorum and majority rules to one meeting's figures."""
    label = DeliberationStep(step).label
    figures = {"meeting": label, "due": due, "present": present, "votes": votes_for}
    if step == DeliberationStep.MEMBERS_REVIEW:
        need = _two_thirds(due)
        if present * 3 < due * 2:
            return Verdict(False, False, _(
                "会议无效：%(meeting)s应到 %(due)d 人、实到 %(present)d 人，不足三分之二（%(need)d 人）。"
                "党员大会须有三分之二以上党员到会。") % {**figures, "need": need})
        need = _half_plus(due)
        if votes_for * 2 <= due:
            return Verdict(True, False, _(
                "表决未通过：%(meeting)s应到 %(due)d 人，赞成 %(votes)d 票，未超过应到人数的半数（须 %(need)d 票以上）。")
                % {**figures, "need": need})
        return Verdict(True, True, _("%(meeting)s应到 %(due)d 人、实到 %(present)d 人，赞成 %(votes)d 票，"
                                     "超过应到人数的半数，通过。") % figures)
    need = _half_plus(due)
    if present * 2 <= due:
        return Verdict(False, False, _(
            "会议无效：%(meeting)s应到 %(due)d 人、实到 %(present)d 人，未超过半数（须 %(need)d 人以上）。")
            % {**figures, "need": need})
    need = _half_plus(present)
    if votes_for * 2 <= present:
        return Verdict(True, False, _(
            "表决未通过：%(meeting)s实到 %(present)d 人，赞成 %(votes)d 票，未超过到会人数的半数（须 %(need)d 票以上）。")
            % {**figures, "need": need})
    return Verdict(True, True, _("%(meeting)s应到 %(due)d 人、实到 %(present)d 人，赞成 %(votes)d 票，"
                                 "超过到会人数的半数，通过。") % figures)


def next_step(plan: SpendingPlan) -> str | None:
    """The next deliberation due on a plan (None: none is due: all passed, or none needed)."""
    if not plan.needs_deliberation or plan.status != PlanStatus.DELIBERATING:
        return None
    passed = set(Deliberation.objects.unscoped().filter(plan=plan, passed=True).values_list("step", flat=True))
    for step in DELIBERATION_ORDER:
        if step not in passed:
            return step
    return None


# --- Helpers -------------------------------------------------------------------------------

def _locked(plan: SpendingPlan) -> SpendingPlan:
    """The plan's current row, locked until the transaction ends (PostgreSQL; SQLite's
    IMMEDIATE transactions serialise writers anyway)."""
    return (SpendingPlan.objects.unscoped().select_for_update(of=("self",))
            .select_related("community", "fund").get(pk=plan.pk))


def _refresh(plan: SpendingPlan, current: SpendingPlan) -> None:
    """Copy the saved state onto the caller's object, so what it holds is what was saved."""
    for field in current._meta.concrete_fields:
        setattr(plan, field.attname, getattr(current, field.attname))


def _require_status(current: SpendingPlan, allowed, message: str) -> None:
    if current.status not in allowed:
        raise ValidationError(message % {"status": current.get_status_display()})


def _check_file(upload, *, missing: str) -> tuple[str, str, bytes]:
    """(original name, content type, bytes) of a photo or PDF judged by content; photos lose their metadata."""
    checked = imagemeta.clean_document(upload, limit=FILE_MAX_BYTES, default_name="file", missing=missing)
    return checked.original_name, checked.content_type, checked.data


def _snapshot(plan: SpendingPlan) -> dict:
    return {"number": plan.number, "status": plan.status, "amount": str(plan.amount),
            "disbursed": str(plan.disbursed)}


def can_act(user, permission: str, plan: SpendingPlan) -> bool:
    return can(user, permission, plan.community.code)


def remaining(plan: SpendingPlan) -> Decimal:
    """What is still to be disbursed on a plan."""
    return (plan.amount - plan.disbursed).quantize(CENT)


# --- Propose ---------------------------------------------------------------------------------

@transaction.atomic
def plan_propose(*, actor, fund: Fund, title: str, purpose: str, category: str, amount, beneficiaries: str = "",
                 implementer: str = "", today: dt.date | None = None) -> SpendingPlan:
    """Propose a spending plan on a community's fund.  Its category must be allowed by the
    spending scope in force; above the 四议两公开 threshold in force it needs the four
    deliberations (status DELIBERATING), otherwise it is a draft to submit to the street."""
    fund = Fund.objects.unscoped().select_related("community").get(pk=fund.pk)
    community = fund.community
    ensure_can(actor, "funds.plan", community.code)
    day = _today(today)
    errors: dict[str, list[str]] = {}
    title = _text(errors, "title", title, limit=TITLE_MAX, label=_("项目名称"), required=True)
    purpose = _text(errors, "purpose", purpose, limit=PURPOSE_MAX, label=_("用途说明"), required=True)
    beneficiaries = _text(errors, "beneficiaries", beneficiaries, limit=BENEFICIARIES_MAX, label=_("受益对象"))
    implementer = _text(errors, "implementer", implementer, limit=IMPLEMENTER_MAX, label=_("实施单位"))
    money = _money(errors, "amount", amount, label=_("计划金额"))
    _public_text(errors, {"title": title, "purpose": purpose, "beneficiaries": beneficiaries,
                          "implementer": implementer})
    try:
        category = check_category(community, category, on=day)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if money is not None and money > fund.balance:
        errors.setdefault("amount", []).append(_(
            "计划金额 %(amount)s 超过%(fund)s现有余额 %(balance)s（经费专款专用，不得透支）。")
            % {"amount": yuan(money), "fund": fund, "balance": yuan(fund.balance)})
    if errors:
        raise ValidationError(errors)
    threshold, _days = deliberation_rule(community, on=day)
    needs = money > threshold
    now = timezone.now()
    plan = SpendingPlan(
        community=community, fund=fund, title=title, purpose=purpose, category=category[:32],
        category_label=category[:64], amount=money, beneficiaries=beneficiaries, implementer=implementer,
        status=PlanStatus.DELIBERATING if needs else PlanStatus.DRAFT, needs_deliberation=needs,
        threshold=threshold, proposed_by=actor, proposed_at=now,
    )
    # The number is drawn last: its counter row stays locked until the transaction ends.
    plan.number = f"JF{day:%Y%m%d}{numbering.next_value('JF', day):04d}"
    plan.save(force_insert=True)
    audit.record(actor=actor, action="funds.plan.proposed", obj=plan, after={
        "number": plan.number, "fund": fund.pk, "community": community.code, "title": title,
        "category": category, "amount": str(money), "threshold": str(threshold), "needs_deliberation": needs,
        "status": plan.status})
    return plan


# --- 四议 ------------------------------------------------------------------------------------

def _count(errors: dict, field: str, value, *, label: str, minimum: int = 0) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(_("%(label)s应为整数。") % {"label": label})
        return None
    if number < minimum or number > 100000:
        errors.setdefault(field, []).append(_("%(label)s应在 %(min)d 到 100000 之间。") % {"label": label, "min": minimum})
        return None
    return number


@transaction.atomic
def deliberation_record(*, actor, plan: SpendingPlan, step: str, held_on: dt.date, due: int, present: int,
                        votes_for: int, votes_against: int = 0, abstained: int = 0, minutes: str = "",
                        attachment=None, today: dt.date | None = None) -> Deliberation:
    """Record one of the four deliberations with its attendance and votes, in order.

    Quorum not met: ValidationError "会议无效：…", nothing saved.  Vote failed: recorded with
    passed=False and the plan rejected, the count named in closed_reason.  The residents'
    decision passing publishes the decision (决议公开)."""
    current = _locked(plan)
    ensure_can(actor, "funds.plan", current.community.code)
    if not current.needs_deliberation:
        raise ValidationError(_("计划金额 %(amount)s 未超过四议两公开限额 %(threshold)s，无须记录四议。")
                              % {"amount": yuan(current.amount), "threshold": yuan(current.threshold)})
    _require_status(current, (PlanStatus.DELIBERATING,), _("计划状态为“%(status)s”，不能再记录四议。"))
    day = _today(today)
    errors: dict[str, list[str]] = {}
    if step not in DeliberationStep.values:
        raise ValidationError({"step": [_("请选择四议的环节。")]})
    expected = next_step(current)
    if step != expected:
        done = Deliberation.objects.unscoped().filter(plan=current, step=step, passed=True).exists()
        if done:
            raise ValidationError({"step": [_("“%(step)s”已经通过，不能重复记录。") % {
                "step": DeliberationStep(step).label}]})
        raise ValidationError({"step": [_("四议须依次进行：请先记录“%(expected)s”，再记录“%(step)s”。") % {
            "expected": DeliberationStep(expected).label, "step": DeliberationStep(step).label}]})
    if not isinstance(held_on, dt.date):
        errors.setdefault("held_on", []).append(_("请填写会议日期。"))
    else:
        if held_on > day:
            errors.setdefault("held_on", []).append(_("会议日期不能晚于今天。"))
        previous = (Deliberation.objects.unscoped().filter(plan=current, passed=True)
                    .order_by("-held_on").values_list("held_on", flat=True).first())
        if previous and held_on < previous:
            errors.setdefault("held_on", []).append(
                _("会议日期不能早于上一环节的会议日期（%(date)s）。") % {"date": previous.isoformat()})
    due = _count(errors, "due", due, label=_("应到人数"), minimum=1)
    present = _count(errors, "present", present, label=_("实到人数"))
    votes_for = _count(errors, "votes_for", votes_for, label=_("赞成票"))
    votes_against = _count(errors, "votes_against", votes_against, label=_("反对票"))
    abstained = _count(errors, "abstained", abstained, label=_("弃权票"))
    minutes = _text(errors, "minutes", minutes, limit=MINUTES_MAX, label=_("会议纪要"))
    if not errors:
        if present > due:
            errors.setdefault("present", []).append(
                _("实到人数（%(present)d）不能多于应到人数（%(due)d）。") % {"present": present, "due": due})
        elif votes_for + votes_against + abstained > present:
            errors.setdefault("votes_for", []).append(
                _("赞成、反对、弃权合计 %(total)d 票，多于实到人数 %(present)d。")
                % {"total": votes_for + votes_against + abstained, "present": present})
    if errors:
        raise ValidationError(errors)
    verdict = assess(step, due=due, present=present, votes_for=votes_for)
    if not verdict.quorate:
        raise ValidationError({"present": [verdict.message]})
    stored_name, digest = "", ""
    content = None
    if attachment:
        name, kind, data = _check_file(attachment, missing=_("请选择签到表或纪要的照片或 PDF 文件。"))
        digest = hashlib.sha256(data).hexdigest()
        content = (f"{uuid.uuid4().hex}.{attachments.DOCUMENT_EXTENSIONS[kind]}", ContentFile(data))
        stored_name = name
    record = Deliberation(plan=current, step=step, held_on=held_on, due=due, present=present, votes_for=votes_for,
                          votes_against=votes_against, abstained=abstained, passed=verdict.passed, minutes=minutes,
                          attachment_sha256=digest, recorded_by=actor)
    if content is not None:
        record.attachment.save(content[0], content[1], save=False)
    try:
        record.save(force_insert=True)
        audit.record(actor=actor, action="funds.plan.deliberation_recorded", obj=current, after={
            "deliberation": record.pk, "step": step, "held_on": held_on, "due": due, "present": present,
            "votes_for": votes_for, "votes_against": votes_against, "abstained": abstained,
            "passed": verdict.passed, "attachment": stored_name, "attachment_sha256": digest})
        if not verdict.passed:
            before = _snapshot(current)
            current.status = PlanStatus.REJECTED
            current.closed_reason = verdict.message[:300]
            current.save(update_fields=["status", "closed_reason"])
            audit.record(actor=actor, action="funds.plan.rejected", obj=current, before=before,
                         after={**_snapshot(current), "reason": current.closed_reason})
        elif step == DeliberationStep.RESIDENTS_DECISION:
            from . import disclosures

            disclosures.publish_decision(actor=actor, plan=current)
    except Exception:
        if record.attachment:
            record.attachment.storage.delete(record.attachment.name)  # no file without its row
        raise
    _refresh(plan, current)
    return record


# --- Street review -------------------------------------------------------------------------

@transaction.atomic
def plan_submit(*, actor, plan: SpendingPlan) -> SpendingPlan:
    """Send a plan to the street for review and filing: a draft at once, a plan that needs
    四议两公开 once all four deliberations have passed."""
    current = _locked(plan)
    ensure_can(actor, "funds.plan", current.community.code)
    _require_status(current, (PlanStatus.DRAFT, PlanStatus.DELIBERATING), _("计划状态为“%(status)s”，不能报街道审核。"))
    if current.needs_deliberation:
        pending = next_step(current)
        if pending is not None:
            raise ValidationError(_("计划金额 %(amount)s 超过四议两公开限额 %(threshold)s，须先完成四议；"
                                    "下一步是“%(step)s”。") % {"amount": yuan(current.amount),
                                                          "threshold": yuan(current.threshold),
                                                          "step": DeliberationStep(pending).label})
    before = _snapshot(current)
    current.status = PlanStatus.STREET_REVIEW
    current.submitted_at = timezone.now()
    current.save(update_fields=["status", "submitted_at"])
    audit.record(actor=actor, action="funds.plan.submitted", obj=current, before=before, after=_snapshot(current))
    _refresh(plan, current)
    return plan


@transaction.atomic
def plan_review(*, actor, plan: SpendingPlan, approve: bool, note: str = "",
                today: dt.date | None = None) -> SpendingPlan:
    """The street's review: approve and file (备案号 "BA" + year + yearly sequence), or return
    the plan with a note saying why (the plan is then closed as not approved; the community
    proposes a corrected plan)."""
    current = _locked(plan)
    ensure_can(actor, "funds.review", current.community.code)
    _require_status(current, (PlanStatus.STREET_REVIEW,), _("计划状态为“%(status)s”，不在待街道审核状态。"))
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=NOTE_MAX, label=_("审核意见"), required=not approve)
    if errors:
        raise ValidationError(errors)
    before = _snapshot(current)
    current.reviewed_by, current.reviewed_at, current.review_note = actor, timezone.now(), note
    fields = ["reviewed_by", "reviewed_at", "review_note", "status"]
    if approve:
        year = _today(today).year
        current.status = PlanStatus.APPROVED
        current.filing_number = f"BA{year}{numbering.next_value(f'BA{year}', dt.date(year, 1, 1)):04d}"
        fields.append("filing_number")
        action = "funds.plan.approved"
    else:
        current.status = PlanStatus.REJECTED
        current.closed_reason = (_("街道审核退回：%(note)s") % {"note": note})[:300]
        fields.append("closed_reason")
        action = "funds.plan.returned"
    current.save(update_fields=fields)
    audit.record(actor=actor, action=action, obj=current, before=before,
                 after={**_snapshot(current), "note": note, "filing_number": current.filing_number})
    _refresh(plan, current)
    return plan


# --- Disbursement, vouchers, acceptance ----------------------------------------------------

@transaction.atomic
def plan_disburse(*, actor, plan: SpendingPlan, amount, payee: str, memo: str = "") -> LedgerEntry:
    """Pay (part of) an approved plan out of its fund through the ledger: never more than
    the plan's amount still to be paid, never below the fund's balance (ledger.post refuses
    an overdraft with the figures).  Fully paid: the plan is DISBURSED."""
    current = _locked(plan)
    ensure_can(actor, "funds.disburse", current.community.code)
    _require_status(current, (PlanStatus.APPROVED,), _("计划状态为“%(status)s”，不能拨付（须经街道审核备案）。"))
    errors: dict[str, list[str]] = {}
    money = _money(errors, "amount", amount, label=_("拨付金额"))
    payee = _text(errors, "payee", payee, limit=PAYEE_MAX, label=_("收款单位"), required=True)
    memo = _text(errors, "memo", memo, limit=MEMO_MAX, label=pgettext("ledger", "摘要"))
    _public_text(errors, {"payee": payee})
    if money is not None and money > remaining(current):
        errors.setdefault("amount", []).append(_(
            "本次拨付 %(amount)s 超过计划尚可拨付的 %(rest)s（计划金额 %(total)s，已拨付 %(paid)s）。")
            % {"amount": yuan(money), "rest": yuan(remaining(current)), "total": yuan(current.amount),
               "paid": yuan(current.disbursed)})
    if errors:
        raise ValidationError(errors)
    entry = ledger.post(actor=actor, fund=current.fund, kind=EntryKind.DISBURSEMENT, amount=-money,
                        memo=(memo or f"{current.number} {current.title}")[:MEMO_MAX], plan=current, payee=payee)
    before = _snapshot(current)
    current.disbursed = (current.disbursed + money).quantize(CENT)
    fields = ["disbursed"]
    if current.disbursed == current.amount:
        current.status = PlanStatus.DISBURSED
        fields.append("status")
    current.save(update_fields=fields)
    audit.record(actor=actor, action="funds.plan.disbursed", obj=current, before=before, after={
        **_snapshot(current), "amount_paid": str(money), "payee": payee, "ledger_seq": entry.seq,
        "fund_balance": str(entry.balance)})
    _refresh(plan, current)
    return entry


@transaction.atomic
def voucher_add(*, actor, plan: SpendingPlan, kind: str, upload, number: str = "", amount=None,
                issued_on: dt.date | None = None, issuer: str = "", today: dt.date | None = None) -> Voucher:
    """Attach a voucher (invoice, receipt, contract, photo: a photo or PDF checked by its
    content) to an approved or disbursed plan."""
    current = _locked(plan)
    ensure_can(actor, "funds.plan", current.community.code)
    _require_status(current, VOUCHER_STATUSES, _("计划状态为“%(status)s”，不能再登记凭证。"))
    errors: dict[str, list[str]] = {}
    if kind not in VoucherKind.values:
        errors.setdefault("kind", []).append(_("请选择凭证类型。"))
    number = _text(errors, "number", number, limit=VOUCHER_NUMBER_MAX, label=_("凭证号"))
    issuer = _text(errors, "issuer", issuer, limit=ISSUER_MAX, label=_("开具单位"))
    money = None
    if amount not in (None, ""):
        money = _money(errors, "amount", amount, label=_("凭证金额"))
    if issued_on is not None and issued_on > _today(today):
        errors.setdefault("issued_on", []).append(_("开具日期不能晚于今天。"))
    if errors:
        raise ValidationError(errors)
    name, content_type, data = _check_file(upload, missing=_("请选择凭证的照片或 PDF 文件。"))
    digest = hashlib.sha256(data).hexdigest()
    voucher = Voucher(plan=current, kind=kind, number=number, amount=money, issued_on=issued_on, issuer=issuer,
                      original_name=name, content_type=content_type, size=len(data), sha256=digest,
                      recorded_by=actor)
    voucher.file.save(f"{uuid.uuid4().hex}.{attachments.DOCUMENT_EXTENSIONS[content_type]}", ContentFile(data),
                      save=False)
    try:
        voucher.save(force_insert=True)
        audit.record(actor=actor, action="funds.plan.voucher_added", obj=current, after={
            "voucher": voucher.pk, "kind": kind, "number": number, "amount": str(money) if money else None,
            "issued_on": issued_on, "issuer": issuer, "name": name, "content_type": content_type,
            "size": len(data), "sha256": digest})
    except Exception:
        voucher.file.storage.delete(voucher.file.name)
        raise
    return voucher


@transaction.atomic
def plan_accept(*, actor, plan: SpendingPlan, note: str, participants: str) -> SpendingPlan:
    """Acceptance (验收) of a fully disbursed plan with at least one voucher; the result is
    then published (结果公开) and the plan stays in its notice period until it ends."""
    current = _locked(plan)
    ensure_can(actor, "funds.plan", current.community.code)
    if current.status == PlanStatus.APPROVED:
        raise ValidationError(_("计划金额 %(total)s 尚未拨付完毕（已拨付 %(paid)s），不能验收。")
                              % {"total": yuan(current.amount), "paid": yuan(current.disbursed)})
    _require_status(current, (PlanStatus.DISBURSED,), _("计划状态为“%(status)s”，不能验收。"))
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=ACCEPT_NOTE_MAX, label=_("验收意见"), required=True)
    participants = _text(errors, "participants", participants, limit=PARTICIPANTS_MAX, label=_("参加验收"),
                         required=True)
    _public_text(errors, {"note": note})
    if not Voucher.objects.unscoped().filter(plan=current).exists():
        errors.setdefault("__all__", []).append(_("验收前须至少登记一份支出凭证（发票、收据、合同或现场照片）。"))
    if errors:
        raise ValidationError(errors)
    before = _snapshot(current)
    current.status = PlanStatus.ACCEPTED
    current.accepted_by, current.accepted_at = actor, timezone.now()
    current.acceptance_note, current.acceptance_participants = note, participants
    current.save(update_fields=["status", "accepted_by", "accepted_at", "acceptance_note", "acceptance_participants"])
    audit.record(actor=actor, action="funds.plan.accepted", obj=current, before=before,
                 after={**_snapshot(current), "note": note, "participants": participants})
    from . import disclosures

    disclosure = disclosures.publish_result(actor=actor, plan=current)
    # The notice period is the one the published result states.
    current.refresh_from_db(fields=["status", "notice_from", "notice_until"])
    notice_days = deliberation_rule(current.community)[1]
    start = current.notice_from or timezone.localdate()
    until = (current.notice_until or getattr(disclosure, "notice_until", None)
             or start + dt.timedelta(days=notice_days))
    before = _snapshot(current)
    current.status, current.notice_from, current.notice_until = PlanStatus.NOTICE, start, until
    current.save(update_fields=["status", "notice_from", "notice_until"])
    audit.record(actor=actor, action="funds.plan.notice", obj=current, before=before,
                 after={**_snapshot(current), "notice_from": start, "notice_until": until,
                        "disclosure": getattr(disclosure, "pk", None)})
    _refresh(plan, current)
    return plan


@transaction.atomic
def plan_file(*, actor, plan: SpendingPlan, today: dt.date | None = None) -> SpendingPlan:
    """File (归档) a plan once its result notice period has passed (the day after it ends)."""
    current = _locked(plan)
    code = current.community.code
    if not (can(actor, "funds.plan", code) or can(actor, "funds.review", code)):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    _require_status(current, (PlanStatus.NOTICE,), _("计划状态为“%(status)s”，不能归档（须在结果公示期满后）。"))
    day = _today(today)
    if current.notice_until is None or day <= current.notice_until:
        raise ValidationError(_("结果公示期至 %(until)s，期满后（%(after)s 起）才能归档。")
                              % {"until": current.notice_until.isoformat() if current.notice_until else "—",
                                 "after": (current.notice_until + dt.timedelta(days=1)).isoformat()
                                 if current.notice_until else "—"})
    before = _snapshot(current)
    current.status, current.filed_at = PlanStatus.FILED, timezone.now()
    current.save(update_fields=["status", "filed_at"])
    audit.record(actor=actor, action="funds.plan.filed", obj=current, before=before, after=_snapshot(current))
    _refresh(plan, current)
    return plan


@transaction.atomic
def plan_withdraw(*, actor, plan: SpendingPlan, reason: str) -> SpendingPlan:
    """Withdraw a plan before any money has been paid out on it, with the reason."""
    current = _locked(plan)
    ensure_can(actor, "funds.plan", current.community.code)
    _require_status(current, WITHDRAWABLE, _("计划状态为“%(status)s”，不能撤回。"))
    if current.disbursed > 0:
        raise ValidationError(_("计划已拨付 %(paid)s，不能撤回。") % {"paid": yuan(current.disbursed)})
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "reason", reason, limit=NOTE_MAX, label=_("撤回原因"), required=True)
    if errors:
        raise ValidationError(errors)
    before = _snapshot(current)
    current.status, current.closed_reason = PlanStatus.WITHDRAWN, reason
    current.save(update_fields=["status", "closed_reason"])
    audit.record(actor=actor, action="funds.plan.withdrawn", obj=current, before=before,
                 after={**_snapshot(current), "reason": reason})
    _refresh(plan, current)
    return plan
