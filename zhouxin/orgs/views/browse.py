"""Browsing the area tree, organisations and people; revealing a masked identifier.

Every read goes through the scoped managers (via orgs.selectors), so an object
outside the user's grants is simply not found: 404.  List pages run a fixed
number of queries whatever the page size.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scope_for_user

from .. import selectors, services
from ..choices import LEVEL_ORDER, AreaLevel, OrgKind
from ..models import Area, Organisation, Person, Sector
from ..services import REVEALABLE_FIELDS

PER_PAGE_DEFAULT = 25
PER_PAGE_MIN = 10
PER_PAGE_MAX = 100
ORGS_ON_AREA_PAGE = 30
# Labels for display (the service's own labels are evaluated once, at import).
FIELD_LABELS = {"phone": _("手机号"), "id_number": _("身份证号")}


# --- helpers ---------------------------------------------------------------------

def _per_page(request) -> int:
    try:
        wanted = int(request.GET.get("per_page", PER_PAGE_DEFAULT))
    except (TypeError, ValueError):
        return PER_PAGE_DEFAULT
    return min(max(wanted, PER_PAGE_MIN), PER_PAGE_MAX)


def _paginate(request, queryset):
    paginator = Paginator(queryset, _per_page(request))
    page = paginator.get_page(request.GET.get("page"))
    return page, paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)


def _area_or_404(code: str) -> Area:
    return get_object_or_404(Area.objects, code=code)


def _area_filter_options(user, current: Area | None) -> list[dict]:
    depth_of = {level: i for i, level in enumerate(LEVEL_ORDER)}
    areas = selectors.filter_choices_areas(user)
    if current is not None and all(a.code != current.code for a in areas):
        areas.append(current)
        areas.sort(key=lambda a: a.code)
    top = min((depth_of[a.level] for a in areas), default=0)
    return [{"code": a.code, "name": a.name, "level": a.get_level_display(),
             "indent": "\u3000" * (depth_of[a.level] - top)} for a in areas]


class OrganisationFilterForm(forms.Form):
    q = forms.CharField(label=_("名称"), required=False, max_length=selectors.SEARCH_MAX_LENGTH)
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部类型")), *OrgKind.choices])
    sector = forms.ModelChoiceField(label=_("行业系统"), required=False, queryset=Sector.objects.all(),
                                    empty_label=_("全部行业"))
    area = forms.RegexField(label=_("区域"), required=False, regex=r"^[0-9]{2,15}$",
                            error_messages={"invalid": _("区域代码只能由 2 到 15 位数字组成。")})


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名"), required=False, max_length=selectors.SEARCH_MAX_LENGTH)
    area = forms.RegexField(label=_("区域"), required=False, regex=r"^[0-9]{2,15}$",
                            error_messages={"invalid": _("区域代码只能由 2 到 15 位数字组成。")})


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=list(FIELD_LABELS.items()),
                              error_messages={"invalid_choice": _("只能查看手机号或身份证号。"),
                                              "required": _("只能查看手机号或身份证号。")})
    reason = forms.CharField(label=_("查看原因"), required=False, max_length=200,
                             error_messages={"max_length": _("查看原因不能超过 200 个字。")})


def _export_url(user, name: str, area: Area | None, filters: dict) -> str | None:
    """The list's xlsx export (orgs.views.transfer) with the filters the list applies, for
    users who may export there; the export views take the same filter names."""
    if not can(user, "orgs.export", area.code if area is not None else None):
        return None
    query = urlencode({key: value for key, value in filters.items() if value not in ("", None)})
    return reverse(name) + (f"?{query}" if query else "")


def _filter_area(form) -> Area | None:
    """The area of a bound, validated list filter; a code outside the user's scope
    is a 404 like any other object."""
    code = form.cleaned_data.get("area", "")
    return _area_or_404(code) if code else None


# --- tree and search -------------------------------------------------------------

@require_GET
@staff_view("orgs.view")
def tree(request):
    """The area tree from the user's grant nodes; their first level is already open."""
    roots = selectors.with_counts(selectors.grant_roots(request.user))
    for root in roots:
        root.loaded_children = selectors.with_counts(selectors.area_children(root))
    return render(request, "orgs/tree.html", {"roots": roots})


@require_GET
@staff_view("orgs.view")
def area_children(request, code: str):
    """The children of a node, with counts: the fragment the tree loads on demand."""
    area = _area_or_404(code)
    if not request.htmx:
        return redirect("orgs:area_detail", code=area.code)
    children = selectors.with_counts(selectors.area_children(area))
    return render(request, "orgs/_tree_children.html", {"nodes": children, "parent": area})


@require_GET
@staff_view("orgs.view")
def search(request):
    """Areas and organisations by name or pinyin initials, within the user's scope."""
    q = selectors.normalise_query(request.GET.get("q", ""))
    hits = selectors.search(q)
    context = {"q": q, "hits": hits, "limit": selectors.SEARCH_LIMIT}
    if request.htmx:
        return render(request, "orgs/_search_results.html", context)
    return render(request, "orgs/search.html", context)


# --- areas and organisations -----------------------------------------------------

@require_GET
@staff_view("orgs.view")
def area_detail(request, code: str):
    area = _area_or_404(code)
    children = selectors.with_counts(selectors.area_children(area))
    counts = selectors.subtree_counts([area])[area.code]
    here = Organisation.objects.filter(area=area).select_related("sector").order_by("name")
    return render(request, "orgs/area_detail.html", {
        "area": area,
        "path": selectors.area_path(area.code, request.user),
        "children": children,
        "counts": counts,
        "organisations": list(here[:ORGS_ON_AREA_PAGE]),
        "organisations_here": here.count(),
        "orgs_shown": ORGS_ON_AREA_PAGE,
        "show_grids": area.level in (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY),
        "show_communities": area.level in (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET),
        "show_streets": area.level in (AreaLevel.CITY, AreaLevel.DISTRICT),
    })


