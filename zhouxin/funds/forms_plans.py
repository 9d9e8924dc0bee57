"""Forms of the spending-plan pages (plans.py holds the rules; these only read the input)."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user

from . import plans
from .choices import DELIBERATION_ORDER, PlanStatus, VoucherKind
from .models import Fund

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT_ERRORS = {"max_length": _("不能超过 %(limit_value)d 个字。")}
DATE_ERRORS = {"invalid": _("请填写正确的日期。")}
COUNT_ERRORS = {"invalid": _("请填写整数。"), "min_value": _("人数不能为负数。")}
MONEY_ERRORS = {"invalid": _("请填写金额，如 12000.00。"), "min_value": _("金额应大于零。"),
                "max_digits": _("金额过大，请核对。"), "max_decimal_places": _("金额最多保留两位小数。")}
UPLOAD_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"
FORBIDDEN_GROUP = _("不得列支（仅供参考）")
ALLOWED_GROUP = _("允许的支出类别")


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields as {{ field }}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


def plannable_funds(user):
    """Funds of the communities where `user` may propose plans ("funds.plan")."""
    prefixes = scope_for_user(user).prefixes(roles_for("funds.plan"))
    if not prefixes:
        return Fund.objects.unscoped().none()
    query = reduce(or_, (Q(community__code__startswith=p) for p in prefixes))
    return Fund.objects.unscoped().filter(query).select_related("community").order_by("-year", "community__code",
                                                                                      "kind")


class FundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, fund):
        return _("%(fund)s（余额 %(balance)s）") % {"fund": fund, "balance": plans.yuan(fund.balance)}


class PlanForm(StyledForm):
    fund = FundChoiceField(label=_("经费"), queryset=Fund.objects.unscoped().none(), empty_label=None,
                           error_messages={"required": _("请选择经费。"),
                                           "invalid_choice": _("请选择本社区的经费。")})
    title = forms.CharField(label=_("项目名称"), max_length=plans.TITLE_MAX,
                            error_messages={**TEXT_ERRORS, "required": _("请填写项目名称。")})
    category = forms.ChoiceField(label=_("支出类别"),
                                 help_text=_("只能在“经费支出范围”允许的类别中列支。"),
                                 error_messages={"required": _("请选择支出类别。"),
                                                 "invalid_choice": _("请选择支出类别。")})
    amount = forms.DecimalField(label=_("计划金额（元）"), min_value=0.01, max_digits=14, decimal_places=2,
                                error_messages={**MONEY_ERRORS, "required": _("请填写计划金额。")})
    purpose = forms.CharField(label=_("用途说明"), max_length=plans.PURPOSE_MAX, widget=forms.Textarea(attrs={"rows": 4}),
                              error_messages={**TEXT_ERRORS, "required": _("请填写用途说明。")})
    beneficiaries = forms.CharField(label=_("受益对象"), max_length=plans.BENEFICIARIES_MAX, required=False,
                                    help_text=_("填写群体，如“辖区高龄老人”，不要填写居民姓名。"), error_messages=TEXT_ERRORS)
    implementer = forms.CharField(label=_("实施单位"), max_length=plans.IMPLEMENTER_MAX, required=False,
                                  error_messages=TEXT_ERRORS)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        funds = plannable_funds(user)
        self.fields["fund"].queryset = funds
        allowed: list[str] = []
        forbidden: list[str] = []
        seen: set[int] = set()
        for fund in funds:
            if fund.community_id in seen:
                continue
            seen.add(fund.community_id)
            rules = plans.categories_for(fund.community)
            allowed += [n for n in rules.allowed if n not in allowed]
            forbidden += [n for n in rules.forbidden if n not in forbidden]
        self.fields["category"].choices = [
            ("", _("请选择")), (ALLOWED_GROUP, [(n, n) for n in allowed]),
            (FORBIDDEN_GROUP, [(n, n) for n in forbidden])]


class DeliberationForm(StyledForm):
    step = forms.ChoiceField(label=_("环节"), choices=[(s.value, s.label) for s in DELIBERATION_ORDER],
                             error_messages={"required": _("请选择四议的环节。"),
                                             "invalid_choice": _("请选择四议的环节。")})
    held_on = forms.DateField(label=_("会议日期"), widget=DATE,
                              error_messages={**DATE_ERRORS, "required": _("请填写会议日期。")})
    due = forms.IntegerField(label=_("应到人数"), min_value=1,
                             error_messages={**COUNT_ERRORS, "min_value": _("应到人数至少为 1。"),
                                             "required": _("请填写应到人数。")})
    present = forms.IntegerField(label=_("实到人数"), min_value=0,
                                 error_messages={**COUNT_ERRORS, "required": _("请填写实到人数。")})
    votes_for = forms.IntegerField(label=_("赞成"), min_value=0,
                                   error_messages={**COUNT_ERRORS, "required": _("请填写赞成票数。")})
    votes_against = forms.IntegerField(label=_("反对"), min_value=0, required=False, error_messages=COUNT_ERRORS)
    abstained = forms.IntegerField(label=_("弃权"), min_value=0, required=False, error_messages=COUNT_ERRORS)
    minutes = forms.CharField(label=_("会议纪要"), max_length=plans.MINUTES_MAX, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}), error_messages=TEXT_ERRORS,
                              help_text=_("记录议题和表决结果；只记人数，不写参会居民姓名。"))
    attachment = forms.FileField(label=_("签到表或纪要（照片或 PDF）"), required=False,
                                 widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT}),
                                 error_messages={"empty": _("所选文件是空文件。")})

    def clean(self):
        data = super().clean()
        for field in ("votes_against", "abstained"):
            if data.get(field) is None and field not in self.errors:
                data[field] = 0
        return data


class ReviewForm(StyledForm):
    decision = forms.ChoiceField(label=_("审核结论"), widget=forms.RadioSelect,
                                 choices=[("approve", _("同意备案")), ("return", _("退回（不予备案）"))],
                                 error_messages={"required": _("请选择审核结论。"),
                                                 "invalid_choice": _("请选择审核结论。")})
    note = forms.CharField(label=_("审核意见"), max_length=plans.NOTE_MAX, required=False, error_messages=TEXT_ERRORS,
                           help_text=_("退回时须写明原因。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].widget.attrs["class"] = "form-check-input"


class DisburseForm(StyledForm):
    amount = forms.DecimalField(label=_("拨付金额（元）"), min_value=0.01, max_digits=14, decimal_places=2,
                                error_messages={**MONEY_ERRORS, "required": _("请填写拨付金额。")})
    payee = forms.CharField(label=_("收款单位"), max_length=plans.PAYEE_MAX,
                            help_text=_("填写单位名称（实施单位或供应商）。"),
                            error_messages={**TEXT_ERRORS, "required": _("请填写收款单位。")})
    memo = forms.CharField(label=pgettext_lazy("ledger", "摘要"), max_length=plans.MEMO_MAX, required=False, error_messages=TEXT_ERRORS)


class VoucherForm(StyledForm):
    kind = forms.ChoiceField(label=_("凭证类型"), choices=VoucherKind.choices,
                             error_messages={"required": _("请选择凭证类型。"), "invalid_choice": _("请选择凭证类型。")})
    upload = forms.FileField(label=_("凭证文件（照片或 PDF）"),
                             widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT}),
                             error_messages={"required": _("请选择凭证的照片或 PDF 文件。"), "empty": _("所选文件是空文件。")})
    number = forms.CharField(label=_("凭证号"), max_length=plans.VOUCHER_NUMBER_MAX, required=False,
                             error_messages=TEXT_ERRORS)
    amount = forms.DecimalField(label=_("金额（元）"), min_value=0.01, max_digits=14, decimal_places=2, required=False,
                                error_messages=MONEY_ERRORS)
    issued_on = forms.DateField(label=_("开具日期"), widget=DATE, required=False, error_messages=DATE_ERRORS)
    issuer = forms.CharField(label=_("开具单位"), max_length=plans.ISSUER_MAX, required=False, error_messages=TEXT_ERRORS)


class AcceptForm(StyledForm):
    note = forms.CharField(label=_("验收意见"), max_length=plans.ACCEPT_NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={**TEXT_ERRORS, "required": _("请填写验收意见。")})
    participants = forms.CharField(label=_("参加验收"), max_length=plans.PARTICIPANTS_MAX,
                                   help_text=_("填写参加验收的单位和人员身份，如“社区两委、居民代表 3 人、监督委员会”。"),
                                   error_messages={**TEXT_ERRORS, "required": _("请填写参加验收的单位和人员。")})


class WithdrawForm(StyledForm):
    reason = forms.CharField(label=_("撤回原因"), max_length=plans.NOTE_MAX,
                             error_messages={**TEXT_ERRORS, "required": _("请填写撤回原因。")})


class PlanFilterForm(forms.Form):
    """The list's filters (GET): status, community, year."""

    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *PlanStatus.choices])
    community = forms.CharField(label=_("社区"), required=False, max_length=20)
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
