from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FundKind(models.TextChoices):
    WORKING = "working", _("社区工作经费")
    SERVICE = "service", _("服务群众专项经费")


class FundSourceKind(models.TextChoices):
    CITY = "city", _("市级财政")
    DISTRICT = "district", _("区级财政")
    STREET = "street", _("街道财政")
    OTHER = "other", _("其他来源")


class EntryKind(models.TextChoices):
    ALLOCATION = "allocation", _("拨入")
    DISBURSEMENT = "disbursement", _("支出")
    REFUND = "refund", pgettext_lazy("ledger", "退回")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草拟")
    DELIBERATING = "deliberating", _("四议两公开中")
    STREET_REVIEW = "street_review", _("待街道审核")
    APPROVED = "approved", _("已审核备案")
    DISBURSED = "disbursed", _("已拨付")
    ACCEPTED = "accepted", _("已验收")
    NOTICE = "notice", _("结果公示中")
    FILED = "filed", _("已归档")
    REJECTED = "rejected", pgettext_lazy("plan", "未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_PLAN_STATUSES = (PlanStatus.DRAFT, PlanStatus.DELIBERATING, PlanStatus.STREET_REVIEW, PlanStatus.APPROVED,
                      PlanStatus.DISBURSED, PlanStatus.ACCEPTED, PlanStatus.NOTICE)


class DeliberationStep(models.TextChoices):
    """四议: the four deliberations, in their order."""

    PARTY_PROPOSAL = "party_proposal", _("社区党组织提议")
    JOINT_DISCUSSION = "joint_discussion", _("两委会议商议")
    MEMBERS_REVIEW = "members_review", _("党员大会审议")
    RESIDENTS_DECISION = "residents_decision", _("居民（代表）会议决议")


DELIBERATION_ORDER = [DeliberationStep.PARTY_PROPOSAL, DeliberationStep.JOINT_DISCUSSION,
                      DeliberationStep.MEMBERS_REVIEW, DeliberationStep.RESIDENTS_DECISION]


class VoucherKind(models.TextChoices):
    INVOICE = "invoice", _("发票")
    RECEIPT = "receipt", _("收据")
    CONTRACT = "contract", _("合同")
    PHOTO = "photo", _("现场照片")
    OTHER = "other", _("其他凭证")


class DisclosureKind(models.TextChoices):
    """三务公开 timing: 年度, 季度 and 即时 items."""

    YEARLY = "yearly", _("年度公开")
    QUARTERLY = "quarterly", _("季度公开")
    IMMEDIATE = "immediate", _("即时公开")


class DisclosureTopic(models.TextChoices):
    FUNDS = "funds", _("经费预算")
    PLAN = "plan", _("支出计划")
    SPENDING = "spending", _("经费收支")
    DECISION = "decision", _("决议公开")
    RESULT = "result", _("实施结果公开")
