"""Staff pages of spending plans (支出计划): the list (by status, community, year), the form to
propose a plan, and a plan's page: the whole workflow as a timeline, the fund's balance, and
the forms of the next actions for whoever may take them (community staff: 四议, submit,
vouchers, acceptance, withdraw; the street hub: review, disbursement; either: filing).

Plans are fetched through the scoped manager, so another community's plan is 404; a role
without the permission is 403.  The rules live in plans.py; a refusal's message names the
rule and the figures.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.downloads import file_response, stored_file
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.dispatch import attachments
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import plans
from .choices import DELIBERATION_ORDER, EntryKind, PlanStatus
from .forms_plans import (
    AcceptForm,
    DeliberationForm,
    DisburseForm,
    PlanFilterForm,
    PlanForm,
    ReviewForm,
    VoucherForm,
    WithdrawForm,
    plannable_funds,
)
from .models import Deliberation, Disclosure, LedgerEntry, SpendingPlan, Voucher

PER_PAGE = 30
# Money approved for a plan but not yet paid out is spoken for.
COMMITTED_STATUSES = (PlanStatus.APPROVED,)


# --- Reads ---------------------------------------------------------------------------------

def _visible_communities(user):
    prefixes = scope_for_user(user).prefixes(roles_for("funds.view"))
    if not prefixes:
        return Area.objects.unscoped().none()
    query = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return Area.objects.unscoped().filter(query, level=AreaLevel.COMMUNITY).order_by("code")


def _plan(user, pk: int) -> SpendingPlan:
    return get_object_or_404(
        SpendingPlan.objects.restrict(user).select_related(
            "community__parent", "fund__community", "proposed_by", "reviewed_by", "accepted_by"), pk=pk)


def _detail_url(plan: SpendingPlan) -> str:
    return reverse("funds:plan_detail", args=[plan.pk])


@staff_view("funds.view")
@require_GET
def plan_list(request):
    user = request.user
    filters = PlanFilterForm(request.GET or None)
    rows = SpendingPlan.objects.restrict(user).select_related("community", "fund")
    community = None
    status = year = ""
    if filters.is_valid():
        data = filters.cleaned_data
        status = data["status"] or ""
        if status:
            rows = rows.filter(status=status)
        if data["community"]:
            community = _visible_communities(user).filter(code=data["community"]).first()
            if community is None:
                raise Http404  # a community outside the caller's scope does not exist for them
            rows = rows.filter(community=community)
        if data["year"]:
            year = data["year"]
            rows = rows.filter(fund__year=year)
    paginator = Paginator(rows.order_by("-proposed_at", "-id"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    years = list(SpendingPlan.objects.restrict(user).order_by("-fund__year").values_list("fund__year", flat=True)
                 .distinct())
    return render(request, "funds/plans/list.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "statuses": PlanStatus.choices, "status": status, "community": community, "year": year,
        "communities": _visible_communities(user), "years": years,
        "can_create": can(user, "funds.plan") and plannable_funds(user).exists(),
    })


def _timeline(plan: SpendingPlan, deliberations, disclosures, entries, vouchers) -> list[dict]:
    """The workflow so far, in its order: what happened, when, and the figures."""
    events: list[dict] = []

    def add(when, what, note="", *, tone="", link=None, link_label=""):
        if isinstance(when, dt.datetime):
            when = timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
        elif isinstance(when, dt.date):
            when = when.isoformat()
        events.append({"when": when or "", "what": what, "note": note, "tone": tone, "link": link,
                       "link_label": link_label})

    if plan.needs_deliberation:
        rule = _("计划金额 %(amount)s，超过四议两公开限额 %(threshold)s，须经四议两公开。")
    else:
        rule = _("计划金额 %(amount)s，未超过四议两公开限额 %(threshold)s，直接报街道审核。")
    add(plan.proposed_at, _("提出计划"), _("%(who)s 提出；%(category)s。") % {
        "who": plan.proposed_by.display_name, "category": plan.category_label}
        + rule % {"amount": plans.yuan(plan.amount), "threshold": plans.yuan(plan.threshold)})
    for item in deliberations:
        verdict = plans.assess(item.step, due=item.due, present=item.present, votes_for=item.votes_for)
        others = _("反对 %(against)d 票，弃权 %(abstained)d 票。") % {"against": item.votes_against,
                                                                "abstained": item.abstained}
        add(item.held_on, f"{item.get_step_display()} · {_('通过') if item.passed else _('未通过')}",
            f"{verdict.message}{others}" + (f"\n{item.minutes}" if item.minutes else ""),
            tone="" if item.passed else "danger",
            link=reverse("funds:plan_minutes", args=[plan.pk, item.pk]) if item.attachment else None,
            link_label=_("签到表或纪要"))
    for item in disclosures:
        add(item.published_at, _("公开：%(title)s") % {"title": item.title},
            _("内容哈希 %(hash)s") % {"hash": item.content_hash[:16] + "…"})
    if plan.submitted_at:
        add(plan.submitted_at, _("报街道审核"))
    if plan.reviewed_at:
        if plan.filing_number:
            add(plan.reviewed_at, _("街道审核同意，备案号 %(number)s") % {"number": plan.filing_number},
                _("%(who)s：%(note)s") % {"who": plan.reviewed_by.display_name, "note": plan.review_note or _("同意")})
        else:
            add(plan.reviewed_at, _("街道审核退回"),
                _("%(who)s：%(note)s") % {"who": plan.reviewed_by.display_name, "note": plan.review_note},
                tone="danger")
    for entry in entries:
        if entry.kind == EntryKind.DISBURSEMENT:
            add(entry.recorded_at, _("拨付 %(amount)s") % {"amount": plans.yuan(-entry.amount)},
                _("收款单位：%(payee)s；摘要：%(memo)s；台账第 %(seq)d 条，拨付后经费余额 %(balance)s。") % {
                    "payee": entry.payee, "memo": entry.memo, "seq": entry.seq, "balance": plans.yuan(entry.balance)})
        else:
            add(entry.recorded_at, _("%(kind)s %(amount)s") % {"kind": entry.get_kind_display(),
                                                               "amount": plans.yuan(entry.amount)}, entry.memo)
    for item in vouchers:
        details = [item.get_kind_display()]
        if item.number:
            details.append(_("凭证号 %(n)s") % {"n": item.number})
        if item.amount:
            details.append(plans.yuan(item.amount))
        if item.issuer:
            details.append(item.issuer)
        add(item.recorded_at, _("登记凭证"), "，".join(details), link=reverse("funds:plan_voucher",
                                                                            args=[plan.pk, item.pk]),
            link_label=item.original_name)
    if plan.accepted_at:
        add(plan.accepted_at, _("验收"), _("%(note)s（参加验收：%(who)s）") % {
            "note": plan.acceptance_note, "who": plan.acceptance_participants})
    if plan.notice_from:
        add(plan.notice_from, _("结果公示 %(from)s 至 %(until)s") % {
            "from": plan.notice_from.isoformat(), "until": plan.notice_until.isoformat() if plan.notice_until else "—"})
    if plan.filed_at:
        add(plan.filed_at, _("归档"))
    if plan.status in (PlanStatus.REJECTED, PlanStatus.WITHDRAWN) and plan.closed_reason:
        add(None, plan.get_status_display(), plan.closed_reason, tone="danger")
    return events


def _fund_figures(plan: SpendingPlan) -> dict:
    """The fund's balance and what approved, not yet paid plans have spoken for."""
    fund = plan.fund
    committed = SpendingPlan.objects.unscoped().filter(fund=fund, status__in=COMMITTED_STATUSES).aggregate(
        total=Sum("amount"), paid=Sum("disbursed"))
    pending = (committed["total"] or 0) - (committed["paid"] or 0)
    return {"fund": fund, "balance": plans.yuan(fund.balance), "committed": plans.yuan(pending),
            "available": plans.yuan(fund.balance - pending), "budget": plans.yuan(fund.budget)}


