"""Staff pages of responsibility lists (责任清单), key problems (重点难点问题) and topic meetings
(专题会议): lists scoped to the caller's areas, the forms to keep them, a problem's page with
its timeline, progress reports, closure request and the closure decision one level up.

Objects are fetched through the selectors of problems.py (the caller's areas for
"oversight.view"), so another area's list, problem, meeting or evidence file is 404; a role
without the permission is 403.  The rules live in problems.py; a refusal's message says why.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Prefetch, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.downloads import stored_file
from zhouxin.core.indicators import Period
from zhouxin.core.permissions import can
from zhouxin.dispatch import indicators as dispatch_indicators
from zhouxin.orgs.models import Organisation

from . import problems
from .choices import ItemStatus, MeetingKind, ProblemSource, ProblemStatus
from .forms_problems import (
    ClosureDecisionForm,
    ClosureRequestForm,
    ItemForm,
    ItemUpdateForm,
    MeetingFilterForm,
    MeetingForm,
    ProblemFilterForm,
    ProblemForm,
    ProgressForm,
    ResponsibilityFilterForm,
    ResponsibilityForm,
)
from .models import KeyProblem, ProblemEvidence, ProblemUpdate, ResponsibilityItem

PER_PAGE = 30
LISTS_PER_PAGE = 50


def _page(request, rows, per_page: int) -> dict:
    paginator = Paginator(rows, per_page)
    page = paginator.get_page(request.GET.get("page"))
    return {"page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)}


def _form_error(form, exc: PermissionDenied | ValidationError) -> None:
    if isinstance(exc, ValidationError):
        errors_into_form(form, exc)
    else:
        form.add_error(None, str(exc) or _("您没有权限执行此操作。"))


# --- Responsibility lists ---------------------------------------------------------------------------

def _responsibility(user, pk: int):
    return get_object_or_404(problems.responsibilities_for(user).select_related("organisation", "area",
                                                                                "created_by"), pk=pk)


@staff_view("oversight.view")
@require_GET
def responsibility_list(request):
    user = request.user
    today = timezone.localdate()
    visible = problems.responsibilities_for(user)
    filters = ResponsibilityFilterForm(request.GET or None)
    # With no filter at all, this year's lists; "全部年度" is an explicit empty year.
    year = today.year if "year" not in request.GET else None
    organisation = None
    if filters.is_valid():
        data = filters.cleaned_data
        if "year" in request.GET:
            year = data["year"]
        if data["organisation"]:
            organisation = (Organisation.objects.unscoped()
                            .filter(pk=data["organisation"], pk__in=visible.values("organisation")).first())
            if organisation is None:
                raise Http404  # an organisation without visible lists does not exist for the caller
    rows = visible.select_related("organisation__area")
    if year:
        rows = rows.filter(year=year)
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    rows = rows.annotate(
        total=Count("items"),
        done=Count("items", filter=Q(items__status=ItemStatus.DONE)),
        late=Count("items", filter=Q(items__status=ItemStatus.ONGOING, items__due__lt=today)),
    ).order_by("organisation__area__code", "organisation__name", "organisation_id", "-year", "role", "holder", "id")
    years = sorted({*visible.values_list("year", flat=True).distinct(), today.year}, reverse=True)
    organisations = (Organisation.objects.unscoped().filter(pk__in=visible.values("organisation"))
                     .select_related("area").order_by("area__code", "name"))
    return render(request, "oversight/problems/responsibility_list.html", {
        **_page(request, rows, LISTS_PER_PAGE), "year": year, "years": years, "organisation": organisation,
        "organisations": organisations,
        "can_create": can(user, "oversight.responsibility.edit") and problems.list_organisations(user).exists(),
    })


@staff_view("oversight.responsibility.edit")
@require_http_methods(["GET", "POST"])
def responsibility_create(request):
    form = ResponsibilityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            item = problems.responsibility_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("责任清单已建立，请逐项填写责任事项。"))
            return redirect("oversight:responsibility_detail", pk=item.pk)
    return render(request, "oversight/problems/responsibility_form.html", {
        "form": form, "has_organisations": form.fields["organisation"].queryset.exists(),
    }, status=422 if request.method == "POST" else 200)


def _responsibility_page(request, responsibility, *, bound: dict | None = None, status: int = 200):
    user = request.user
    bound = bound or {}
    today = timezone.localdate()
    may_edit = problems.can_edit_list(user, responsibility)
    items = list(ResponsibilityItem.objects.unscoped().filter(responsibility=responsibility)
                 .order_by("position", "id"))
    rows = []
    for item in items:
        form = None
        if may_edit:
            form = bound.get(item.pk) or ItemUpdateForm(prefix=f"i{item.pk}", initial={
                "text": item.text, "due": item.due, "status": item.status, "evidence": item.evidence})
        late = item.status == ItemStatus.ONGOING and item.due is not None and item.due < today
        rows.append({"item": item, "form": form, "late": late, "days_late": (today - item.due).days if late else 0,
                     "open": item.pk in bound})
    done = sum(1 for i in items if i.status == ItemStatus.DONE)
    return render(request, "oversight/problems/responsibility_detail.html", {
        "responsibility": responsibility, "rows": rows, "done": done, "total": len(items), "may_edit": may_edit,
        "add_form": bound.get("add") or ItemForm(prefix="add"),
    }, status=status)


@staff_view("oversight.view")
@require_GET
def responsibility_detail(request, pk: int):
    return _responsibility_page(request, _responsibility(request.user, pk))


def _editable_responsibility(request, pk: int):
    responsibility = _responsibility(request.user, pk)
    if not problems.can_edit_list(request.user, responsibility):
        raise PermissionDenied
    return responsibility


@staff_view("oversight.view")
@require_POST
def responsibility_item_add(request, pk: int):
    responsibility = _editable_responsibility(request, pk)
    form = ItemForm(request.POST, prefix="add")
    if form.is_valid():
        try:
            problems.responsibility_item_add(actor=request.user, responsibility=responsibility, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("责任事项已添加。"))
            return redirect("oversight:responsibility_detail", pk=responsibility.pk)
    flash_errors(request, form)
    return _responsibility_page(request, responsibility, bound={"add": form}, status=422)


@staff_view("oversight.view")
@require_POST
def responsibility_item_update(request, pk: int, item_pk: int):
    responsibility = _editable_responsibility(request, pk)
    item = get_object_or_404(ResponsibilityItem.objects.unscoped(), pk=item_pk, responsibility=responsibility)
    form = ItemUpdateForm(request.POST, prefix=f"i{item.pk}")
    if form.is_valid():
        was_done = item.status == ItemStatus.DONE
        try:
            saved = problems.responsibility_item_update(actor=request.user, item=item, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            if saved.status == ItemStatus.DONE and not was_done:
                messages.success(request, _("已标记为完成。"))
            else:
                messages.success(request, _("责任事项已保存。"))
            return redirect("oversight:responsibility_detail", pk=responsibility.pk)
    flash_errors(request, form)
    return _responsibility_page(request, responsibility, bound={item.pk: form}, status=422)


# --- Key problems -----------------------------------------------------------------------------------

def _problem(user, pk: int) -> KeyProblem:
    return get_object_or_404(problems.problems_for(user).select_related("area", "lead_org__area", "created_by",
                                                                         "closed_by"), pk=pk)


@staff_view("oversight.view")
@require_GET
def problem_list(request):
    user = request.user
    today = timezone.localdate()
    visible = problems.problems_for(user)
    areas = problems.editable_areas(user, "oversight.view", problems.PROBLEM_LEVELS)
    filters = ProblemFilterForm(request.GET or None)
    rows = visible.select_related("area", "lead_org")
    chosen = {"status": "", "overdue": False, "area": None, "year": None, "source": ""}
    if filters.is_valid():
        data = filters.cleaned_data
        if data["status"]:
            chosen["status"] = data["status"]
            rows = rows.filter(status=data["status"])
        if data["overdue"]:
            chosen["overdue"] = True
            rows = rows.filter(problems.overdue_q(today))
        if data["area"]:
            area = areas.filter(code=data["area"]).first()
            if area is None:
                raise Http404  # an area outside the caller's scope does not exist for them
            chosen["area"] = area
            rows = rows.filter(area__code__startswith=area.code)
        if data["year"]:
            chosen["year"] = data["year"]
            rows = rows.filter(year=data["year"])
        if data["source"]:
            chosen["source"] = data["source"]
            rows = rows.filter(source=data["source"])
    rows = rows.annotate(closed_last=Case(When(status=ProblemStatus.CLOSED, then=Value(1)), default=Value(0),
                                          output_field=IntegerField())).order_by("closed_last", "deadline", "id")
    paged = _page(request, rows, PER_PAGE)
    for problem in paged["page"].object_list:
        problem.days_overdue = problems.days_overdue(problem, today)
    counts = visible.aggregate(
        total=Count("id"), overdue=Count("id", filter=problems.overdue_q(today)),
        waiting=Count("id", filter=Q(status=ProblemStatus.CLOSURE_REQUESTED)))
    years = sorted(set(visible.values_list("year", flat=True).distinct()), reverse=True)
    return render(request, "oversight/problems/problem_list.html", {
        **paged, "chosen": chosen, "areas": areas, "years": years, "counts": counts,
        "statuses": ProblemStatus.choices, "sources": ProblemSource.choices,
        "can_create": can(user, "oversight.problem.edit"),
        "can_decide": can(user, "oversight.problem.close"),
    })


@staff_view("oversight.problem.edit")
@require_http_methods(["GET", "POST"])
def problem_create(request):
    form = ProblemForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            problem = problems.problem_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("问题已列入重点难点问题清单。"))
            return redirect("oversight:problem_detail", pk=problem.pk)
    return render(request, "oversight/problems/problem_form.html", {"form": form},
                  status=422 if request.method == "POST" else 200)


UPDATE_LABELS = {  # lazy: a module-level gettext would freeze the labels in the language at import
    problems.PROGRESS: gettext_lazy("填报进展"),
    problems.CLOSURE_REQUEST: gettext_lazy("申请销号"),
    problems.CLOSED: gettext_lazy("同意销号"),
    problems.REOPENED: gettext_lazy("不同意销号，退回继续推进"),
}


def _timeline(problem: KeyProblem, updates) -> list[dict]:
    events = [{"at": problem.created_at, "what": _("列入重点难点问题"), "who": problem.created_by.display_name,
               "note": _("完成时限 %(deadline)s；目标：%(target)s") % {
                   "deadline": problem.deadline.isoformat(), "target": problem.target},
               "progress": None, "files": [], "tone": ""}]
    for update in updates:
        who = update.actor.display_name
        if update.organisation:
            who = _("%(who)s（%(org)s）") % {"who": who, "org": update.organisation.name}
        events.append({
            "at": update.at, "what": UPDATE_LABELS.get(update.kind, update.kind), "who": who, "note": update.note,
            "progress": update.progress if update.kind == problems.PROGRESS else None,
            "files": list(update.evidence.all()),
            "tone": {problems.REOPENED: "danger", problems.CLOSED: "done"}.get(update.kind, ""),
        })
    return events


def _dispatch_links(user, problem: KeyProblem) -> list[dict]:
    """The request records behind a problem found in the requests (接诉即办): the trend and the
    rankings of its area in dispatch, for a caller who may read them."""
    if problem.source != ProblemSource.REQUESTS or not can(user, "dispatch.rates.view", problem.area.code):
        return []
    period = Period.year(problem.year)
    links = []
    trend = dispatch_indicators.trend_link(problem.area, period)
    if trend:
        links.append({"url": trend, "label": _("%(area)s诉求趋势") % {"area": problem.area.name}})
    ranking = dispatch_indicators.rankings_link(problem.area, period)
    if ranking and ranking != trend:
        links.append({"url": ranking, "label": _("三率排名")})
    return links


def _problem_page(request, problem: KeyProblem, *, bound: dict | None = None, status: int = 200):
    user = request.user
    bound = bound or {}
    today = timezone.localdate()
    updates = list(ProblemUpdate.objects.unscoped().filter(problem=problem)
                   .select_related("actor", "organisation")
                   .prefetch_related(Prefetch("evidence", queryset=ProblemEvidence.objects.unscoped()
                                              .order_by("uploaded_at", "id")))
                   .order_by("at", "id"))
    evidence = list(ProblemEvidence.objects.unscoped().filter(problem=problem).order_by("uploaded_at", "id"))
    meetings = list(problems.meetings_for(user).filter(problems=problem).order_by("-held_on", "-id"))
    co_orgs = list(Organisation.objects.unscoped().filter(pk__in=problems.co_org_ids(problem)).order_by("name"))
    may_edit = problems.can_edit_problem(user, problem)
    reaches = problems.deciders_reach(user, problem.area.code)
    own_reason = problems.own_problem_reason(user, problem) if reaches else None
    actions = {
        "progress": may_edit and problem.status in problems.OPEN_STATUSES,
        "request": may_edit and problem.status == ProblemStatus.IN_PROGRESS,
        "request_ready": problem.progress >= 100,
        "decide": reaches and own_reason is None and problem.status == ProblemStatus.CLOSURE_REQUESTED,
        "meeting": can(user, "oversight.problem.edit", problem.area.code),
    }
    forms = {
        "progress": bound.get("progress") or ProgressForm(prefix="p", problem=problem,
                                                          initial={"progress": problem.progress}),
        "request": bound.get("request") or ClosureRequestForm(prefix="c"),
        "decide": bound.get("decide") or ClosureDecisionForm(prefix="d"),
    }
    return render(request, "oversight/problems/problem_detail.html", {
        "problem": problem, "co_orgs": co_orgs, "timeline": _timeline(problem, updates), "evidence": evidence,
        "meetings": meetings, "actions": actions, "forms": forms, "own_reason": own_reason,
        "waiting_decision": problem.status == ProblemStatus.CLOSURE_REQUESTED,
        "days_overdue": problems.days_overdue(problem, today), "dispatch_links": _dispatch_links(user, problem),
    }, status=status)


@staff_view("oversight.view")
@require_GET
def problem_detail(request, pk: int):
    return _problem_page(request, _problem(request.user, pk))


def _editable_problem(request, pk: int) -> KeyProblem:
    problem = _problem(request.user, pk)
    if not problems.can_edit_problem(request.user, problem):
        raise PermissionDenied
    return problem


def _problem_action(request, problem, key: str, form, call, done):
    """Validate a posted form and call the service; on a refusal show the page again with the
    form and its messages in place (422)."""
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            level, text = done(result)
            messages.add_message(request, level, text)
            return redirect("oversight:problem_detail", pk=problem.pk)
    flash_errors(request, form)
    return _problem_page(request, problem, bound={key: form}, status=422)


@staff_view("oversight.view")
@require_POST
def problem_update(request, pk: int):
    problem = _editable_problem(request, pk)
    before = problem.progress
    form = ProgressForm(request.POST, request.FILES, prefix="p", problem=problem)

    def done(update):
        if update.progress < before:
            return messages.WARNING, _("进展已填报。进度由 %(old)d%% 调整为 %(new)d%%，低于上次填报，已在进展中注明。") % {
                "old": before, "new": update.progress}
        return messages.SUCCESS, _("进展已填报。")

    return _problem_action(request, problem, "progress", form,
                           lambda data: problems.problem_report_progress(actor=request.user, problem=problem, **data),
                           done)


@staff_view("oversight.view")
@require_POST
def problem_request_closure(request, pk: int):
    problem = _editable_problem(request, pk)
    form = ClosureRequestForm(request.POST, request.FILES, prefix="c")
    return _problem_action(request, problem, "request", form,
                           lambda data: problems.problem_request_closure(actor=request.user, problem=problem, **data),
                           lambda _u: (messages.SUCCESS, _("销号申请已提交，等待上一级审核。")))


@staff_view("oversight.view")
@require_POST
def problem_decide_closure(request, pk: int):
    problem = _problem(request.user, pk)
    if not problems.deciders_reach(request.user, problem.area.code):
        raise PermissionDenied
    form = ClosureDecisionForm(request.POST, prefix="d")

    def call(data):
        return problems.problem_decide_closure(actor=request.user, problem=problem,
                                               approve=data["decision"] == "approve", note=data["note"])

    def done(update):
        if update.kind == problems.CLOSED:
            return messages.SUCCESS, _("已同意销号。")
        return messages.SUCCESS, _("已退回，问题继续推进。")

    return _problem_action(request, problem, "decide", form, call, done)


@staff_view("oversight.view")
@require_GET
def problem_evidence(request, pk: int, evidence_pk: int):
    """An evidence file, only to those who may see the problem (MEDIA_ROOT is served by no URL).
    Photos open in the page; PDFs, and photos with ?download=1, are downloaded."""
    problem = _problem(request.user, pk)
    item = get_object_or_404(ProblemEvidence.objects.unscoped(), pk=evidence_pk, problem=problem)
    return stored_file(request, item.file, content_type=item.content_type, name=item.name)


# --- Topic meetings ----------------------------------------------------------------------------------

@staff_view("oversight.view")
@require_GET
def meeting_list(request):
    user = request.user
    visible = problems.meetings_for(user)
    filters = MeetingFilterForm(request.GET or None)
    rows = visible.select_related("area")
    chosen = {"year": None, "kind": ""}
    if filters.is_valid():
        data = filters.cleaned_data
        if data["year"]:
            chosen["year"] = data["year"]
            rows = rows.filter(held_on__year=data["year"])
        if data["kind"]:
            chosen["kind"] = data["kind"]
            rows = rows.filter(kind=data["kind"])
    rows = rows.annotate(problem_count=Count("problems")).order_by("-held_on", "-id")
    years = sorted({d.year for d in visible.dates("held_on", "year")}, reverse=True)
    return render(request, "oversight/problems/meeting_list.html", {
        **_page(request, rows, PER_PAGE), "chosen": chosen, "years": years, "kinds": MeetingKind.choices,
        "can_create": can(user, "oversight.problem.edit"),
    })


@staff_view("oversight.problem.edit")
@require_http_methods(["GET", "POST"])
def meeting_create(request):
    user = request.user
    initial = {}
    if request.method == "GET" and (wanted := request.GET.get("problem", "")).isdigit():
        problem = problems.problems_for(user).filter(pk=int(wanted)).select_related("area").first()
        if problem is not None:
            initial = {"problems": [problem.pk], "area": problem.area.pk}
    form = MeetingForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = problems.meeting_create(actor=user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("会议已记录。"))
            return redirect("oversight:meeting_detail", pk=meeting.pk)
    return render(request, "oversight/problems/meeting_form.html", {"form": form},
                  status=422 if request.method == "POST" else 200)


@staff_view("oversight.view")
@require_GET
def meeting_detail(request, pk: int):
    user = request.user
    meeting = get_object_or_404(problems.meetings_for(user).select_related("area", "created_by"), pk=pk)
    today = timezone.localdate()
    linked = list(problems.problems_for(user).filter(meetings=meeting).select_related("area", "lead_org")
                  .order_by("deadline", "id"))
    for problem in linked:
        problem.days_overdue = problems.days_overdue(problem, today)
    return render(request, "oversight/problems/meeting_detail.html", {
        "meeting": meeting, "linked": linked,
    })