@require_GET
@staff_view("orgs.view")
def org_list(request):
    form = OrganisationFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound else {}
    area = _filter_area(form) if form.is_bound else None
    sector = data.get("sector")
    queryset = selectors.organisations(area=area, kind=data.get("kind", ""), q=data.get("q", ""),
                                       sector_id=sector.pk if sector else None)
    page, page_range = _paginate(request, queryset)
    return render(request, "orgs/org_list.html", {
        "form": form, "valid": valid, "page": page, "page_range": page_range, "filter_area": area,
        "area_options": _area_filter_options(request.user, area),
        "kinds": OrgKind.choices, "sectors": list(Sector.objects.all()),
        "selected_kind": data.get("kind", ""), "selected_sector": sector.pk if sector else None,
        "q": data.get("q", ""),
        "export_url": _export_url(request.user, "orgs:export_organisations", area, {
            "q": data.get("q", ""), "area": area.code if area else "", "kind": data.get("kind", ""),
            "sector": sector.pk if sector else ""}),
    })


@require_GET
@staff_view("orgs.view")
def org_detail(request, pk: int):
    org = get_object_or_404(
        Organisation.objects.select_related("area", "sector", "party_parent", "party_parent__area"), pk=pk)
    scope = scope_for_user(request.user)
    party_children = list(
        Organisation.objects.filter(party_parent=org).select_related("area").order_by("area__code", "name"))
    return render(request, "orgs/org_detail.html", {
        "org": org,
        "path": selectors.area_path(org.area.code, request.user, include_self=True,
                                    self_name=org.area.name, self_level=org.area.level),
        "parent_in_scope": bool(org.party_parent and scope.covers(org.party_parent.area.code)),
        "party_children": party_children,
        "members_registered": Person.objects.filter(party_branch=org).count(),
        "employees_registered": Person.objects.filter(work_unit=org).count(),
    })


# --- people ------------------------------------------------------------------------

@require_GET
@staff_view("orgs.view")
def person_list(request):
    form = PersonFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound else {}
    area = _filter_area(form) if form.is_bound else None
    queryset = selectors.people(area=area, q=data.get("q", ""))
    page, page_range = _paginate(request, queryset)
    return render(request, "orgs/person_list.html", {
        "form": form, "valid": valid, "page": page, "page_range": page_range, "filter_area": area,
        "area_options": _area_filter_options(request.user, area), "q": data.get("q", ""),
        "export_url": _export_url(request.user, "orgs:export_people", area, {
            "q": data.get("q", ""), "area": area.code if area else ""}),
    })


def _person_or_404(pk: int) -> Person:
    return get_object_or_404(
        Person.objects.select_related("home_area", "work_unit", "work_unit__area", "party_branch",
                                      "party_branch__area"), pk=pk)


def _reveal_rows(person: Person, revealed: dict[str, str], forms_by_field: dict[str, RevealForm]) -> list[dict]:
    masked = {"phone": person.phone_masked, "id_number": person.id_number_masked}
    return [
        {"field": field, "label": FIELD_LABELS[field], "masked": masked[field], "value": revealed.get(field),
         "form": forms_by_field.get(field) or RevealForm(initial={"field": field})}
        for field in REVEALABLE_FIELDS
    ]


def _person_page(request, person: Person, *, revealed=None, forms_by_field=None, errors=(), status=200):
    scope = scope_for_user(request.user)
    return render(request, "orgs/person_detail.html", {
        "person": person,
        "path": selectors.area_path(person.home_area.code, request.user, include_self=True,
                                    self_name=person.home_area.name, self_level=person.home_area.level),
        "rows": _reveal_rows(person, revealed or {}, forms_by_field or {}),
        "open_field": next(iter(forms_by_field or {}), None),
        "errors": errors,
        "can_reveal": can(request.user, "orgs.person.reveal", person.home_area.code),
        "work_unit_in_scope": bool(person.work_unit and scope.covers(person.work_unit.area.code)),
        "branch_in_scope": bool(person.party_branch and scope.covers(person.party_branch.area.code)),
    }, status=status)


@never_cache
@require_GET
@staff_view("orgs.view")
def person_detail(request, pk: int):
    return _person_page(request, _person_or_404(pk))


@never_cache
@require_POST
@staff_view("orgs.view")
def person_reveal(request, pk: int):
    """Show one masked field in full; the service checks the permission, wants a
    reason and writes the audit entry.  Bad input: the form again with the message."""
    person = _person_or_404(pk)
    form = RevealForm(request.POST)
    field = request.POST.get("field", "")
    if form.is_valid():
        try:
            value = services.person_reveal(actor=request.user, person=person, field=form.cleaned_data["field"],
                                          reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, messages)
        else:
            field = form.cleaned_data["field"]
            if request.htmx:
                return render(request, "orgs/_revealed.html", {
                    "row": {"field": field, "label": FIELD_LABELS[field], "value": value}, "person": person})
            return _person_page(request, person, revealed={field: value})
    if field not in REVEALABLE_FIELDS:
        errors = [m for messages in form.errors.values() for m in messages]
        if request.htmx:
            return render(request, "orgs/_reveal_error.html", {"errors": errors}, status=422)
        return _person_page(request, person, errors=errors, status=422)
    if request.htmx:
        row = _reveal_rows(person, {}, {field: form})[list(REVEALABLE_FIELDS).index(field)]
        return render(request, "orgs/_reveal_form.html", {"row": row, "person": person, "open": True}, status=422)
    return _person_page(request, person, forms_by_field={field: form}, status=422)
