"""The dispatch catalogue, routing rules and the deadline calculator.

Every staff role reads the catalogue and uses the calculator ("dispatch.catalogue.view");
district administrators edit ("dispatch.catalogue.edit").  The catalogue is shared by
the city; routing rules are shown as far as they apply in the reader's area: rules on
areas inside the reader's grants and on the areas above them (a district's rule
applies to each of its communities), or, for a department, the rules that route to it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from .. import catalogue as services
from .. import routing, sla
from ..choices import RequestKind, SlaClass, Urgency
from ..models import Category, RoutingRule

VIEW = "dispatch.catalogue.view"
EDIT = "dispatch.catalogue.edit"
RULES_PER_PAGE = 50
SEARCH_MAX_LENGTH = 40
CODE_PATTERN = r"^[0-9]{2}([0-9]{2}){0,2}$"
INDENT = "\u3000"  # an ideographic space per level in option lists


def _can_edit(user) -> bool:
    return can(user, EDIT)


def _apply_errors(form: forms.Form, exc: ValidationError, fields: dict[str, str] | None = None) -> None:
    """Service errors onto the form: field errors where the form has that field, the rest on top."""
    fields = fields or {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = fields.get(name, name)
            for message in errors:
                form.add_error(target if target in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


# --- The catalogue ---------------------------------------------------------------------------


@never_cache
@require_GET
@staff_view(VIEW)
def catalogue(request):
    """The tree of categories with SLA class, default organisation kind and keywords; search by
    name, code, pinyin initials (wyxq → 物业小区…) or keyword."""
    query = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX_LENGTH]
    show_inactive = request.GET.get("inactive") == "1"
    roots = services.catalogue_tree(query=query, include_inactive=show_inactive)
    leaves = sum(1 for r in roots for n in r.nodes for _leaf in n.nodes)
    return render(request, "dispatch/catalogue/tree.html", {
        "roots": roots, "query": query, "show_inactive": show_inactive, "leaf_count": leaves,
        "can_edit": _can_edit(request.user), "sla_classes": SlaClass.choices,
    })


def _category_choices(*, levels=(1, 2, 3), active_only=True, blank=None) -> list[tuple[str, str]]:
    qs = Category.objects.filter(level__in=levels).order_by("code")
    if active_only:
        qs = qs.filter(is_active=True)
    choices = [("", blank)] if blank is not None else []
    choices += [(c.code, f"{INDENT * (c.level - 1)}{c.code} {c.name}") for c in qs.only("code", "name", "level")]
    return choices


class CategoryCreateForm(forms.Form):
    parent = forms.ChoiceField(label=gettext_lazy("上级类别"), required=False)
    code = forms.RegexField(label=gettext_lazy("编码"), regex=CODE_PATTERN, max_length=6,
                            help_text=gettext_lazy("每级两位数字：一级如 04，二级如 0401，三级如 040101。"),
                            error_messages={"invalid": gettext_lazy("编码应为 2、4 或 6 位数字。"),
                                            "required": gettext_lazy("请填写编码。")})
    name = forms.CharField(label=gettext_lazy("名称"), max_length=64,
                           error_messages={"required": gettext_lazy("请填写类别名称。")})
    sla_class = forms.ChoiceField(label=gettext_lazy("时限类别"), required=False,
                                  choices=[("", gettext_lazy("（一、二级类别不设）")), *SlaClass.choices],
                                  help_text=gettext_lazy("三级类别必填：紧急类 2 小时联系；水电气热 24 小时；一般类 7 天；复杂类 15 天。"))
    default_org_kind = forms.ChoiceField(label=gettext_lazy("默认承办组织类型"), required=False,
                                         choices=[("", gettext_lazy("（不指定）")), *OrgKind.choices])
    keywords = forms.CharField(label=gettext_lazy("关键词"), required=False, max_length=600,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=gettext_lazy("居民常用的说法，用空格或逗号分隔，5 到 10 个为宜；用于自动分类建议。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = _category_choices(levels=(1, 2), blank=_("（无，新建一级类别）"))
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"


class CategoryEditForm(forms.Form):
    name = CategoryCreateForm.base_fields["name"]
    sla_class = CategoryCreateForm.base_fields["sla_class"]
    default_org_kind = CategoryCreateForm.base_fields["default_org_kind"]
    keywords = CategoryCreateForm.base_fields["keywords"]

    def __init__(self, *args, category: Category, **kwargs):
        super().__init__(*args, **kwargs)
        if category.level < services.MAX_LEVEL:
            del self.fields["sla_class"]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view(EDIT)
def category_create(request):
    initial = {}
    parent_code = request.GET.get("parent", "")
    if parent_code:
        parent = Category.objects.filter(code=parent_code, level__lt=services.MAX_LEVEL).first()
        if parent is not None:
            taken = set(Category.objects.filter(parent=parent).values_list("code", flat=True))
            free = next((f"{parent.code}{n:02d}" for n in range(1, 100) if f"{parent.code}{n:02d}" not in taken), "")
            initial = {"parent": parent.code, "code": free}
    form = CategoryCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parent = Category.objects.filter(code=data["parent"]).first() if data["parent"] else None
        try:
            category = services.category_create(
                actor=request.user, code=data["code"], name=data["name"], parent=parent,
                sla_class=data["sla_class"], default_org_kind=data["default_org_kind"], keywords=data["keywords"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已新增类别 %(code)s %(name)s。") % {"code": category.code, "name": category.name})
            return redirect(f"{_catalogue_url()}?q={category.code}")
    status = 400 if request.method == "POST" else 200
    return render(request, "dispatch/catalogue/category_form.html", {"form": form, "category": None}, status=status)


def _catalogue_url() -> str:
    from django.urls import reverse

    return reverse("dispatch:catalogue")


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view(EDIT)
def category_edit(request, code: str):
    category = get_object_or_404(Category.objects.select_related("parent"), code=code)
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    if action in ("deactivate", "activate"):
        try:
            if action == "deactivate":
                count = services.category_deactivate(actor=request.user, category=category)
                messages.success(request, _("已停用“%(name)s”及其下级类别，共 %(n)d 项。已受理的诉求保留原类别。")
                                 % {"name": category.name, "n": count})
            else:
                count = services.category_activate(actor=request.user, category=category)
                messages.success(request, _("已启用“%(name)s”及其下级类别，共 %(n)d 项。")
                                 % {"name": category.name, "n": count})
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("dispatch:category_edit", code=category.code)
    initial = {"name": category.name, "sla_class": category.sla_class,
               "default_org_kind": category.default_org_kind, "keywords": category.keywords}
    form = CategoryEditForm(request.POST or None, initial=initial, category=category)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.category_update(
                actor=request.user, category=category, name=data["name"],
                sla_class=data.get("sla_class", services.UNSET), default_org_kind=data["default_org_kind"],
                keywords=data["keywords"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存类别 %(code)s %(name)s。") % {"code": category.code, "name": category.name})
            return redirect(f"{_catalogue_url()}?q={category.code}")
    status = 400 if request.method == "POST" else 200
    ancestors = Category.objects.filter(code__in=[code[:n] for n in range(2, len(code), 2)]).order_by("code")
    return render(request, "dispatch/catalogue/category_form.html", {
        "form": form, "category": category, "ancestors": ancestors,
        "children_count": Category.objects.filter(code__startswith=code).exclude(pk=category.pk).count(),
    }, status=status)


# --- Routing rules ---------------------------------------------------------------------------


def _visible_rules(user):
    """The rules that apply in the user's area (inside it or on the areas above it), and for a
    department the rules that route to it."""
    scope = scope_for_user(user)
    prefixes = scope.prefixes(AREA_ROLES)
    cond = Q(pk__in=[])
    ancestors: set[str] = set()
    for prefix in prefixes:
        cond |= Q(area__code__startswith=prefix)
        ancestors.update(prefix[:n] for n in (2, 4, 6, 9, 12) if n < len(prefix))
    if ancestors:
        cond |= Q(area__code__in=ancestors)
    if scope.organisation_ids:
        cond |= Q(organisation_id__in=scope.organisation_ids)
    # The scoped manager only reaches rules *inside* the grants; the rules above them apply
    # too, so the condition is built from the user's own scope here, explicitly.
    return RoutingRule.objects.unscoped().filter(cond)


def _area_choices(user, blank) -> list[tuple[str, str]]:
    """Areas the user may set rules on, down to communities (grids inherit)."""
    levels = [AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY]
    areas = Area.objects.filter(level__in=levels, is_active=True).order_by("code").only("code", "name", "level")
    depth = {level: i for i, level in enumerate(levels)}
    rows = list(areas)
    top = min((depth[a.level] for a in rows), default=0)
    return [("", blank)] + [(a.code, INDENT * (depth[a.level] - top) + _("%(name)s（%(detail)s）") % {"name": a.name, "detail": a.code}) for a in rows]


def _organisation_choices(blank) -> list:
    kinds = [OrgKind.DEPARTMENT, OrgKind.WORKING_COMMITTEE, OrgKind.PARTY_COMMITTEE, OrgKind.RESIDENT_UNIT,
             OrgKind.SOCIAL_ORG]
    groups: dict[str, list] = {}
    for org in (Organisation.objects.filter(kind__in=kinds, is_active=True).select_related("area")
                .order_by("kind", "area__code", "name")):
        groups.setdefault(OrgKind(org.kind).label, []).append((str(org.pk), _("%(name)s（%(detail)s）") % {"name": org.name, "detail": org.area.name}))
    return [("", blank), *groups.items()]


class RoutingRuleForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("类别"),
                                 error_messages={"required": gettext_lazy("请选择类别。"),
                                                 "invalid_choice": gettext_lazy("请选择在用的类别。")})
    area = forms.ChoiceField(label=gettext_lazy("区域"),
                             error_messages={"required": gettext_lazy("请选择区域。"),
                                             "invalid_choice": gettext_lazy("请选择您管辖范围内的区域。")})
    organisation = forms.ChoiceField(label=gettext_lazy("承办单位"),
                                     error_messages={"required": gettext_lazy("请选择承办单位。"),
                                                     "invalid_choice": gettext_lazy("请选择您管辖范围内的单位。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices(blank=_("请选择类别"))
        self.fields["area"].choices = _area_choices(user, _("请选择区域"))
        self.fields["organisation"].choices = _organisation_choices(_("请选择承办单位"))
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"


class RuleFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("类别或单位"), required=False, max_length=SEARCH_MAX_LENGTH)
    area = forms.RegexField(label=gettext_lazy("区域代码"), required=False, regex=r"^[0-9]{2,15}$",
                            error_messages={"invalid": gettext_lazy("区域代码只能由 2 到 15 位数字组成。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class RouteProbeForm(forms.Form):
    probe_category = forms.ChoiceField(label=gettext_lazy("类别"), required=False)
    probe_area = forms.ChoiceField(label=gettext_lazy("发生地"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["probe_category"].choices = _category_choices(levels=(3,), blank=_("请选择三级类别"))
        self.fields["probe_area"].choices = _area_choices(user, _("请选择区域"))
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view(VIEW)
def routing_rules(request):
    """Rules that apply in the reader's area; district administrators add (POST) and delete them."""
    can_edit = _can_edit(request.user)
    add_form = None
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("只有区级管理员可以设置派单规则。"))
        add_form = RoutingRuleForm(request.POST, user=request.user)
        if add_form.is_valid():
            data = add_form.cleaned_data
            category = get_object_or_404(Category, code=data["category"])
            area = get_object_or_404(Area.objects, code=data["area"])
            organisation = get_object_or_404(Organisation.objects, pk=data["organisation"])
            try:
                rule = services.routing_rule_set(actor=request.user, category=category, area=area,
                                                 organisation=organisation)
            except ValidationError as exc:
                _apply_errors(add_form, exc)
            else:
                messages.success(request, _("已设置：%(area)s的“%(category)s”类诉求派给%(org)s。")
                                 % {"area": area.name, "category": category.name, "org": organisation.name})
                return redirect(f"{request.path}?area={rule.area.code}")
        status = 400
    elif can_edit:
        add_form = RoutingRuleForm(user=request.user)

    filters = RuleFilterForm(request.GET or None)
    rules = _visible_rules(request.user).select_related("category", "area", "organisation")
    if filters.is_bound and filters.is_valid():
        q = filters.cleaned_data.get("q", "").strip()
        if q:
            rules = rules.filter(Q(category__name__icontains=q) | Q(category__code__startswith=q)
                                 | Q(organisation__name__icontains=q))
        code = filters.cleaned_data.get("area", "")
        if code:
            rules = rules.filter(area__code__startswith=code)
    paginator = Paginator(rules.order_by("area__code", "category__code", "pk"), RULES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))

    probe = RouteProbeForm(request.GET if "probe_category" in request.GET else None, user=request.user)
    probe_result = None
    if probe.is_bound and probe.is_valid() and probe.cleaned_data["probe_category"] and probe.cleaned_data["probe_area"]:
        category = Category.objects.filter(code=probe.cleaned_data["probe_category"]).first()
        area = Area.objects.filter(code=probe.cleaned_data["probe_area"]).first()
        if category is not None and area is not None:
            probe_result = {"category": category, "area": area,
                            "rule": routing.rule_for(category=category, area=area)}
    return render(request, "dispatch/catalogue/routing_rules.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "filters": filters, "add_form": add_form, "can_edit": can_edit,
        "probe": probe, "probe_result": probe_result,
    }, status=status)


