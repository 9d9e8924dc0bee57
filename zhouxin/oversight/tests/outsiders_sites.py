"""Outsider cases of the demonstration-site and case-library pages (views_sites.py).

景山街道's 吉祥社区 has a nominated site, a draft case (with a file) and a published case (with
a file).  The site and the draft are not found (404) by the hub of 东华门街道, the staff of
多福巷社区 or a 西城区 community's staff; the published case is read by the district's staff
(good practice is shared) but not by 西城区 (404), and only the street or district may publish
or withdraw it (403).  Roles without "oversight.view" are refused (403); anonymous visitors are
sent to sign in.  Nothing of the site or the draft shows in a refused answer."""

from __future__ import annotations

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})
SITE_SECRET = "吉祥保密示范点"
DRAFT_SECRET = "吉祥保密草稿案例"
PUBLISHED_TITLE = "吉祥社区入库案例"

NO_VIEW = ("grid_worker", "department_handler", "unit_liaison", "resident", "member", "system_admin",
           "security_admin", "audit_admin")
OTHER_AREA = ("street_hub", "community_staff", "outsider")


def _records(personas):
    """The rows behind the files are written directly: every refused request is turned away
    before a file is opened, so no file is stored."""
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.oversight import sites
    from zhouxin.oversight.choices import SiteKind
    from zhouxin.oversight.models import CaseFile, CaseStudy, DemoSite

    area = personas.areas["community_b"]
    staff = personas.community_staff_b
    with scopes_disabled():
        site = DemoSite.objects.unscoped().filter(title=SITE_SECRET).first() or sites.site_nominate(
            actor=staff, area=area, kind=SiteKind.COMMUNITY, year=timezone.localdate().year, title=SITE_SECRET,
            reason="居民议事厅运转良好")
        draft = CaseStudy.objects.unscoped().filter(title=DRAFT_SECRET).first() or sites.case_create(
            actor=staff, area=area, title=DRAFT_SECRET, summary="草稿摘要", body="<p>草稿正文</p>", tags="草稿")
        published = CaseStudy.objects.unscoped().filter(title=PUBLISHED_TITLE).first()
        if published is None:
            published = sites.case_create(actor=staff, area=area, title=PUBLISHED_TITLE, summary="已入库",
                                          body="<p>已入库正文</p>", tags="微心愿")
            sites.case_publish(actor=personas.district_admin, case=published)
        files = []
        for case in (draft, published):
            files.append(CaseFile.objects.unscoped().filter(case=case).first() or CaseFile.objects.unscoped().create(
                case=case, file="oversight/cases/outsider-case.pdf", name="佐证.pdf", content_type="application/pdf",
                size=1, sha256="0" * 64, uploaded_by=staff))
    return site, draft, published, files


def cases(personas) -> list[Case]:
    from django.urls import reverse

    site, draft, published, (draft_file, published_file) = _records(personas)
    hidden = (SITE_SECRET, DRAFT_SECRET)
    out: list[Case] = []

    def add(name, url, *, method="get", data=None, people=(), anon=True, no_view=True):
        if anon:
            out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        everyone = [(p, FORBIDDEN) for p in NO_VIEW] if no_view else []
        for persona, expected in [*everyone, *people]:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected, must_not_contain=hidden))

    other_area = [(p, NOT_FOUND) for p in OTHER_AREA]

    # Sites
    add("oversight:site_list", reverse("oversight:site_list"), people=[(p, OK) for p in OTHER_AREA])
    nominate = reverse("oversight:site_nominate")
    add("oversight:site_nominate", nominate,
        people=[("district_admin", FORBIDDEN), ("street_hub", OK), ("outsider", OK)])
    add("oversight:site_nominate", nominate, method="post",
        data={"area": personas.areas["community_b"].code, "kind": "community", "year": site.year, "title": "越权推荐",
              "reason": "越权"},
        people=[("district_admin", FORBIDDEN), ("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND),
                ("outsider", NOT_FOUND)])
    add("oversight:site_detail", reverse("oversight:site_detail", args=[site.pk]), people=other_area)
    decide = reverse("oversight:site_decide", args=[site.pk])
    add("oversight:site_decide", decide, method="post", data={"d-decision": "approve", "d-note": "越权"},
        people=[*other_area, ("community_staff_b", FORBIDDEN)])
    add("oversight:site_revoke", reverse("oversight:site_revoke", args=[site.pk]), method="post",
        data={"r-reason": "越权"}, people=[*other_area, ("community_staff_b", FORBIDDEN)])

    # Cases
    add("oversight:case_list", reverse("oversight:case_list"), people=[(p, OK) for p in OTHER_AREA])
    add("oversight:case_list", f"{reverse('oversight:case_list')}?q=吉祥", anon=False, no_view=False,
        people=[(p, OK) for p in OTHER_AREA])
    create = reverse("oversight:case_create")
    add("oversight:case_create", create, people=[("street_hub", OK), ("outsider", OK)])
    add("oversight:case_create", create, method="post",
        data={"area": personas.areas["community_b"].code, "title": "越权", "summary": "越权", "body": "<p>越权</p>"},
        people=[("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND), ("outsider", NOT_FOUND)])
    add("oversight:case_detail", reverse("oversight:case_detail", args=[draft.pk]), people=other_area)
    add("oversight:case_detail", reverse("oversight:case_detail", args=[published.pk]), anon=False, no_view=False,
        people=[("outsider", NOT_FOUND), ("community_staff", OK), ("street_hub", OK)])
    edit_data = {"title": "越权修改", "summary": "越权", "body": "<p>越权</p>"}
    add("oversight:case_edit", reverse("oversight:case_edit", args=[draft.pk]), people=other_area)
    add("oversight:case_edit", reverse("oversight:case_edit", args=[draft.pk]), method="post", data=edit_data,
        people=other_area)
    add("oversight:case_edit", reverse("oversight:case_edit", args=[published.pk]), anon=False, no_view=False,
        people=[("outsider", NOT_FOUND), ("community_staff", FORBIDDEN), ("street_hub", FORBIDDEN)])
    add("oversight:case_publish", reverse("oversight:case_publish", args=[draft.pk]), method="post",
        people=[*other_area, ("community_staff_b", FORBIDDEN)])
    add("oversight:case_withdraw", reverse("oversight:case_withdraw", args=[published.pk]), method="post",
        people=[("outsider", NOT_FOUND), ("community_staff", FORBIDDEN), ("street_hub", FORBIDDEN),
                ("community_staff_b", FORBIDDEN)])
    add("oversight:case_file", reverse("oversight:case_file", args=[draft.pk, draft_file.pk]), people=other_area)
    add("oversight:case_file", reverse("oversight:case_file", args=[published.pk, published_file.pk]), anon=False,
        no_view=False, people=[("outsider", NOT_FOUND)])
    # a file of one case asked for under another
    add("oversight:case_file", reverse("oversight:case_file", args=[published.pk, draft_file.pk]), anon=False,
        no_view=False, people=[("community_staff", NOT_FOUND), ("street_hub", NOT_FOUND)])
    return out
