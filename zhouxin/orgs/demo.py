"""The demo district: Beijing Dongcheng, built deterministically from a seed.

`load_demo(seed=2019)` imports Dongcheng (17 streets, 169 communities) from the
bundled divisions files, then adds grids, community figures, sectors, the Party
organisations (district committee, one 党工委 per street, a committee and
branches per community, branches of units and departments), district
departments and police stations, resident units, a few thousand people with
valid ID numbers and phone numbers, and one login for every role of DESIGN §1.

Everything is drawn from `random.Random` instances seeded with the seed and a
fixed key per item (a community's code, a login's name), so a run always
produces the same district, and every row has a natural key (area code,
organisation name within its area, ID number index, username) that a second run
finds instead of duplicating.  All writes go through the orgs and core services
inside `scopes_disabled()`: the loader acts for the system.

Demo staff logins have TOTP devices whose secret is derived from the seed and
the username, so `manage.py demo_code USER` can print the current code and
`manage.py demo_logins` can print the secrets.  None of this runs unless
settings.DEMO_ENABLED, which production settings can never turn on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from base64 import b32encode
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhouxin.core import audit
from zhouxin.core.choices import STAFF_ROLES, Role
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.core.scoping import scopes_disabled

from . import services
from .choices import AreaLevel, CommunityType, OrgKind
from .divisions import BUNDLED_DIR, divisions_import
from .models import Area, Organisation, Person, Sector
from .validators import id_check_char

DEFAULT_SEED = 2019
CITY_CODE = "1101"
DISTRICT_CODE = "110101"
# Satisfies the default password policy (core.password: ≥ 10 characters, ≥ 3 classes).
DEMO_PASSWORD = "Zhouxin-Demo-2019"
DEMO_DEVICE_NAME = "演示设备"
MARKER_ACTION = "orgs.demo.loaded"
TOTP_DIGITS = 6


class DemoUnavailable(Exception):
    """The demo is switched off in these settings, or not loaded yet."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: str
    area_code: str
    organisation: str = ""  # key into the loader's named organisations
    person: bool = False  # a member or resident also gets a Person record linked to the login

    @property
    def needs_totp(self) -> bool:
        return self.role in STAFF_ROLES


# One login per role of DESIGN §1 (community staff in two streets), with the personas' names.
LOGINS = (
    DemoLogin("district_admin", "王建国", Role.DISTRICT_ADMIN, DISTRICT_CODE, "district_committee"),
    DemoLogin("street_hub", "李淑珍", Role.STREET_HUB, "110101001", "street_committee:110101001"),
    DemoLogin("community_staff", "张丽华", Role.COMMUNITY_STAFF, "110101001001", "community_committee:110101001001"),
    DemoLogin("community_staff_b", "刘志强", Role.COMMUNITY_STAFF, "110101002002",
              "community_committee:110101002002"),
    DemoLogin("grid_worker", "陈晓东", Role.GRID_WORKER, "110101001001001"),
    DemoLogin("department_handler", "赵德明", Role.DEPARTMENT_HANDLER, DISTRICT_CODE, "department:城管执法"),
    DemoLogin("unit_liaison", "孙雅琴", Role.UNIT_LIAISON, "110101001001", "liaison_unit"),
    DemoLogin("member", "周海燕", Role.MEMBER, "110101001001", "member_branch", person=True),
    DemoLogin("resident", "吴桂兰", Role.RESIDENT, "110101001001", person=True),
    DemoLogin("system_admin", "钱立新", Role.SYSTEM_ADMIN, CITY_CODE),
    DemoLogin("security_admin", "冯春梅", Role.SECURITY_ADMIN, CITY_CODE),
    DemoLogin("audit_admin", "何振华", Role.AUDIT_ADMIN, CITY_CODE),
)
LOGINS_BY_NAME = {login.username: login for login in LOGINS}

# --- Names and numbers ------------------------------------------------------------

