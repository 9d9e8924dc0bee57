"""Forms of the roster pages (the services validate again; these only shape the input)."""

from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Person

from .choices import Certificate, Education, PostType

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def roster_communities(user, permission: str = "workforce.roster"):
    """Active communities within the user's grants for `permission`."""
    prefixes = scope_for_user(user).prefixes(roles_for(permission))
    if not prefixes:
        return Area.objects.unscoped().none()
    query = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return Area.objects.unscoped().filter(query, level=AreaLevel.COMMUNITY, is_active=True).order_by("code")


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            field.widget.attrs.setdefault("class", css)


class _CommunityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.code}）"


class WorkerEditForm(StyledForm):
    community = _CommunityChoice(label=_("所在社区"), queryset=Area.objects.unscoped().none(),
                                 error_messages={"required": _("请选择所在社区。"),
                                                 "invalid_choice": _("请选择您管辖范围内的社区。")})
    hire_date = forms.DateField(label=_("入职日期"), widget=DATE, error_messages={"required": _("请填写入职日期。"),
                                                                             "invalid": _("入职日期格式不正确。")})
    education = forms.ChoiceField(label=_("学历"), choices=Education.choices, initial=Education.COLLEGE)
    has_diploma = forms.BooleanField(label=_("有学历证书"), required=False, initial=True)
    has_degree = forms.BooleanField(label=_("有学位证书"), required=False, initial=True)
    certificate = forms.ChoiceField(label=_("社会工作者职业资格"), choices=Certificate.choices, required=False)
    entry_grade = forms.IntegerField(label=_("入职定级"), required=False, min_value=1, max_value=18,
                                     help_text=_("实行三岗十八级时已定的等级；不填则按岗位和学历计算。"))
    early_promotions_used = forms.IntegerField(label=_("已提前晋级次数"), min_value=0, max_value=18, initial=0)
    training_hours = forms.DecimalField(label=_("本年培训学时"), min_value=0, max_digits=6, decimal_places=1,
                                        initial=0)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = roster_communities(user)


class WorkerCreateForm(WorkerEditForm):
    person = forms.ModelChoiceField(label=_("已登记的人员"), queryset=Person.objects.unscoped().none(), required=False,
                                    help_text=_("选择已登记的人员，或在下面填写新人员的信息。"),
                                    error_messages={"invalid_choice": _("请选择您管辖范围内的人员。")})
    name = forms.CharField(label=_("姓名"), max_length=64, required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=20, required=False)

    field_order = ["community", "person", "name", "phone", "id_number"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        prefixes = scope_for_user(user).prefixes(roles_for("workforce.roster"))
        people = Person.objects.unscoped().none()
        if prefixes:
            query = reduce(or_, (Q(home_area__code__startswith=p) for p in prefixes))
            people = Person.objects.unscoped().filter(query, worker__isnull=True).order_by("name", "pk")
        self.fields["person"].queryset = people


class PostForm(StyledForm):
    post_type = forms.ChoiceField(label=_("岗位类别"), choices=PostType.choices)
    title = forms.CharField(label=_("职务"), max_length=40, error_messages={"required": _("请填写职务。")})
    started_on = forms.DateField(label=_("任职日期"), widget=DATE, error_messages={"required": _("请填写任职日期。")})
    ended_on = forms.DateField(label=_("免职日期"), widget=DATE, required=False)


class DayForm(StyledForm):
    day = forms.DateField(label=_("日期"), widget=DATE, error_messages={"required": _("请填写日期。"),
                                                                      "invalid": _("日期格式不正确。")})


class ImportForm(StyledForm):
    file = forms.FileField(label=_("花名册文件（.xlsx）"), error_messages={"required": _("请选择要导入的文件。")})
