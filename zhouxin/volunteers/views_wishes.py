"""Staff pages of micro-wishes (微心愿): the community's board (ordered wishes awaiting review
first), a wish's page with posting (社区下单), rejecting and confirming completion, the form to
enter a wish collected on paper, and — for unit liaisons — the posted wishes of the communities
their unit sits in or registered with, to take for the unit.

What the caller may not see is 404 (wishes are fetched through the scoped manager, or for a
liaison the posted wishes of their communities); a role without the permission is 403.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.crypto import mask_phone
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import wishes
from .choices import WishStatus
from .models import Wish

PER_PAGE = 30
ORDER = Case(*(When(status=s, then=Value(n)) for n, s in enumerate(
    (WishStatus.ORDERED, WishStatus.POSTED, WishStatus.TAKEN, WishStatus.COMPLETED, WishStatus.THANKED))),
    default=Value(9), output_field=IntegerField())


def manageable_communities(user):
    """Communities where `user` may post and confirm wishes (volunteers.manage)."""
    prefixes = scope_for_user(user).prefixes(roles_for("volunteers.manage"))
    if not prefixes:
        return Area.objects.unscoped().none()
    query = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return Area.objects.unscoped().filter(query, level=AreaLevel.COMMUNITY, is_active=True).order_by("code")


class WishForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("心愿"), max_length=wishes.TITLE_MAX,
                            help_text=gettext_lazy("如“一台收音机”“陪老人去医院复查”。"))
    beneficiary = forms.CharField(label=gettext_lazy("心愿人"), max_length=wishes.BENEFICIARY_MAX,
                                  help_text=gettext_lazy("公开显示，只写身份，如“独居老人”“困难家庭儿童”，不写姓名、门牌号。"))
    value = forms.DecimalField(label=gettext_lazy("价值（元）"), max_digits=8, decimal_places=2, min_value=0.01)
    description = forms.CharField(label=gettext_lazy("心愿说明"), required=False, max_length=wishes.DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class CreateForm(WishForm):
    community = forms.ModelChoiceField(label=gettext_lazy("社区"), queryset=Area.objects.unscoped().none(),
                                       empty_label=None)

    field_order = ["community", "title", "beneficiary", "value", "description"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = manageable_communities(user)
        self.fields["community"].widget.attrs["class"] = "form-select"


# --- Reads --------------------------------------------------------------------------------------

def _visible(user):
    """The wishes the user's grants reach (area staff: their areas; a liaison: what their unit took)."""
    return Wish.objects.restrict(user)


def _wish(user, pk: int) -> Wish:
    wish = (_visible(user) | wishes.takeable_for_liaison(user)).select_related(
        "community__parent", "ordered_by", "taken_by_person", "taken_by_unit", "posted_by", "confirmed_by"
    ).filter(pk=pk).first()
    if wish is None:
        raise Http404
    return wish


def _is_staff_of(user, wish: Wish) -> bool:
    """Area staff of the wish's community (a liaison's grant reaches units, not the area)."""
    return scope_for_user(user).covers(wish.community.code, roles_for("volunteers.view"))


@staff_view("volunteers.view")
def wish_board(request):
    user = request.user
    rows = _visible(user).select_related("community", "taken_by_person", "taken_by_unit").annotate(rank=ORDER) \
        .order_by("rank", "-ordered_at", "-id")
    status = request.GET.get("status", "")
    if status in WishStatus.values:
        rows = rows.filter(status=status)
    paginator = Paginator(rows, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    units = list(wishes.liaison_units(user))
    takeable = []
    if units:
        takeable = list(wishes.takeable_for_liaison(user).select_related("community").order_by("-posted_at", "-id")
                        [:PER_PAGE])
    return render(request, "volunteers/wishes/board.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "status": status, "statuses": WishStatus.choices, "units": units, "takeable": takeable,
        "can_create": manageable_communities(user).exists(),
    })


@staff_view("volunteers.view")
def wish_detail(request, pk: int):
    wish = _wish(request.user, pk)
    return _detail(request, wish)


