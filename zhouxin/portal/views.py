"""The resident portal: anonymous visitors submit requests and track them with a one-time
code.  No staff data is shown; a request is shown only to a session that proved, with the
code sent to the request's phone, that it belongs to the requester."""

from __future__ import annotations

import logging
import time
import uuid

from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.dispatch.choices import EventAction
from zhouxin.dispatch.models import RequestEvent, ServiceRequest

from . import forms as f
from . import services

logger = logging.getLogger(__name__)

SUBMIT_LIMIT = (5, 600)  # per IP: 5 submissions in 10 minutes
CODE_LIMIT_IP = (10, 600)
CODE_LIMIT_REQUEST = (3, 600)
VERIFY_LIMIT_IP = (30, 600)
TRACK_SESSION_SECONDS = 30 * 60

# The timeline in the resident's words; staff-internal steps are left out.
RESIDENT_STEPS = {
    EventAction.RECEIVED: gettext_lazy("诉求已受理"),
    EventAction.HELD: gettext_lazy("诉求正在审核"),
    EventAction.RELEASED: gettext_lazy("审核通过"),
    EventAction.DISPATCHED: gettext_lazy("已转交承办单位办理"),
    EventAction.ACCEPTED: gettext_lazy("承办单位已接单"),
    EventAction.RETURNED: gettext_lazy("正在重新安排承办单位"),
    EventAction.EXTENSION_APPROVED: gettext_lazy("办理时限已延长"),
    EventAction.CONTACTED: gettext_lazy("工作人员已与您联系"),
    EventAction.REPLIED: gettext_lazy("已答复"),
    EventAction.CALLBACK: gettext_lazy("已收到回访评价"),
    EventAction.CLOSED: gettext_lazy("已办结"),
    EventAction.REOPENED: gettext_lazy("督办重新办理"),
    EventAction.MERGED: gettext_lazy("与同一问题的诉求合并办理"),
    EventAction.INVALIDATED: gettext_lazy("判定为无效诉求"),
}


def _ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _too_many(request, message: str):
    return render(request, "portal/429.html", {"message": message}, status=429)


@require_GET
def home(request):
    return render(request, "portal/home.html")


def _submit_form(request, data=None, files=None):
    consent = services.consent()
    initial = {"consent_version": consent["version"], "idempotency_key": uuid.uuid4().hex}
    form = f.SubmitForm(data, files, areas=f.public_areas(), consent_version=consent["version"], initial=initial)
    return form, consent


