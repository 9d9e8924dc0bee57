"""Staff and unit-liaison pages of 双报到 registration: the registrations list with the
community's confirm / decline buttons, registering a member for them, a liaison's 本单位报到
page, and the completion figures (完成率) of a street's or community's units.

Registrations are fetched through the scoped managers, so what the caller may not see is 404;
the rules (who may confirm, end, renew) live in registration.py.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.decorators import staff_view
from zhouxin.core.pagination import CappedPaginator
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Organisation, Person

from . import completion, registration
from .choices import LIVE_REGISTRATION_STATUSES, RegistrationStatus
from .models import MemberRegistration, UnitRegistration

PER_PAGE = 30


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class UnitRegistrationForm(StyledForm):
    community = forms.ModelChoiceField(label=gettext_lazy("报到社区"), queryset=None,
                                       error_messages={"required": gettext_lazy("请选择报到社区。"),
                                                       "invalid_choice": gettext_lazy("只能向单位所在街道的社区报到。")})
    contact_name = forms.CharField(label=gettext_lazy("联系人"), max_length=registration.CONTACT_MAX,
                                   error_messages={"required": gettext_lazy("请填写联系人。")})
    services_offered = forms.CharField(label=gettext_lazy("可提供的服务"), max_length=registration.TEXT_MAX,
                                       widget=forms.Textarea(attrs={"rows": 3}),
                                       error_messages={"required": gettext_lazy("请填写可提供的服务。")})

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        field.queryset = registration.unit_communities(unit)
        field.label_from_instance = lambda area: area.name
        own = registration.ancestor(unit.area, AreaLevel.COMMUNITY)
        if own is not None and not self.is_bound:
            self.initial.setdefault("community", own.pk)


class MemberByStaffForm(StyledForm):
    person = forms.ModelChoiceField(label=gettext_lazy("党员"), queryset=None,
                                    error_messages={"required": gettext_lazy("请选择党员。"),
                                                    "invalid_choice": gettext_lazy("请选择本辖区未报到的党员。")})
    community = forms.ModelChoiceField(label=gettext_lazy("报到社区"), queryset=None, required=False,
                                       empty_label=gettext_lazy("居住社区（默认）"),
                                       error_messages={"invalid_choice": gettext_lazy("请选择本区的一个社区。")})
    skills = forms.CharField(label=gettext_lazy("特长与意愿"), max_length=registration.TEXT_MAX, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        live = MemberRegistration.objects.unscoped().filter(status__in=LIVE_REGISTRATION_STATUSES).values("person_id")
        prefixes = _area_prefixes(user, "volunteers.manage")
        people = Person.objects.unscoped().none()
        if prefixes:
            people = (Person.objects.unscoped().filter(_prefix_q("home_area__code", prefixes), is_party_member=True)
                      .exclude(pk__in=live).select_related("home_area", "work_unit").order_by("name", "id"))
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda p: (
            f"{p.name} · {p.home_area.name}" + (f" · {p.work_unit.name}" if p.work_unit_id else ""))
        districts = {registration.ancestor(a, AreaLevel.DISTRICT) for a in
                     Area.objects.unscoped().filter(code__in=prefixes)}
        districts.discard(None)
        communities = Area.objects.unscoped().none()
        if districts:
            communities = Area.objects.unscoped().filter(
                _prefix_q("code", [d.code for d in districts]), level=AreaLevel.COMMUNITY, is_active=True
            ).order_by("code")
        self.fields["community"].queryset = communities
        self.fields["community"].label_from_instance = lambda area: area.name


def _prefix_q(field: str, prefixes) -> Q:
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in prefixes))


def _area_prefixes(user, permission: str) -> tuple[str, ...]:
    """Area codes the user's area-staff grants with `permission` reach (a liaison has none)."""
    return scope_for_user(user).prefixes(roles_for(permission) & AREA_ROLES)


