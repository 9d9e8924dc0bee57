"""Who a portal volunteer is: a resident account whose phone is a Party member's phone (the
same blind index as orgs.Person.phone_index) is that member, so the member's sign-ups, hours
and wishes count for them and reach their work unit, with nothing typed twice."""

from __future__ import annotations

from zhouxin.orgs.models import Area, Person
from zhouxin.portal.models import ResidentAccount


def member_for_account(account: ResidentAccount | None) -> Person | None:
    """The Party member with this account's phone, or None (a resident volunteer)."""
    if account is None or not account.phone_index:
        return None
    return (Person.objects.unscoped().filter(phone_index=account.phone_index, is_party_member=True)
            .select_related("home_area", "work_unit").order_by("id").first())


def city_of(area: Area | None):
    """The city-level ancestor of `area` (policy rules are per city), or None for the national rule."""
    from zhouxin.orgs.choices import AreaLevel

    node = area
    while node is not None and node.level != AreaLevel.CITY:
        node = node.parent
    return node
