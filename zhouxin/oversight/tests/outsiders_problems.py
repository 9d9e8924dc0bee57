"""Outsider cases of responsibility lists, key problems and topic meetings: staff of another
street or community do not find 吉祥社区's list, problem, meeting or evidence (404), roles
without the oversight permissions are refused (403), anonymous visitors are sent to sign in;
community staff cannot decide a closure (403).  The small factories here are shared with the
tests of this part (test_problems*.py)."""

from __future__ import annotations

import datetime as dt

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})
UNPROCESSABLE = frozenset({422})

# Signed in, but holding no oversight permission at all.
NO_OVERSIGHT_ROLE = ("resident", "unit_liaison", "grid_worker", "member", "department_handler", "system_admin",
                     "security_admin", "audit_admin")
SECRET_TITLE = "吉祥社区地下空间违规群租整治"
SECRET_HOLDER = "景山书记保密名"
SECRET_MEETING = "吉祥社区群租整治专题会"


def make_list(personas, *, area="community_b", org="community_b_committee", actor="community_staff_b",
              holder="刘志强", role="secretary", year=None):
    from django.utils import timezone

    from zhouxin.oversight import problems

    return problems.responsibility_create(actor=personas.users[actor], organisation=personas.orgs[org],
                                          year=year or timezone.localdate().year, role=role, holder=holder)


def make_problem(personas, *, area="community_b", actor="community_staff_b", title="楼院停车难", owner="刘志强",
                 source="research", lead="community_b_committee", co=("department",), days=90, today=None):
    from django.utils import timezone

    from zhouxin.oversight import problems

    day = today or timezone.localdate()
    return problems.problem_create(
        actor=personas.users[actor], area=personas.areas[area], title=title, description="居民反映晚间停车位不足，占用消防通道。",
        source=source, owner=owner, lead_org=personas.orgs[lead], co_orgs=[personas.orgs[c] for c in co],
        target="新增错时共享车位 40 个，消防通道保持畅通。", deadline=day + dt.timedelta(days=days), today=today)


