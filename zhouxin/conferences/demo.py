"""Joint conferences for the demo district (idempotent; only where the demo is enabled).

东华门街道大工委 with the street's resident units, community Party committees and two district
departments as member units, part-time members drawn from those units' staff (one term about
to expire), a liaison meeting and a plenary half a year ago and again last month with attendance,
minutes, decisions and action items (one overdue and escalated by the sweep), and a topic meeting
next fortnight with agenda items proposed by the demo unit liaison; and 多福巷社区大党委.

Everything is written through the services by the demo logins, so it is audited like real work.
A second run finds the conferences by name and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from zhouxin.core.models import Grant
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Area, Organisation, Person

from . import services
from .choices import ActionStatus, AttendanceStatus, ConferenceKind, MeetingKind
from .models import JointConference

STREET = "110101001"
COMMUNITY = "110101001001"
STREET_NAME = "东华门街道大工委"
COMMUNITY_NAME = "多福巷社区大党委"

# (decision, action item, days to do it, words in the owner unit's name, first that matches)
DECISIONS = (
    ("驻区单位内部停车场夜间向周边居民错时开放，缓解胡同停车难。", "夜间错时开放内部停车位", 25, ("银行", "集团")),
    ("组织医疗卫生单位每月进社区开展一次义诊和健康讲座。", "每月进社区义诊一次", 40, ("医院", "卫生服务中心")),
    ("对背街小巷环境开展联合整治，拆除违规广告牌匾。", "拆除违规广告牌匾并复查", 15, ("城市管理", "城管")),
    ("学校体育场地在寒暑假期间向社区青少年开放。", "假期开放学校体育场地", 30, ("小学", "中学")),
)
DEPARTMENT_WORDS = ("城市管理", "卫生健康", "市场监督")
AGENDA = (
    ("老旧小区加装电梯协调推进", "收集各社区加装电梯意向，协调施工期间临时停车与出行。"),
    ("共建单位志愿服务积分互认", "建议成员单位党员到社区报到服务的时长纳入单位考核。"),
)


def load_demo_conferences(*, seed: int = orgs_demo.DEFAULT_SEED) -> int:
    """Create the demo conferences that are not there yet; returns how many were created."""
    orgs_demo.ensure_demo_available()
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["street_hub", "community_staff", "unit_liaison"])}
    if len(users) < 3:
        return 0
    created = 0
    with scopes_disabled():
        street = Area.objects.filter(code=STREET).first()
        community = Area.objects.filter(code=COMMUNITY).first()
        if street is None or community is None:
            return 0
        if not JointConference.objects.filter(area=street, name=STREET_NAME).exists():
            with transaction.atomic():
                _street_conference(users, street, random.Random(f"{seed}:conferences:{STREET}"))
            created += 1
        if not JointConference.objects.filter(area=community, name=COMMUNITY_NAME).exists():
            with transaction.atomic():
                _community_conference(users, community)
            created += 1
        services.conference_sweep()
    return created


def _units(street: Area) -> list[Organisation]:
    resident = list(Organisation.objects.filter(area__code__startswith=street.code, kind=OrgKind.RESIDENT_UNIT,
                                                is_active=True).order_by("name")[:8])
    committees = list(Organisation.objects.filter(area__code__startswith=street.code, area__level="community",
                                                  kind=OrgKind.PARTY_COMMITTEE).order_by("area__code")[:4])
    departments = [o for o in Organisation.objects.filter(area__code=street.code[:6], kind=OrgKind.DEPARTMENT,
                                                          is_active=True).order_by("name")
                   if any(word in o.name for word in DEPARTMENT_WORDS)][:3]
    return resident + committees + departments


def _street_conference(users, street: Area, rng: random.Random) -> None:
    hub, liaison = users["street_hub"], users["unit_liaison"]
    today = timezone.localdate()
    start = dt.date(today.year - 3, 3, 15)
    conference = services.conference_create(actor=hub, area=street, kind=ConferenceKind.BIG_WORKING_COMMITTEE,
                                            name=STREET_NAME, established_on=start, convenor="街道党工委书记 李淑珍")
    liaison_unit_ids = list(Grant.objects.filter(user=liaison, active=True).values_list("organisation_id", flat=True))
    units = _units(street)
    units += [o for o in Organisation.objects.filter(pk__in=liaison_unit_ids) if o not in units]
    for unit in units:
        services.membership_add(actor=hub, conference=conference, organisation=unit, joined_on=start)
    seats = []
    for unit in (u for u in units if u.kind == OrgKind.RESIDENT_UNIT):
        person = Person.objects.filter(work_unit=unit, is_party_member=True).order_by("pk").first()
        if person is None or len(seats) >= 5:
            continue
        # One term ends in three weeks: the conference page warns about it.
        term_end = today + dt.timedelta(days=21) if not seats else dt.date(today.year + 2, 3, 14)
        seats.append(services.part_time_member_add(
            actor=hub, conference=conference, person=person, unit=unit,
            role="deputy_secretary" if len(seats) == 1 else "member", term_start=dt.date(today.year - 1, 3, 15),
            term_end=term_end))

    # Two rounds: half a year ago and last month, each a liaison meeting then the plenary.
    for round_no, plenary_day in enumerate((today - dt.timedelta(days=190), today - dt.timedelta(days=28))):
        half = "上半年" if plenary_day.month <= 6 else "下半年"
        liaison_meeting = services.meeting_create(
            actor=hub, conference=conference, kind=MeetingKind.LIAISON,
            title=f"{plenary_day.year}年{half}大工委联络员会议", held_on=plenary_day - dt.timedelta(days=10),
            place="东华门街道党群服务中心二楼会议室")
        services.meeting_mark_held(actor=hub, meeting=liaison_meeting)
        services.minutes_save(actor=hub, meeting=liaison_meeting,
                              text="各成员单位联络员汇总了本单位拟提交全体会议的议题，街道党工委逐项梳理后形成会议议程。")
        services.minutes_approve(actor=hub, meeting=liaison_meeting)
        plenary = services.meeting_create(
            actor=hub, conference=conference, kind=MeetingKind.PLENARY,
            title=f"{plenary_day.year}年{half}大工委全体会议", held_on=plenary_day, place="东华门街道党群服务中心报告厅")
        services.meeting_mark_held(actor=hub, meeting=plenary)
        expected_units, expected_seats = services.attendees(plenary)
        marks = {m.pk: rng.choices([AttendanceStatus.PRESENT, AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT],
                                   weights=[85, 10, 5])[0] for m in expected_units}
        services.attendance_record(actor=hub, meeting=plenary, units=marks,
                                   seats={s.pk: AttendanceStatus.PRESENT for s in expected_seats})
        services.minutes_save(actor=hub, meeting=plenary, text=(
            "会议由街道党工委书记主持。会议通报了上一阶段区域化党建工作情况，各成员单位交流了共驻共建项目进展，"
            "审议通过了本阶段共建事项清单，明确了责任单位和完成时限。"))
        for text, title, days, words in DECISIONS[round_no * 2:round_no * 2 + 2]:
            owner = next((u for word in words for u in units if word in u.name), units[0])
            services.decision_record(actor=hub, meeting=plenary, text=text, as_of=plenary_day,
                                     actions=[services.ActionSpec(owner=owner, title=title,
                                                                  due_on=plenary_day + dt.timedelta(days=days))])
        services.minutes_approve(actor=hub, meeting=plenary)

    # The first round's action items: one done, one left open (the sweep marks it overdue).
    first_round = conference.meetings.filter(kind=MeetingKind.PLENARY).order_by("held_on").first()
    done = first_round.decisions.order_by("pk").first().action_items.first()
    services.action_progress(actor=hub, item=done, text="已与各单位签订错时停车协议，开放车位 120 个。",
                             status=ActionStatus.DONE)

    topic = services.meeting_create(actor=hub, conference=conference, kind=MeetingKind.TOPIC,
                                    title="老旧小区加装电梯专题会", held_on=today + dt.timedelta(days=14),
                                    place="东华门街道党群服务中心二楼会议室")
    for unit_id in liaison_unit_ids:
        unit = Organisation.objects.filter(pk=unit_id).first()
        if unit is not None and unit in units:
            for title, description in AGENDA:
                services.agenda_propose(actor=liaison, meeting=topic, proposer=unit, title=title,
                                        description=description)
            break


def _community_conference(users, community: Area) -> None:
    staff = users["community_staff"]
    today = timezone.localdate()
    conference = services.conference_create(actor=staff, area=community, kind=ConferenceKind.BIG_PARTY_COMMITTEE,
                                            name=COMMUNITY_NAME, established_on=dt.date(today.year - 2, 6, 1),
                                            convenor="社区党委书记 张丽华")
    for unit in Organisation.objects.filter(area=community, kind__in=[OrgKind.RESIDENT_UNIT, OrgKind.SOCIAL_ORG,
                                                                      OrgKind.NONPUBLIC_ENTERPRISE]).order_by("name")[:6]:
        services.membership_add(actor=staff, conference=conference, organisation=unit,
                                joined_on=dt.date(today.year - 2, 6, 1))
    services.meeting_create(actor=staff, conference=conference, kind=MeetingKind.LIAISON,
                            title="社区大党委联络员会议", held_on=today + dt.timedelta(days=7), place="多福巷社区党群服务站")
