"""Staff pages of volunteer activities: the list (upcoming first, by day), the form, the page
with its roster and totals, the check-in code page for the organiser's phone, and the roster
actions (add a member, confirm check-in/out, mark no-show).

Activities are fetched through activities.activities_for(user), so one the user may not see
is 404; the rules live in activities.py and checkin.py.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can
from zhouxin.orgs.models import Area, Organisation

from . import activities, checkin, hours
from .choices import ActivityCategory, ActivityStatus, SignUpStatus
from .models import SignUp

PER_PAGE = 30
UPCOMING_SHOWN = 100
DATETIME = {"type": "datetime-local"}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_field(label, required=True, **extra):
    return forms.DateTimeField(label=label, required=required,
                               widget=forms.DateTimeInput(attrs=DATETIME, format=DATETIME_FORMAT), **extra)


class ActivityForm(forms.Form):
    community = forms.ModelChoiceField(label=gettext_lazy("所属社区"), queryset=Area.objects.unscoped().none(),
                                       error_messages={"required": gettext_lazy("请选择社区。"),
                                                       "invalid_choice": gettext_lazy("请选择您负责的社区。")})
    title = forms.CharField(label=gettext_lazy("活动名称"), max_length=activities.TITLE_MAX,
                            error_messages={"required": gettext_lazy("请填写活动名称。")})
    category = forms.ChoiceField(label=gettext_lazy("服务类别"), choices=ActivityCategory.choices,
                                 error_messages={"required": gettext_lazy("请选择服务类别。")})
    place = forms.CharField(label=gettext_lazy("活动地点"), max_length=activities.PLACE_MAX,
                            error_messages={"required": gettext_lazy("请填写活动地点。")})
    starts_at = _datetime_field(gettext_lazy("开始时间"), error_messages={"required": gettext_lazy("请填写开始时间。"),
                                                                      "invalid": gettext_lazy("时间格式不正确。")})
    ends_at = _datetime_field(gettext_lazy("结束时间"), error_messages={"required": gettext_lazy("请填写结束时间。"),
                                                                    "invalid": gettext_lazy("时间格式不正确。")})
    slots = forms.IntegerField(label=gettext_lazy("招募人数"), min_value=1, max_value=activities.SLOTS_MAX,
                               error_messages={"required": gettext_lazy("请填写招募人数。"),
                                               "min_value": gettext_lazy("招募人数必须大于 0。"),
                                               "max_value": gettext_lazy("招募人数过多。"),
                                               "invalid": gettext_lazy("请填写整数。")})
    signup_closes_at = _datetime_field(gettext_lazy("报名截止"), required=False,
                                       help_text=gettext_lazy("不填则报名到活动开始为止。"),
                                       error_messages={"invalid": gettext_lazy("时间格式不正确。")})
    members_only = forms.BooleanField(label=gettext_lazy("仅限已报到的在职党员报名"), required=False)
    description = forms.CharField(label=gettext_lazy("活动内容"), required=False, max_length=activities.TEXT_MAX,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    unit = forms.ModelChoiceField(label=gettext_lazy("联合开展单位"), required=False,
                                  queryset=Organisation.objects.unscoped().none(),
                                  error_messages={"invalid_choice": gettext_lazy("请选择已报到的单位。")})
    project = forms.ModelChoiceField(label=gettext_lazy("关联共建项目"), required=False, queryset=None,
                                     error_messages={"invalid_choice": gettext_lazy("请选择本社区的共建项目。")})

    def __init__(self, *args, user, activity=None, **kwargs):
        super().__init__(*args, **kwargs)
        from zhouxin.cobuild.models import Project

        communities = activities.manageable_communities(user)
        self.fields["community"].queryset = communities
        if activity is not None:
            del self.fields["community"]
            codes = [activity.community.code]
        else:
            codes = list(communities.values_list("code", flat=True))
        area_q = Q(pk__in=[])
        for code in codes:
            area_q |= Q(code=code) | Q(code=code[:9])
        areas = Area.objects.unscoped().filter(area_q)
        community_areas = Area.objects.unscoped().filter(code__in=codes)
        units = Q(area__code__in=codes)
        from .models import UnitRegistration

        units |= Q(pk__in=UnitRegistration.objects.unscoped().filter(community__in=community_areas)
                   .values("unit_id"))
        self.fields["unit"].queryset = Organisation.objects.unscoped().filter(units).order_by("name")
        self.fields["project"].queryset = Project.objects.unscoped().filter(area__in=areas).order_by("-id")
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            else:
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=activities.REASON_MAX,
                             error_messages={"required": gettext_lazy("请填写取消原因，会以短信告知已报名的志愿者。"),
                                             "max_length": gettext_lazy("取消原因不能超过 200 个字。")})


class TimeForm(forms.Form):
    at = forms.DateTimeField(required=False, error_messages={"invalid": gettext_lazy("时间格式不正确。")})


class MemberForm(forms.Form):
    person = forms.IntegerField(error_messages={"required": gettext_lazy("请选择党员。"),
                                                "invalid": gettext_lazy("请选择党员。")})


def _activity(user, pk: int):
    return get_object_or_404(activities.activities_for(user).select_related("community", "unit", "project",
                                                                              "organiser"), pk=pk)


def _managed(user, pk: int):
    activity = _activity(user, pk)
    if not activities.can_manage(user, activity):
        raise PermissionDenied
    return activity


def _signup(activity, signup_pk: int):
    return get_object_or_404(SignUp.objects.unscoped().select_related("person", "account"), pk=signup_pk,
                             activity=activity)


# --- List, form, page --------------------------------------------------------------------

@staff_view("volunteers.view")
@require_GET
def activity_list(request):
    now = timezone.now()
    visible = activities.with_places(activities.activities_for(request.user).select_related("community"))
    communities = Area.objects.unscoped().filter(pk__in=visible.values("community_id")).order_by("code")
    community = request.GET.get("community", "")
    if community:
        visible = visible.filter(community__code=community)
    status = request.GET.get("status", "")
    if status in ActivityStatus.values:
        visible = visible.filter(status=status)
    upcoming = list(visible.filter(ends_at__gte=now).order_by("starts_at", "id")[:UPCOMING_SHOWN])
    for item in upcoming:
        item.day = timezone.localdate(item.starts_at)
    paginator = Paginator(visible.filter(ends_at__lt=now).order_by("-starts_at", "-id"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "volunteers/activities/list.html", {
        "upcoming": upcoming, "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "communities": communities, "community": community, "status": status, "statuses": ActivityStatus.choices,
        "can_create": can(request.user, "volunteers.manage")})


def _form_page(request, form, activity=None, status=200):
    return render(request, "volunteers/activities/form.html", {"form": form, "activity": activity}, status=status)


@staff_view("volunteers.manage")
@require_http_methods(["GET", "POST"])
def activity_create(request):
    form = ActivityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            activity = activities.activity_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("community", str(exc))
        else:
            messages.success(request, _("活动已保存为草稿；确认无误后请发布，居民即可在网上报名。"))
            return redirect("volunteers:activity_detail", pk=activity.pk)
    return _form_page(request, form, status=422 if request.method == "POST" else 200)


EDIT_FIELDS = ("title", "category", "place", "starts_at", "ends_at", "slots", "signup_closes_at", "members_only",
               "description", "unit", "project")


@staff_view("volunteers.manage")
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk: int):
    activity = _managed(request.user, pk)
    initial = {f: getattr(activity, f) for f in EDIT_FIELDS}
    for f in ("starts_at", "ends_at", "signup_closes_at"):
        if initial[f]:
            initial[f] = timezone.localtime(initial[f])
    form = ActivityForm(request.POST or None, user=request.user, activity=activity, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            activities.activity_update(actor=request.user, activity=activity, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("活动已修改。"))
            return redirect("volunteers:activity_detail", pk=activity.pk)
    return _form_page(request, form, activity, status=422 if request.method == "POST" else 200)


def _roster(activity):
    rows = list(SignUp.objects.unscoped().filter(activity=activity).select_related("person", "account", "verified_by")
                .order_by("created_at", "id"))
    for row in rows:
        # Members by name (their service reaches their work unit); residents masked.
        if row.person_id:
            row.display_name = row.person.name
            row.is_member = True
        else:
            row.display_name = _("居民 %(phone)s") % {"phone": row.account.phone_masked if row.account_id else ""}
            row.is_member = False
    return rows


@staff_view("volunteers.view")
@require_GET
def activity_detail(request, pk: int):
    activity = _activity(request.user, pk)
    roster = _roster(activity)
    manage = activities.can_manage(request.user, activity)
    counts = dict.fromkeys(SignUpStatus.values, 0)
    for row in roster:
        counts[row.status] += 1
    verified = SignUp.objects.unscoped().filter(activity=activity, status=SignUpStatus.COMPLETED).aggregate(
        m=Sum("minutes"))["m"] or 0
    taken = counts[SignUpStatus.SIGNED_UP] + counts[SignUpStatus.CHECKED_IN] + counts[SignUpStatus.COMPLETED]
    now = timezone.now()
    running = activity.status in (ActivityStatus.PUBLISHED, ActivityStatus.FINISHED)
    return render(request, "volunteers/activities/detail.html", {
        "activity": activity, "roster": roster, "can_manage": manage, "counts": counts, "taken": taken,
        "verified_hours": hours.to_hours(verified),
        "members": list(activities.member_choices(activity).exclude(
            pk__in=[r.person_id for r in roster if r.person_id and r.status != SignUpStatus.CANCELLED])[:500])
        if manage and activity.status == ActivityStatus.PUBLISHED and activity.ends_at > now else [],
        "can_edit": manage and activity.status in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED)
        and activity.starts_at > now,
        "can_publish": manage and activity.status == ActivityStatus.DRAFT,
        "can_cancel": manage and activity.status in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED)
        and activity.ends_at > now,
        "can_finish": manage and activity.status == ActivityStatus.PUBLISHED and activity.ends_at <= now,
        "can_check": manage and running,
        "can_code": manage and activity.status == ActivityStatus.PUBLISHED,
        "can_no_show": manage and activity.status == ActivityStatus.PUBLISHED and activity.starts_at <= now,
        "cancel_form": CancelForm()})


# --- Activity actions --------------------------------------------------------------------

def _act(request, pk, call, success):
    activity = _managed(request.user, pk)
    try:
        call(activity)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, success)
    return redirect("volunteers:activity_detail", pk=activity.pk)


@staff_view("volunteers.manage")
@require_POST
def activity_publish(request, pk: int):
    return _act(request, pk, lambda a: activities.activity_publish(actor=request.user, activity=a),
                _("活动已发布，居民可以在居民服务网站报名。"))


@staff_view("volunteers.manage")
@require_POST
def activity_cancel(request, pk: int):
    activity = _managed(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("volunteers:activity_detail", pk=activity.pk)
    return _act(request, pk, lambda a: activities.activity_cancel(actor=request.user, activity=a,
                                                                  reason=form.cleaned_data["reason"]),
                _("活动已取消，已报名的志愿者会收到短信通知。"))


@staff_view("volunteers.manage")
@require_POST
def activity_finish(request, pk: int):
    return _act(request, pk, lambda a: activities.activity_finish(actor=request.user, activity=a),
                _("活动已办结，未签到的报名已标记为未到场。"))


@staff_view("volunteers.manage")
@require_POST
def activity_rotate_key(request, pk: int):
    activity = _managed(request.user, pk)
    try:
        activities.activity_rotate_qr_key(actor=request.user, activity=activity)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("签到码已更换，之前显示或转发的签到码全部失效。"))
    action = request.POST.get("action")
    if action in checkin.ACTIONS:
        return redirect(f"{reverse('volunteers:activity_code', args=[activity.pk])}?action={action}")
    return redirect("volunteers:activity_detail", pk=activity.pk)


# --- The check-in code on the organiser's phone ------------------------------------------

def _code(request, activity, action: str) -> dict:
    token = checkin.code_token(activity, action)
    url = request.build_absolute_uri(reverse("volunteers_public:check", args=[token]))
    seconds = checkin.valid_seconds(activity)
    return {"action": action, "url": url, "svg": checkin.code_svg(url), "valid_seconds": seconds,
            "refresh_seconds": max(10, seconds // 3)}


def _code_activity(request, pk):
    activity = _managed(request.user, pk)
    action = request.GET.get("action", checkin.IN)
    return activity, (action if action in checkin.ACTIONS else checkin.IN)


@staff_view("volunteers.manage")
@require_GET
def activity_code(request, pk: int):
    activity, action = _code_activity(request, pk)
    code = _code(request, activity, action) if activity.status == ActivityStatus.PUBLISHED else None
    response = render(request, "volunteers/activities/code.html", {
        "activity": activity, "code": code, "action": action,
        "json_url": f"{reverse('volunteers:activity_code_json', args=[activity.pk])}?action={action}"})
    add_never_cache_headers(response)
    return response


@staff_view("volunteers.manage")
@require_GET
def activity_code_json(request, pk: int):
    activity, action = _code_activity(request, pk)
    if activity.status != ActivityStatus.PUBLISHED:
        return JsonResponse({"error": _("活动不在进行中，无法显示签到码。")}, status=409)
    response = JsonResponse(_code(request, activity, action))
    add_never_cache_headers(response)
    return response


# --- Roster ------------------------------------------------------------------------------

@staff_view("volunteers.manage")
@require_POST
def signup_add(request, pk: int):
    from zhouxin.orgs.models import Person

    activity = _managed(request.user, pk)
    form = MemberForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("volunteers:activity_detail", pk=activity.pk)
    person = Person.objects.unscoped().filter(pk=form.cleaned_data["person"]).first()
    try:
        entry = activities.signup_add_member(actor=request.user, activity=activity, person=person)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已为 %(name)s 报名。") % {"name": entry.person.name})
    return redirect("volunteers:activity_detail", pk=activity.pk)


def _roster_action(request, pk, signup_pk, call, success):
    activity = _managed(request.user, pk)
    signup = _signup(activity, signup_pk)
    form = TimeForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
    else:
        try:
            call(signup, form.cleaned_data.get("at"))
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, success)
    return redirect(f"{reverse('volunteers:activity_detail', args=[activity.pk])}#zx-roster")


@staff_view("volunteers.manage")
@require_POST
def signup_check_in(request, pk: int, signup_pk: int):
    return _roster_action(request, pk, signup_pk,
                          lambda s, at: checkin.confirm_check_in(actor=request.user, signup=s, at=at),
                          _("已确认签到。"))


@staff_view("volunteers.manage")
@require_POST
def signup_check_out(request, pk: int, signup_pk: int):
    return _roster_action(request, pk, signup_pk,
                          lambda s, at: checkin.confirm_check_out(actor=request.user, signup=s, at=at),
                          _("已确认签退，服务时长已核定。"))


@staff_view("volunteers.manage")
@require_POST
def signup_no_show(request, pk: int, signup_pk: int):
    return _roster_action(request, pk, signup_pk,
                          lambda s, at: checkin.mark_no_show(actor=request.user, signup=s),
                          _("已标记为未到场。"))
