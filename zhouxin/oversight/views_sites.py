"""Staff pages of demonstration sites (示范点) and the case library (案例库).

Sites are read through the scoped manager (another area's site is 404).  Cases follow the
library's rule (sites.cases_visible_to): published cases are read across the district, drafts
and withdrawn cases only in their area's scope; a case nobody may read is 404.  A role without
the permission an action needs is 403.  The rules live in sites.py.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.downloads import stored_file
from zhouxin.core.permissions import can
from zhouxin.core.sanitize import clean_html
from zhouxin.core.scoping import scope_for_user
from zhouxin.dispatch import attachments
from zhouxin.orgs.models import Area

from . import sites
from .choices import CaseStatus, SiteKind, SiteStatus
from .forms_sites import CaseFilterForm, CaseForm, DecideForm, NominateForm, RevokeForm, SiteFilterForm
from .models import CaseFile, CaseStudy, DemoSite

PER_PAGE = 20
TAG_CLOUD = 24


def _outside_scope(user, code: str) -> bool:
    """A posted area code that exists but lies outside the caller's grants (answered 404)."""
    area = Area.objects.unscoped().filter(code=str(code or "")).only("code").first()
    return area is not None and not scope_for_user(user).covers(area.code)


# --- Demonstration sites ------------------------------------------------------------------------------

def _site(user, pk: int) -> DemoSite:
    return get_object_or_404(sites.sites_visible_to(user).select_related(
        "area__parent", "organisation", "nominated_by", "decided_by"), pk=pk)


def _site_url(site: DemoSite) -> str:
    return reverse("oversight:site_detail", args=[site.pk])


