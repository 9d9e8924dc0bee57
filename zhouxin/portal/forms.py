"""Portal forms: what a resident fills in, checked with Chinese messages."""

from __future__ import annotations

import re
from collections import OrderedDict

from django import forms
from django.utils.translation import gettext_lazy as _

from zhouxin.dispatch import lookup
from zhouxin.dispatch.choices import RequestKind, Resolution, Satisfaction
from zhouxin.dispatch.forms import MultipleImageField
from zhouxin.dispatch.models import Category
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

_KEY = re.compile(r"^[0-9a-f]{32}$")
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def public_communities() -> list[Area]:
    """Active communities, for the location picker.  Area is a scoped model and an anonymous
    visitor's scope is EMPTY, so the public list is read explicitly with unscoped(), limited
    to active communities (names and codes are public)."""
    return list(Area.objects.unscoped().filter(is_active=True, level=AreaLevel.COMMUNITY).order_by("code"))


def public_grids(community_code: str) -> list[Area]:
    """The active grids of one community (none for anything that is not a community code)."""
    code = str(community_code or "")
    if len(code) != 12 or not code.isdigit():
        return []
    return list(Area.objects.unscoped().filter(is_active=True, level=AreaLevel.GRID, code__startswith=code)
                .order_by("code"))


def public_area(code: str) -> Area | None:
    """An active community or grid by code, else None."""
    # With its street and district: intake needs them (dispatch.services._district_and_street).
    return lookup.intake_area(code)


def community_choices(communities) -> list:
    """Communities grouped by their street."""
    streets = {a.code: a.name for a in Area.objects.unscoped().filter(code__in={c.code[:9] for c in communities})}
    groups: OrderedDict[str, list] = OrderedDict()
    for community in communities:
        groups.setdefault(streets.get(community.code[:9], ""), []).append((community.code, community.name))
    return [("", _("请选择社区"))] + list(groups.items())


def grid_choices(grids) -> list:
    return [("", _("不清楚或不选网格"))] + [(g.code, g.name) for g in grids]


def category_choices() -> list:
    """Three levels: the first two as group labels, the leaves to choose."""
    cats = list(Category.objects.filter(is_active=True).order_by("code"))
    by_id = {c.pk: c for c in cats}
    groups: OrderedDict[str, list] = OrderedDict()
    for c in cats:
        if c.level != 3:
            continue
        mid = by_id.get(c.parent_id)
        top = by_id.get(mid.parent_id) if mid else None
        if mid is None or top is None:
            continue
        groups.setdefault(f"{top.name} · {mid.name}", []).append((str(c.pk), c.name))
    return [("", _("不确定，请工作人员判断"))] + list(groups.items())


class AccessibleForm(forms.Form):
    """Links each input to its help text and error (aria-describedby) and marks errors
    (aria-invalid), so a screen reader reads them with the field."""

    def full_clean(self):
        super().full_clean()
        for name, field in self.fields.items():
            ids = [f"{self[name].auto_id}_help"] if field.help_text else []
            if name in self.errors:
                ids.append(f"{self[name].auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}_help"


class SubmitForm(AccessibleForm):
    kind = forms.ChoiceField(label=_("诉求类型"), choices=RequestKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": _("请选择诉求类型。"),
                                             "invalid_choice": _("请选择诉求类型。")})
    title = forms.CharField(label=_("标题"), max_length=60, help_text=_("一句话说明问题，例如：楼道灯不亮"),
                            error_messages={"required": _("请填写标题。"),
                                            "max_length": _("标题不能超过 %(limit_value)d 个字。")})
    description = forms.CharField(label=_("具体情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
                                  error_messages={"required": _("请填写具体情况。"),
                                                  "max_length": _("具体情况不能超过 %(limit_value)d 个字。")})
    category = forms.TypedChoiceField(label=_("诉求类别"), required=False, coerce=int, empty_value=None,
                                      error_messages={"invalid_choice": _("请从列表中选择一个具体类别。")})
    area = forms.CharField(label=_("发生地（社区或网格）"), help_text=_("先选择社区，再选择网格（可不选）"),
                           widget=forms.Select,
                           error_messages={"required": _("请选择问题发生的社区或网格。")})
    grid = forms.CharField(label=_("所在网格（可不选）"), required=False, widget=forms.Select)
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False,
                              help_text=_("例如：3 号楼 2 单元门口"),
                              error_messages={"max_length": _("详细地址不能超过 %(limit_value)d 个字。")})
    photos = MultipleImageField(label=_("照片（最多 9 张，可不传）"), required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=64,
                                   error_messages={"required": _("请填写联系人姓名。"),
                                                   "max_length": _("联系人不能超过 %(limit_value)d 个字。")})
    contact_phone = forms.CharField(label=_("手机号"), max_length=20,
                                    help_text=_("用于接收查询验证码和工作人员联系您"),
                                    widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
                                    error_messages={"required": _("请填写手机号。")})
    consent = forms.BooleanField(label=_("我已阅读并同意《个人信息处理告知》，同意为办理本诉求处理我的个人信息"),
                                 error_messages={"required": _("请阅读并勾选同意个人信息处理告知，否则无法提交。")})
    truthful = forms.BooleanField(label=_("我承诺所反映的情况真实"),
                                  error_messages={"required": _("请勾选承诺所反映的情况真实。")})
    consent_version = forms.CharField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, consent_version: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_consent = consent_version
        self.fields["area"].widget.choices = community_choices(public_communities())
        chosen = str(self.data.get("area", "") if self.is_bound else self.initial.get("area", ""))
        self.fields["grid"].widget.choices = grid_choices(public_grids(chosen[:12]))
        self.fields["category"].choices = category_choices()
        self.fields["category"].widget.attrs["id"] = "zx-category"

    def clean_contact_phone(self):
        phone = "".join(self.cleaned_data["contact_phone"].split())
        if not _PHONE.match(phone):
            raise forms.ValidationError(_("请填写 11 位手机号，用于接收查询验证码。"))
        return phone

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"]
        if not _KEY.match(key):
            raise forms.ValidationError(_("页面已失效，请刷新后重新填写。"))
        return key

    def clean_consent_version(self):
        version = self.cleaned_data["consent_version"]
        if version != self.current_consent:
            raise forms.ValidationError(_("个人信息处理告知已更新，请阅读新的告知后重新勾选同意。"))
        return version

    def clean_area(self):
        area = public_area(self.cleaned_data["area"])
        if area is None:
            raise forms.ValidationError(_("请从列表中选择社区或网格。"))
        return area

    def clean(self):
        data = super().clean()
        area, grid_code = data.get("area"), (data.get("grid") or "").strip()
        if area is not None and grid_code:
            grid = public_area(grid_code)
            if grid is None or grid.level != AreaLevel.GRID or not grid.code.startswith(area.code[:12]):
                self.add_error("grid", _("所选网格不属于所选社区，请重新选择。"))
            else:
                data["area"] = grid
        return data

    def clean_category(self):
        pk = self.cleaned_data.get("category")
        if pk is None:
            return None
        return lookup.leaf_category(pk=pk)


