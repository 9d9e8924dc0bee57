"""The public side of co-building projects.

Public (portal, urls_public.py, under /portal/projects/ so the withheld-page middleware and the
integrity monitor cover them): a published project's page with its units, milestones,
figures, average rating and the comments that are visible — never a resident's name or phone —
and, for a signed-in resident, the rating form.

Staff (urls.py): publish and withdraw a project; the project page's "public" panel.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core import ratelimit
from zhouxin.core.decorators import staff_view
from zhouxin.orgs.choices import AreaLevel
from zhouxin.portal.session import current_account

from . import ratings, selectors, services
from .models import Milestone, Rating, ServiceRecord

COMMENTS_SHOWN = 30
PANEL_COMMENTS = 5
RATE_LIMIT = (20, 600)  # ratings per resident per ten minutes


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=gettext_lazy("评分"), coerce=int, widget=forms.RadioSelect,
        choices=[(n, n) for n in range(5, 0, -1)],
        error_messages={"required": gettext_lazy("请选择评分。"), "invalid_choice": gettext_lazy("请选择 1 到 5 星。")})
    comment = forms.CharField(
        label=gettext_lazy("评价内容（选填）"), required=False, max_length=ratings.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("最多 300 字。请勿填写姓名、电话等个人信息；评价内容经审核后公开。"),
        error_messages={"max_length": gettext_lazy("评价不能超过 300 个字。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stars"].choices = [(n, _("%(n)d 星") % {"n": n}) for n in range(5, 0, -1)]
        self.fields["comment"].widget.attrs["aria-describedby"] = "id_comment_help"


# --- Public pages --------------------------------------------------------------------------

def _public_project(pk: int):
    return ratings.public_projects().select_related("area__parent").filter(pk=pk).first()


def _not_found(request):
    return render(request, "portal/404.html", {"account": current_account(request)}, status=404)


def _signin_url(project) -> str:
    return f"{reverse('portal:signin')}?{urlencode({'next': reverse('cobuild_public:project', args=[project.pk])})}"


def _page(request, project, form=None, status: int = 200):
    from zhouxin.orgs.models import Organisation

    account = current_account(request)
    figures = ServiceRecord.objects.filter(project=project).aggregate(
        beneficiaries=Sum("beneficiaries"), hours=Sum("volunteer_hours"))
    mine = Rating.objects.filter(project=project, account=account).first() if account else None
    if form is None and account is not None:
        form = RatingForm(initial={"stars": mine.stars, "comment": mine.comment} if mine else None)
    area = project.area
    community = area if area.level == AreaLevel.COMMUNITY else None
    street = area.parent if community is not None else area
    response = render(request, "cobuild/public/project.html", {
        "project": project, "community": community, "street": street, "account": account,
        "units": list(Organisation.objects.unscoped().filter(cobuild_projects=project).order_by("name")
                      .values_list("name", flat=True)),
        "milestones": list(Milestone.objects.filter(project=project).order_by("due_on", "id")),
        "beneficiaries": figures["beneficiaries"] or 0, "hours": figures["hours"] or 0,
        "comments": list(Rating.objects.filter(project=project, comment_visible=True).exclude(comment="")
                         .order_by("-updated_at", "-id").only("stars", "comment", "updated_at")[:COMMENTS_SHOWN]),
        "mine": mine, "form": form, "signin_url": _signin_url(project),
    }, status=status)
    if account is not None:  # the page holds this resident's own rating: never in a shared cache
        patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def project_page(request, pk: int):
    project = _public_project(pk)
    if project is None:
        return _not_found(request)
    return _page(request, project)


@require_POST
def project_rate(request, pk: int):
    project = _public_project(pk)
    if project is None:
        return _not_found(request)
    account = current_account(request)
    if account is None:
        return redirect(_signin_url(project))
    hits, window = RATE_LIMIT
    try:
        ratelimit.enforce("cobuild.rate.account", str(account.pk), limit=hits, window_seconds=window)
    except ratelimit.RateLimited as exc:
        response = render(request, "portal/429.html", {"account": account,
                                                       "message": _("评价过于频繁，请稍后再试。")}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            ratings.rate(account=account, project=project, stars=form.cleaned_data["stars"],
                         comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return redirect(f"{reverse('cobuild_public:project', args=[project.pk])}#zx-my-rating")
    return _page(request, project, form=form, status=422)


# --- Staff: publish, withdraw, and the project page's panel --------------------------------

def public_panel(user, project) -> dict:
    """The context of the project page's "public" panel (cobuild/project/_public.html)."""
    latest = list(Rating.objects.filter(project=project).exclude(comment="").order_by("-updated_at", "-id")
                  .only("stars", "comment", "comment_visible", "updated_at")[:PANEL_COMMENTS])
    return {"public": {
        "can_manage": services.staff_can(user, "cobuild.confirm", project.area.code),
        "publishable": project.status in ratings.PUBLIC_STATUSES,
        "is_public": ratings.is_public(project),
        "url": reverse("cobuild_public:project", args=[project.pk]),
        "comments": latest,
    }}


def _staff_project(user, pk: int):
    return get_object_or_404(selectors.projects_for(user).select_related("area"), pk=pk)


def _report(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@staff_view("cobuild.confirm")
@require_POST
def project_publish(request, pk: int):
    project = _staff_project(request.user, pk)
    try:
        ratings.project_publish(actor=request.user, project=project)
    except ValidationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("项目已在居民服务网站公开，居民可以查看并评价。"))
    return redirect("cobuild:project_detail", pk=project.pk)


@staff_view("cobuild.confirm")
@require_POST
def project_unpublish(request, pk: int):
    project = _staff_project(request.user, pk)
    try:
        ratings.project_unpublish(actor=request.user, project=project, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("项目已撤回公开，公开页面不再显示。"))
    return redirect("cobuild:project_detail", pk=project.pk)
