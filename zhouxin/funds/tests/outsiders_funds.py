"""Outsider cases of the funds pages: staff of another street or community must not find another
community's funds, plans, vouchers or ledger (404), roles without the funds permissions are
refused (403), anonymous visitors are sent to sign in.  Each part of the domain adds its cases."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})

# Signed in, but holding no funds permission at all.
NO_FUNDS_ROLE = ("resident", "unit_liaison", "grid_worker", "member", "department_handler", "system_admin",
                 "security_admin", "audit_admin")


def cases(personas) -> list:
    result: list[Case] = []
    result.extend(_fund_cases(personas))
    return result


def _fund_cases(personas) -> list[Case]:
    """Funds, ledger and reports (views_funds.py, views_reports.py): 景山街道's 吉祥社区 has a fund.
    The hub of 东华门街道, the staff of 多福巷社区 and of 西城区 do not find it (404); roles without
    "funds.view" are refused (403), and without "funds.allocate" cannot set up or allocate (403)."""
    from decimal import Decimal

    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.funds import funds
    from zhouxin.funds.choices import FundKind

    secret = "景山经费批复保密号"
    with scopes_disabled():
        fund = funds.fund_create(actor=personas.district_admin, community=personas.areas["community_b"],
                                 year=timezone.localdate().year, kind=FundKind.WORKING,
                                 sources={"district": Decimal("61234.56")}, note=secret)
    hidden = (secret, "61,234.56")
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None, must_not_contain=hidden):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=must_not_contain))

    no_role = [(p, FORBIDDEN) for p in NO_FUNDS_ROLE]
    other_area = [(p, NOT_FOUND) for p in ("street_hub", "community_staff", "outsider")]

    # The list: open to funds staff, but only their own areas' funds are on it.
    add("funds:fund_list", reverse("funds:fund_list"),
        [*no_role, ("street_hub", OK), ("community_staff", OK), ("outsider", OK)])
    add("funds:fund_list", f"{reverse('funds:fund_list')}?community={personas.areas['community_b'].code}",
        [("street_hub", OK), ("community_staff", OK)])

    # Setting up a fund: the street or district only; another street's community is not found.
    create = reverse("funds:fund_create")
    post = {"community": personas.areas["community_b"].code, "year": timezone.localdate().year, "kind": "service",
            "city": "1000"}
    add("funds:fund_create", create, [*no_role, ("community_staff", FORBIDDEN), ("outsider", FORBIDDEN),
                                      ("street_hub", OK)])
    add("funds:fund_create", create, [*no_role, ("community_staff", FORBIDDEN), ("community_staff_b", FORBIDDEN),
                                      ("outsider", FORBIDDEN), ("street_hub", NOT_FOUND)], method="post", data=post)

    # The fund's page, its verification and allocation.
    add("funds:fund_detail", reverse("funds:fund_detail", args=[fund.pk]), [*no_role, *other_area])
    add("funds:fund_verify", reverse("funds:fund_verify", args=[fund.pk]), [*no_role, *other_area], method="post")
    add("funds:fund_allocate", reverse("funds:fund_allocate", args=[fund.pk]),
        [*no_role, ("street_hub", NOT_FOUND), ("community_staff", FORBIDDEN), ("outsider", FORBIDDEN),
         ("community_staff_b", FORBIDDEN)],  # their own community's fund: they read it, the street allocates
        method="post", data={"source": "district", "amount": "100", "memo": "追加"})

    # Reports: the overview never shows another street's communities.
    add("funds:dashboard", reverse("funds:dashboard"),
        [*no_role, ("street_hub", OK), ("community_staff", OK), ("outsider", OK)],
        must_not_contain=(*hidden, "吉祥社区"))
    add("funds:dashboard", f"{reverse('funds:dashboard')}?street={personas.areas['street_b'].code}",
        [("street_hub", OK)], must_not_contain=(*hidden, "吉祥社区"))
    add("funds:execution_xlsx", reverse("funds:execution_xlsx"), no_role)
    return out
