"""A year of co-building (共驻共建) in the demo district, Dongcheng (idempotent; only where the demo is enabled).

Around 东华门, 景山, 交道口 and 安定门 streets: the resident units the orgs demo created
(hospitals and community health centres, schools, banks, state-owned companies, couriers,
property firms, social organisations) register what they offer — canteen meals for the elderly,
meeting rooms and sports grounds, free clinics, legal advice, volunteer teams, funds and goods;
communities post what they need — meals for elderly people living alone, after-school care,
stairwell clean-ups, clinics, legal talks — and, where the dispatch demo has frequent requests,
promote a frequent request category to a need (promotion.py).  Needs are claimed both ways
(a unit offers, a community asks), confirmed and turned into projects over the past twelve
months: the older ones completed with their milestones, service records, a published page
and residents' ratings, others running, a few just planned or cancelled, the newest still open
or waiting for a decision.

Everything is written through the services (services.py, delivery.py, agreements.py,
ratings.py) by the demo logins: community staff or the street hub of the need's area, and the
units' liaisons.  Units without a liaison login, and streets without a staff login, get a data
account created by the demo system administrator through the core services, with no password
(nobody signs in with it).  Residents who rate are portal accounts opened through the portal
service, with numbers from the reserved-looking 199 0000 range.  The services stamp "now";
like the requests demo, the loader then moves each story's timestamps (posted, claimed,
decided, created, completed, published, rated) back to the day the story happened; dates the
services take (start and end, milestone due and done dates, service days) are passed directly.
The audit trail keeps its real times.

Idempotent: a story is keyed by its need (area, title), a resource by (unit, title), an account
by its username; a second run finds them and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation
from zhouxin.orgs.services import community_short_name

from . import promotion, services
from .choices import ClaimDirection, NeedCategory, NeedSource, ResourceKind, ServiceRadius
from .models import Claim, Milestone, Need, Project, Rating, Resource, ServiceRecord

STREETS = ("110101001", "110101002", "110101003", "110101004")  # 东华门, 景山, 交道口, 安定门
COMMUNITIES_PER_STREET = 4
ASKS_PER_COMMUNITY = 3
UNITS_PER_STREET = 7
RESIDENTS = 24
RESIDENT_PHONE = "1990000{:04d}"
UNIT_KINDS = (OrgKind.RESIDENT_UNIT, OrgKind.NONPUBLIC_ENTERPRISE, OrgKind.SOCIAL_ORG)
DAY = dt.timedelta(days=1)

C, K, R = NeedCategory, ResourceKind, ServiceRadius


@dataclass(frozen=True)
class Offer:
    """A resource a unit whose name holds one of `words` registers."""

    words: tuple[str, ...]
    kind: str
    category: str
    title: str
    description: str
    capacity: int
    unit: str
    radius: str = R.STREET


OFFERS = (
    Offer(("医院",), K.EXPERTISE, C.MEDICAL, "专家团队进社区义诊",
          "每月一次组织内科、骨科、眼科专家到社区开展义诊，测血压血糖，提供用药咨询。", 24, "场次", R.DISTRICT),
    Offer(("医院",), K.GOODS, C.ELDERLY_MEAL, "职工食堂老年助餐",
          "医院职工食堂每天中午为周边社区高龄、独居老人提供低盐低油午餐，可配送到户。", 120, "份/日", R.STREET),
    Offer(("社区卫生服务中心",), K.EXPERTISE, C.MEDICAL, "家庭医生签约与上门巡诊",
          "家庭医生团队为行动不便的老人上门巡诊，建立健康档案，开展慢病随访。", 60, "人次/月", R.STREET),
    Offer(("社区卫生服务中心",), K.VOLUNTEERS, C.ELDERLY_CARE, "医护志愿者健康讲座",
          "医护党员志愿者进社区讲授高血压、糖尿病防治和急救知识。", 30, "场次", R.STREET),
    Offer(("中学", "小学"), K.VENUE, C.CULTURE, "校园运动场地周末开放",
          "周六、周日和寒暑假向社区居民开放操场和篮球场，需提前预约。", 80, "场次", R.STREET),
    Offer(("中学", "小学"), K.VOLUNTEERS, C.EDUCATION, "教师志愿者课后辅导",
          "党员教师志愿者为双职工家庭的小学生提供课后作业辅导和阅读指导。", 90, "人次/周", R.STREET),
    Offer(("银行",), K.EXPERTISE, C.SAFETY, "防范电信网络诈骗金融知识讲座",
          "银行网点党员讲解养老诈骗、电信诈骗的常见手法，帮助老人识别风险。", 24, "场次", R.STREET),
    Offer(("银行",), K.VENUE, C.VENUE, "网点会议室场地共享",
          "营业网点二楼会议室可容纳40人，工作日晚间和周末可借给社区开展活动。", 50, "场次", R.STREET),
    Offer(("银行",), K.FUNDS, C.GOODS, "党建共建公益资金",
          "年度党建共建公益资金，用于社区困难家庭帮扶和公共空间微更新。", 60000, "元", R.DISTRICT),
    Offer(("供电",), K.EXPERTISE, C.SAFETY, "老旧小区用电安全检查",
          "供电所党员服务队入户检查老旧线路和电动自行车充电隐患。", 400, "户", R.DISTRICT),
    Offer(("燃气",), K.EXPERTISE, C.SAFETY, "燃气安全入户检查",
          "燃气服务站为老旧平房和楼房居民免费检查燃气灶具、胶管和报警器。", 400, "户", R.DISTRICT),
    Offer(("移动", "联通"), K.EXPERTISE, C.ELDERLY_CARE, "老年人智能手机使用培训",
          "营业厅党员志愿者教老人使用健康码、视频通话、网上挂号和移动支付。", 30, "场次", R.STREET),
    Offer(("首都开发", "首开"), K.EXPERTISE, C.LEGAL, "法务团队公益法律咨询",
          "集团法务部党员律师为居民解答房屋租赁、物业纠纷、婚姻继承等法律问题。", 24, "场次", R.DISTRICT),
    Offer(("物业",), K.VOLUNTEERS, C.ENVIRONMENT, "楼道整治工程队",
          "物业维修班组协助清理楼道堆物、粉刷墙面、更换楼道灯。", 60, "个楼门", R.STREET),
    Offer(("顺丰", "京东", "邮政", "中通", "圆通", "申通", "韵达", "美团", "饿了么"), K.VOLUNTEERS, C.GOODS,
          "快递小哥爱心配送队", "快递员党员利用配送间隙为独居老人代送药品和生活物资，兼做安全巡查。", 200, "次",
          R.STREET),
    Offer(("社会工作服务中心", "志愿者协会", "老年协会"), K.VOLUNTEERS, C.VOLUNTEER, "专业社工与志愿者服务队",
          "专业社工带领志愿者开展独居老人探访、助老陪诊和社区活动组织。", 150, "人次", R.STREET),
    Offer(("社会工作服务中心", "志愿者协会", "文体协会"), K.EXPERTISE, C.EMPLOYMENT, "就业困难人员技能培训",
          "面向失业和就业困难居民开设家政、养老护理、电商客服等技能培训并推荐岗位。", 40, "人", R.DISTRICT),
)


@dataclass(frozen=True)
class Ask:
    """A need a community posts."""

    category: str
    title: str
    description: str
    beneficiaries: str
    beneficiary_count: int
    quantity: int
    unit: str
    record: str  # what one service day is called
    group: str  # whom a service record served


ASKS = (
    Ask(C.ELDERLY_MEAL, "高龄独居老人午间助餐", "社区80岁以上独居、空巢老人做饭困难，希望有单位食堂提供午餐并配送到户。",
        "高龄独居老人", 35, 30, "份/日", "午间助餐配送", "高龄独居老人"),
    Ask(C.EDUCATION, "双职工家庭小学生课后托管", "放学后至家长下班前，孩子无人看护，希望开展课后托管和作业辅导。",
        "双职工家庭小学生", 40, 20, "人次/周", "课后托管与作业辅导", "小学生"),
    Ask(C.ENVIRONMENT, "老旧楼房楼道堆物清理和粉刷", "老旧楼房楼道堆放杂物、墙面脱落，存在消防隐患，需要清理和粉刷。",
        "楼门居民", 300, 12, "个楼门", "楼道清理粉刷", "楼门居民"),
    Ask(C.MEDICAL, "社区老人健康义诊", "社区老年人多患慢性病，希望医院定期进社区义诊、测血压血糖。",
        "60岁以上老人", 200, 6, "场次", "健康义诊", "社区老人"),
    Ask(C.LEGAL, "居民法律知识讲座", "居民关心房屋租赁、物业纠纷、婚姻继承等法律问题，希望请专业人员讲座和咨询。",
        "社区居民", 120, 4, "场次", "法律讲座与咨询", "社区居民"),
    Ask(C.SAFETY, "防范养老诈骗宣传", "近期有老人接到冒充客服、推销保健品的电话，希望开展防诈骗宣传。",
        "社区老人", 150, 4, "场次", "防诈骗宣传讲座", "社区老人"),
    Ask(C.ELDERLY_CARE, "老年人智能手机培训", "很多老人不会用手机挂号、视频通话，希望开设智能手机课堂。",
        "社区老人", 60, 6, "场次", "智能手机课堂", "社区老人"),
    Ask(C.SAFETY, "老旧平房燃气和用电安全检查", "胡同平房线路老化，冬季取暖用电用气多，希望专业单位入户检查。",
        "平房住户", 180, 120, "户", "入户安全检查", "平房住户"),
    Ask(C.CULTURE, "青少年周末体育活动场地", "社区缺少运动场地，孩子们周末没有地方打球，希望学校开放操场。",
        "社区青少年", 80, 20, "场次", "周末体育活动", "社区青少年"),
    Ask(C.VENUE, "社区文艺队排练场地", "社区合唱队、舞蹈队没有固定排练场地，希望借用单位会议室。",
        "文艺队队员", 45, 24, "场次", "文艺队排练", "文艺队队员"),
    Ask(C.GOODS, "困难家庭节日慰问物资", "春节、中秋前为低保、低收入和残疾人家庭送去米面油等慰问物资。",
        "困难家庭", 40, 40, "户", "慰问物资发放", "困难家庭"),
    Ask(C.EMPLOYMENT, "失业人员技能培训与岗位推荐", "社区有一批登记失业人员，希望开展技能培训并推荐就业岗位。",
        "登记失业人员", 25, 20, "人", "技能培训", "失业人员"),
    Ask(C.VOLUNTEER, "独居老人定期探访", "独居老人缺少陪伴，希望有志愿者每周上门探访、陪同就医。",
        "独居老人", 30, 60, "人次", "上门探访", "独居老人"),
)

MILESTONES = ("签订共建协议，明确双方责任", "首次服务开展", "中期评估与居民意见征集", "项目总结验收")
CANCEL_REASONS = ("施工许可未获批，经双方协商改为明年实施。", "单位承接人员调整，经协商取消，需求重新开放认领。",
                  "居民意见分歧较大，暂缓实施。")
CLOSE_NOTES = ("已由街道统筹解决。", "需求已通过其他渠道满足。")
COMMENTS = ("服务很周到，老人们都说好。", "志愿者很耐心，希望长期坚持。", "非常实用，感谢共建单位。", "",
            "时间安排合理，希望次数再多一些。", "解决了我们的实际困难。", "", "活动组织得很好。")
DECISION_NOTES = ("符合社区需求，同意认领。", "经居委会研究，同意。", "")

# How the stories end, oldest first: older ones completed, then running, planned, cancelled,
# pending and open ones last.  (share of the stories, outcome)
OUTCOMES = (("completed", 30), ("cancelled", 4), ("running", 26), ("closed", 3), ("planned", 9), ("pending", 9),
            ("open", 19))


@dataclass
class Story:
    area: Area
    street: Area
    ask: Ask
    age: int  # days ago the need was posted
    outcome: str = "open"


class _Loader:
    def __init__(self, seed: int):
        self.seed = seed
        self.today = timezone.localdate()
        self.created = 0
        self.residents: list = []
        User = get_user_model()
        self.admin = User.objects.filter(username="system_admin").first()
        self.users = {u.username: u for u in User.objects.filter(username__in=[
            "street_hub", "community_staff", "community_staff_b", "unit_liaison"])}

    def rng(self, key: str) -> random.Random:
        return random.Random(f"zhouxin-demo:{self.seed}:cobuild:{key}")

    def at(self, day: dt.date, rng: random.Random) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59))))

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
        return get_user_model().objects.get(pk=user.pk)  # fresh: its scope is built with the grant

    def poster(self, area: Area, street: Area):
        """Staff who post and confirm for `area`: a demo login if one covers it, else the street's data account."""
        for name in ("community_staff", "community_staff_b", "street_hub"):
            user = self.users.get(name)
            if user is not None and services.staff_can(user, "cobuild.confirm", area.code):
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

    def resident(self, n: int):
        from zhouxin.portal import services as portal

        while len(self.residents) <= n:
            phone = RESIDENT_PHONE.format(len(self.residents) + 1)
            self.residents.append(portal._account_for(phone, portal.phone_index(phone),
                                                      portal.account_consent()["version"]))
        return self.residents[n]

    # Units and resources ------------------------------------------------------------------------

    def units(self, street: Area) -> list[Organisation]:
        """The street's units that have something to offer, one of each sort first."""
        found = list(Organisation.objects.filter(area__code__startswith=street.code, kind__in=UNIT_KINDS,
                                                 is_active=True).select_related("area").order_by("name", "pk"))
        picked: list[Organisation] = []
        for offer in OFFERS:
            for unit in found:
                if unit not in picked and any(word in unit.name for word in offer.words):
                    picked.append(unit)
                    break
        return picked[:UNITS_PER_STREET]

    def resources(self, street: Area) -> list[Resource]:
        out = []
        for unit in self.units(street):
            rng = self.rng(f"unit:{unit.name}")
            liaison = self.liaison(unit)
            if liaison is None:
                continue
            offers = [o for o in OFFERS if any(word in unit.name for word in o.words)][:2]
            for offer in offers:
                existing = Resource.objects.filter(owner=unit, title=offer.title).first()
                if existing is not None:
                    out.append(existing)
                    continue
                # Registered about a year ago, at the turn of the year, or during the year.
                since = self.today - DAY * rng.choice([rng.randint(370, 400), rng.randint(320, 360),
                                                       rng.randint(90, 300)])
                area = unit.area if unit.area.level in (AreaLevel.STREET, AreaLevel.COMMUNITY) else street
                with transaction.atomic():
                    resource = services.resource_create(
                        actor=liaison, owner=unit, kind=offer.kind, category=offer.category, title=offer.title,
                        description=offer.description, capacity=offer.capacity, capacity_unit=offer.unit,
                        available_from=since, available_until=None, radius=offer.radius, area=area)
                    Resource.objects.filter(pk=resource.pk).update(created_at=self.at(since, rng),
                                                                   updated_at=self.at(since, rng))
                resource.created_at = self.at(since, rng)
                out.append(resource)
        return out

    # Stories --------------------------------------------------------------------------------

    def stories(self, streets: list[Area], resources: list[Resource]) -> list[Story]:
        """Three needs per community: the first of a kind some unit nearby offers (communities ask
        for what they know is there), the others drawn from the whole catalogue."""
        stories = []
        for street in streets:
            communities = list(Area.objects.filter(parent=street, level=AreaLevel.COMMUNITY, is_active=True)
                               .order_by("code")[:COMMUNITIES_PER_STREET])
            for community in communities:
                rng = self.rng(f"asks:{community.code}")
                offered = {r.category for r in resources if services.resource_reaches(r, community.code)}
                likely = [ask for ask in ASKS if ask.category in offered]
                first = [rng.choice(likely)] if likely else []
                rest = rng.sample([ask for ask in ASKS if ask not in first], ASKS_PER_COMMUNITY - len(first))
                for ask in first + rest:
                    stories.append(Story(area=community, street=street, ask=ask, age=rng.randint(3, 350)))
        stories.sort(key=lambda s: (-s.age, s.area.code, s.ask.title))
        outcomes = [o for o, share in OUTCOMES for _ in range(share)]
        for index, story in enumerate(stories):
            story.outcome = outcomes[index * len(outcomes) // len(stories)]
        return stories

    def pick_resource(self, story: Story, resources: list[Resource], rng: random.Random, posted: dt.date):
        fits = []
        for fresh in Resource.objects.filter(pk__in=[r.pk for r in resources]).order_by("pk"):
            if (fresh.category == story.ask.category and fresh.is_active and fresh.available >= 1
                    and services.resource_reaches(fresh, story.area.code)
                    and timezone.localtime(fresh.created_at).date() < posted):
                fits.append(fresh)
        if not fits:
            return None
        local = [r for r in fits if r.area_code.startswith(story.street.code)]
        return rng.choice(local or fits)

    def play(self, story: Story, resources: list[Resource]) -> bool:
        """Write one story through the services; False when it is there already."""
        from . import delivery

        ask, area = story.ask, story.area
        if Need.objects.filter(area=area, title=ask.title).exists():
            return False
        rng = self.rng(f"story:{area.code}:{ask.title}")
        staff = self.poster(area, story.street)
        if staff is None:
            return False
        posted = self.today - DAY * story.age
        outcome = story.outcome
        resource = None
        if outcome not in ("open", "closed"):
            resource = self.pick_resource(story, resources, rng, posted)
            if resource is None:
                outcome = "open"
        with transaction.atomic():
            need = services.need_create(
                actor=staff, area=area, title=ask.title, category=ask.category, description=ask.description,
                beneficiaries=ask.beneficiaries, beneficiary_count=ask.beneficiary_count, quantity=ask.quantity,
                quantity_unit=ask.unit, wanted_from=posted + DAY * 14, wanted_until=posted + DAY * 200)
            posted_at = self.at(posted, rng)
            Need.objects.filter(pk=need.pk).update(created_at=posted_at, updated_at=posted_at)
            if outcome == "closed":
                services.need_close(actor=staff, need=need, met=False, note=rng.choice(CLOSE_NOTES))
                closed = min(posted + DAY * rng.randint(20, 60), self.today)
                Need.objects.filter(pk=need.pk).update(updated_at=self.at(closed, rng))
            if resource is not None:
                self._claim_and_deliver(story, outcome, need, resource, staff, posted, rng, delivery)
        return True

    def _claim_and_deliver(self, story, outcome, need, resource, staff, posted, rng, delivery):
        ask = story.ask
        liaison = self.liaison(resource.owner)
        quantity = max(1, min(ask.quantity, resource.available // 2 or 1))
        offered = rng.random() < 0.6
        claimed_on = min(posted + DAY * rng.randint(2, 8), self.today)
        claim = services.claim_create(
            actor=liaison if offered else staff, need=need, resource=resource, quantity=quantity,
            direction=ClaimDirection.OFFER if offered else ClaimDirection.REQUEST,
            note="本单位可按需求提供服务。" if offered else "请贵单位支持社区这项需求。")
        Claim.objects.filter(pk=claim.pk).update(created_at=self.at(claimed_on, rng))
        if outcome == "pending":
            return
        decided_on = min(claimed_on + DAY * rng.randint(1, 4), self.today)
        services.claim_confirm(actor=staff if offered else liaison, claim=claim, note=rng.choice(DECISION_NOTES))
        Claim.objects.filter(pk=claim.pk).update(decided_at=self.at(decided_on, rng))
        created_on = min(decided_on + DAY * rng.randint(1, 5), self.today)
        if outcome == "planned":
            starts_on = self.today + DAY * rng.randint(5, 25)
        else:
            starts_on = min(created_on + DAY * rng.randint(3, 10), self.today - DAY)
        length = rng.randint(90, 180)
        if outcome == "completed":
            # Ends by a week ago, and never before a month of delivery.
            length = max(30, min(length, (self.today - DAY * 7 - starts_on).days))
        elif outcome == "running":  # still some weeks to go
            length = max(length, (self.today - starts_on).days + rng.randint(14, 60))
        ends_on = starts_on + DAY * length
        short = community_short_name(story.area.name)
        budget = rng.choice([0, 0, 3000, 5000, 8000, 12000, 20000]) if resource.kind != ResourceKind.FUNDS \
            else min(resource.capacity, rng.choice([10000, 15000, 20000]))
        project = services.project_create_from_claim(actor=staff, claim=claim, title=f"{short}{ask.title.removeprefix('社区')}",
                                                     budget=budget, starts_on=starts_on, ends_on=ends_on)
        created_at = self.at(created_on, rng)
        Project.objects.filter(pk=project.pk).update(created_at=created_at)
        Need.objects.filter(pk=need.pk).update(updated_at=created_at)
        span = (ends_on - starts_on).days
        dues = [starts_on, starts_on + DAY * 14, starts_on + DAY * (span // 2), ends_on]
        milestones = [delivery.milestone_add(actor=staff, project=project, title=title, due_on=due)
                      for title, due in zip(MILESTONES, dues, strict=True)]
        Milestone.objects.filter(project=project).update(created_at=created_at)
        self._agreement(staff, project, created_at)
        if outcome == "planned":
            return
        delivery.project_start(actor=staff, project=project)
        last_day = min(ends_on, self.today - DAY) if outcome != "cancelled" else \
            min(starts_on + DAY * rng.randint(10, 40), self.today - DAY)
        for milestone in milestones:
            if milestone.due_on <= last_day:
                delivery.milestone_done(actor=staff, milestone=milestone,
                                        done_on=min(milestone.due_on + DAY * rng.randint(0, 3), last_day))
        held = starts_on + DAY * rng.randint(3, 10)
        while held <= last_day:
            volunteers = rng.randint(2, 12)
            delivery.record_add(
                actor=liaison, project=project, held_on=held, title=ask.record, beneficiary_group=ask.group,
                beneficiaries=rng.randint(max(5, ask.beneficiary_count // 3), max(6, ask.beneficiary_count)),
                volunteers=volunteers, volunteer_hours=round(volunteers * rng.uniform(1.5, 3.5), 1))
            held += DAY * rng.randint(14, 30)
        ServiceRecord.objects.filter(project=project).update(created_at=created_at)
        for record in ServiceRecord.objects.filter(project=project):
            ServiceRecord.objects.filter(pk=record.pk).update(created_at=self.at(record.held_on, rng))
        if outcome == "cancelled":
            delivery.project_cancel(actor=staff, project=project, reason=rng.choice(CANCEL_REASONS))
            Need.objects.filter(pk=need.pk).update(updated_at=self.at(last_day, rng))
            return
        published_on = min(starts_on + DAY * rng.randint(7, 20), self.today)
        from . import ratings

        if outcome == "completed":
            for milestone in Milestone.objects.filter(project=project, done_on__isnull=True):
                delivery.milestone_done(actor=staff, milestone=milestone, done_on=min(ends_on, self.today))
            delivery.project_complete(actor=staff, project=project, note="各节点已完成，居民反映良好。")
            completed_at = self.at(min(ends_on + DAY * rng.randint(0, 5), self.today), rng)
            Project.objects.filter(pk=project.pk).update(completed_at=completed_at)
            Need.objects.filter(pk=need.pk).update(updated_at=completed_at)
        if outcome == "completed" or rng.random() < 0.6:
            ratings.project_publish(actor=staff, project=project)
            Project.objects.filter(pk=project.pk).update(published_at=self.at(published_on, rng))
            first = rng.randint(0, RESIDENTS - 1)
            for n in range(rng.randint(3, 8) if outcome == "completed" else rng.randint(1, 4)):
                stars = rng.choices([5, 4, 3, 2], weights=[55, 32, 10, 3])[0]
                rating = ratings.rate(account=self.resident((first + n) % RESIDENTS), project=project, stars=stars,
                                      comment=rng.choice(COMMENTS))
                rated = self.at(min(published_on + DAY * rng.randint(1, 60), self.today), rng)
                Rating.objects.filter(pk=rating.pk).update(created_at=rated, updated_at=rated)

    def _agreement(self, staff, project, created_at):
        try:
            from . import agreements
        except ImportError:  # the agreement module is not installed in this build
            return
        agreements.agreement_issue(actor=staff, project=project)
        Project.objects.filter(pk=project.pk).update(agreement_issued_at=created_at)

    def promoted(self, streets: list[Area]) -> int:
        """Frequent request categories of the street's first community become needs (高频诉求转需求)."""
        count = 0
        for street in streets:
            community = Area.objects.filter(parent=street, level=AreaLevel.COMMUNITY, is_active=True) \
                .order_by("code").first()
            if community is None:
                continue
            staff = self.poster(community, street)
            for item in promotion.frequent_categories(community, limit=2):
                if Need.objects.filter(area=community, source=NeedSource.REQUESTS, source_ref=item.code).exists():
                    continue
                initial = promotion.promotion_initial(community, item.category_id)
                if initial is None or staff is None:
                    continue
                services.need_create(actor=staff, area=community, title=initial["title"],
                                     category=initial["category"], description=initial["description"],
                                     source=initial["source"], source_ref=initial["source_ref"])
                count += 1
        return count


def load_demo_cobuild(*, seed: int = orgs_demo.DEFAULT_SEED) -> int:
    """Write the co-building stories that are not there yet; returns how many needs were added."""
    orgs_demo.ensure_demo_available()
    with scopes_disabled():
        loader = _Loader(seed)
        streets = list(Area.objects.filter(code__in=STREETS, level=AreaLevel.STREET).order_by("code"))
        if not streets:
            return 0
        resources = [r for street in streets for r in loader.resources(street)]
        created = 0
        for story in loader.stories(streets, resources):
            if loader.play(story, resources):
                created += 1
        created += loader.promoted(streets)
    return created
