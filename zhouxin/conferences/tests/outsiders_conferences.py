"""Outsider cases for the joint conference pages (联席会议).

The world: 东华门街道大工委 (street_a) with the personas' hospital as a member unit, a held plenary
with an action item for the hospital, a planned topic meeting; 多福巷社区大党委; and 景山街道大工委
(street_b) with its own meeting and action item.  Staff of another district, another street or
another community do not find them; roles without the conference permissions are refused;
a unit liaison reaches only its unit's conference and cannot manage it.
"""

from django.urls import reverse

from zhouxin.testing.outsiders import Case

from .world import OTHER_ACTION, OTHER_MEETING, OTHER_NAME, build_world

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
SHOWN = frozenset({200})
OWN_NAME = "东华门街道大工委"


def cases(personas):
    w = build_world(personas)
    c, m, a = w.conference, w.meeting, w.action
    agenda_item = None
    from zhouxin.core.scoping import scopes_disabled

    from .. import services

    with scopes_disabled():
        agenda_item = services.agenda_propose(actor=personas.street_hub, meeting=w.planned,
                                              proposer=personas.orgs["unit"], title="议题")
    membership = w.unit_membership

    gets = {
        "conferences:conference_list": reverse("conferences:conference_list"),
        "conferences:conference_create": reverse("conferences:conference_create"),
        "conferences:conference_detail": reverse("conferences:conference_detail", args=[c.pk]),
        "conferences:meeting_list": reverse("conferences:meeting_list"),
        "conferences:meeting_detail": reverse("conferences:meeting_detail", args=[m.pk]),
        "conferences:action_board": reverse("conferences:action_board"),
        "conferences:action_detail": reverse("conferences:action_detail", args=[a.pk]),
    }
    posts = {
        "conferences:membership_add": (reverse("conferences:membership_add", args=[c.pk]),
                                       {"organisation": w.school.pk, "joined_on": "2024-01-01"}),
        "conferences:membership_end": (reverse("conferences:membership_end", args=[c.pk, membership.pk]),
                                       {"left_on": "2024-01-01"}),
        "conferences:part_time_add": (reverse("conferences:part_time_add", args=[c.pk]),
                                      {"person": w.seat_person.pk, "role": "member", "term_start": "2030-01-01",
                                       "term_end": "2031-01-01"}),
        "conferences:meeting_create": (reverse("conferences:meeting_create", args=[c.pk]),
                                       {"kind": "topic", "title": "越权会议", "held_on": "2030-01-01", "place": "某处"}),
        "conferences:meeting_status": (reverse("conferences:meeting_status", args=[w.planned.pk]), {"action": "held"}),
        "conferences:agenda_propose": (reverse("conferences:agenda_propose", args=[w.planned.pk]),
                                       {"proposer": personas.orgs["unit"].pk, "title": "越权议题"}),
        "conferences:agenda_decide": (reverse("conferences:agenda_decide", args=[w.planned.pk, agenda_item.pk]),
                                      {"status": "accepted"}),
        "conferences:attendance": (reverse("conferences:attendance", args=[m.pk]), {}),
        "conferences:minutes": (reverse("conferences:minutes", args=[m.pk]), {"text": "越权纪要"}),
        "conferences:decision_add": (reverse("conferences:decision_add", args=[m.pk]),
                                     {"text": "越权", "owner": personas.orgs["unit"].pk, "action_title": "越权",
                                      "due_on": "2099-01-01"}),
    }
    out: list[Case] = []
    for name, url in gets.items():
        out.append(Case(name, None, url, ANON))
        for persona in ("resident", "grid_worker", "department_handler", "member", "system_admin"):
            out.append(Case(name, persona, url, FORBIDDEN))
    for name, (url, data) in posts.items():
        out.append(Case(name, None, url, ANON, method="post", data=data))
        for persona in ("resident", "grid_worker", "department_handler", "audit_admin"):
            out.append(Case(name, persona, url, FORBIDDEN, method="post", data=data))
        # Another district's and another street's community staff: not found; the community's own staff
        # and the member unit's liaison: may not manage the street's conference.
        out.append(Case(name, "outsider", url, REFUSED, method="post", data=data))
        out.append(Case(name, "community_staff_b", url, REFUSED, method="post", data=data))
        if name != "conferences:agenda_propose":
            out.append(Case(name, "community_staff", url, FORBIDDEN, method="post", data=data))
            out.append(Case(name, "unit_liaison", url, FORBIDDEN, method="post", data=data))

    # Lists open but show nothing of ours to another district's staff, nothing of 景山 to us.
    for name in ("conferences:conference_list", "conferences:meeting_list", "conferences:action_board"):
        out.append(Case(name, "outsider", gets[name], SHOWN, must_not_contain=(OWN_NAME, OTHER_NAME, OTHER_MEETING,
                                                                                 OTHER_ACTION)))
        out.append(Case(name, "street_hub", gets[name], SHOWN, must_not_contain=(OTHER_NAME, OTHER_MEETING,
                                                                                   OTHER_ACTION)))
        out.append(Case(name, "unit_liaison", gets[name], SHOWN, must_not_contain=(OTHER_NAME, OTHER_MEETING,
                                                                                     OTHER_ACTION, "多福巷社区大党委")))
    for name in ("conferences:conference_detail", "conferences:meeting_detail", "conferences:action_detail"):
        out.append(Case(name, "outsider", gets[name], NOT_FOUND))
        out.append(Case(name, "community_staff_b", gets[name], NOT_FOUND))
    out.append(Case("conferences:conference_create", "unit_liaison", gets["conferences:conference_create"], FORBIDDEN))
    out.append(Case("conferences:conference_create", "district_admin", gets["conferences:conference_create"],
                    FORBIDDEN))
    # The street's own hub does not reach 景山's conference, meeting or action item.
    out.append(Case("conferences:conference_detail", "street_hub",
                    reverse("conferences:conference_detail", args=[w.other.pk]), NOT_FOUND))
    out.append(Case("conferences:meeting_detail", "unit_liaison",
                    reverse("conferences:meeting_detail", args=[w.other_meeting.pk]), NOT_FOUND))
    out.append(Case("conferences:action_detail", "unit_liaison",
                    reverse("conferences:action_detail", args=[w.other_action.pk]), NOT_FOUND))
    out.append(Case("conferences:action_detail", "unit_liaison",
                    reverse("conferences:action_detail", args=[w.other_action.pk]), NOT_FOUND, method="post",
                    data={"text": "越权", "status": "done"}))
    out.append(Case("conferences:agenda_propose", "unit_liaison",
                    reverse("conferences:agenda_propose", args=[w.other_meeting.pk]), NOT_FOUND, method="post",
                    data={"proposer": personas.orgs["unit"].pk, "title": "越权议题"}))
    # A community's conference is not the street hub's neighbour's, nor a liaison's whose unit is not in it.
    out.append(Case("conferences:conference_detail", "unit_liaison",
                    reverse("conferences:conference_detail", args=[w.community_conference.pk]), NOT_FOUND))
    return out
