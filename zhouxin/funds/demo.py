"""Two years of community funds (经费保障) in the demo district, Dongcheng (idempotent; only where
the demo is enabled).

Every community of the district's first two streets (东华门, 景山) gets a 服务群众专项经费 for last
year and for this year, ¥200,000 shared 1:1 by city and district (the "funds.budget" rule), set
up by the street.  Spending plans with realistic titles go through the workflow of plans.py:

* last year: a few plans from proposal through 四议两公开 (above the threshold), street review
  and filing, disbursement in one or two payments, vouchers (an invoice scan and a site photo),
  acceptance, the result notice and filing (归档); one plan fails the Party members' vote and is
  rejected; the yearly item (年度公开) is published in January and the quarterly items (季度公开)
  a few days after each quarter;
* this year: one plan through the whole workflow to FILED (when the year is old enough for
  one) and smaller ones filed over the months already behind us, one accepted a few days ago
  and still in its result notice (结果公示中), one half paid, one waiting for the street's review
  and one in the middle of its deliberations; the yearly item and the quarterly items of the
  quarters already over.
Early in January the recent plans go on last year's fund instead, so the stories still fit
between the fund's set-up and today.

Everything is written through the services (funds.py, plans.py, disclosures.py) by the demo
logins where one covers the area (street_hub, community_staff, community_staff_b), otherwise by
data accounts with no password created by the demo system administrator (a street's account is
the co-building demo's, "demo_cobuild_<street>"; a community's is "demo_funds_<community>").

Dates.  The ledger and the disclosures are append-only and hash-chained, and a disbursement's
time is part of its hash, so history cannot be moved back afterwards as the other demos do:
each step runs on its own day instead, with the clock of the funds modules (funds, ledger,
plans, disclosures) set to that moment, in time order within each community (one transaction
per community).  The audit trail keeps its real times.  Deliberations' and vouchers' own
record times and a fund's set-up time (plain columns) are set to the day afterwards.

Idempotent: a community's story of a year is keyed by its service fund of that year; a second
run finds the funds and writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone as real_timezone

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import disclosures, funds, ledger, plans
from .choices import DELIBERATION_ORDER, DeliberationStep, FundKind, VoucherKind
from .models import Deliberation, Fund, SpendingPlan, Voucher

STREETS = ("110101001", "110101002")  # 东华门, 景山: the demo district's first two streets
DAY = dt.timedelta(days=1)
QUARTER_NOTICE_DAYS = 6  # quarterly items go up a few days after the quarter
FUND_MODULES = (funds, ledger, plans, disclosures)


@dataclass(frozen=True)
class PlanText:
    title: str
    category: str
    amount: int
    purpose: str
    beneficiaries: str
    implementer: str


# Above the 四议两公开 threshold (*default* ¥10,000).
BIG = (
    PlanText("楼道照明改造", "公共设施小修", 36800,
             "为辖区老旧楼门更换声光控LED楼道灯，维修损坏的开关和线路，解决老人夜间上下楼照明不足的问题。",
             "辖区老旧楼门居民", "北京恒亮照明工程有限公司"),
    PlanText("社区少儿暑期托管", "少年儿童服务", 45000,
             "暑期为双职工家庭的小学生提供六周托管，安排课业辅导、阅读、手工和安全教育课程。",
             "双职工家庭小学生", "北京童乐教育咨询有限公司"),
    PlanText("养老驿站适老化改造", "为老助残服务", 39800,
             "为社区养老服务驿站加装扶手、防滑地面和呼叫器，改造无障碍卫生间。",
             "社区高龄、失能老人", "北京安康适老化工程有限公司"),
    PlanText("胡同绿化补植", "社区环境整治", 32000,
             "补植胡同和楼间绿地的灌木、花卉，修整破损的树池，建立居民认养管护机制。",
             "社区全体居民", "北京绿源园林绿化有限公司"),
    PlanText("邻里节文艺汇演", "文体活动", 18500,
             "举办社区邻里节，组织居民文艺汇演、书画展和亲子游园，租用舞台音响并制作宣传品。",
             "社区全体居民", "北京和声文化传播有限公司"),
    PlanText("小区健身器材维修更新", "公共设施小修", 28600,
             "维修小区广场老化的健身器材，更换存在安全隐患的器械并铺设防护地垫。",
             "社区全体居民", "北京健力体育设施有限公司"),
    PlanText("困难家庭冬季帮扶", "困难群众帮扶", 24000,
             "为辖区低保、低收入和困难残疾人家庭购置冬季取暖用品和米面油，入户走访慰问。",
             "辖区困难家庭", "东城区慈善协会"),
)
# At or below the threshold: no deliberation, straight to the street.
SMALL = (
    PlanText("老年助餐点餐具更新", "为老助残服务", 8600,
             "更换社区老年助餐点破损的餐桌椅和餐具，添置保温送餐箱。", "社区助餐老人", "北京康膳餐饮用品有限公司"),
    PlanText("垃圾分类宣传", "社区环境整治", 6000,
             "制作垃圾分类宣传展板和入户宣传册，组织桶前值守志愿者培训。", "社区全体居民", "北京绿源环保科技有限公司"),
    PlanText("防范电信诈骗宣传培训", "社区教育培训", 4800,
             "邀请民警和专业讲师开展防范电信诈骗讲座，制作宣传折页。", "社区中老年居民", "北京明德教育咨询有限公司"),
    PlanText("便民修车点工具添置", "便民服务设施", 7200,
             "为社区便民修车点添置打气泵、补胎工具和维修工作台。", "社区居民", "北京捷安自行车维修服务部"),
    PlanText("志愿者服务积分兑换", "志愿服务激励", 5500,
             "按志愿服务积分为社区志愿者兑换生活用品，表彰年度优秀志愿者。", "社区注册志愿者", "北京惠民超市有限公司"),
    PlanText("居民议事厅音响更新", "社区治理项目", 9200,
             "更换居民议事厅老化的音响、话筒和投影设备，保障居民议事和听证会议。", "社区居民和居民代表",
             "北京声博视听设备有限公司"),
)
ACCEPT_NOTES = ("项目按计划完成，质量合格，居民反映良好。", "已按合同完成全部内容，凭证齐全，验收合格。",
                "实施效果良好，资金使用规范，同意验收。")
PARTICIPANTS = ("社区党委书记、居务监督委员会主任、居民代表三人", "社区居委会主任、居务监督委员会成员、楼门长代表",
                "街道社区建设科、社区两委成员、居民代表")
MINUTES = {
    DeliberationStep.PARTY_PROPOSAL: "社区党委会议研究，认为项目符合居民需求，提议实施。",
    DeliberationStep.JOINT_DISCUSSION: "社区两委联席会议商议实施方案、预算和实施单位。",
    DeliberationStep.MEMBERS_REVIEW: "社区党员大会审议项目方案。",
    DeliberationStep.RESIDENTS_DECISION: "居民代表会议表决通过项目方案，会后公开决议。",
}
REJECTED_NOTE = "党员大会审议时多数党员认为方案需进一步征求意见，未获通过。"


# --- The clock of the funds modules --------------------------------------------------------------

class _Clock:
    """django.utils.timezone as the funds modules see it while one step of the history runs:
    now() is the moment of the step, everything else is the real module."""

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
        for module in FUND_MODULES:
            stack.enter_context(mock.patch.object(module, "timezone", clock))
        yield


# --- Vouchers ------------------------------------------------------------------------------------

def _scan(rng: random.Random, *, invoice: bool) -> bytes:
    """A small PNG standing in for a phone photo of an invoice (red-ruled paper) or of the site."""
    from PIL import Image, ImageDraw

    width, height = (720, 480) if invoice else (800, 600)
    if invoice:
        image = Image.new("RGB", (width, height), (250, 248, 240))
        draw = ImageDraw.Draw(image)
        draw.rectangle((30, 30, width - 30, height - 30), outline=(170, 60, 50), width=3)
        draw.rectangle((260, 44, 460, 84), outline=(170, 60, 50), width=2)
        for row in range(6):
            y = 130 + row * 45
            draw.line((30, y, width - 30, y), fill=(170, 60, 50), width=1)
            for _n in range(rng.randint(2, 5)):
                x = rng.randint(50, width - 160)
                draw.rectangle((x, y + 14, x + rng.randint(40, 120), y + 26), fill=(60, 60, 90))
        draw.ellipse((width - 190, height - 170, width - 70, height - 50), outline=(200, 30, 30), width=4)
    else:
        sky = (rng.randint(150, 200), rng.randint(185, 215), rng.randint(215, 240))
        image = Image.new("RGB", (width, height), sky)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 380, width, height), fill=(rng.randint(110, 140), rng.randint(110, 130), 110))
        for _n in range(rng.randint(3, 6)):
            x = rng.randint(0, width - 160)
            top = rng.randint(120, 300)
            shade = rng.randint(120, 190)
            draw.rectangle((x, top, x + rng.randint(90, 200), 400), fill=(shade, shade - 20, shade - 40))
        for _n in range(rng.randint(4, 9)):
            x, y = rng.randint(0, width), rng.randint(330, 440)
            draw.ellipse((x, y, x + 50, y + 50), fill=(40, rng.randint(110, 150), 60))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _hundreds(value: Decimal) -> Decimal:
    """Rounded to whole hundreds of yuan, as budgets are written."""
    return (value / 100).quantize(Decimal("1")) * 100


# --- The stories ---------------------------------------------------------------------------------

@dataclass(order=True)
class Step:
    when: dt.datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[dt.datetime], None] = field(compare=False)


@dataclass
class Story:
    """One community's steps, run in time order."""

    community: Area
    steps: list[Step] = field(default_factory=list)

    def add(self, when: dt.datetime, label: str, run: Callable[[dt.datetime], None]) -> None:
        self.steps.append(Step(when, len(self.steps), label, run))