def _detail(request, plan: SpendingPlan, *, bound: dict | None = None, status: int = 200):
    user = request.user
    bound = bound or {}
    code = plan.community.code
    may_plan = can(user, "funds.plan", code)
    may_review = can(user, "funds.review", code)
    may_disburse = can(user, "funds.disburse", code)
    deliberations = list(Deliberation.objects.unscoped().filter(plan=plan).order_by("held_on", "id"))
    vouchers = list(Voucher.objects.unscoped().filter(plan=plan).order_by("recorded_at", "id"))
    entries = list(LedgerEntry.objects.unscoped().filter(plan=plan).order_by("seq"))
    disclosures = list(Disclosure.objects.unscoped().filter(plan=plan).order_by("published_at", "id"))
    due_step = plans.next_step(plan)
    passed_steps = {d.step for d in deliberations if d.passed}
    today = timezone.localdate()
    rest = plans.remaining(plan)
    actions = {
        "deliberate": may_plan and due_step is not None,
        "submit": may_plan and (plan.status == PlanStatus.DRAFT
                                or (plan.status == PlanStatus.DELIBERATING and due_step is None)),
        "review": may_review and plan.status == PlanStatus.STREET_REVIEW,
        "disburse": may_disburse and plan.status == PlanStatus.APPROVED,
        "voucher": may_plan and plan.status in plans.VOUCHER_STATUSES,
        "accept": may_plan and plan.status == PlanStatus.DISBURSED,
        "file": (may_plan or may_review) and plan.status == PlanStatus.NOTICE,
        "file_ready": plan.notice_until is not None and today > plan.notice_until,
        "withdraw": may_plan and plan.status in plans.WITHDRAWABLE and plan.disbursed == 0,
    }
    forms = {
        "deliberation": bound.get("deliberation") or DeliberationForm(
            prefix="d", initial={"step": due_step, "held_on": today}),
        "review": bound.get("review") or ReviewForm(prefix="r"),
        "disburse": bound.get("disburse") or DisburseForm(
            prefix="p", initial={"amount": rest, "payee": plan.implementer}),
        "voucher": bound.get("voucher") or VoucherForm(prefix="v"),
        "accept": bound.get("accept") or AcceptForm(prefix="a"),
        "withdraw": bound.get("withdraw") or WithdrawForm(prefix="w"),
    }
    steps = [{"label": s.label, "passed": s.value in passed_steps, "due": s.value == due_step}
             for s in DELIBERATION_ORDER]
    return render(request, "funds/plans/detail.html", {
        "plan": plan, "timeline": _timeline(plan, deliberations, disclosures, entries, vouchers),
        "figures": _fund_figures(plan), "amount": plans.yuan(plan.amount), "disbursed": plans.yuan(plan.disbursed),
        "rest": plans.yuan(rest), "threshold": plans.yuan(plan.threshold), "steps": steps,
        "due_step": due_step, "actions": actions, "forms": forms, "vouchers": vouchers,
        "has_vouchers": bool(vouchers),
    }, status=status)


