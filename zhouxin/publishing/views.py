"""Staff pages of publishing: notices (list, write, submit, approve, return, take down) for
community and street staff, and the integrity page (alerts, withheld pages, file baseline) for
the security admin.

Notices are read through Notice.objects, scoped to the caller's area grants, so another
community's notice is not found (404).  The rules live in services.py; views validate the
form, call the service and show its message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can

from . import integrity, services
from .choices import EDITABLE_STATUSES, CheckResult, NoticeStatus, PageKind
from .forms import NoticeForm, ReasonForm
from .models import FileBaseline, Notice, PublishedPage, SecurityAlert

PER_PAGE = 30


def _notice(pk: int) -> Notice:
    # The active scope (ScopeMiddleware) limits this to the caller's areas: others are 404.
    return get_object_or_404(Notice.objects.select_related("area", "author", "approver"), pk=pk)


# --- Notices ---------------------------------------------------------------------------

@staff_view("publishing.edit")
def notice_list(request):
    notices = Notice.objects.select_related("area", "author").order_by("-updated_at", "-id")
    status = request.GET.get("status", "")
    if status in NoticeStatus.values:
        notices = notices.filter(status=status)
    paginator = Paginator(notices, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "publishing/notices/list.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "status": status, "statuses": NoticeStatus.choices, "can_create": can(request.user, "publishing.edit")})


@staff_view("publishing.edit")
@require_http_methods(["GET", "POST"])
def notice_create(request):
    form = NoticeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            notice = services.notice_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("草稿已保存。确认无误后请提交审核。"))
            return redirect("publishing:notice_detail", pk=notice.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "publishing/notices/form.html", {"form": form, "notice": None}, status=status)


@staff_view("publishing.edit")
@require_http_methods(["GET", "POST"])
def notice_edit(request, pk: int):
    notice = _notice(pk)
    if notice.status not in EDITABLE_STATUSES:
        messages.error(request, _("只有草稿或已撤下的公告可以修改；已提交的公告请先退回。"))
        return redirect("publishing:notice_detail", pk=notice.pk)
    initial = {"area": notice.area, "title": notice.title, "body": notice.body}
    form = NoticeForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.notice_update(actor=request.user, notice=notice, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("公告已保存为草稿。"))
            return redirect("publishing:notice_detail", pk=notice.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "publishing/notices/form.html", {"form": form, "notice": notice}, status=status)


@staff_view("publishing.edit")
def notice_detail(request, pk: int):
    notice = _notice(pk)
    page = PublishedPage.objects.filter(notice=notice).first()
    user = request.user
    code = notice.area.code
    return render(request, "publishing/notices/detail.html", {
        "notice": notice, "page": page,
        "can_edit": notice.status in EDITABLE_STATUSES and can(user, "publishing.edit", code),
        "can_submit": notice.status == NoticeStatus.DRAFT and can(user, "publishing.edit", code),
        "can_approve": (notice.status == NoticeStatus.PENDING and can(user, "publishing.approve", code)
                        and notice.author_id != user.pk),
        "own_pending": notice.status == NoticeStatus.PENDING and notice.author_id == user.pk,
        "can_unpublish": (notice.status in (NoticeStatus.PUBLISHED, NoticeStatus.WITHHELD)
                          and can(user, "publishing.edit", code)),
    })


def _act(request, pk: int, action) -> object:
    notice = _notice(pk)
    try:
        action(notice)
    except ValidationError as exc:
        flash_errors(request, exc)
    except services.NoticeHeld as exc:
        messages.error(request, _("内容筛查未通过，不能发布：%(reason)s") % {"reason": exc.reason})
    return redirect("publishing:notice_detail", pk=notice.pk)


@staff_view("publishing.edit")
@require_POST
def notice_submit(request, pk: int):
    def submit(notice):
        services.notice_submit(actor=request.user, notice=notice)
        messages.success(request, _("已提交审核。"))
    return _act(request, pk, submit)


@staff_view("publishing.approve")
@require_POST
def notice_approve(request, pk: int):
    def approve(notice):
        services.notice_approve(actor=request.user, notice=notice)
        messages.success(request, _("公告已发布。"))
    return _act(request, pk, approve)


@staff_view("publishing.approve")
@require_POST
def notice_return(request, pk: int):
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def send_back(notice):
        if not form.is_valid():
            raise ValidationError(_("退回原因不能超过 300 个字。"))
        services.notice_return(actor=request.user, notice=notice, reason=reason)
        messages.success(request, _("已退回撰稿人修改。"))
    return _act(request, pk, send_back)


@staff_view("publishing.edit")
@require_POST
def notice_unpublish(request, pk: int):
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def take_down(notice):
        services.notice_unpublish(actor=request.user, notice=notice, reason=reason)
        messages.success(request, _("公告已撤下，公开页面不再显示。"))
    return _act(request, pk, take_down)


# --- Integrity (security admin) ---------------------------------------------------------

@staff_view("core.security.manage")
def integrity_overview(request):
    show_all = request.GET.get("all") == "1"
    alerts = SecurityAlert.objects.select_related("page", "acknowledged_by")
    if not show_all:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    pages = (PublishedPage.objects.filter(withheld=True) | PublishedPage.objects.filter(last_result=CheckResult.MISMATCH))
    first = FileBaseline.objects.order_by("recorded_at").first()
    return render(request, "publishing/security/integrity.html", {
        "alerts": alerts[:200], "show_all": show_all, "pages": pages.distinct().order_by("path")[:200],
        "baseline_count": FileBaseline.objects.count(), "baseline_at": first.recorded_at if first else None,
        "watched": PublishedPage.objects.count(),
        "last_checked": PublishedPage.objects.order_by("-last_checked_at").values_list("last_checked_at", flat=True)
        .first(),
    })


@staff_view("core.security.manage")
@require_POST
def alert_acknowledge(request, pk: int):
    alert = get_object_or_404(SecurityAlert, pk=pk)
    try:
        services.alert_acknowledge(actor=request.user, alert=alert, note=request.POST.get("note", "")[:300])
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("告警已确认。"))
    return redirect("publishing:integrity")


@staff_view("core.security.manage")
def page_detail(request, pk: int):
    """What the monitor found, and the page's current article region as source text (never
    rendered here: the reviewer reads what a crawler would get)."""
    page = get_object_or_404(PublishedPage.objects.select_related("notice", "approved_by"), pk=pk)
    current = ""
    if page.kind == PageKind.NOTICE:
        render_now = integrity.render(page.path, integrity.VARIANTS[0])
        regions = integrity.canonical_regions(render_now.html)
        current = integrity.normalise(regions[0]) if regions else ""
    return render(request, "publishing/security/page.html", {"page": page, "current": current})


@staff_view("core.security.manage")
@require_POST
def page_reapprove(request, pk: int):
    page = get_object_or_404(PublishedPage, pk=pk)
    try:
        services.page_reapprove(actor=request.user, page=page, note=request.POST.get("note", "")[:300])
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("publishing:page_detail", pk=page.pk)
    messages.success(request, _("页面已复核通过，恢复公开。"))
    return redirect("publishing:integrity")


@staff_view("core.security.manage")
@require_POST
def baseline_record(request):
    changes = services.baseline_record(actor=request.user)
    messages.success(request, _("已把当前文件记录为基线（与上次相比改动 %(changed)d 个、新增 %(added)d 个、删除 %(removed)d 个）。")
                     % {"changed": len(changes.changed), "added": len(changes.added), "removed": len(changes.removed)})
    return redirect("publishing:integrity")