@dataclass
class PlanRun:
    """One plan's script: what it is, how far it goes, and its steps as (day offset, hour, label,
    action) from its first day."""

    text: PlanText
    amount: Decimal
    stop: str  # "filed", "notice", "approved_half", "review", "deliberating", "rejected"
    steps: list[tuple[int, int, str, Callable]] = field(default_factory=list)
    fund: Callable[[], Fund] | None = None  # the plan's fund, once it exists
    plan: SpendingPlan | None = None

    @property
    def length(self) -> int:
        """Days from the first step to the last."""
        return max(offset for offset, _h, _l, _a in self.steps)


class _Loader:
    def __init__(self, seed: int):
        self.seed = seed
        self.now = real_timezone.now()
        self.today = real_timezone.localdate()
        self.created = {"funds": 0, "plans": 0, "disclosures": 0}
        User = get_user_model()
        self.admin = User.objects.filter(username="system_admin").first()
        self.logins = list(User.objects.filter(username__in=["street_hub", "community_staff", "community_staff_b"])
                           .order_by("username"))

    def rng(self, key: str) -> random.Random:
        return random.Random(f"zhouxin-demo:{self.seed}:funds:{key}")

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return real_timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    # Accounts ----------------------------------------------------------------------------------

    def _data_account(self, username: str, full_name: str, role: str, area: Area):
        from zhouxin.core import services as core_services

        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if self.admin is None:
                return None
            user = core_services.user_create(actor=self.admin, username=username, full_name=full_name[:64])
        if not Grant.objects.filter(user=user, role=role, area=area, active=True).exists():
            core_services.grant_add(actor=self.admin, user=user, role=role, area=area)
        return User.objects.get(pk=user.pk)  # fresh: its scope is built with the grant

    def street_user(self, community: Area, street: Area):
        """Who sets up funds, reviews and pays in `community`: a demo login of the street, else
        the street's data account (the co-building demo's, with the street hub role)."""
        for user in self.logins:
            if all(can(user, p, community.code) for p in ("funds.allocate", "funds.review", "funds.disburse")):
                return user
        return self._data_account(f"demo_cobuild_{street.code}", f"{street.name}区域化党建工作专员", Role.STREET_HUB,
                                  street)

    def community_user(self, community: Area):
        """Who proposes, deliberates, accepts and publishes: a demo login of the community, else
        the community's data account."""
        for user in self.logins:
            if can(user, "funds.plan", community.code) and can(user, "funds.disclose", community.code):
                return user
        short = community.name.removesuffix("居委会")
        return self._data_account(f"demo_funds_{community.code}", f"{short}经费专管员", Role.COMMUNITY_STAFF, community)

    def communities(self) -> list[tuple[Area, Area]]:
        streets = list(Area.objects.filter(code__in=STREETS, level=AreaLevel.STREET).order_by("code"))
        return [(community, street) for street in streets
                for community in Area.objects.filter(parent=street, level=AreaLevel.COMMUNITY, is_active=True)
                .order_by("code")]

    # A community's story ------------------------------------------------------------------------

    def story(self, index: int, community: Area, street: Area) -> Story | None:
        this_year, last_year = self.today.year, self.today.year - 1
        have = set(Fund.objects.filter(community=community, kind=FundKind.SERVICE, year__in=[this_year, last_year])
                   .values_list("year", flat=True))
        if have == {this_year, last_year}:
            return None
        hub, staff = self.street_user(community, street), self.community_user(community)
        if hub is None or staff is None:
            return None
        story = Story(community)
        holder: dict[int, Fund] = {}
        rng = self.rng(community.code)
        # Each community its own titles (the first one the brief's: 楼道照明改造, 老年助餐点餐具更新 …).
        big = [BIG[(index + n) % len(BIG)] for n in range(len(BIG))]
        small = [SMALL[(index + n) % len(SMALL)] for n in range(len(SMALL))]

        def fund_of(year):
            return lambda: holder[year]

        if last_year not in have:
            self.fund_steps(story, holder, last_year, hub, staff)
            for text, start, stop in ((big[2], dt.date(last_year, 3, 4), "filed"),
                                      (small[2], dt.date(last_year, 5, 11), "filed"),
                                      (big[3], dt.date(last_year, 6, 8), "filed"),
                                      (big[4], dt.date(last_year, 9, 2), "rejected"),
                                      (small[3], dt.date(last_year, 10, 19), "filed")):
                run = self.script(community, text, stop, fund_of(last_year), hub, staff, rng, on=start)
                self.place(story, run, start)
        if this_year in have:
            return story
        opened = self.fund_steps(story, holder, this_year, hub, staff)
        # One plan of this year through to FILED, when the year is old enough for one.
        for text in (big[0], small[4]):
            start = opened + 10 * DAY
            run = self.script(community, text, "filed", fund_of(this_year), hub, staff, rng, on=start)
            if start + run.length * DAY < self.today:
                self.place(story, run, start)
                break
        # Smaller plans over the months of this year already behind us (done before the recent ones).
        for text, (month, day) in ((small[2], (4, 8)), (small[5], (6, 17)), (small[3], (9, 9))):
            start = dt.date(this_year, month, day)
            run = self.script(community, text, "filed", fund_of(this_year), hub, staff, rng, on=start)
            if start + run.length * DAY < self.today - 21 * DAY:
                self.place(story, run, start)
        # Recent plans, placed back from the day their last step happened.
        for text, stop, last_day in ((small[0], "notice", self.today - 2 * DAY),
                                     (big[5], "approved_half", self.today - 6 * DAY),
                                     (small[1], "review", self.today - DAY),
                                     (big[1], "deliberating", self.today - 3 * DAY)):
            run = self.script(community, text, stop, None, hub, staff, rng, on=last_day)
            start = last_day - run.length * DAY
            year = this_year if start > opened else last_year
            if year in have:
                continue  # never add to a fund a previous run (or a person) set up
            run.fund = fund_of(year)
            self.place(story, run, start)
        return story

    def fund_steps(self, story: Story, holder: dict, year: int, hub, staff) -> dt.date:
        """Set-up on 3 January (earlier on the first days of a year), the yearly item a week later,
        the quarterly items a few days after each quarter; returns the set-up day."""
        community = story.community
        opened = min(dt.date(year, 1, 3), self.today)
        set_up = min(self.at(opened, 9, 0), self.now - dt.timedelta(hours=1))
        number = 10 + int(community.code[-3:])

        def create(moment):
            fund = funds.fund_create(actor=hub, community=community, year=year, kind=FundKind.SERVICE,
                                     sources=funds.default_sources(community, year), note=f"东财预〔{year}〕{number}号")
            Fund.objects.filter(pk=fund.pk).update(created_at=moment)
            holder[year] = fund
            self.created["funds"] += 1

        story.add(set_up, "fund", create)
        yearly = self.at(opened + 7 * DAY, 10, 0)
        if yearly < self.now:
            story.add(yearly, "yearly", lambda m: self.publish(disclosures.publish_yearly, actor=staff,
                                                               community=community, year=year))
        for quarter in (1, 2, 3, 4):
            moment = self.at(disclosures.quarter_period(year, quarter)[1] + QUARTER_NOTICE_DAYS * DAY, 15, 0)
            if moment < self.now:
                story.add(moment, f"quarter{quarter}",
                          lambda m, q=quarter: self.publish(disclosures.publish_quarterly, actor=staff,
                                                            community=community, year=year, quarter=q))
        return opened

    def publish(self, service, **kwargs) -> None:
        service(**kwargs)
        self.created["disclosures"] += 1

    def place(self, story: Story, run: PlanRun, start: dt.date) -> None:
        for offset, hour, label, action in run.steps:
            story.add(self.at(start + offset * DAY, hour, (7 * len(label)) % 60), f"{run.text.title}:{label}",
                      lambda moment, act=action: act(moment))

    # A plan's script ----------------------------------------------------------------------------

    def script(self, community: Area, text: PlanText, stop: str, fund, hub, staff, rng: random.Random, *,
               on: dt.date) -> PlanRun:
        """The steps of one plan, up to where `stop` says (every choice drawn now, in order)."""
        threshold = plans.deliberation_rule(community, on=on)[0]
        amount = _hundreds(Decimal(text.amount) * Decimal(rng.choice((90, 95, 100, 100, 105, 110))) / 100)
        if text in SMALL:
            amount = min(amount, threshold - 200)
        amount = amount.quantize(Decimal("0.01"))
        run = PlanRun(text, amount, stop, fund=fund)
        steps = run.steps

        def plan():
            return run.plan

        def propose(moment):
            run.plan = plans.plan_propose(actor=staff, fund=run.fund(), title=text.title, purpose=text.purpose,
                                          category=text.category, amount=amount, beneficiaries=text.beneficiaries,
                                          implementer=text.implementer, today=moment.date())
            self.created["plans"] += 1

        steps.append((0, 9, "propose", propose))
        offset = 0
        if amount > threshold:  # 四议两公开
            for n, step in enumerate(DELIBERATION_ORDER):
                if stop == "deliberating" and n >= 2:
                    break
                offset += (2, 3, 7, 7)[n]
                fails = stop == "rejected" and step == DeliberationStep.MEMBERS_REVIEW
                counts = self.votes(step, rng, fails=fails)
                minutes = REJECTED_NOTE if fails else MINUTES[step]
                steps.append((offset, 19 if n >= 2 else 10, f"deliberate:{step}",
                              lambda m, s=step, c=counts, t=minutes: self.deliberate(plan(), s, c, t, staff, m)))
                if fails:
                    break
        if stop in ("deliberating", "rejected"):
            return run
        offset += 2
        steps.append((offset, 11, "submit", lambda m: plans.plan_submit(actor=staff, plan=plan())))
        if stop == "review":
            return run
        offset += 3
        steps.append((offset, 15, "review", lambda m: plans.plan_review(
            actor=hub, plan=plan(), approve=True, note="同意备案，请按程序实施并及时公开。", today=m.date())))
        payee = text.implementer
        if stop == "approved_half" or (amount > threshold and rng.random() < 0.7):
            first = _hundreds(amount / 2)
            offset += 6
            steps.append((offset, 10, "pay:first", lambda m: plans.plan_disburse(
                actor=hub, plan=plan(), amount=first, payee=payee, memo=f"{text.title}首付款")))
            if stop == "approved_half":
                return run
            offset += 14
            steps.append((offset, 10, "pay:rest", lambda m: plans.plan_disburse(
                actor=hub, plan=plan(), amount=amount - first, payee=payee, memo=f"{text.title}尾款")))
        else:
            offset += 5
            steps.append((offset, 10, "pay", lambda m: plans.plan_disburse(
                actor=hub, plan=plan(), amount=amount, payee=payee, memo=f"{text.title}全额拨付")))
        offset += 1
        number = f"{rng.randint(10000000, 99999999)}"
        invoice, photo = _scan(rng, invoice=True), _scan(rng, invoice=False)
        steps.append((offset, 14, "voucher:invoice", lambda m: self.voucher(
            plan(), staff, m, kind=VoucherKind.INVOICE, upload=(f"发票-{number}.png", invoice), number=number,
            amount=amount, issued_on=m.date() - DAY, issuer=payee)))
        steps.append((offset, 15, "voucher:photo", lambda m: self.voucher(
            plan(), staff, m, kind=VoucherKind.PHOTO, upload=("现场照片.png", photo))))
        offset += 2
        note, participants = rng.choice(ACCEPT_NOTES), rng.choice(PARTICIPANTS)
        steps.append((offset, 16, "accept", lambda m: plans.plan_accept(
            actor=staff, plan=plan(), note=note, participants=participants)))
        if stop == "filed":
            offset += plans.deliberation_rule(community, on=on)[1] + 2  # the day after the notice period, and then some
            steps.append((offset, 9, "file", lambda m: plans.plan_file(actor=staff, plan=plan(), today=m.date())))
        return run

    def votes(self, step: str, rng: random.Random, *, fails: bool = False) -> dict:
        """Attendance and votes that meet the quorum (and pass, unless `fails`)."""
        if step == DeliberationStep.PARTY_PROPOSAL:  # the community Party committee
            due = rng.randint(5, 9)
            present = due - rng.randint(0, 1)
            return {"due": due, "present": present, "votes_for": present}
        if step == DeliberationStep.JOINT_DISCUSSION:  # both committees
            due = rng.randint(9, 13)
            present = due - rng.randint(0, 2)
            return {"due": due, "present": present, "votes_for": present - rng.randint(0, 1)}
        if step == DeliberationStep.MEMBERS_REVIEW:  # the Party members: two thirds present
            due = rng.randint(60, 140)
            present = -(-due * 2 // 3) + rng.randint(0, due // 5)
            if fails:  # quorate, but not more than half of the members due vote for it
                votes_for = due // 2 - rng.randint(2, 6)
                against = min(present - votes_for, due // 3)
                return {"due": due, "present": present, "votes_for": votes_for, "votes_against": against,
                        "abstained": present - votes_for - against}
            votes_for = due // 2 + 1 + rng.randint(0, present - due // 2 - 2)
            against = rng.randint(0, min(3, present - votes_for))
            return {"due": due, "present": present, "votes_for": votes_for, "votes_against": against,
                    "abstained": present - votes_for - against}
        due = rng.randint(35, 60)  # the residents' representatives: more than half present
        present = due // 2 + 1 + rng.randint(3, due // 2 - 1)
        votes_for = present // 2 + 1 + rng.randint(0, present // 2 - 2)
        against = rng.randint(0, min(2, present - votes_for))
        return {"due": due, "present": present, "votes_for": votes_for, "votes_against": against,
                "abstained": present - votes_for - against}

    def deliberate(self, plan: SpendingPlan, step: str, counts: dict, minutes: str, staff, moment) -> None:
        record = plans.deliberation_record(actor=staff, plan=plan, step=step, held_on=moment.date(), minutes=minutes,
                                           today=moment.date(), **counts)
        Deliberation.objects.filter(pk=record.pk).update(recorded_at=moment + dt.timedelta(hours=2))

    def voucher(self, plan: SpendingPlan, staff, moment: dt.datetime, **kwargs) -> None:
        voucher = plans.voucher_add(actor=staff, plan=plan, today=moment.date(), **kwargs)
        Voucher.objects.filter(pk=voucher.pk).update(recorded_at=moment)

    # Running ------------------------------------------------------------------------------------

    def run(self, story: Story) -> None:
        """The community's steps in time order, each at its moment (never later than now), in one
        transaction: a community's story is all there or not at all."""
        steps = sorted(story.steps)
        latest = self.now - dt.timedelta(minutes=len(steps) + 1)
        with transaction.atomic():
            for n, step in enumerate(steps):
                # Steps of the last minutes keep their order and stay in the past.
                moment = min(step.when, latest + dt.timedelta(minutes=n))
                with _at(moment):
                    step.run(moment)


def load_demo_funds(*, seed: int = orgs_demo.DEFAULT_SEED) -> dict[str, int]:
    """Write the funds stories that are not there yet; returns what was added, by kind."""
    orgs_demo.ensure_demo_available()
    with scopes_disabled():
        loader = _Loader(seed)
        for index, (community, street) in enumerate(loader.communities()):
            story = loader.story(index, community, street)
            if story is not None and story.steps:
                loader.run(story)
    return loader.created
