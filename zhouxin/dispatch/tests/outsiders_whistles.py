"""Outsider cases for the whistle pages (街乡吹哨、部门报到).

Two whistles are blown for the cases: one by 东华门街道 summoning 城管 (the personas'
department), and one by 景山街道 summoning only 东城区园林绿化局.  The 东华门 street hub must
not find the 景山 whistle; the 城管 handler must not find a whistle that did not summon it;
roles without the whistle permissions are refused every page.
"""

from django.urls import reverse

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import whistles
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation
from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
SHOWN = frozenset({200})

OTHER_TITLE = "景山街道内部事项：景山后街违建"
OTHER_DEPARTMENT = "东城区园林绿化局"
OWN_TITLE = "东华门街道事项：胡同积水"


def _world(personas):
    a, o = personas.areas, personas.orgs
    with scopes_disabled():
        parks = Organisation.objects.create(name=OTHER_DEPARTMENT, kind=OrgKind.DEPARTMENT, area=a["dongcheng"])
        hub_b = User.objects.create_user(username="street_hub_b_whistles", password="Zhouxin-Test-2026!",
                                         full_name="景山街道值班员")
        Grant.objects.create(user=hub_b, role=Role.STREET_HUB, area=a["street_b"], organisation=o["street_b_committee"])
        own = whistles.whistle_open(actor=personas.street_hub, street=a["street_a"], title=OWN_TITLE,
                                    description="雨后积水", departments=[o["department"]])
        other = whistles.whistle_open(actor=hub_b, street=a["street_b"], title=OTHER_TITLE,
                                      description="私搭乱建", departments=[parks])
    return own, other


def cases(personas):
    own, other = _world(personas)
    own_summons = own.summons.get()
    other_summons = other.summons.get()
    board = reverse("dispatch:whistle_board")
    new = reverse("dispatch:whistle_open")
    scores = reverse("dispatch:department_scores")

    def detail(w):
        return reverse("dispatch:whistle_detail", args=[w.number])

    def report(w, s):
        return reverse("dispatch:summons_report", args=[w.number, s.pk])

    def rate(w, s):
        return reverse("dispatch:summons_rate", args=[w.number, s.pk])

    def solve(w):
        return reverse("dispatch:whistle_solve", args=[w.number])

    note = {"note": "报到"}
    rating = {"rating": "5"}
    solution = {"solution": "已解决"}
    result = [
        # Anonymous visitors are sent to sign in, whatever they try.
        Case("dispatch:whistle_board", None, board, ANON),
        Case("dispatch:whistle_open", None, new, ANON),
        Case("dispatch:whistle_open", None, new, ANON, method="post", data={"title": "x"}),
        Case("dispatch:department_scores", None, scores, ANON),
        Case("dispatch:whistle_detail", None, detail(own), ANON),
        Case("dispatch:summons_report", None, report(own, own_summons), ANON, method="post", data=note),
        Case("dispatch:summons_rate", None, rate(own, own_summons), ANON, method="post", data=rating),
        Case("dispatch:whistle_solve", None, solve(own), ANON, method="post", data=solution),
    ]

    # The 东华门 street hub: the 景山 whistle is not found, and its actions neither.
    hub = "street_hub"
    result += [
        Case("dispatch:whistle_detail", hub, detail(other), NOT_FOUND, must_not_contain=(OTHER_TITLE,)),
        Case("dispatch:summons_rate", hub, rate(other, other_summons), NOT_FOUND, method="post", data=rating),
        Case("dispatch:whistle_solve", hub, solve(other), NOT_FOUND, method="post", data=solution),
        Case("dispatch:summons_report", hub, report(other, other_summons), REFUSED, method="post", data=note),
        Case("dispatch:whistle_board", hub, board, SHOWN, must_not_contain=(OTHER_TITLE,)),
        Case("dispatch:department_scores", hub, scores, SHOWN, must_not_contain=(OTHER_DEPARTMENT,)),
        Case("dispatch:department_scores", hub, scores + f"?subject=s{personas.areas['street_b'].code}", NOT_FOUND),
        Case("dispatch:department_scores", hub, scores + f"?subject=d{personas.areas['dongcheng'].code}", NOT_FOUND),
        # A whistle cannot be blown in another street (the form refuses the street).
        Case("dispatch:whistle_open", hub, new, frozenset({422}), method="post", data={
            "street": personas.areas["street_b"].pk, "title": "越界吹哨", "description": "越界",
            "urgency": "normal", "departments": [personas.orgs["department"].pk]}),
        # The street hub does not report for a department.
        Case("dispatch:summons_report", hub, report(own, own_summons), FORBIDDEN, method="post", data=note),
    ]

    # The 城管 handler: a whistle that did not summon 城管 is not found; it blows no whistle,
    # rates nobody and solves nothing.
    dept = "department_handler"
    result += [
        Case("dispatch:whistle_detail", dept, detail(other), NOT_FOUND, must_not_contain=(OTHER_TITLE,)),
        Case("dispatch:summons_report", dept, report(other, other_summons), NOT_FOUND, method="post", data=note),
        Case("dispatch:whistle_board", dept, board, SHOWN, must_not_contain=(OTHER_TITLE,)),
        Case("dispatch:department_scores", dept, scores, SHOWN, must_not_contain=(OTHER_DEPARTMENT,)),
        Case("dispatch:department_scores", dept, scores + f"?subject=o{other_summons.department_id}", NOT_FOUND),
        Case("dispatch:whistle_open", dept, new, FORBIDDEN),
        Case("dispatch:summons_rate", dept, rate(own, own_summons), FORBIDDEN, method="post", data=rating),
        Case("dispatch:whistle_solve", dept, solve(own), FORBIDDEN, method="post", data=solution),
    ]

    # The district admin reads but does not blow, report, rate or solve.
    admin = "district_admin"
    result += [
        Case("dispatch:whistle_open", admin, new, FORBIDDEN),
        Case("dispatch:summons_report", admin, report(own, own_summons), FORBIDDEN, method="post", data=note),
        Case("dispatch:summons_rate", admin, rate(own, own_summons), FORBIDDEN, method="post", data=rating),
        Case("dispatch:whistle_solve", admin, solve(own), FORBIDDEN, method="post", data=solution),
    ]

    # Community staff, grid workers, units, members, residents, the 西城 outsider and 三员 hold no
    # whistle permission: every page is refused.
    for persona in ("community_staff", "grid_worker", "unit_liaison", "member", "resident", "outsider",
                    "system_admin", "audit_admin"):
        result += [
            Case("dispatch:whistle_board", persona, board, FORBIDDEN),
            Case("dispatch:whistle_open", persona, new, FORBIDDEN),
            Case("dispatch:department_scores", persona, scores, FORBIDDEN),
            Case("dispatch:whistle_detail", persona, detail(own), FORBIDDEN, must_not_contain=(OWN_TITLE,)),
            Case("dispatch:summons_report", persona, report(own, own_summons), FORBIDDEN, method="post", data=note),
            Case("dispatch:summons_rate", persona, rate(own, own_summons), FORBIDDEN, method="post", data=rating),
            Case("dispatch:whistle_solve", persona, solve(own), FORBIDDEN, method="post", data=solution),
        ]
    return result