@staff_view("funds.view")
@require_GET
def plan_detail(request, pk: int):
    return _detail(request, _plan(request.user, pk))


# --- Propose -------------------------------------------------------------------------------

@staff_view("funds.plan")
@require_http_methods(["GET", "POST"])
def plan_create(request):
    form = PlanForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = plans.plan_propose(actor=request.user, **data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("fund", str(exc))
        else:
            if plan.needs_deliberation:
                messages.success(request, _("支出计划 %(number)s 已提出。金额超过四议两公开限额，请依次记录四议。")
                                 % {"number": plan.number})
            else:
                messages.success(request, _("支出计划 %(number)s 已提出，可以报街道审核。") % {"number": plan.number})
            return redirect("funds:plan_detail", pk=plan.pk)
    threshold = None
    funds = form.fields["fund"].queryset
    first = funds.first()
    if first is not None:
        threshold = plans.yuan(plans.deliberation_rule(first.community)[0])
    return render(request, "funds/plans/form.html", {"form": form, "threshold": threshold,
                                                     "has_funds": first is not None},
                  status=422 if request.method == "POST" else 200)


# --- Actions on a plan ---------------------------------------------------------------------

def _guarded(request, pk: int, permission: str | tuple[str, ...]) -> SpendingPlan:
    """The plan (404 outside the caller's scope), if the caller holds one of the permissions
    on its community (else 403)."""
    plan = _plan(request.user, pk)
    wanted = (permission,) if isinstance(permission, str) else permission
    if not any(can(request.user, p, plan.community.code) for p in wanted):
        raise PermissionDenied
    return plan


def _form_action(request, plan, key: str, form, call, done: str):
    """Validate a posted form and call the service; on a refusal show the page again with the
    form and its messages in place (422)."""
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            if callable(done):
                level, text = done(result)
                messages.add_message(request, level, text)
            else:
                messages.success(request, done)
            return redirect(_detail_url(plan))
    flash_errors(request, form)  # at the top of the page too: the form may be far down
    return _detail(request, plan, bound={key: form}, status=422)


def _plain_action(request, plan, call, done: str):
    try:
        call()
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, done)
    return redirect(_detail_url(plan))


