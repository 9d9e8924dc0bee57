"""Reads of the lexicon pages.  The lexicon is one list for the whole deployment (it is not
area data); who may read and edit it is decided by the views' permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from .choices import LexiconCategory, LexiconKind
from .models import LexiconEntry
from .normalise import fold_text


@dataclass(frozen=True)
class LexiconFilters:
    q: str = ""
    category: str = ""
    kind: str = ""
    active: str = ""  # "", "1", "0"

    @classmethod
    def from_query(cls, query) -> LexiconFilters:
        category = query.get("category", "")
        kind = query.get("kind", "")
        active = query.get("active", "")
        return cls(q=" ".join(str(query.get("q", "")).split())[:100],
                   category=category if category in LexiconCategory.values else "",
                   kind=kind if kind in LexiconKind.values else "",
                   active=active if active in ("1", "0") else "")


def lexicon_entries(filters: LexiconFilters):
    entries = LexiconEntry.objects.select_related("created_by").order_by("category", "key", "id")
    if filters.q:
        # Found in any spelling: 賭場 and 赌 场 find 赌场.
        entries = entries.filter(Q(term__icontains=filters.q) | Q(key__contains=fold_text(filters.q) or filters.q))
    if filters.category:
        entries = entries.filter(category=filters.category)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.active:
        entries = entries.filter(active=filters.active == "1")
    return entries


def lexicon_counts() -> dict[str, int]:
    return LexiconEntry.objects.aggregate(total=Count("pk"), active=Count("pk", filter=Q(active=True)))