# The most common surnames with rough weights (per cent of the population, 2020 census order).
SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.2), ("赵", 2.0),
    ("吴", 2.0), ("周", 1.9), ("徐", 1.3), ("孙", 1.3), ("马", 1.1), ("朱", 1.1), ("胡", 1.0), ("郭", 1.0),
    ("何", 0.9), ("高", 0.9), ("林", 0.9), ("罗", 0.9), ("郑", 0.8), ("梁", 0.8), ("谢", 0.6), ("宋", 0.6),
    ("唐", 0.6), ("许", 0.5), ("韩", 0.5), ("冯", 0.5), ("邓", 0.5), ("曹", 0.5), ("彭", 0.5), ("曾", 0.4),
    ("肖", 0.4), ("田", 0.4), ("董", 0.4), ("袁", 0.4), ("潘", 0.4), ("于", 0.4), ("蒋", 0.4), ("蔡", 0.4),
    ("余", 0.3), ("杜", 0.3), ("叶", 0.3), ("程", 0.3), ("苏", 0.3), ("魏", 0.3), ("吕", 0.3), ("丁", 0.3),
    ("任", 0.3), ("沈", 0.3), ("姚", 0.3), ("卢", 0.3), ("姜", 0.3), ("崔", 0.3), ("钟", 0.2), ("谭", 0.2),
    ("陆", 0.2), ("汪", 0.2), ("范", 0.2), ("金", 0.2), ("石", 0.2), ("廖", 0.2), ("贾", 0.2), ("夏", 0.2),
    ("付", 0.2), ("方", 0.2), ("白", 0.2), ("邹", 0.2), ("孟", 0.2), ("熊", 0.2), ("秦", 0.2), ("邱", 0.2),
    ("江", 0.2), ("尹", 0.2), ("薛", 0.2), ("闫", 0.2), ("段", 0.2), ("雷", 0.2), ("侯", 0.2), ("史", 0.1),
    ("陶", 0.1), ("贺", 0.1), ("顾", 0.1), ("毛", 0.1), ("郝", 0.1), ("龚", 0.1), ("邵", 0.1), ("万", 0.1),
    ("钱", 0.1), ("严", 0.1), ("武", 0.1), ("戴", 0.1), ("孔", 0.1), ("汤", 0.1), ("常", 0.1), ("温", 0.1),
)
_SURNAME_CHOICES = [s for s, _w in SURNAMES]
_SURNAME_WEIGHTS = [w for _s, w in SURNAMES]

# Given names by generation, as they were actually fashionable.
GIVEN_NAMES = {
    ("old", "m"): "建国 国华 德明 振华 志强 建华 国强 文华 永利 宝山 玉林 福生 长海 树森 庆祥 广才 金生 立新 建军 卫东 "
                  "春生 立国 德胜 永祥 秀山 海 明 刚 军 强 林 山 华",
    ("old", "f"): "秀英 桂兰 淑珍 玉兰 凤英 秀兰 桂英 玉珍 淑华 素芳 秀珍 桂芝 玉梅 凤兰 淑英 丽华 秀云 春兰 桂荣 秀芳 "
                  "淑兰 玉华 美兰 英 兰 珍 芳 华",
    ("mid", "m"): "伟 强 磊 军 勇 杰 涛 斌 明 刚 平 辉 鹏 华 峰 波 健 超 亮 东 志刚 建伟 海涛 晓东 国平 志勇 俊杰 "
                  "建平 永刚 红军 立军 宏伟 文斌 卫国",
    ("mid", "f"): "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 萍 红 梅 琳 颖 洁 丽娟 晓燕 海燕 红梅 雅琴 春梅 秀梅 丽萍 晓红 "
                  "慧敏 艳华 冬梅 丽娜 晓梅 淑敏",
    ("young", "m"): "浩 宇 轩 博 鑫 凯 帆 磊 晨 阳 子轩 浩然 宇航 梓豪 俊熙 子涵 一鸣 天佑 思远 博文 皓轩 明哲 "
                    "嘉懿 泽宇 奕辰 雨泽 文博 志远 昊天 宇轩",
    ("young", "f"): "婷 欣 怡 悦 璐 倩 琪 雪 丹 蕾 欣怡 梓涵 雨萱 诗涵 思琪 可馨 佳怡 语嫣 一诺 梦瑶 若曦 紫涵 "
                    "雨桐 子萱 晓彤 雅婷 诗琪 嘉欣 静怡 心怡",
}
GIVEN_NAMES = {key: tuple(value.split()) for key, value in GIVEN_NAMES.items()}
MOBILE_PREFIXES = (
    ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "195", "198", "199"]
)
CHINESE_ORDINALS = "一二三四五六七八九十"

