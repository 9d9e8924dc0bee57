"""Portal services: submission by a resident, one-time tracking codes, the resident's own
rating, and the optional resident account (sign-in by phone and code, 我的诉求, and the
PIPL self-service: export, correction, deletion).

Every write of the dispatch domain goes through its services, as the system (actor=None
inside scopes_disabled()): a portal visitor has no staff account and no scope, and what
they may do is decided here (a valid code for that request, or a signed-in account whose
phone is the request's contact phone), not by grants.  Audit records of the portal name
the account as their object, never its phone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import struct

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit, ratelimit
from zhouxin.core import policy as policy_store
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import attachments, imagemeta
from zhouxin.dispatch import services as dispatch
from zhouxin.dispatch.choices import Channel, EventAction, Status
from zhouxin.dispatch.models import Attachment, RequestEvent, ServiceRequest
from zhouxin.orgs.validators import normalise_phone

from . import personal_data
from .models import AccountRequest, ResidentAccount, SignInCode, TrackingCode

CODE_VALIDITY = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CONSENT_POLICY = "portal.consent"
ACCOUNT_POLICY = "portal.account"


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
    EventAction.CONTACT_CORRECTED: gettext_lazy("联系方式已更正"),
}


class CodeError(ValidationError):
    """A code that cannot be accepted; the message says why, in Chinese."""


# ---------------------------------------------------------------------------
# Rate limits (zhouxin.core.ratelimit): (hits, window in seconds) per bucket
# ---------------------------------------------------------------------------

LIMITS: dict[str, tuple[int, int]] = {
    # Submissions: per network, and per contact phone / account whatever the network.
    "portal.submit.ip": (5, 600),
    "portal.submit.phone": (10, 3600),
    "portal.submit.account": (10, 3600),
    # Text messages (tracking and sign-in codes): per network, per phone, per request number.
    "portal.sms.ip": (10, 600),
    "portal.sms.phone": (3, 600),
    "portal.sms.number": (3, 600),
    # Code checks (tracking and sign-in): per network, and per request number or phone.
    "portal.verify.ip": (30, 600),
    "portal.verify.key": (10, 600),
    # Category suggestions while typing (CPU work for anonymous visitors).
    "portal.suggest.ip": (120, 600),
}


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def limit(bucket: str, key: str, message: str) -> None:
    """Count one hit of `key` in `bucket`; raise ratelimit.RateLimited with `message` (which
    may use %(minutes)d, the wait) when it is over the bucket's limit."""
    hits, window = LIMITS[bucket]
    try:
        ratelimit.enforce(bucket, key, limit=hits, window_seconds=window)
    except ratelimit.RateLimited as exc:
        text = message % {"minutes": _minutes(exc.retry_after)} if "%(minutes)" in message else message
        raise ratelimit.RateLimited(text, exc.retry_after) from None


def limit_submission(*, ip: str) -> None:
    """Counted for every submission attempt from the network, valid or not."""
    limit("portal.submit.ip", ip, _("提交过于频繁：同一网络 10 分钟内最多提交 5 件诉求，请稍后再试。"))


def limit_submitter(*, phone: str, account: ResidentAccount | None) -> None:
    """Counted for a valid submission: per contact phone, and per account when signed in."""
    limit("portal.submit.phone", phone_index(phone),
          _("提交过于频繁：同一手机号 1 小时内最多提交 10 件诉求，请 %(minutes)d 分钟后再试。"))
    if account is not None:
        limit("portal.submit.account", str(account.pk),
              _("提交过于频繁：同一账号 1 小时内最多提交 10 件诉求，请 %(minutes)d 分钟后再试。"))


def limit_code_send(*, ip: str, phone: str, number: str = "") -> None:
    """A text message to `phone` (a tracking code for `number`, or a sign-in code)."""
    message = _("获取验证码过于频繁，请 %(minutes)d 分钟后再试。")
    limit("portal.sms.ip", ip, message)
    if number:
        limit("portal.sms.number", number, message)
    limit("portal.sms.phone", blind_index("phone", phone), message)


def limit_code_check(*, ip: str, key: str) -> None:
    message = _("尝试过于频繁，请 %(minutes)d 分钟后再试。")
    limit("portal.verify.ip", ip, message)
    limit("portal.verify.key", key, message)


