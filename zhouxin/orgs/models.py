from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.crypto import EncryptedTextField, mask_id_number, mask_phone
from zhouxin.core.scoping import ScopedManager

from .choices import AreaLevel, CommunityType, OrgKind


class Area(models.Model):
    """A node of the area tree: city → district → street → community → grid.

    Codes are the national statistical division codes (统计用区划代码) and are
    hierarchical: every descendant's code starts with its ancestor's code, so
    a subtree is a code prefix.
    """

    code = models.CharField(_("区划代码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=AreaLevel.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级"))
    pinyin = models.CharField(_("拼音"), max_length=200, blank=True)
    pinyin_initials = models.CharField(_("拼音首字母"), max_length=64, blank=True, db_index=True)
    households = models.PositiveIntegerField(_("户数"), null=True, blank=True)
    population = models.PositiveIntegerField(_("人口"), null=True, blank=True)
    community_type = models.CharField(_("社区类型"), max_length=24, choices=CommunityType.choices, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = ScopedManager(scope_field="code")

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{2,15}$"), name="area_code_digits",
                violation_error_message=_("区划代码只能由 2 到 15 位数字组成。"),
            ),
        ]

    def __str__(self):
        return self.name

    def is_ancestor_of(self, other: "Area") -> bool:
        return other.code.startswith(self.code)


class Sector(models.Model):
    """A line (条) such as education, health, finance or property management."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("行业"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("行业系统")
        verbose_name_plural = _("行业系统")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Organisation(models.Model):
    """A Party organisation, department, resident unit, social organisation or enterprise."""

    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=32, choices=OrgKind.choices)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="organisations", verbose_name=_("所在区域"))
    party_parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="party_children", verbose_name=_("上级党组织"))
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="organisations", verbose_name=_("行业系统"))
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_phone = models.CharField(_("办公电话"), max_length=32, blank=True)
    member_count = models.PositiveIntegerField(_("党员人数"), null=True, blank=True)
    pinyin_initials = models.CharField(_("拼音首字母"), max_length=64, blank=True, db_index=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["area__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="org_unique_name_in_area",
                                    violation_error_message=_("同一区域内已有同名组织。")),
        ]

    def __str__(self):
        return self.name


class Person(models.Model):
    """A person known to the platform.  Phone and ID number are encrypted at rest,
    found by an HMAC index and shown masked unless revealed (PIPL: minimum fields)."""

    name = models.CharField(_("姓名"), max_length=64)
    phone = EncryptedTextField(_("手机号"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, editable=False)
    home_area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="residents", verbose_name=_("居住社区"))
    work_unit = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="employees", verbose_name=_("工作单位"))
    is_party_member = models.BooleanField(_("中共党员"), default=False)
    party_branch = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="party_members", verbose_name=_("所在党组织"))
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="person", verbose_name=_("账号"))
    pinyin_initials = models.CharField(_("拼音首字母"), max_length=32, blank=True, db_index=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="home_area__code")

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["home_area__code", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"], condition=~Q(id_number_index=""), name="person_unique_id_number",
                violation_error_message=_("该身份证号已登记。"),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)
