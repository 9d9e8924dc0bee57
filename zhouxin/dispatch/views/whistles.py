"""Whistle pages (街乡吹哨、部门报到): the board, blowing a whistle, one whistle with its
summonses (report, rate and solve as htmx forms) and the department evaluation.

Whistles are read through Whistle.objects, whose scope is the street for area staff and the
summoned department for department handlers, so another street's whistle, or a whistle that
did not summon my department, is not found (404).  The rules of each action live in
dispatch/whistles.py; these views validate the form, call the service and show its message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core import policy as policy_store
from zhouxin.core.choices import Role
from zhouxin.core.decorators import staff_view
from zhouxin.core.models import Grant
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from .. import whistles
from ..choices import Urgency, WhistleStatus
from ..models import ServiceRequest, Summons, Whistle

SOLVED_PER_PAGE = 20
# A pending summons turns orange this close to its deadline (whistles.js uses the same).
SOON = dt.timedelta(minutes=30)


# --- countdown badges ------------------------------------------------------------------

def _span(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d 分钟") % {"m": minutes}
    return _("不到 1 分钟")


def _decorate(summons: Summons, now: dt.datetime) -> Summons:
    """badge_state: pending, overdue, reported (in time) or late; badge_text says it in words."""
    due = summons.report_due_at
    if summons.reported_at is not None:
        if summons.reported_at > due:
            summons.badge_state = "late"
            summons.badge_text = _("超时报到（晚 %(span)s）") % {"span": _span((summons.reported_at - due).total_seconds())}
        else:
            summons.badge_state = "reported"
            summons.badge_text = _("按时报到")
    elif due <= now:
        summons.badge_state = "overdue"
        summons.badge_text = _("已超时 %(span)s") % {"span": _span((now - due).total_seconds())}
    else:
        summons.badge_state = "soon" if due - now <= SOON else "pending"
        summons.badge_text = _("还剩 %(span)s") % {"span": _span((due - now).total_seconds())}
    return summons


def _countdown_text() -> dict:
    """The words whistles.js needs to keep the badges counting (a JSON data island, no inline JS)."""
    return {
        "left": _("还剩 %(span)s"), "over": _("已超时 %(span)s"),
        "days": _("%(d)d 天 %(h)d 小时"), "hours": _("%(h)d 小时 %(m)d 分钟"), "minutes": _("%(m)d 分钟"),
        "lessThanMinute": _("不到 1 分钟"),
    }


def _summons_prefetch() -> Prefetch:
    return Prefetch("summons", queryset=Summons.objects.select_related("department").order_by("department__name",
                                                                                               "pk"),
                    to_attr="summons_list")


# --- board -------------------------------------------------------------------------

@never_cache
@require_GET
@staff_view("dispatch.whistle.view")
def whistle_board(request):
    """Open whistles of my street (or that summoned my department), each summons with its
    countdown; overdue in red; solved whistles below, newest first."""
    now = timezone.now()
    base = Whistle.objects.select_related("street").prefetch_related(_summons_prefetch())
    open_whistles = list(base.filter(status=WhistleStatus.OPEN).order_by("-opened_at", "-pk"))
    solved = Paginator(base.filter(status=WhistleStatus.SOLVED).order_by("-solved_at", "-pk"), SOLVED_PER_PAGE)
    solved_page = solved.get_page(request.GET.get("page"))
    mine = whistles.reporting_departments(request.user)
    my_pending = []
    for whistle in open_whistles:
        for summons in whistle.summons_list:
            _decorate(summons, now)
            summons.is_mine = summons.department_id in mine
            if summons.is_mine and summons.reported_at is None:
                my_pending.append((whistle, summons))
    for whistle in solved_page.object_list:
        for summons in whistle.summons_list:
            _decorate(summons, now)
            summons.is_mine = summons.department_id in mine
    my_pending.sort(key=lambda pair: pair[1].report_due_at)
    return render(request, "dispatch/whistles/board.html", {
        "open_whistles": open_whistles,
        "solved_page": solved_page,
        "my_pending": my_pending,
        "is_department": bool(mine),
        "can_open": can(request.user, "dispatch.whistle"),
        "countdown_text": _countdown_text(),
    })


# --- blowing a whistle -------------------------------------------------------------

class WhistleForm(forms.Form):
    street = forms.ModelChoiceField(label=gettext_lazy("街道"), queryset=Area.objects.unscoped().none(),
                                    empty_label=None, error_messages={
                                        "required": gettext_lazy("请选择街道。"),
                                        "invalid_choice": gettext_lazy("只能在您负责的街道吹哨。")})
    title = forms.CharField(label=gettext_lazy("问题"), max_length=whistles.TITLE_MAX, error_messages={
        "required": gettext_lazy("请填写问题。"),
        "max_length": gettext_lazy("问题不能超过 %(limit_value)d 个字。")})
    description = forms.CharField(label=gettext_lazy("情况说明"), max_length=whistles.TEXT_MAX,
                                  widget=forms.Textarea(attrs={"rows": 5}), error_messages={
                                      "required": gettext_lazy("请填写情况说明。"),
                                      "max_length": gettext_lazy("情况说明不能超过 %(limit_value)d 个字。")})
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL,
                                widget=forms.RadioSelect,
                                error_messages={"invalid_choice": gettext_lazy("紧急程度只能是“一般”或“紧急”。")})
    departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("召集部门"), queryset=Organisation.objects.unscoped().none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("请至少召集一个职能部门。"),
                        "invalid_choice": gettext_lazy("只能召集本区在用的职能部门。"),
                        "invalid_pk_value": gettext_lazy("只能召集本区在用的职能部门。")})
    request_number = forms.CharField(label=gettext_lazy("关联工单号（可选）"), required=False, max_length=20)

    def __init__(self, *args, streets, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets
        self.fields["departments"].queryset = departments
        self.fields["departments"].label_from_instance = lambda org: _("%(name)s（%(detail)s）") % {"name": org.name, "detail": org.area.name}
        self.request_obj: ServiceRequest | None = None

    def clean_request_number(self):
        number = self.cleaned_data["request_number"].strip()
        if not number:
            return ""
        # The scoped manager: a request outside my grants is "not found", like its page.
        self.request_obj = ServiceRequest.objects.filter(number=number).select_related("street").first()
        if self.request_obj is None:
            raise ValidationError(_("没有找到工单 %(number)s，或它不在您的管辖范围内。") % {"number": number})
        return number


def _whistle_streets(user):
    """Streets the user may blow a whistle in: those its street_hub grants reach."""
    prefixes = scope_for_user(user).prefixes({Role.STREET_HUB})
    if not prefixes:
        return Area.objects.unscoped().none()
    reach = Q()
    for prefix in prefixes:
        reach |= Q(code__startswith=prefix) | Q(code=prefix[:9])
    return Area.objects.unscoped().filter(reach, level=AreaLevel.STREET, is_active=True).order_by("code")


def _departments_for(streets):
    districts = {street.code[:6] for street in streets}
    reach = Q()
    for code in districts:
        reach |= Q(area__code__startswith=code)
    if not districts:
        return Organisation.objects.unscoped().none()
    return (Organisation.objects.unscoped().filter(reach, kind=OrgKind.DEPARTMENT, is_active=True)
            .select_related("area").order_by("name", "pk"))


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view("dispatch.whistle")
def whistle_open(request):
    """The form to blow a whistle; ?request=NUMBER fills it in from a request of my street."""
    streets = _whistle_streets(request.user)
    street_list = list(streets)
    departments = _departments_for(street_list)
    status = 200
    if request.method == "POST":
        form = WhistleForm(request.POST, streets=streets, departments=departments)
        if form.is_valid():
            data = form.cleaned_data
            try:
                whistle = whistles.whistle_open(
                    actor=request.user, street=data["street"], title=data["title"],
                    description=data["description"], departments=list(data["departments"]),
                    urgency=data["urgency"], request=form.request_obj)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("已吹哨（%(number)s），已召集 %(count)d 个部门。")
                                 % {"number": whistle.number, "count": len(data["departments"])})
                return redirect("dispatch:whistle_detail", number=whistle.number)
        status = 422
    else:
        initial = {"urgency": Urgency.NORMAL}
        if len(street_list) == 1:
            initial["street"] = street_list[0].pk
        number = (request.GET.get("request") or "").strip()[:20]
        if number:
            found = ServiceRequest.objects.filter(number=number).first()
            if found is not None and any(s.pk == found.street_id for s in street_list):
                initial.update(street=found.street_id, request_number=found.number, title=found.title,
                               description=found.description[:whistles.TEXT_MAX], urgency=found.urgency)
            else:
                messages.warning(request, _("没有找到工单 %(number)s，或它不在您的街道。") % {"number": number})
        form = WhistleForm(initial=initial, streets=streets, departments=departments)
    return render(request, "dispatch/whistles/open.html", {
        "form": form, "single_street": street_list[0] if len(street_list) == 1 else None,
        "policy_note": _policy_note(),
    }, status=status)


def _policy_note() -> str:
    rule = policy_store.get("dispatch.whistle")
    return _("被召集部门须在时限内报到：紧急 %(minutes)d 分钟，一般 %(hours)d 小时（自然时间）。") % {
        "minutes": rule["urgent_report_minutes"], "hours": rule["normal_report_hours"]}


# --- one whistle and its actions ---------------------------------------------------

class ReportForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("报到情况"), max_length=whistles.TEXT_MAX, error_messages={
        "required": gettext_lazy("请填写报到情况。"),
        "max_length": gettext_lazy("报到情况不能超过 %(limit_value)d 个字。")})


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(label=gettext_lazy("评分"), coerce=int,
                                    choices=[(n, str(n)) for n in range(5, 0, -1)], error_messages={
                                        "required": gettext_lazy("请选择 1 到 5 分。"),
                                        "invalid_choice": gettext_lazy("评价只能是 1 到 5 分。")})
    note = forms.CharField(label=gettext_lazy("评价说明"), required=False, max_length=whistles.RATING_NOTE_MAX,
                           error_messages={"max_length": gettext_lazy("评价说明不能超过 %(limit_value)d 个字。")})


class SolveForm(forms.Form):
    solution = forms.CharField(label=gettext_lazy("解决情况"), max_length=whistles.TEXT_MAX,
                               widget=forms.Textarea(attrs={"rows": 3}), error_messages={
                                   "required": gettext_lazy("请填写解决情况。"),
                                   "max_length": gettext_lazy("解决情况不能超过 %(limit_value)d 个字。")})


@dataclass
class PanelState:
    """What went wrong in one action, to show next to its form (and the values to keep)."""

    errors: dict = field(default_factory=dict)  # summons pk or "solve" → messages
    values: dict = field(default_factory=dict)  # summons pk or "solve" → submitted data


def _whistle_or_404(number: str) -> Whistle:
    return get_object_or_404(Whistle.objects.select_related("street", "district", "request", "opened_by"),
                             number=number)


def _panel_context(request, whistle: Whistle, state: PanelState | None = None) -> dict:
    now = timezone.now()
    summonses = list(whistle.summons.select_related("department", "reported_by", "rated_by")
                     .order_by("department__name", "pk"))
    manages = can(request.user, "dispatch.whistle", whistle.street.code)
    is_open = whistle.status == WhistleStatus.OPEN
    for summons in summonses:
        summons.whistle = whistle
        _decorate(summons, now)
        summons.can_report = is_open and summons.reported_at is None and whistles.can_report(
            request.user, summons, whistle.street.code)
        summons.can_rate = manages and summons.reported_at is not None and summons.rating is None
    state = state or PanelState()
    for summons in summonses:
        summons.errors = state.errors.get(summons.pk, [])
        summons.values = state.values.get(summons.pk, {})
    return {
        "whistle": whistle,
        "summonses": summonses,
        "unreported": [s for s in summonses if s.reported_at is None],
        "can_solve": manages and is_open,
        "solve_errors": state.errors.get("solve", []),
        "solve_values": state.values.get("solve", {}),
        "countdown_text": _countdown_text(),
    }


@never_cache
@require_GET
@staff_view("dispatch.whistle.view")
def whistle_detail(request, number: str):
    whistle = _whistle_or_404(number)
    context = _panel_context(request, whistle)
    # Link the request only for those who may open it (a summoned department may not handle it).
    context["request_visible"] = (whistle.request_id is not None
                                  and ServiceRequest.objects.filter(pk=whistle.request_id).exists())
    return render(request, "dispatch/whistles/detail.html", context)


def _after_action(request, whistle: Whistle, *, done: str | None, state: PanelState, reload: bool = False):
    """htmx: the summons panel again (422 with the message on refusal); otherwise the page.
    `reload`: the whole page changed (the whistle was solved), so htmx loads it again."""
    if request.htmx and done and reload:
        messages.success(request, done)
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("dispatch:whistle_detail", args=[whistle.number])
        return response
    if request.htmx:
        context = _panel_context(request, whistle, state)
        context["done"] = done
        return render(request, "dispatch/whistles/_panel.html", context, status=200 if done else 422)
    if done:
        messages.success(request, done)
        return redirect("dispatch:whistle_detail", number=whistle.number)
    return render(request, "dispatch/whistles/detail.html", _panel_context(request, whistle, state), status=422)


def _form_messages(form) -> list[str]:
    return [message for errors in form.errors.values() for message in errors]


def _summons_of(whistle: Whistle, pk: int) -> Summons:
    summons = get_object_or_404(Summons.objects.select_related("department"), pk=pk, whistle=whistle)
    summons.whistle = whistle
    return summons


@never_cache
@require_POST
@staff_view("dispatch.whistle.report")
def summons_report(request, number: str, pk: int):
    whistle = _whistle_or_404(number)
    summons = _summons_of(whistle, pk)
    form = ReportForm(request.POST)
    state = PanelState(values={summons.pk: {"note": request.POST.get("note", "")}})
    if form.is_valid():
        try:
            whistles.summons_report(actor=request.user, summons=summons, note=form.cleaned_data["note"])
        except ValidationError as exc:
            state.errors[summons.pk] = exc.messages
        else:
            late = whistles.is_late(summons)
            done = (_("%(department)s已报到（超过时限，记为超时报到）。") if late else _("%(department)s已按时报到。")) % {
                "department": summons.department.name}
            return _after_action(request, whistle, done=done, state=PanelState())
    else:
        state.errors[summons.pk] = _form_messages(form)
    return _after_action(request, whistle, done=None, state=state)


@never_cache
@require_POST
@staff_view("dispatch.whistle")
def summons_rate(request, number: str, pk: int):
    whistle = _whistle_or_404(number)
    summons = _summons_of(whistle, pk)
    form = RateForm(request.POST)
    state = PanelState(values={summons.pk: {"rating": request.POST.get("rating", ""),
                                            "rating_note": request.POST.get("note", "")}})
    if form.is_valid():
        try:
            whistles.summons_rate(actor=request.user, summons=summons, rating=form.cleaned_data["rating"],
                                  note=form.cleaned_data["note"])
        except ValidationError as exc:
            state.errors[summons.pk] = exc.messages
        else:
            done = _("已评价%(department)s的响应：%(rating)d 分。") % {
                "department": summons.department.name, "rating": summons.rating}
            return _after_action(request, whistle, done=done, state=PanelState())
    else:
        state.errors[summons.pk] = _form_messages(form)
    return _after_action(request, whistle, done=None, state=state)


@never_cache
@require_POST
@staff_view("dispatch.whistle")
def whistle_solve(request, number: str):
    whistle = _whistle_or_404(number)
    form = SolveForm(request.POST)
    state = PanelState(values={"solve": {"solution": request.POST.get("solution", "")}})
    if form.is_valid():
        try:
            whistles.whistle_solve(actor=request.user, whistle=whistle, solution=form.cleaned_data["solution"])
        except ValidationError as exc:
            state.errors["solve"] = exc.messages
        else:
            return _after_action(request, whistle, done=_("吹哨 %(number)s 已解决。") % {"number": whistle.number},
                                 state=PanelState(), reload=True)
    else:
        state.errors["solve"] = _form_messages(form)
    return _after_action(request, whistle, done=None, state=state)


# --- department evaluation ---------------------------------------------------------

@dataclass(frozen=True)
class ScoreSubject:
    """One table the user may see: a district, one street's whistles, or its own department."""

    key: str
    label: str
    district: Area
    street: Area | None = None
    departments: tuple[int, ...] | None = None


