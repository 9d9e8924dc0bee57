"""Staff pages of the ratings part: the star ratings of a district and period (communities or
streets, with rank, peer rank, type and rectification badge), one rating's explanation, the
comparison with peers of the same community type, starting a rating run, and the rectification
flags with their plan and result.

Reads go through the request's scope (Rating.objects.all(), Rectification.objects.all()): a rating
or flag of another street or community is 404; roles without "oversight.view" are 403.  Figures
about the peer group as a whole (how many, average, best) are shown to whoever may read the
rating; peers are named only where the reader's scope reaches them.
"""

from __future__ import annotations

from decimal import Decimal
from functools import reduce
from operator import or_
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, F, Max, Min, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core import indicators, policy
from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.decorators import staff_view
from zhouxin.core.indicators import Period
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel, CommunityType
from zhouxin.orgs.models import Area

from . import ratings
from .choices import FlagReason, FlagStatus
from .forms_ratings import RatingRunForm, RectificationCloseForm, RectificationPlanForm
from .models import Rating, Rectification
from .policy import RATING_KEY

PER_PAGE = 50
LEVELS = ((AreaLevel.COMMUNITY.value, AreaLevel.COMMUNITY.label), (AreaLevel.STREET.value, AreaLevel.STREET.label))


# --- Helpers ----------------------------------------------------------------------------------

def _prefixes(user, permission: str) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for(permission))


def _touches(code: str, prefixes) -> bool:
    """The area is inside one of the prefixes, or holds one of them (a community's own street)."""
    return any(code.startswith(p) or p.startswith(code) for p in prefixes)


def viewable_districts(user) -> list[Area]:
    prefixes = _prefixes(user, "oversight.view")
    if not prefixes:
        return []
    # The districts holding the caller's grants, and those inside a wider (city) grant.
    reach = reduce(or_, [Q(code__startswith=p) for p in prefixes if len(p) < 6],
                   Q(code__in={p[:6] for p in prefixes if len(p) >= 6}))
    return list(Area.objects.unscoped().filter(reach, level=AreaLevel.DISTRICT).order_by("code"))


def runnable_districts(user) -> list[Area]:
    return [d for d in viewable_districts(user) if can(user, "oversight.rating.run", d.code)]


def _period_or_404(key: str) -> Period:
    try:
        return Period.parse(key)
    except ValidationError:
        raise Http404 from None


def star_text(stars: int) -> str:
    return "★" * stars + "☆" * (5 - stars) if stars else ""


def _number(raw) -> Decimal | None:
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except ArithmeticError:
        return None


def _title(component: dict) -> str:
    """The indicator's title in the reader's language (the stored one if it is no longer registered)."""
    name = component.get("name", "")
    return str(indicators.get(name).title) if indicators.exists(name) else component.get("title") or name


def _rule_for(rating: Rating) -> dict:
    return policy.get(RATING_KEY, city=ratings.city_of(rating.district), on=rating.period_end)


def _flag_badges(flags: dict[int, str]) -> dict[int, str]:
    return {pk: str(FlagStatus(status).label) for pk, status in flags.items()}


# --- Ratings ----------------------------------------------------------------------------------

