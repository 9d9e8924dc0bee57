"""Three rates pages: monthly rankings, 12-month trends with charts, and 每月一题.

Every figure comes from the roll-ups (dispatch/rates.py), never from raw requests,
so each page runs a fixed number of queries whatever the district's size.  Who sees
what is rates.Viewer: the district's street ranking is published to the whole
district; communities only to their street and the district; a department's
figures to itself and the district.  Anything else is refused (403 for a tab the
role does not see, 404 for a district, street, community or department outside
the user's reach).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core.db_router import replica_reads
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from .. import rates
from ..models import Category, MonthlyTheme

TREND_MONTHS = 12
TABS = {
    "streets": gettext_lazy("街道"),
    "communities": gettext_lazy("社区"),
    "departments": gettext_lazy("职能部门"),
}


def _month(request, default: dt.date | None = None) -> tuple[dt.date, str]:
    """The ?month= of the request (default this month) and an error text for a bad one."""
    raw = request.GET.get("month", "")
    fallback = default or rates.this_month()
    if not raw:
        return fallback, ""
    try:
        return rates.parse_month(raw), ""
    except ValidationError as exc:
        return fallback, exc.messages[0]


def _weights(viewer: rates.Viewer, month: dt.date) -> rates.Weights:
    """The rule in force during that month (its last day; today for the current month)."""
    last_day = rates.add_months(month, 1) - dt.timedelta(days=1)
    return rates.weights(city=viewer.district.parent_id, on=min(last_day, timezone.localdate()))


def _month_choices(month: dt.date) -> dict:
    return {"month_value": month.strftime("%Y-%m"), "previous_month": rates.add_months(month, -1).strftime("%Y-%m"),
            "next_month": rates.add_months(month, 1).strftime("%Y-%m")
            if rates.add_months(month, 1) <= rates.this_month() else ""}


# --- Rankings --------------------------------------------------------------------------

@require_GET
@staff_view("dispatch.rates.view")
@replica_reads  # reads only: may come from the read replica (zhouxin/core/db_router.py)
def rankings(request):
    viewer = rates.viewer_for(request.user, request.GET.get("district") or None)
    month, month_error = _month(request)
    allowed = [tab for tab, shown in (("streets", viewer.sees_streets), ("communities", viewer.sees_communities),
                                      ("departments", viewer.sees_departments)) if shown]
    if not allowed:
        raise PermissionDenied
    tab = request.GET.get("tab") or allowed[0]
    if tab not in TABS:
        raise Http404
    if tab not in allowed:
        raise PermissionDenied
    w = _weights(viewer, month)
    street = None
    street_options: list[tuple[str, str]] = []
    own = set()
    if tab == "streets":
        entries = rates.area_ranking(district=viewer.district, month=month, level=AreaLevel.STREET, w=w)
        own = set(viewer.streets) | {c[:9] for c in viewer.communities}
        for entry in entries:
            entry.link = viewer.may_see_area(entry.code)
    elif tab == "communities":
        street_code = request.GET.get("street", "")
        prefixes = viewer.community_prefixes()
        if street_code:
            if len(street_code) != 9 or not street_code.isdigit() or not viewer.may_see_area(street_code) \
                    or not any(street_code.startswith(p) for p in prefixes):
                raise Http404(_("该街道不在您的管辖范围内。"))
        elif not viewer.district_admin:
            street_code = prefixes[0]
        if street_code:
            street = Area.objects.unscoped().filter(code=street_code, level=AreaLevel.STREET).first()
            if street is None:
                raise Http404(_("没有这个街道。"))
        entries = rates.area_ranking(district=viewer.district, month=month, level=AreaLevel.COMMUNITY,
                                     within=street_code or None, w=w)
        if viewer.district_admin:
            street_options = list(Area.objects.unscoped().filter(level=AreaLevel.STREET,
                                                                 code__startswith=viewer.district.code)
                                  .order_by("code").values_list("code", "name"))
        else:
            street_options = list(Area.objects.unscoped().filter(code__in=viewer.streets)
                                  .order_by("code").values_list("code", "name"))
        for entry in entries:
            entry.link = True
    else:
        entries = rates.department_ranking(district=viewer.district, month=month, w=w)
        # A department sees the ranking, and the trend of its own figures only.
        for entry in entries:
            entry.link = viewer.district_admin or entry.pk in viewer.departments
        own = set(viewer.departments)
    for entry in entries:
        entry.own = entry.code in own or entry.pk in own
    mine = None
    if viewer.communities and not viewer.district_admin and not viewer.streets:
        # Community staff: their own community's figures above the street ranking.
        communities = list(Area.objects.unscoped().filter(code__in=viewer.communities).order_by("code"))
        mine = []
        for area in communities:
            point = rates.trend(subject=rates.Subject("area", area.pk, area.name, area.code, area.level),
                                months=[month], w=w)[0]
            mine.append({"area": area, "volume": point.figures.received,
                         "response": rates.percent(point.rates.response),
                         "resolution": rates.percent(point.rates.resolution),
                         "satisfaction": rates.percent(point.rates.satisfaction),
                         "composite": rates.score(point.rates.composite)})
    governance = [e for e in entries if e.governance] if tab == "streets" else []
    return render(request, "dispatch/rates/rankings.html", {
        "viewer": viewer, "month": month, "month_error": month_error, **_month_choices(month),
        "tab": tab, "tabs": [(key, TABS[key]) for key in allowed], "entries": entries, "governance": governance,
        "street": street, "street_options": street_options, "mine": mine,
        "keep": [("tab", tab), ("street", street.code if street else "")],
        "weights": w, "share_percent": rates.percent(w.bottom_share),
    })


# --- Trends ----------------------------------------------------------------------------

def _trend_subject(request, viewer: rates.Viewer) -> rates.Subject:
    area_code = request.GET.get("area", "")
    org_id = request.GET.get("org", "")
    if area_code and org_id:
        raise Http404
    if area_code:
        if not area_code.isdigit() or not viewer.may_see_area(area_code):
            raise Http404(_("该区域不在您的管辖范围内。"))
        area = Area.objects.unscoped().filter(code=area_code).first()
        if area is None or area.level not in (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.DISTRICT):
            raise Http404(_("没有这个街道或社区。"))
        if area.level == AreaLevel.DISTRICT:
            return rates.Subject("district", area.pk, area.name, area.code, area.level)
        return rates.Subject("area", area.pk, area.name, area.code, area.level)
    if org_id:
        if not org_id.isdigit():
            raise Http404
        org = Organisation.objects.unscoped().select_related("area").filter(pk=int(org_id)).first()
        if org is None or not viewer.may_see_org(org):
            raise Http404(_("该单位不在您的管辖范围内。"))
        return rates.Subject("org", org.pk, org.name)
    if viewer.district_admin:
        d = viewer.district
        return rates.Subject("district", d.pk, d.name, d.code, d.level)
    code = (viewer.streets or viewer.communities or ("",))[0]
    if code:
        area = Area.objects.unscoped().get(code=code)
        return rates.Subject("area", area.pk, area.name, area.code, area.level)
    org = Organisation.objects.unscoped().get(pk=viewer.departments[0])
    return rates.Subject("org", org.pk, org.name)


def _subject_options(viewer: rates.Viewer) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """The areas and departments the trend picker offers (two queries at most)."""
    if viewer.district_admin:
        areas = [(viewer.district.code, viewer.district.name)] + list(
            Area.objects.unscoped().filter(level=AreaLevel.STREET, code__startswith=viewer.district.code)
            .order_by("code").values_list("code", "name"))
        orgs = list(Organisation.objects.unscoped().filter(kind=OrgKind.DEPARTMENT,
                                                           area__code__startswith=viewer.district.code)
                    .order_by("name").values_list("id", "name"))
        return areas, orgs
    areas = []
    prefixes = viewer.streets + viewer.communities
    if prefixes:
        query = Area.objects.unscoped().filter(code__in=viewer.streets + viewer.communities)
        for street in viewer.streets:
            query = query | Area.objects.unscoped().filter(level=AreaLevel.COMMUNITY, code__startswith=street)
        areas = list(query.order_by("code").values_list("code", "name"))
    orgs = list(Organisation.objects.unscoped().filter(pk__in=viewer.departments).order_by("name")
                .values_list("id", "name")) if viewer.departments else []
    return areas, orgs


@require_GET
@staff_view("dispatch.rates.view")
@replica_reads  # reads only: may come from the read replica (zhouxin/core/db_router.py)
def trends(request):
    viewer = rates.viewer_for(request.user, request.GET.get("district") or None)
    month, month_error = _month(request)
    subject = _trend_subject(request, viewer)
    w = _weights(viewer, month)
    months = [rates.add_months(month, n) for n in range(-(TREND_MONTHS - 1), 1)]
    points = rates.trend(subject=subject, months=months, w=w)
    categories = rates.category_breakdown(subject=subject, months=months)
    area_options, org_options = _subject_options(viewer)

    def series(attr):
        return [None if (v := rates.as_percent(getattr(p.rates, attr))) is None else float(v) for p in points]

    chart = {
        "months": [p.month.strftime("%Y-%m") for p in points],
        "volume": [p.figures.received for p in points],
        "response": series("response"),
        "resolution": series("resolution"),
        "satisfaction": series("satisfaction"),
        "composite": series("composite"),
        "categories": [{"name": c["name"], "value": c["value"]} for c in categories],
        "labels": {"volume": _("诉求量"), "response": _("响应率"), "resolution": _("解决率"),
                   "satisfaction": _("满意率"), "composite": _("综合得分"), "percent": _("百分比"),
                   "count": _("件"), "categories": _("类别分布")},
    }
    rows = [{"month": p.month, "volume": p.figures.received, "invalid": p.figures.invalid,
             "response": rates.percent(p.rates.response), "resolution": rates.percent(p.rates.resolution),
             "satisfaction": rates.percent(p.rates.satisfaction), "composite": rates.score(p.rates.composite)}
            for p in points]
    return render(request, "dispatch/rates/trends.html", {
        "viewer": viewer, "month": month, "month_error": month_error, **_month_choices(month),
        "subject": subject, "chart": chart, "rows": rows, "categories": categories,
        "area_options": area_options, "org_options": org_options,
        "selected_area": subject.code if subject.kind != "org" else "",
        "selected_org": subject.pk if subject.kind == "org" else None,
        "has_categories": subject.kind == "district" or subject.level == AreaLevel.STREET,
        "first_month": months[0], "last_month": months[-1],
    })


# --- 每月一题 ---------------------------------------------------------------------------

class ThemeForm(forms.Form):
    month = forms.CharField(label=gettext_lazy("月份"), max_length=7,
                            error_messages={"required": gettext_lazy("请选择月份。")})
    category = forms.ModelChoiceField(
        label=gettext_lazy("一级类别"), queryset=Category.objects.filter(level=1, is_active=True).order_by("code"),
        error_messages={"required": gettext_lazy("请选择类别。"),
                        "invalid_choice": gettext_lazy("请选择一个有效的一级类别。")})
    title = forms.CharField(label=gettext_lazy("主题"), max_length=rates.TITLE_MAX,
                            error_messages={"required": gettext_lazy("请填写主题。"),
                                            "max_length": gettext_lazy("主题不能超过 120 个字。")})
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=2000, widget=forms.Textarea,
                           error_messages={"max_length": gettext_lazy("说明不能超过 2000 个字。")})

    def clean_month(self):
        return rates.parse_month(self.cleaned_data["month"])


def _year(request) -> tuple[int, str]:
    raw = request.GET.get("year", "")
    current = rates.this_month().year
    if not raw:
        return current, ""
    if not raw.isdigit() or not 2000 <= int(raw) <= 2099:
        return current, _("年份应在 2000 到 2099 之间。")
    return int(raw), ""


def _themes_page(request, viewer: rates.Viewer, year: int, form: ThemeForm | None, *, year_error: str = "",
                 status: int = 200):
    themes = list(MonthlyTheme.objects.unscoped().filter(district=viewer.district, month__year=year)
                  .select_related("category").order_by("-month", "category__code"))
    impacts = rates.theme_impacts(district=viewer.district, themes=themes)
    may_set = can(request.user, "dispatch.theme.set", viewer.district.code)
    if may_set and form is None:
        form = ThemeForm(initial={"month": rates.this_month().strftime("%Y-%m")})
    return render(request, "dispatch/rates/themes.html", {
        "viewer": viewer, "year": year, "year_error": year_error, "impacts": impacts,
        "form": form if may_set else None, "years": [year - 1, year + 1],
        "window": rates.THEME_WINDOW,
    }, status=status)


@require_GET
@staff_view("dispatch.rates.view")
def themes(request):
    viewer = rates.viewer_for(request.user, request.GET.get("district") or None)
    year, year_error = _year(request)
    return _themes_page(request, viewer, year, None, year_error=year_error)


@require_POST
@staff_view("dispatch.theme.set")
def theme_set(request):
    viewer = rates.viewer_for(request.user, request.POST.get("district") or None)
    if not can(request.user, "dispatch.theme.set", viewer.district.code):
        raise PermissionDenied
    form = ThemeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            theme = rates.monthly_theme_set(actor=request.user, district=viewer.district, month=data["month"],
                                            category=data["category"], title=data["title"], note=data["note"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已设置%(month)s的每月一题：%(title)s") % {
                "month": theme.month.strftime("%Y-%m"), "title": theme.title})
            url = reverse("dispatch:themes")
            return redirect(f"{url}?district={viewer.district.code}&year={theme.month.year}")
    return _themes_page(request, viewer, rates.this_month().year, form, status=400)
