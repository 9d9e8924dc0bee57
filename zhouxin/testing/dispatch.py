"""A small dispatch world on top of the personas, for every dispatch test module.

Categories (three levels, a few leaves of each SLA class), routing rules for the
personas' areas, and a couple of departments.  Real catalogues are seeded by
`manage.py seed_catalogue`; tests use this small one so they stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.choices import SlaClass
from zhouxin.dispatch.models import Category, RoutingRule
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation


@dataclass
class DispatchWorld:
    categories: dict[str, Category] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    rules: list[RoutingRule] = field(default_factory=list)


def build_dispatch_world(personas) -> DispatchWorld:
    w = DispatchWorld()
    a, o = personas.areas, personas.orgs
    with scopes_disabled():
        def cat(code, name, parent=None, sla_class="", org_kind="", keywords=""):
            level = len(code) // 2
            w.categories[code] = Category.objects.create(
                code=code, name=name, parent=w.categories.get(parent) if parent else None, level=level,
                sla_class=sla_class, default_org_kind=org_kind, keywords=keywords)
            return w.categories[code]

        cat("04", "物业管理")
        cat("0401", "物业服务", "04")
        cat("040101", "电梯故障", "0401", SlaClass.EMERGENCY, OrgKind.PARTY_COMMITTEE, "电梯 困人 停运 故障")
        cat("040102", "楼道卫生", "0401", SlaClass.GENERAL, OrgKind.PARTY_COMMITTEE, "楼道 垃圾 堆放 卫生 清扫")
        cat("12", "水电气热")
        cat("1201", "供水", "12")
        cat("120101", "停水", "1201", SlaClass.UTILITIES, OrgKind.DEPARTMENT, "停水 没水 水压 自来水")
        cat("08", "社会秩序")
        cat("0801", "噪声扰民", "08")
        cat("080101", "施工噪声", "0801", SlaClass.GENERAL, OrgKind.DEPARTMENT, "施工 噪音 噪声 夜间 扰民")
        cat("06", "城乡建设")
        cat("0601", "违法建设", "06")
        cat("060101", "私搭乱建", "0601", SlaClass.COMPLEX, OrgKind.DEPARTMENT, "违建 私搭乱建 加盖 违法建设")

        w.orgs["department"] = o["department"]  # 城管执法
        w.orgs["water"] = Organisation.objects.unscoped().create(
            name="东城区水务局", kind=OrgKind.DEPARTMENT, area=a["dongcheng"])
        w.orgs["community_a"] = o["community_a_committee"]
        w.orgs["community_b"] = o["community_b_committee"]

        def rule(code, area, org):
            w.rules.append(RoutingRule.objects.unscoped().create(
                category=w.categories[code], area=a[area], organisation=org))

        rule("04", "dongcheng", o["community_a_committee"])  # broad rule, overridden below
        rule("04", "community_b", o["community_b_committee"])
        rule("040101", "community_a", o["community_a_committee"])
        rule("12", "dongcheng", w.orgs["water"])
        rule("08", "dongcheng", o["department"])
        rule("06", "dongcheng", o["department"])
    return w
