"""Community funds (经费保障, DESIGN §3 funds): funds per community and year, their sources, a
ring-fenced hash-chained ledger, spending plans through 四议两公开, vouchers, and the public
disclosures (三务公开) residents can verify.

Money is Decimal with two places everywhere.  A fund's balance is kept on the fund row (locked
with SELECT … FOR UPDATE by every ledger write) and by every ledger entry; both carry a database
CHECK that it is never negative, so the ring fence holds even against a bug in the services.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhouxin.core.scoping import ScopedManager

from .choices import (
    DeliberationStep,
    DisclosureKind,
    DisclosureTopic,
    EntryKind,
    FundKind,
    FundSourceKind,
    PlanStatus,
    VoucherKind,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


class Fund(models.Model):
    """One community's fund of one kind for one year (ring-fenced: it can never go below zero)."""

    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="funds",
                                  verbose_name=_("社区"))
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("经费类型"), max_length=16, choices=FundKind.choices)
    budget = models.DecimalField(_("年度预算"), **MONEY)
    balance = models.DecimalField(_("余额"), default=0, **MONEY)
    # The chain head: the number and hash of the newest ledger entry (a witness for verify_ledger).
    entry_count = models.PositiveIntegerField(_("台账条数"), default=0)
    head_hash = models.CharField(_("台账末条哈希"), max_length=64, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("设立人"))
    created_at = models.DateTimeField(_("设立时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="community__code")

    class Meta:
        verbose_name = _("社区经费")
        verbose_name_plural = _("社区经费")
        ordering = ["-year", "community__code", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["community", "year", "kind"], name="funds_one_fund_per_kind_year",
                                    violation_error_message=_("该社区本年度已设立这类经费。")),
            models.CheckConstraint(condition=Q(balance__gte=0), name="funds_fund_balance_not_negative",
                                   violation_error_message=_("经费余额不能为负数。")),
            models.CheckConstraint(condition=Q(budget__gte=0), name="funds_fund_budget_not_negative",
                                   violation_error_message=_("年度预算不能为负数。")),
        ]

    def __str__(self):
        return f"{self.community} {self.year} {self.get_kind_display()}"


class FundSource(models.Model):
    """Where a fund's money comes from (*default* city and district 1:1)."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="sources", verbose_name=_("经费"))
    source = models.CharField(_("来源"), max_length=16, choices=FundSourceKind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)

    class Meta:
        verbose_name = _("经费来源")
        verbose_name_plural = _("经费来源")
        ordering = ["fund", "source"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "source"], name="funds_one_row_per_source"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funds_source_amount_positive",
                                   violation_error_message=_("来源金额必须大于零。")),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.amount}"


class SpendingPlan(models.Model):
    """A spending plan (支出计划): propose → 四议两公开 above the threshold → street review and filing →
    disbursement → vouchers → acceptance → public notice → filed."""

    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="spending_plans",
                                  verbose_name=_("社区"))
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="plans", verbose_name=_("经费"))
    number = models.CharField(_("计划编号"), max_length=32, unique=True)
    title = models.CharField(_("项目名称"), max_length=80)
    purpose = models.TextField(_("用途说明"), max_length=1000)
    category = models.CharField(_("支出类别"), max_length=32)
    category_label = models.CharField(_("支出类别名称"), max_length=64)
    amount = models.DecimalField(_("计划金额"), **MONEY)
    beneficiaries = models.CharField(_("受益对象"), max_length=200, blank=True)
    implementer = models.CharField(_("实施单位"), max_length=100, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    # Whether 四议两公开 is required: the amount against the threshold in force when proposed.
    needs_deliberation = models.BooleanField(_("须经四议两公开"), default=False)
    threshold = models.DecimalField(_("适用限额"), **MONEY)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("提出人"))
    proposed_at = models.DateTimeField(_("提出时间"))
    submitted_at = models.DateTimeField(_("报街道时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    filing_number = models.CharField(_("备案号"), max_length=32, blank=True)
    disbursed = models.DecimalField(_("已拨付"), default=0, **MONEY)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("验收登记人"))
    accepted_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    acceptance_note = models.CharField(_("验收意见"), max_length=500, blank=True)
    acceptance_participants = models.CharField(_("参加验收"), max_length=300, blank=True)
    notice_from = models.DateField(_("公示开始"), null=True, blank=True)
    notice_until = models.DateField(_("公示截止"), null=True, blank=True)
    filed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    closed_reason = models.CharField(_("未通过或撤回原因"), max_length=300, blank=True)

    objects = ScopedManager(scope_field="community__code")

    class Meta:
        verbose_name = _("支出计划")
        verbose_name_plural = _("支出计划")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="funds_plan_amount_positive",
                                   violation_error_message=_("计划金额必须大于零。")),
            models.CheckConstraint(condition=Q(disbursed__gte=0) & Q(disbursed__lte=models.F("amount")),
                                   name="funds_plan_disbursed_within_amount",
                                   violation_error_message=_("拨付金额不能超过计划金额。")),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"


class Deliberation(models.Model):
    """One of the four deliberations (四议) of a plan, with attendance and votes (counts, no names)."""

    plan = models.ForeignKey(SpendingPlan, on_delete=models.PROTECT, related_name="deliberations",
                             verbose_name=_("支出计划"))
    step = models.CharField(_("环节"), max_length=24, choices=DeliberationStep.choices)
    held_on = models.DateField(_("会议日期"))
    due = models.PositiveIntegerField(_("应到人数"))
    present = models.PositiveIntegerField(_("实到人数"))
    votes_for = models.PositiveIntegerField(_("赞成"))
    votes_against = models.PositiveIntegerField(_("反对"), default=0)
    abstained = models.PositiveIntegerField(_("弃权"), default=0)
    passed = models.BooleanField(_("通过"))
    minutes = models.TextField(_("会议纪要"), max_length=2000, blank=True)
    attachment = models.FileField(_("签到表或纪要"), upload_to="funds/minutes/%Y/", blank=True)
    attachment_sha256 = models.CharField(_("附件摘要"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="plan__community__code")

    class Meta:
        verbose_name = _("四议记录")
        verbose_name_plural = _("四议记录")
        ordering = ["plan", "held_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "step"], condition=Q(passed=True),
                                    name="funds_one_passed_deliberation_per_step",
                                    violation_error_message=_("这一环节已经通过。")),
            models.CheckConstraint(condition=Q(present__lte=models.F("due")), name="funds_present_within_due",
                                   violation_error_message=_("实到人数不能多于应到人数。")),
            models.CheckConstraint(
                condition=Q(present__gte=models.F("votes_for") + models.F("votes_against") + models.F("abstained")),
                name="funds_votes_within_present",
                violation_error_message=_("表决票数之和不能多于实到人数。")),
        ]

    def __str__(self):
        return f"{self.plan.number} {self.get_step_display()}"


class LedgerEntry(models.Model):
    """One line of a fund's ledger (台账): append-only (database triggers refuse UPDATE and DELETE)
    and hash-chained per fund: hash = sha256(previous hash | canonical content)."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries", verbose_name=_("经费"))
    seq = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("类型"), max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)  # signed: money in is positive, money out negative
    balance = models.DecimalField(_("余额"), **MONEY)
    plan = models.ForeignKey(SpendingPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="entries",
                             verbose_name=_("支出计划"))
    source = models.CharField(_("来源"), max_length=16, choices=FundSourceKind.choices, blank=True)
    payee = models.CharField(_("收款单位"), max_length=100, blank=True)
    memo = models.CharField(pgettext_lazy("ledger", "摘要"), max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("记账人"))
    recorded_at = models.DateTimeField(_("记账时间"))
    prev_hash = models.CharField(_("前一条哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    objects = ScopedManager(scope_field="fund__community__code")

    class Meta:
        verbose_name = _("经费台账")
        verbose_name_plural = _("经费台账")
        ordering = ["fund", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "seq"], name="funds_ledger_one_entry_per_seq"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="funds_ledger_balance_not_negative",
                                   violation_error_message=_("经费余额不能为负数。")),
            models.CheckConstraint(condition=~Q(amount=0), name="funds_ledger_amount_not_zero"),
        ]

    def __str__(self):
        return f"{self.fund_id}#{self.seq} {self.amount}"


