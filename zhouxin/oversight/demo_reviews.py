"""Demo data of the secretaries' review, the demonstration sites and the case library
(issue 11 items 2 and 4), written through the services (reviews.py, sites.py), idempotent.

In the district's first street that has a street hub login (东华门街道 in the demo) and its first
community with a community staff login (多福巷社区):

* last year's review of the community secretary: opened by the street, the report given, scored
  by the street hub, the district admin and, up to the city's minimum number of reviewers, by
  data accounts of the street (no password), and finalised: a grade;
* last year's review of the street secretary: opened by the district, the report given, waiting
  for the reviewers' scores (the demo's district admin can score it);
* two demonstration sites: the community, approved by the district for last year; the street's
  Party–masses service centre, nominated this year and waiting for the district;
* four cases with tags and evidence links to the platform's pages: three published into the
  library (one linked to the approved site), one still a draft.

A second run finds every record by its area and year (reviews), its title (sites, cases) and
writes nothing.  Times are those of the run (the services take no other clock).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import reviews, sites
from .choices import CaseStatus, ReviewStatus, SiteKind, SiteStatus
from .models import CaseStudy, DemoSite, ReviewScore, SecretaryReview

COMMUNITY_REPORT = """一、履行第一责任人职责情况
{year}年，社区党委坚持把抓基层党建作为最大政绩，全年召开党委会 24 次、专题研究党建工作 8 次，带头落实“三会一课”，讲专题党课 4 次。

二、围绕接诉即办抓治理
建立“书记接诉、委员分办、楼门长跟进”工作机制，对停车难、老旧管线、噪声扰民等高频诉求逐一建立台账，推动主动治理、未诉先办。

三、推进共驻共建和双报到
与辖区医院、学校、物业签订共建协议，组织在职党员回社区报到，认领微心愿，参与疫情防控、垃圾分类和环境整治志愿服务。

四、存在的问题和下一步打算
一是部分老旧楼院基础设施欠账较多，二是年轻党员参与社区活动的渠道还不够多。下一步将用好社区公益金，推进楼门院治理，拓展“线上议事厅”。"""

STREET_REPORT = """一、抓党建促治理的主要做法
{year}年，街道党工委落实“街乡吹哨、部门报到”机制，全年吹哨 36 次，协调城管、房管、交通等部门解决背街小巷环境、老旧小区停车等难题。

二、社区党组织建设
指导所属社区完成党组织换届，全面推行社区书记、主任“一肩挑”；开展社区工作者培训 6 期，持证社工比例明显提高。

三、阵地和经费保障
街道和社区党群服务中心实行错时延时开放；服务群众专项经费全部按“四议两公开”程序使用，账目逐项公开。