def _page(request, queryset):
    paginator = CappedPaginator(queryset, PER_PAGE)  # a city's volunteers run into the millions
    page = paginator.get_page(request.GET.get("page"))
    return {"page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)}


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


def _pending_first(queryset):
    return queryset.annotate(pending_order=Case(When(status=RegistrationStatus.PENDING, then=Value(0)),
                                                default=Value(1), output_field=IntegerField())
                             ).order_by("pending_order", "-registered_at", "-id")


def _covered_areas(user, permission: str = "volunteers.view"):
    """Streets and communities (and the granted areas themselves) a staff member covers."""
    prefixes = _area_prefixes(user, permission)
    if not prefixes:
        return Area.objects.unscoped().none()
    return (Area.objects.unscoped().filter(
        Q(code__in=prefixes) | (_prefix_q("code", prefixes) & Q(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY])),
        is_active=True).order_by("code"))


# --- Registrations list and decisions ----------------------------------------------------

@staff_view("volunteers.view")
def registration_list(request):
    user = request.user
    kind = request.GET.get("kind", "member")
    if kind not in ("member", "unit"):
        kind = "member"
    if kind == "member":
        rows = MemberRegistration.objects.select_related("person", "community", "work_unit")
    else:
        rows = UnitRegistration.objects.select_related("unit", "community", "registered_by")
    status = request.GET.get("status", "")
    if status in RegistrationStatus.values:
        rows = rows.filter(status=status)
    areas = _covered_areas(user)
    area_code = request.GET.get("area", "")
    if area_code and areas.filter(code=area_code).exists():
        rows = rows.filter(community__code__startswith=area_code)
    else:
        area_code = ""
    context = _page(request, _pending_first(rows))
    today = timezone.localdate()
    own_units = set()
    if kind == "unit" and can(user, "volunteers.unit"):
        from zhouxin.cobuild.services import liaison_units

        own_units = set(liaison_units(user).values_list("pk", flat=True))
    for reg in context["page"].object_list:
        reg.can_decide = reg.status == RegistrationStatus.PENDING and can(user, "volunteers.manage",
                                                                            reg.community.code)
        if kind == "member":
            reg.state = registration.state_of(reg, today)
            reg.state_label = registration.MemberState(reg.state).label
            reg.can_end = reg.status in LIVE_REGISTRATION_STATUSES and can(user, "volunteers.manage",
                                                                           reg.community.code)
            reg.can_renew = reg.status == RegistrationStatus.CONFIRMED and reg.can_end
        else:
            reg.can_end = reg.status in LIVE_REGISTRATION_STATUSES and (
                can(user, "volunteers.manage", reg.community.code) or reg.unit_id in own_units)
    return render(request, "volunteers/registration/list.html", {
        **context, "kind": kind, "status": status, "statuses": RegistrationStatus.choices,
        "areas": areas.filter(level=AreaLevel.COMMUNITY), "area_code": area_code,
        "can_register_member": can(user, "volunteers.manage"), "is_liaison": can(user, "volunteers.unit"),
        "here": request.get_full_path()})


def _decide(request, reg, *, decide, end, renew=None):
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")
    try:
        if decision in ("confirm", "decline"):
            decide(confirm=decision == "confirm", note=note)
            messages.success(request, _("已确认报到。") if decision == "confirm" else _("已退回报到。"))
        elif decision == "end":
            end(note=note)
            messages.success(request, _("报到已结束。"))
        elif decision == "renew" and renew is not None:
            renewed = renew()
            messages.success(request, _("已续报，有效期至 %(d)s。") % {"d": renewed.valid_until.isoformat()})
        else:
            messages.error(request, _("请选择要执行的操作。"))
    except ValidationError as exc:
        flash_errors(request, exc)


@staff_view("volunteers.view")
@require_POST
def unit_registration_decide(request, pk: int):
    reg = get_object_or_404(UnitRegistration.objects.select_related("unit", "community"), pk=pk)
    user = request.user
    _decide(request, reg,
            decide=lambda **kw: registration.unit_registration_decide(actor=user, registration=reg, **kw),
            end=lambda **kw: registration.unit_registration_end(actor=user, registration=reg, **kw))
    return _back(request, f"{reverse('volunteers:registration_list')}?kind=unit")


