"""Staff and unit-liaison pages of co-building: needs, resources, matches, claims, projects,
and the promotion of frequent request categories to needs.

Objects are fetched through the selectors (selectors.py), so what the caller may not see is
404.  Views validate the form and call a service; the rules live in services.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can

from . import agreements, matching, promotion, selectors, services, views_delivery, views_public
from .choices import ClaimStatus, NeedCategory, NeedStatus, ResourceKind
from .forms import (
    ClaimForm,
    DecisionForm,
    NeedEditForm,
    NeedForm,
    ProjectForm,
    ResourceEditForm,
    ResourceForm,
    need_areas,
)
from .models import Claim, Resource

PER_PAGE = 30
MATCHES_PER_RESOURCE = 5


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _page(request, queryset):
    paginator = Paginator(queryset, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return {"page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)}


def _need(user, pk):
    return get_object_or_404(selectors.needs_for(user).select_related("area", "created_by"), pk=pk)


def _resource(user, pk):
    return get_object_or_404(selectors.resources_for(user).select_related("owner", "area"), pk=pk)


# --- Needs -------------------------------------------------------------------------------

@staff_view("cobuild.view")
def need_list(request):
    needs = selectors.needs_for(request.user).select_related("area").order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status in NeedStatus.values:
        needs = needs.filter(status=status)
    category = request.GET.get("category", "")
    if category in NeedCategory.values:
        needs = needs.filter(category=category)
    return render(request, "cobuild/need_list.html", {
        **_page(request, needs), "status": status, "statuses": NeedStatus.choices, "category": category,
        "categories": NeedCategory.choices, "can_create": can(request.user, "cobuild.need.edit")})


@staff_view("cobuild.need.edit")
@require_http_methods(["GET", "POST"])
def need_create(request):
    areas = need_areas(request.user)
    initial, promoted = {}, None
    raw_promote = request.POST.get("promote") or request.GET.get("promote")
    raw_area = request.POST.get("area") or request.GET.get("area")
    if raw_promote:
        area = areas.filter(pk=raw_area).first() if str(raw_area or "").isdigit() else None
        promoted = promotion.promotion_initial(area, int(raw_promote)) if area and raw_promote.isdigit() else None
        if promoted is None:
            messages.error(request, _("这个诉求类别不在该区域近90天的高频诉求中，无法转为需求。"))
            return redirect("cobuild:promote")
        initial = {**promoted, "promote": raw_promote}
    elif raw_area and str(raw_area).isdigit():
        initial = {"area": areas.filter(pk=raw_area).first()}
    form = NeedForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "promote"}
        if promoted:
            data.update(source=promoted["source"], source_ref=promoted["source_ref"])
        try:
            need = services.need_create(actor=request.user, **data)
        except ValidationError as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("需求已发布，驻区单位可以在资源匹配中看到并认领。"))
            return redirect("cobuild:need_detail", pk=need.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "cobuild/need_form.html", {"form": form, "promoted": promoted}, status=status)


@staff_view("cobuild.view")
def need_detail(request, pk: int):
    user = request.user
    need = _need(user, pk)
    code = need.area.code
    claims = list(selectors.claims_for(user).filter(need=need)
                  .select_related("resource", "unit", "created_by", "decided_by").order_by("-created_at"))
    for claim in claims:
        claim.can_decide = claim.status == ClaimStatus.PENDING and services.can_decide(user, claim)
        claim.can_withdraw = claim.status == ClaimStatus.PENDING and services.can_withdraw(user, claim)
        claim.can_start_project = (claim.status == ClaimStatus.CONFIRMED
                                   and services.staff_can(user, "cobuild.confirm", code)
                                   and not hasattr(claim, "project"))
    is_staff = services.staff_can(user, "cobuild.view", code)
    own_units = selectors.unit_ids(user)
    matches = []
    if need.status == NeedStatus.OPEN:
        ranked = matching.resources_for_need(need)
        # Liaisons see only their own unit's resources among the matches; staff see all of them.
        staff_claims = services.staff_can(user, "cobuild.claim", code)
        liaison = can(user, "cobuild.resource.edit")
        matches = [(m, staff_claims or (liaison and m.obj.owner_id in own_units))
                   for m in ranked if is_staff or m.obj.owner_id in own_units]
    return render(request, "cobuild/need_detail.html", {
        "need": need, "claims": claims, "matches": matches, "is_staff": is_staff,
        "can_close": need.status == NeedStatus.OPEN and services.staff_can(user, "cobuild.need.edit", code),
        "can_edit": need.status == NeedStatus.OPEN and services.staff_can(user, "cobuild.need.edit", code),
        "can_mark_met": need.status in (NeedStatus.CONFIRMED, NeedStatus.IN_PROJECT)
        and services.staff_can(user, "cobuild.need.edit", code),
        "project_form": ProjectForm(initial={"title": need.title})})


@staff_view("cobuild.need.edit")
@require_POST
def need_close(request, pk: int):
    need = _need(request.user, pk)
    met = request.POST.get("met") == "1"
    try:
        services.need_close(actor=request.user, need=need, met=met, note=request.POST.get("note", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("需求已标记为已满足。") if met else _("需求已关闭。"))
    return redirect("cobuild:need_detail", pk=need.pk)


@staff_view("cobuild.need.edit")
@require_http_methods(["GET", "POST"])
def need_edit(request, pk: int):
    """Edit an open need (the need form without its area); claimed needs are what was claimed."""
    need = _need(request.user, pk)
    if not services.staff_can(request.user, "cobuild.need.edit", need.area.code):
        raise PermissionDenied
    if need.status != NeedStatus.OPEN:
        messages.error(request, _("只有待认领的需求可以修改；已被认领的需求请先处理认领。"))
        return redirect("cobuild:need_detail", pk=need.pk)
    fields = ("title", "category", "description", "beneficiaries", "beneficiary_count", "quantity", "quantity_unit",
              "wanted_from", "wanted_until")
    form = NeedEditForm(request.POST or None, user=request.user, initial={f: getattr(need, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        try:
            services.need_update(actor=request.user, need=need, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("需求已修改。"))
            return redirect("cobuild:need_detail", pk=need.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "cobuild/need_form.html", {"form": form, "need": need}, status=status)


@staff_view("cobuild.need.edit")
def promote(request):
    areas = list(need_areas(request.user))
    raw = request.GET.get("area", "")
    area = next((a for a in areas if str(a.pk) == raw), areas[0] if areas else None)
    items = promotion.frequent_categories(area) if area else []
    return render(request, "cobuild/promote.html", {"areas": areas, "area": area, "items": items,
                                                    "days": promotion.WINDOW_DAYS,
                                                    "labels": dict(NeedCategory.choices)})


# --- Resources ---------------------------------------------------------------------------

@staff_view("cobuild.view")
def resource_list(request):
    resources = selectors.resources_for(request.user).select_related("owner", "area").order_by("-created_at", "-id")
    kind = request.GET.get("kind", "")
    if kind in ResourceKind.values:
        resources = resources.filter(kind=kind)
    category = request.GET.get("category", "")
    if category in NeedCategory.values:
        resources = resources.filter(category=category)
    return render(request, "cobuild/resource_list.html", {
        **_page(request, resources), "kind": kind, "kinds": ResourceKind.choices, "category": category,
        "categories": NeedCategory.choices, "can_create": can(request.user, "cobuild.resource.edit")})


@staff_view("cobuild.resource.edit")
@require_http_methods(["GET", "POST"])
def resource_create(request):
    units = list(services.liaison_units(request.user))
    form = ResourceForm(request.POST or None, user=request.user,
                        initial={"owner": units[0] if len(units) == 1 else None})
    if request.method == "POST" and form.is_valid():
        try:
            resource = services.resource_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("owner", str(exc))
        else:
            messages.success(request, _("资源已登记，系统会为它匹配社区需求。"))
            return redirect("cobuild:resource_detail", pk=resource.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "cobuild/resource_form.html", {"form": form}, status=status)


@staff_view("cobuild.view")
def resource_detail(request, pk: int):
    user = request.user
    resource = _resource(user, pk)
    own = resource.owner_id in selectors.unit_ids(user)
    claims = selectors.claims_for(user).filter(resource=resource).select_related("need__area", "unit") \
        .order_by("-created_at")
    matches = matching.needs_for_resource(resource) if own and resource.is_active else []
    return render(request, "cobuild/resource_detail.html", {"resource": resource, "own": own, "claims": claims,
                                                            "matches": matches,
                                                            "can_edit": own and can(user, "cobuild.resource.edit")})


def _own_resource(request, pk: int) -> Resource:
    resource = _resource(request.user, pk)
    if resource.owner_id not in selectors.unit_ids(request.user):
        raise PermissionDenied
    return resource


@staff_view("cobuild.resource.edit")
@require_http_methods(["GET", "POST"])
def resource_edit(request, pk: int):
    """Edit one of the unit's resources (the resource form without its unit)."""
    resource = _own_resource(request, pk)
    fields = ("title", "kind", "category", "description", "capacity", "capacity_unit", "available_from",
              "available_until", "radius")
    form = ResourceEditForm(request.POST or None, user=request.user,
                            initial={f: getattr(resource, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        try:
            services.resource_update(actor=request.user, resource=resource, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("资源已修改。"))
            return redirect("cobuild:resource_detail", pk=resource.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "cobuild/resource_form.html", {"form": form, "resource": resource}, status=status)


@staff_view("cobuild.resource.edit")
@require_POST
def resource_deactivate(request, pk: int):
    resource = _own_resource(request, pk)
    try:
        services.resource_deactivate(actor=request.user, resource=resource, note=request.POST.get("note", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("资源已停用，不再参与匹配和认领。"))
    return redirect("cobuild:resource_detail", pk=resource.pk)


@staff_view("cobuild.resource.edit")
def my_matches(request):
    """资源匹配: for each of the liaison's resources, the open needs it could meet."""
    units = selectors.unit_ids(request.user)
    resources = list(selectors.resources_for(request.user).filter(owner_id__in=units, is_active=True)
                     .select_related("owner", "area").order_by("-created_at")[:20])
    groups = [(resource, matching.needs_for_resource(resource, limit=MATCHES_PER_RESOURCE)) for resource in resources]
    return render(request, "cobuild/my_matches.html", {"groups": groups})


# --- Claims and projects -----------------------------------------------------------------

@staff_view("cobuild.claim")
@require_POST
def claim_create(request, pk: int):
    need = _need(request.user, pk)
    form = ClaimForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("cobuild:need_detail", pk=need.pk)
    resource = selectors.resources_for(request.user).filter(pk=form.cleaned_data["resource"]).first()
    if resource is None:
        raise Http404
    try:
        services.claim_create(actor=request.user, need=need, resource=resource,
                              quantity=form.cleaned_data["quantity"], note=form.cleaned_data["note"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已认领，等待对方确认。"))
    return redirect("cobuild:need_detail", pk=need.pk)


def _claim(user, pk) -> Claim:
    return get_object_or_404(selectors.claims_for(user).select_related("need__area"), pk=pk)


def _decide(request, pk: int, action, done: str):
    claim = _claim(request.user, pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("cobuild:need_detail", pk=claim.need_id)
    if not services.can_decide(request.user, claim):
        raise PermissionDenied
    try:
        action(actor=request.user, claim=claim, note=note)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("cobuild:need_detail", pk=claim.need_id)


@staff_view("cobuild.claim")
@require_POST
def claim_confirm(request, pk: int):
    return _decide(request, pk, services.claim_confirm, _("认领已确认。"))


@staff_view("cobuild.claim")
@require_POST
def claim_decline(request, pk: int):
    return _decide(request, pk, services.claim_decline, _("已退回这项认领，需求重新开放认领。"))


@staff_view("cobuild.claim")
@require_POST
def claim_withdraw(request, pk: int):
    """The side that made a pending claim takes it back; the need is open again."""
    claim = _claim(request.user, pk)
    if not services.can_withdraw(request.user, claim):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("cobuild:need_detail", pk=claim.need_id)
    try:
        services.claim_withdraw(actor=request.user, claim=claim, note=form.cleaned_data["note"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("认领已撤回，需求重新开放认领。"))
    return redirect("cobuild:need_detail", pk=claim.need_id)


@staff_view("cobuild.confirm")
@require_POST
def project_create(request, pk: int):
    claim = _claim(request.user, pk)
    form = ProjectForm(request.POST)
    if form.is_valid():
        try:
            project = services.project_create_from_claim(actor=request.user, claim=claim, **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("共建项目已创建。"))
            return redirect("cobuild:project_detail", pk=project.pk)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("cobuild:need_detail", pk=claim.need_id)


@staff_view("cobuild.view")
def project_list(request):
    projects = selectors.projects_for(request.user).select_related("area", "need").order_by("-created_at", "-id")
    return render(request, "cobuild/project_list.html", _page(request, projects))


@staff_view("cobuild.view")
def project_detail(request, pk: int):
    project = get_object_or_404(selectors.projects_for(request.user).select_related("area", "need", "claim"), pk=pk)
    from zhouxin.orgs.models import Organisation

    parties = list(Organisation.objects.unscoped().filter(cobuild_projects=project).order_by("name"))
    resources = list(Resource.objects.unscoped().filter(projects=project).select_related("owner"))
    context = {"project": project, "parties": parties, "resources": resources}
    # Panels of the project page, each from its own module: context updates go here.
    context.update(views_public.public_panel(request.user, project))
    context.update(agreements.panel_context(request.user, project))
    context.update(views_delivery.panel_context(request, project))
    return render(request, "cobuild/project_detail.html", context)