COMMUNITY_TYPE_WEIGHTS = (
    (CommunityType.OLD_PUBLIC, 38), (CommunityType.COMMERCIAL, 18), (CommunityType.MIXED, 16),
    (CommunityType.RELOCATION, 8), (CommunityType.UPSCALE, 5), (CommunityType.LARGE_ESTATE, 5),
    (CommunityType.OFFICE, 6), (CommunityType.VILLAGE_CONVERTED, 2), (CommunityType.URBAN_VILLAGE, 2),
)

SECTORS = (
    ("education", "教育"), ("health", "卫生健康"), ("finance", "金融"), ("logistics", "物流快递"),
    ("property", "物业管理"), ("market", "市场监管"), ("police", "公安"), ("urban", "城市管理"),
    ("housing", "住房建设"), ("culture", "文化旅游"), ("civil", "民政"), ("soe", "国有企业"),
    ("emergency", "应急管理"), ("water", "水务"),
)

# key → (name, sector code)
DEPARTMENTS = (
    ("城管执法", "东城区城市管理综合执法局", "urban"),
    ("城管委", "东城区城市管理委员会", "urban"),
    ("住建委", "东城区住房和城乡建设委员会", "housing"),
    ("市场监管", "东城区市场监督管理局", "market"),
    ("公安", "北京市公安局东城分局", "police"),
    ("卫健委", "东城区卫生健康委员会", "health"),
    ("教委", "东城区教育委员会", "education"),
    ("民政", "东城区民政局", "civil"),
    ("文旅", "东城区文化和旅游局", "culture"),
    ("水务", "东城区水务局", "water"),
    ("应急", "东城区应急管理局", "emergency"),
    ("园林", "东城区园林绿化局", "urban"),
)
# Sector Party committees (行业党委) that the branches of units in these sectors report to.
SECTOR_COMMITTEES = (
    ("health", "中共北京市东城区卫生健康系统委员会"),
    ("education", "中共北京市东城区教育系统委员会"),
    ("logistics", "中共北京市东城区快递物流行业委员会"),
    ("property", "中共北京市东城区物业管理行业委员会"),
)
HOSPITALS = ("北京协和医院", "首都医科大学附属北京同仁医院", "首都医科大学附属北京中医医院", "北京市第六医院",
             "北京市隆福医院", "北京市和平里医院", "北京市普仁医院", "北京市鼓楼中医医院", "北京市东城区第一人民医院",
             "北京市东城区第二妇幼保健院")
SCHOOLS = ("北京市第二中学", "北京市第五中学", "北京市第十一中学", "北京汇文中学", "北京市第一六六中学",
           "北京市广渠门中学", "北京市第五十五中学", "北京市东直门中学", "北京市和平里第四小学", "北京市史家小学",
           "北京市府学胡同小学", "北京市东城区黑芝麻胡同小学", "北京市东城区培新小学", "北京市东城区东四十四条小学",
           "北京市东城区回民实验幼儿园", "北京市东城区第一幼儿园", "北京市东城区安外三条小学", "北京市崇文小学",
           "北京市东城区前门小学", "北京市东城区天坛东里小学")
BANKS = ("中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "北京银行", "招商银行",
         "中国邮政储蓄银行", "北京农商银行")
SOES = ("中国石化销售股份有限公司北京{s}加油站", "国网北京市电力公司东城供电公司{s}供电所",
        "北京燃气集团东城分公司{s}服务站", "北京市自来水集团东城营业所{s}服务点", "中国移动北京公司东城分公司{s}营业厅",
        "中国联通北京市东城区分公司{s}营业厅", "北京首都开发控股（集团）有限公司{s}项目部")
COURIERS = ("顺丰速运{s}营业部", "京东物流{s}配送站", "中通快递{s}网点", "圆通速递{s}网点", "申通快递{s}网点",
            "韵达快递{s}网点", "中国邮政{s}投递站", "美团外卖{s}站点", "饿了么{s}配送站")
