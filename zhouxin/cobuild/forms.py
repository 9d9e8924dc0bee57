from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .choices import NeedCategory, ResourceKind, ServiceRadius
from .services import NOTE_MAX, TEXT_MAX, TITLE_MAX, UNIT_MAX, liaison_units

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def need_areas(user):
    """Streets and communities where `user` may post needs."""
    prefixes = scope_for_user(user).prefixes(roles_for("cobuild.need.edit"))
    if not prefixes:
        return Area.objects.unscoped().none()
    query = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return (Area.objects.unscoped().filter(query, level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY], is_active=True)
            .order_by("code"))


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields as {{ field }}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


def _area_label(area):
    return f"{area.name}（{area.code}）"


class NeedForm(StyledForm):
    area = forms.ModelChoiceField(label=_("所属社区或街道"), queryset=Area.objects.unscoped().none(),
                                  error_messages={"required": _("请选择社区或街道。"),
                                                  "invalid_choice": _("请选择您管辖范围内的社区或街道。")})
    title = forms.CharField(label=_("需求名称"), max_length=TITLE_MAX,
                            error_messages={"required": _("请填写需求名称。"),
                                            "max_length": _("需求名称不能超过 %(limit_value)d 个字。")})
    category = forms.ChoiceField(label=_("类别"), choices=NeedCategory.choices,
                                 error_messages={"required": _("请选择需求类别。"),
                                                 "invalid_choice": _("请选择需求类别。")})
    description = forms.CharField(label=_("需求说明"), max_length=TEXT_MAX, required=False,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    beneficiaries = forms.CharField(label=_("服务对象"), max_length=200, required=False)
    beneficiary_count = forms.IntegerField(label=_("受益人数"), min_value=0, required=False,
                                           error_messages={"invalid": _("请填写整数。"),
                                                           "min_value": _("数量不能为负数。")})
    quantity = forms.IntegerField(label=_("需要的数量"), min_value=1, required=False,
                                  error_messages={"invalid": _("请填写整数。"), "min_value": _("数量至少为 1。")})
    quantity_unit = forms.CharField(label=_("数量单位"), max_length=UNIT_MAX, required=False,
                                    help_text=_("如：份、人次、平方米、小时"))
    wanted_from = forms.DateField(label=_("希望开始日期"), required=False, widget=DATE,
                                  error_messages={"invalid": _("请填写正确的日期。")})
    wanted_until = forms.DateField(label=_("希望结束日期"), required=False, widget=DATE,
                                   error_messages={"invalid": _("请填写正确的日期。")})
    # Set by the promotion page's link: the dispatch category the need is promoted from.
    promote = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = need_areas(user)
        self.fields["area"].label_from_instance = _area_label


class ResourceForm(StyledForm):
    owner = forms.ModelChoiceField(label=_("提供单位"), queryset=Area.objects.unscoped().none(),
                                   error_messages={"required": _("请选择提供资源的单位。"),
                                                   "invalid_choice": _("只能为您联络的单位登记资源。")})
    title = forms.CharField(label=_("资源名称"), max_length=TITLE_MAX,
                            error_messages={"required": _("请填写资源名称。"),
                                            "max_length": _("资源名称不能超过 %(limit_value)d 个字。")})
    kind = forms.ChoiceField(label=_("资源类型"), choices=ResourceKind.choices,
                             error_messages={"required": _("请选择资源类型。"), "invalid_choice": _("请选择资源类型。")})
    category = forms.ChoiceField(label=_("服务类别"), choices=NeedCategory.choices,
                                 error_messages={"required": _("请选择服务类别。"),
                                                 "invalid_choice": _("请选择服务类别。")})
    description = forms.CharField(label=_("资源说明"), max_length=TEXT_MAX, required=False,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    capacity = forms.IntegerField(label=_("可提供数量"), min_value=1,
                                  error_messages={"required": _("请填写可提供数量。"), "invalid": _("请填写整数。"),
                                                  "min_value": _("可提供数量必须大于 0。")})
    capacity_unit = forms.CharField(label=_("数量单位"), max_length=UNIT_MAX, help_text=_("如：份、人次、平方米、小时"),
                                    error_messages={"required": _("请填写数量单位（如：人次、平方米、份）。")})
    available_from = forms.DateField(label=_("可用开始日期"), widget=DATE,
                                     error_messages={"required": _("请填写可用开始日期。"),
                                                     "invalid": _("请填写正确的日期。")})
    available_until = forms.DateField(label=_("可用结束日期"), required=False, widget=DATE,
                                      error_messages={"invalid": _("请填写正确的日期。")})
    radius = forms.ChoiceField(label=_("服务范围"), choices=ServiceRadius.choices, initial=ServiceRadius.STREET,
                               error_messages={"invalid_choice": _("请选择服务范围。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = liaison_units(user).order_by("name")


class ClaimForm(StyledForm):
    resource = forms.IntegerField(widget=forms.HiddenInput, error_messages={"required": _("请选择资源。")})
    quantity = forms.IntegerField(label=_("承诺数量"), min_value=1, required=False,
                                  error_messages={"invalid": _("请填写整数。"), "min_value": _("承诺数量必须大于 0。")})
    note = forms.CharField(label=_("说明"), max_length=NOTE_MAX, required=False,
                           error_messages={"max_length": _("说明不能超过 %(limit_value)d 个字。")})


class DecisionForm(StyledForm):
    note = forms.CharField(label=_("意见"), max_length=NOTE_MAX, required=False,
                           error_messages={"max_length": _("意见不能超过 %(limit_value)d 个字。")})


class ProjectForm(StyledForm):
    title = forms.CharField(label=_("项目名称"), max_length=TITLE_MAX, required=False)
    budget = forms.DecimalField(label=_("预算（元）"), min_value=0, max_digits=14, decimal_places=2, required=False,
                                error_messages={"invalid": _("预算应为金额数字。"), "min_value": _("预算不能为负数。"),
                                                "max_digits": _("预算应为 0 到一万亿元之间的金额。"),
                                                "max_decimal_places": _("预算最多保留两位小数。")})
    starts_on = forms.DateField(label=_("开始日期"), required=False, widget=DATE,
                                error_messages={"invalid": _("请填写正确的日期。")})
    ends_on = forms.DateField(label=_("结束日期"), required=False, widget=DATE,
                              error_messages={"invalid": _("请填写正确的日期。")})


class NeedEditForm(NeedForm):
    """The need form for editing an open need: its community or street stays."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        del self.fields["area"], self.fields["promote"]


class ResourceEditForm(ResourceForm):
    """The resource form for editing: the unit stays."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        del self.fields["owner"]
