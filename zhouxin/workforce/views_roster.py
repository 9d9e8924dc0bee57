"""Staff pages of the roster (花名册) and staffing (配备情况).

Reads go through `workers_for(user)`: the workers of the communities the user's
"workforce.view" grants reach (a community's staff see their community only), so another
community's worker is 404.  Writes call the services in roster.py ("workforce.roster").
Grades are computed for the workers of the page at once (3 queries for the facts, the rule
cached per city and day).
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.core import policy
from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import payrules, roster, staffing
from .choices import PostType, WorkerStatus
from .facts import facts_of, with_facts
from .forms_roster import DayForm, ImportForm, PostForm, WorkerCreateForm, WorkerEditForm
from .models import PostHolding, Worker
from .policy import PAY_KEY

PER_PAGE = 50
VIEW = "workforce.view"
ROSTER = "workforce.roster"


# --- reading ---------------------------------------------------------------------------

def _prefixes(user, permission: str = VIEW) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(roles_for(permission))


def _within(prefixes, field: str) -> Q | None:
    if not prefixes:
        return None
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in prefixes))


def workers_for(user):
    """The workers the user may see (communities within their "workforce.view" grants)."""
    query = _within(_prefixes(user), "community__code")
    if query is None:
        return Worker.objects.unscoped().none()
    return Worker.objects.unscoped().filter(query)


def visible_communities(user):
    query = _within(_prefixes(user), "code")
    if query is None:
        return Area.objects.unscoped().none()
    return Area.objects.unscoped().filter(query, level=AreaLevel.COMMUNITY, is_active=True).order_by("code")


class _CityRules:
    """The pay rule of each community's city, the city found by code prefix (codes are hierarchical)."""

    def __init__(self):
        self.cities = sorted(Area.objects.unscoped().filter(level=AreaLevel.CITY).values_list("code", "pk"),
                             key=lambda c: -len(c[0]))
        self._rules: dict = {}

    def city_id(self, code: str):
        return next((pk for city_code, pk in self.cities if code.startswith(city_code)), None)

    def pay(self, community):
        city_id = self.city_id(community.code)
        if city_id not in self._rules:
            self._rules[city_id] = lambda day, c=city_id: policy.get(PAY_KEY, city=c, on=day)
        return self._rules[city_id]

    def staffing(self, community, day):
        return policy.get(staffing.STAFFING_KEY, city=self.city_id(community.code), on=day)


def _grade(worker, rules: _CityRules, today):
    return payrules.grade_on(facts_of(worker), rules.pay(worker.community), today)


def _current_posts(worker, today):
    return [p for p in worker.posts.all() if p.started_on <= today and (p.ended_on is None or today <= p.ended_on)]


def _worker(user, pk):
    return get_object_or_404(workers_for(user).select_related("person", "community"), pk=pk)


@staff_view(VIEW)
def roster_list(request):
    today = timezone.localdate()
    workers = workers_for(request.user).order_by("community__code", "person__name", "pk")
    communities = list(visible_communities(request.user))
    community = request.GET.get("community", "")
    if community.isdigit():
        workers = workers.filter(community_id=int(community))
    post_type = request.GET.get("post_type", "")
    if post_type in PostType.values:
        holding = PostHolding.objects.unscoped().filter(
            worker=OuterRef("pk"), post_type=post_type, started_on__lte=today).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        workers = workers.filter(Exists(holding))
    status = request.GET.get("status", WorkerStatus.ACTIVE)
    if status in WorkerStatus.values:
        workers = workers.filter(status=status)
    paginator = Paginator(with_facts(workers), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rules = _CityRules()
    rows = []
    for worker in page.object_list:
        rows.append({"worker": worker, "grade": _grade(worker, rules, today),
                     "posts": _current_posts(worker, today)})
    return render(request, "workforce/roster/list.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "rows": rows, "communities": communities, "community": community, "post_types": PostType.choices,
        "post_type": post_type, "statuses": WorkerStatus.choices, "status": status,
        "can_edit": can(request.user, ROSTER), "today": today})


@staff_view(VIEW)
def worker_detail(request, pk):
    today = timezone.localdate()
    worker = get_object_or_404(with_facts(workers_for(request.user)), pk=pk)
    grade = _grade(worker, _CityRules(), today)
    can_edit = can(request.user, ROSTER, worker.community.code)
    return render(request, "workforce/roster/detail.html", {
        "worker": worker, "grade": grade, "posts": list(worker.posts.all()),
        "assessments": sorted(worker.assessments.all(), key=lambda a: -a.year), "today": today,
        "can_edit": can_edit and worker.status == WorkerStatus.ACTIVE,
        "post_form": PostForm(initial={"started_on": today}), "day_form": DayForm(initial={"day": today})})


