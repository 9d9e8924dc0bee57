"""Staff pages of feedback to work units (单位反馈) and the volunteers dashboards.

Units come from feedback.units_for (staff: units located in, or with members registered in, their
area; liaisons: their own units), batches from feedback.batches_for, communities from
feedback.communities_for: what the caller does not reach is 404.  Files go out only through these
views, as attachments the browser may not sniff.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core.actions import perform
from zhouxin.core.decorators import staff_view

from . import feedback
from .choices import FeedbackKind

YEARS_BACK = 4


def _period(raw: str | None):
    """The period asked for, or the default one (the last quarter over)."""
    if raw:
        try:
            return feedback.parse_period(raw)
        except ValidationError:
            pass
    return feedback.default_period()


def _latest_batches(units) -> dict[int, list]:
    """The newest batch of each kind per unit: {unit id: [batch, …]} (one query)."""
    latest: dict[int, dict[str, object]] = {}
    for batch in (feedback.FeedbackBatch.objects.unscoped().filter(unit__in=[u.pk for u in units])
                  .select_related("unit").order_by("-generated_at", "-id")):
        latest.setdefault(batch.unit_id, {}).setdefault(batch.kind, batch)
    return {unit_id: list(kinds.values()) for unit_id, kinds in latest.items()}


@staff_view("volunteers.feedback")
@require_GET
def feedback_units(request):
    period = _period(request.GET.get("period"))
    units = list(feedback.units_for(request.user).annotate(
        party_members_on_record=Count("employees", filter=Q(employees__is_party_member=True), distinct=True)))
    latest = _latest_batches(units)
    rows = [{"unit": unit, "batches": latest.get(unit.pk, [])} for unit in units]
    return render(request, "volunteers/feedback/units.html", {
        "rows": rows, "period": period, "periods": feedback.recent_periods()})


@staff_view("volunteers.feedback")
@require_GET
def feedback_unit(request, unit_pk: int):
    unit = get_object_or_404(feedback.units_for(request.user), pk=unit_pk)
    period = _period(request.GET.get("period"))
    board = feedback.unit_feedback(unit, period)
    batches = list(feedback.batches_for(request.user).filter(unit=unit))
    return render(request, "volunteers/feedback/unit.html", {
        "unit": unit, "period": period, "periods": feedback.recent_periods(), "board": board,
        "batches": batches})


@staff_view("volunteers.feedback")
@require_POST
def feedback_generate(request, unit_pk: int):
    unit = get_object_or_404(feedback.units_for(request.user), pk=unit_pk)
    raw_period = request.POST.get("period", "")
    kind = request.POST.get("kind", "")
    ok, batch = perform(request, None, lambda _data: feedback.batch_generate(
        actor=request.user, unit=unit, kind=kind, period=raw_period),
        success=lambda b: _("已生成%(unit)s%(period)s的%(kind)s，共 %(n)d 名党员。") % {
            "unit": unit.name, "period": feedback.parse_period_unchecked(b.period).label,
            "kind": FeedbackKind(b.kind).label, "n": b.members})
    url = reverse("volunteers:feedback_unit", args=[unit.pk])
    if ok:
        url += f"?period={batch.period}"
    elif feedback.PERIOD_RE.match(raw_period):
        url += f"?period={raw_period}"
    return redirect(url)


def _download(field, *, filename: str, content_type: str) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)  # RFC 5987 filename*
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _batch(request, pk: int):
    return get_object_or_404(feedback.batches_for(request.user), pk=pk)


@staff_view("volunteers.feedback")
@require_GET
def feedback_pdf(request, pk: int):
    batch = _batch(request, pk)
    return _download(batch.pdf, filename=feedback.batch_filename(batch, "pdf"), content_type=feedback.PDF)


@staff_view("volunteers.feedback")
@require_GET
def feedback_xlsx(request, pk: int):
    batch = _batch(request, pk)
    return _download(batch.xlsx, filename=feedback.batch_filename(batch, "xlsx"), content_type=feedback.XLSX)


@staff_view("volunteers.view")
@require_GET
def community_dashboard(request):
    this_year = timezone.localdate().year
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and this_year - YEARS_BACK <= int(raw) <= this_year else this_year
    rows = feedback.community_dashboard(feedback.communities_for(request.user), year)
    totals = {
        "communities": len(rows),
        "members_registered": sum(r.members_registered for r in rows),
        "units_registered": sum(r.units_registered for r in rows),
        "activities_held": sum(r.activities_held for r in rows),
        "hours": sum((r.hours for r in rows), Decimal("0.0")),
        "volunteers": sum(r.volunteers for r in rows),
        "wishes_completed": sum(r.wishes_completed for r in rows),
    }
    return render(request, "volunteers/feedback/community_dashboard.html", {
        "rows": rows, "totals": totals, "year": year, "years": list(range(this_year, this_year - YEARS_BACK - 1, -1))})

