"""A resident's volunteering data in their portal export (PIPL art. 45) and on deletion of the
account (art. 47): a resident volunteer's sign-ups go, a Party member's verified hours stay
with the member, thanks texts are removed; nothing of another resident is exported."""

from __future__ import annotations

import datetime as dt
import json

from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal import services as portal
from zhouxin.volunteers import checkin, hours, wishes
from zhouxin.volunteers.choices import SignUpStatus
from zhouxin.volunteers.models import SignUp, Wish

from .test_activities_helpers import MEMBER_PHONE, account, activity, move, portal_client

RESIDENT_PHONE = "13911117777"


def _served(personas, acc, title: str) -> SignUp:
    """`acc` signs up for an activity that then runs; the organiser confirms two hours."""
    from zhouxin.volunteers import activities

    visit = activity(personas, title=title)
    with scopes_disabled():
        signup = activities.signup(account=acc, activity=visit)
        now = timezone.now()
        move(visit, starts_at=now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(minutes=30))
        staff = personas.community_staff
        checkin.confirm_check_in(actor=staff, signup=signup, at=now - dt.timedelta(hours=3))
        checkin.confirm_check_out(actor=staff, signup=signup, at=now - dt.timedelta(hours=1))
        signup.refresh_from_db()
    assert signup.status == SignUpStatus.COMPLETED and signup.minutes == 120
    return signup


def test_export_and_deletion_of_volunteering_data(personas):
    resident, member = account(RESIDENT_PHONE), account(MEMBER_PHONE)
    mine = _served(personas, resident, "多福巷社区楼道清扫")
    theirs = _served(personas, member, "多福巷社区敬老院陪伴")
    assert theirs.person == personas.people["member_a"]
    with scopes_disabled():
        wish = wishes.wish_order(account=resident, community=personas.areas["community_a"], title="想要一副老花镜",
                                 beneficiary="独居老人", value=80)
        Wish.objects.unscoped().filter(pk=wish.pk).update(status="thanked", thanks="谢谢社区和党员同志", stars=5)

    # The export (a download of the resident's own page) carries their sign-up and wish only.
    response = portal_client(resident).get(reverse("portal:me_export"))
    assert response.status_code == 200
    data = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)
    volunteering = data["volunteering"]
    assert [s["activity"] for s in volunteering["signups"]] == ["多福巷社区楼道清扫"]
    assert volunteering["signups"][0]["verified_minutes"] == 120
    assert [(w["title"], w["thanks"]) for w in volunteering["wishes_ordered"]] == [("想要一副老花镜", "谢谢社区和党员同志")]
    assert "多福巷社区敬老院陪伴" not in json.dumps(data, ensure_ascii=False)

    # Deleting the resident's account removes their sign-up and their thanks text.
    with scopes_disabled():
        portal.account_delete(account=resident)
        assert not SignUp.objects.unscoped().filter(pk=mine.pk).exists()
        wish.refresh_from_db()
        assert (wish.ordered_by_id, wish.thanks, wish.stars) == (None, "", 5)
        # The member deletes theirs: the verified hours stay with the member for their work unit.
        portal.account_delete(account=member)
        theirs.refresh_from_db()
        assert (theirs.account_id, theirs.person_id, theirs.minutes) == (None, personas.people["member_a"].pk, 120)
        assert hours.minutes_by_person([theirs.person_id]) == {theirs.person_id: 120}
        assert AuditEntry.objects.filter(action="volunteers.account.erased").count() == 2
