"""Outsider cases of the report pages: 景山街道's 吉祥社区 has a generated report.  The hub of
东华门街道, the staff of 多福巷社区 and of 西城区 do not find it (404) and cannot ask for one of
吉祥社区 (404); roles without "oversight.report" are refused (403); anonymous visitors are sent
to sign in."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})

# Signed in, but without "oversight.report".
NO_REPORT_ROLE = ("resident", "unit_liaison", "grid_worker", "member", "department_handler", "system_admin",
                  "security_admin", "audit_admin")
OTHER_AREA = ("street_hub", "community_staff", "outsider")


def cases(personas) -> list[Case]:
    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.indicators import MONTH, Period
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.oversight import reports
    from zhouxin.oversight.models import Report

    period = Period.of(MONTH, timezone.localdate()).previous()
    with scopes_disabled():
        report = reports.report_create(actor=personas.community_staff_b, area=personas.areas["community_b"],
                                       period=period)
        reports.report_generate(report.pk)
        assert Report.objects.unscoped().get(pk=report.pk).status == "succeeded"
    hidden = ("吉祥社区",)
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None, must_not_contain=hidden):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=must_not_contain))

    no_role = [(p, FORBIDDEN) for p in NO_REPORT_ROLE]
    other_area = [(p, NOT_FOUND) for p in OTHER_AREA]

    # The list: open to report staff, with only their own areas' reports (and areas to choose).
    add("oversight:report_list", reverse("oversight:report_list"), [*no_role, *((p, OK) for p in OTHER_AREA)])
    # Asking for a report of another street's community.
    add("oversight:report_create", reverse("oversight:report_create"), [*no_role, *other_area], method="post",
        data={"area": personas.areas["community_b"].code, "period": period.key})
    for name in ("report_detail", "report_status", "report_xlsx", "report_pdf"):
        add(f"oversight:{name}", reverse(f"oversight:{name}", args=[report.pk]), [*no_role, *other_area])
    return out
