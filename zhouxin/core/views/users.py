"""Users and grants (系统管理员), and login lockouts (安全管理员).

The three administrators see accounts and grants, never business data: these
pages show usernames, names and the tree nodes of grants, nothing from people
records.  Choosing a node or an organisation for a grant reads the tree
unscoped on purpose, limited to the administrator's own area, because 三员
reach no business data through the scoped managers.
"""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Max, Prefetch, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.orgs.models import Area, Organisation

from .. import services
from ..choices import Role
from ..decorators import staff_view
from ..forms_users import GrantForm, UserCreateForm
from ..models import Grant, User

PAGE_SIZE = 25
ORGANISATION_CHOICES_LIMIT = 300


@staff_view("core.user.manage")
def user_list(request):
    query = request.GET.get("q", "").strip()[:100]
    users = User.objects.order_by("username").prefetch_related(
        Prefetch("grants", queryset=Grant.objects.select_related("area", "organisation").order_by("role", "id"))
    )
    if query:
        users = users.filter(Q(username__icontains=query) | Q(full_name__icontains=query))
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/users/list.html", {"page": page, "query": query})


@staff_view("core.user.manage")
def user_detail(request, pk: int):
    account = get_object_or_404(User, pk=pk)
    grants = account.grants.select_related("area", "organisation", "granted_by").order_by("role", "area__code")
    return render(request, "core/users/detail.html", {
        "account": account, "grants": grants,
        "can_grant": account.pk != request.user.pk,
    })


@staff_view("core.user.manage")
@require_http_methods(["GET", "POST"])
def user_create(request):
    form = UserCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.user_create(actor=request.user, username=form.cleaned_data["username"],
                                           full_name=form.cleaned_data["full_name"],
                                           password=form.cleaned_data["password1"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("账号 %(name)s 已创建，请为其授予角色。") % {"name": account.username})
            return redirect("core:user_detail", pk=account.pk)
    return render(request, "core/users/create.html", {"form": form})


@staff_view("core.user.manage")
@require_POST
def user_deactivate(request, pk: int):
    account = get_object_or_404(User, pk=pk)
    try:
        services.user_deactivate(actor=request.user, user=account)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("账号 %(name)s 已停用，其所有登录会话均已结束。") % {"name": account.username})
    return redirect("core:user_detail", pk=account.pk)


@staff_view("core.user.manage")
@require_POST
def user_reactivate(request, pk: int):
    account = get_object_or_404(User, pk=pk)
    services.user_reactivate(actor=request.user, user=account)
    messages.success(request, _("账号 %(name)s 已重新启用。") % {"name": account.username})
    return redirect("core:user_detail", pk=account.pk)


def _admin_area_codes(user) -> list[str]:
    return list(Grant.objects.filter(user=user, role=Role.SYSTEM_ADMIN, active=True)
                .values_list("area__code", flat=True))


def _area_for(code: str, admin_codes: list[str]):
    if not code or not any(code.startswith(c) for c in admin_codes):
        return None
    return Area.objects.unscoped().filter(code=code).first()


def _organisations_on(area) -> list:
    if area is None:
        return []
    return list(Organisation.objects.unscoped().filter(area=area, is_active=True)
                .order_by("name")[:ORGANISATION_CHOICES_LIMIT])


@staff_view("core.grant.manage")
@require_http_methods(["GET", "POST"])
def grant_add(request, pk: int):
    account = get_object_or_404(User, pk=pk)
    admin_codes = _admin_area_codes(request.user)
    source = request.POST if request.method == "POST" else request.GET
    area = _area_for(source.get("area_code", "").strip(), admin_codes)
    organisations = _organisations_on(area)
    if request.htmx and request.method == "GET":
        # The organisation choices follow the area code typed in the form.
        form = GrantForm(initial={"area_code": source.get("area_code", "")}, organisations=organisations)
        return render(request, "core/users/_organisation_field.html", {"form": form, "area": area})
    form = GrantForm(request.POST if request.method == "POST" else None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        organisation = next((o for o in organisations if o.pk == form.cleaned_data["organisation"]), None)
        if area is None:
            form.add_error("area_code", _("找不到区划代码为 %(code)s 的区域，或它不在您管理的范围内。") % {
                "code": form.cleaned_data["area_code"]})
        else:
            try:
                services.grant_add(actor=request.user, user=account, role=form.cleaned_data["role"], area=area,
                                   organisation=organisation)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("已授予 %(name)s 角色：%(role)s（%(area)s）。") % {
                    "name": account.display_name, "role": Role(form.cleaned_data["role"]).label,
                    "area": area.name})
                return redirect("core:user_detail", pk=account.pk)
    return render(request, "core/users/grant_add.html", {"form": form, "account": account, "area": area})


@staff_view("core.grant.manage")
@require_POST
def grant_revoke(request, pk: int):
    grant = get_object_or_404(Grant.objects.select_related("user", "area"), pk=pk)
    try:
        services.grant_revoke(actor=request.user, grant=grant)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("已撤销 %(name)s 的角色：%(role)s（%(area)s）。") % {
            "name": grant.user.display_name, "role": grant.get_role_display(), "area": grant.area.name})
    return redirect("core:user_detail", pk=grant.user_id)


@staff_view("core.security.manage")
def lockout_list(request):
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = (AccessAttempt.objects.filter(attempt_time__gte=since).values("username")
            .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
            .order_by("-last_attempt")[:200])
    limit = settings.AXES_FAILURE_LIMIT
    attempts = [{**row, "locked": row["failures"] >= limit, "until": row["last_attempt"] + settings.AXES_COOLOFF_TIME}
                for row in rows]
    return render(request, "core/users/lockouts.html", {"attempts": attempts, "limit": limit})


@staff_view("core.security.manage")
@require_POST
def lockout_clear(request):
    username = request.POST.get("username", "").strip()[:150]
    if not username:
        messages.error(request, _("请指定要解锁的用户名。"))
    else:
        count = services.lockout_clear(actor=request.user, username=username)
        if count:
            messages.success(request, _("已解除 %(name)s 的登录锁定。") % {"name": username})
        else:
            messages.info(request, _("%(name)s 没有登录失败记录。") % {"name": username})
    return redirect("core:lockout_list")