def cases(personas) -> list[Case]:
    from django.urls import reverse

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.oversight import problems
    from zhouxin.oversight.choices import ProblemStatus
    from zhouxin.oversight.models import KeyProblem, ProblemEvidence, ProblemUpdate

    with scopes_disabled():
        listing = make_list(personas, holder=SECRET_HOLDER)
        item = problems.responsibility_item_add(actor=personas.community_staff_b, responsibility=listing,
                                                text="每季度专题研究社区党建工作")
        problem = make_problem(personas, title=SECRET_TITLE)
        meeting = problems.meeting_create(
            actor=personas.community_staff_b, area=personas.areas["community_b"], kind="topic", title=SECRET_MEETING,
            held_on=dt.date.today() - dt.timedelta(days=3), chair="刘志强", attendees=12, decisions="成立专班",
            problems=[problem])
        # A closure request with an evidence row written directly (no file: every refused request
        # is turned away before a file is opened).
        update = ProblemUpdate.objects.unscoped().create(problem=problem, actor=personas.community_staff_b,
                                                         kind=problems.CLOSURE_REQUEST, note="已完成", progress=100)
        evidence = ProblemEvidence.objects.unscoped().create(
            problem=problem, update=update, file="oversight/evidence/outsiders.png", name="现场照片.png",
            content_type="image/png", size=100, sha256="0" * 64, uploaded_by=personas.community_staff_b)
        KeyProblem.objects.unscoped().filter(pk=problem.pk).update(status=ProblemStatus.CLOSURE_REQUESTED,
                                                                   progress=100)
    hidden = (SECRET_TITLE, SECRET_HOLDER, SECRET_MEETING)
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected, must_not_contain=hidden))

    no_role = [(p, FORBIDDEN) for p in NO_OVERSIGHT_ROLE]
    other_area = [(p, NOT_FOUND) for p in ("street_hub", "community_staff", "outsider")]
    staff_ok = [("street_hub", OK), ("community_staff", OK), ("outsider", OK)]

    # Lists: open to oversight staff, but only their own areas' rows are on them.
    add("oversight:responsibility_list", reverse("oversight:responsibility_list"), [*no_role, *staff_ok])
    add("oversight:responsibility_list", f"{reverse('oversight:responsibility_list')}?organisation="
        f"{personas.orgs['community_b_committee'].pk}", [(p, NOT_FOUND) for p in ("street_hub", "outsider")])
    add("oversight:problem_list", reverse("oversight:problem_list"), [*no_role, *staff_ok])
    add("oversight:problem_list", f"{reverse('oversight:problem_list')}?area={personas.areas['community_b'].code}",
        [(p, NOT_FOUND) for p in ("street_hub", "community_staff", "outsider")])
    add("oversight:meeting_list", reverse("oversight:meeting_list"), [*no_role, *staff_ok])

    # Creating: a form refuses another area's organisation or area (nothing is written).
    create = reverse("oversight:responsibility_create")
    add("oversight:responsibility_create", create, [*no_role, ("community_staff", OK)])
    add("oversight:responsibility_create", create, [*no_role, ("street_hub", UNPROCESSABLE),
                                                    ("outsider", UNPROCESSABLE)], method="post",
        data={"organisation": personas.orgs["community_b_committee"].pk, "year": dt.date.today().year,
              "role": "deputy", "holder": "越权"})
    create = reverse("oversight:problem_create")
    add("oversight:problem_create", create, [*no_role, ("street_hub", OK)])
    add("oversight:problem_create", create, [*no_role, ("street_hub", UNPROCESSABLE),
                                             ("community_staff", UNPROCESSABLE), ("outsider", UNPROCESSABLE)],
        method="post", data={"area": personas.areas["community_b"].pk, "title": "越权", "description": "越权",
                             "source": "other", "owner": "某", "lead_org": personas.orgs["community_b_committee"].pk,
                             "target": "越权", "deadline": (dt.date.today() + dt.timedelta(days=30)).isoformat()})
    create = reverse("oversight:meeting_create")
    add("oversight:meeting_create", create, [*no_role, ("community_staff", OK)])
    add("oversight:meeting_create", f"{create}?problem={problem.pk}", [("community_staff", OK)])
    add("oversight:meeting_create", create, [*no_role, ("street_hub", UNPROCESSABLE),
                                             ("community_staff", UNPROCESSABLE)], method="post",
        data={"area": personas.areas["community_a"].pk, "kind": "topic", "title": "越权", "chair": "某",
              "held_on": dt.date.today().isoformat(), "attendees": 3, "decisions": "越权", "problems": [problem.pk]})

    # One list, problem or meeting of 吉祥社区.
    add("oversight:responsibility_detail", reverse("oversight:responsibility_detail", args=[listing.pk]),
        [*no_role, *other_area])
    add("oversight:responsibility_item_add", reverse("oversight:responsibility_item_add", args=[listing.pk]),
        [*no_role, *other_area], method="post", data={"add-text": "越权事项"})
    add("oversight:responsibility_item_update",
        reverse("oversight:responsibility_item_update", args=[listing.pk, item.pk]), [*no_role, *other_area],
        method="post", data={f"i{item.pk}-text": "越权", f"i{item.pk}-status": "done", f"i{item.pk}-evidence": "越权"})
    add("oversight:problem_detail", reverse("oversight:problem_detail", args=[problem.pk]), [*no_role, *other_area])
    add("oversight:problem_update", reverse("oversight:problem_update", args=[problem.pk]), [*no_role, *other_area],
        method="post", data={"p-progress": "50", "p-note": "越权"})
    add("oversight:problem_request_closure", reverse("oversight:problem_request_closure", args=[problem.pk]),
        [*no_role, *other_area], method="post", data={"c-note": "越权"})
    # Deciding closure: one level up only.  吉祥社区's own staff see the problem but may not decide (403).
    add("oversight:problem_decide_closure", reverse("oversight:problem_decide_closure", args=[problem.pk]),
        [*no_role, *other_area, ("community_staff_b", FORBIDDEN)], method="post", data={"d-decision": "approve"})
    add("oversight:problem_evidence", reverse("oversight:problem_evidence", args=[problem.pk, evidence.pk]),
        [*no_role, *other_area])
    add("oversight:meeting_detail", reverse("oversight:meeting_detail", args=[meeting.pk]), [*no_role, *other_area])
    return out
