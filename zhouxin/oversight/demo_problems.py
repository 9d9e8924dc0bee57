"""Demo responsibility lists, key problems and topic meetings for 东华门街道 and 景山街道 of the
demo district (idempotent; only where the demo is enabled).

For each of the two streets:

* responsibility lists of this year for the street's Party working committee (党工委: the
  secretary, the full-time deputy secretary and one committee member) and for the Party
  committees of its first communities (the secretary), with items whose deadlines fall in the
  year; the items already due are done, with what shows it;
* key problems of the street and of its first two communities, each with a story: closed on
  evidence after progress reports and an approved closure; waiting for the closure decision;
  in progress and overdue (shown in red); closure rejected once and back in progress; just
  listed.  Progress reports carry site photos and the closure requests a photo and a PDF;
* topic meetings (党工委会议, 专题会议, 联席会议) that took up the problems.

Everything is written through the services of problems.py by the demo logins where one covers
the area (street_hub, community_staff, community_staff_b, district_admin), otherwise by the
street's data account ("demo_cobuild_<street>", with the street hub role, as the other demos
do).  A community's problems are listed by its staff and decided by the street; a street's by
the street and decided by the district.  The services stamp the real time; the stories are then
moved back to their days (created, reported, requested, closed), as the other demos do.

Idempotent: a list is keyed by its organisation, year, role and holder; a problem by its area
and title; a meeting by its area and title.  A second run finds them and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from . import problems
from .choices import ItemStatus, LeaderRole, MeetingKind, ProblemSource, ProblemStatus
from .models import (
    KeyProblem,
    ProblemEvidence,
    ProblemUpdate,
    Responsibility,
    TopicMeeting,
)

STREET_NAMES = ("东华门街道", "景山街道")
COMMUNITIES_PER_STREET = 2
PDF_BYTES = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
             b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

# --- Texts ---------------------------------------------------------------------------------------

# (role, [(item, month due)]): a street working committee's lists.
STREET_LISTS = (
    (LeaderRole.SECRETARY, (
        ("履行抓基层党建第一责任人职责，每季度主持召开党工委会议专题研究基层党建工作", 3),
        ("落实街道“大工委”制度，召开全体会议不少于两次，推动驻区单位共驻共建", 6),
        ("牵头推进接诉即办，每月分析高频诉求，研究“每月一题”解决方案", 6),
        ("带头落实双报到，指导在职党员回社区报到服务", 9),
        ("年底向区委述职，接受评议考核", 12),
    )),
    (LeaderRole.DEPUTY, (
        ("制定年度基层党建工作要点并分解落实到社区", 3),
        ("组织社区党组织书记轮训，每人不少于 40 学时", 6),
        ("督导社区党群服务中心错时延时开放，每月抽查不少于两次", 9),
        ("整顿软弱涣散社区党组织，逐一制定整改方案", 11),
        ("建立党建工作台账，按季度通报各社区推进情况", 12),
    )),
    (LeaderRole.MEMBER, (
        ("联系分管领域的驻区单位，推动签订共建协议", 5),
        ("落实分管领域意识形态工作责任制", 8),
        ("包联一个社区，每月到社区调研不少于一次", 12),
    )),
)
COMMUNITY_LIST = (
    ("每月召开社区党委会，研究社区治理重点工作", 3),
    ("落实“三会一课”，组织主题党日活动每月一次", 6),
    ("建立社区需求、资源、项目三张清单并每季度更新", 6),
    ("推动社区议事协商，全年召开居民议事会不少于四次", 9),
    ("落实社区经费四议两公开，按时公开三务", 12),
)
ITEM_EVIDENCE = (
    "已按计划完成，会议纪要和签到表已归档。",
    "已完成，相关通知、台账和照片留存于街道党建办。",
    "已落实，平台记录可查，情况已在党工委会议上通报。",
    "按期完成，形成专题报告报区委组织部。",
)


@dataclass(frozen=True)
class ProblemText:
    title: str
    description: str
    source: str
    target: str
    reports: tuple[str, ...]   # progress notes, in order
    closure: str


STREET_PROBLEMS = (
    ProblemText("背街小巷环境整治提升", "部分胡同存在私搭乱建、堆物堆料、架空线杂乱等问题，居民接诉即办反映集中。",
                ProblemSource.REQUESTS, "完成辖区背街小巷“十有十无”达标创建，相关诉求量同比下降 30%。",
                ("摸排背街小巷 32 条，建立问题台账 146 项。", "拆除违建 18 处，清理堆物 60 余处，架空线入地方案已报审。",
                 "全部整治完成，组织居民代表验收。"),
                "32 条背街小巷全部达到“十有十无”标准，居民代表验收通过，相关诉求量同比下降 41%。"),
    ProblemText("老旧小区加装电梯推进难", "辖区老旧楼房多，老年人上下楼困难，加装电梯意见难统一、管线改移难。",
                ProblemSource.RESIDENTS, "全年完成加装电梯 12 部，形成可复制的协商议事工作法。",
                ("召开楼门协商会 20 场，9 个单元达成一致意见。", "6 部电梯完成管线改移并开工建设。",
                 "12 部电梯全部完工并通过特种设备验收。"),
                "12 部电梯完工投用，通过质监验收，居民满意度调查满意率 96%。"),
    ProblemText("物业服务企业党建覆盖不足", "部分物业服务企业未建立党组织，物业矛盾诉求较多，红色物业机制不健全。",
                ProblemSource.INSPECTION, "辖区物业服务企业党的组织和工作全覆盖，建立物业服务联席会议制度。",
                ("完成物业服务企业摸底，14 家中 6 家未建立党组织。", "新建物业企业党支部 3 个，选派党建指导员 3 名。"),
                "14 家物业服务企业实现党的组织和工作全覆盖，物业联席会议每月召开。"),
    ProblemText("停车秩序治理", "居民区停车位缺口大，乱停乱放占用消防通道，夜间停车难问题突出。",
                ProblemSource.REQUESTS, "挖掘错时共享车位 200 个，主要道路消防通道保持畅通。",
                ("与 5 家驻区单位签订错时共享停车协议，提供车位 80 个。",),
                "错时共享车位 210 个投入使用，消防通道全部畅通。"),
    ProblemText("菜市场周边占道经营治理", "菜市场周边早晚高峰占道经营、车辆乱停，噪声和垃圾诉求反复出现。",
                ProblemSource.REQUESTS, "设置便民疏导点，占道经营和噪声诉求量同比下降 50%。",
                ("会同城管、市场监管开展联合执法，劝导占道摊位 40 余个。", "设置便民疏导点两处，安排志愿者早晚值守。",
                 "建立市场方、社区、城管三方共管机制，运行一个月无反弹。"),
                "占道经营基本消除，相关诉求量同比下降 56%，三方共管机制常态运行。"),
    ProblemText("老旧楼房屋面渗漏维修", "辖区部分上世纪八十年代楼房屋面防水老化，雨季顶层住户渗漏严重。",
                ProblemSource.SUPERIOR, "完成 16 栋楼屋面防水修缮，雨季顶层住户无渗漏。",
                ("完成屋面勘察，确定修缮楼栋 16 栋，资金纳入老旧小区改造计划。", "9 栋楼完成屋面防水施工。",
                 "16 栋楼全部完工，闭水试验合格。"),
                "16 栋楼屋面修缮完成，闭水试验合格，雨季回访顶层住户无渗漏。"),
)
COMMUNITY_PROBLEMS = (
    ProblemText("楼道堆物清理长效管理", "部分楼门楼道长期堆放杂物，存在消防安全隐患，清理后容易反弹。",
                ProblemSource.RESIDENTS, "楼道堆物全部清理，建立楼门长巡查长效机制。",
                ("发动党员志愿者和楼门长入户宣传，清理楼道堆物 120 余处。", "建立楼门长每周巡查制度，复查无反弹。",
                 "全部楼门清理完毕并通过消防检查。"),
                "全部楼门楼道堆物清理完毕，楼门长每周巡查，消防检查合格。"),
    ProblemText("独居老人助餐服务覆盖", "社区独居、高龄老人较多，就近助餐需求大，现有助餐点容量不足。",
                ProblemSource.RESEARCH, "为 80 名独居高龄老人提供助餐服务，送餐上门全覆盖。",
                ("与驻区餐饮企业对接，新增助餐点一处。", "组织志愿者送餐队，覆盖 60 名老人。"),
                "助餐服务覆盖 82 名独居高龄老人，送餐上门全覆盖。"),
    ProblemText("雨季低洼院落积水", "社区部分平房院落地势低洼，雨季积水倒灌，居民诉求较多。",
                ProblemSource.REQUESTS, "汛期前完成低洼院落排水改造，雨季不发生积水倒灌。",
                ("完成低洼院落排查，确定改造院落 7 处。",),
                "7 处低洼院落排水改造完成，汛期未发生积水倒灌。"),
    ProblemText("垃圾分类桶站改造", "部分桶站位置不合理、设施破损，垃圾满溢和异味问题居民反映较多。",
                ProblemSource.RESIDENTS, "改造桶站 12 处，实现桶站“四有”标准，垃圾分类准确率达到 90%。",
                ("经居民议事会协商确定桶站新点位 12 处。", "完成 8 处桶站改造，安排桶前值守志愿者。",
                 "12 处桶站全部改造完成。"),
                "12 处桶站全部达到“四有”标准，分类准确率抽查 92%。"),
    ProblemText("无物业老旧小区管理缺位", "社区内 3 个老旧小区无物业管理，环境卫生、设施维修无人负责。",
                ProblemSource.INSPECTION, "引入准物业服务，3 个小区实现基本物业服务全覆盖。",
                ("成立小区自管会，征求居民意见，确定准物业服务方案。", "引入国有物业企业提供准物业服务。"),
                "3 个老旧小区全部引入准物业服务，居民满意度 91%。"),
    ProblemText("养老驿站利用率偏低", "社区养老驿站服务项目少、开放时间短，老人到站率不高。",
                ProblemSource.RESEARCH, "驿站日均服务老人 60 人次以上，新增助浴、康复服务。",
                ("调查 200 户老人需求，调整驿站服务项目。", "延长开放时间，新增助浴和康复理疗服务。"),
                "驿站日均服务 68 人次，新增助浴、康复服务，老人满意度 95%。"),
)
MEETING_DECISIONS = {
    MeetingKind.COMMITTEE: "一、听取重点难点问题推进情况汇报；二、对逾期问题明确包联领导督办，两周内报送整改方案；"
                           "三、已完成的问题按程序申请销号。",
    MeetingKind.TOPIC: "一、成立工作专班，由包联领导牵头；二、相关部门和驻区单位按职责分工配合；三、每两周调度一次进展。",
    MeetingKind.JOINT: "一、驻区单位认领共建项目；二、社区梳理居民需求清单；三、下次联席会议通报项目进展。",
}


# --- The loader ------------------------------------------------------------------------------------

def _photo(rng: random.Random) -> bytes:
    """A small PNG standing in for a phone photo of the site."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (rng.randint(150, 200), rng.randint(185, 215), rng.randint(215, 240)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 330, 640, 480), fill=(rng.randint(110, 140), 120, 110))
    for _n in range(rng.randint(3, 6)):
        x = rng.randint(0, 500)
        shade = rng.randint(120, 190)
        draw.rectangle((x, rng.randint(100, 260), x + rng.randint(80, 160), 340), fill=(shade, shade - 20, shade - 40))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class _Loader:
    def __init__(self, district: Area, seed: int):
        self.district = district
        self.seed = seed
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.created = {"responsibilities": 0, "items": 0, "problems": 0, "updates": 0, "meetings": 0}
        User = get_user_model()
        self.admin = User.objects.filter(username="system_admin").first()
        self.logins = list(User.objects.filter(username__in=["district_admin", "street_hub", "community_staff",
                                                             "community_staff_b"]).order_by("username"))
        self.login_names = {login.full_name for login in orgs_demo.LOGINS}

    def rng(self, key: str) -> random.Random:
        return random.Random(f"zhouxin-demo:{self.seed}:oversight-problems:{key}")

    def moment(self, day: dt.date, hour: int = 10) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))

    def name(self, rng: random.Random) -> str:
        surnames = [s for s, _w in orgs_demo.SURNAMES]
        weights = [w for _s, w in orgs_demo.SURNAMES]
        while True:  # never a demo login's name: nobody decides on a problem they own
            name = rng.choices(surnames, weights)[0] + rng.choice(orgs_demo.GIVEN_NAMES[("mid", rng.choice("mf"))])
            if name not in self.login_names:
                return name

    # Accounts -----------------------------------------------------------------------------------------

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

    def login_for(self, area: Area, *, level_grant: bool):
        """A demo login keeping problems of `area`; with level_grant, one granted on the area itself."""
        for user in self.logins:
            if not can(user, "oversight.problem.edit", area.code):
                continue
            if level_grant and not Grant.objects.filter(user=user, area=area, active=True).exists():
                continue
            return user
        return None

    def street_user(self, street: Area):
        return self.login_for(street, level_grant=True) or self._data_account(
            f"demo_cobuild_{street.code}", f"{street.name}区域化党建工作专员", Role.STREET_HUB, street)

    def district_user(self, street: Area):
        for user in self.logins:
            if problems.deciders_reach(user, street.code):
                return user
        return None

    # Organisations ------------------------------------------------------------------------------------

    def committee(self, area: Area) -> Organisation | None:
        kinds = (OrgKind.WORKING_COMMITTEE,) if area.level == AreaLevel.STREET else (OrgKind.PARTY_COMMITTEE,
                                                                                     OrgKind.GENERAL_BRANCH)
        return (Organisation.objects.filter(area=area, kind__in=kinds, is_active=True).order_by("kind", "name")
                .first())

    def helpers(self, area: Area, rng: random.Random) -> list[Organisation]:
        """Co-organisations: a district department or two and a unit of the area."""
        departments = list(Organisation.objects.filter(area=self.district, kind=OrgKind.DEPARTMENT, is_active=True)
                           .order_by("name")[:12])
        units = list(Organisation.objects.filter(area__code__startswith=area.code, is_active=True,
                                                 kind__in=(OrgKind.RESIDENT_UNIT, OrgKind.SOCIAL_ORG))
                     .order_by("name")[:12])
        chosen = rng.sample(departments, min(2, len(departments)))
        if units:
            chosen.append(rng.choice(units))
        return chosen

    # Responsibility lists -----------------------------------------------------------------------------

    def responsibility(self, actor, organisation: Organisation, role: str, holder: str, items) -> None:
        year = self.today.year
        existing = Responsibility.objects.filter(organisation=organisation, year=year, role=role).first()
        if existing is not None:
            return
        listing = problems.responsibility_create(actor=actor, organisation=organisation, year=year, role=role,
                                                 holder=holder)
        self.created["responsibilities"] += 1
        rng = self.rng(f"list:{organisation.pk}:{role}")
        for text, month in items:
            due = dt.date(year, month, 28 if month != 12 else 31)
            item = problems.responsibility_item_add(actor=actor, responsibility=listing, text=text, due=due)
            self.created["items"] += 1
            if due < self.today:
                problems.responsibility_item_update(actor=actor, item=item, text=text, due=due,
                                                    status=ItemStatus.DONE, evidence=rng.choice(ITEM_EVIDENCE))

    # Key problems ----------------------------------------------------------------------------------------

    def upload(self, rng: random.Random, label: str, *, pdf: bool = False) -> SimpleUploadedFile:
        if pdf:
            return SimpleUploadedFile(f"{label}.pdf", PDF_BYTES, content_type="application/pdf")
        return SimpleUploadedFile(f"{label}.png", _photo(rng), content_type="image/png")

    def problem(self, story: str, text: ProblemText, area: Area, keeper, decider, owner: str, lead: Organisation,
                co: list[Organisation]) -> KeyProblem:
        """One problem and its story, moved back to its days.  Stories: closed, requested,
        overdue, rejected, new.  A problem already there is returned as it is."""
        found = KeyProblem.objects.filter(area=area, title=text.title).first()
        if found is not None:
            return found
        rng = self.rng(f"problem:{area.code}:{text.title}")
        reports = list(text.reports)
        if story == "new":
            reports = []
        elif story == "overdue":
            reports = reports[:max(1, len(reports) - 1)]
        steps = len(reports)
        # (days ago it was listed, days it was given): reports every 25 days from day 20, then the request.
        start, length = {"closed": (200, 150), "requested": (30 + 25 * steps, 60 + 25 * steps),
                         "overdue": (160, 130), "rejected": (40 + 25 * steps, 60 + 25 * steps),
                         "new": (6, 120)}[story]
        created = self.today - dt.timedelta(days=start)
        problem = problems.problem_create(
            actor=keeper, area=area, title=text.title, description=text.description, source=text.source, owner=owner,
            lead_org=lead, co_orgs=[o for o in co if o.pk != lead.pk], target=text.target,
            deadline=created + dt.timedelta(days=length), today=created)
        self.created["problems"] += 1
        moments = [(problem.pk, "created", created)]
        for index, note in enumerate(reports, start=1):
            if story in ("closed", "requested", "rejected"):
                percent = 100 if index == steps else min(90, 30 * index + rng.randint(0, 10))
            else:
                percent = min(80, 25 * index + rng.randint(0, 15))
            uploads = [self.upload(rng, f"现场照片{index}")] if index > 1 or rng.random() < 0.5 else []
            update = problems.problem_report_progress(actor=keeper, problem=problem, note=note, progress=percent,
                                                      uploads=uploads, organisation=lead)
            self.created["updates"] += 1
            moments.append((update.pk, "update", created + dt.timedelta(days=20 + 25 * (index - 1))))
        if story in ("closed", "requested", "rejected"):
            request_day = created + dt.timedelta(days=20 + 25 * steps)
            update = problems.problem_request_closure(
                actor=keeper, problem=problem, note=text.closure,
                uploads=[self.upload(rng, "整治完成现场照片"), self.upload(rng, "验收意见", pdf=True)])
            self.created["updates"] += 1
            moments.append((update.pk, "update", request_day))
            if story in ("closed", "rejected") and decider is not None:
                approve = story == "closed"
                note = ("经现场核查，目标已达到，佐证材料齐全，同意销号。" if approve
                        else "现场核查发现仍有部分点位未整改到位，请补充整改后再申请销号。")
                update = problems.problem_decide_closure(actor=decider, problem=problem, approve=approve, note=note)
                self.created["updates"] += 1
                moments.append((update.pk, "update", request_day + dt.timedelta(days=5)))
                if not approve:
                    update = problems.problem_report_progress(
                        actor=keeper, problem=problem, progress=85, organisation=lead,
                        note="按审核意见补充整改剩余点位，预计两周内完成。")
                    self.created["updates"] += 1
                    moments.append((update.pk, "update", request_day + dt.timedelta(days=9)))
        self.move_back(problem, moments)
        return problem

    def move_back(self, problem: KeyProblem, moments) -> None:
        """Put the story on its days: the services stamped today."""
        for pk, kind, day in moments:
            when = self.moment(min(day, self.today - dt.timedelta(days=1)), hour=9 + pk % 8)
            if kind == "created":
                KeyProblem.objects.filter(pk=pk).update(created_at=when)
                continue
            ProblemUpdate.objects.filter(pk=pk).update(at=when)
            ProblemEvidence.objects.filter(update_id=pk).update(uploaded_at=when)
            kind_of = ProblemUpdate.objects.filter(pk=pk).values_list("kind", flat=True).first()
            if kind_of == problems.CLOSURE_REQUEST:
                KeyProblem.objects.filter(pk=problem.pk, status=ProblemStatus.CLOSURE_REQUESTED).update(
                    closure_requested_at=when)
            elif kind_of == problems.CLOSED:
                KeyProblem.objects.filter(pk=problem.pk).update(closed_at=when)

    # Meetings ------------------------------------------------------------------------------------------

    def meeting(self, actor, area: Area, kind: str, title: str, days_ago: int, chair: str, linked) -> None:
        """A meeting held `days_ago`, taking up the `linked` problems (all listed before it)."""
        if TopicMeeting.objects.filter(area=area, title=title).exists():
            return
        rng = self.rng(f"meeting:{area.code}:{title}")
        held_on = self.today - dt.timedelta(days=days_ago)
        meeting = problems.meeting_create(actor=actor, area=area, kind=kind, title=title, held_on=held_on, chair=chair,
                                          attendees=rng.randint(9, 25), decisions=MEETING_DECISIONS[kind],
                                          problems=list(linked))
        TopicMeeting.objects.filter(pk=meeting.pk).update(created_at=self.moment(held_on, hour=17))
        self.created["meetings"] += 1

    # A street ------------------------------------------------------------------------------------------

    def street(self, street: Area, index: int) -> None:
        self.street_index = index
        hub = self.street_user(street)
        district_user = self.district_user(street)
        if hub is None:
            return
        rng = self.rng(f"street:{street.code}")
        short = orgs_demo.street_short_name(street.name)
        committee = self.committee(street)
        leaders = {role: self.name(rng) for role in LeaderRole.values}
        discussed: list[KeyProblem] = []   # problems listed before the street's meetings
        street_problems: list[KeyProblem] = []
        if committee is not None:
            for role, items in STREET_LISTS:
                self.responsibility(hub, committee, role, leaders[role], items)
            stories = ("closed", "requested", "overdue", "new")
            texts = STREET_PROBLEMS[2 * self.street_index:][:4]
            for index, (story, text) in enumerate(zip(stories, texts, strict=True)):
                owner = leaders[LeaderRole.SECRETARY] if index % 2 == 0 else leaders[LeaderRole.DEPUTY]
                problem = self.problem(story, text, street, hub, district_user, owner, committee,
                                       self.helpers(street, self.rng(f"co:{street.code}:{index}")))
                street_problems.append(problem)
                if story != "new":
                    discussed.append(problem)
        communities = list(Area.objects.filter(parent=street, level=AreaLevel.COMMUNITY, is_active=True)
                           .order_by("code")[:COMMUNITIES_PER_STREET])
        for position, community in enumerate(communities):
            lead = self.committee(community)
            if lead is None:
                continue
            keeper = self.login_for(community, level_grant=True) or hub
            # The street decides what a community lists; what the street itself listed goes to the district.
            decider = hub if keeper is not hub else district_user
            secretary = self.name(self.rng(f"secretary:{community.code}"))
            self.responsibility(keeper, lead, LeaderRole.SECRETARY, secretary, COMMUNITY_LIST)
            stories = ("closed", "rejected", "overdue") if position == 0 else ("requested", "new", "closed")
            older = []
            texts = COMMUNITY_PROBLEMS[3 * position:][:3]
            for story, text in zip(stories, texts, strict=True):
                problem = self.problem(story, text, community, keeper, decider, secretary, lead,
                                       self.helpers(community, self.rng(f"co:{community.code}:{story}")))
                if story != "new":
                    older.append(problem)
            discussed.extend(older)
            self.meeting(keeper, community, MeetingKind.JOINT, f"{community.name}共驻共建联席会议", 40, secretary,
                         older[:2])
        self.meeting(hub, street, MeetingKind.COMMITTEE, f"{short}街道党工委会议（重点难点问题推进）", 30,
                     leaders[LeaderRole.SECRETARY], discussed)
        if street_problems:
            self.meeting(hub, street, MeetingKind.TOPIC, f"{short}街道{street_problems[0].title}专题会议", 75,
                         leaders[LeaderRole.DEPUTY], street_problems[:2])


def load(district: Area | str, *, seed: int = orgs_demo.DEFAULT_SEED) -> dict[str, int]:
    """Write the oversight stories of 东华门街道 and 景山街道 that are not there yet; returns what
    was added, by kind."""
    orgs_demo.ensure_demo_available()
    with scopes_disabled():
        if isinstance(district, str):
            district = Area.objects.get(code=district)
        loader = _Loader(district, seed)
        streets = Area.objects.filter(parent=district, level=AreaLevel.STREET, name__in=STREET_NAMES).order_by("code")
        for index, street in enumerate(streets):
            with transaction.atomic():
                loader.street(street, index)
    return loader.created