@require_http_methods(["GET", "POST"])
def submit(request):
    if request.method == "GET":
        form, consent = _submit_form(request)
        return render(request, "portal/submit.html", {"form": form, "consent": consent})
    form, consent = _submit_form(request, request.POST, request.FILES)
    if not services.hit("submit", _ip(request), limit=SUBMIT_LIMIT[0], window_seconds=SUBMIT_LIMIT[1]):
        return _too_many(request, _("提交过于频繁：同一网络 10 分钟内最多提交 5 件诉求，请稍后再试。"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = services.submit(
                idempotency_key=data["idempotency_key"], consent_version=data["consent_version"],
                kind=data["kind"], area=data["area"], title=data["title"], description=data["description"],
                category=data["category"], address=data["address"], contact_name=data["contact_name"],
                contact_phone=data["contact_phone"], images=data["photos"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                target = field if field in form.fields else None
                for message in messages:
                    form.add_error(target, message)
        else:
            request.session["portal_receipt"] = created.number
            return redirect("portal:receipt")
    return render(request, "portal/submit.html", {"form": form, "consent": consent}, status=422)


@require_POST
def suggest(request):
    """Category suggestions for the text typed so far (htmx); nothing when too short."""
    text = f"{request.POST.get('title', '')} {request.POST.get('description', '')}".strip()[:2000]
    suggestions = []
    if len(text) >= 4:
        from zhouxin.dispatch import classify

        suggestions = classify.suggest(text, top=3)
    return render(request, "portal/_suggestions.html", {"suggestions": suggestions})


@require_GET
def receipt(request):
    number = request.session.get("portal_receipt")
    if not number:
        return redirect("portal:submit")
    return render(request, "portal/receipt.html", {"number": number})


@require_http_methods(["GET", "POST"])
def track(request):
    form = f.TrackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number, phone = form.cleaned_data["number"].strip(), form.cleaned_data["phone"]
        if not services.hit("code-ip", _ip(request), limit=CODE_LIMIT_IP[0], window_seconds=CODE_LIMIT_IP[1]) \
                or not services.hit("code-number", number, limit=CODE_LIMIT_REQUEST[0],
                                    window_seconds=CODE_LIMIT_REQUEST[1]):
            return _too_many(request, _("获取验证码过于频繁，请 10 分钟后再试。"))
        found = services.find_request(number, phone)
        if found is not None:
            services.code_send(request=found)
        # The same answer whether or not the number and phone match: nothing to probe.
        request.session["portal_pending"] = number
        # Kept on the server (database sessions): only a lookup that matched may try codes,
        # so a stranger who knows a number cannot guess at the requester's code.
        request.session["portal_pending_match"] = found is not None
        return redirect("portal:verify")
    return render(request, "portal/track.html", {"form": form}, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def verify(request):
    number = request.session.get("portal_pending")
    if not number:
        return redirect("portal:track")
    form = f.CodeForm(request.POST or None)
    if request.method == "POST":
        if not services.hit("verify-ip", _ip(request), limit=VERIFY_LIMIT_IP[0], window_seconds=VERIFY_LIMIT_IP[1]):
            return _too_many(request, _("尝试过于频繁，请 10 分钟后再试。"))
        if form.is_valid():
            matched = request.session.get("portal_pending_match")
            target = ServiceRequest.objects.unscoped().filter(number=number).first() if matched else None
            try:
                # A number that did not match its phone got no code: the same answer as a wrong code.
                services.code_check(request=target, code=form.cleaned_data["code"])
            except services.CodeError as exc:
                form.add_error("code", exc.messages[0])
            else:
                verified = dict(request.session.get("portal_verified", {}))
                verified[number] = time.time() + TRACK_SESSION_SECONDS
                request.session["portal_verified"] = verified
                request.session.pop("portal_pending", None)
                request.session.pop("portal_pending_match", None)
                request.session.cycle_key()
                return redirect("portal:status", number=number)
        return render(request, "portal/verify.html", {"form": form, "number": number}, status=422)
    return render(request, "portal/verify.html", {"form": form, "number": number})


def _verified(request, number: str) -> ServiceRequest | None:
    until = request.session.get("portal_verified", {}).get(number)
    if not until or until < time.time():
        return None
    return ServiceRequest.objects.unscoped().filter(number=number).first()


def _timeline(target: ServiceRequest) -> list[dict]:
    events = RequestEvent.objects.filter(request=target).order_by("at", "pk")
    steps = []
    for event in events:
        label = RESIDENT_STEPS.get(event.action)
        if label:
            steps.append({"at": event.at, "label": label})
    return steps


@require_GET
def status(request, number: str):
    target = _verified(request, number)
    if target is None:
        return HttpResponseRedirect(reverse("portal:track"))
    return _status_page(request, target, f.RateForm())


def _status_page(request, target, form, code=200):
    return render(request, "portal/status.html", {
        "r": target, "steps": _timeline(target), "form": form, "can_rate": services.can_rate(target),
    }, status=code)


@require_POST
def rate(request, number: str):
    target = _verified(request, number)
    if target is None:
        return HttpResponseRedirect(reverse("portal:track"))
    form = f.RateForm(request.POST)
    if not services.can_rate(target):
        form.is_valid()
        form.add_error(None, _("该诉求目前不能评价：只有已答复、尚未回访的诉求可以评价。"))
        return _status_page(request, target, form, 422)
    if form.is_valid():
        try:
            services.rate(request=target, resolution=form.cleaned_data["resolution"],
                          satisfaction=form.cleaned_data["satisfaction"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return redirect("portal:status", number=number)
    target.refresh_from_db()
    return _status_page(request, target, form, 422)