@staff_view("funds.view")
@require_POST
def plan_deliberate(request, pk: int):
    plan = _guarded(request, pk, "funds.plan")
    form = DeliberationForm(request.POST, request.FILES, prefix="d")

    def done(record):
        if not record.passed:  # recorded, but the vote failed: the plan is closed
            return messages.WARNING, _("已记录，但表决未通过，计划已终止：%(reason)s") % {"reason": plan.closed_reason}
        return messages.SUCCESS, _("“%(step)s”已记录并通过。") % {"step": record.get_step_display()}

    return _form_action(request, plan, "deliberation", form,
                        lambda data: plans.deliberation_record(actor=request.user, plan=plan, **data), done)


@staff_view("funds.view")
@require_POST
def plan_submit(request, pk: int):
    plan = _guarded(request, pk, "funds.plan")
    return _plain_action(request, plan, lambda: plans.plan_submit(actor=request.user, plan=plan),
                         _("已报街道审核。"))


@staff_view("funds.view")
@require_POST
def plan_review(request, pk: int):
    plan = _guarded(request, pk, "funds.review")
    form = ReviewForm(request.POST, prefix="r")
    return _form_action(
        request, plan, "review", form,
        lambda data: plans.plan_review(actor=request.user, plan=plan, approve=data["decision"] == "approve",
                                       note=data["note"]),
        _("审核意见已保存。"))


@staff_view("funds.view")
@require_POST
def plan_disburse(request, pk: int):
    plan = _guarded(request, pk, "funds.disburse")
    form = DisburseForm(request.POST, prefix="p")
    return _form_action(request, plan, "disburse", form,
                        lambda data: plans.plan_disburse(actor=request.user, plan=plan, **data),
                        _("已拨付，台账已记账。"))


@staff_view("funds.view")
@require_POST
def plan_voucher_add(request, pk: int):
    plan = _guarded(request, pk, "funds.plan")
    form = VoucherForm(request.POST, request.FILES, prefix="v")
    return _form_action(request, plan, "voucher", form,
                        lambda data: plans.voucher_add(actor=request.user, plan=plan, **data),
                        _("凭证已登记。"))


@staff_view("funds.view")
@require_POST
def plan_accept(request, pk: int):
    plan = _guarded(request, pk, "funds.plan")
    form = AcceptForm(request.POST, prefix="a")
    return _form_action(request, plan, "accept", form,
                        lambda data: plans.plan_accept(actor=request.user, plan=plan, **data),
                        _("已验收，实施结果已公示。"))


@staff_view("funds.view")
@require_POST
def plan_file(request, pk: int):
    plan = _guarded(request, pk, ("funds.plan", "funds.review"))
    return _plain_action(request, plan, lambda: plans.plan_file(actor=request.user, plan=plan), _("计划已归档。"))


@staff_view("funds.view")
@require_POST
def plan_withdraw(request, pk: int):
    plan = _guarded(request, pk, "funds.plan")
    form = WithdrawForm(request.POST, prefix="w")
    return _form_action(request, plan, "withdraw", form,
                        lambda data: plans.plan_withdraw(actor=request.user, plan=plan, **data),
                        _("计划已撤回。"))


# --- Files (MEDIA_ROOT is served by no URL: only through these scoped views) ---------------

@staff_view("funds.view")
@require_GET
def plan_voucher(request, pk: int, voucher_pk: int):
    plan = _plan(request.user, pk)
    item = get_object_or_404(Voucher.objects.unscoped(), pk=voucher_pk, plan=plan)
    return stored_file(request, item.file, content_type=item.content_type, name=item.original_name)


@staff_view("funds.view")
@require_GET
def plan_minutes(request, pk: int, deliberation_pk: int):
    plan = _plan(request.user, pk)
    item = get_object_or_404(Deliberation.objects.unscoped(), pk=deliberation_pk, plan=plan)
    if not item.attachment:
        raise Http404
    try:
        handle = item.attachment.open("rb")
        head = handle.read(8)
        handle.seek(0)
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    is_pdf = head.startswith(b"%PDF-")
    content_type = attachments.PDF if is_pdf else attachments.sniff(handle.read())[0]
    handle.seek(0)
    name = f"{plan.number}-{item.get_step_display()}.{attachments.DOCUMENT_EXTENSIONS[content_type]}"
    return file_response(handle, content_type, name, download=is_pdf or request.GET.get("download") == "1")
