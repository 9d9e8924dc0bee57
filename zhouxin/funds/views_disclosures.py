"""Staff pages of the disclosures (三务公开): the list of the items of one's area, an item's page
with the server's check of its fingerprint and chain, and the forms that publish a community's
yearly and quarterly items after a preview of exactly what will be published.

Items are read through the scoped manager (another street's item is 404); publishing needs
"funds.disclose" (community staff, street hub) on the community: a community outside the
caller's reach is 404, a role without the permission 403.  Decision and result items are
published by the plan workflow (plans.py), not here.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from zhouxin.core.actions import errors_into_form
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import disclosures
from .choices import DisclosureKind, DisclosureTopic
from .models import Disclosure
from .views_public import content_template, in_notice

PER_PAGE = 30


def _communities(user, permission: str):
    """Active communities where `user` holds `permission` through an area role, by code."""
    prefixes = scope_for_user(user).prefixes(AREA_ROLES & roles_for(permission))
    if not prefixes:
        return Area.objects.unscoped().none()
    return Area.objects.unscoped().filter(reduce(or_, (Q(code__startswith=p) for p in prefixes)),
                                          level=AreaLevel.COMMUNITY, is_active=True).order_by("code")


def disclosable_communities(user):
    return _communities(user, "funds.disclose")


class PublishForm(forms.Form):
    community = forms.ChoiceField(label=gettext_lazy("社区"))
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=disclosures.FIRST_YEAR)
    quarter = forms.TypedChoiceField(label=gettext_lazy("季度"), coerce=int,
                                     choices=[(1, gettext_lazy("第一季度")), (2, gettext_lazy("第二季度")),
                                              (3, gettext_lazy("第三季度")), (4, gettext_lazy("第四季度"))])
    reason = forms.CharField(
        label=gettext_lazy("更正原因"), required=False, max_length=disclosures.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("本期已经公开过、需要更正时填写，会随更正内容一并公开。请勿填写姓名、电话。"))

    def __init__(self, *args, user, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.communities = {a.code: a for a in disclosable_communities(user).select_related("parent")}
        self.fields["community"].choices = [(code, f"{a.parent.name if a.parent else ''} {a.name}".strip())
                                            for code, a in self.communities.items()]
        if kind != DisclosureKind.QUARTERLY:
            del self.fields["quarter"]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-select" if name in ("community", "quarter") else "form-control")

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > timezone.localdate().year + 1:
            raise ValidationError(_("年度应在 %(first)s 年到明年之间。") % {"first": disclosures.FIRST_YEAR})
        return year

    def draft(self) -> disclosures.Draft:
        data = self.cleaned_data
        community = self.communities[data["community"]]
        if self.kind == DisclosureKind.QUARTERLY:
            return disclosures.quarterly_draft(community, data["year"], data["quarter"])
        return disclosures.yearly_draft(community, data["year"])


def _form(request, kind: str, data=None) -> PublishForm:
    """The publish form; a community code outside the caller's reach is not found (404)."""
    if data is not None:
        code = data.get("community", "")
        if code and code not in {a.code for a in disclosable_communities(request.user)}:
            raise Http404
        return PublishForm(data, user=request.user, kind=kind)
    today = timezone.localdate()
    quarter = (today.month - 1) // 3  # the last quarter that is over
    initial = {"year": today.year if quarter else today.year - 1, "quarter": quarter or 4}
    if kind == DisclosureKind.YEARLY:
        initial["year"] = today.year
    communities = list(disclosable_communities(request.user)[:2])
    if len(communities) == 1:
        initial["community"] = communities[0].code
    return PublishForm(user=request.user, kind=kind, initial=initial)


def _kind_label(kind: str) -> str:
    return _("发布年度公开") if kind == DisclosureKind.YEARLY else _("发布季度公开")


# --- Reads ------------------------------------------------------------------------------------