# ---------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------

def consent() -> dict:
    return policy_store.get(CONSENT_POLICY)


def account_consent() -> dict:
    return policy_store.get(ACCOUNT_POLICY)


def _without_metadata(images) -> list:
    """Each upload as (name, bytes), with EXIF/XMP removed from the images that are what
    they claim; anything else is passed on unchanged for the intake to refuse with its
    message (it checks the content again)."""
    prepared = []
    for item in images or ():
        if not hasattr(item, "read"):
            prepared.append(item)
            continue
        name = str(getattr(item, "name", "") or "")
        if getattr(item, "size", 0) and item.size > attachments.MAX_BYTES:
            prepared.append(item)
            continue
        item.seek(0)
        data = item.read(attachments.MAX_BYTES + 1)
        try:
            kind = attachments.sniff(data)[0]
        except (attachments.ImageError, struct.error, IndexError):  # not an image: the intake says so
            prepared.append((name, data))
            continue
        prepared.append((name, imagemeta.strip(data, kind) or data))
    return prepared


def submit(*, idempotency_key: str, consent_version: str, account: ResidentAccount | None = None,
           **fields) -> ServiceRequest:
    """A resident's request from the portal: the dispatch intake with channel "portal", as
    the system, plus an audit record of the consent version accepted.  The key is namespaced
    to the portal; a retry with the same key returns the first request.  Photos lose their
    metadata (EXIF GPS and the like) before intake.  A request submitted while signed in is
    tied to the account."""
    key = f"portal:{idempotency_key}"
    digest = dispatch.idempotency_digest(None, key)
    fields["images"] = _without_metadata(fields.get("images"))
    with scopes_disabled(), transaction.atomic():
        existed = ServiceRequest.objects.unscoped().filter(idempotency_key=digest).exists()
        request = dispatch.request_intake(actor=None, channel=Channel.PORTAL, idempotency_key=key, **fields)
        if not existed:
            audit.record(actor=None, action="portal.consent.accepted", obj=request,
                         after={"policy": CONSENT_POLICY, "version": consent_version,
                                "purpose": "personal_data_processing"})
            if account is not None:
                _link(account, request)
    return request


def _link(account: ResidentAccount, request: ServiceRequest) -> None:
    if not AccountRequest.objects.filter(account=account, request=request).exists():
        AccountRequest.objects.create(account=account, request=request, linked_at=timezone.now())


# ---------------------------------------------------------------------------
# One-time codes (tracking and sign-in)
# ---------------------------------------------------------------------------