@staff_view("oversight.view")
@require_GET
def rating_list(request):
    user = request.user
    districts = viewable_districts(user)
    district = next((d for d in districts if d.code == request.GET.get("district")), districts[0] if districts else None)
    if district is None:
        return render(request, "oversight/ratings/list.html", {"district": None})
    visible = Rating.objects.all().filter(district=district)
    periods = list(visible.order_by("-period_end", "period").values_list("period", flat=True).distinct()[:36])
    period = None
    raw_period = request.GET.get("period", "").strip()
    if raw_period:
        try:
            period = Period.parse(raw_period)
        except ValidationError as exc:
            flash_errors(request, exc)
    if period is None:
        period = Period.parse(periods[0]) if periods else Period.of(indicators.MONTH, timezone.localdate())

    level = request.GET.get("level", AreaLevel.COMMUNITY)
    if level not in (AreaLevel.COMMUNITY, AreaLevel.STREET):
        level = AreaLevel.COMMUNITY
    prefixes = _prefixes(user, "oversight.view")
    streets = [s for s in Area.objects.unscoped().filter(level=AreaLevel.STREET, code__startswith=district.code)
               .order_by("code") if _touches(s.code, prefixes)]
    street = next((s for s in streets if s.code == request.GET.get("street")), None)
    kind = request.GET.get("type", "")
    types = [*CommunityType.choices, (ratings.UNTYPED, str(ratings.UNTYPED_LABEL))]
    if kind not in {value for value, _label in types}:
        kind = ""

    rows = (visible.filter(period=period.key, area__level=level).select_related("area__parent")
            .order_by(F("rank").asc(nulls_last=True), "area__code"))
    if street is not None:
        rows = rows.filter(area__code__startswith=street.code)
    if kind and level == AreaLevel.COMMUNITY:
        rows = rows.filter(community_type="" if kind == ratings.UNTYPED else kind)
    rows = list(rows)
    flags = _flag_badges(dict(Rectification.objects.all().filter(period=period.key, area_id__in=[r.area_id for r in rows])
                              .values_list("area_id", "status")))
    items = [{"rating": r, "stars": star_text(r.stars), "type": ratings.type_label(r.community_type)
              if r.area.level == AreaLevel.COMMUNITY else "", "flag": flags.get(r.area_id, ""),
              "url": reverse("oversight:rating_detail", kwargs={"code": r.area.code, "period": r.period})}
             for r in rows]
    star_counts = [(n, star_text(n), sum(1 for r in rows if r.stars == n)) for n in (5, 4, 3, 2, 1)]
    runnable = runnable_districts(user)
    run_form = RatingRunForm(districts=runnable, initial={"district": district.code, "period": period.key}) \
        if runnable else None
    return render(request, "oversight/ratings/list.html", {
        "district": district, "districts": districts, "period": period, "periods": periods, "level": level,
        "levels": LEVELS, "streets": streets, "street": street, "types": types, "kind": kind, "items": items,
        "star_counts": star_counts, "unrated": sum(1 for r in rows if r.stars == 0), "flagged": len(flags),
        "run_form": run_form, "to_date": period.end >= timezone.localdate(),
    })


@staff_view("oversight.view")
@require_GET
def rating_detail(request, code: str, period: str):
    key = _period_or_404(period).key
    rating = get_object_or_404(Rating.objects.all().select_related("area__parent", "district", "policy_version"),
                               area__code=code, period=key)
    components = [{**c, "title": _title(c)} for c in rating.components]
    missing = [c for c in components if c.get("missing")]
    group = Rating.objects.unscoped().filter(district=rating.district_id, period=rating.period,
                                             area__level=rating.area.level, community_type=rating.community_type)
    summary = group.exclude(score__isnull=True).aggregate(count=Count("id"), average=Avg("score"), best=Max("score"),
                                                          lowest=Min("score"))
    for name in ("average", "best", "lowest"):  # SQLite gives the aggregates back as floats
        if summary[name] is not None:
            summary[name] = ratings._round(Decimal(str(summary[name])))
    peer_rows = list(Rating.objects.all().filter(pk__in=group.values("pk")).select_related("area")
                     .order_by(F("peer_rank").asc(nulls_last=True), "area__code"))
    flag = Rectification.objects.all().filter(area=rating.area, period=rating.period).first()
    history = list(Rating.objects.all().filter(area=rating.area, period_kind=rating.period_kind)
                   .order_by("-period_end")[:12])
    rule = _rule_for(rating)
    return render(request, "oversight/ratings/detail.html", {
        "rating": rating, "period": Period.parse(rating.period), "stars": star_text(rating.stars),
        "components": components, "missing": missing, "summary": summary,
        "peers": [{"rating": r, "stars": star_text(r.stars), "own": r.pk == rating.pk,
                   "url": reverse("oversight:rating_detail", kwargs={"code": r.area.code, "period": r.period})}
                  for r in peer_rows],
        "type_label": ratings.type_label(rating.community_type), "is_community": rating.area.level == AreaLevel.COMMUNITY,
        "flag": flag, "history": [{"rating": r, "stars": star_text(r.stars), "url": reverse(
            "oversight:rating_detail", kwargs={"code": code, "period": r.period})} for r in history],
        "star_lines": [(5, rule["star_5"]), (4, rule["star_4"]), (3, rule["star_3"]), (2, rule["star_2"])],
        "to_date": rating.period_end >= timezone.localtime(rating.computed_at).date(),
        "peers_url": f"{reverse('oversight:peers', kwargs={'code': code})}?{urlencode({'period': rating.period})}",
    })


