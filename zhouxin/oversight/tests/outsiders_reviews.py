"""Outsider cases of the secretaries' review pages (views_reviews.py): the review of 景山街道's
吉祥社区 is not found (404) by the hub of 东华门街道, by the staff of 多福巷社区 or by a 西城区
community's staff; roles without "oversight.view" are refused (403), as are area staff without
the part an action needs (the district does not write the community's report, the community's
own staff neither score nor finalise); anonymous visitors are sent to sign in.  The secretary's
name never shows in a refused answer."""

from __future__ import annotations

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})
SECRET = "景山保密书记"

NO_VIEW = ("grid_worker", "department_handler", "unit_liaison", "resident", "member", "system_admin",
           "security_admin", "audit_admin")
OTHER_AREA = ("street_hub", "community_staff", "outsider")


def _review_b(personas):
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.oversight import reviews
    from zhouxin.oversight.models import SecretaryReview

    area = personas.areas["community_b"]
    year = timezone.localdate().year - 1
    with scopes_disabled():
        found = SecretaryReview.objects.unscoped().filter(area=area, year=year).first()
        return found or reviews.review_open(actor=personas.district_admin, area=area, year=year, secretary=SECRET)


def cases(personas) -> list[Case]:
    from django.urls import reverse

    review = _review_b(personas)
    out: list[Case] = []

    def add(name, url, *, method="get", data=None, extra=(), other_area=True):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        people = [(p, FORBIDDEN) for p in NO_VIEW]
        if other_area:
            people += [(p, NOT_FOUND) for p in OTHER_AREA]
        for persona, expected in [*people, *extra]:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=(SECRET,)))

    add("oversight:review_list", reverse("oversight:review_list"), other_area=False,
        extra=[(p, OK) for p in OTHER_AREA])

    create = reverse("oversight:review_create")
    add("oversight:review_create", create, other_area=False,
        extra=[("community_staff", FORBIDDEN), ("community_staff_b", FORBIDDEN), ("outsider", FORBIDDEN),
               ("street_hub", OK)])
    post = {"area": personas.areas["community_b"].code, "year": review.year - 1, "secretary": "某某"}
    add("oversight:review_create", create, method="post", data=post, other_area=False,
        extra=[("community_staff_b", FORBIDDEN), ("outsider", FORBIDDEN), ("street_hub", NOT_FOUND)])

    pk = review.pk
    add("oversight:review_detail", reverse("oversight:review_detail", args=[pk]))
    add("oversight:review_refresh", reverse("oversight:review_refresh", args=[pk]), method="post")
    add("oversight:review_report", reverse("oversight:review_report", args=[pk]),
        extra=[("district_admin", FORBIDDEN)])
    add("oversight:review_report", reverse("oversight:review_report", args=[pk]), method="post",
        data={"report": "越权填写"}, extra=[("district_admin", FORBIDDEN)])
    add("oversight:review_submit", reverse("oversight:review_submit", args=[pk]), method="post",
        extra=[("district_admin", FORBIDDEN)])
    add("oversight:review_score", reverse("oversight:review_score", args=[pk]), method="post",
        data={"s-score": "100"}, extra=[("community_staff_b", FORBIDDEN)])
    add("oversight:review_finalise", reverse("oversight:review_finalise", args=[pk]), method="post",
        extra=[("community_staff_b", FORBIDDEN)])
    return out
