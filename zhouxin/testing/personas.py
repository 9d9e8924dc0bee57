"""The one personas fixture every test module uses (healthchecks' alice/bob/charlie, for Zhouxin).

A small district, 东城区, with two streets; one more district, 西城区, for the outsider.

    district_admin      区委组织部, grant on 东城区
    street_hub          东华门街道 hub
    community_staff     多福巷社区 (东华门街道)
    community_staff_b   景山街道's 吉祥社区: same district, another street
    grid_worker         a grid of 多福巷社区
    department_handler  东城区城管执法局, granted on 东城区 and tied to the department
    unit_liaison        a resident unit in 多福巷社区
    member              an in-service Party member living in 多福巷社区
    resident            a resident of 多福巷社区
    outsider            community staff of a 西城区 community: signed in, but none of our business
    system_admin, security_admin, audit_admin   三员, granted on the city
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel, CommunityType, OrgKind
from zhouxin.orgs.models import Area, Organisation, Person, Sector

PASSWORD = "Zhouxin-Test-2026!"
# A fixed base32 TOTP secret per persona so tests can compute codes.
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"  # RFC 6238 test key


@dataclass
class Personas:
    areas: dict[str, Area] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    devices: dict[str, TOTPDevice] = field(default_factory=dict)

    def __getattr__(self, name):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    def totp(self, name: str) -> str:
        """The current TOTP code of a persona's device."""
        device = self.devices[name]
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        return f"{totp.token():0{device.digits}d}"


def _area(code, name, level, parent=None, **extra) -> Area:
    from pypinyin import Style, lazy_pinyin

    return Area.objects.unscoped().create(
        code=code, name=name, level=level, parent=parent,
        pinyin="".join(lazy_pinyin(name)), pinyin_initials="".join(lazy_pinyin(name, style=Style.FIRST_LETTER)),
        **extra,
    )