def _score_subjects(user) -> list[ScoreSubject]:
    """The tables the user may open, from its own grants: a district admin's districts, a street
    hub's streets (the whistles it blew), a department handler's own department (district-wide)."""
    scope = scope_for_user(user)
    district_prefixes: set[str] = set()
    street_codes: set[str] = set()
    for role in (Role.DISTRICT_ADMIN, Role.STREET_HUB):
        for prefix in scope.prefixes({role}):
            if len(prefix) <= 6:
                district_prefixes.add(prefix)
            else:
                street_codes.add(prefix[:9])
    own_departments = [
        (grant.organisation, grant.area.code[:6])
        for grant in Grant.objects.filter(user=user, active=True, role=Role.DEPARTMENT_HANDLER,
                                          organisation__isnull=False)
        .select_related("organisation", "area").order_by("organisation__name", "pk")]
    district_codes = {code[:6] for code in street_codes} | {code for _org, code in own_departments}
    reach = Q(level=AreaLevel.STREET, code__in=street_codes) | Q(level=AreaLevel.DISTRICT, code__in=district_codes)
    for prefix in district_prefixes:
        reach |= Q(level=AreaLevel.DISTRICT, code__startswith=prefix)
    # Only the areas the user's own grants name are read.
    areas = {area.code: area for area in Area.objects.unscoped().filter(reach)}
    subjects: dict[str, ScoreSubject] = {}
    for code in sorted(areas):
        area = areas[code]
        if area.level == AreaLevel.DISTRICT and any(code.startswith(p) for p in district_prefixes):
            subjects.setdefault(f"d{code}", ScoreSubject(
                f"d{code}", _("%(name)s全部职能部门") % {"name": area.name}, area))
    for code in sorted(street_codes):
        if code in areas and code[:6] in areas:
            subjects.setdefault(f"s{code}", ScoreSubject(
                f"s{code}", _("%(name)s吹哨") % {"name": areas[code].name}, areas[code[:6]], areas[code]))
    for organisation, code in own_departments:
        if code in areas:
            subjects.setdefault(f"o{organisation.pk}", ScoreSubject(
                f"o{organisation.pk}", organisation.name, areas[code], departments=(organisation.pk,)))
    return list(subjects.values())


def _month(text: str | None) -> tuple[dt.date, str | None]:
    today = timezone.localdate()
    if not text:
        return today.replace(day=1), None
    try:
        value = dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        return today.replace(day=1), _("月份格式不正确（应为 年-月，例如 2026-11），已显示本月。")
    if not 2000 <= value.year <= 2100:
        return today.replace(day=1), _("月份超出范围，已显示本月。")
    return value, None


@never_cache
@require_GET
@staff_view("dispatch.whistle.view")
def department_scores(request):
    """一哨一考核: each department's summonses, punctuality and the streets' ratings for a month."""
    subjects = _score_subjects(request.user)
    if not subjects:
        raise PermissionDenied
    wanted = request.GET.get("subject")
    if wanted:
        subject = next((s for s in subjects if s.key == wanted), None)
        if subject is None:  # another district's or street's table: not found, like its whistles
            raise Http404
    else:
        subject = subjects[0]
    month, month_error = _month(request.GET.get("month"))
    rows = whistles.department_whistle_scores(district=subject.district, month=month, street=subject.street,
                                              departments=subject.departments)
    return render(request, "dispatch/whistles/scores.html", {
        "subjects": subjects, "subject": subject, "month": month, "month_error": month_error, "rows": rows,
    })
