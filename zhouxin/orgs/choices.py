from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")


# Length of the 统计用区划代码 at each level; a grid is its community's code + 3 digits.
CODE_LENGTH = {
    AreaLevel.PROVINCE: 2,
    AreaLevel.CITY: 4,
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
}
LEVEL_ORDER = list(CODE_LENGTH)


class CommunityType(models.TextChoices):
    COMMERCIAL = "commercial", _("普通商品房")
    UPSCALE = "upscale", _("高档商品房")
    OLD_PUBLIC = "old_public", _("老旧公房/售后公房")
    RELOCATION = "relocation", _("动迁房")
    LARGE_ESTATE = "large_estate", _("大型居住区")
    RESETTLEMENT = "resettlement", _("农民集中安置")
    URBAN_VILLAGE = "urban_village", _("城中村")
    VILLAGE_CONVERTED = "village_converted", _("村改居")
    OFFICE = "office", _("商务楼宇")
    MIXED = "mixed", _("混合")


class OrgKind(models.TextChoices):
    PARTY_COMMITTEE = "party_committee", _("党委")
    WORKING_COMMITTEE = "working_committee", _("党工委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    PARTY_GROUP = "party_group", _("党小组")
    DEPARTMENT = "department", _("职能部门")
    RESIDENT_UNIT = "resident_unit", _("驻区单位")
    SOCIAL_ORG = "social_org", _("社会组织")
    NONPUBLIC_ENTERPRISE = "nonpublic_enterprise", _("非公企业")
    SECTOR_COMMITTEE = "sector_committee", _("行业党委")


PARTY_KINDS = frozenset(
    {
        OrgKind.PARTY_COMMITTEE,
        OrgKind.WORKING_COMMITTEE,
        OrgKind.GENERAL_BRANCH,
        OrgKind.BRANCH,
        OrgKind.PARTY_GROUP,
        OrgKind.SECTOR_COMMITTEE,
    }
)
