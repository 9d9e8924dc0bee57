"""Who may not open the audit log: everyone but the audit admin (三员分立: not even the other two)."""

from django.urls import reverse

from zhouxin.core import audit
from zhouxin.testing.outsiders import Case

REFUSED = ("community_staff", "street_hub", "district_admin", "grid_worker", "resident", "outsider",
           "system_admin", "security_admin")


def cases(personas):
    entry = audit.record(actor=personas.community_staff, action="orgs.person.revealed",
                         obj=personas.people["resident_a"], after={"field": "phone", "reason": "核实"})
    detail = reverse("core:audit_detail", args=[entry.pk])
    listing = reverse("core:audit_list")
    found = [Case("core:audit_list", None, listing, frozenset({302})),
             Case("core:audit_detail", None, detail, frozenset({302}))]
    for persona in REFUSED:
        found.append(Case("core:audit_list", persona, listing, frozenset({403}),
                          must_not_contain=("orgs.person.revealed",)))
        found.append(Case("core:audit_detail", persona, detail, frozenset({403}), must_not_contain=("核实",)))
    return found