四、存在的问题和下一步打算
各社区工作发展还不平衡，个别社区书记岗位交接期较长。下一步将加强对薄弱社区的包联指导，完善书记后备人才储备。"""

SCORES = (  # (score, comment) of the community review's reviewers, in order
    (Decimal("92"), "抓党建促治理思路清晰，接诉即办成效明显。"),
    (Decimal("88.5"), "共建资源用得好，建议进一步发动年轻党员。"),
    (Decimal("90"), "群众满意度高，问题查摆具体。"),
    (Decimal("89"), "述职实事求是。"),
)

SITE_COMMUNITY_TITLE = "{name}“小巷管家”共治示范点"
SITE_CENTRE_TITLE = "{name}党群服务中心“错时延时”服务示范点"

CASES = [
    {
        "key": "parking", "area": "community", "author": "community", "publisher": "street", "site": True,
        "title": "议事厅里解难题：胡同停车“一位难求”的协商解法",
        "summary": "社区党委搭建胡同议事厅，楼门长、物业、驻区单位和居民代表协商停车方案，三个月内化解停车矛盾，相关诉求明显下降。",
        "tags": "协商议事、停车治理、接诉即办、楼门院治理",
        "body": ("<h3>背景</h3><p>社区平房院落多、道路窄，晚间停车挤占消防通道，停车类诉求一度占社区全部诉求的三成。</p>"
                 "<h3>做法</h3><ul><li>社区党委牵头成立胡同议事厅，每月固定一次议事日；</li>"
                 "<li>楼门长逐户摸排车辆和出行需求，形成一户一表；</li>"
                 "<li>协调驻区医院、学校夜间错时开放停车位，签订共建协议；</li>"
                 "<li>议定的停车公约经居民代表会议表决后张贴公开。</li></ul>"
                 "<h3>成效</h3><p>错时共享车位 120 个，消防通道保持畅通，停车类诉求环比明显下降，居民满意率持续提升。</p>"),
        "evidence": [("dispatch:rankings", "接诉即办三率排名"), ("cobuild:project_list", "共建项目清单")],
    },
    {
        "key": "elevator", "area": "community", "author": "community", "publisher": "street", "site": False,
        "title": "老旧小区加装电梯：“四议两公开”走完全流程",
        "summary": "从党组织提议到居民代表会议决议，每一步都有记录、有公开，加装电梯项目在全体居民监督下落地。",
        "tags": "四议两公开、老旧小区、加装电梯",
        "body": ("<p>针对高层住户上下楼难的问题，社区党委按照“四议两公开”程序推进加装电梯：</p>"
                 "<ol><li>社区党组织提议，形成初步方案；</li><li>两委会议商议，细化出资分摊办法；</li>"
                 "<li>党员大会审议，到会党员超过三分之二；</li><li>居民代表会议决议，决议和实施结果分别公开。</li></ol>"
                 "<p>项目资金使用全程记入经费台账，验收后公示五天，无异议后归档。</p>"),
        "evidence": [("funds:plan_list", "支出计划与四议记录"), ("funds:disclosure_list", "三务公开")],
    },
    {
        "key": "wishes", "area": "community2", "author": "street", "publisher": "district", "site": False,
        "title": "在职党员“双报到”认领微心愿，独居老人有人管",
        "summary": "社区梳理独居高龄老人需求，发布微心愿，由回社区报到的在职党员认领，建立一对一常态联系。",
        "tags": "双报到、微心愿、为老服务、志愿服务",
        "body": ("<p>社区对辖区 80 岁以上独居老人逐户走访，收集助餐、就医陪护、家电维修等需求，整理为微心愿发布。</p>"
                 "<p>在职党员回社区报到后按专长认领，结对服务；社区按月回访，服务时长计入志愿服务记录。</p>"),
        "evidence": [("volunteers:activity_list", "志愿服务活动"), ("volunteers:registration_list", "双报到登记")],
    },
    {
        "key": "centre", "area": "street", "author": "street", "publisher": None, "site": False,
        "title": "党群服务中心错时延时开放，打通服务群众“最后一米”",
        "summary": "街道党群服务中心工作日晚间和周末开放，推出“晚八点”服务和周末亲子课堂，上班族也能办事、参加活动。",
        "tags": "党群服务中心、错时延时、阵地建设",
        "body": ("<p>根据居民问卷，街道党群服务中心调整开放时间：工作日延长至 20:00，周末全天开放，实行 AB 岗值守。</p>"
                 "<p>场地预约、活动报名线上办理，使用情况按月统计、公开。</p>"),
        "evidence": [("centers:centre_list", "党群服务中心")],
    },
]


class _Loader:
    def __init__(self, district: Area):
        self.district = district
        self.created = {"reviews": 0, "scores": 0, "sites": 0, "cases": 0}
        self.today = timezone.localdate()
        self.last_year = self.today.year - 1

    # People ------------------------------------------------------------------------------------

    @staticmethod
    def _holder(role: str, area: Area):
        grant = (Grant.objects.filter(role=role, area=area, active=True, user__is_active=True)
                 .select_related("user").order_by("user__username").first())
        return get_user_model().objects.get(pk=grant.user_id) if grant else None

    def _system_admin(self):
        grant = (Grant.objects.filter(role=Role.SYSTEM_ADMIN, active=True, user__is_active=True)
                 .order_by("user__username").first())
        return get_user_model().objects.get(pk=grant.user_id) if grant else None

    def _data_account(self, username: str, full_name: str, role: str, area: Area):
        """A login-less account created by the system administrator (as the other demos do)."""
        from zhouxin.core import services as core_services

        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            admin = self._system_admin()
            if admin is None:
                return None
            user = core_services.user_create(actor=admin, username=username, full_name=full_name[:64])
        if not Grant.objects.filter(user=user, role=role, area=area, active=True).exists():
            admin = self._system_admin()
            if admin is None:
                return None
            core_services.grant_add(actor=admin, user=user, role=role, area=area)
        return User.objects.get(pk=user.pk)  # fresh: its scope is built with the grant

    def pick(self) -> bool:
        """The street, its communities and the logins that act in them."""
        self.district_admin = self._holder(Role.DISTRICT_ADMIN, self.district)
        streets = Area.objects.filter(parent=self.district, level=AreaLevel.STREET, is_active=True).order_by("code")
        self.street = self.street_hub = None
        for street in streets:
            hub = self._holder(Role.STREET_HUB, street)
            if hub is not None:
                self.street, self.street_hub = street, hub
                break
        if self.street is None or self.district_admin is None:
            return False
        communities = list(Area.objects.filter(parent=self.street, level=AreaLevel.COMMUNITY, is_active=True)
                           .order_by("code"))
        self.community = self.community_staff = None
        for community in communities:
            staff = self._holder(Role.COMMUNITY_STAFF, community)
            if staff is not None:
                self.community, self.community_staff = community, staff
                break
        if self.community is None:
            return False
        others = [c for c in communities if c.pk != self.community.pk]
        self.community2 = others[0] if others else self.community
        return True

    # Reviews -----------------------------------------------------------------------------------

    def review(self, area: Area, opener, reporter, secretary: str, text: str) -> SecretaryReview:
        review = SecretaryReview.objects.unscoped().filter(area=area, year=self.last_year).first()
        if review is None:
            review = reviews.review_open(actor=opener, area=area, year=self.last_year, secretary=secretary)
            self.created["reviews"] += 1
        if review.status == ReviewStatus.DRAFT:
            reviews.review_save_report(actor=reporter, review=review, report=text.format(year=self.last_year))
            reviews.review_submit(actor=reporter, review=review)
        return review

    def reviewers(self, minimum: int) -> list:
        people = [self.street_hub, self.district_admin]
        n = 1
        while len(people) < max(minimum, 3):
            user = self._data_account(f"demo_reviewer_{self.street.code}_{n}", f"{self.street.name}党工委委员（评议）",
                                      Role.STREET_HUB, self.street)
            if user is None:
                break
            people.append(user)
            n += 1
        return people

    def reviews(self) -> None:
        community = self.review(self.community, self.street_hub, self.community_staff,
                                self.community_staff.display_name, COMMUNITY_REPORT)
        if community.status == ReviewStatus.SUBMITTED:
            minimum = int(reviews.review_rule(self.community)["minimum_reviewers"])
            scored = set(ReviewScore.objects.unscoped().filter(review=community).values_list("reviewer_id", flat=True))
            for index, user in enumerate(self.reviewers(minimum)):
                if user.pk in scored:
                    continue
                score, comment = SCORES[index % len(SCORES)]
                reviews.review_score(actor=user, review=community, score=score, comment=comment)
                self.created["scores"] += 1
            if ReviewScore.objects.unscoped().filter(review=community).count() >= minimum:
                reviews.review_finalise(actor=self.street_hub, review=community)
        self.review(self.street, self.district_admin, self.street_hub, self.street_hub.display_name, STREET_REPORT)

    # Sites and cases ---------------------------------------------------------------------------

    def site(self, *, area: Area, kind: str, year: int, title: str, reason: str, actor, evidence: dict,
             approve: bool) -> DemoSite:
        site = DemoSite.objects.unscoped().filter(area=area, kind=kind, year=year, title=title).first()
        if site is None:
            site = sites.site_nominate(actor=actor, area=area, kind=kind, year=year, title=title, reason=reason,
                                       evidence=evidence)
            self.created["sites"] += 1
        if approve and site.status == SiteStatus.NOMINATED:
            sites.site_decide(actor=self.district_admin, site=site, approve=True,
                              note="做法成熟、群众认可，可复制推广，同意命名。")
        return site

    def sites(self) -> DemoSite:
        approved = self.site(
            area=self.community, kind=SiteKind.COMMUNITY, year=self.last_year,
            title=SITE_COMMUNITY_TITLE.format(name=self.community.name), actor=self.community_staff, approve=True,
            reason="社区党委以胡同议事厅为抓手，组织楼门长、驻区单位和居民协商解决停车、环境等身边事，"
                   "形成“小巷管家”共治机制。",
            evidence={"centre": "社区党群服务中心面积 520 平方米，活动用房占六成以上，工作日延时至 20:00。",
                      "practice": "议事厅做法已在街道内 3 个社区推广。",
                      "discipline": "班子团结，近三年无违纪违法和重大安全责任事故。"})
        self.site(
            area=self.street, kind=SiteKind.CENTRE, year=self.today.year,
            title=SITE_CENTRE_TITLE.format(name=self.street.name), actor=self.street_hub, approve=False,
            reason="街道党群服务中心实行错时延时开放和 AB 岗值守，场地预约和活动报名线上办理。",
            evidence={"centre": "中心面积 1,200 平方米，按标准设置党员活动、议事协商、便民服务等功能区。"})
        return approved

    @staticmethod
    def _links(pairs) -> str:
        lines = []
        for name, title in pairs:
            try:
                lines.append(f"{title} | {reverse(name)}")
            except NoReverseMatch:
                continue
        return "\n".join(lines)

    def cases(self, site: DemoSite) -> None:
        areas = {"community": self.community, "community2": self.community2, "street": self.street}
        people = {"community": self.community_staff, "street": self.street_hub, "district": self.district_admin}
        for spec in CASES:
            area = areas[spec["area"]]
            case = CaseStudy.objects.unscoped().filter(area=area, title=spec["title"]).first()
            if case is None:
                case = sites.case_create(actor=people[spec["author"]], area=area, title=spec["title"],
                                         summary=spec["summary"], body=spec["body"], tags=spec["tags"],
                                         evidence=self._links(spec["evidence"]),
                                         site=site if spec["site"] else None)
                self.created["cases"] += 1
            if spec["publisher"] and case.status == CaseStatus.DRAFT:
                sites.case_publish(actor=people[spec["publisher"]], case=case)


def load(district: Area) -> dict[str, int]:
    """Write what is not there yet for `district`; returns what was added, by kind."""
    with scopes_disabled():
        loader = _Loader(Area.objects.unscoped().get(pk=district.pk))
        if not loader.pick():
            return loader.created
        loader.reviews()
        site = loader.sites()
        loader.cases(site)
    return loader.created