def _digest(code_id_salt: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{code_id_salt}\x1f{code}".encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _text_after_commit(phone: str, text: str) -> None:
    from . import sms

    transaction.on_commit(lambda: sms.send(phone, text))


def _check_code(model, current, salt: str, code: str, *, on_success) -> str:
    """The common rule of both kinds of code: "" when `code` is right (the code is used up and
    `on_success()` runs), else the reason.  A wrong code counts as an attempt."""
    if current is None:
        return _("验证码已失效，请重新获取。")
    now = timezone.now()
    if current.expires_at <= now:
        return _("验证码已过期（有效期 10 分钟），请重新获取。")
    if current.attempts >= CODE_ATTEMPTS:
        return _("验证码输错次数过多，请重新获取。")
    if len(code) == 6 and code.isdigit() and hmac.compare_digest(_digest(salt, code), current.code_hash):
        if model.objects.filter(pk=current.pk, used_at__isnull=True).update(used_at=now) != 1:
            return _("验证码已失效，请重新获取。")
        on_success()
        return ""
    attempts = current.attempts + 1
    model.objects.filter(pk=current.pk).update(attempts=attempts)
    if attempts >= CODE_ATTEMPTS:
        return _("验证码输错次数过多，请重新获取。")
    return _("验证码不正确，还可以再试 %(n)d 次。") % {"n": CODE_ATTEMPTS - attempts}


def find_request(number: str, phone: str) -> ServiceRequest | None:
    """The request with this number whose contact phone is `phone`, else None."""
    number = str(number or "").strip()
    phone = normalise_phone(str(phone or "").strip())
    if not number or not phone or len(number) > 20:
        return None
    return (ServiceRequest.objects.unscoped()
            .filter(number=number, contact_phone_index=blind_index("phone", phone)).first())


@transaction.atomic
def code_send(*, request: ServiceRequest) -> None:
    """Issue a new 6-digit code for `request` (earlier ones stop working) and text it to the
    request's contact phone."""
    now = timezone.now()
    TrackingCode.objects.filter(request=request, used_at__isnull=True).update(used_at=now)
    code = _new_code()
    salt = f"{request.pk}:{now.isoformat()}"
    TrackingCode.objects.create(request=request, code_hash=_digest(salt, code), created_at=now,
                                expires_at=now + CODE_VALIDITY)
    audit.record(actor=None, action="portal.code.sent", obj=request, after={"valid_minutes": 10})
    text = _("【轴心】您查询诉求 %(number)s 的验证码是 %(code)s，10 分钟内有效。如非本人操作，请忽略。") % {
        "number": request.number, "code": code}
    _text_after_commit(request.contact_phone, text)


def code_check(*, request: ServiceRequest | None, code: str) -> None:
    """Accept `code` for `request` or raise CodeError (wrong, expired, too many attempts).
    A correct code is used up; a wrong one counts as an attempt (committed before the error)."""
    if request is None:
        raise CodeError(_("验证码不正确，请核对短信后重新输入。"))
    problem = _check_tracking(request, str(code or "").strip())
    if problem:
        raise CodeError(problem)


@transaction.atomic
def _check_tracking(request: ServiceRequest, code: str) -> str:
    current = (TrackingCode.objects.select_for_update().filter(request=request, used_at__isnull=True)
               .order_by("-created_at").first())
    salt = f"{request.pk}:{current.created_at.isoformat()}" if current else ""
    return _check_code(TrackingCode, current, salt, code, on_success=lambda: audit.record(
        actor=None, action="portal.code.accepted", obj=request))


# ---------------------------------------------------------------------------
# The resident's rating → the callback
# ---------------------------------------------------------------------------

def can_rate(request: ServiceRequest) -> bool:
    return request.status == Status.REPLIED and request.callback_at is None


def rate(*, request: ServiceRequest, resolution: str, satisfaction: str) -> ServiceRequest:
    """The requester's own answer counts as the callback (回访): satisfied closes the request;
    unsatisfied or not resolved leaves it for the street supervisor, exactly as the staff
    callback does.  The system acts (actor=None inside scopes_disabled())."""
    with scopes_disabled(), transaction.atomic():
        rated = dispatch.request_callback(actor=None, request=request, resolution=resolution,
                                          satisfaction=satisfaction, note=_("居民通过居民网站评价"))
        audit.record(actor=None, action="portal.rating.submitted", obj=request,
                     after={"resolution": resolution, "satisfaction": satisfaction})
    return rated


# ---------------------------------------------------------------------------
# Resident accounts: sign-in by phone and code
# ---------------------------------------------------------------------------

def phone_index(phone: str) -> str:
    return blind_index("phone", normalise_phone(str(phone or "").strip()))


@transaction.atomic
def signin_code_send(*, phone: str) -> None:
    """Text a sign-in code to `phone` (earlier ones stop working).  Sent whether or not an
    account exists: the account is opened when the code is proven."""
    phone = normalise_phone(str(phone or "").strip())
    index = blind_index("phone", phone)
    now = timezone.now()
    SignInCode.objects.filter(phone_index=index, used_at__isnull=True).update(used_at=now)
    code = _new_code()
    SignInCode.objects.create(phone_index=index, code_hash=_digest(f"signin:{index}:{now.isoformat()}", code),
                              created_at=now, expires_at=now + CODE_VALIDITY)
    audit.record(actor=None, action="portal.signin.code_sent", object_type="portal.signincode",
                 object_id=index[:16], after={"valid_minutes": 10})
    _text_after_commit(phone, _("【轴心】您登录居民服务的验证码是 %(code)s，10 分钟内有效。如非本人操作，请忽略。")
                       % {"code": code})


def signin(*, phone: str, code: str, consent_version: str) -> ResidentAccount:
    """Prove `code` for `phone` and return its account, opened now (with the account notice
    version accepted) if it is the first sign-in.  CodeError when the code is not right;
    a wrong code counts as an attempt (committed before the error)."""
    phone = normalise_phone(str(phone or "").strip())
    index = blind_index("phone", phone)
    result: dict = {}
    problem = _check_signin(index, phone, str(code or "").strip(), consent_version, result)
    if problem:
        raise CodeError(problem)
    return result["account"]


@transaction.atomic
def _check_signin(index: str, phone: str, code: str, consent_version: str, result: dict) -> str:
    current = (SignInCode.objects.select_for_update().filter(phone_index=index, used_at__isnull=True)
               .order_by("-created_at").first())
    salt = f"signin:{index}:{current.created_at.isoformat()}" if current else ""

    def open_or_sign_in():
        result["account"] = _account_for(phone, index, consent_version)

    return _check_code(SignInCode, current, salt, code, on_success=open_or_sign_in)


def _account_for(phone: str, index: str, consent_version: str) -> ResidentAccount:
    now = timezone.now()
    account = ResidentAccount.objects.filter(phone_index=index).first()
    if account is None:
        try:
            with transaction.atomic():
                account = ResidentAccount.objects.create(phone=phone, phone_index=index,
                                                         consent_version=consent_version, created_at=now,
                                                         last_signed_in_at=now)
        except IntegrityError:  # opened by a parallel sign-in a moment ago
            account = ResidentAccount.objects.get(phone_index=index)
        else:
            audit.record(actor=None, action="portal.account.opened", obj=account,
                         after={"policy": ACCOUNT_POLICY, "version": consent_version})
            return account
    changes = {"last_signed_in_at": now}
    if account.consent_version != consent_version:
        audit.record(actor=None, action="portal.account.consent", obj=account,
                     before={"version": account.consent_version},
                     after={"policy": ACCOUNT_POLICY, "version": consent_version})
        changes["consent_version"] = consent_version
    ResidentAccount.objects.filter(pk=account.pk).update(**changes)
    for name, value in changes.items():
        setattr(account, name, value)
    audit.record(actor=None, action="portal.account.signed_in", obj=account)
    return account


# ---------------------------------------------------------------------------
# 我的诉求: what an account may see
# ---------------------------------------------------------------------------

def account_requests(account: ResidentAccount):
    """The account's requests: every request whose contact phone is the account's phone
    (blind index, any channel), and those tied to it.  Read unscoped: the account is the
    access decision (a resident has no grants)."""
    linked = AccountRequest.objects.filter(account=account).values("request_id")
    return (ServiceRequest.objects.unscoped()
            .filter(Q(contact_phone_index=account.phone_index) | Q(pk__in=linked))
            .order_by("-received_at", "-id"))


def account_request(account: ResidentAccount | None, number: str) -> ServiceRequest | None:
    """The account's request with this number, else None (another resident's or unknown)."""
    if account is None or not number or len(str(number)) > 20:
        return None
    return account_requests(account).filter(number=str(number)).first()


def can_correct(request: ServiceRequest) -> bool:
    return request.status in dispatch.CONTACT_CORRECTABLE and request.anonymised_at is None


# ---------------------------------------------------------------------------
# PIPL self-service: export, correction, deletion
# ---------------------------------------------------------------------------

EXPORT_FORMAT = "zhouxin.portal.export/1"


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def account_export(*, account: ResidentAccount) -> dict:
    """Everything the platform holds about the resident as a requester (PIPL art. 45): the
    account, each of their requests with the contact details they gave, its progress in
    the resident's words, the reply, their ratings and the consents they gave.  Nothing of
    other people (no staff names, no handlers' internal notes).  Recorded in the audit log."""
    requests = list(account_requests(account).select_related("area", "category"))
    ids = [r.pk for r in requests]
    events: dict[int, list] = {pk: [] for pk in ids}
    for event in RequestEvent.objects.filter(request_id__in=ids).order_by("at", "pk"):
        label = RESIDENT_STEPS.get(event.action)
        if label:
            events[event.request_id].append({"at": _iso(event.at), "step": str(label)})
    photos: dict[int, list] = {pk: [] for pk in ids}
    for a in Attachment.objects.filter(request_id__in=ids).order_by("pk"):
        photos[a.request_id].append({"name": a.original_name, "type": a.content_type, "size": a.size,
                                     "sha256": a.sha256})
    object_ids = [str(pk) for pk in ids]
    entries = (AuditEntry.objects.filter(object_type="dispatch.servicerequest", object_id__in=object_ids,
                                         action__in=["portal.consent.accepted", "portal.rating.submitted"])
               .order_by("at", "pk"))
    consents = [{"at": _iso(e.at), "policy": (e.after or {}).get("policy"), "version": (e.after or {}).get("version"),
                 "request": next((r.number for r in requests if str(r.pk) == e.object_id), None)}
                for e in entries if e.action == "portal.consent.accepted"]
    ratings = [{"at": _iso(e.at), "resolution": (e.after or {}).get("resolution"),
                "satisfaction": (e.after or {}).get("satisfaction"),
                "request": next((r.number for r in requests if str(r.pk) == e.object_id), None)}
               for e in entries if e.action == "portal.rating.submitted"]
    for e in AuditEntry.objects.filter(object_type="portal.residentaccount", object_id=str(account.pk),
                                       action__in=["portal.account.opened", "portal.account.consent"]
                                       ).order_by("at", "pk"):
        consents.append({"at": _iso(e.at), "policy": (e.after or {}).get("policy"),
                         "version": (e.after or {}).get("version"), "request": None})
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(timezone.now()),
        "account": {"phone": account.phone, "opened_at": _iso(account.created_at),
                    "last_signed_in_at": _iso(account.last_signed_in_at),
                    "notice_version": account.consent_version},
        "requests": [{
            "number": r.number, "kind": r.kind, "channel": r.channel, "status": r.status,
            "title": r.title, "description": r.description,
            "category": r.category.name if r.category_id else None,
            "area": r.area.name, "address": r.address,
            "contact_name": r.contact_name, "contact_phone": r.contact_phone,
            "received_at": _iso(r.received_at), "replied_at": _iso(r.replied_at), "reply": r.reply,
            "callback": ({"at": _iso(r.callback_at), "resolution": r.resolution, "satisfaction": r.satisfaction}
                         if r.callback_at else None),
            "closed_at": _iso(r.closed_at), "photos": photos[r.pk], "progress": events[r.pk],
        } for r in requests],
        "ratings": ratings,
        "consents": consents,
    }
    for holder in personal_data.holders():  # volunteering, …: what other domains hold about the account
        data[holder.name] = holder.export(account)
    with transaction.atomic():
        audit.record(actor=None, action="portal.account.exported", obj=account, after={"requests": len(requests)})
    return data


