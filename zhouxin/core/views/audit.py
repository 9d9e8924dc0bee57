"""Browsing the audit log (安全审计员 only): search, page through, and check one entry's seal.

Read-only by construction: these views only answer GET, there is no form that
writes, and the audit tables refuse UPDATE and DELETE at the database anyway.
The list runs a fixed number of queries whatever the page size (the count, capped, and
one page, the seal joined in).
"""

from __future__ import annotations

import datetime as dt
import json

from django import forms
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import audit
from ..choices import AuditResult
from ..decorators import staff_view
from ..models import AuditEntry, User
from ..pagination import CappedPaginator

PER_PAGE_DEFAULT = 50
PER_PAGE_MIN = 10
PER_PAGE_MAX = 200


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    action = forms.CharField(label=_("操作"), required=False, max_length=80,
                             help_text=_("可只填前缀，如 orgs.person"))
    object_type = forms.CharField(label=_("对象类型"), required=False, max_length=80)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)
    request_id = forms.CharField(label=_("请求编号"), required=False, max_length=64)
    result = forms.ChoiceField(label=_("结果"), required=False,
                               choices=[("", _("全部"))] + list(AuditResult.choices))
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name == "result" else "form-control"
            if isinstance(field, forms.CharField):
                field.widget.input_type = "search"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data

    def apply(self, qs):
        data = self.cleaned_data
        if data.get("actor"):
            actor = data["actor"].strip()
            named = User.objects.filter(Q(full_name__icontains=actor) | Q(username__iexact=actor)).values("pk")
            qs = qs.filter(Q(actor_label__icontains=actor) | Q(actor_id__in=named))
        if data.get("action"):
            qs = qs.filter(action__startswith=data["action"].strip())
        if data.get("object_type"):
            qs = qs.filter(object_type=data["object_type"].strip().lower())
        if data.get("object_id"):
            qs = qs.filter(object_id=data["object_id"].strip())
        if data.get("request_id"):
            qs = qs.filter(request_id=data["request_id"].strip())
        if data.get("result"):
            qs = qs.filter(result=data["result"])
        if data.get("date_from"):
            qs = qs.filter(at__gte=_day_start(data["date_from"]))
        if data.get("date_to"):
            qs = qs.filter(at__lt=_day_start(data["date_to"] + dt.timedelta(days=1)))
        return qs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _per_page(request) -> int:
    try:
        wanted = int(request.GET.get("per_page", PER_PAGE_DEFAULT))
    except (TypeError, ValueError):
        return PER_PAGE_DEFAULT
    return min(max(wanted, PER_PAGE_MIN), PER_PAGE_MAX)


@never_cache
@require_GET
@staff_view("core.audit.view")
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.select_related("seal").order_by("-id")
    if form.is_bound:
        entries = form.apply(entries) if form.is_valid() else entries.none()
    paginator = CappedPaginator(entries, _per_page(request))  # the log grows with every write in the city
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "core/audit/list.html", {
        "form": form,
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
    })


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def _changes(before, after) -> list[dict]:
    """Rows of a before/after table for dict values (changed rows marked)."""
    if not isinstance(before, dict) and not isinstance(after, dict):
        return []
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old = before.get(key, None)
        new = after.get(key, None)
        rows.append({
            "key": key,
            "before": "—" if key not in before else json.dumps(old, ensure_ascii=False),
            "after": "—" if key not in after else json.dumps(new, ensure_ascii=False),
            "changed": key in before and key in after and old != new,
        })
    return rows


@never_cache
@require_GET
@staff_view("core.audit.view")
def audit_detail(request, pk: int):
    entry = get_object_or_404(AuditEntry.objects.select_related("seal"), pk=pk)
    check = audit.check_entry(entry)
    return render(request, "core/audit/detail.html", {
        "entry": entry,
        "seal": entry.seal if check.sealed else None,
        "check": check,
        "changes": _changes(entry.before, entry.after),
        "before_json": _pretty(entry.before) if entry.before is not None else "",
        "after_json": _pretty(entry.after) if entry.after is not None else "",
    })
