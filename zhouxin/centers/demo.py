"""Party–masses service centres (党群服务中心) in the demo district, Dongcheng (idempotent; only where
the demo is enabled).

The district's first street (东华门街道) gets its street centre (“东华门街道党群服务中心”) and each of
its first four communities a centre (“多福巷社区党群服务站” …), with an address, a floor area that
meets the standards check (30 m² per 100 households, the minimum for the level) — except the last
community's, which is deliberately below the norm so the check flags it —, rooms (党员活动室,
多功能厅, 图书阅览室, 老年活动室, 儿童之家, 议事厅 …) with capacity and equipment, a service hall and
an office that are not booked, opening hours with evenings, weekends and holiday hours, and a
service catalogue.  The rota for the coming two weeks puts two staff on every open period (an A
post and a B post, taking turns), with one deliberate gap at a community centre so the warning
shows.

Over the past three months and the next two weeks the rooms are booked by the communities
themselves, by groups (合唱团, 太极拳队, 读书会 …), by residents on the portal and by resident units
through their liaisons: most past bookings used (with the attendance), a few no-shows, some
cancelled by the booker, some refused; coming ones pending, approved, refused or cancelled.  Some
bookings are published as events (讲座, 联欢会, 亲子阅读 …) that residents register for, with a
waiting list where the places ran out, cancellations that move the list up, QR check-ins, a walk-in
and a check-in by staff.  Every open day of the past three months has its visitor count.

Everything is written through the services (centres.py, bookings.py, events.py, utilisation.py) by
the demo logins where one covers the area (street_hub, community_staff; the grid worker and the
unit liaison of 多福巷社区), otherwise by data accounts with no password created by the demo system
administrator (community workers "demo_centre_<area>_<n>", the units' liaisons "demo_liaison_<unit>"
as in the volunteering demo).  Residents are portal accounts with numbers from the 199 0003 range.

Dates.  The booking and event services stamp "now" and refuse the past, so each step of a booking's
or an event's history runs with the clock of those two modules set to its moment (as the funds demo
does): requested a few days ahead, decided, published, registered, checked in, marked used.  The
audit trail keeps its real times; the bookings' and events' own creation times (plain columns) are
set to the moment afterwards.  No text message is sent for this history.

Idempotent: a centre is keyed by (area, name), a room by (centre, name), a service by (centre, name),
a duty shift by (centre, day, period, worker), a booking by (room, start), an event by (centre,
title, start), a visitor count by (centre, day); a second run finds them and writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone as real_timezone

from zhouxin.cobuild.demo import UNIT_KINDS
from zhouxin.core import policy
from zhouxin.core.choices import Role
from zhouxin.core.models import Grant
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Organisation
from zhouxin.orgs.services import community_short_name

from . import bookings, centres, events, utilisation
from .choices import BookerKind, BookingStatus, DutyRole, RegistrationStatus
from .models import Booking, Centre, DutyShift, Event, EventRegistration, Room, ServiceItem, VisitCount
from .policy import STANDARDS_KEY

COMMUNITIES = 4
DAYS_BACK = 91  # three months of history
DAYS_AHEAD = 13  # today and the next two weeks
ROTA_DAYS = 14
RESIDENTS = 60
RESIDENT_PHONE = "1990003{:04d}"
EVENT_SHARE = 0.2  # of the bookings fit for an event (讲座, 联欢会 …), the share published with registration
BUSY = 0.4  # scales the rooms' chances of a booking
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
CLOCKED = (bookings, events)  # the modules whose clock is set to each step's moment

WORKER_NAMES = ("王敏", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴倩", "徐涛", "孙悦", "马琳", "朱伟")

COMMUNITY_HOURS = {
    **{day: [["08:30", "12:00"], ["13:30", "20:30"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["09:00", "17:00"]], "sun": [["09:00", "17:00"]], "holiday": [["09:00", "12:00"]],
}
STREET_HOURS = {
    **{day: [["08:30", "12:00"], ["13:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["09:00", "18:00"]], "sun": [["09:00", "18:00"]], "holiday": [["09:00", "16:00"]],
}


@dataclass(frozen=True)
class RoomSpec:
    name: str
    share: float  # of the centre's floor area
    capacity: int
    equipment: str
    for_residents: bool = True
    bookable: bool = True
    needs_approval: bool = True
    busy: float = 0.3  # chance of a booking in one slot of an open day


COMMUNITY_ROOMS = (
    RoomSpec("党员活动室", 0.12, 30, "投影仪、音响、党建书架", busy=0.25),
    RoomSpec("多功能厅", 0.22, 80, "LED 显示屏、音响、无线话筒、折叠桌椅", busy=0.4),
    RoomSpec("图书阅览室", 0.10, 24, "图书约三千册、阅览桌椅、电子阅报屏", needs_approval=False, busy=0.2),
    RoomSpec("老年活动室", 0.10, 30, "棋牌桌、电视、血压计", busy=0.35),
    RoomSpec("儿童之家", 0.08, 20, "绘本、益智玩具、儿童桌椅", busy=0.25),
    RoomSpec("议事厅", 0.08, 25, "会议桌、话筒、投影仪", busy=0.2),
    RoomSpec("便民服务大厅", 0.12, 40, "综合受理窗口、自助服务终端、休息座椅", bookable=False),
    RoomSpec("办公室", 0.08, 8, "办公桌椅、电脑、档案柜", for_residents=False, bookable=False),
)
STREET_ROOMS = (
    RoomSpec("党员教育室", 0.08, 60, "投影仪、音响、党员教育电视", busy=0.3),
    RoomSpec("多功能厅", 0.20, 200, "舞台、LED 大屏、专业音响、灯光", busy=0.45),
    RoomSpec("图书阅览室", 0.08, 40, "图书约一万册、电子阅览终端", needs_approval=False, busy=0.25),
    RoomSpec("老年活动室", 0.08, 50, "棋牌桌、乒乓球台、电视", busy=0.35),
    RoomSpec("儿童之家", 0.06, 30, "绘本馆、益智玩具、亲子活动区", busy=0.25),
    RoomSpec("议事厅", 0.06, 40, "圆桌会议系统、投影仪", busy=0.25),
    RoomSpec("心理咨询室", 0.03, 6, "沙盘、放松椅", busy=0.15),
    RoomSpec("舞蹈排练室", 0.08, 40, "练功镜、把杆、音响", busy=0.35),
    RoomSpec("政务服务大厅", 0.15, 80, "综合受理窗口、叫号系统、自助服务终端", bookable=False),
    RoomSpec("办公区", 0.08, 20, "办公桌椅、电脑、档案柜", for_residents=False, bookable=False),
)

COMMUNITY_SERVICES = (
    ("党员教育管理", "党员组织关系转接、党费收缴、“三会一课”和主题党日", "工作日 8:30–17:30"),
    ("社会保障代办", "医保、养老保险、社保卡业务的咨询与代办", "工作日 8:30–17:30"),
    ("为老服务", "老年卡办理、助餐登记、居家养老服务预约", "工作日 8:30–17:30"),
    ("四点半课堂", "放学后的作业辅导和兴趣活动，由志愿者和共建单位开展", "工作日 16:30–18:30"),
    ("法律咨询", "社区律师坐班答疑，调解邻里纠纷", "每周三 14:00–17:00"),
    ("志愿服务", "志愿者注册、活动报名、服务时长查询", "开放时间内"),
    ("场地预约", "功能室免费向居民、居民团队和驻区单位开放预约", "开放时间内"),
)
STREET_SERVICES = (
    ("政务服务", "社区事务一站式受理：居住证、生育登记、残疾人证、低保申请等", "工作日 8:30–17:30，周六 9:00–12:00"),
    ("党员服务", "党员组织关系转接、流动党员登记、党员教育培训", "工作日 8:30–17:30"),
    ("就业创业指导", "岗位推荐、职业培训报名、创业担保贷款咨询", "工作日 8:30–17:30"),
    ("心理咨询", "专业心理咨询师一对一咨询，需提前预约", "每周六 9:00–12:00"),
    ("法律援助", "法律援助申请受理、律师值班答疑", "每周二、周四 14:00–17:00"),
    ("区域化党建", "驻区单位共建对接、需求和资源清单发布", "工作日 8:30–17:30"),
    ("场地预约", "功能室免费向居民、居民团队和驻区单位开放预约", "开放时间内"),
)


@dataclass(frozen=True)
class Use:
    """One way a room is used: by whom (booker kind), the title, the group's name, whether it is
    published as an event with registration."""

    kind: str
    title: str
    group: str = ""
    event: bool = False
    description: str = ""


ROOM_USES = {
    "党员活动室": (Use(BookerKind.STAFF, "党员大会"), Use(BookerKind.STAFF, "主题党日活动"),
              Use(BookerKind.UNIT, "共建单位党支部主题党日"), Use(BookerKind.GROUP, "党史学习", "党史学习小组")),
    "党员教育室": (Use(BookerKind.STAFF, "党员教育培训"), Use(BookerKind.UNIT, "共建单位党支部主题党日"),
              Use(BookerKind.STAFF, "党史学习教育报告会", event=True,
                  description="邀请党史专家讲述东城红色故事，欢迎党员和居民报名参加。")),
    "多功能厅": (Use(BookerKind.STAFF, "居民议事会"), Use(BookerKind.GROUP, "合唱排练", "夕阳红合唱团"),
             Use(BookerKind.UNIT, "职工健康讲座"),
             Use(BookerKind.STAFF, "防范电信诈骗讲座", event=True,
                 description="派出所民警讲解常见电信诈骗手法，现场答疑，欢迎居民报名。"),
             Use(BookerKind.STAFF, "邻里联欢会", event=True, description="居民自编自演的文艺节目，邻里同乐。"),
             Use(BookerKind.RESIDENT, "家庭教育交流会")),
    "图书阅览室": (Use(BookerKind.GROUP, "读书分享会", "邻里读书会", event=True,
                    description="每月一本好书，读者分享读后感，欢迎居民报名参加。"),
              Use(BookerKind.RESIDENT, "亲子绘本阅读"), Use(BookerKind.GROUP, "书画交流", "翰墨书画社")),
    "老年活动室": (Use(BookerKind.GROUP, "太极拳练习", "晨光太极拳队"), Use(BookerKind.GROUP, "棋牌活动", "老年棋牌队"),
              Use(BookerKind.RESIDENT, "老友聚会"),
              Use(BookerKind.STAFF, "老年人健康讲座", event=True, description="社区卫生服务中心医生讲解慢病管理和用药安全。")),
    "儿童之家": (Use(BookerKind.GROUP, "四点半课堂", "青苗志愿服务队"), Use(BookerKind.RESIDENT, "亲子手工"),
             Use(BookerKind.UNIT, "少儿科普课堂", event=True, description="共建单位的科普志愿者带孩子们动手做实验。")),
    "议事厅": (Use(BookerKind.STAFF, "楼门长会议"), Use(BookerKind.STAFF, "网格员例会"),
            Use(BookerKind.RESIDENT, "楼门议事"), Use(BookerKind.UNIT, "共建项目协调会")),
    "心理咨询室": (Use(BookerKind.STAFF, "心理咨询"), Use(BookerKind.RESIDENT, "家庭关系咨询")),
    "舞蹈排练室": (Use(BookerKind.GROUP, "广场舞排练", "东华舞蹈队"), Use(BookerKind.GROUP, "民族舞排练", "彩霞民族舞队"),
              Use(BookerKind.RESIDENT, "瑜伽练习")),
}
# Slots of a day (start, end): most in office hours, some in the evening, some at weekends.
WEEKDAY_SLOTS = ((9, 0, 11, 30), (14, 0, 17, 0), (15, 0, 16, 30), (18, 30, 20, 30))
WEEKEND_SLOTS = ((9, 0, 12, 0), (14, 0, 17, 0), (14, 30, 16, 30))
HOLIDAY_SLOTS = ((9, 30, 11, 30),)
REJECT_NOTES = ("该时段已安排社区集中活动，请改约其他时间。", "预计人数超过功能室容纳人数，请改约多功能厅。", "活动内容与功能室用途不符。")
CANCEL_REASONS = ("活动改期。", "参加人数不足，暂不举办。", "临时有事，改约下周。")
EVENT_CANCEL_REASON = "主讲人临时有事，活动改期举行，另行通知。"


# --- The clock of the booking and event modules ----------------------------------------------------

class _Clock:
    """django.utils.timezone as the booking and event modules see it while one step runs: now() is
    the moment of the step, everything else is the real module."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def now(self):
        return self.moment

    def localdate(self, value=None, timezone=None):
        return real_timezone.localdate(value or self.moment, timezone)

    def localtime(self, value=None, timezone=None):
        return real_timezone.localtime(value or self.moment, timezone)

    def __getattr__(self, name):
        return getattr(real_timezone, name)