@staff_view("volunteers.view")
@require_POST
def member_registration_decide(request, pk: int):
    reg = get_object_or_404(MemberRegistration.objects.select_related("person", "community"), pk=pk)
    user = request.user
    _decide(request, reg,
            decide=lambda **kw: registration.member_registration_decide(actor=user, registration=reg, **kw),
            end=lambda **kw: registration.member_registration_end(actor=user, registration=reg, **kw),
            renew=lambda: registration.member_registration_renew(actor=user, registration=reg))
    return _back(request, reverse("volunteers:registration_list"))


@staff_view("volunteers.manage")
@require_http_methods(["GET", "POST"])
def member_register(request):
    """Staff register a Party member of their area (channel staff)."""
    form = MemberByStaffForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            reg = registration.member_register_by_staff(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("已为 %(name)s 登记报到（%(status)s）。")
                             % {"name": reg.person.name, "status": reg.get_status_display()})
            return redirect("volunteers:registration_list")
    status = 422 if request.method == "POST" else 200
    return render(request, "volunteers/registration/member_form.html", {"form": form}, status=status)


# --- A unit liaison's page (本单位报到) ---------------------------------------------------

def _year(request) -> int:
    today = timezone.localdate()
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= today.year else today.year


@staff_view("volunteers.unit")
@require_http_methods(["GET", "POST"])
def my_unit(request):
    from zhouxin.cobuild.services import liaison_units

    user = request.user
    units = list(liaison_units(user).order_by("name"))
    raw = request.POST.get("unit") or request.GET.get("unit") or ""
    unit = next((u for u in units if str(u.pk) == raw), units[0] if units else None)
    if unit is None:
        return render(request, "volunteers/registration/my_unit.html", {"unit": None, "units": units})
    form = UnitRegistrationForm(request.POST or None, unit=unit)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                registration.unit_register(actor=user, unit=unit, **form.cleaned_data)
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("报到已提交，等待社区确认。"))
                return redirect(f"{reverse('volunteers:my_unit')}?unit={unit.pk}")
        status = 422
    year = _year(request)
    figures, members = completion.unit_completion(unit, year)
    regs = list(UnitRegistration.objects.unscoped().filter(unit=unit).select_related("community")
                .order_by("-registered_at", "-id")[:50])
    for reg in regs:
        reg.can_end = reg.status in LIVE_REGISTRATION_STATUSES
    return render(request, "volunteers/registration/my_unit.html", {
        "unit": unit, "units": units, "form": form, "registrations": regs, "figures": figures,
        "unit_figures": figures.units[0], "members": members, "year": year, "years": _years(),
        "here": request.get_full_path()}, status=status)


def _years() -> list[int]:
    this = timezone.localdate().year
    return list(range(this, this - 5, -1))


# --- Completion figures (完成率) ---------------------------------------------------------

@staff_view("volunteers.view")
def completion_overview(request):
    user = request.user
    if not _area_prefixes(user, "volunteers.view"):
        if can(user, "volunteers.unit"):  # a liaison's figures are those of their own unit
            return redirect("volunteers:my_unit")
        raise PermissionDenied
    areas = _covered_areas(user)
    area = areas.filter(code=request.GET.get("area", "")).first() or areas.first()
    year = _year(request)
    figures = completion.area_completion(area, year) if area is not None else None
    return render(request, "volunteers/registration/completion.html", {
        "areas": areas, "area": area, "year": year, "years": _years(), "figures": figures})


@staff_view("volunteers.view")
def completion_unit(request, pk: int):
    if not _area_prefixes(request.user, "volunteers.view"):
        raise PermissionDenied
    unit = get_object_or_404(Organisation.objects.select_related("area"), pk=pk)
    year = _year(request)
    figures, members = completion.unit_completion(unit, year)
    return render(request, "volunteers/registration/completion_unit.html", {
        "unit": unit, "figures": figures, "unit_figures": figures.units[0], "members": members, "year": year,
        "years": _years()})