class Voucher(models.Model):
    """A voucher (凭证) of a plan's spending: invoice, receipt, contract or photo, checked by content."""

    plan = models.ForeignKey(SpendingPlan, on_delete=models.PROTECT, related_name="vouchers",
                             verbose_name=_("支出计划"))
    kind = models.CharField(_("凭证类型"), max_length=16, choices=VoucherKind.choices)
    number = models.CharField(_("凭证号"), max_length=64, blank=True)
    amount = models.DecimalField(_("金额"), null=True, blank=True, **MONEY)
    issued_on = models.DateField(_("开具日期"), null=True, blank=True)
    issuer = models.CharField(_("开具单位"), max_length=100, blank=True)
    file = models.FileField(_("文件"), upload_to="funds/vouchers/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(_("摘要"), max_length=64)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="plan__community__code")

    class Meta:
        verbose_name = _("支出凭证")
        verbose_name_plural = _("支出凭证")
        ordering = ["plan", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0),
                                   name="funds_voucher_amount_positive",
                                   violation_error_message=_("凭证金额必须大于零。")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class Disclosure(models.Model):
    """A published disclosure item (三务公开): its public content as canonical JSON, that content's
    SHA-256 (anyone can recompute it from the downloadable JSON), and a per-community chain
    (link = sha256(previous link | content hash)) so an item cannot be dropped or changed quietly.
    Never edited: a correction is a new item that supersedes the old one."""

    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="disclosures",
                                  verbose_name=_("社区"))
    kind = models.CharField(_("公开类型"), max_length=16, choices=DisclosureKind.choices)
    topic = models.CharField(_("公开内容"), max_length=16, choices=DisclosureTopic.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    plan = models.ForeignKey(SpendingPlan, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="disclosures", verbose_name=_("支出计划"))
    title = models.CharField(_("标题"), max_length=120)
    content = models.JSONField(_("公开内容"))
    content_hash = models.CharField(_("内容哈希"), max_length=64)
    seq = models.PositiveIntegerField(_("序号"))
    prev_link = models.CharField(_("前一条链接哈希"), max_length=64)
    link_hash = models.CharField(_("链接哈希"), max_length=64, unique=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("发布人"))
    published_at = models.DateTimeField(_("发布时间"))
    notice_until = models.DateField(_("公示截止"), null=True, blank=True)
    supersedes = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="superseded_by", verbose_name=_("更正的公开"))

    objects = ScopedManager(scope_field="community__code")

    class Meta:
        verbose_name = _("三务公开")
        verbose_name_plural = _("三务公开")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "seq"], name="funds_disclosure_one_per_seq"),
            models.CheckConstraint(condition=Q(quarter__isnull=True) | Q(quarter__gte=1, quarter__lte=4),
                                   name="funds_disclosure_quarter_1_4"),
        ]
        indexes = [models.Index(fields=["community", "-published_at"], name="funds_disclosure_recent")]

    def __str__(self):
        return self.title
