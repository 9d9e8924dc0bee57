"""Showing a request's contact phone in full (PIPL), the same rule as orgs.services.person_reveal.

The phone is stored encrypted and shown masked (138****1234).  A staff member who
must call the requester reveals it: that needs the permission "dispatch.contact.reveal"
on the request's area, the request must be one the actor can see (a department
reaches only the requests assigned to it), and a reason.  Every reveal is audited
with the reason, never the value; a refused attempt is audited as denied.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.choices import AuditResult
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scope_for_user

from .models import ServiceRequest

REASON_MIN = 2
REASON_MAX = 200


def _may_reveal(actor, request: ServiceRequest) -> bool:
    """Visible to the actor, and the actor holds the permission where it reaches the
    request: on its area, or (a department) through an assignment to its organisation."""
    if not ServiceRequest.objects.restrict(actor).filter(pk=request.pk).exists():
        return False
    if can(actor, "dispatch.contact.reveal", request.area.code):
        return True
    org_ids = scope_for_user(actor).organisation_ids
    return (can(actor, "dispatch.contact.reveal")
            and request.assignments.filter(organisation_id__in=org_ids).exists())


def request_reveal_contact(*, actor, request: ServiceRequest, reason: str) -> str:
    """The request's contact phone in full.  Raises ValidationError for a missing or
    too long reason (nothing logged: nothing was shown or refused), PermissionDenied
    when the actor may not see it (logged as denied)."""
    if actor is None:
        raise PermissionDenied(_("查看完整个人信息必须由具体的工作人员操作。"))
    reason = " ".join(str(reason or "").split())
    if len(reason.replace(" ", "")) < REASON_MIN:
        raise ValidationError({"reason": [_("请填写查看原因（至少 2 个字）。")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("查看原因不能超过 200 个字。")]})
    if not _may_reveal(actor, request):
        audit.record(actor=actor, action="dispatch.request.contact_reveal_denied", obj=request,
                     after={"field": "contact_phone", "reason": reason}, result=AuditResult.DENIED)
        raise PermissionDenied(_("您没有权限查看该联系电话。"))
    with transaction.atomic():
        audit.record(actor=actor, action="dispatch.request.contact_revealed", obj=request,
                     after={"field": "contact_phone", "reason": reason})
    return request.contact_phone or ""
