"""Outsider cases of the community worker pages: staff of another street or community must not
find another community's workers, assessments, runs or payslips (404), roles without the
workforce permissions are refused (403), anonymous visitors are sent to sign in; a worker
sees their own pay and nobody else's."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})


def cases(personas) -> list[Case]:
    result: list[Case] = []
    result.extend(_promotion_cases(personas))
    result.extend(_roster_cases(personas))
    result.extend(_payroll_cases(personas))
    return result


def _promotion_cases(personas) -> list[Case]:
    """年度考核 and 晋级: a worker of 景山街道's 吉祥社区 and the district's draft run for that street.
    The hub of 东华门街道 does not find the run or its result (404); roles without
    "workforce.assess" / "workforce.payroll" (community staff included) are refused (403)."""
    import datetime as dt

    from django.urls import reverse

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.workforce import promotion
    from zhouxin.workforce.models import PromotionResult

    from .promotion_helpers import make_worker

    secret = "景山晋级保密人"
    worker = make_worker(personas, secret, area="community_b", hired=dt.date(2021, 1, 1),
                         grades={2021: "合格", 2022: "合格", 2023: "合格"})
    with scopes_disabled():
        run = promotion.promotion_run(actor=personas.district_admin, area=personas.areas["street_b"], year=2024)
        result = PromotionResult.objects.unscoped().get(run=run)
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=(secret,)))

    no_role = [(p, FORBIDDEN) for p in ("community_staff", "community_staff_b", "outsider", "grid_worker",
                                        "department_handler", "unit_liaison", "resident", "member",
                                        "system_admin", "security_admin", "audit_admin")]
    add("workforce:assessments", reverse("workforce:assessments"), [*no_role, ("district_admin", FORBIDDEN)])
    add("workforce:assessments", reverse("workforce:assessments"), [*no_role, ("district_admin", FORBIDDEN)],
        method="post", data={"year": 2023, f"grade_{worker.pk}": "优秀"})
    # The hub of another street does not find 景山街道's page.
    out.append(Case("workforce:assessments", "street_hub",
                    f"{reverse('workforce:assessments')}?area={personas.areas['street_b'].code}&year=2023",
                    expected=NOT_FOUND, must_not_contain=(secret,)))
    # …and cannot grade that worker by posting the id: refused, nothing saved.
    out.append(Case("workforce:assessments", "street_hub", reverse("workforce:assessments"), method="post",
                    data={"year": 2023, f"grade_{worker.pk}": "优秀"}, expected=frozenset({302}),
                    must_not_contain=(secret,)))
    add("workforce:promotion", reverse("workforce:promotion"), no_role)
    out.append(Case("workforce:promotion", "street_hub",
                    f"{reverse('workforce:promotion')}?area={personas.areas['street_b'].code}&year=2024",
                    expected=NOT_FOUND, must_not_contain=(secret,)))
    add("workforce:promotion_run", reverse("workforce:promotion_run"),
        [*no_role, ("street_hub", NOT_FOUND)], method="post",
        data={"year": 2024, "area": personas.areas["street_b"].code})
    add("workforce:promotion_confirm", reverse("workforce:promotion_confirm", args=[run.pk]),
        [*no_role, ("street_hub", NOT_FOUND)], method="post")
    add("workforce:promotion_result", reverse("workforce:promotion_result", args=[result.pk]),
        [*no_role, ("street_hub", NOT_FOUND)])
    return out


def _roster_cases(personas) -> list[Case]:
    """花名册 and 配备情况: a worker of 景山街道's 吉祥社区 with a post.  The hub of 东华门街道 and staff of
    other communities do not find that worker (404); roles without "workforce.view" are refused (403),
    community staff may read but not keep the roster (403 on every write)."""
    import datetime as dt

    from django.urls import reverse

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.workforce.models import PostHolding

    from .roster_helpers import hire

    secret = "吉祥社区名册保密人"
    worker = hire(personas, secret, area="community_b", hired=dt.date(2020, 1, 1))
    with scopes_disabled():
        post = PostHolding.objects.unscoped().get(worker=worker)
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=(secret,)))

    no_view = [(p, FORBIDDEN) for p in ("grid_worker", "department_handler", "unit_liaison", "resident", "member",
                                        "system_admin", "security_admin", "audit_admin")]
    readers = [(p, FORBIDDEN) for p in ("community_staff", "community_staff_b", "outsider")]
    detail = reverse("workforce:worker_detail", args=[worker.pk])
    add("workforce:worker_detail", detail,
        [*no_view, ("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND), ("outsider", NOT_FOUND)])
    for persona in ("street_hub", "community_staff", "outsider"):
        out.append(Case("workforce:roster_list", persona, f"{reverse('workforce:roster_list')}?status=all",
                        expected=frozenset({200}), must_not_contain=(secret,)))
        out.append(Case("workforce:staffing", persona, reverse("workforce:staffing"),
                        expected=frozenset({200}), must_not_contain=("吉祥社区",)))
    add("workforce:roster_list", reverse("workforce:roster_list"), no_view)
    add("workforce:staffing", reverse("workforce:staffing"), no_view)
    writers = [*no_view, *readers]
    add("workforce:worker_edit", reverse("workforce:worker_edit", args=[worker.pk]),
        [*writers, ("street_hub", NOT_FOUND)])
    add("workforce:worker_edit", reverse("workforce:worker_edit", args=[worker.pk]),
        [*writers, ("street_hub", NOT_FOUND)], method="post",
        data={"community": personas.areas["community_a"].pk, "hire_date": "2020-01-01", "education": "大专",
              "early_promotions_used": "0", "training_hours": "0"})
    add("workforce:worker_leave", reverse("workforce:worker_leave", args=[worker.pk]),
        [*writers, ("street_hub", NOT_FOUND)], method="post", data={"day": "2025-01-01"})
    add("workforce:post_add", reverse("workforce:post_add", args=[worker.pk]),
        [*writers, ("street_hub", NOT_FOUND)], method="post",
        data={"post_type": "正职", "title": "主任", "started_on": "2024-01-01"})
    add("workforce:post_end", reverse("workforce:post_end", args=[worker.pk, post.pk]),
        [*writers, ("street_hub", NOT_FOUND)], method="post", data={"day": "2025-01-01"})
    add("workforce:worker_create", reverse("workforce:worker_create"), writers)
    add("workforce:worker_create", reverse("workforce:worker_create"), writers, method="post",
        data={"community": personas.areas["community_a"].pk, "name": "冒名者", "hire_date": "2020-01-01",
              "education": "大专", "early_promotions_used": "0", "training_hours": "0"})
    # The hub cannot register a worker in another street's community by posting its id.
    out.append(Case("workforce:worker_create", "street_hub", reverse("workforce:worker_create"), method="post",
                    data={"community": personas.areas["community_b"].pk, "name": "冒名者",
                          "hire_date": "2020-01-01", "education": "大专", "early_promotions_used": "0",
                          "training_hours": "0"}, expected=frozenset({200}), must_not_contain=(secret,)))
    add("workforce:roster_import", reverse("workforce:roster_import"), writers)
    add("workforce:roster_import", reverse("workforce:roster_import"), writers, method="post", data={})
    add("workforce:roster_template", reverse("workforce:roster_template"), writers)
    return out


def _payroll_cases(personas) -> list[Case]:
    """月度工资 and 我的工资: a worker of 景山街道's 吉祥社区 and the district's confirmed run of that street.
    The hub of 东华门街道, staff of other communities and of another district do not find the run or the
    payslip (404); roles without "workforce.payroll" are refused the payroll pages (403); 我的工资 shows
    nobody another's payslip (the worker's own is theirs alone: 404 to everybody else)."""
    import datetime as dt

    from django.urls import reverse

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.orgs.models import Person
    from zhouxin.workforce import payroll
    from zhouxin.workforce.models import Payslip, PostHolding, Worker

    secret = "吉祥社区工资保密人"
    community = personas.areas["community_b"]
    with scopes_disabled():
        person = Person.objects.unscoped().create(name=secret, home_area=community)
        worker = Worker.objects.unscoped().create(person=person, community=community, hire_date=dt.date(2020, 1, 1))
        PostHolding.objects.unscoped().create(worker=worker, post_type="专职", title="社工",
                                              started_on=dt.date(2020, 1, 1))
        run = payroll.payroll_run(actor=personas.district_admin, area=personas.areas["street_b"], year=2025, month=6)
        payroll.payroll_confirm(actor=personas.district_admin, run=run)
        slip = Payslip.objects.unscoped().get(run=run, worker=worker)
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=(secret,)))

    others = ("grid_worker", "department_handler", "unit_liaison", "resident", "member",
              "system_admin", "security_admin", "audit_admin")
    no_view = [(p, FORBIDDEN) for p in others]
    no_payroll = [*no_view, *[(p, FORBIDDEN) for p in ("community_staff", "community_staff_b", "outsider")]]
    add("workforce:payroll", reverse("workforce:payroll"), [*no_payroll, ("street_hub", frozenset({200}))])
    add("workforce:payroll_run", reverse("workforce:payroll_run"), [*no_payroll, ("street_hub", NOT_FOUND)],
        method="post", data={"area": personas.areas["street_b"].pk, "month": "2025-07"})
    add("workforce:payroll_detail", reverse("workforce:payroll_detail", args=[run.pk]),
        [*no_view, ("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND), ("outsider", NOT_FOUND)])
    add("workforce:payroll_confirm", reverse("workforce:payroll_confirm", args=[run.pk]),
        [*no_payroll, ("street_hub", NOT_FOUND)], method="post")
    add("workforce:payroll_xlsx", reverse("workforce:payroll_xlsx", args=[run.pk]),
        [*no_payroll, ("street_hub", NOT_FOUND)])
    add("workforce:payslip", reverse("workforce:payslip", args=[slip.pk]),
        [*no_view, ("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND), ("outsider", NOT_FOUND)])
    everybody = ("district_admin", "street_hub", "community_staff", "community_staff_b", "outsider", *others)
    add("workforce:my_pay", reverse("workforce:my_pay"), [(p, frozenset({200})) for p in everybody])
    add("workforce:my_payslip", reverse("workforce:my_payslip", args=[slip.pk]), [(p, NOT_FOUND) for p in everybody])
    return out
