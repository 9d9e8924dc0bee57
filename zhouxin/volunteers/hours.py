"""Verified service hours: the union of each person's verified intervals, so overlapping
activities (checked in at two at once) are never counted twice.

A sign-up's verified interval is [checked_in_at, checked_out_at] clipped to its activity's
own hours (activities.py stores the clipped length in SignUp.minutes when it verifies);
totals here merge the intervals per person in one query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from .choices import SignUpStatus
from .models import SignUp


def interval(signup: SignUp) -> tuple[dt.datetime, dt.datetime] | None:
    """The verified interval of a sign-up, clipped to its activity's hours (None: nothing verified)."""
    if signup.status != SignUpStatus.COMPLETED or not signup.checked_in_at or not signup.checked_out_at:
        return None
    start = max(signup.checked_in_at, signup.activity.starts_at)
    end = min(signup.checked_out_at, signup.activity.ends_at)
    return (start, end) if end > start else None


def merged_minutes(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> int:
    """Minutes covered by the union of the intervals."""
    total = dt.timedelta(0)
    current_start = current_end = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_end is not None:
        total += current_end - current_start
    return int(total.total_seconds() // 60)


def to_hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _verified(filter_q: Q, start: dt.datetime | None, end: dt.datetime | None):
    rows = SignUp.objects.unscoped().filter(filter_q, status=SignUpStatus.COMPLETED, checked_in_at__isnull=False,
                                            checked_out_at__isnull=False)
    if start is not None:
        rows = rows.filter(activity__ends_at__gt=start)
    if end is not None:
        rows = rows.filter(activity__starts_at__lt=end)
    return rows.values_list("person_id", "account_id", "checked_in_at", "checked_out_at",
                            "activity__starts_at", "activity__ends_at")


def _clip(row, start, end):
    _person, _account, checked_in, checked_out, act_start, act_end = row
    lo, hi = max(checked_in, act_start), min(checked_out, act_end)
    if start is not None:
        lo = max(lo, start)
    if end is not None:
        hi = min(hi, end)
    return (lo, hi) if hi > lo else None


def minutes_by_person(person_ids: Iterable[int], start: dt.datetime | None = None,
                      end: dt.datetime | None = None) -> dict[int, int]:
    """Verified minutes per Party member within [start, end), overlaps merged (one query)."""
    ids = list(person_ids)
    spans: dict[int, list] = defaultdict(list)
    for row in _verified(Q(person_id__in=ids), start, end):
        clipped = _clip(row, start, end)
        if clipped:
            spans[row[0]].append(clipped)
    return {pid: merged_minutes(spans.get(pid, ())) for pid in ids}


def minutes_for_account(account_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None) -> int:
    """Verified minutes of one portal volunteer (their own page), overlaps merged."""
    return merged_minutes(c for c in (_clip(r, start, end) for r in _verified(Q(account_id=account_id), start, end))
                          if c)
