"""The resident portal: residents submit requests and track them with a one-time code, may
open an account by phone (我的诉求, and their PIPL rights: export, correct, delete), and
anyone may read a community's public page.

No staff data is shown; a request is shown only to a session that proved, with the code
sent to the request's phone, that it belongs to the requester, or to the signed-in
account whose phone is the request's contact phone.  Staff sign-in gives nothing here."""

from __future__ import annotations

import json
import logging
import time
import uuid

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core import public_sections
from zhouxin.core.crypto import decrypt, encrypt, mask_phone
from zhouxin.core.ratelimit import RateLimited, client_ip
from zhouxin.dispatch.models import RequestEvent, ServiceRequest
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from . import forms as f
from . import services
from .session import (
    SIGNIN_KEY,
    VERIFIED_KEY,
    current_account,
    resident_required,
    sign_in,
    sign_out,
)

logger = logging.getLogger(__name__)

TRACK_SESSION_SECONDS = 30 * 60


def _page(request, template: str, context: dict | None = None, status: int = 200):
    """A full portal page; the header shows whether a resident is signed in."""
    context = dict(context or {})
    context.setdefault("account", current_account(request))
    return render(request, template, context, status=status)


def _too_many(request, exc: RateLimited):
    response = _page(request, "portal/429.html", {"message": exc.message}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _not_found(request):
    return _page(request, "portal/404.html", status=404)


@require_GET
def home(request):
    return _page(request, "portal/home.html", {"account": current_account(request)})


# --- Submission ------------------------------------------------------------------------

def _submit_form(request, account, data=None, files=None):
    consent = services.consent()
    initial = {"consent_version": consent["version"], "idempotency_key": uuid.uuid4().hex}
    if account is not None:
        initial["contact_phone"] = account.phone
    form = f.SubmitForm(data, files, consent_version=consent["version"], initial=initial)
    return form, consent


@require_http_methods(["GET", "POST"])
def submit(request):
    account = current_account(request)
    context = {"account": account}
    if request.method == "GET":
        form, consent = _submit_form(request, account)
        return _page(request, "portal/submit.html", {**context, "form": form, "consent": consent})
    try:
        services.limit_submission(ip=client_ip(request))
    except RateLimited as exc:
        return _too_many(request, exc)
    form, consent = _submit_form(request, account, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.limit_submitter(phone=data["contact_phone"], account=account)
        except RateLimited as exc:
            return _too_many(request, exc)
        try:
            created = services.submit(
                idempotency_key=data["idempotency_key"], consent_version=data["consent_version"], account=account,
                kind=data["kind"], area=data["area"], title=data["title"], description=data["description"],
                category=data["category"], address=data["address"], contact_name=data["contact_name"],
                contact_phone=data["contact_phone"], images=data["photos"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                target = {"images": "photos"}.get(field, field)
                target = target if target in form.fields else None
                for message in messages:
                    form.add_error(target, message)
        else:
            request.session["portal_receipt"] = created.number
            return redirect("portal:receipt")
    return _page(request, "portal/submit.html", {**context, "form": form, "consent": consent}, status=422)


@require_POST
def suggest(request):
    """Category suggestions for the text typed so far (htmx); nothing when too short."""
    try:
        services.limit("portal.suggest.ip", client_ip(request), _("操作过于频繁，请 %(minutes)d 分钟后再试。"))
    except RateLimited as exc:
        return _too_many(request, exc)
    text = f"{request.POST.get('title', '')} {request.POST.get('description', '')}".strip()[:2000]
    suggestions = []
    if len(text) >= 4:
        from zhouxin.dispatch import classify

        suggestions = classify.suggest(text, top=3)
    return render(request, "portal/_suggestions.html", {"suggestions": suggestions})


@require_GET
def grids(request):
    """The grid options of the chosen community (htmx swaps them into the grid picker)."""
    return render(request, "portal/_grid_options.html",
                  {"choices": f.grid_choices(f.public_grids(request.GET.get("area", "")[:12]))})


@require_GET
def receipt(request):
    number = request.session.get("portal_receipt")
    if not number:
        return redirect("portal:submit")
    return _page(request, "portal/receipt.html", {"number": number, "account": current_account(request)})


# --- Tracking by number and code -------------------------------------------------------

@require_http_methods(["GET", "POST"])
def track(request):
    form = f.TrackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        number, phone = form.cleaned_data["number"].strip(), form.cleaned_data["phone"]
        try:
            services.limit_code_send(ip=client_ip(request), phone=phone, number=number)
        except RateLimited as exc:
            return _too_many(request, exc)
        found = services.find_request(number, phone)
        if found is not None:
            services.code_send(request=found)
        # The same answer whether or not the number and phone match: nothing to probe.
        request.session["portal_pending"] = number
        # Kept on the server (database sessions): only a lookup that matched may try codes,
        # so a stranger who knows a number cannot guess at the requester's code.
        request.session["portal_pending_match"] = found is not None
        return redirect("portal:verify")
    return _page(request, "portal/track.html", {"form": form}, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def verify(request):
    number = request.session.get("portal_pending")
    if not number:
        return redirect("portal:track")
    form = f.CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            services.limit_code_check(ip=client_ip(request), key=f"number:{number}")
        except RateLimited as exc:
            return _too_many(request, exc)
        if form.is_valid():
            matched = request.session.get("portal_pending_match")
            target = ServiceRequest.objects.unscoped().filter(number=number).first() if matched else None
            try:
                # A number that did not match its phone got no code: the same answer as a wrong code.
                services.code_check(request=target, code=form.cleaned_data["code"])
            except services.CodeError as exc:
                form.add_error("code", exc.messages[0])
            else:
                verified = dict(request.session.get(VERIFIED_KEY, {}))
                verified[number] = time.time() + TRACK_SESSION_SECONDS
                request.session[VERIFIED_KEY] = verified
                request.session.pop("portal_pending", None)
                request.session.pop("portal_pending_match", None)
                request.session.cycle_key()
                return redirect("portal:status", number=number)
        return _page(request, "portal/verify.html", {"form": form, "number": number}, status=422)
    return _page(request, "portal/verify.html", {"form": form, "number": number})


def _verified(request, number: str) -> ServiceRequest | None:
    """The request, if this session proved its code lately or the signed-in account owns it."""
    until = request.session.get(VERIFIED_KEY, {}).get(number)
    if until and until >= time.time():
        return ServiceRequest.objects.unscoped().filter(number=number).first()
    return services.account_request(current_account(request), number)


def _timeline(target: ServiceRequest) -> list[dict]:
    events = RequestEvent.objects.filter(request=target).order_by("at", "pk")
    steps = []
    for event in events:
        label = services.RESIDENT_STEPS.get(event.action)
        if label:
            steps.append({"at": event.at, "label": label})
    return steps


@never_cache
@require_GET
def status(request, number: str):
    target = _verified(request, number)
    if target is None:
        return HttpResponseRedirect(reverse("portal:track"))
    return _status_page(request, target, f.RateForm())


def _status_page(request, target, form, code=200):
    account = current_account(request)
    return _page(request, "portal/status.html", {
        "r": target, "steps": _timeline(target), "form": form, "can_rate": services.can_rate(target),
        "account": account,
        "can_correct": account is not None and services.can_correct(target)
        and services.account_request(account, target.number) is not None,
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


# --- Resident account: sign-in by phone and code ----------------------------------------

NEXT_KEY = "portal_next"


def _next_path(value) -> str:
    """A portal page to come back to after sign-in (?next=, e.g. a project page to rate); any
    other address — another host, a staff page — is dropped."""
    value = str(value or "")
    if value.startswith("/portal/") and "\\" not in value and url_has_allowed_host_and_scheme(value, None):
        return value
    return ""


@require_http_methods(["GET", "POST"])
def signin(request):
    wanted = _next_path(request.GET.get("next"))
    if wanted:
        request.session[NEXT_KEY] = wanted
    if current_account(request) is not None:
        return redirect(wanted or "portal:me")
    notice = services.account_consent()
    form = f.SignInForm(request.POST if request.method == "POST" else None, consent_version=notice["version"])
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        try:
            services.limit_code_send(ip=client_ip(request), phone=phone)
        except RateLimited as exc:
            return _too_many(request, exc)
        services.signin_code_send(phone=phone)
        request.session[SIGNIN_KEY] = {"phone": encrypt(phone), "version": form.cleaned_data["consent_version"],
                                       "at": time.time()}
        return redirect("portal:signin_code")
    return _page(request, "portal/signin.html", {"form": form, "notice": notice},
                  status=422 if form.errors else 200)


def _pending_phone(request) -> tuple[str, str] | None:
    pending = request.session.get(SIGNIN_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > 15 * 60:
        return None
    try:
        return decrypt(pending["phone"]), str(pending.get("version", ""))
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


@require_http_methods(["GET", "POST"])
def signin_code(request):
    pending = _pending_phone(request)
    if pending is None:
        return redirect("portal:signin")
    phone, version = pending
    form = f.CodeForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "phone": mask_phone(phone)}
    if request.method == "POST":
        try:
            services.limit_code_check(ip=client_ip(request), key=f"phone:{services.phone_index(phone)}")
        except RateLimited as exc:
            return _too_many(request, exc)
        if form.is_valid():
            try:
                account = services.signin(phone=phone, code=form.cleaned_data["code"], consent_version=version)
            except services.CodeError as exc:
                form.add_error("code", exc.messages[0])
            else:
                sign_in(request, account)
                return redirect(_next_path(request.session.pop(NEXT_KEY, "")) or "portal:me")
        return _page(request, "portal/signin_code.html", context, status=422)
    return _page(request, "portal/signin_code.html", context)


@require_POST
def signout(request):
    sign_out(request)
    return redirect("portal:home")


# --- 我的诉求 and the resident's own data -------------------------------------------------

@never_cache
@require_GET
@resident_required
def me(request, account):
    requests = list(services.account_requests(account).only(
        "number", "title", "status", "received_at", "callback_at", "anonymised_at"))
    return _page(request, "portal/me.html", {"account": account, "requests": requests})


@never_cache
@require_GET
@resident_required
def me_data(request, account):
    return _page(request, "portal/me_data.html", {"account": account, "notice": services.account_consent()})


@never_cache
@require_GET
@resident_required
def me_export(request, account):
    data = services.account_export(account=account)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="zhouxin-my-data-{stamp}.json"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@resident_required
def me_correct(request, account, number: str):
    target = services.account_request(account, number)
    if target is None:
        return _not_found(request)
    if not services.can_correct(target):
        return _page(request, "portal/me_correct.html", {"account": account, "r": target, "form": None,
                                                          "closed": True}, status=422 if request.method == "POST"
                      else 200)
    form = f.ContactForm(request.POST if request.method == "POST" else None,
                         initial={"contact_name": target.contact_name, "contact_phone": target.contact_phone})
    if request.method == "POST" and form.is_valid():
        try:
            services.account_correct_contact(account=account, request=target,
                                              contact_name=form.cleaned_data["contact_name"],
                                              contact_phone=form.cleaned_data["contact_phone"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                for message in exc.messages:
                    form.add_error(None, message)
        else:
            return redirect("portal:status", number=target.number)
    return _page(request, "portal/me_correct.html", {"account": account, "r": target, "form": form},
                  status=422 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@resident_required
def me_delete(request, account):
    form = f.DeleteForm(request.POST if request.method == "POST" else None)
    count = services.account_requests(account).count()
    if request.method == "POST" and form.is_valid():
        anonymised = services.account_delete(account=account)
        sign_out(request)
        return _page(request, "portal/deleted.html", {"anonymised": anonymised})
    return _page(request, "portal/me_delete.html", {"account": account, "form": form, "count": count},
                  status=422 if form.errors else 200)


# --- Public community pages ------------------------------------------------------------

def _active(level: str, code: str) -> Area | None:
    if not str(code).isdigit() or len(code) > 15:
        return None
    return Area.objects.unscoped().filter(code=code, level=level, is_active=True).select_related("parent").first()


@require_GET
def communities(request):
    """Streets by district, each linking to its communities."""
    streets = list(Area.objects.unscoped().filter(level=AreaLevel.STREET, is_active=True)
                   .select_related("parent").order_by("code"))
    districts: dict[str, dict] = {}
    for street in streets:
        district = districts.setdefault(street.code[:6], {"name": street.parent.name if street.parent else "",
                                                          "streets": []})
        district["streets"].append(street)
    return _page(request, "portal/communities.html", {"districts": list(districts.values())})


@require_GET
def street(request, code: str):
    area = _active(AreaLevel.STREET, code)
    if area is None:
        return _not_found(request)
    members = list(Area.objects.unscoped().filter(level=AreaLevel.COMMUNITY, is_active=True,
                                                  code__startswith=area.code).order_by("code"))
    return _page(request, "portal/street.html", {"street": area, "communities": members})


@require_GET
def community(request, code: str):
    area = _active(AreaLevel.COMMUNITY, code)
    if area is None:
        return _not_found(request)
    # The community's office: its Party committee (社区党委), with the office's own address and
    # phone as recorded for the organisation — public contact details, not a person's.
    office = (Organisation.objects.unscoped()
              .filter(area=area, is_active=True, kind__in=[OrgKind.PARTY_COMMITTEE, OrgKind.GENERAL_BRANCH])
              .order_by("kind", "name").first())
    return _page(request, "portal/community.html", {
        "community": area, "street": area.parent, "office": office,
        "sections": public_sections.render_for(area, request=request),
    })