PROPERTY_FIRMS = ("北京首开鸿城物业管理有限责任公司", "北京金隅物业管理有限责任公司", "北京天岳恒房屋经营管理有限公司",
                  "北京东城房屋管理有限公司", "北京万科物业服务有限公司", "保利物业服务股份有限公司北京分公司",
                  "中海物业管理有限公司北京分公司", "北京北大资源物业经营管理集团有限公司")
SOCIAL_ORGS = ("东城区{s}社会工作服务中心", "东城区{s}志愿者协会", "东城区{s}老年协会", "东城区{s}文体协会")


def totp_key_hex(seed: int, username: str) -> str:
    """The fixed TOTP secret of a demo login: 20 bytes derived from the seed and the username."""
    return hmac.new(f"zhouxin-demo-totp:{seed}".encode(), username.encode(), hashlib.sha1).hexdigest()


def totp_secret_base32(key_hex: str) -> str:
    """The secret as an authenticator app takes it (RFC 4648 base32, no padding)."""
    return b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def street_short_name(name: str) -> str:
    """东华门街道 → 东华门 (as police stations and offices are named)."""
    for suffix in ("街道", "地区", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# --- State -------------------------------------------------------------------------


def demo_enabled() -> bool:
    return bool(getattr(settings, "DEMO_ENABLED", False))


def demo_marker() -> AuditEntry | None:
    """The audit entry written by the last load that changed something (seed and counts)."""
    return AuditEntry.objects.filter(action=MARKER_ACTION).order_by("-id").first()


def ensure_demo_available() -> AuditEntry:
    if not demo_enabled():
        raise DemoUnavailable(_("演示模式未开启（设置 ZHOUXIN_DEMO=1，生产环境不可开启）。"))
    marker = demo_marker()
    if marker is None:
        raise DemoUnavailable(_("演示数据尚未加载，请先运行 python manage.py load_demo。"))
    return marker


def demo_device(username: str) -> TOTPDevice:
    """The demo TOTP device of a demo login, or DemoUnavailable."""
    ensure_demo_available()
    if username not in LOGINS_BY_NAME:
        raise DemoUnavailable(_("“%(name)s”不是演示账号。演示账号：%(names)s") % {
            "name": username, "names": "、".join(LOGINS_BY_NAME)})
    device = (TOTPDevice.objects.filter(user__username=username, name=DEMO_DEVICE_NAME, confirmed=True)
              .order_by("id").first())
    if device is None:
        raise DemoUnavailable(_("演示账号“%(name)s”没有演示用的动态口令设备（只有工作人员账号需要动态口令）。")
                              % {"name": username})
    return device


@dataclass
class LoginRow:
    username: str
    full_name: str
    role_label: str
    area_name: str
    password: str
    needs_totp: bool
    secret: str


def demo_login_rows() -> list[LoginRow]:
    """Every demo login as it is in the database, for `demo_logins`."""
    ensure_demo_available()
    rows = []
    with scopes_disabled():
        users = {u.username: u for u in User.objects.filter(username__in=list(LOGINS_BY_NAME))}
        for login in LOGINS:
            user = users.get(login.username)
            if user is None:
                continue
            grant = Grant.objects.filter(user=user, role=login.role).select_related("area").first()
            device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).first()
            rows.append(LoginRow(
                username=login.username, full_name=user.full_name, role_label=str(Role(login.role).label),
                area_name=grant.area.name if grant else "", password=DEMO_PASSWORD,
                needs_totp=login.needs_totp, secret=totp_secret_base32(device.key) if device else "",
            ))
    return rows


# --- Loading -----------------------------------------------------------------------


@dataclass
class DemoReport:
    seed: int
    created: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, kind: str, n: int = 1) -> None:
        if n:
            self.created[kind] = self.created.get(kind, 0) + n

    @property
    def created_total(self) -> int:
        return sum(self.created.values())


def load_demo(*, seed: int = DEFAULT_SEED) -> DemoReport:
    """Build (or complete) the demo district.  Idempotent; refused unless DEMO_ENABLED."""
    if not demo_enabled():
        raise DemoUnavailable(_("演示模式未开启（设置 ZHOUXIN_DEMO=1，生产环境不可开启）。"))
    started = timezone.now()
    with scopes_disabled(), transaction.atomic():
        builder = _DemoBuilder(seed)
        builder.run()
    builder.report.seconds = (timezone.now() - started).total_seconds()
    return builder.report