@transaction.atomic
def account_correct_contact(*, account: ResidentAccount, request: ServiceRequest, contact_name: str,
                            contact_phone: str) -> bool:
    """Correct the contact of one of the account's open requests (dispatch service, audited).
    The request stays tied to the account even when the new phone is another one; codes
    already sent to the old phone stop working."""
    if account_request(account, request.number) is None:
        raise ValidationError(_("没有找到该诉求。"))
    with scopes_disabled():
        changed = dispatch.request_contact_correct(actor=None, request=request, contact_name=contact_name,
                                                   contact_phone=contact_phone,
                                                   on_behalf_of=f"portal.residentaccount:{account.pk}")
    if changed:
        _link(account, request)
        TrackingCode.objects.filter(request=request, used_at__isnull=True).update(used_at=timezone.now())
    return changed


@transaction.atomic
def account_delete(*, account: ResidentAccount) -> int:
    """Delete the resident's personal data (PIPL art. 47): every request of the account is
    anonymised by dispatch (contact, address, photo metadata; the request is kept with its
    legal basis noted), its codes are spent, and the account is removed.  Returns the number
    of requests anonymised."""
    requests = list(account_requests(account))
    anonymised = 0
    by = f"portal.residentaccount:{account.pk}"
    with scopes_disabled():
        for request in requests:
            if dispatch.request_anonymise(actor=None, request=request, on_behalf_of=by):
                anonymised += 1
    TrackingCode.objects.filter(request__in=requests).delete()
    SignInCode.objects.filter(phone_index=account.phone_index).delete()
    with scopes_disabled():
        for holder in personal_data.holders():
            holder.erase(account)
    audit.record(actor=None, action="portal.account.deleted", obj=account,
                 after={"requests_anonymised": anonymised, "legal_basis": "PIPL art. 47; art. 13(1)(3)"})
    account.delete()
    return anonymised