def build_personas() -> Personas:
    p = Personas()
    with scopes_disabled():
        a = p.areas
        a["city"] = _area("1101", "北京市", AreaLevel.CITY)
        a["dongcheng"] = _area("110101", "东城区", AreaLevel.DISTRICT, a["city"])
        a["xicheng"] = _area("110102", "西城区", AreaLevel.DISTRICT, a["city"])
        a["street_a"] = _area("110101001", "东华门街道", AreaLevel.STREET, a["dongcheng"])
        a["street_b"] = _area("110101002", "景山街道", AreaLevel.STREET, a["dongcheng"])
        a["street_x"] = _area("110102001", "西长安街街道", AreaLevel.STREET, a["xicheng"])
        a["community_a"] = _area("110101001001", "多福巷社区", AreaLevel.COMMUNITY, a["street_a"],
                                 households=2450, population=6120, community_type=CommunityType.OLD_PUBLIC)
        a["community_a2"] = _area("110101001002", "银闸社区", AreaLevel.COMMUNITY, a["street_a"],
                                  households=1800, population=4300, community_type=CommunityType.COMMERCIAL)
        a["community_b"] = _area("110101002001", "吉祥社区", AreaLevel.COMMUNITY, a["street_b"],
                                 households=3100, population=7900, community_type=CommunityType.MIXED)
        a["community_x"] = _area("110102001001", "西交民巷社区", AreaLevel.COMMUNITY, a["street_x"],
                                 households=2000, population=5000, community_type=CommunityType.OLD_PUBLIC)
        a["grid_a"] = _area("110101001001001", "多福巷社区第一网格", AreaLevel.GRID, a["community_a"])

        health = Sector.objects.create(code="health", name="卫生健康")
        o = p.orgs
        o["district_committee"] = Organisation.objects.unscoped().create(
            name="中共北京市东城区委员会", kind=OrgKind.PARTY_COMMITTEE, area=a["dongcheng"])
        o["street_a_committee"] = Organisation.objects.unscoped().create(
            name="中共东华门街道工作委员会", kind=OrgKind.WORKING_COMMITTEE, area=a["street_a"],
            party_parent=o["district_committee"])
        o["street_b_committee"] = Organisation.objects.unscoped().create(
            name="中共景山街道工作委员会", kind=OrgKind.WORKING_COMMITTEE, area=a["street_b"],
            party_parent=o["district_committee"])
        o["community_a_committee"] = Organisation.objects.unscoped().create(
            name="中共多福巷社区委员会", kind=OrgKind.PARTY_COMMITTEE, area=a["community_a"],
            party_parent=o["street_a_committee"])
        o["community_b_committee"] = Organisation.objects.unscoped().create(
            name="中共吉祥社区委员会", kind=OrgKind.PARTY_COMMITTEE, area=a["community_b"],
            party_parent=o["street_b_committee"])
        o["community_x_committee"] = Organisation.objects.unscoped().create(
            name="中共西交民巷社区委员会", kind=OrgKind.PARTY_COMMITTEE, area=a["community_x"])
        o["department"] = Organisation.objects.unscoped().create(
            name="东城区城市管理综合行政执法监察局", kind=OrgKind.DEPARTMENT, area=a["dongcheng"])
        o["unit"] = Organisation.objects.unscoped().create(
            name="北京市东城区第一人民医院", kind=OrgKind.RESIDENT_UNIT, area=a["community_a"], sector=health)
        o["unit_branch"] = Organisation.objects.unscoped().create(
            name="东城区第一人民医院党支部", kind=OrgKind.BRANCH, area=a["community_a"],
            party_parent=o["community_a_committee"], sector=health)

        roles = [
            ("district_admin", "王建国", Role.DISTRICT_ADMIN, a["dongcheng"], None),
            ("street_hub", "李淑珍", Role.STREET_HUB, a["street_a"], o["street_a_committee"]),
            ("community_staff", "张丽华", Role.COMMUNITY_STAFF, a["community_a"], o["community_a_committee"]),
            ("community_staff_b", "刘志强", Role.COMMUNITY_STAFF, a["community_b"], o["community_b_committee"]),
            ("grid_worker", "陈晓东", Role.GRID_WORKER, a["grid_a"], None),
            ("department_handler", "赵德明", Role.DEPARTMENT_HANDLER, a["dongcheng"], o["department"]),
            ("unit_liaison", "孙雅琴", Role.UNIT_LIAISON, a["community_a"], o["unit"]),
            ("member", "周海燕", Role.MEMBER, a["community_a"], o["unit_branch"]),
            ("resident", "吴桂兰", Role.RESIDENT, a["community_a"], None),
            ("outsider", "郑国平", Role.COMMUNITY_STAFF, a["community_x"], o["community_x_committee"]),
            ("system_admin", "钱立新", Role.SYSTEM_ADMIN, a["city"], None),
            ("security_admin", "冯春梅", Role.SECURITY_ADMIN, a["city"], None),
            ("audit_admin", "何振华", Role.AUDIT_ADMIN, a["city"], None),
        ]
        for username, full_name, role, area, org in roles:
            user = User.objects.create_user(username=username, password=PASSWORD, full_name=full_name)
            Grant.objects.create(user=user, role=role, area=area, organisation=org)
            p.users[username] = user
            if user.needs_two_factor:
                p.devices[username] = TOTPDevice.objects.create(user=user, name="默认", key=TOTP_KEY_HEX,
                                                                confirmed=True)

        from zhouxin.core.crypto import blind_index

        def person(key, name, area, phone, id_number, **extra):
            p.people[key] = Person.objects.unscoped().create(
                name=name, home_area=area, phone=phone, phone_index=blind_index("phone", phone),
                id_number=id_number, id_number_index=blind_index("id_number", id_number), **extra)

        person("resident_a", "吴桂兰", a["community_a"], "13812341234", "11010119800101007X",
               user=p.users["resident"])
        person("member_a", "周海燕", a["community_a"], "13900001111", "110101198507070029",
               is_party_member=True, party_branch=o["unit_branch"], work_unit=o["unit"], user=p.users["member"])
        person("resident_b", "马玉芬", a["community_b"], "13700002222", "110101197003030010")
        person("resident_x", "高志远", a["community_x"], "13600003333", "110102199001010011")
    return p
