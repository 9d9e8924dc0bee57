"""Integration tokens, managed by the system administrator in the browser (系统管理 › 接口令牌).

The list shows the tokens of the accounts in the administrator's area (selectors.py); a new
token's key is shown once, on the page that answers the creation, and never again (only its
digest is stored); revoking asks for confirmation first.  Writes go through services.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from zhouxin.core.decorators import staff_view

from . import selectors, services
from .forms import TokenCreateForm

PAGE_SIZE = 25


@staff_view("api.token.manage")
@require_GET
def token_list(request):
    tokens = selectors.manageable_tokens(request.user)
    page = Paginator(tokens, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "api/tokens.html", {"page": page})


def _user_choices(admin, query: str, posted) -> list:
    users = list(selectors.token_users(admin, query)[:selectors.USER_CHOICES_LIMIT])
    try:
        posted_pk = int(posted)
    except (TypeError, ValueError):
        return users
    if all(u.pk != posted_pk for u in users):
        users.extend(selectors.token_users(admin).filter(pk=posted_pk))
    return users


@never_cache  # the answer to a creation carries the key
@staff_view("api.token.manage")
@require_http_methods(["GET", "POST"])
def token_create(request):
    source = request.POST if request.method == "POST" else request.GET
    query = " ".join(source.get("q", "").split())[:100]
    users = _user_choices(request.user, query, source.get("user"))
    form = TokenCreateForm(request.POST if request.method == "POST" else None, users=users)
    if request.method == "POST" and form.is_valid():
        user = next(u for u in users if u.pk == form.cleaned_data["user"])
        try:
            token, key = services.api_token_create(actor=request.user, user=user, name=form.cleaned_data["name"])
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return render(request, "api/tokens_created.html", {"token": token, "key": key})
    return render(request, "api/tokens_create.html", {
        "form": form, "query": query, "truncated": len(users) >= selectors.USER_CHOICES_LIMIT,
        "no_users": not users,
    }, status=422 if form.errors else 200)


@staff_view("api.token.manage")
@require_http_methods(["GET", "POST"])
def token_revoke(request, pk: int):
    token = get_object_or_404(selectors.manageable_tokens(request.user), pk=pk)
    if token.revoked_at is not None:
        messages.info(request, _("令牌“%(name)s”已于 %(at)s 吊销。") % {
            "name": token.name, "at": timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M")})
        return redirect("api:token_list")
    if request.method == "POST":
        try:
            services.api_token_revoke(actor=request.user, token=token)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("令牌“%(name)s”已吊销，使用它的接入系统将无法再调用接口。") % {
                "name": token.name})
        return redirect("api:token_list")
    return render(request, "api/tokens_revoke.html", {"token": token})