@require_POST
@staff_view(EDIT)
def routing_rule_delete(request, pk: int):
    rule = get_object_or_404(RoutingRule.objects.select_related("category", "area", "organisation"), pk=pk)
    label = _("%(area)s的“%(category)s”→ %(org)s") % {"area": rule.area.name, "category": rule.category.name,
                                                     "org": rule.organisation.name}
    try:
        services.routing_rule_delete(actor=request.user, rule=rule)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已删除派单规则：%(rule)s。此后这类诉求按上一级规则派单，没有规则时由街道人工派单。")
                         % {"rule": label})
    return redirect("dispatch:routing_rules")


# --- Deadline calculator ------------------------------------------------------------------


class DeadlineForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("诉求类型"), choices=RequestKind.choices,
                             error_messages={"invalid_choice": gettext_lazy("请选择诉求类型。"),
                                             "required": gettext_lazy("请选择诉求类型。")})
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL,
                                error_messages={"invalid_choice": gettext_lazy("请选择紧急程度。"),
                                                "required": gettext_lazy("请选择紧急程度。")})
    category = forms.ChoiceField(label=gettext_lazy("类别（可选）"), required=False,
                                 error_messages={"invalid_choice": gettext_lazy("请选择在用的三级类别。")})
    sla_class = forms.ChoiceField(label=gettext_lazy("或时限类别（可选）"), required=False,
                                  choices=[("", gettext_lazy("（按类别，或不限）")), *SlaClass.choices],
                                  error_messages={"invalid_choice": gettext_lazy("请选择时限类别。")})
    received_at = forms.DateTimeField(
        label=gettext_lazy("受理时间"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": gettext_lazy("请填写有效的受理时间，例如 2026-09-30 17:00。"),
                        "required": gettext_lazy("请填写受理时间。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices(levels=(3,), blank=_("（不选）"))
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if not dt.datetime(1990, 1, 1, tzinfo=value.tzinfo) <= value <= dt.datetime(2199, 1, 1, tzinfo=value.tzinfo):
            raise ValidationError(_("受理时间应在 1990 年到 2198 年之间。"))
        return value


def _user_city(user):
    """The city-level area above the user's first grant node, for that city's policy (or None)."""
    prefixes = scope_for_user(user).prefixes(AREA_ROLES) or tuple(
        code for codes in scope_for_user(user).prefixes_by_role.values() for code in codes)
    if not prefixes:
        return None
    # The city is an ancestor of the user's own grant node: reading it is not another area's data.
    return Area.objects.unscoped().filter(code=prefixes[0][:4], level=AreaLevel.CITY).values_list(
        "pk", flat=True).first()


@never_cache
@require_GET
@staff_view(VIEW)
def deadline_calculator(request):
    """Contact and resolve deadlines for a kind, urgency and category or SLA class, with the rest
    days the working-day clock skipped and the adjusted working days (调休) it counted."""
    bound = "kind" in request.GET
    form = DeadlineForm(request.GET if bound else None,
                        initial={"urgency": Urgency.NORMAL,
                                 "received_at": timezone.localtime().replace(second=0, microsecond=0)})
    result = None
    if bound and form.is_valid():
        data = form.cleaned_data
        category = None
        sla_class = data["sla_class"] or None
        if data["category"]:
            category = Category.objects.filter(code=data["category"]).first()
            if category is None:
                raise Http404
            sla_class = sla_class or category.sla_class or None
        plan = sla.plan_deadlines(kind=data["kind"], urgency=data["urgency"], sla_class=sla_class,
                                  received_at=data["received_at"], city=_user_city(request.user))
        end = max(plan.deadlines.resolve.at, plan.kind_resolve.at if plan.kind_resolve else plan.deadlines.resolve.at)
        notes = sla.calendar_notes(data["received_at"], end)
        result = {
            "plan": plan, "category": category, "received_at": data["received_at"],
            "sla_class_label": SlaClass(plan.sla_class).label if plan.sla_class else "",
            "kind_label": RequestKind(data["kind"]).label,
            "skipped": [n for n in notes if not n.workday],
            "adjusted": [n for n in notes if n.workday],
        }
    return render(request, "dispatch/catalogue/deadline.html", {"form": form, "result": result},
                  status=400 if bound and not form.is_valid() else 200)
