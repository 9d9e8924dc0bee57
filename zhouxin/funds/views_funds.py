"""Staff pages of funds (社区经费): the list of the caller's funds with their figures, setting up a
fund (street hub or district admin), a fund's page with its sources, plans and ledger (台账), the
"allocate more" form and the check of the fund's hash chain.

Funds are read through funds.funds_for (the areas of the caller's "funds.view" grants): another
street's or community's fund is 404; a role without the permission is 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can

from . import funds
from .choices import OPEN_PLAN_STATUSES, FundKind
from .forms_funds import SOURCE_FIELDS, AllocateForm, FundCreateForm
from .models import Fund, LedgerEntry, SpendingPlan

PER_PAGE = 50
LEDGER_PER_PAGE = 50


def _plan_link(pk: int) -> str:
    """The plan's staff page (plans are another part of the domain: no link until it exists)."""
    try:
        return reverse("funds:plan_detail", args=[pk])
    except NoReverseMatch:
        return ""


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@staff_view("funds.view")
@require_GET
def fund_list(request):
    user = request.user
    visible = funds.funds_for(user)
    rows = funds.with_figures(visible).select_related("community__parent").prefetch_related("sources")
    year = _int(request.GET.get("year"))
    kind = request.GET.get("kind", "")
    community = request.GET.get("community", "")
    communities = list(funds.viewable_communities(user).values_list("code", "name"))
    if year is not None:
        rows = rows.filter(year=year)
    if kind in FundKind.values:
        rows = rows.filter(kind=kind)
    else:
        kind = ""
    if community in {code for code, _name in communities}:
        rows = rows.filter(community__code=community)
    else:
        community = ""
    paginator = Paginator(rows.order_by("-year", "community__code", "kind"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    items = [{"fund": f, "sources": funds.source_shares(f), "ratio": funds.fund_ratio(f),
              "rate": funds.execution_rate(f.spent, f.budget)} for f in page.object_list]
    this_year = timezone.localdate().year
    years = sorted(set(visible.order_by().values_list("year", flat=True).distinct()) | {this_year}, reverse=True)
    return render(request, "funds/funds/list.html", {
        "page": page, "items": items,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "years": years, "year": year, "kinds": FundKind.choices, "kind": kind,
        "communities": communities, "community": community,
        "can_create": funds.allocatable_communities(user).exists(),
    })


@staff_view("funds.allocate")
@require_http_methods(["GET", "POST"])
def fund_create(request):
    user = request.user
    allowed = funds.allocatable_communities(user)
    if request.method == "POST":
        code = request.POST.get("community", "")
        if code and not allowed.filter(code=code).exists():
            raise Http404  # another street's community: not the caller's to know about
        form = FundCreateForm(request.POST, user=user)
        if form.is_valid():
            try:
                fund = funds.fund_create(actor=user, community=form.cleaned_data["community"],
                                         year=form.cleaned_data["year"], kind=form.cleaned_data["kind"],
                                         sources=form.sources(), note=form.cleaned_data["note"])
            except ValidationError as exc:
                errors_into_form(form, exc)
            except PermissionDenied as exc:
                form.add_error("community", str(exc))
            else:
                messages.success(request, _("%(fund)s已设立，预算 %(budget)s 已记入台账。") % {
                    "fund": fund, "budget": funds.yuan(fund.budget)})
                return redirect("funds:fund_detail", pk=fund.pk)
        return render(request, "funds/funds/form.html", {"form": form}, status=422)
    initial: dict = {"year": timezone.localdate().year}
    chosen = allowed.filter(code=request.GET.get("community", "")).first() or allowed.first()
    year = _int(request.GET.get("year"))
    if year is not None and funds.valid_year(year):
        initial["year"] = year
    if chosen is not None:
        initial["community"] = chosen.code
        defaults = funds.default_sources(chosen, initial["year"])
        for name, source in SOURCE_FIELDS:
            if source.value in defaults:
                initial[name] = defaults[source.value]
    form = FundCreateForm(initial=initial, user=user)
    return render(request, "funds/funds/form.html", {"form": form, "empty": chosen is None})


def _fund(user, pk: int) -> Fund:
    return get_object_or_404(funds.with_figures(funds.funds_for(user)).select_related("community__parent", "created_by")
                             .prefetch_related("sources"), pk=pk)


def _detail(request, fund: Fund, *, allocate_form=None, verification=None, status: int = 200):
    user = request.user
    can_allocate = can(user, "funds.allocate", fund.community.code)
    if allocate_form is None and can_allocate:
        allocate_form = AllocateForm()
    entries = LedgerEntry.objects.unscoped().filter(fund=fund).select_related("plan").order_by("-seq")
    paginator = Paginator(entries, LEDGER_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    plans = list(SpendingPlan.objects.unscoped().filter(fund=fund).order_by("-proposed_at", "-id"))
    links = {p.pk: _plan_link(p.pk) for p in plans}
    links.update({e.plan_id: _plan_link(e.plan_id) for e in page.object_list if e.plan_id and e.plan_id not in links})
    ledger_rows = [{"entry": e, "plan_url": links.get(e.plan_id, "")} for e in page.object_list]
    plan_rows = [{"plan": p, "url": links[p.pk], "open": p.status in OPEN_PLAN_STATUSES,
                  "left": p.amount - p.disbursed} for p in plans]
    return render(request, "funds/funds/detail.html", {
        "fund": fund, "sources": funds.source_shares(fund), "ratio": funds.fund_ratio(fund),
        "rate": funds.execution_rate(fund.spent, fund.budget), "can_allocate": can_allocate,
        "allocate_form": allocate_form, "verification": verification, "page": page, "ledger_rows": ledger_rows,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "plans": plan_rows,
    }, status=status)


@staff_view("funds.view")
@require_GET
def fund_detail(request, pk: int):
    return _detail(request, _fund(request.user, pk))


@staff_view("funds.allocate")
@require_POST
def fund_allocate(request, pk: int):
    fund = _fund(request.user, pk)
    if not can(request.user, "funds.allocate", fund.community.code):
        raise PermissionDenied  # e.g. a community's own staff: they read the fund, the street allocates
    form = AllocateForm(request.POST)
    if form.is_valid():
        try:
            entry = funds.fund_allocate(actor=request.user, fund=fund, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("已追加拨款 %(amount)s，记入台账第 %(seq)s 条。") % {
                "amount": funds.yuan(entry.amount), "seq": entry.seq})
            return redirect("funds:fund_detail", pk=fund.pk)
    return _detail(request, _fund(request.user, pk), allocate_form=form, status=422)


@staff_view("funds.view")
@require_POST
def fund_verify(request, pk: int):
    fund = _fund(request.user, pk)
    result = funds.fund_verify(actor=request.user, fund=fund)
    return _detail(request, fund, verification=result)
