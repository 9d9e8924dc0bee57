"""The portal page of 在职党员到居住社区报到 (phone first): a signed-in resident whose phone is a
Party member's sees their own registration (unregistered / pending / valid until / expired) and
registers or renews; anyone else is told what 双报到 is and where to volunteer instead.

The page reads only the registration of the Party member behind the signed-in account: no
registration id is ever taken from the request, so nobody can open another's.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from zhouxin.core.actions import errors_into_form
from zhouxin.orgs.choices import AreaLevel
from zhouxin.portal.session import current_account

from . import registration
from .identity import member_for_account


class MemberRegistrationForm(forms.Form):
    community = forms.ModelChoiceField(label=gettext_lazy("报到社区"), queryset=None,
                                       help_text=gettext_lazy("默认是您的居住社区，也可以选择本区的其他社区。"),
                                       error_messages={"required": gettext_lazy("请选择报到社区。"),
                                                       "invalid_choice": gettext_lazy("请选择本区的一个社区。")})
    skills = forms.CharField(label=gettext_lazy("特长与服务意愿"), required=False, max_length=registration.TEXT_MAX,
                             help_text=gettext_lazy("例如：医疗咨询、法律咨询、陪伴老人、周末可服务。"),
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        field.queryset = registration.member_communities(person)
        field.label_from_instance = lambda area: area.name
        field.widget.attrs["class"] = "form-select form-select-lg"
        self.fields["skills"].widget.attrs["class"] = "form-control"
        home = registration.ancestor(person.home_area, AreaLevel.COMMUNITY)
        if home is not None and not self.is_bound:
            self.initial["community"] = home.pk


def _signin_url() -> str:
    return f"{reverse('portal:signin')}?{urlencode({'next': reverse('volunteers_public:register')})}"


def _activities_url() -> str:
    try:
        return reverse("volunteers_public:activity_list")
    except NoReverseMatch:
        return reverse("portal:home")


@require_http_methods(["GET", "POST"])
def register(request):
    account = current_account(request)
    if account is None:
        return redirect(_signin_url())
    person = member_for_account(account)
    context = {"account": account, "person": person, "activities_url": _activities_url()}
    status = 200
    if person is None:
        if request.method == "POST":
            status = 422
        response = render(request, "volunteers/registration/public/register.html", context, status=status)
        patch_cache_control(response, private=True, no_store=True)
        return response
    today = timezone.localdate()
    reg = registration.live_member_registration(person)
    form = MemberRegistrationForm(person=person) if reg is None else None
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "register" and reg is None:
                form = MemberRegistrationForm(request.POST, person=person)
                if form.is_valid():
                    try:
                        registration.member_register_on_portal(account=account, **form.cleaned_data)
                    except ValidationError as exc:
                        errors_into_form(form, exc)
                    else:
                        return redirect(f"{reverse('volunteers_public:register')}?done=registered")
                status = 422
            elif action == "renew" and reg is not None:
                registration.member_registration_renew(account=account, registration=reg)
                return redirect(f"{reverse('volunteers_public:register')}?done=renewed")
            else:
                error, status = _("这个操作现在不能进行，请刷新页面后再试。"), 422
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 422
    state = registration.state_of(reg, today)
    rule = registration.registration_rule(person.home_area, today)
    opens = registration.renewal_opens(reg, rule) if reg is not None else None
    context.update({
        "registration": reg, "state": state, "state_label": registration.MemberState(state).label,
        "form": form, "error": error, "deadline": registration.first_by(rule, today.year),
        "renew_months": rule["renew_months"], "can_renew": state in ("registered", "expired") and today >= opens,
        "renew_opens": opens, "done": request.GET.get("done", ""),
    })
    response = render(request, "volunteers/registration/public/register.html", context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response
