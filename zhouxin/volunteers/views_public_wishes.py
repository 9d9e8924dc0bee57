"""Portal pages of micro-wishes (phone first), under /portal/volunteer/wishes/.

* the wall (心愿墙): posted wishes waiting to be taken — title, whom it is for as the community
  wrote it, value, community; never who ordered it;
* a wish's page: the wall's facts and its progress; "我来认领" for a signed-in account, "放弃认领"
  for its taker, "感谢与评价" for the resident who ordered it once it is completed.  A wish that
  is not yet posted (or was rejected or withdrawn) is its orderer's alone: 404 for anyone else;
* the order form (居民点单) and "my wishes" (as orderer and as taker), for a signed-in resident.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core import ratelimit
from zhouxin.core.actions import errors_into_form
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.portal.session import current_account

from . import wishes
from .choices import WishStatus
from .models import Wish

PER_PAGE = 20
ORDER_LIMIT = (5, 3600)  # wishes ordered per account per hour
ACTION_LIMIT = (30, 600)  # takes, give-backs and thanks per account per ten minutes


def _communities():
    return (Area.objects.unscoped().filter(level=AreaLevel.COMMUNITY, is_active=True)
            .select_related("parent").order_by("code"))


class CommunityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}" if obj.parent_id else obj.name


class OrderForm(forms.Form):
    community = CommunityChoice(label=gettext_lazy("所在社区"), queryset=Area.objects.unscoped().none(),
                                to_field_name="code", empty_label=gettext_lazy("请选择社区"),
                                error_messages={"required": gettext_lazy("请选择心愿所在的社区。"),
                                                "invalid_choice": gettext_lazy("请选择心愿所在的社区。")})
    title = forms.CharField(label=gettext_lazy("我的心愿"), max_length=wishes.TITLE_MAX,
                            help_text=gettext_lazy("如“一台收音机”“有人陪我去医院复查”。"),
                            error_messages={"required": gettext_lazy("请填写心愿内容。")})
    beneficiary = forms.CharField(label=gettext_lazy("心愿人"), max_length=wishes.BENEFICIARY_MAX,
                                  help_text=gettext_lazy("会公开显示，只写身份，如“独居老人”“困难家庭儿童”，不要写姓名。"),
                                  error_messages={"required": gettext_lazy("请填写心愿人。")})
    value = forms.DecimalField(label=gettext_lazy("大约价值（元）"), max_digits=8, decimal_places=2,
                               widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                               error_messages={"required": gettext_lazy("请填写心愿价值。"),
                                               "invalid": gettext_lazy("请填写心愿价值（元），如 80 或 99.5。")})
    description = forms.CharField(label=gettext_lazy("补充说明（选填）"), required=False,
                                  max_length=wishes.DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=gettext_lazy("社区审核后公开，请勿填写电话、门牌号等个人信息。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities()
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-select" if name == "community" else "form-control")
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"


class ThanksForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=gettext_lazy("评分"), coerce=int, widget=forms.RadioSelect, choices=[(n, n) for n in range(5, 0, -1)],
        error_messages={"required": gettext_lazy("请选择评分。"), "invalid_choice": gettext_lazy("请选择 1 到 5 星。")})
    thanks = forms.CharField(label=gettext_lazy("感谢留言（选填）"), required=False, max_length=wishes.THANKS_MAX,
                             widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
                             help_text=gettext_lazy("最多 300 字，经审核后公开显示；请勿填写姓名、电话。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stars"].choices = [(n, _("%(n)d 星") % {"n": n}) for n in range(5, 0, -1)]
        self.fields["thanks"].widget.attrs["aria-describedby"] = "id_thanks_help"


def _signin(next_url: str):
    return redirect(f"{reverse('portal:signin')}?{urlencode({'next': next_url})}")


def _private(response):
    patch_cache_control(response, private=True, no_store=True)
    return response


def _not_found(request):
    return render(request, "portal/404.html", {"account": current_account(request)}, status=404)


def _limited(request, account, bucket: str, limit: tuple[int, int]):
    hits, window = limit
    try:
        ratelimit.enforce(bucket, str(account.pk), limit=hits, window_seconds=window)
    except ratelimit.RateLimited as exc:
        response = render(request, "portal/429.html", {"account": account,
                                                       "message": _("操作过于频繁，请稍后再试。")}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


def _findable(account, number: str) -> Wish | None:
    """The wish with this number if the visitor may see it: public statuses for anyone, the
    others for the resident who ordered it."""
    wish = Wish.objects.unscoped().select_related("community__parent", "taken_by_unit").filter(number=number).first()
    if wish is None:
        return None
    if wish.status in wishes.PUBLIC_STATUSES or (account is not None and wish.ordered_by_id == account.pk):
        return wish
    return None


# --- Pages --------------------------------------------------------------------------------------

@require_GET
def wall(request):
    account = current_account(request)
    rows = wishes.public_wishes().filter(status=WishStatus.POSTED).select_related("community__parent") \
        .only("number", "title", "beneficiary", "value", "posted_at", "community__name", "community__code",
              "community__parent__name").order_by("-posted_at", "-id")
    community = None
    code = request.GET.get("community", "")
    if code.isdigit():
        community = _communities().filter(code=code).first()
        if community is not None:
            rows = rows.filter(community=community)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    response = render(request, "volunteers/wishes/public/wall.html", {
        "account": account, "page": page, "community": community})
    return _private(response) if account is not None else response


@require_GET
def wish_page(request, number: str):
    account = current_account(request)
    wish = _findable(account, number)
    if wish is None:
        return _not_found(request)
    return _page(request, account, wish)


def _page(request, account, wish: Wish, *, thanks_form=None, status: int = 200):
    mine = account is not None and wish.ordered_by_id == account.pk
    taker = account is not None and wish.taken_by_account_id == account.pk
    if thanks_form is None and mine and wish.status == WishStatus.COMPLETED:
        thanks_form = ThanksForm()
    response = render(request, "volunteers/wishes/public/wish.html", {
        "account": account, "wish": wish, "mine": mine, "taker": taker, "thanks_form": thanks_form,
        "held": mine and wish.status == WishStatus.ORDERED and wishes.is_held(wish),
        "steps": _steps(wish),
        "signin_url": f"{reverse('portal:signin')}?{urlencode({'next': request.path})}",
    }, status=status)
    return _private(response) if account is not None else response


def _steps(wish: Wish) -> list[dict]:
    """The status timeline of a wish, in the resident's words."""
    steps = [{"label": _("居民点单") if wish.ordered_by_id else _("社区登记"), "at": wish.ordered_at}]
    if wish.status == WishStatus.REJECTED:
        return [*steps, {"label": _("未通过审核"), "at": None, "note": wish.decision_note, "done": True}]
    if wish.status == WishStatus.WITHDRAWN:
        return [*steps, {"label": _("已撤回"), "at": None, "done": True}]
    steps.append({"label": _("社区下单"), "at": wish.posted_at})
    steps.append({"label": _("党员接单"), "at": wish.taken_at})
    steps.append({"label": _("完成"), "at": wish.completed_at})
    steps.append({"label": _("感谢与评价"), "at": wish.thanked_at})
    return steps