def _detail(request, wish: Wish, *, post_form=None, status: int = 200):
    user = request.user
    staff = _is_staff_of(user, wish)
    can_manage = staff and can(user, "volunteers.manage", wish.community.code)
    if post_form is None and can_manage and wish.status == WishStatus.ORDERED:
        post_form = WishForm(initial={"title": wish.title, "beneficiary": wish.beneficiary, "value": wish.value,
                                      "description": wish.description})
    units = list(wishes.liaison_units(user))
    return render(request, "volunteers/wishes/detail.html", {
        "wish": wish, "staff": staff, "can_manage": can_manage, "post_form": post_form,
        "held": wishes.is_held(wish) if wish.status == WishStatus.ORDERED else False,
        "thanks_held": wish.status == WishStatus.THANKED and not wish.thanks_visible,
        # Staff of the area see who took it (a member's name, the phone masked) and who ordered (masked).
        "orderer_phone": mask_phone(wish.ordered_by.phone) if staff and wish.ordered_by_id else "",
        "taker_phone": mask_phone(wish.taken_by_person.phone) if staff and wish.taken_by_person_id else "",
        "units": units, "unit_ids": {u.pk for u in units},
    }, status=status)


# --- Writes -------------------------------------------------------------------------------------

@staff_view("volunteers.manage")
@require_http_methods(["GET", "POST"])
def wish_create(request):
    form = CreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            wish = wishes.wish_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("community", str(exc))
        else:
            messages.success(request, _("心愿 %(number)s 已发布到心愿墙，等待党员认领。") % {"number": wish.number})
            return redirect("volunteers:wish_detail", pk=wish.pk)
    return render(request, "volunteers/wishes/form.html", {"form": form},
                  status=422 if request.method == "POST" else 200)


def _managed(request, pk: int) -> Wish:
    wish = _wish(request.user, pk)
    if not _is_staff_of(request.user, wish) or not can(request.user, "volunteers.manage", wish.community.code):
        raise PermissionDenied
    return wish


@staff_view("volunteers.manage")
@require_POST
def wish_post(request, pk: int):
    wish = _managed(request, pk)
    form = WishForm(request.POST)
    if form.is_valid():
        try:
            wishes.wish_post(actor=request.user, wish=wish, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("心愿已下单，公开在心愿墙上等待认领。"))
            return redirect("volunteers:wish_detail", pk=wish.pk)
    return _detail(request, wish, post_form=form, status=422)


def _act(request, pk: int, action, success: str):
    wish = _managed(request, pk)
    try:
        action(wish)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, success)
    return redirect("volunteers:wish_detail", pk=wish.pk)


@staff_view("volunteers.manage")
@require_POST
def wish_reject(request, pk: int):
    return _act(request, pk, lambda w: wishes.wish_reject(actor=request.user, wish=w,
                                                          reason=request.POST.get("reason", "")),
                _("心愿已退回，居民会收到短信通知。"))


@staff_view("volunteers.manage")
@require_POST
def wish_complete(request, pk: int):
    return _act(request, pk, lambda w: wishes.wish_complete(actor=request.user, wish=w,
                                                            note=request.POST.get("note", "")),
                _("已确认心愿完成。"))


@staff_view("volunteers.unit")
@require_POST
def wish_take(request, pk: int):
    wish = _wish(request.user, pk)
    units = wishes.liaison_units(request.user)
    raw = request.POST.get("unit", "")
    unit = units.filter(pk=int(raw)).first() if raw.isdigit() else (units.first() if units.count() == 1 else None)
    if unit is None:
        messages.error(request, _("请选择以哪个单位认领。"))
        return redirect("volunteers:wish_detail", pk=wish.pk)
    try:
        wishes.wish_take_for_unit(actor=request.user, wish=wish, unit=unit)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已以 %(unit)s 的名义认领这个心愿，请与社区联系完成。") % {"unit": unit.name})
    return redirect("volunteers:wish_detail", pk=wish.pk)


@staff_view("volunteers.unit")
@require_POST
def wish_give_back(request, pk: int):
    wish = _wish(request.user, pk)
    try:
        wishes.wish_give_back(actor=request.user, wish=wish)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已放弃认领，心愿重新回到心愿墙。"))
    return redirect("volunteers:wish_board")
