"""A small conference world on top of the personas, shared by the tests and the outsider cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from zhouxin.core.crypto import blind_index
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation, Person

from .. import services
from ..choices import ConferenceKind, MeetingKind
from ..models import ActionItem, JointConference, Meeting, Membership

OTHER_NAME = "景山街道大工委"
OTHER_MEETING = "景山街道大工委2026年上半年全体会议"
OTHER_ACTION = "景山后街停车整治方案"


@dataclass
class World:
    conference: JointConference
    community_conference: JointConference
    other: JointConference
    meeting: Meeting  # held, street_a conference
    planned: Meeting
    other_meeting: Meeting
    action: ActionItem  # owned by the personas' unit
    other_action: ActionItem
    seat_person: Person
    unit_membership: Membership
    school: Organisation


def build_world(personas) -> World:
    a, o = personas.areas, personas.orgs
    hub, staff = personas.street_hub, personas.community_staff
    today = timezone.localdate()
    with scopes_disabled():
        school = Organisation.objects.create(name="东华门小学", kind=OrgKind.RESIDENT_UNIT, area=a["community_a2"])
        conference = services.conference_create(
            actor=hub, area=a["street_a"], kind=ConferenceKind.BIG_WORKING_COMMITTEE, name="东华门街道大工委",
            established_on=dt.date(2020, 3, 1), convenor="街道党工委书记 李淑珍")
        joined = dt.date(2020, 3, 1)
        unit_membership = services.membership_add(actor=hub, conference=conference, organisation=o["unit"],
                                                  joined_on=joined)
        for org in (o["community_a_committee"], o["department"], school):
            services.membership_add(actor=hub, conference=conference, organisation=org, joined_on=joined)
        seat_person = Person.objects.create(
            name="钱卫东", home_area=a["community_a"], phone="13511112222", phone_index=blind_index("phone", "13511112222"),
            work_unit=o["unit"], is_party_member=True)
        services.part_time_member_add(actor=hub, conference=conference, person=seat_person, unit=o["unit"],
                                      role="deputy_secretary", term_start=dt.date(2024, 1, 1),
                                      term_end=today + dt.timedelta(days=400))
        community_conference = services.conference_create(
            actor=staff, area=a["community_a"], kind=ConferenceKind.BIG_PARTY_COMMITTEE, name="多福巷社区大党委",
            established_on=dt.date(2021, 5, 1), convenor="社区党委书记 张丽华")
        meeting = services.meeting_create(actor=hub, conference=conference, kind=MeetingKind.PLENARY,
                                          title="东华门街道大工委全体会议", held_on=today - dt.timedelta(days=2),
                                          place="街道党群服务中心")
        services.meeting_mark_held(actor=hub, meeting=meeting)
        planned = services.meeting_create(actor=hub, conference=conference, kind=MeetingKind.TOPIC,
                                          title="老旧小区加装电梯专题会", held_on=today + dt.timedelta(days=10),
                                          place="街道二楼会议室")
        decision = services.decision_record(
            actor=hub, meeting=meeting, text="共驻共建单位开放停车位",
            actions=[services.ActionSpec(owner=o["unit"], title="医院夜间开放停车位 50 个",
                                         due_on=today + dt.timedelta(days=20))])
        action = decision.action_items.get()

        # Another street's conference (景山街道), created as the system would.
        other = JointConference.objects.create(area=a["street_b"], kind=ConferenceKind.BIG_WORKING_COMMITTEE,
                                               name=OTHER_NAME, established_on=dt.date(2020, 1, 1),
                                               convenor="景山街道党工委书记")
        Membership.objects.create(conference=other, organisation=o["community_b_committee"], joined_on=dt.date(2020, 1, 1))
        other_meeting = Meeting.objects.create(conference=other, kind=MeetingKind.PLENARY, title=OTHER_MEETING,
                                               held_on=today - dt.timedelta(days=3), place="景山街道办", status="held")
        other_decision = other_meeting.decisions.create(text="停车整治")
        other_action = ActionItem.objects.create(decision=other_decision, owner=o["community_b_committee"],
                                                 title=OTHER_ACTION, due_on=today + dt.timedelta(days=5))
    return World(conference=conference, community_conference=community_conference, other=other, meeting=meeting,
                 planned=planned, other_meeting=other_meeting, action=action, other_action=other_action,
                 seat_person=seat_person, unit_membership=unit_membership, school=school)
