"""Who may not read or change policy rules and the working-day calendar."""

from django.urls import reverse

from zhouxin.testing.outsiders import Case

NOT_ADMINS = ("community_staff", "street_hub", "grid_worker", "department_handler", "unit_liaison", "member",
              "resident", "outsider", "audit_admin")


def cases(personas):
    listing = reverse("core:policy_list")
    business = reverse("core:policy_edit", args=["core.calendar"])
    password = reverse("core:policy_edit", args=["core.password"])
    calendar = reverse("core:calendar")
    year = reverse("core:calendar_year", args=[2027])
    found = [
        Case("core:policy_list", None, listing, frozenset({302})),
        Case("core:policy_edit", None, business, frozenset({302})),
        Case("core:calendar", None, calendar, frozenset({302})),
        Case("core:calendar_year", None, year, frozenset({302})),
        # The password rule is the security admin's alone; business rules are not theirs.
        Case("core:policy_edit", "district_admin", password, frozenset({403})),
        Case("core:policy_edit", "district_admin", password, frozenset({403}), method="post",
             data={"effective_from": "2100-01-01", "item_min_length": "8", "item_min_classes": "1",
                   "item_history": "0", "item_max_age_days": "365"}),
        Case("core:policy_edit", "security_admin", business, frozenset({403})),
        Case("core:calendar", "security_admin", calendar, frozenset({403})),
    ]
    for persona in NOT_ADMINS:
        found += [
            Case("core:policy_list", persona, listing, frozenset({403})),
            Case("core:policy_edit", persona, business, frozenset({403})),
            Case("core:policy_edit", persona, password, frozenset({403})),
            Case("core:calendar", persona, calendar, frozenset({403})),
            Case("core:calendar_year", persona, year, frozenset({403})),
            Case("core:calendar_year", persona, year, frozenset({403}), method="post",
                 data={"lines": "2027-01-01 元旦 休", "note": ""}),
        ]
    return found