def _peer_average(values: list[Decimal]) -> Decimal | None:
    return sum(values) / len(values) if values else None


@staff_view("oversight.view")
@require_GET
def peers(request, code: str):
    area = get_object_or_404(Area.objects.all().select_related("parent"), code=code,
                             level__in=ratings.RATED_LEVELS)
    raw = request.GET.get("period", "").strip()
    own = Rating.objects.all().filter(area=area).select_related("district")
    if raw:
        rating = own.filter(period=_period_or_404(raw).key).first()
    else:
        rating = own.order_by("-period_end", "period_kind").first()
    context = {"area": area, "rating": rating, "type_label": ratings.type_label(area.community_type)}
    if rating is None:
        return render(request, "oversight/ratings/peers.html", context)
    group = list(Rating.objects.unscoped().filter(district=rating.district_id, period=rating.period,
                                                  area__level=area.level, community_type=rating.community_type))
    visible_ids = set(Rating.objects.all().filter(pk__in=[r.pk for r in group]).values_list("pk", flat=True))
    names = [c["name"] for c in rating.components]
    columns = []
    for component in rating.components:
        name, unit = component["name"], component.get("unit", "")
        higher = indicators.get(name).higher_is_better if indicators.exists(name) else True
        values = [v for r in group for c in r.components if c["name"] == name
                  for v in [_number(c.get("value"))] if v is not None]
        best = (max(values) if higher else min(values)) if values else None
        columns.append({"name": name, "title": _title(component), "unit": unit,
                        "average": indicators.format_value(_peer_average(values), unit) if unit else "—",
                        "best": indicators.format_value(best, unit) if unit else "—", "count": len(values)})
    area_names = Area.objects.unscoped().in_bulk([r.area_id for r in group])
    rows = []
    for r in sorted(group, key=lambda r: (r.peer_rank is None, r.peer_rank or 0, area_names[r.area_id].code)):
        if r.pk not in visible_ids:
            continue
        shown = {c["name"]: c for c in r.components}
        rows.append({"rating": r, "area": area_names[r.area_id], "own": r.pk == rating.pk, "stars": star_text(r.stars),
                     "cells": [shown.get(n, {}).get("shown", "—") for n in names],
                     "url": reverse("oversight:rating_detail", kwargs={"code": area_names[r.area_id].code,
                                                                       "period": r.period})})
    scores = [r.score for r in group if r.score is not None]
    context.update({
        "period": Period.parse(rating.period), "columns": columns, "rows": rows, "peer_total": len(group),
        "hidden": len(group) - len(rows),
        "score_average": ratings._round(_peer_average(scores)) if scores else None,
        "score_best": max(scores) if scores else None,
        "periods": list(own.order_by("-period_end").values_list("period", flat=True)[:24]),
    })
    return render(request, "oversight/ratings/peers.html", context)


@staff_view("oversight.rating.run")
@require_POST
def rating_run(request):
    user = request.user
    runnable = runnable_districts(user)
    code = request.POST.get("district", "")
    if code and code not in {d.code for d in runnable}:
        raise Http404  # a district the caller does not run: not theirs to know about
    form = RatingRunForm(request.POST, districts=runnable)
    query = {"district": code}
    if form.is_valid():
        district = next(d for d in runnable if d.code == form.cleaned_data["district"])
        query["period"] = form.cleaned_data["period"].key
        try:
            period = ratings.rate_submit(actor=user, district=district, period=form.cleaned_data["period"])
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("已开始评定%(district)s%(period)s的星级，完成后刷新本页即可看到结果。") % {
                "district": district.name, "period": period.label})
    else:
        flash_errors(request, form)
    return redirect(f"{reverse('oversight:rating_list')}?{urlencode(query)}")


