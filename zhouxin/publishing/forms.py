from django import forms
from django.utils.translation import gettext_lazy as _

from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .services import BODY_MAX, TITLE_MAX


def editable_areas(user):
    """Streets and communities where `user` may write notices."""
    prefixes = scope_for_user(user).prefixes(roles_for("publishing.edit"))
    if not prefixes:
        return Area.objects.unscoped().none()
    from functools import reduce
    from operator import or_

    from django.db.models import Q

    query = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return (Area.objects.unscoped().filter(query, level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY], is_active=True)
            .order_by("code"))


class NoticeForm(forms.Form):
    area = forms.ModelChoiceField(label=_("发布区域"), queryset=Area.objects.unscoped().none(),
                                  error_messages={"required": _("请选择发布的街道或社区。"),
                                                  "invalid_choice": _("请选择您管辖范围内的街道或社区。")})
    title = forms.CharField(label=_("标题"), max_length=TITLE_MAX,
                            error_messages={"required": _("请填写标题。"),
                                            "max_length": _("标题不能超过 %(limit_value)d 个字。")})
    body = forms.CharField(label=_("正文"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 14}),
                           help_text=_("可使用段落、小标题、列表、加粗、引用、表格和链接（HTML）。样式、脚本和隐藏内容会被自动去除。"),
                           error_messages={"required": _("请填写正文。"),
                                           "max_length": _("正文过长（最多 %(limit_value)d 个字符）。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = editable_areas(user)
        self.fields["area"].label_from_instance = lambda a: f"{a.name}（{a.code}）"


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300, required=False)
