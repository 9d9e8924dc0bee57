"""A year of dual registration and volunteering (双报到) in the demo district, Dongcheng
(idempotent; only where the demo is enabled).

Around 东华门, 景山, 交道口 and 安定门 streets: resident units (hospitals, schools, banks, couriers,
property firms …) register with the community where they sit (单位报到), most confirmed by the
community, a few still pending; in-service Party members (orgs.Person is_party_member with a work
unit: the people the orgs demo created, or, where a street has too few, members created through
the orgs services) register with their home community (在职党员到居住社区报到): most confirmed —
some renewed after six months —, some expired and never renewed, a few pending, and some never
registered, so the completion figures flag units below the 95 % line.  Some members open a portal
account (the phone of their record) and act there; the others are registered by the community.

Over the past year the communities ran about forty activities (关爱老人, 环境卫生, 文明引导, 平安巡逻,
文体活动 …) with sign-ups on the portal and by the organiser, check-in and check-out confirmed by the
organiser with explicit times (so the hours are verified; twice a member served at two overlapping
activities, which the hours merge), some no-shows and two cancellations; a few activities are
still open for sign-up.  About thirty micro-wishes went through the three-order chain: ordered by
residents (or collected on paper by the community), posted, taken by members or units, completed
and thanked with stars; a few are still open on the wall.  The points come from the services.
Last, a yearly feedback letter batch is generated for two units (files under MEDIA_ROOT).

Everything is written through the services (registration.py, activities.py, checkin.py,
wishes.py, feedback.py) by the demo logins: community staff or the street hub of the area, and
the units' liaisons.  Units without a liaison login, and streets without a staff login, get a data
account created by the demo system administrator through the core services, with no password,
as the co-building demo does (the same usernames, so both demos share them).  Residents are
portal accounts opened through the portal service, with numbers from the 199 0001 range.

Dates.  Services that take a date or time get it (check-in and check-out times, the renewal day).
The others stamp "now"; like the co-building demo, the loader then moves each story's timestamps
back to the day it happened (registered, decided, renewed; created, signed up, verified; ordered,
posted, taken, completed, thanked; the points' earned day).  An activity can only be created,
published and signed up for before it starts, so a past activity is created for the next days and
then moved to the day it happened, before its check-ins are confirmed.  A wish's number carries
its day, so it is numbered again for the day it was ordered.  The audit trail keeps its real
times, and no text message is sent for this history.

Idempotent: a unit registration is keyed by (unit, community), a member's by the member, an
activity by (community, title), a wish by (community, title), a feedback batch by (unit, kind,
period), an account by its username or phone; a second run finds them and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from zhouxin.cobuild.demo import STREETS, UNIT_KINDS
from zhouxin.core.choices import Role
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import Grant
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation, Person
from zhouxin.orgs.services import community_short_name

from . import activities, checkin, registration, wishes
from .choices import ActivityCategory, FeedbackKind, PointSource, RegistrationStatus
from .models import Activity, FeedbackBatch, MemberRegistration, PointEntry, SignUp, UnitRegistration, Wish

COMMUNITIES_PER_STREET = 4
UNITS_PER_STREET = 6
MIN_MEMBERS_PER_STREET = 6  # fewer Party members with a work unit: the demo creates the rest
ACTIVITIES_PER_STREET = 10
WISHES_PER_COMMUNITY = 2
WISHES = 30
RESIDENTS = 30
RESIDENT_PHONE = "1990001{:04d}"
MEMBER_PHONE = "19900019{:03d}"  # members the demo creates (0900-0999: apart from the residents)
FEEDBACK_UNITS = 2
DAY = dt.timedelta(days=1)

A = ActivityCategory


@dataclass(frozen=True)
class Template:
    category: str
    title: str
    description: str
    place: str  # "{c}": the community's short name
    start: tuple[int, int]
    minutes: int
    slots: int
    members_only: bool = False


TEMPLATES = (
    Template(A.ELDERLY, "独居老人上门探访", "两人一组走访辖区独居、空巢老人，聊聊家常，查看水电燃气，登记生活需求。",
             "{c}党群服务中心集合", (9, 0), 150, 10),
    Template(A.ELDERLY, "老年人智能手机课堂", "一对一教老人使用健康码、视频通话、网上挂号和防诈骗设置。",
             "{c}活动室", (14, 30), 120, 8),
    Template(A.ELDERLY, "为老助餐送餐到户", "协助社区养老驿站把午餐送到行动不便的高龄老人家中。",
             "{c}养老服务驿站", (11, 0), 90, 6),
    Template(A.ENVIRONMENT, "胡同楼道环境清洁日", "清理楼道堆物和小广告，擦拭楼道扶手，打扫胡同卫生死角。",
             "{c}居委会门口集合", (8, 30), 120, 15),
    Template(A.ENVIRONMENT, "垃圾分类桶前值守", "早晚高峰在垃圾分类驿站桶前指导居民分类投放，劝导混投。",
             "{c}垃圾分类驿站", (7, 0), 120, 8, True),
    Template(A.ENVIRONMENT, "绿地认养与补植", "为社区认养绿地松土、补植、浇水，清理枯枝落叶。",
             "{c}小花园", (9, 30), 120, 12),
    Template(A.CIVILITY, "路口文明交通引导", "早高峰在社区周边路口引导行人和非机动车遵守信号灯、不闯红灯。",
             "{c}周边主要路口", (7, 30), 90, 10, True),
    Template(A.CIVILITY, "共享单车规范停放整理", "整理地铁口和胡同口乱停放的共享单车，劝导文明停车。",
             "{c}地铁口", (16, 0), 90, 10),
    Template(A.SAFETY, "夜间平安巡逻", "佩戴红袖标沿胡同巡查，留意消防通道堵塞、电动车飞线充电等隐患。",
             "{c}治安巡逻岗亭", (19, 0), 120, 8),
    Template(A.SAFETY, "节前消防安全检查", "随社区工作人员入户宣传冬季用火用电安全，检查灭火器和烟感。",
             "{c}党群服务中心集合", (14, 0), 150, 8, True),
    Template(A.CULTURE, "社区邻里节志愿服务", "协助布置场地、维持秩序、服务老人和儿童参加游园活动。",
             "{c}文化广场", (9, 0), 240, 20),
    Template(A.CHILDREN, "四点半课堂作业辅导", "为双职工家庭的小学生辅导作业、陪读绘本。",
             "{c}四点半课堂", (16, 30), 120, 6),
    Template(A.PUBLICITY, "防范养老诈骗宣传", "在社区门口设点发放防诈骗宣传材料，讲解常见骗局，帮助老人下载反诈应用。",
             "{c}居委会门口", (9, 30), 120, 8),
    Template(A.PUBLICITY, "医保政策进社区宣讲", "协助社区讲解城乡居民医保缴费、异地就医备案和门诊报销政策。",
             "{c}活动室", (14, 0), 90, 6),
    Template(A.EMERGENCY, "扫雪铲冰志愿行动", "降雪后清扫社区主要通道、楼门口和无障碍坡道的积雪。",
             "{c}居委会门口集合", (8, 0), 120, 20),
)
CANCEL_REASON = "因大风蓝色预警，为保障志愿者安全，本次活动取消，另行通知"


@dataclass(frozen=True)
class WishText:
    title: str
    beneficiary: str
    description: str
    value: int


WISH_TEXTS = (
    WishText("一台电暖气", "独居老人", "家中平房冬天取暖困难，希望有一台安全的电暖气。", 180),
    WishText("一副老花镜和放大镜", "高龄老人", "看药品说明书吃力，想要一副老花镜和一个放大镜。", 80),
    WishText("一套小学生课外读物", "困难家庭小学生", "孩子喜欢读书，希望有一套适合三年级的课外读物。", 150),
    WishText("陪同去医院复诊", "空巢老人", "行动不便，每月需要去医院复诊拿药，希望有人陪同。", 50),
    WishText("一个带轮子的购物车", "独居老人", "去菜市场买菜提不动，想要一个带轮子的买菜车。", 90),
    WishText("一双保暖棉鞋", "残疾人", "冬天出门脚冷，想要一双防滑保暖棉鞋（42码）。", 120),
    WishText("一个书包和文具", "低保家庭中学生", "开学前想要一个结实的书包和一些文具。", 160),
    WishText("修理家中漏水的水龙头", "独居老人", "厨房水龙头一直滴水，自己不会修。", 60),
    WishText("一台收音机", "视力不好的老人", "眼睛不好看不了电视，想听广播和评书。", 100),
    WishText("帮忙更换楼道灯泡", "楼门居民", "单元楼道灯坏了很久，老人晚上上下楼不安全。", 40),
    WishText("一次上门理发", "卧床老人", "长期卧床不能出门，希望有人上门理发。", 30),
    WishText("一套羽毛球拍", "社区青少年", "孩子们想在社区空地打羽毛球，缺少球拍和球。", 120),
    WishText("一个电饭煲", "困难家庭", "家里的电饭煲坏了，想换一个小容量的。", 150),
    WishText("教我用手机视频通话", "空巢老人", "想和在外地工作的孩子视频，但不会操作。", 20),
    WishText("一床加厚棉被", "独居老人", "旧棉被不够暖和，想要一床加厚棉被。", 200),
    WishText("一个血压计", "慢性病老人", "需要每天测血压，家里没有血压计。", 160),
)
WISH_REJECT_REASON = "该心愿已由街道慈善救助项目统一解决，无需重复发布。"
THANKS = ("非常感谢志愿者，东西很实用！", "谢谢社区和好心人，暖到心里了。", "志愿者很细心，太感谢了。",
          "谢谢党员同志，帮了大忙。", "", "感谢爱心单位，孩子特别高兴。", "心愿实现了，谢谢大家！")
COMPLETE_NOTES = ("已送达，老人很满意。", "已上门完成。", "")
# How the wishes end, oldest first.  (outcome, share of the wishes)
WISH_OUTCOMES = (("thanked", 15), ("completed", 4), ("rejected", 1), ("taken", 3), ("posted", 5), ("ordered", 2))
SKILLS = ("医疗护理", "法律咨询", "文艺特长", "电脑和手机维修", "驾驶", "心理咨询", "教育辅导", "")
UNIT_SERVICES = ("党员志愿服务队参与社区活动；会议室可借用。", "专业人员进社区开展讲座和咨询。",
                 "认领困难家庭微心愿；节日慰问。", "协助社区环境整治和平安巡逻。")
DECISION_NOTES = ("欢迎报到。", "同意。", "")


@dataclass
class Member:
    person: Person
    community: Area
    street: Area
    state: str  # confirmed, renewed, expired, pending, unregistered
    age: int = 0  # days since registering
    account: object = None
    registered_on: dt.date | None = None
    valid_until: dt.date | None = None

    def counts_on(self, day: dt.date) -> bool:
        """Registered (and confirmed) on `day`."""
        return (self.state in ("confirmed", "renewed", "expired") and self.registered_on is not None
                and self.registered_on <= day and (self.valid_until is None or day <= self.valid_until))


@dataclass
class Plan:
    community: Area
    street: Area
    template: Template
    day: dt.date
    start: tuple[int, int]
    minutes: int
    outcome: str = "held"  # held, cancelled, upcoming
    partner: Plan | None = None  # an overlapping activity of the same day
    keep: list = field(default_factory=list)  # volunteers who must be in it


class _Loader:
    def __init__(self, seed: int):
        self.seed = seed
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.created: dict[str, int] = {"unit_registrations": 0, "member_registrations": 0, "activities": 0,
                                        "wishes": 0, "feedback_batches": 0}
        self.residents: list = []
        self.served: dict[int, int] = {}
        User = get_user_model()
        self.admin = User.objects.filter(username="system_admin").first()
        self.users = {u.username: u for u in User.objects.filter(username__in=[
            "street_hub", "community_staff", "community_staff_b", "unit_liaison"])}

    def rng(self, key: str) -> random.Random:
        return random.Random(f"zhouxin-demo:{self.seed}:volunteers:{key}")

    def at(self, day: dt.date, rng: random.Random, hours=(8, 17)) -> dt.datetime:
        return min(self.now, timezone.make_aware(dt.datetime.combine(
            day, dt.time(rng.randint(*hours), rng.randint(0, 59)))))

    def clock(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    # Accounts (as the co-building demo) --------------------------------------------------------

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
        return get_user_model().objects.get(pk=user.pk)  # fresh: its scope is built with the grant

    def staff(self, area: Area, street: Area):
        """Who runs volunteering in `area`: a demo login if one covers it, else the street's data
        account (the co-building demo's street account: it holds the street hub role)."""
        for name in ("community_staff", "community_staff_b", "street_hub"):
            user = self.users.get(name)
            if user is not None and can(user, "volunteers.manage", area.code):
                return user
        return self._data_account(f"demo_cobuild_{street.code}", f"{street.name}区域化党建工作专员", Role.STREET_HUB,
                                  street)

    def liaison(self, unit: Organisation):
        grant = Grant.objects.filter(role=Role.UNIT_LIAISON, organisation=unit, active=True,
                                     user__is_active=True).select_related("user").order_by("pk").first()
        if grant is not None:
            return get_user_model().objects.get(pk=grant.user_id)
        return self._data_account(f"demo_liaison_{unit.pk}", f"{unit.name}共建联络员", Role.UNIT_LIAISON, unit.area,
                                  organisation=unit)

    def account(self, phone: str):
        """The portal account of `phone`, opened through the portal service when there is none."""
        from zhouxin.portal import services as portal
        from zhouxin.portal.models import ResidentAccount

        index = portal.phone_index(phone)
        found = ResidentAccount.objects.filter(phone_index=index).first()
        if found is not None:
            return found
        return portal._account_for(phone, index, portal.account_consent()["version"])

    def resident(self, n: int):
        while len(self.residents) <= n:
            self.residents.append(self.account(RESIDENT_PHONE.format(len(self.residents) + 1)))
        return self.residents[n]

    # Areas and units --------------------------------------------------------------------------

    def communities(self, street: Area) -> list[Area]:
        return list(Area.objects.filter(parent=street, level=AreaLevel.COMMUNITY, is_active=True)
                    .order_by("code")[:COMMUNITIES_PER_STREET])

    def street_units(self, street: Area) -> list[Organisation]:
        """Resident units sitting in one of the street's communities, those with Party members first."""
        found = list(Organisation.objects.filter(area__code__startswith=street.code, kind__in=UNIT_KINDS,
                                                 is_active=True).select_related("area").order_by("name", "pk"))
        with_members = set(Person.objects.filter(is_party_member=True, work_unit__in=found)
                           .values_list("work_unit_id", flat=True))
        found.sort(key=lambda u: (u.pk not in with_members, u.name, u.pk))
        return found

    def unit_registrations(self, street: Area) -> None:
        """单位报到: the street's units register with their community; a few wait for the decision."""
        staff_cache: dict[int, object] = {}
        for position, unit in enumerate(self.street_units(street)[:UNITS_PER_STREET]):
            community = registration.ancestor(unit.area, AreaLevel.COMMUNITY)
            if community is None or not community.is_active:
                community = self.communities(street)[0] if self.communities(street) else None
            if community is None or UnitRegistration.objects.filter(unit=unit, community=community).exists():
                continue
            rng = self.rng(f"unit:{unit.name}")
            liaison = self.liaison(unit)
            staff = staff_cache.get(community.pk) or self.staff(community, street)
            staff_cache[community.pk] = staff
            if liaison is None or staff is None:
                continue
            pending = position == UNITS_PER_STREET - 1
            registered = self.today - DAY * (rng.randint(2, 12) if pending else rng.randint(200, 360))
            with transaction.atomic():
                reg = registration.unit_register(
                    actor=liaison, unit=unit, community=community, contact_name=self.contact(liaison, rng),
                    services_offered=rng.choice(UNIT_SERVICES))
                UnitRegistration.objects.filter(pk=reg.pk).update(registered_at=self.at(registered, rng))
                if not pending:
                    registration.unit_registration_decide(actor=staff, registration=reg, confirm=True,
                                                          note=rng.choice(DECISION_NOTES))
                    decided = min(registered + DAY * rng.randint(1, 5), self.today)
                    UnitRegistration.objects.filter(pk=reg.pk).update(decided_at=self.at(decided, rng))
            self.created["unit_registrations"] += 1

    def contact(self, liaison, rng: random.Random) -> str:
        if 2 <= len(liaison.full_name) <= 4:  # a person's name (a demo login)
            return liaison.full_name
        return rng.choices(orgs_demo._SURNAME_CHOICES, orgs_demo._SURNAME_WEIGHTS)[0] + rng.choice(("老师", "主任"))

    # Party members ----------------------------------------------------------------------------

    def members(self, street: Area) -> list[Member]:
        """The street's Party members with a work unit (created where there are too few) and what
        their registration story is."""
        people = list(Person.objects.filter(is_party_member=True, work_unit__isnull=False,
                                            home_area__code__startswith=street.code,
                                            home_area__level=AreaLevel.COMMUNITY)
                      .select_related("home_area", "work_unit").order_by("pk"))
        if len(people) < MIN_MEMBERS_PER_STREET:
            people += self.create_members(street, MIN_MEMBERS_PER_STREET - len(people),
                                          {p.pk for p in people})
        out = []
        for position, person in enumerate(people):
            rng = self.rng(f"member:{person.pk}")
            draw = rng.random()
            if position == 1 or draw < 0.12:  # every street has members who never registered
                state = "unregistered"
            elif draw < 0.24:
                state = "expired"
            elif draw < 0.32:
                state = "pending"
            elif draw < 0.55:
                state = "renewed"
            else:
                state = "confirmed"
            with_account = state == "pending" or rng.random() < 0.6
            if not person.phone:
                with_account = False
                state = "confirmed" if state == "pending" else state
            member = Member(person=person, community=person.home_area, street=street, state=state)
            member.age = {"expired": rng.randint(200, 330), "pending": rng.randint(2, 15),
                          "renewed": rng.randint(190, 340), "confirmed": rng.randint(15, 170)}.get(state, 0)
            if with_account:
                member.account = self.account(person.phone)
            out.append(member)
        return out

    def create_members(self, street: Area, count: int, existing: set[int]) -> list[Person]:
        """In-service Party members living in the street's communities, working at its units
        (or the district's), created through the orgs services; found again by their phone."""
        from zhouxin.orgs import services as orgs_services

        communities = self.communities(street)
        units = self.street_units(street) or list(
            Organisation.objects.filter(area__code__startswith=street.code[:6], kind__in=UNIT_KINDS,
                                        is_active=True).order_by("pk"))
        if not communities or not units:
            return []
        base = (STREETS.index(street.code) if street.code in STREETS else 0) * 20
        out = []
        for n in range(count):
            phone = MEMBER_PHONE.format(base + n + 1)
            person = Person.objects.filter(phone_index=blind_index("phone", phone)).first()
            if person is None:
                rng = self.rng(f"new-member:{phone}")
                gender = rng.choice("mf")
                birth = dt.date(rng.randint(1970, 1995), rng.randint(1, 12), rng.randint(1, 28))
                sequence = 100 + 2 * (base + n) + (1 if gender == "m" else 0)  # odd: male (GB 11643)
                first17 = f"{street.code[:6]}{birth:%Y%m%d}{sequence:03d}"
                era = "mid" if birth.year < 1987 else "young"
                name = rng.choices(orgs_demo._SURNAME_CHOICES, orgs_demo._SURNAME_WEIGHTS)[0] + rng.choice(
                    orgs_demo.GIVEN_NAMES[(era, gender)])
                unit = units[n % min(len(units), 3)]
                branch = Organisation.objects.filter(kind=OrgKind.BRANCH, name=f"中共{unit.name}支部委员会").first()
                person = orgs_services.person_create(
                    actor=None, name=name, home_area=communities[n % len(communities)], phone=phone,
                    id_number=first17 + orgs_demo.id_check_char(first17), work_unit=unit, is_party_member=True,
                    party_branch=branch)
            if person.pk not in existing:
                out.append(Person.objects.select_related("home_area", "work_unit").get(pk=person.pk))
        return out

    def member_registration(self, member: Member) -> None:
        """在职党员到居住社区报到, on the portal (with an account) or by the community."""
        if member.state == "unregistered":
            return
        person, community = member.person, member.community
        rng = self.rng(f"registration:{person.pk}")
        registered = self.today - DAY * member.age
        rule = registration.registration_rule(community, registered)
        member.registered_on = registered
        member.valid_until = registration.add_months(registered, rule["renew_months"])
        existing = MemberRegistration.objects.filter(person=person).order_by("pk").last()
        if existing is not None:
            member.valid_until = existing.valid_until
            return
        staff = self.staff(community, member.street)
        if staff is None:
            return
        skills = rng.choice(SKILLS)
        registered_at = self.at(registered, rng)
        with transaction.atomic():
            if member.account is not None:
                reg = registration.member_register_on_portal(account=member.account, community=community,
                                                             skills=skills)
            else:
                reg = registration.member_register_by_staff(actor=staff, person=person, community=community,
                                                            skills=skills)
            MemberRegistration.objects.filter(pk=reg.pk).update(registered_at=registered_at,
                                                                valid_until=member.valid_until)
            reg.refresh_from_db()
            decided = min(registered + DAY * rng.randint(0, 4), self.today)
            if reg.status == RegistrationStatus.PENDING and member.state != "pending":
                registration.member_registration_decide(actor=staff, registration=reg, confirm=True,
                                                        note=rng.choice(DECISION_NOTES))
            elif reg.status == RegistrationStatus.CONFIRMED:
                decided = registered
                # Confirmed at once by the staff: the on-time points follow the day it happened.
                awarded = PointEntry.objects.filter(source=PointSource.REGISTRATION, source_id=reg.pk)
                if awarded.exists():
                    awarded.update(earned_on=registered)
                else:
                    registration._award_on_time(reg)
            if reg.status != RegistrationStatus.PENDING or member.state != "pending":
                MemberRegistration.objects.filter(pk=reg.pk).update(decided_at=self.at(decided, rng))
            PointEntry.objects.filter(source=PointSource.REGISTRATION, source_id=reg.pk).update(
                created_at=self.at(decided, rng))
            if member.state == "renewed":
                reg.refresh_from_db()
                renewed_on = min(reg.valid_until - DAY * rng.randint(0, 20), self.today)
                registration.member_registration_renew(registration=reg, actor=staff if member.account is None
                                                       else None, account=member.account, on=renewed_on)
                MemberRegistration.objects.filter(pk=reg.pk).update(renewed_at=self.at(renewed_on, rng))
                reg.refresh_from_db()
                member.valid_until = reg.valid_until
        self.created["member_registrations"] += 1

    # Activities -------------------------------------------------------------------------------

    def plans(self, streets: list[Area]) -> list[Plan]:
        plans: list[Plan] = []
        for s_index, street in enumerate(streets):
            communities = self.communities(street)
            if not communities:
                continue
            rng = self.rng(f"plans:{street.code}")
            street_plans: list[Plan] = []
            for index in range(ACTIVITIES_PER_STREET):
                community = communities[index % len(communities)]
                used = {p.template for p in street_plans if p.community == community}
                template = rng.choice([t for t in TEMPLATES if t not in used])
                day = self.today - DAY * rng.randint(4, 360)
                if template.category == A.EMERGENCY:  # snow: in the winter months
                    day = dt.date(self.today.year if self.today.month > 2 else self.today.year - 1, 1,
                                  rng.randint(5, 28))
                    if day >= self.today:
                        day = day.replace(year=day.year - 1)
                street_plans.append(Plan(community=community, street=street, template=template, day=day,
                                         start=template.start, minutes=template.minutes))
            # The last one is still open for sign-up; streets 1 and 3 had a cancellation; streets 1
            # and 3 also have two overlapping activities on one day in their first community.
            street_plans[-1].day = self.today + DAY * rng.randint(3, 20)
            street_plans[-1].outcome = "upcoming"
            if s_index % 2 == 0 and len(street_plans) > 5:
                street_plans[5].outcome = "cancelled"
                first, second = street_plans[0], street_plans[len(communities)]
                if first.community == second.community and second.outcome == "held" and \
                        A.EMERGENCY not in (first.template.category, second.template.category):
                    first.day = second.day = self.today - DAY * rng.randint(20, 60)
                    first.start, first.minutes = (9, 0), 150
                    second.start, second.minutes = (10, 30), 120
                    first.partner = second
            plans += street_plans
        plans.sort(key=lambda p: (p.day, p.start, p.community.code, p.template.title))
        return plans

    def volunteers(self, plan: Plan, members: list[Member], rng: random.Random) -> list[tuple]:
        """Who signs up: (account, person) pairs, members registered by that day first."""
        pool = [m for m in members if m.street == plan.street and m.counts_on(min(plan.day, self.today))
                and (m.account is not None or m.community == plan.community)]
        if plan.template.members_only:
            pool = [m for m in pool if m.counts_on(self.today)]
        rng.shuffle(pool)
        pool.sort(key=lambda m: self.served.get(m.person.pk, 0))  # those who served least come first
        want = min(plan.template.slots, rng.randint(4, 9))
        chosen = [m for m in plan.keep if m in pool] + [m for m in pool if m not in plan.keep]
        out = [(m.account, m) for m in chosen[:max(2, want - 2)]]
        for m in chosen[:max(2, want - 2)]:
            self.served[m.person.pk] = self.served.get(m.person.pk, 0) + 1
        if not plan.template.members_only:
            first = rng.randint(0, RESIDENTS - 1)
            for n in range(max(0, want - len(out))):
                out.append((self.resident((first + n) % RESIDENTS), None))
        return out

    def activity(self, plan: Plan, members: list[Member]) -> Activity | None:
        """One activity: created and published, signed up, then (past ones) moved to its day,
        checked in and out by the organiser and finished."""
        title = plan.template.title
        if Activity.objects.filter(community=plan.community, title=title).exists():
            return None
        staff = self.staff(plan.community, plan.street)
        if staff is None:
            return None
        rng = self.rng(f"activity:{plan.community.code}:{title}")
        starts = self.clock(plan.day, *plan.start)
        ends = starts + dt.timedelta(minutes=plan.minutes)
        past = plan.outcome != "upcoming"
        # Created for tomorrow, then moved to its day: services only take activities yet to come.
        placeholder = (self.now + DAY).replace(second=0, microsecond=0) if past else starts
        short = community_short_name(plan.community.name)
        unit = None
        if rng.random() < 0.35:
            unit = activities.unit_choices(plan.community).filter(
                pk__in=UnitRegistration.objects.filter(status=RegistrationStatus.CONFIRMED).values("unit_id")
            ).order_by("pk").first()
        signups = []
        with transaction.atomic():
            activity = activities.activity_create(
                actor=staff, community=plan.community, title=title, category=plan.template.category,
                place=plan.template.place.format(c=short), description=plan.template.description,
                starts_at=placeholder, ends_at=placeholder + (ends - starts), slots=plan.template.slots,
                members_only=plan.template.members_only, unit=unit)
            activities.activity_publish(actor=staff, activity=activity)
            for account, member in self.volunteers(plan, members, rng):
                if account is not None:
                    signups.append(activities.signup(account=account, activity=activity))
                else:
                    signups.append(activities.signup_add_member(actor=staff, activity=activity, person=member.person))
            if plan.outcome == "cancelled":
                activities.activity_cancel(actor=staff, activity=activity, reason=CANCEL_REASON)
            created = min(plan.day - DAY * rng.randint(7, 15), self.today)
            created_at = self.at(created, rng)
            if past:
                Activity.objects.filter(pk=activity.pk).update(
                    starts_at=starts, ends_at=ends, created_at=created_at,
                    updated_at=starts - dt.timedelta(hours=3) if plan.outcome == "cancelled" else created_at)
            else:
                Activity.objects.filter(pk=activity.pk).update(created_at=created_at, updated_at=created_at)
            for signup in signups:
                signed = self.at(created + DAY * rng.randint(1, 5), rng, hours=(7, 22))
                SignUp.objects.filter(pk=signup.pk).update(created_at=min(signed, starts - dt.timedelta(hours=1)))
        if plan.outcome == "held":
            activity.refresh_from_db()
            self.check_in_out(activity, staff, signups, rng, {m.person.pk for m in plan.keep})
            with transaction.atomic():
                activities.activity_finish(actor=staff, activity=activity)
                Activity.objects.filter(pk=activity.pk).update(updated_at=ends + dt.timedelta(hours=1))
        return activity

    def check_in_out(self, activity: Activity, staff, signups, rng: random.Random, sure: set[int]) -> None:
        """The organiser confirms arrivals and departures with their times (one in eight does not come)."""
        starts, ends = activity.starts_at, activity.ends_at
        for signup in signups:
            if rng.random() < 0.12 and signup.person_id not in sure:
                continue  # no-show: marked when the activity is finished
            with transaction.atomic():
                arrived = starts + dt.timedelta(minutes=rng.randint(-20, 15))
                left = ends + dt.timedelta(minutes=rng.choice([-45, -10, 0, 5, 15, 30]))
                checkin.confirm_check_in(actor=staff, signup=signup, at=arrived)
                checkin.confirm_check_out(actor=staff, signup=signup, at=left)
                verified = left + dt.timedelta(minutes=rng.randint(1, 40))
                SignUp.objects.filter(pk=signup.pk).update(verified_at=verified)
                PointEntry.objects.filter(source=PointSource.HOURS, source_id=signup.pk).update(created_at=verified)

    # Wishes -------------------------------------------------------------------------------------

    def wishes(self, streets: list[Area], members: list[Member]) -> None:
        stories = []
        for street in streets:
            for community in self.communities(street):
                rng = self.rng(f"wishes:{community.code}")
                for text in rng.sample(WISH_TEXTS, WISHES_PER_COMMUNITY):
                    stories.append((rng.randint(3, 330), community, street, text))
        stories.sort(key=lambda s: (-s[0], s[1].code, s[3].title))
        stories = stories[:WISHES]
        outcomes = [o for o, share in WISH_OUTCOMES for _ in range(share)]
        for index, (age, community, street, text) in enumerate(stories):
            outcome = outcomes[index * len(outcomes) // len(stories)]
            if outcome in ("posted", "ordered", "taken", "rejected"):
                age = min(age, 40 - index % 7 * 5)  # the open ones are recent
            self.wish(index, max(age, 1), community, street, text, outcome, members)

    def wish(self, index, age, community, street, text: WishText, outcome: str, members: list[Member]) -> None:
        if Wish.objects.filter(community=community, title=text.title).exists():
            return
        staff = self.staff(community, street)
        if staff is None:
            return
        rng = self.rng(f"wish:{community.code}:{text.title}")
        ordered = self.today - DAY * age
        on_paper = index % 7 == 3 and outcome not in ("ordered", "rejected")  # collected at the door
        if on_paper and outcome == "thanked":
            outcome = "completed"
        orderer = None if on_paper else self.resident(rng.randint(0, RESIDENTS - 1))
        with transaction.atomic():
            if on_paper:
                wish = wishes.wish_create(actor=staff, community=community, title=text.title,
                                          description=text.description, beneficiary=text.beneficiary,
                                          value=text.value)
            else:
                wish = wishes.wish_order(account=orderer, community=community, title=text.title,
                                         description=text.description, beneficiary=text.beneficiary,
                                         value=text.value)
            ordered_at = self.at(ordered, rng, hours=(8, 21))
            Wish.objects.filter(pk=wish.pk).update(number=wishes._number(ordered_at), ordered_at=ordered_at,
                                                   posted_at=ordered_at if on_paper else None)
            wish.refresh_from_db()
            if outcome == "ordered" or (not on_paper and wishes.is_held(wish)):
                self.created["wishes"] += 1
                return
            if outcome == "rejected":
                wishes.wish_reject(actor=staff, wish=wish, reason=WISH_REJECT_REASON)
                self.created["wishes"] += 1
                return
            day = ordered
            if not on_paper:
                wishes.wish_post(actor=staff, wish=wish)
                day = min(day + DAY * rng.randint(1, 3), self.today)
                Wish.objects.filter(pk=wish.pk).update(posted_at=self.at(day, rng))
            if outcome != "posted":
                day = self.take(wish, community, street, members, rng, day, orderer)
            if outcome in ("completed", "thanked") and day is not None:
                wishes.wish_complete(actor=staff, wish=wish, note=rng.choice(COMPLETE_NOTES))
                day = min(day + DAY * rng.randint(3, 15), self.today)
                completed_at = self.at(day, rng)
                Wish.objects.filter(pk=wish.pk).update(completed_at=completed_at)
                PointEntry.objects.filter(source=PointSource.WISH, source_id=wish.pk).update(
                    earned_on=day, created_at=completed_at)
                if outcome == "thanked":
                    wishes.wish_thank(account=orderer, wish=wish, stars=rng.choices([5, 4, 3], [70, 25, 5])[0],
                                      thanks=rng.choice(THANKS))
                    day = min(day + DAY * rng.randint(0, 6), self.today)
                    Wish.objects.filter(pk=wish.pk).update(thanked_at=self.at(day, rng, hours=(9, 21)))
        self.created["wishes"] += 1

    def take(self, wish, community, street, members, rng, day, orderer):
        """党员接单 on the portal by a member, or by a unit registered with the community."""
        takers = [m for m in members if m.street == street and m.account is not None and m.account != orderer]
        units = list(UnitRegistration.objects.filter(community=community, status=RegistrationStatus.CONFIRMED)
                     .select_related("unit").order_by("pk"))
        if units and (not takers or rng.random() < 0.35):
            unit = rng.choice(units).unit
            wishes.wish_take_for_unit(actor=self.liaison(unit), wish=wish, unit=unit)
        elif takers:
            wishes.wish_take(account=rng.choice(takers).account, wish=wish)
        else:
            return None
        day = min(day + DAY * rng.randint(1, 6), self.today)
        Wish.objects.filter(pk=wish.pk).update(taken_at=self.at(day, rng))
        return day

    # Feedback -----------------------------------------------------------------------------------

    def feedback(self, streets: list[Area]) -> None:
        """One yearly letter batch for the two units of the streets with the most Party members."""
        from . import feedback

        period = str(self.today.year)
        units = list(Organisation.objects.filter(
            pk__in=MemberRegistration.objects.filter(work_unit__isnull=False).values("work_unit_id"),
            kind__in=UNIT_KINDS, is_active=True).select_related("area"))
        people = Person.objects.filter(is_party_member=True, work_unit__in=units)
        size = {u: people.filter(work_unit=u).count() for u in units}
        in_streets = [u for u in units if any(u.area.code.startswith(s.code) for s in streets)]
        for unit in sorted(in_streets, key=lambda u: (-size[u], u.pk))[:FEEDBACK_UNITS]:
            if FeedbackBatch.objects.filter(unit=unit, kind=FeedbackKind.YEARLY_LETTER, period=period).exists():
                continue
            street = registration.ancestor(unit.area, AreaLevel.STREET)
            actor = self.staff(unit.area, street) if street is not None else None
            if actor is None or not feedback.units_for(actor).filter(pk=unit.pk).exists():
                actor = self.liaison(unit)
            feedback.batch_generate(actor=actor, unit=unit, kind=FeedbackKind.YEARLY_LETTER, period=period)
            self.created["feedback_batches"] += 1


def load_demo_volunteers(*, seed: int = orgs_demo.DEFAULT_SEED) -> dict[str, int]:
    """Write the volunteering stories that are not there yet; returns what was added, by kind."""
    orgs_demo.ensure_demo_available()
    # A year of history: the texts its services send (posted, taken, cancelled …) go nowhere.
    with scopes_disabled(), override_settings(SMS_BACKEND="zhouxin.volunteers.demo.NoTexts"):
        loader = _Loader(seed)
        streets = list(Area.objects.filter(code__in=STREETS, level=AreaLevel.STREET).order_by("code"))
        if not streets:
            return loader.created
        for street in streets:
            loader.unit_registrations(street)
        members = [m for street in streets for m in loader.members(street)]
        for member in sorted(members, key=lambda m: (-m.age, m.person.pk)):
            loader.member_registration(member)
        for plan in loader.plans(streets):
            if plan.partner is not None:  # the same member serves at both overlapping activities
                keep = [m for m in members if m.counts_on(loader.today) and (
                    m.community == plan.community or (m.street == plan.street and m.account is not None))][:1]
                plan.keep = plan.partner.keep = keep
            if loader.activity(plan, members) is not None:
                loader.created["activities"] += 1
        loader.wishes(streets, members)
        loader.feedback(streets)
    return loader.created


class NoTexts:
    """The SMS backend while the demo history is written: nothing is sent."""

    def send(self, phone: str, text: str) -> None:
        return None