@require_http_methods(["GET", "POST"])
def order(request):
    account = current_account(request)
    if account is None:
        return _signin(reverse("volunteers_public:wish_order"))
    initial = {}
    code = request.GET.get("community", "")
    if code.isdigit():
        initial["community"] = code
    form = OrderForm(request.POST or None, initial=initial)
    if request.method == "POST":
        limited = _limited(request, account, "volunteers.wish.order", ORDER_LIMIT)
        if limited is not None:
            return limited
        if form.is_valid():
            try:
                wish = wishes.wish_order(account=account, **form.cleaned_data)
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("心愿已提交（编号 %(number)s），社区审核下单后会短信通知您。")
                                 % {"number": wish.number})
                return redirect("volunteers_public:wish", number=wish.number)
    return _private(render(request, "volunteers/wishes/public/order.html", {"account": account, "form": form},
                           status=422 if request.method == "POST" else 200))


@require_GET
def mine(request):
    account = current_account(request)
    if account is None:
        return _signin(reverse("volunteers_public:wishes_mine"))
    related = ("community",)
    ordered = list(Wish.objects.unscoped().filter(ordered_by=account).select_related(*related)
                   .order_by("-ordered_at", "-id")[:100])
    taken = list(Wish.objects.unscoped().filter(taken_by_account=account).select_related(*related)
                 .order_by("-taken_at", "-id")[:100])
    for wish in ordered + taken:
        wish.steps = _steps(wish)
    return _private(render(request, "volunteers/wishes/public/mine.html", {
        "account": account, "ordered": ordered, "taken": taken}))


# --- Actions ------------------------------------------------------------------------------------

def _acting(request, number: str, action, success: str):
    account = current_account(request)
    wish_url = reverse("volunteers_public:wish", args=[number])
    if account is None:
        return _signin(wish_url)
    wish = _findable(account, number)
    if wish is None:
        return _not_found(request)
    limited = _limited(request, account, "volunteers.wish.action", ACTION_LIMIT)
    if limited is not None:
        return limited
    try:
        action(account, wish)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect(wish_url)


@require_POST
def take(request, number: str):
    return _acting(request, number, lambda account, wish: wishes.wish_take(account=account, wish=wish),
                   _("认领成功！请按心愿说明准备，社区会与您联系并确认完成。"))


@require_POST
def give_back(request, number: str):
    return _acting(request, number, lambda account, wish: wishes.wish_give_back(account=account, wish=wish),
                   _("已放弃认领，心愿重新回到心愿墙。"))


@require_POST
def withdraw(request, number: str):
    return _acting(request, number, lambda account, wish: wishes.wish_withdraw(account=account, wish=wish),
                   _("心愿已撤回。"))


@require_POST
def thank(request, number: str):
    account = current_account(request)
    if account is None:
        return _signin(reverse("volunteers_public:wish", args=[number]))
    wish = _findable(account, number)
    if wish is None or wish.ordered_by_id != account.pk:
        return _not_found(request)
    limited = _limited(request, account, "volunteers.wish.action", ACTION_LIMIT)
    if limited is not None:
        return limited
    form = ThanksForm(request.POST)
    if form.is_valid():
        try:
            wishes.wish_thank(account=account, wish=wish, stars=form.cleaned_data["stars"],
                              thanks=form.cleaned_data["thanks"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("感谢您的评价！"))
            return redirect("volunteers_public:wish", number=number)
    return _page(request, account, wish, thanks_form=form, status=422)