@contextlib.contextmanager
def _at(moment: dt.datetime):
    clock = _Clock(moment)
    with contextlib.ExitStack() as stack:
        for module in CLOCKED:
            stack.enter_context(mock.patch.object(module, "timezone", clock))
        yield


class NoTexts:
    """The SMS backend while the demo history is written: nothing is sent."""

    def send(self, phone: str, text: str) -> None:
        return None


# --- The loader ----------------------------------------------------------------------------------

@dataclass
class Slot:
    room: Room
    starts: dt.datetime
    ends: dt.datetime
    use: Use


class _Loader:
    def __init__(self, seed: int):
        self.seed = seed
        self.now = real_timezone.now()
        self.today = real_timezone.localdate()
        self.created = {"centres": 0, "rooms": 0, "services": 0, "shifts": 0, "bookings": 0, "events": 0,
                        "registrations": 0, "visits": 0}
        User = get_user_model()
        self.admin = User.objects.filter(username="system_admin").first()
        self.users = {u.username: u for u in User.objects.filter(username__in=[
            "street_hub", "community_staff", "grid_worker"])}
        self.residents: list = []
        self.no_shows: dict[str, int] = {}

    def rng(self, key: str) -> random.Random:
        return random.Random(f"zhouxin-demo:{self.seed}:centers:{key}")

    def clock(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return real_timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    # Accounts ----------------------------------------------------------------------------------

    def _data_account(self, username: str, full_name: str, role: str, area: Area, organisation=None):
        """A demo data account (no password: nobody signs in with it) holding one grant."""
        from zhouxin.core import services as core_services

        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if self.admin is None:
                return None
            user = core_services.user_create(actor=self.admin, username=username, full_name=full_name[:64])
        if not Grant.objects.filter(user=user, role=role, area=area, active=True).exists():
            core_services.grant_add(actor=self.admin, user=user, role=role, area=area, organisation=organisation)
        return User.objects.get(pk=user.pk)  # fresh: its scope is built with the grant

    def staff(self, area: Area, street: Area):
        """Who keeps the centre of `area`: a demo login if one covers it, else the street's data account."""
        for name in ("community_staff", "street_hub"):
            user = self.users.get(name)
            if user is not None and can(user, "centers.manage", area.code):
                return user
        return self._data_account(f"demo_centre_{street.code}_1", f"{street.name}党群服务中心主任",
                                  Role.STREET_HUB, street)

    def workers(self, area: Area, index: int) -> list:
        """The two people on the centre's rota: demo logins where they work there, else data accounts."""
        found = []
        wanted = ("street_hub",) if area.level == AreaLevel.STREET else ("community_staff", "grid_worker")
        for name in wanted:
            user = self.users.get(name)
            if user is not None and Grant.objects.filter(user=user, active=True,
                                                         area__code__startswith=area.code).exists():
                found.append(user)
        role = Role.STREET_HUB if area.level == AreaLevel.STREET else Role.COMMUNITY_STAFF
        n = 1
        while len(found) < 2:
            name = WORKER_NAMES[(index * 2 + n - 1) % len(WORKER_NAMES)]
            user = self._data_account(f"demo_centre_{area.code}_{n + 1}", name, role, area)
            if user is None:
                break
            found.append(user)
            n += 1
        return found

    def liaison(self, unit: Organisation):
        grant = Grant.objects.filter(role=Role.UNIT_LIAISON, organisation=unit, active=True,
                                     user__is_active=True).select_related("user").order_by("pk").first()
        if grant is not None:
            return get_user_model().objects.get(pk=grant.user_id)
        return self._data_account(f"demo_liaison_{unit.pk}", f"{unit.name}共建联络员", Role.UNIT_LIAISON, unit.area,
                                  organisation=unit)

    def units(self, area: Area) -> list[tuple[Organisation, object]]:
        """Up to three resident units of a community with their liaison (who may book its centre)."""
        if area.level != AreaLevel.COMMUNITY:
            return []
        found = []
        for unit in Organisation.objects.filter(area=area, kind__in=UNIT_KINDS, is_active=True).order_by("name", "pk"):
            liaison = self.liaison(unit)
            if liaison is not None and can(liaison, "centers.book", area.code):
                found.append((unit, liaison))
            if len(found) == 3:
                break
        return found

    def resident(self, n: int):
        from zhouxin.portal import services as portal
        from zhouxin.portal.models import ResidentAccount

        while len(self.residents) <= n:
            phone = RESIDENT_PHONE.format(len(self.residents) + 1)
            index = portal.phone_index(phone)
            account = ResidentAccount.objects.filter(phone_index=index).first()
            if account is None:
                account = portal._account_for(phone, index, portal.account_consent()["version"])
            self.residents.append(account)
        return self.residents[n]

    # Centres -----------------------------------------------------------------------------------

    def floor_area(self, area: Area, flagged: bool) -> Decimal:
        """Enough for the standards (with a margin), or for the flagged centre clearly too little."""
        rule = policy.get(STANDARDS_KEY)
        level = area.level if area.level in centres.CENTRE_LEVELS else AreaLevel.COMMUNITY
        minimum = Decimal(str(rule[f"minimum_area_{level}"]))
        if flagged:
            return (minimum * Decimal("0.75")).quantize(Decimal("1"))
        households = (centres.households_of(area).total or 0) if level == AreaLevel.COMMUNITY else 0
        needed = max(minimum, Decimal(str(rule["area_per_100_households"])) * households / 100)
        step = 50 if level == AreaLevel.STREET else 10
        return Decimal(math.ceil(float(needed) * 1.12 / step) * step)

    def centre(self, area: Area, street: Area, *, name: str, address: str, hours: dict, specs, services,
               flagged: bool = False, phone: str = "") -> Centre:
        actor = self.staff(area, street)
        centre = Centre.objects.filter(area=area, name=name).select_related("area").first()
        if centre is None:
            centre = centres.centre_save(actor=actor, area=area, name=name, address=address,
                                         floor_area=self.floor_area(area, flagged), opening_hours=hours, phone=phone,
                                         description=_description(area))
            self.created["centres"] += 1
        existing = set(Room.objects.filter(centre=centre).values_list("name", flat=True))
        for spec in specs:
            if spec.name in existing:
                continue
            room_area = (centre.floor_area * Decimal(str(spec.share))).quantize(Decimal("1"))
            capacity = max(6, min(spec.capacity, int(room_area / Decimal("1.5"))))
            centres.room_save(actor=actor, centre=centre, name=spec.name, floor_area=room_area, capacity=capacity,
                              equipment=spec.equipment, for_residents=spec.for_residents, bookable=spec.bookable,
                              needs_approval=spec.needs_approval)
            self.created["rooms"] += 1
        listed = set(ServiceItem.objects.filter(centre=centre).values_list("name", flat=True))
        for order, (item, description, item_hours) in enumerate(services, start=1):
            if item not in listed:
                centres.service_item_save(actor=actor, centre=centre, name=item, description=description,
                                          hours=item_hours, order=order * 10)
                self.created["services"] += 1
        return Centre.objects.select_related("area").get(pk=centre.pk)

    # Rota --------------------------------------------------------------------------------------

    def rota(self, centre: Centre, street: Area, workers: list, *, gap: bool) -> None:
        """Two staff on every open period of the next two weeks, taking turns on the A and B posts;
        with `gap`, one evening (or the day's last period) three days ahead is left empty."""
        if len(workers) < 2:
            return
        actor = self.staff(centre.area, street)
        taken = set(DutyShift.objects.filter(centre=centre, day__gte=self.today).values_list(
            "day", "period", "worker_id"))
        gap_day = self.today + 3 * DAY
        for offset in range(ROTA_DAYS):
            day = self.today + offset * DAY
            periods = centres.open_periods(centres.opening_intervals(centre, day))
            for period in periods:
                if gap and day == gap_day and period == periods[-1]:
                    continue
                pair = workers[:2] if offset % 2 == 0 else [workers[1], workers[0]]
                for worker, role in zip(pair, (DutyRole.A, DutyRole.B), strict=True):
                    if (day, period, worker.pk) in taken:
                        continue
                    centres.rota_assign(actor=actor, centre=centre, day=day, period=period, worker=worker, role=role)
                    self.created["shifts"] += 1

    # Bookings and events -----------------------------------------------------------------------

    def slots(self, centre: Centre) -> list[Slot]:
        """The bookings of the centre's rooms over the period, by room and day: up to two slots a
        day that do not overlap, each taken with the room's `busy` chance."""
        specs = {s.name: s for s in (*COMMUNITY_ROOMS, *STREET_ROOMS)}
        rooms = list(Room.objects.filter(centre=centre, bookable=True, is_active=True).order_by("name"))
        out: list[Slot] = []
        for offset in range(-DAYS_BACK, DAYS_AHEAD + 1):
            day = self.today + offset * DAY
            kind = centres.day_kind(day)
            candidates = HOLIDAY_SLOTS if kind.holiday else WEEKEND_SLOTS if day.weekday() >= 5 else WEEKDAY_SLOTS
            intervals = centres.opening_intervals(centre, day)
            for room in rooms:
                uses = ROOM_USES.get(room.name)
                spec = specs.get(room.name)
                if not uses or spec is None:
                    continue
                rng = self.rng(f"slot:{centre.area.code}:{room.name}:{day.isoformat()}")
                chosen: list[tuple[dt.time, dt.time]] = []
                for h1, m1, h2, m2 in rng.sample(candidates, len(candidates)):
                    start, end = dt.time(h1, m1), dt.time(h2, m2)
                    if rng.random() >= spec.busy * BUSY or len(chosen) == 2:
                        continue
                    if not any(o <= start and end <= c for o, c in intervals):
                        continue
                    if any(start < e and s < end for s, e in chosen):
                        continue
                    chosen.append((start, end))
                for start, end in chosen:
                    use = rng.choice(uses)
                    out.append(Slot(room, self.clock(day, start.hour, start.minute),
                                    self.clock(day, end.hour, end.minute), use))
        return sorted(out, key=lambda s: (s.starts, s.room.pk))

    def history(self, centre: Centre, street: Area) -> None:
        staff = self.staff(centre.area, street)
        units = self.units(centre.area)
        existing = set(Booking.objects.filter(room__centre=centre).values_list("room_id", "starts_at"))
        for slot in self.slots(centre):
            if (slot.room.pk, slot.starts) in existing:
                continue
            try:
                self.booking(centre, staff, units, slot)
            except ValidationError:  # the slot was taken meanwhile, or a booker is paused: leave it out
                continue
        self.open_day_event(centre, staff)

    def _moments(self, rng: random.Random, slot: Slot) -> tuple[dt.datetime, dt.datetime]:
        """When the booking was requested and decided: a few days ahead, never after now."""
        latest = min(slot.starts, self.now) - dt.timedelta(minutes=20)
        requested = min(slot.starts - dt.timedelta(days=rng.uniform(2, 9)),
                        self.now - dt.timedelta(hours=rng.uniform(2, 40)))
        requested = real_timezone.localtime(requested).replace(second=0, microsecond=0)
        decided = requested + dt.timedelta(hours=rng.uniform(1, 20))
        if decided >= latest:
            decided = requested + (latest - requested) / 2
        return requested, decided

    def booking(self, centre: Centre, staff, units, slot: Slot) -> None:
        rng = self.rng(f"booking:{centre.area.code}:{slot.room.name}:{slot.starts.isoformat()}")
        use = slot.use
        kind = use.kind
        if kind == BookerKind.UNIT and not units:
            kind = BookerKind.STAFF
        who: dict = {"actor": staff}
        booker = ""  # residents and units are paused after too many no-shows: one each at most here
        title = use.title
        if kind == BookerKind.UNIT:
            unit, liaison = units[rng.randrange(len(units))]
            who = {"actor": liaison, "organisation": unit}
            booker = f"unit:{unit.pk}"
        elif kind == BookerKind.RESIDENT:
            account = self.resident(rng.randrange(RESIDENTS))
            who = {"account": account}
            booker = f"resident:{account.pk}"
        elif kind == BookerKind.GROUP:
            who = {"actor": staff, "group_name": use.group}
            booker = f"group:{use.group}"
        capacity = slot.room.capacity
        expected = max(1, min(capacity, rng.randint(max(2, capacity // 4), max(3, capacity * 3 // 4))))
        requested, decided = self._moments(rng, slot)
        past = slot.ends <= self.now
        started = slot.starts <= self.now
        roll = rng.random()
        as_event = use.event and rng.random() < EVENT_SHARE
        if as_event:
            story = "used" if past else "approved"
        elif past:
            story = ("rejected" if roll < 0.06 else "cancelled" if roll < 0.13 else
                     "no_show" if roll < 0.19 and booker and self.no_shows.get(booker, 0) < 1 else "used")
        elif started:
            story = "approved"
        else:
            story = "pending" if roll < 0.3 else "rejected" if roll < 0.38 else "cancelled" if roll < 0.46 else "approved"
        if not slot.room.needs_approval and story in ("pending", "rejected"):
            story = "approved" if not past else "used"

        with _at(requested):
            booking = bookings.booking_request(room=slot.room, title=title, starts_at=slot.starts, ends_at=slot.ends,
                                               expected=expected, booker_kind=kind, **who)
        self.created["bookings"] += 1
        Booking.objects.filter(pk=booking.pk).update(created_at=requested)
        if story == "pending":
            return
        if booking.status == BookingStatus.PENDING:
            with _at(decided):
                booking = bookings.booking_decide(actor=staff, booking=booking, approve=story != "rejected",
                                                  note=rng.choice(REJECT_NOTES) if story == "rejected" else "")
        if story == "rejected":
            return
        if story == "cancelled":
            cancel_at = decided + (min(slot.starts, self.now) - decided) * rng.uniform(0.2, 0.8)
            with _at(cancel_at):
                canceller = {"account": who["account"]} if "account" in who else {"actor": who["actor"]}
                bookings.booking_cancel(booking=booking, reason=rng.choice(CANCEL_REASONS), **canceller)
            return
        event = None
        if as_event:
            event = self.event_on(centre, staff, booking, slot, decided, rng)
        if story in ("used", "no_show") and slot.ends + dt.timedelta(minutes=15) <= self.now:
            done_at = slot.ends + dt.timedelta(minutes=rng.randint(15, 90))
            done_at = min(done_at, self.now)
            with _at(done_at):
                if story == "no_show":
                    bookings.booking_mark_no_show(actor=staff, booking=booking)
                    self.no_shows[booker] = self.no_shows.get(booker, 0) + 1
                else:
                    came = None
                    if event is not None:
                        came = EventRegistration.objects.filter(event=event, checked_in_at__isnull=False).count()
                    attended = max(1, (came or 0) + rng.randint(0, 3)) if event is not None else max(
                        1, expected - rng.randint(0, max(1, expected // 4)))
                    bookings.booking_complete(actor=staff, booking=booking, attended=attended)

    def event_on(self, centre: Centre, staff, booking: Booking, slot: Slot, decided: dt.datetime,
                 rng: random.Random) -> Event | None:
        """Publish the booking as an event, then residents register (a waiting list when it is full),
        a few withdraw, and those who come check in by QR (a walk-in, one checked in by staff)."""
        title = slot.use.title
        if Event.objects.filter(centre=centre, title=title, starts_at=slot.starts).exists():
            return None
        published = decided + dt.timedelta(minutes=rng.randint(30, 180))
        if published >= min(slot.starts, self.now):
            published = decided + (min(slot.starts, self.now) - decided) / 3
        capacity = max(6, min(slot.room.capacity, rng.randint(10, 24)))
        with _at(published):
            event = events.event_create(actor=staff, centre=centre, title=title, starts_at=None, ends_at=None,
                                        capacity=capacity, description=slot.use.description, booking=booking)
        Event.objects.filter(pk=event.pk).update(created_at=published)
        self.created["events"] += 1
        self.registrations(event, staff, slot, published, rng)
        return event

    def open_day_event(self, centre: Centre, staff) -> None:
        """An event without a room booking: a neighbourhood fair a few weekends ago (community
        centres) or an open day next weekend (the street centre), with registrations."""
        if centre.area.level == AreaLevel.STREET:
            title, offset, hour = "党群服务中心开放日", 7 - self.today.weekday() + 5, 9  # next Saturday
            description = "参观中心功能室，体验政务服务和志愿服务项目，现场有便民服务和文艺展示。"
        else:
            title, offset, hour = "邻里节游园会", -(self.today.weekday() + 2 + 14), 9  # a Saturday weeks ago
            description = "社区邻里节：猜灯谜、套圈、便民服务和文艺表演，欢迎居民全家参加。"
        day = self.today + offset * DAY
        starts, ends = self.clock(day, hour), self.clock(day, hour + 3)
        if Event.objects.filter(centre=centre, title=title, starts_at=starts).exists():
            return
        rng = self.rng(f"open-day:{centre.area.code}:{day.isoformat()}")
        published = min(starts - 10 * DAY, self.now - HOUR)
        with _at(published):
            event = events.event_create(actor=staff, centre=centre, title=title, starts_at=starts, ends_at=ends,
                                        capacity=40, description=description, **self.links(centre))
        Event.objects.filter(pk=event.pk).update(created_at=published)
        self.created["events"] += 1
        slot = Slot(room=None, starts=starts, ends=ends, use=Use(BookerKind.STAFF, title, event=True))
        self.registrations(event, staff, slot, published, rng)

    def links(self, centre: Centre) -> dict:
        """A volunteer activity and a co-building project of the centre's area, when the other demos
        made one (the event links to them; nothing is counted twice)."""
        found = {}
        activity = events.activity_choices(centre).order_by("-pk").first()
        if activity is not None:
            found["volunteer_activity"] = activity
        project = events.project_choices(centre).order_by("-pk").first()
        if project is not None:
            found["project"] = project
        return found

    def registrations(self, event: Event, staff, slot: Slot, published: dt.datetime, rng: random.Random) -> None:
        if published >= self.now:
            return
        last_call = min(slot.starts - dt.timedelta(minutes=30), self.now - dt.timedelta(minutes=5))
        if last_call <= published:
            return
        wanted = min(RESIDENTS, event.capacity + rng.randint(-event.capacity // 3, 4))
        people = rng.sample(range(RESIDENTS), max(1, wanted))
        span = last_call - published
        moments = sorted(published + span * rng.random() for _n in people)
        registered = []
        for person, moment in zip(people, moments, strict=True):
            account = self.resident(person)
            with _at(moment):
                try:
                    registration = events.event_register(account=account, event=event)
                except ValidationError:
                    continue
            registered.append((registration, moment))
            self.created["registrations"] += 1
        # A few withdraw before the start; a place they give back goes to the waiting list.
        for registration, moment in registered:
            if registration.status == RegistrationStatus.REGISTERED and rng.random() < 0.08:
                withdraw_at = moment + (last_call - moment) * rng.uniform(0.3, 0.9)
                with _at(withdraw_at):
                    events.event_cancel_registration(account=registration.account, event=event)
        if slot.starts > self.now:
            return
        # Check-in: most of those with a place scan the code; a walk-in; one is checked in by staff.
        current = list(EventRegistration.objects.filter(event=event, status=RegistrationStatus.REGISTERED)
                       .select_related("account").order_by("registered_at", "pk"))
        latest = min(slot.ends, self.now) - dt.timedelta(minutes=1)
        for n, registration in enumerate(current):
            if rng.random() >= 0.82:
                continue
            at = slot.starts + dt.timedelta(minutes=rng.randint(-25, 20))
            at = min(at, latest)
            with _at(at):
                if n == 0:
                    events.registration_check_in(actor=staff, registration=registration)
                else:
                    token = events.checkin_token(event, issued_at=at)
                    events.check_in(account=registration.account, token=token)
        walk_in = self.resident(rng.choice([i for i in range(RESIDENTS) if i not in set(people)] or [0]))
        at = min(slot.starts + dt.timedelta(minutes=5), latest)
        with _at(at), contextlib.suppress(ValidationError):
            events.check_in(account=walk_in, token=events.checkin_token(event, issued_at=at), walk_in=True)
            self.created["registrations"] += 1

    # Visitors ----------------------------------------------------------------------------------

    def visits(self, centre: Centre, street: Area, *, base: int) -> None:
        actor = self.staff(centre.area, street)
        counted = set(VisitCount.objects.filter(centre=centre).values_list("day", flat=True))
        for offset in range(DAYS_BACK, 0, -1):
            day = self.today - offset * DAY
            if day in counted:
                continue
            intervals = centres.opening_intervals(centre, day)
            if not intervals:
                continue
            rng = self.rng(f"visits:{centre.area.code}:{day.isoformat()}")
            hours = sum((dt.datetime.combine(day, e) - dt.datetime.combine(day, s)).seconds for s, e in intervals) / 3600
            factor = 1.25 if day.weekday() >= 5 else 1.0
            season = 1 + 0.12 * math.sin(day.toordinal() / 9)
            visitors = max(0, round(base * hours / 10.5 * factor * season * rng.uniform(0.75, 1.25)))
            utilisation.visits_record(actor=actor, centre=centre, day=day, visitors=visitors)
            self.created["visits"] += 1


def _description(area: Area) -> str:
    if area.level == AreaLevel.STREET:
        return (f"{area.name}党群服务中心是街道党工委联系服务党员群众的综合平台，提供政务服务、党员教育、"
                "区域化党建、文化活动和志愿服务，功能室免费向居民、团队和驻区单位开放。")
    return (f"{community_short_name(area.name)}党群服务站就近服务社区居民，开展党员活动、为老服务、儿童托管、居民议事和文体活动，"
            "晚间和周末照常开放。")


def _stem(name: str, suffix: str) -> str:
    return name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else name


def load_demo_centers(*, seed: int = orgs_demo.DEFAULT_SEED) -> dict[str, int]:
    """Write the centres and their history that are not there yet; returns what was added, by kind."""
    orgs_demo.ensure_demo_available()
    with scopes_disabled(), override_settings(SMS_BACKEND="zhouxin.centers.demo.NoTexts"):
        loader = _Loader(seed)
        street = (Area.objects.filter(code__startswith=orgs_demo.DISTRICT_CODE, level=AreaLevel.STREET, is_active=True)
                  .order_by("code").first())
        if street is None:
            return loader.created
        communities = list(Area.objects.filter(parent=street, level=AreaLevel.COMMUNITY, is_active=True)
                           .order_by("code")[:COMMUNITIES])
        street_stem = _stem(street.name, "街道")
        plans = [(street, {"name": f"{street.name}党群服务中心", "address": f"东城区{street_stem}大街58号",
                           "hours": STREET_HOURS, "specs": STREET_ROOMS, "services": STREET_SERVICES,
                           "phone": "010-65120001"}, 260)]
        for n, community in enumerate(communities):
            short = community_short_name(community.name)  # 多福巷社区居委会 → 多福巷社区
            stem = _stem(short, "社区")
            hours = dict(COMMUNITY_HOURS)
            if n == 2:  # one station opens only on Sunday mornings
                hours["sun"] = [["09:00", "12:00"]]
            flagged = n == len(communities) - 1 and len(communities) > 1
            plans.append((community, {"name": f"{short}党群服务站", "address": f"东城区{stem}{12 + n * 7}号",
                                      "hours": hours, "specs": COMMUNITY_ROOMS, "services": COMMUNITY_SERVICES,
                                      "flagged": flagged, "phone": f"010-6512{1001 + n * 111:04d}"},
                          45 if flagged else 70 + 10 * n))
        gap_at = min(2, len(plans) - 1)  # the second community's centre (or the last one) has a gap
        for index, (area, spec, base) in enumerate(plans):
            with transaction.atomic():
                centre = loader.centre(area, street, **spec)
                loader.rota(centre, street, loader.workers(area, index), gap=index == gap_at)
            with transaction.atomic():
                loader.history(centre, street)
            with transaction.atomic():
                loader.visits(centre, street, base=base)
    return loader.created