class _DemoBuilder:
    def __init__(self, seed: int):
        self.seed = seed
        self.report = DemoReport(seed=seed)
        self.orgs: dict[str, Organisation] = {}
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()

    def rng(self, key: str) -> random.Random:
        # A string seed is hashed with SHA-512, so this is stable across processes and machines.
        return random.Random(f"zhouxin-demo:{self.seed}:{key}")

    def run(self) -> None:
        self.load_areas()
        self.load_sectors()
        self.load_party_and_departments()
        self.load_units()
        self.load_logins_people_first()
        self.load_people()
        self.load_logins()
        self.mark_loaded()

    # Areas ---------------------------------------------------------------------

    def load_areas(self) -> None:
        imported = divisions_import(actor=None, directory=BUNDLED_DIR, city=CITY_CODE, district=DISTRICT_CODE)
        self.report.add("areas", imported.created)
        areas = Area.objects.filter(code__startswith=DISTRICT_CODE)
        self.district = areas.get(code=DISTRICT_CODE)
        self.streets = list(areas.filter(level=AreaLevel.STREET).order_by("code"))
        self.communities = list(areas.filter(level=AreaLevel.COMMUNITY).order_by("code"))
        self.communities_of: dict[int, list[Area]] = {}
        for community in self.communities:
            self.communities_of.setdefault(community.parent_id, []).append(community)
        existing_grids = set(areas.filter(level=AreaLevel.GRID).values_list("code", flat=True))
        types, weights = zip(*COMMUNITY_TYPE_WEIGHTS, strict=True)
        for community in self.communities:
            rng = self.rng(f"area:{community.code}")
            households = rng.randint(900, 4200)
            population = int(households * rng.uniform(2.1, 2.8))
            kind = rng.choices(types, weights)[0]
            services.area_update(actor=None, area=community, households=households, population=population,
                                 community_type=kind)
            short = services.community_short_name(community.name)
            grid_count = rng.randint(3, 6)
            shares = [rng.uniform(0.7, 1.3) for _ in range(grid_count)]
            for index in range(grid_count):
                code = f"{community.code}{index + 1:03d}"
                share = shares[index] / sum(shares)
                if code in existing_grids:
                    continue
                services.area_create(
                    actor=None, code=code, name=f"{short}第{CHINESE_ORDINALS[index]}网格", level=AreaLevel.GRID,
                    parent=community, households=round(households * share), population=round(population * share))
                self.report.add("grids")

    # Sectors ---------------------------------------------------------------------

    def load_sectors(self) -> None:
        existing = {s.code: s for s in Sector.objects.all()}
        self.sectors: dict[str, Sector] = {}
        for code, name in SECTORS:
            sector = existing.get(code) or Sector.objects.filter(name=name).first()
            if sector is None:
                sector = services.sector_create(actor=None, code=code, name=name)
                self.report.add("sectors")
            self.sectors[code] = sector

    # Organisations -----------------------------------------------------------------

    def _existing_orgs(self) -> None:
        self.existing_orgs = {
            (o.area_id, o.name): o
            for o in Organisation.objects.filter(area__code__startswith=DISTRICT_CODE)
        }

    def org(self, key: str | None, *, name: str, kind: str, area: Area, party_parent=None, sector=None,
            **extra) -> Organisation:
        found = self.existing_orgs.get((area.pk, name))
        if found is None:
            found = services.organisation_create(actor=None, name=name, kind=kind, area=area,
                                                 party_parent=party_parent, sector=sector, **extra)
            self.existing_orgs[(area.pk, name)] = found
            self.report.add("organisations")
        if key:
            self.orgs[key] = found
        return found

    def load_party_and_departments(self) -> None:
        self._existing_orgs()
        committee = self.org("district_committee", name="中共北京市东城区委员会", kind=OrgKind.PARTY_COMMITTEE,
                             area=self.district, member_count=None)
        for sector_code, name in SECTOR_COMMITTEES:
            self.org(f"sector_committee:{sector_code}", name=name, kind=OrgKind.SECTOR_COMMITTEE,
                     area=self.district, party_parent=committee, sector=self.sectors[sector_code])
        self.community_branches: dict[str, list[Organisation]] = {}
        for street in self.streets:
            rng = self.rng(f"street:{street.code}")
            working = self.org(f"street_committee:{street.code}", name=f"中共北京市东城区{street.name}工作委员会",
                               kind=OrgKind.WORKING_COMMITTEE, area=street, party_parent=committee,
                               member_count=rng.randint(40, 120))
            short_street = street_short_name(street.name)
            self.org(None, name=f"北京市公安局东城分局{short_street}派出所", kind=OrgKind.DEPARTMENT, area=street,
                     sector=self.sectors["police"])
            self.org(None, name=f"东城区市场监督管理局{short_street}市场监管所", kind=OrgKind.DEPARTMENT,
                     area=street, sector=self.sectors["market"])
            for community in self.communities_of.get(street.pk, []):
                crng = self.rng(f"community-party:{community.code}")
                short = services.community_short_name(community.name)
                community_committee = self.org(
                    f"community_committee:{community.code}", name=f"中共{short}委员会", kind=OrgKind.PARTY_COMMITTEE,
                    area=community, party_parent=working, member_count=crng.randint(60, 400))
                branches = []
                for index in range(crng.randint(2, 4)):
                    branches.append(self.org(
                        None, name=f"中共{short}第{CHINESE_ORDINALS[index]}支部委员会", kind=OrgKind.BRANCH,
                        area=community, party_parent=community_committee, member_count=crng.randint(15, 90)))
                self.community_branches[community.code] = branches
        self.departments: list[Organisation] = []
        self.department_branches: dict[int, Organisation] = {}
        for key, name, sector_code in DEPARTMENTS:
            department = self.org(f"department:{key}", name=name, kind=OrgKind.DEPARTMENT, area=self.district,
                                  sector=self.sectors[sector_code])
            self.departments.append(department)
            self.department_branches[department.pk] = self.org(
                None, name=f"中共{name}机关支部委员会", kind=OrgKind.BRANCH, area=self.district,
                party_parent=committee, sector=self.sectors[sector_code])

    def load_units(self) -> None:
        """Resident units (驻区单位) and two-new organisations, a dozen per street."""
        self.units: list[Organisation] = []
        self.unit_branches: dict[int, Organisation] = {}
        hospitals, schools = list(HOSPITALS), list(SCHOOLS)
        self.rng("units").shuffle(hospitals)
        self.rng("schools").shuffle(schools)
        for position, street in enumerate(self.streets):
            rng = self.rng(f"units:{street.code}")
            communities = self.communities_of.get(street.pk, [])
            if not communities:
                continue
            short_street = street_short_name(street.name)
            first = communities[0]

            def place(rng=rng, communities=communities):
                return rng.choice(communities)

            # The street's community health service centre sits in its first community.
            centre = self.unit(f"北京市东城区{short_street}社区卫生服务中心", OrgKind.RESIDENT_UNIT, first, "health",
                               branch=True, rng=rng)
            if street.code == "110101001":
                self.orgs["liaison_unit"] = centre
            if position < len(hospitals):
                self.unit(hospitals[position], OrgKind.RESIDENT_UNIT, place(), "health", branch=True, rng=rng)
            for school in schools[position::len(self.streets)]:
                self.unit(school, OrgKind.RESIDENT_UNIT, place(), "education", branch=True, rng=rng)
            for bank in rng.sample(BANKS, 2):
                self.unit(f"{bank}北京{short_street}支行", OrgKind.RESIDENT_UNIT, place(), "finance", branch=True,
                          rng=rng)
            for soe in rng.sample(SOES, 2):
                self.unit(soe.format(s=short_street), OrgKind.RESIDENT_UNIT, place(), "soe", branch=True, rng=rng)
            for courier in rng.sample(COURIERS, 3):
                self.unit(courier.format(s=short_street), OrgKind.NONPUBLIC_ENTERPRISE, place(), "logistics",
                          branch=rng.random() < 0.5, rng=rng)
            for firm in rng.sample(PROPERTY_FIRMS, 2):
                self.unit(f"{firm}{short_street}项目部", OrgKind.NONPUBLIC_ENTERPRISE, place(), "property",
                          branch=rng.random() < 0.5, rng=rng)
            social = rng.choice(SOCIAL_ORGS).format(s=short_street)
            self.org(None, name=social, kind=OrgKind.SOCIAL_ORG, area=street, sector=self.sectors["civil"])

    def unit(self, name: str, kind: str, area: Area, sector_code: str, *, branch: bool,
             rng: random.Random) -> Organisation:
        members = rng.randint(3, 60)  # drawn every time so the sequence never depends on the database
        unit = self.org(None, name=name, kind=kind, area=area, sector=self.sectors[sector_code])
        self.units.append(unit)
        if branch:
            sector_committee = self.orgs.get(f"sector_committee:{sector_code}")
            parent = sector_committee or self.orgs[f"community_committee:{area.code}"]
            self.unit_branches[unit.pk] = self.org(
                None, name=f"中共{name}支部委员会", kind=OrgKind.BRANCH, area=area, party_parent=parent,
                sector=self.sectors[sector_code], member_count=members)
        return unit

    # People --------------------------------------------------------------------------

    def identity(self, rng: random.Random, *, born_after: int = 1936, born_before: int = 2006,
                 gender: str | None = None) -> tuple[str, str, str, dt.date]:
        """(name, ID number, phone, birth date), unique within the demo."""
        gender = gender or rng.choice("mf")
        while True:
            birth = dt.date(rng.randint(born_after, born_before), 1, 1) + dt.timedelta(days=rng.randint(0, 364))
            sequence = rng.randint(0, 499) * 2 + (1 if gender == "m" else 0)  # odd: male (GB 11643)
            first17 = f"{DISTRICT_CODE}{birth:%Y%m%d}{sequence:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                break
        while True:
            phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                break
        era = "old" if birth.year < 1962 else ("mid" if birth.year < 1987 else "young")
        name = rng.choices(_SURNAME_CHOICES, _SURNAME_WEIGHTS)[0] + rng.choice(GIVEN_NAMES[(era, gender)])
        return name, number, phone, birth

    def person(self, *, name, home_area, phone, id_number, work_unit=None, is_party_member=False,
               party_branch=None, user=None) -> Person | None:
        """Create the person unless their ID number is already registered (the natural key)."""
        index = blind_index("id_number", id_number)
        if index in self.existing_people:
            return None
        person = services.person_create(actor=None, name=name, home_area=home_area, phone=phone,
                                        id_number=id_number, work_unit=work_unit,
                                        is_party_member=is_party_member, party_branch=party_branch, user=user)
        self.existing_people.add(index)
        self.report.add("people")
        return person

    def load_logins_people_first(self) -> None:
        """Reserve the member's and resident's identities before anyone else's (stable numbers)."""
        self.existing_people = set(
            Person.objects.filter(home_area__code__startswith=DISTRICT_CODE)
            .values_list("id_number_index", flat=True))
        self.login_identities = {}
        for login in LOGINS:
            if login.person:
                rng = self.rng(f"login:{login.username}")
                gender = "f"  # 周海燕 and 吴桂兰
                born = (1975, 1988) if login.role == Role.MEMBER else (1948, 1958)
                _name, number, phone, _birth = self.identity(rng, born_after=born[0], born_before=born[1],
                                                             gender=gender)
                self.login_identities[login.username] = (number, phone)
        branches = self.unit_branches
        liaison = self.orgs["liaison_unit"]
        self.orgs["member_branch"] = branches[liaison.pk]

    def load_people(self) -> None:
        work_places = self.units + self.departments
        for community in self.communities:
            rng = self.rng(f"people:{community.code}")
            branches = self.community_branches[community.code]
            for _position in range(rng.randint(14, 22)):
                name, number, phone, birth = self.identity(rng)
                age = 2019 - birth.year
                working = 22 <= age <= 60
                member = rng.random() < (0.22 if age >= 18 else 0.0)
                employer = rng.choice(work_places) if working and rng.random() < 0.55 else None
                branch = None
                if member:
                    if employer is not None:
                        branch = self.unit_branches.get(employer.pk) or self.department_branches.get(employer.pk)
                    branch = branch or rng.choice(branches)
                self.person(name=name, home_area=community, phone=phone, id_number=number, work_unit=employer,
                            is_party_member=member, party_branch=branch)

    # Logins ----------------------------------------------------------------------------

    def load_logins(self) -> None:
        """One login per role.  The first system administrator is bootstrapped here (someone has
        to hold core.user.manage); every other login and grant goes through the core services
        with that administrator as the actor."""
        from zhouxin.core import services as core_services

        areas = {a.code: a for a in Area.objects.filter(code__in=[login.area_code for login in LOGINS])}
        users = {u.username: u for u in User.objects.filter(username__in=list(LOGINS_BY_NAME))}
        admin = self.bootstrap_system_admin(users, areas)
        admin = User.objects.get(pk=admin.pk)  # fresh object: its scope is computed with the grant in place
        for login in LOGINS:
            if login.username == "system_admin":
                continue
            user = users.get(login.username)
            if user is None:
                user = core_services.user_create(actor=admin, username=login.username, full_name=login.full_name,
                                                 password=DEMO_PASSWORD)
                self.report.add("logins")
            area = areas[login.area_code]
            organisation = self.orgs.get(login.organisation) if login.organisation else None
            if not Grant.objects.filter(user=user, role=login.role, area=area).exists():
                core_services.grant_add(actor=admin, user=user, role=login.role, area=area,
                                        organisation=organisation)
                self.report.add("grants")
            if login.person:
                number, phone = self.login_identities[login.username]
                if not Person.objects.filter(user=user).exists():
                    is_member = login.role == Role.MEMBER
                    self.person(name=login.full_name, home_area=area, phone=phone, id_number=number,
                                work_unit=self.orgs["liaison_unit"] if is_member else None,
                                is_party_member=is_member, party_branch=organisation if is_member else None,
                                user=user)
            self.ensure_device(user, login)

    def bootstrap_system_admin(self, users: dict, areas: dict) -> User:
        login = LOGINS_BY_NAME["system_admin"]
        user = users.get(login.username)
        if user is None:
            user = User(username=login.username, full_name=login.full_name)
            validate_password(DEMO_PASSWORD, user)
            user.set_password(DEMO_PASSWORD)
            user.password_changed_at = timezone.now()
            user.save()
            audit.record(actor=None, action="core.user.create", obj=user,
                         after={**audit.snapshot(user, ["username", "full_name", "is_active"]), "demo": True})
            self.report.add("logins")
        area = areas[login.area_code]
        if not Grant.objects.filter(user=user, role=login.role, area=area).exists():
            grant = Grant.objects.create(user=user, role=login.role, area=area)
            audit.record(actor=None, action="core.grant.add", obj=grant,
                         object_repr=f"{user.username} · {login.role} @ {area.code}",
                         after={**audit.snapshot(grant, ["user", "role", "area", "organisation", "active"]),
                                "demo": True})
            self.report.add("grants")
        self.ensure_device(user, login)
        return user

    def ensure_device(self, user: User, login: DemoLogin) -> None:
        if not login.needs_totp:
            return
        key = totp_key_hex(self.seed, login.username)
        device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).first()
        if device is not None and device.key == key and device.confirmed:
            return
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, key=key, confirmed=True)
            self.report.add("totp_devices")
        else:  # another seed was loaded before: the printed secrets must match
            TOTPDevice.objects.filter(pk=device.pk).update(key=key, confirmed=True, last_t=-1, drift=0)
        audit.record(actor=None, action="orgs.demo.totp_device", obj=user, object_repr=user.username,
                     after={"device": device.persistent_id, "demo": True})

    def mark_loaded(self) -> None:
        self.report.totals = {
            "streets": len(self.streets),
            "communities": len(self.communities),
            "grids": Area.objects.filter(code__startswith=DISTRICT_CODE, level=AreaLevel.GRID).count(),
            "organisations": Organisation.objects.filter(area__code__startswith=DISTRICT_CODE).count(),
            "people": Person.objects.filter(home_area__code__startswith=DISTRICT_CODE).count(),
            "logins": User.objects.filter(username__in=list(LOGINS_BY_NAME)).count(),
        }
        marker = demo_marker()
        if self.report.created_total or marker is None or marker.after.get("seed") != self.seed:
            audit.record(actor=None, action=MARKER_ACTION, object_type="orgs.area", object_id=self.district.pk,
                         object_repr=self.district.name,
                         after={"seed": self.seed, "created": self.report.created, "totals": self.report.totals})
