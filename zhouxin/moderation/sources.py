"""The queue's sources (registry.QueueSource): generic held items, and dispatch's held requests.

Both are scoped the same way: a reviewer sees what lies in the area subtrees of their grants
whose role may review ("moderation.review": a street hub its street, a district admin the
district).  Decisions go through the owning domain's services, which check the permission
again on the object's area and audit the decision.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user

from . import services
from .choices import ItemStatus
from .models import ModerationItem
from .registry import HeldEntry, QueueSource, claimed_kinds


def review_q(user, field: str = "area__code") -> Q:
    """Rows in the areas where the user may review; nothing when there are none."""
    prefixes = scope_for_user(user).prefixes(roles_for("moderation.review"))
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


class HeldItemSource(QueueSource):
    """Items held with services.hold_item.  A domain's own tab lists the kinds in `item_kinds`
    and links each to its page (`link`); ItemSource, with no kinds of its own, lists every kind
    that no tab claims, so nothing is listed twice."""

    def held(self, user):
        items = ModerationItem.objects.restrict(user).filter(review_q(user), status=ItemStatus.HELD)
        if self.item_kinds:
            items = items.filter(kind__in=self.item_kinds)
        else:
            items = items.exclude(kind__in=sorted(claimed_kinds()))
        return items.select_related("area").order_by("-held_at", "-id")

    def link(self, obj: ModerationItem) -> str:
        """Where the reviewer opens the held object ("" for none)."""
        return ""

    def kind_label(self, obj: ModerationItem) -> str:
        return str(self.label)

    def entry(self, obj: ModerationItem) -> HeldEntry:
        return HeldEntry(source=self.key, key=str(obj.pk), title=obj.title or obj.source_key, text=obj.excerpt,
                         reasons=tuple(obj.reasons or ()), area=obj.area.name, held_at=obj.held_at,
                         link=self.link(obj), kind_label=self.kind_label(obj))

    def get(self, user, key: str):
        if not str(key).isdigit():
            return None
        return self.held(user).filter(pk=int(key)).first()

    def release(self, *, actor, obj, note: str) -> None:
        services.item_release(actor=actor, item=obj, note=note)

    def reject(self, *, actor, obj, reason: str) -> None:
        services.item_reject(actor=actor, item=obj, reason=reason)


class ItemSource(HeldItemSource):
    key = "items"
    label = _("网站内容")
    release_label = _("放行发布")
    reject_label = _("驳回")

    def kind_label(self, obj: ModerationItem) -> str:
        return obj.kind


class DispatchSource(QueueSource):
    """Requests held at intake (dispatch status HELD, with the screen's hold_reason)."""

    key = "requests"
    label = _("接诉即办诉求")
    release_label = _("审核通过并受理")
    reject_label = _("判定无效")

    def _model(self):
        from zhouxin.dispatch.models import ServiceRequest

        return ServiceRequest

    def held(self, user):
        from zhouxin.dispatch.choices import Status

        return (self._model().objects.restrict(user).filter(review_q(user), status=Status.HELD)
                .select_related("area").only("id", "number", "title", "description", "hold_reason", "received_at",
                                             "area__name", "area__code")
                .order_by("-received_at", "-id"))

    def entry(self, obj) -> HeldEntry:
        return HeldEntry(source=self.key, key=str(obj.pk), title=f"{obj.number} {obj.title}",
                         text=obj.description[:services.EXCERPT_MAX],
                         reasons=tuple(r for r in obj.hold_reason.split("；") if r), area=obj.area.name,
                         held_at=obj.received_at, link=reverse("dispatch:request_detail", args=[obj.number]),
                         kind_label=str(self.label))

    def get(self, user, key: str):
        if not str(key).isdigit():
            return None
        return self.held(user).filter(pk=int(key)).first()

    def release(self, *, actor, obj, note: str) -> None:
        from zhouxin.dispatch import services as dispatch

        dispatch.request_release(actor=actor, request=self._fresh(obj), note=note)

    def reject(self, *, actor, obj, reason: str) -> None:
        from zhouxin.dispatch import services as dispatch

        dispatch.request_invalidate(actor=actor, request=self._fresh(obj), reason=reason)

    def _fresh(self, obj):
        # The queue loaded a few columns only; dispatch's services read and write the whole row.
        return self._model().objects.unscoped().select_related("area").get(pk=obj.pk)