# --- Rectification ----------------------------------------------------------------------------

@staff_view("oversight.view")
@require_GET
def rectification_list(request):
    rows = Rectification.objects.all().select_related("area__parent")
    status = request.GET.get("status", "")
    if status in FlagStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    period = request.GET.get("period", "").strip()
    if period:
        try:
            rows = rows.filter(period=Period.parse(period).key)
        except ValidationError as exc:
            flash_errors(request, exc)
            period = ""
    paginator = Paginator(rows.order_by("-period", "area__code"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    reason_labels = dict(FlagReason.choices)
    items = []
    for flag in page.object_list:
        kinds = [str(reason_labels.get(r.get("reason"), r.get("reason"))) for r in flag.reasons]
        items.append({"flag": flag, "reasons": kinds,
                      "url": reverse("oversight:rectification_detail", args=[flag.pk])})
    return render(request, "oversight/ratings/rectification_list.html", {
        "page": page, "items": items, "statuses": FlagStatus.choices, "status": status, "period": period,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
    })


def _flag(request, pk: int) -> Rectification:
    return get_object_or_404(Rectification.objects.all().select_related("area__parent", "closed_by"), pk=pk)


def _flag_page(request, flag: Rectification, *, plan_form=None, close_form=None, status: int = 200):
    decider = ratings.can_rectify(request.user, flag)
    if decider and flag.status != FlagStatus.CLOSED:
        plan_form = plan_form or RectificationPlanForm(initial={"plan": flag.plan})
        if flag.status == FlagStatus.RECTIFYING:
            close_form = close_form or RectificationCloseForm()
    reason_labels = dict(FlagReason.choices)
    reasons = [{**r, "label": str(reason_labels.get(r.get("reason"), r.get("reason")))} for r in flag.reasons]
    rating = Rating.objects.all().filter(area=flag.area, period=flag.period).first()
    return render(request, "oversight/ratings/rectification_detail.html", {
        "flag": flag, "reasons": reasons, "rating": rating, "stars": star_text(rating.stars) if rating else "",
        "rating_url": reverse("oversight:rating_detail", kwargs={"code": flag.area.code, "period": flag.period})
        if rating else "",
        "decider": decider, "plan_form": plan_form if decider else None, "close_form": close_form if decider else None,
    }, status=status)


@staff_view("oversight.view")
@require_GET
def rectification_detail(request, pk: int):
    return _flag_page(request, _flag(request, pk))


@staff_view("oversight.rectify")
@require_POST
def rectification_plan(request, pk: int):
    flag = _flag(request, pk)
    if not ratings.can_rectify(request.user, flag):
        raise PermissionDenied  # e.g. the street's own flag: the district decides it
    form = RectificationPlanForm(request.POST)
    if form.is_valid():
        try:
            ratings.rectification_plan(actor=request.user, flag=flag, plan=form.cleaned_data["plan"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("整改措施已记录，%(area)s进入整改。") % {"area": flag.area.name})
            return redirect("oversight:rectification_detail", pk=flag.pk)
    return _flag_page(request, _flag(request, pk), plan_form=form, status=422)


@staff_view("oversight.rectify")
@require_POST
def rectification_close(request, pk: int):
    flag = _flag(request, pk)
    if not ratings.can_rectify(request.user, flag):
        raise PermissionDenied
    form = RectificationCloseForm(request.POST)
    if form.is_valid():
        try:
            ratings.rectification_close(actor=request.user, flag=flag, result=form.cleaned_data["result"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("%(area)s的整改已验收完成。") % {"area": flag.area.name})
            return redirect("oversight:rectification_detail", pk=flag.pk)
    return _flag_page(request, _flag(request, pk), close_form=form, status=422)