class TrackForm(AccessibleForm):
    number = forms.CharField(label=_("诉求编号"), max_length=20,
                             error_messages={"required": _("请填写诉求编号。"),
                                             "max_length": _("诉求编号不正确。")})
    phone = forms.CharField(label=_("提交时填写的手机号"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
                            error_messages={"required": _("请填写手机号。")})

    def clean_phone(self):
        phone = "".join(self.cleaned_data["phone"].split())
        if not _PHONE.match(phone):
            raise forms.ValidationError(_("请填写 11 位手机号。"))
        return phone


class CodeForm(AccessibleForm):
    code = forms.CharField(label=_("短信验证码"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
                           error_messages={"required": _("请填写 6 位验证码。"),
                                           "min_length": _("验证码为 6 位数字。"),
                                           "max_length": _("验证码为 6 位数字。")})


class RateForm(AccessibleForm):
    resolution = forms.ChoiceField(label=_("问题解决了吗？"), widget=forms.RadioSelect,
                                   choices=[(v, lbl) for v, lbl in Resolution.choices],
                                   error_messages={"required": _("请选择问题是否解决。"),
                                                   "invalid_choice": _("请选择问题是否解决。")})
    satisfaction = forms.ChoiceField(label=_("您对办理结果满意吗？"), widget=forms.RadioSelect,
                                     choices=[(v, lbl) for v, lbl in Satisfaction.choices if v != "unreachable"],
                                     error_messages={"required": _("请选择满意程度。"),
                                                     "invalid_choice": _("请选择满意程度。")})


class SignInForm(AccessibleForm):
    phone = forms.CharField(label=_("手机号"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
                            error_messages={"required": _("请填写手机号。")})
    consent = forms.BooleanField(label=_("我已阅读并同意《居民账号个人信息处理告知》"),
                                 error_messages={"required": _("请阅读并勾选同意居民账号个人信息处理告知。")})
    consent_version = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, consent_version: str, **kwargs):
        kwargs.setdefault("initial", {})["consent_version"] = consent_version
        super().__init__(*args, **kwargs)
        self.current_consent = consent_version

    def clean_phone(self):
        phone = "".join(self.cleaned_data["phone"].split())
        if not _PHONE.match(phone):
            raise forms.ValidationError(_("请填写 11 位手机号。"))
        return phone

    def clean_consent_version(self):
        version = self.cleaned_data["consent_version"]
        if version != self.current_consent:
            raise forms.ValidationError(_("居民账号个人信息处理告知已更新，请阅读新的告知后重新勾选同意。"))
        return version


class ContactForm(AccessibleForm):
    contact_name = forms.CharField(label=_("联系人"), max_length=64,
                                   error_messages={"required": _("请填写联系人姓名。"),
                                                   "max_length": _("联系人不能超过 %(limit_value)d 个字。")})
    contact_phone = forms.CharField(label=_("手机号"), max_length=20,
                                    widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
                                    error_messages={"required": _("请填写手机号。")})

    def clean_contact_phone(self):
        phone = "".join(self.cleaned_data["contact_phone"].split())
        if not _PHONE.match(phone):
            raise forms.ValidationError(_("请填写 11 位手机号，用于接收查询验证码。"))
        return phone


class DeleteForm(AccessibleForm):
    confirm = forms.BooleanField(label=_("我已了解上述后果，确认删除我的账号和诉求中的个人信息"),
                                 error_messages={"required": _("请勾选确认后再删除。")})
