"""Forms of the responsibility, key-problem and meeting pages (problems.py holds the rules;
these only read the input and offer the choices the user has)."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhouxin.orgs.models import Area, Organisation

from . import problems
from .choices import ItemStatus, LeaderRole, MeetingKind, ProblemSource, ProblemStatus
from .models import KeyProblem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT_ERRORS = {"max_length": _("不能超过 %(limit_value)d 个字。")}
DATE_ERRORS = {"invalid": _("请填写正确的日期。")}
UPLOAD_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields as {{ field }}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple | forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)


class MultipleDocumentInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleDocumentField(forms.FileField):
    """Up to problems.FILES_MAX files from one <input type=file multiple>; the service judges
    each by its content (a real photo or PDF) and size."""

    widget = MultipleDocumentInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleDocumentInput(attrs={"accept": UPLOAD_ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > problems.FILES_MAX:
            raise forms.ValidationError(_("一次最多上传 %(n)d 个文件。") % {"n": problems.FILES_MAX})
        return [super(MultipleDocumentField, self).clean(f, initial) for f in files]


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, area):
        return area.name


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, org):
        return _("%(name)s（%(area)s）") % {"name": org.name, "area": org.area.name}


class OrganisationsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, org):
        return _("%(name)s（%(area)s）") % {"name": org.name, "area": org.area.name}


class ProblemsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, problem):
        return _("%(title)s（%(area)s，%(status)s）") % {"title": problem.title, "area": problem.area.name,
                                                      "status": problem.get_status_display()}


def partner_organisations(user):
    """Who may lead or help with a problem, as offered in the form: the district's own bodies
    (departments, the district committee) and the organisations of the user's streets.  The
    service accepts any active organisation of the problem's district."""
    parts = []
    for prefix in problems.prefixes_for(user, "oversight.problem.edit"):
        if len(prefix) <= 6:
            parts.append(Q(area__code__startswith=prefix))
        else:
            parts.append(Q(area__code=prefix[:6]) | Q(area__code__startswith=prefix[:9]))
    if not parts:
        return Organisation.objects.unscoped().none()
    return (Organisation.objects.unscoped().filter(reduce(or_, parts), is_active=True).select_related("area")
            .order_by("area__code", "kind", "name"))


# --- Responsibility lists ---------------------------------------------------------------------------

class ResponsibilityFilterForm(forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2099)
    organisation = forms.IntegerField(required=False, min_value=1)


def _year_choices():
    year = timezone.localdate().year
    return [(y, str(y)) for y in (year + 1, year, year - 1)]


class ResponsibilityForm(StyledForm):
    organisation = OrganisationChoiceField(
        label=_("党组织"), queryset=Organisation.objects.unscoped().none(), empty_label=None,
        error_messages={"required": _("请选择党组织。"), "invalid_choice": _("请选择您所在区域的党委（党工委、党总支）。")})
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, choices=(),
                                  error_messages={"required": _("请选择年度。"), "invalid_choice": _("请选择年度。")})
    role = forms.ChoiceField(label=_("责任类别"), choices=LeaderRole.choices,
                             error_messages={"required": _("请选择责任类别。"), "invalid_choice": _("请选择责任类别。")})
    holder = forms.CharField(label=_("责任人"), max_length=problems.HOLDER_MAX,
                             help_text=_("填写担任这一职务的同志姓名。"),
                             error_messages={**TEXT_ERRORS, "required": _("请填写责任人姓名。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = problems.list_organisations(user)
        self.fields["year"].choices = _year_choices()
        self.fields["year"].initial = timezone.localdate().year


class ItemForm(StyledForm):
    text = forms.CharField(label=_("责任事项"), max_length=problems.ITEM_TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={**TEXT_ERRORS, "required": _("请填写责任事项。")})
    due = forms.DateField(label=_("完成时限"), required=False, widget=DATE, error_messages=DATE_ERRORS)


class ItemUpdateForm(ItemForm):
    status = forms.ChoiceField(label=_("状态"), choices=ItemStatus.choices,
                               error_messages={"required": _("请选择状态。"), "invalid_choice": _("请选择状态。")})
    evidence = forms.CharField(label=_("完成情况"), max_length=problems.ITEM_EVIDENCE_MAX, required=False,
                               widget=forms.Textarea(attrs={"rows": 2}), error_messages=TEXT_ERRORS,
                               help_text=_("标记为已完成时必填：做了什么，有什么能证明（文件、会议、台账或平台记录）。"))


# --- Key problems -----------------------------------------------------------------------------------

class ProblemFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "")] + list(ProblemStatus.choices))
    overdue = forms.BooleanField(required=False)
    area = forms.CharField(required=False, max_length=15)
    year = forms.IntegerField(required=False, min_value=2000, max_value=2099)
    source = forms.ChoiceField(required=False, choices=[("", "")] + list(ProblemSource.choices))