# --- writing ---------------------------------------------------------------------------

@staff_view(ROSTER)
@require_http_methods(["GET", "POST"])
def worker_create(request):
    form = WorkerCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            worker = roster.worker_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("community", str(exc))
        else:
            messages.success(request, _("已登记社区工作者%(name)s。") % {"name": worker.person.name})
            return redirect("workforce:worker_detail", worker.pk)
    return render(request, "workforce/roster/form.html", {"form": form, "worker": None})


@staff_view(ROSTER)
@require_http_methods(["GET", "POST"])
def worker_edit(request, pk):
    worker = _worker(request.user, pk)
    if not can(request.user, ROSTER, worker.community.code):
        raise PermissionDenied
    initial = {k: getattr(worker, k) for k in roster.EDITABLE}
    form = WorkerEditForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            roster.worker_update(actor=request.user, worker=worker, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("community", str(exc))
        else:
            messages.success(request, _("已保存。"))
            return redirect("workforce:worker_detail", worker.pk)
    return render(request, "workforce/roster/form.html", {"form": form, "worker": worker})


def _act(request, form, action, success):
    if not form.is_valid():
        flash_errors(request, form)
        return
    try:
        action(form.cleaned_data)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, success)


@staff_view(ROSTER)
@require_POST
def worker_leave(request, pk):
    worker = _worker(request.user, pk)
    _act(request, DayForm(request.POST),
         lambda d: roster.worker_leave(actor=request.user, worker=worker, left_on=d["day"]), _("已办理离岗。"))
    return redirect("workforce:worker_detail", worker.pk)


@staff_view(ROSTER)
@require_POST
def post_add(request, pk):
    worker = _worker(request.user, pk)
    _act(request, PostForm(request.POST),
         lambda d: roster.post_add(actor=request.user, worker=worker, **d), _("已登记任职。"))
    return redirect("workforce:worker_detail", worker.pk)


@staff_view(ROSTER)
@require_POST
def post_end(request, pk, post_pk):
    worker = _worker(request.user, pk)
    post = get_object_or_404(PostHolding.objects.unscoped().select_related("worker__community"),
                             pk=post_pk, worker=worker)
    _act(request, DayForm(request.POST),
         lambda d: roster.post_end(actor=request.user, post=post, ended_on=d["day"]), _("已免职。"))
    return redirect("workforce:worker_detail", worker.pk)


@staff_view(ROSTER)
@require_http_methods(["GET", "POST"])
def roster_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        outcome = roster.roster_import(request.user, form.cleaned_data["file"])
        if not outcome.errors:
            messages.success(request, _("已导入 %(n)d 名社区工作者。") % {"n": len(outcome.workers)})
            return redirect("workforce:roster_list")
        errors = outcome.errors
    return render(request, "workforce/roster/import.html", {"form": form, "errors": errors})


@staff_view(ROSTER)
def roster_template(request):
    response = HttpResponse(roster.template_bytes(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''roster-template.xlsx"
    return response


# --- staffing --------------------------------------------------------------------------

def staffing_rows(user, today=None) -> list[dict]:
    """Each community the user sees: households, norm, active workers, shortage (3 queries + rules)."""
    today = today or timezone.localdate()
    communities = visible_communities(user).annotate(
        active=Count("workers", filter=Q(workers__status=WorkerStatus.ACTIVE)))
    rules = _CityRules()
    rows = []
    for community in communities:
        rule = rules.staffing(community, today)
        line = staffing.Staffing(households=community.households, norm=staffing.norm(community.households, rule),
                                 actual=community.active)
        rows.append({"community": community, "staffing": line})
    return rows


@staff_view(VIEW)
def staffing_page(request):
    rows = staffing_rows(request.user)
    return render(request, "workforce/roster/staffing.html", {
        "rows": rows, "short": sum(1 for r in rows if r["staffing"].shortage)})


def workbench_panel(request) -> dict | None:
    """The street workbench: communities short of workers (hidden when none is)."""
    rows = [r for r in staffing_rows(request.user) if r["staffing"].shortage]
    if not rows:
        return None
    return {"rows": rows[:10], "more": len(rows) > 10}
