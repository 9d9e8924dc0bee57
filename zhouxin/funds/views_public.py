"""The public side of the disclosures (三务公开) on the portal, under /portal/disclosures/: no sign-in,
mobile first, published items only (every Disclosure row is published: nothing is ever a draft).

* a community's disclosures, grouped 年度 / 季度 / 即时, items in their notice period marked;
* one disclosure: its content as tables, its fingerprint (内容指纹, SHA-256 of the canonical
  JSON) and place in the community's chain, the server's own check of both, the canonical JSON
  to download (content.json: exactly the hashed bytes, so `sha256sum content.json` prints the
  fingerprint), a button that hashes that file in the browser (disclosure-verify.js), and a form
  where a resident types the fingerprint printed on the paper notice board;
* the community page's "三务公开" section (core.public_sections) and the pages the integrity
  monitor watches (core.public_pages).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.portal.session import current_account

from . import disclosures
from .choices import DisclosureKind, DisclosureTopic
from .models import Disclosure

SECTION_LATEST = 5
FINGERPRINT_MAX = 200
CONTENT_TEMPLATES = {
    DisclosureTopic.FUNDS: "funds/public/content/_funds.html",
    DisclosureTopic.SPENDING: "funds/public/content/_spending.html",
    DisclosureTopic.DECISION: "funds/public/content/_decision.html",
    DisclosureTopic.RESULT: "funds/public/content/_result.html",
}
KIND_ORDER = [DisclosureKind.YEARLY, DisclosureKind.QUARTERLY, DisclosureKind.IMMEDIATE]


def public_items():
    """Every published item of an active community, with whether a later item corrects it."""
    corrected = Disclosure.objects.unscoped().filter(supersedes=OuterRef("pk"))
    return (Disclosure.objects.unscoped().filter(community__is_active=True, community__level=AreaLevel.COMMUNITY)
            .annotate(corrected=Exists(corrected)))


def _community(code: str):
    if not str(code).isdigit() or len(code) > 15:
        return None
    return (Area.objects.unscoped().filter(code=code, level=AreaLevel.COMMUNITY, is_active=True)
            .select_related("parent").first())


def _not_found(request):
    return render(request, "portal/404.html", {"account": current_account(request)}, status=404)


def content_template(topic: str) -> str:
    """The template that shows a topic's content as tables."""
    return CONTENT_TEMPLATES.get(topic, "funds/public/content/_raw.html")


def in_notice(disclosure, today=None) -> bool:
    today = today or timezone.localdate()
    return disclosure.notice_until is not None and disclosure.notice_until >= today


# --- A community's disclosures ------------------------------------------------------------------

@require_GET
def community(request, code: str):
    area = _community(code)
    if area is None:
        return _not_found(request)
    today = timezone.localdate()
    rows = (public_items().filter(community=area).defer("content", "prev_link", "link_hash")
            .order_by("-published_at", "-seq"))
    years = sorted(set(Disclosure.objects.unscoped().filter(community=area).values_list("year", flat=True)),
                   reverse=True)
    year = request.GET.get("year", "")
    if year.isdigit() and int(year) in years:
        rows = rows.filter(year=int(year))
        year = int(year)
    else:
        year = None
    items = list(rows)
    for item in items:
        item.in_notice = in_notice(item, today)
    labels = dict(DisclosureKind.choices)
    groups = [{"kind": kind, "label": labels[kind], "items": [i for i in items if i.kind == kind]} for kind in KIND_ORDER]
    return render(request, "funds/public/community.html", {
        "community": area, "street": area.parent, "groups": groups, "years": years, "year": year,
        "noticing": [i for i in items if i.in_notice], "total": len(items),
        "account": current_account(request),
    })


# --- One disclosure -----------------------------------------------------------------------------

def _item(pk: int):
    return public_items().select_related("community__parent").filter(pk=pk).first()


def _page(request, disclosure, *, check=None, typed: str = "", status: int = 200):
    area = disclosure.community
    successor = (Disclosure.objects.unscoped().filter(supersedes=disclosure).order_by("seq")
                 .only("pk", "title", "published_at").first())
    chain_length = Disclosure.objects.unscoped().filter(community=area).count()
    disclosure.in_notice = in_notice(disclosure)
    return render(request, "funds/public/disclosure.html", {
        "disclosure": disclosure, "content": disclosure.content if isinstance(disclosure.content, dict) else {},
        "content_template": content_template(disclosure.topic), "community": area, "street": area.parent,
        "verification": disclosures.verify(disclosure), "successor": successor,
        "predecessor": disclosure.supersedes, "chain_length": chain_length,
        "size": len(disclosures.canonical_bytes(disclosure.content)),
        "check": check, "typed": typed, "account": current_account(request),
    }, status=status)


@require_GET
def disclosure_page(request, pk: int):
    disclosure = _item(pk)
    if disclosure is None:
        return _not_found(request)
    return _page(request, disclosure)


@require_GET
def disclosure_content(request, pk: int):
    """The item's content as canonical JSON: exactly the bytes its fingerprint was computed from."""
    disclosure = _item(pk)
    if disclosure is None:
        return _not_found(request)
    response = HttpResponse(disclosures.canonical_bytes(disclosure.content),
                            content_type="application/json; charset=utf-8")
    # One name for every item, so the page's "sha256sum content.json" works as written.
    response["Content-Disposition"] = 'attachment; filename="content.json"'
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def disclosure_check(request, pk: int):
    """A fingerprint typed in from the paper notice board, checked against this item."""
    disclosure = _item(pk)
    if disclosure is None:
        return _not_found(request)
    typed = (request.GET.get("fingerprint") or "")[:FINGERPRINT_MAX]
    if not typed.strip():
        check = {"valid": False, "typed": "", "message": _("请输入公告栏上印的内容指纹。")}
    else:
        check = disclosures.check_fingerprint(disclosure, typed)
    return _page(request, disclosure, check=check, typed=typed)


# --- Registries ---------------------------------------------------------------------------------

def community_section(area) -> dict | None:
    """The community page's 三务公开 section (core.public_sections): the latest items, those in
    their notice period marked, and a link to all of them; nothing when there is none."""
    if area.level != AreaLevel.COMMUNITY:
        return None
    items = list(public_items().filter(community=area).defer("content", "prev_link", "link_hash")
                 .order_by("-published_at", "-seq")[:SECTION_LATEST])
    if not items:
        return None
    today = timezone.localdate()
    for item in items:
        item.in_notice = in_notice(item, today)
    return {"items": items, "list_url": reverse("funds_public:community", args=[area.code])}


def published_pages() -> dict[str, str]:
    """The public disclosure pages, for the integrity monitor (core.public_pages): each community's
    list and every item."""
    pages: dict[str, str] = {}
    communities = (Area.objects.unscoped().filter(level=AreaLevel.COMMUNITY, is_active=True,
                                                  pk__in=Disclosure.objects.unscoped().values("community_id"))
                   .order_by("code").values_list("code", "name"))
    for code, name in communities:
        pages[reverse("funds_public:community", args=[code])] = _("%(community)s三务公开") % {"community": name}
    for pk, title in public_items().order_by("community__code", "seq").values_list("pk", "title"):
        pages[reverse("funds_public:disclosure", args=[pk])] = title
    return pages