class ProblemForm(StyledForm):
    area = AreaChoiceField(label=_("街道或社区"), queryset=Area.objects.unscoped().none(), empty_label=None,
                           error_messages={"required": _("请选择街道或社区。"),
                                           "invalid_choice": _("请选择您负责的街道或社区。")})
    title = forms.CharField(label=_("问题"), max_length=problems.TITLE_MAX,
                            error_messages={**TEXT_ERRORS, "required": _("请填写问题。")})
    description = forms.CharField(label=_("问题描述"), max_length=problems.DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  error_messages={**TEXT_ERRORS, "required": _("请填写问题描述。")})
    source = forms.ChoiceField(label=_("来源"), choices=ProblemSource.choices,
                               error_messages={"required": _("请选择问题来源。"), "invalid_choice": _("请选择问题来源。")})
    owner = forms.CharField(label=_("包联领导"), max_length=problems.OWNER_MAX,
                            help_text=_("负责推动解决的领导同志姓名。"),
                            error_messages={**TEXT_ERRORS, "required": _("请填写包联领导。")})
    lead_org = OrganisationChoiceField(
        label=_("牵头单位"), queryset=Organisation.objects.unscoped().none(),
        error_messages={"required": _("请选择牵头单位。"), "invalid_choice": _("请选择本区的单位。")})
    co_orgs = OrganisationsField(
        label=_("协办单位"), queryset=Organisation.objects.unscoped().none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}), help_text=_("可多选（按住 Ctrl 键）。"),
        error_messages={"invalid_choice": _("请选择本区的单位。"), "invalid_pk_value": _("请选择本区的单位。")})
    target = forms.CharField(label=_("工作目标"), max_length=problems.TARGET_MAX,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={**TEXT_ERRORS, "required": _("请填写工作目标。")})
    deadline = forms.DateField(label=_("完成时限"), widget=DATE,
                               error_messages={**DATE_ERRORS, "required": _("请填写完成时限。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = problems.editable_areas(user, "oversight.problem.edit", problems.PROBLEM_LEVELS)
        partners = partner_organisations(user)
        self.fields["lead_org"].queryset = partners
        self.fields["co_orgs"].queryset = partners


class ProgressForm(StyledForm):
    progress = forms.IntegerField(label=_("进度（%）"), min_value=0, max_value=100,
                                  error_messages={"required": _("请填写进度。"), "invalid": _("进度应为整数。"),
                                                  "min_value": _("进度应在 0 到 100 之间。"),
                                                  "max_value": _("进度应在 0 到 100 之间。")})
    note = forms.CharField(label=_("进展情况"), max_length=problems.NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={**TEXT_ERRORS, "required": _("请填写进展情况。")})
    organisation = OrganisationChoiceField(
        label=_("填报单位"), queryset=Organisation.objects.unscoped().none(), required=False,
        empty_label=_("（不指定）"), error_messages={"invalid_choice": _("填报单位应是牵头单位或协办单位。")})
    uploads = MultipleDocumentField(label=_("现场照片或材料（照片或 PDF，选填）"))

    def __init__(self, *args, problem: KeyProblem, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = problems.partners_of(problem)


class ClosureRequestForm(StyledForm):
    note = forms.CharField(label=_("销号说明"), max_length=problems.CLOSURE_NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("写明目标怎样达到、群众怎样评价。"),
                           error_messages={**TEXT_ERRORS, "required": _("请填写销号说明。")})
    uploads = MultipleDocumentField(label=_("佐证材料（照片或 PDF）"),
                                    help_text=_("至少要有一份佐证材料（可以是此前进展中上传的）。"))


class ClosureDecisionForm(StyledForm):
    decision = forms.ChoiceField(label=_("审核结论"), widget=forms.RadioSelect,
                                 choices=[("approve", _("同意销号")), ("reject", _("不同意，退回继续推进"))],
                                 error_messages={"required": _("请选择审核结论。"),
                                                 "invalid_choice": _("请选择审核结论。")})
    note = forms.CharField(label=_("审核意见"), max_length=problems.REASON_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}), error_messages=TEXT_ERRORS,
                           help_text=_("不同意时必填：理由和还要做什么。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].widget.attrs["class"] = "form-check-input"


# --- Meetings ---------------------------------------------------------------------------------------

class MeetingFilterForm(forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2099)
    kind = forms.ChoiceField(required=False, choices=[("", "")] + list(MeetingKind.choices))


class MeetingForm(StyledForm):
    area = AreaChoiceField(label=_("区域"), queryset=Area.objects.unscoped().none(), empty_label=None,
                           error_messages={"required": _("请选择区域。"), "invalid_choice": _("请选择您负责的区域。")})
    kind = forms.ChoiceField(label=_("会议类型"), choices=MeetingKind.choices, initial=MeetingKind.TOPIC,
                             error_messages={"required": _("请选择会议类型。"), "invalid_choice": _("请选择会议类型。")})
    title = forms.CharField(label=_("会议名称"), max_length=problems.TITLE_MAX,
                            error_messages={**TEXT_ERRORS, "required": _("请填写会议名称。")})
    held_on = forms.DateField(label=_("召开日期"), widget=DATE,
                              error_messages={**DATE_ERRORS, "required": _("请填写召开日期。")})
    chair = forms.CharField(label=_("主持人"), max_length=problems.CHAIR_MAX,
                            error_messages={**TEXT_ERRORS, "required": _("请填写主持人。")})
    attendees = forms.IntegerField(label=_("参会人数"), min_value=1, max_value=problems.ATTENDEES_MAX,
                                   error_messages={"required": _("请填写参会人数。"), "invalid": _("参会人数应为整数。"),
                                                   "min_value": _("参会人数至少为 1。"),
                                                   "max_value": _("参会人数过多，请核对。")})
    decisions = forms.CharField(label=_("议定事项"), max_length=problems.DECISIONS_MAX,
                                widget=forms.Textarea(attrs={"rows": 5}),
                                error_messages={**TEXT_ERRORS, "required": _("请填写议定事项。")})
    problems = ProblemsField(label=_("研究的问题"), queryset=KeyProblem.objects.unscoped().none(), required=False,
                             widget=forms.SelectMultiple(attrs={"size": 8}),
                             help_text=_("本区域的重点难点问题，可多选（按住 Ctrl 键）。"),
                             error_messages={"invalid_choice": _("只能关联本区域的问题。"),
                                             "invalid_pk_value": _("只能关联本区域的问题。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = problems.editable_areas(user, "oversight.problem.edit", problems.MEETING_LEVELS)
        self.fields["held_on"].initial = timezone.localdate()
        editable = problems.prefix_q(problems.prefixes_for(user, "oversight.problem.edit"), "area__code")
        self.fields["problems"].queryset = (problems.problems_for(user).filter(editable).select_related("area")
                                            .order_by("area__code", "deadline", "id"))
