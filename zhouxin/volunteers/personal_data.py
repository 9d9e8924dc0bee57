"""A resident account's volunteering data, for the portal's export and deletion (registered in
apps.py with zhouxin.portal.personal_data).

Export: the account's sign-ups (activity, times, verified minutes), the wishes it ordered
(with its thanks) and took, and its member registrations.  Deletion: a resident volunteer's
sign-ups go; a Party member's sign-ups stay with the member (their verified hours belong to
their record and their work unit's feedback) but lose the link to the account; thanks texts
the resident wrote are removed; wishes keep no link to the account (SET_NULL)."""

from __future__ import annotations

from django.utils import timezone

from zhouxin.core import audit

from .models import MemberRegistration, SignUp, Wish


def _iso(value):
    return timezone.localtime(value).isoformat() if value else None


def export(account) -> dict:
    signups = (SignUp.objects.unscoped().filter(account=account).select_related("activity__community")
               .order_by("created_at", "pk"))
    ordered = Wish.objects.unscoped().filter(ordered_by=account).select_related("community").order_by("ordered_at")
    taken = Wish.objects.unscoped().filter(taken_by_account=account).select_related("community").order_by("taken_at")
    registrations = (MemberRegistration.objects.unscoped().filter(account=account).select_related("community")
                     .order_by("registered_at"))
    return {
        "signups": [{"activity": s.activity.title, "community": s.activity.community.name,
                     "starts_at": _iso(s.activity.starts_at), "status": s.status, "signed_up_at": _iso(s.created_at),
                     "checked_in_at": _iso(s.checked_in_at), "checked_out_at": _iso(s.checked_out_at),
                     "verified_minutes": s.minutes} for s in signups],
        "wishes_ordered": [{"number": w.number, "title": w.title, "description": w.description,
                            "beneficiary": w.beneficiary, "value": str(w.value), "community": w.community.name,
                            "status": w.status, "ordered_at": _iso(w.ordered_at), "thanks": w.thanks,
                            "stars": w.stars} for w in ordered],
        "wishes_taken": [{"number": w.number, "title": w.title, "status": w.status, "taken_at": _iso(w.taken_at)}
                         for w in taken],
        "registrations": [{"community": r.community.name, "status": r.status, "registered_at": _iso(r.registered_at),
                           "valid_until": r.valid_until.isoformat()} for r in registrations],
    }


def erase(account) -> None:
    removed = SignUp.objects.unscoped().filter(account=account, person__isnull=True).delete()[0]
    kept = SignUp.objects.unscoped().filter(account=account).update(account=None)
    thanks = Wish.objects.unscoped().filter(ordered_by=account).exclude(thanks="").update(thanks="",
                                                                                          thanks_visible=False)
    audit.record(actor=None, action="volunteers.account.erased", object_type="portal.residentaccount",
                 object_id=str(account.pk), object_repr=str(account),
                 after={"signups_removed": removed, "member_signups_kept": kept, "thanks_removed": thanks})