@staff_view("funds.view")
@require_GET
def disclosure_list(request):
    corrected = Disclosure.objects.unscoped().filter(supersedes=OuterRef("pk"))
    rows = (Disclosure.objects.all().select_related("community", "plan").defer("content")
            .annotate(corrected=Exists(corrected)).order_by("-published_at", "-id"))
    communities = list(_communities(request.user, "funds.view"))
    filters = {"community": request.GET.get("community", ""), "kind": request.GET.get("kind", ""),
               "topic": request.GET.get("topic", ""), "year": request.GET.get("year", "")}
    if filters["community"]:
        rows = rows.filter(community__code=filters["community"])
    if filters["kind"] in DisclosureKind.values:
        rows = rows.filter(kind=filters["kind"])
    if filters["topic"] in DisclosureTopic.values:
        rows = rows.filter(topic=filters["topic"])
    if filters["year"].isdigit():
        rows = rows.filter(year=int(filters["year"]))
    paginator = Paginator(rows, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    today = timezone.localdate()
    for item in page.object_list:
        item.in_notice = in_notice(item, today)
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "funds/disclosures/list.html", {
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "filters": filters, "query": query, "communities": communities, "kinds": DisclosureKind.choices,
        "topics": DisclosureTopic.choices, "can_publish": disclosable_communities(request.user).exists(),
    })


@staff_view("funds.view")
@require_GET
def disclosure_detail(request, pk: int):
    disclosure = get_object_or_404(Disclosure.objects.all().select_related("community__parent", "plan",
                                                                           "published_by", "supersedes"), pk=pk)
    successor = Disclosure.objects.unscoped().filter(supersedes=disclosure).order_by("seq").first()
    disclosure.in_notice = in_notice(disclosure)
    return render(request, "funds/disclosures/detail.html", {
        "disclosure": disclosure, "content": disclosure.content if isinstance(disclosure.content, dict) else {},
        "content_template": content_template(disclosure.topic), "verification": disclosures.verify(disclosure),
        "successor": successor, "public_url": reverse("funds_public:disclosure", args=[disclosure.pk]),
    })


# --- Publishing -------------------------------------------------------------------------------

@staff_view("funds.disclose")
@require_GET
def disclosure_preview(request):
    """What would be published, exactly (the content, its fingerprint, what it corrects), with the
    button that publishes it.  Nothing is written."""
    kind = request.GET.get("kind", "")
    if kind not in (DisclosureKind.YEARLY, DisclosureKind.QUARTERLY):
        raise Http404
    form = _form(request, kind, request.GET)
    draft = None
    if form.is_valid():
        try:
            draft = form.draft()
        except ValidationError as exc:
            errors_into_form(form, exc)
    if draft is None:
        return render(request, "funds/disclosures/publish_form.html",
                      {"form": form, "kind": kind, "title": _kind_label(kind)}, status=422)
    return render(request, "funds/disclosures/preview.html", {
        "form": form, "kind": kind, "title": _kind_label(kind), "draft": draft, "content": draft.content,
        "content_template": content_template(draft.topic),
        "publish_url": reverse("funds:disclosure_publish_yearly" if kind == DisclosureKind.YEARLY
                               else "funds:disclosure_publish_quarterly"),
    })


def _publish(request, kind: str):
    if request.method == "GET":
        return render(request, "funds/disclosures/publish_form.html",
                      {"form": _form(request, kind), "kind": kind, "title": _kind_label(kind)})
    form = _form(request, kind, request.POST)
    if form.is_valid():
        community = form.communities[form.cleaned_data["community"]]
        if not can(request.user, "funds.disclose", community.code):
            raise Http404
        try:
            draft = form.draft()
            item = disclosures.publish(actor=request.user, draft=draft, reason=form.cleaned_data.get("reason", ""))
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            if item.supersedes_id:
                messages.success(request, _("已发布更正：“%(title)s”，原公开页面会标明已被更正。") % {"title": item.title})
            else:
                messages.success(request, _("已在居民服务网站公开“%(title)s”，内容指纹 %(hash)s。")
                                 % {"title": item.title, "hash": item.content_hash})
            return redirect("funds:disclosure_detail", pk=item.pk)
    return render(request, "funds/disclosures/publish_form.html",
                  {"form": form, "kind": kind, "title": _kind_label(kind)}, status=422)


@staff_view("funds.disclose")
@require_http_methods(["GET", "POST"])
def publish_yearly(request):
    return _publish(request, DisclosureKind.YEARLY)


@staff_view("funds.disclose")
@require_http_methods(["GET", "POST"])
def publish_quarterly(request):
    return _publish(request, DisclosureKind.QUARTERLY)