@staff_view("oversight.view")
@require_GET
def site_list(request):
    user = request.user
    filters = SiteFilterForm(request.GET or None)
    rows = sites.sites_visible_to(user).select_related("area__parent", "organisation")
    year = status = kind = ""
    if filters.is_valid():
        data = filters.cleaned_data
        year, status, kind = data["year"] or "", data["status"] or "", data["kind"] or ""
        if year:
            rows = rows.filter(year=year)
        if status:
            rows = rows.filter(status=status)
        if kind:
            rows = rows.filter(kind=kind)
    paginator = Paginator(rows.order_by("-year", "area__code", "id"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    years = list(sites.sites_visible_to(user).order_by("-year").values_list("year", flat=True).distinct())
    library = sites.cases_visible_to(user).filter(status=CaseStatus.PUBLISHED)
    return render(request, "oversight/sites/list.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "statuses": SiteStatus.choices, "kinds": SiteKind.choices, "status": status, "kind": kind, "year": year,
        "years": years, "can_nominate": can(user, "oversight.site.nominate"),
        "library_count": library.count(),
        "recent_cases": list(library.select_related("area").order_by("-published_at", "-id")[:5]),
    })


@staff_view("oversight.site.nominate")
@require_http_methods(["GET", "POST"])
def site_nominate(request):
    user = request.user
    if request.method == "POST" and _outside_scope(user, request.POST.get("area")):
        raise Http404
    form = NominateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            site = sites.site_nominate(actor=user, area=data["area"], kind=data["kind"], year=data["year"],
                                       title=data["title"], reason=data["reason"], evidence=form.evidence(),
                                       organisation=data["organisation"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("已推荐“%(title)s”，平台已核验可自动判断的条件，请等待区级审定。")
                             % {"title": site.title})
            return redirect(_site_url(site))
    return render(request, "oversight/sites/form.html", {
        "form": form, "auto_criteria": [c for c in sites.CRITERIA if c.auto],
    }, status=422 if request.method == "POST" else 200)


def _site_detail(request, site: DemoSite, *, bound: dict | None = None, status: int = 200):
    user = request.user
    bound = bound or {}
    may_decide = can(user, "oversight.site.decide", site.area.code)
    cases = list(sites.cases_visible_to(user).filter(site=site).select_related("area").order_by("-published_at", "-id"))
    return render(request, "oversight/sites/detail.html", {
        "site": site, "criteria": sites.criteria_shown(site), "cases": cases,
        "actions": {"decide": may_decide and site.status == SiteStatus.NOMINATED,
                    "revoke": may_decide and site.status == SiteStatus.APPROVED},
        "decide_form": bound.get("decide") or DecideForm(prefix="d"),
        "revoke_form": bound.get("revoke") or RevokeForm(prefix="r"),
    }, status=status)


@staff_view("oversight.view")
@require_GET
def site_detail(request, pk: int):
    return _site_detail(request, _site(request.user, pk))


def _site_action(request, pk: int, key: str, form, call, done: str):
    site = _site(request.user, pk)
    if not can(request.user, "oversight.site.decide", site.area.code):
        raise PermissionDenied
    if form.is_valid():
        try:
            call(site, form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, done)
            return redirect(_site_url(site))
    flash_errors(request, form)
    return _site_detail(request, site, bound={key: form}, status=422)


@staff_view("oversight.view")
@require_POST
def site_decide(request, pk: int):
    form = DecideForm(request.POST, prefix="d")
    return _site_action(
        request, pk, "decide", form,
        lambda site, data: sites.site_decide(actor=request.user, site=site, approve=data["decision"] == "approve",
                                             note=data["note"]),
        _("审定意见已保存。"))


@staff_view("oversight.view")
@require_POST
def site_revoke(request, pk: int):
    form = RevokeForm(request.POST, prefix="r")
    return _site_action(request, pk, "revoke", form,
                        lambda site, data: sites.site_revoke(actor=request.user, site=site, reason=data["reason"]),
                        _("示范点已撤销。"))


# --- Cases ---------------------------------------------------------------------------------------------

def _case(user, pk: int) -> CaseStudy:
    return get_object_or_404(sites.cases_visible_to(user).select_related(
        "area__parent", "site", "author", "published_by"), pk=pk)


def _case_url(case: CaseStudy) -> str:
    return reverse("oversight:case_detail", args=[case.pk])


def _tag_ids(rows, wanted) -> list[int]:
    """Ids of the rows with a tag that `wanted(normalised tag)` accepts.  Tags are a JSON list,
    compared here rather than in SQL so SQLite and PostgreSQL answer alike."""
    return [pk for pk, tags in rows.values_list("pk", "tags")
            if any(wanted(sites.normalise_tag(t)) for t in tags or [])]


@staff_view("oversight.view")
@require_GET
def case_list(request):
    user = request.user
    visible = sites.cases_visible_to(user)
    filters = CaseFilterForm(request.GET or None)
    rows = visible
    q = tag = status = ""
    if filters.is_valid():
        data = filters.cleaned_data
        q, tag, status = data["q"].strip(), data["tag"].strip(), data["status"] or ""
        if status:
            rows = rows.filter(status=status)
        if tag:
            wanted = sites.normalise_tag(tag)
            rows = rows.filter(pk__in=_tag_ids(rows, lambda t: t == wanted))
        if q:
            needle = sites.normalise_tag(q)
            rows = rows.filter(Q(title__icontains=q) | Q(summary__icontains=q)
                               | Q(pk__in=_tag_ids(rows, lambda t: needle in t)))
    paginator = Paginator(rows.select_related("area__parent", "site").order_by("-published_at", "-created_at", "-id"),
                          PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    cloud = Counter()
    for tags in visible.filter(status=CaseStatus.PUBLISHED).values_list("tags", flat=True):
        cloud.update(tags or [])
    return render(request, "oversight/sites/case_list.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "q": q, "tag": tag, "status": status, "statuses": CaseStatus.choices,
        "tags": [t for t, _n in cloud.most_common(TAG_CLOUD)],
        "can_create": can(user, "oversight.case.edit"),
    })


@staff_view("oversight.case.edit")
@require_http_methods(["GET", "POST"])
def case_create(request):
    user = request.user
    if request.method == "POST" and _outside_scope(user, request.POST.get("area")):
        raise Http404
    form = CaseForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = sites.case_create(actor=user, area=data["area"], title=data["title"], summary=data["summary"],
                                     body=data["body"], tags=data["tags"], evidence=data["evidence"],
                                     site=data["site"], files=data["upload"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("案例已保存为草稿，审核入库后全区可见。"))
            return redirect(_case_url(case))
    return render(request, "oversight/sites/case_form.html", {"form": form, "case": None},
                  status=422 if request.method == "POST" else 200)


@staff_view("oversight.view")
@require_GET
def case_detail(request, pk: int):
    user = request.user
    case = _case(user, pk)
    files = list(CaseFile.objects.unscoped().filter(case=case).order_by("uploaded_at", "id"))
    may_publish = sites.can_publish(user, case)
    return render(request, "oversight/sites/case_detail.html", {
        "case": case, "files": files,
        # Stored sanitised; cleaned again as it is shown (idempotent), so the page never trusts the row.
        "body_html": mark_safe(clean_html(case.body)),  # noqa: S308  (nh3's allowlisted output)
        "images": [f for f in files if f.content_type != attachments.PDF],
        "documents": [f for f in files if f.content_type == attachments.PDF],
        "site_visible": case.site_id is not None and sites.sites_visible_to(user).filter(pk=case.site_id).exists(),
        "actions": {
            "edit": sites.can_edit_case(user, case) and case.status in sites.EDITABLE_CASES,
            "publish": may_publish and case.status in sites.EDITABLE_CASES,
            "withdraw": may_publish and case.status == CaseStatus.PUBLISHED,
        },
    })


@staff_view("oversight.view")
@require_http_methods(["GET", "POST"])
def case_edit(request, pk: int):
    user = request.user
    case = _case(user, pk)
    if not sites.can_edit_case(user, case):
        raise PermissionDenied
    initial = {"title": case.title, "summary": case.summary, "body": case.body, "tags": "、".join(case.tags or []),
               "evidence": "\n".join(f"{e.get('title', '')} | {e.get('url', '')}" for e in case.evidence or []),
               "site": case.site_id}
    form = CaseForm(request.POST or None, request.FILES or None, user=user, case=case, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sites.case_update(actor=user, case=case, title=data["title"], summary=data["summary"], body=data["body"],
                              tags=data["tags"], evidence=data["evidence"], site=data["site"], files=data["upload"],
                              remove_files=data.get("remove_files") or ())
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("案例已保存。"))
            return redirect(_case_url(case))
    return render(request, "oversight/sites/case_form.html", {
        "form": form, "case": case, "editable": case.status in sites.EDITABLE_CASES,
    }, status=422 if request.method == "POST" else 200)


def _case_action(request, pk: int, call, done: str):
    case = _case(request.user, pk)
    if not sites.can_publish(request.user, case):
        raise PermissionDenied
    try:
        call(case)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, done)
    return redirect(_case_url(case))


@staff_view("oversight.view")
@require_POST
def case_publish(request, pk: int):
    return _case_action(request, pk, lambda case: sites.case_publish(actor=request.user, case=case),
                        _("案例已审核入库，全区工作人员可以查阅。"))


@staff_view("oversight.view")
@require_POST
def case_withdraw(request, pk: int):
    note = str(request.POST.get("note", ""))[: sites.NOTE_MAX + 1]
    return _case_action(request, pk, lambda case: sites.case_withdraw(actor=request.user, case=case, note=note),
                        _("案例已撤回，不再在案例库中展示。"))


@staff_view("oversight.view")
@require_GET
def case_file(request, pk: int, file_pk: int):
    case = _case(request.user, pk)
    item = get_object_or_404(CaseFile.objects.unscoped(), pk=file_pk, case=case)
    return stored_file(request, item.file, content_type=item.content_type, name=item.name)
