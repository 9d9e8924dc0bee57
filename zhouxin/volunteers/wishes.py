"""Micro-wishes (微心愿) and the three-order chain (DESIGN §3 volunteers; issue 7):
居民点单 → 社区下单 → 党员接单 → the community confirms completion → the resident thanks and rates.

Rules and where they come from:
* a signed-in resident (portal account, proven by a code to their phone) orders a wish for a
  community (居民点单); its value is above zero and at most the value cap of the policy
  "volunteers.wishes" in force that day for the community's city (*default* ¥200);
* the text is screened like every public text (moderation.screen): a held text is kept, the
  wish waits in the moderation queue of the area's reviewers and cannot be posted until it is
  released; rejected there, the wish is rejected;
* community staff ("volunteers.manage" on the community) post it (社区下单), editing the wording
  to remove personal details (the cap applies again), or reject it with a reason; they may
  also enter a wish collected on paper, posted at once with nobody as the orderer;
* anyone signed in on the portal takes a posted wish (党员接单); when the account's phone is a
  Party member's (identity.member_for_account) the member is recorded; a unit liaison takes it
  for the unit on the staff site.  The claim is a conditional UPDATE on status "posted": of two
  takers at once exactly one wins.  The taker may give it back until it is completed;
* staff confirm completion; a member taker earns the points of rule "per_wish" once;
* the ordering resident (only theirs, only when completed) gives 1–5 stars and a thanks
  message, screened: a held message stays hidden until a moderator releases it;
* the ordering resident gets a text when the wish is posted, taken, completed (or rejected),
  only on their own phone and never with anybody else's name or phone.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit, personal_numbers, policy
from zhouxin.core.permissions import can, ensure_can
from zhouxin.core.scoping import scope_for_user
from zhouxin.moderation import registry as moderation_registry
from zhouxin.moderation import services as moderation
from zhouxin.moderation.screen import screen
from zhouxin.moderation.sources import HeldItemSource

from . import points
from .choices import PointSource, RegistrationStatus, WishStatus
from .identity import city_of, member_for_account
from .models import UnitRegistration, Wish
from .policy import WISHES_KEY

HOLD_KIND = "volunteers.wish"
THANKS_HOLD_KIND = "volunteers.wish_thanks"
TITLE_MAX = 80
DESCRIPTION_MAX = 1000
BENEFICIARY_MAX = 60
REASON_MIN, REASON_MAX = 2, 300
NOTE_MAX = 300
THANKS_MAX = 300
VALUE_MAX = Decimal("999999.99")
NUMBER_SERIES = "WX"

# What the public wall and a wish's public page may show: posted and later, never ordered,
# rejected or withdrawn wishes (those are the orderer's and staff's only).
PUBLIC_STATUSES = (WishStatus.POSTED, WishStatus.TAKEN, WishStatus.COMPLETED, WishStatus.THANKED)
OPEN_STATUSES = (WishStatus.ORDERED, WishStatus.POSTED, WishStatus.TAKEN)


def hold_key(wish: Wish) -> str:
    return f"{HOLD_KIND}:{wish.pk}"


def thanks_hold_key(wish: Wish) -> str:
    return f"{THANKS_HOLD_KIND}:{wish.pk}"


def is_held(wish: Wish) -> bool:
    """Does the wish's own text wait in the moderation queue?"""
    return moderation.is_held(hold_key(wish))


def public_wishes():
    """Wishes anyone may see on the portal (public data: no orderer is ever shown)."""
    return Wish.objects.unscoped().filter(status__in=PUBLIC_STATUSES)


def value_cap(community, on=None) -> Decimal:
    """The value cap (元) of the policy in force on `on` (default today) for the community's city."""
    value = policy.get(WISHES_KEY, city=city_of(community), on=on or timezone.localdate())
    return Decimal(str(value["value_cap"]))


def _wish_text(title: str, description: str, beneficiary: str) -> str:
    return "\n".join(part for part in (title, beneficiary, description) if part)


def _snapshot(wish: Wish) -> dict:
    return {"number": wish.number, "community": wish.community_id, "status": wish.status, "title": wish.title,
            "beneficiary": wish.beneficiary, "description_chars": len(wish.description), "value": wish.value,
            "taken_by_account": wish.taken_by_account_id, "taken_by_person": wish.taken_by_person_id,
            "taken_by_unit": wish.taken_by_unit_id}


def _clean_fields(*, community, title, description, beneficiary, value, on=None) -> dict:
    """The wish's texts and value cleaned, or ValidationError with a Chinese message per field."""
    from zhouxin.orgs.choices import AreaLevel
    from zhouxin.orgs.models import Area

    errors: dict[str, list[str]] = {}
    title = " ".join(str(title or "").split())
    beneficiary = " ".join(str(beneficiary or "").split())
    description = str(description or "").strip()
    if not isinstance(community, Area) or community.level != AreaLevel.COMMUNITY or not community.is_active:
        errors.setdefault("community", []).append(_("请选择心愿所在的社区。"))
    if not title:
        errors.setdefault("title", []).append(_("请填写心愿内容。"))
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(_("心愿不能超过 %(n)d 个字。") % {"n": TITLE_MAX})
    if not beneficiary:
        errors.setdefault("beneficiary", []).append(_("请填写心愿人（如“独居老人”，不要写姓名）。"))
    elif len(beneficiary) > BENEFICIARY_MAX:
        errors.setdefault("beneficiary", []).append(_("心愿人不能超过 %(n)d 个字。") % {"n": BENEFICIARY_MAX})
    if len(description) > DESCRIPTION_MAX:
        errors.setdefault("description", []).append(_("心愿说明不能超过 %(n)d 个字。") % {"n": DESCRIPTION_MAX})
    amount = None
    try:
        amount = Decimal(str(value if value is not None else "").strip())
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.setdefault("value", []).append(_("请填写心愿价值（元），如 80 或 99.5。"))
        amount = None
    if amount is not None:
        amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if amount <= 0:
            errors.setdefault("value", []).append(_("心愿价值必须大于 0。"))
        elif "community" not in errors:
            cap = value_cap(community, on)
            if amount > cap or amount > VALUE_MAX:
                errors.setdefault("value", []).append(
                    _("心愿价值不能超过 %(cap)s 元（本市微心愿价值上限）。") % {"cap": f"{cap.normalize():f}"})
    if errors:
        raise ValidationError(errors)
    return {"title": title, "beneficiary": beneficiary, "description": description, "value": amount}


def _number(now) -> str:
    """心愿编号: "WX" + local date + daily sequence (dispatch's shared atomic counter)."""
    from zhouxin.dispatch import numbering

    day = timezone.localtime(now).date()
    return f"{NUMBER_SERIES}{day:%Y%m%d}{numbering.next_value(NUMBER_SERIES, day):04d}"


def _text_orderer(wish: Wish, message: str) -> None:
    """A text to the ordering resident's own phone, after commit; nobody else's details in it."""
    account = wish.ordered_by
    phone = getattr(account, "phone", "") if account is not None else ""
    if not phone:
        return
    from zhouxin.portal import sms

    transaction.on_commit(lambda: sms.send(phone, message))


def _account_required(account):
    from zhouxin.portal.models import ResidentAccount

    if not isinstance(account, ResidentAccount) or account.pk is None:
        raise PermissionDenied(_("请先登录居民账号。"))


def _locked(wish: Wish) -> Wish:
    return (Wish.objects.unscoped().select_for_update(of=("self",)).select_related("community", "ordered_by")
            .get(pk=wish.pk))


# --- 居民点单 and staff entry ------------------------------------------------------------------

@transaction.atomic
def wish_order(*, account, community, title: str, description: str = "", beneficiary: str, value) -> Wish:
    """居民点单: a signed-in resident orders a wish; it waits for the community's review."""
    _account_required(account)
    data = _clean_fields(community=community, title=title, description=description, beneficiary=beneficiary,
                         value=value)
    verdict = screen(_wish_text(data["title"], data["description"], data["beneficiary"]))
    now = timezone.now()
    wish = Wish.objects.unscoped().create(number=_number(now), community=community, status=WishStatus.ORDERED,
                               ordered_by=account, ordered_at=now, **data)
    if verdict.hold:
        moderation.hold_item(actor=None, kind=HOLD_KIND, source_key=hold_key(wish), area=community,
                             text=_wish_text(wish.title, wish.description, wish.beneficiary),
                             reasons=verdict.reasons, matched=verdict.matched,
                             title=_("微心愿：%(title)s") % {"title": wish.title}, content_object=wish)
    audit.record(actor=None, action="volunteers.wish.ordered", obj=wish,
                 after={**_snapshot(wish), "ordered_by": account.pk, "held": verdict.hold})
    return wish


@transaction.atomic
def wish_create(*, actor, community, title: str, description: str = "", beneficiary: str, value) -> Wish:
    """Staff enter a wish collected on paper or at the door: posted at once, with no orderer."""
    ensure_can(actor, "volunteers.manage", getattr(community, "code", None) or "-")
    data = _clean_fields(community=community, title=title, description=description, beneficiary=beneficiary,
                         value=value)
    _refuse_held_text(data)
    now = timezone.now()
    wish = Wish.objects.unscoped().create(number=_number(now), community=community, status=WishStatus.POSTED,
                               ordered_at=now, posted_by=actor, posted_at=now, **data)
    audit.record(actor=actor, action="volunteers.wish.created", obj=wish, after=_snapshot(wish))
    return wish


def _refuse_held_text(data: dict) -> None:
    """Staff publish what they write at once, so their text must pass the screen."""
    verdict = screen(_wish_text(data["title"], data["description"], data["beneficiary"]))
    if verdict.hold:
        raise ValidationError({"title": [_("内容未通过自动检查（%(reason)s），请修改后再发布。")
                                         % {"reason": verdict.reason}]})


# --- 社区下单 / reject ---------------------------------------------------------------------------

@transaction.atomic
def wish_post(*, actor, wish: Wish, title: str | None = None, description: str | None = None,
              beneficiary: str | None = None, value=None) -> Wish:
    """社区下单: staff of the community post an ordered wish on the public wall, with the wording
    edited to leave out personal details (the value cap of the day applies)."""
    wish = _locked(wish)
    ensure_can(actor, "volunteers.manage", wish.community.code)
    if wish.status != WishStatus.ORDERED:
        raise ValidationError({"status": [_("只有待审核的心愿可以下单。")]})
    if is_held(wish):
        raise ValidationError({"status": [_("该心愿的内容正在内容审核中，审核放行后才能下单。")]})
    data = _clean_fields(
        community=wish.community, title=wish.title if title is None else title,
        description=wish.description if description is None else description,
        beneficiary=wish.beneficiary if beneficiary is None else beneficiary,
        value=wish.value if value is None else value)
    edited = {name for name in ("title", "description", "beneficiary") if data[name] != getattr(wish, name)}
    if edited:
        _refuse_held_text(data)
    before = _snapshot(wish)
    now = timezone.now()
    for name, new in data.items():
        setattr(wish, name, new)
    wish.status, wish.posted_by, wish.posted_at = WishStatus.POSTED, actor, now
    wish.save(update_fields=[*data.keys(), "status", "posted_by", "posted_at"])
    audit.record(actor=actor, action="volunteers.wish.posted", obj=wish, before=before,
                 after={**_snapshot(wish), "edited": sorted(edited)})
    _text_orderer(wish, _("【轴心】您的微心愿（%(number)s）已由社区发布，等待党员和爱心单位认领。")
                  % {"number": wish.number})
    return wish


def _reason(value, *, field: str = "reason") -> str:
    text = " ".join(str(value or "").split())
    if len(text) < REASON_MIN:
        raise ValidationError({field: [_("请填写原因（至少 %(n)d 个字）。") % {"n": REASON_MIN}]})
    if len(text) > REASON_MAX:
        raise ValidationError({field: [_("原因不能超过 %(n)d 个字。") % {"n": REASON_MAX}]})
    return text


@transaction.atomic
def wish_reject(*, actor, wish: Wish, reason: str) -> Wish:
    """Staff decline an ordered wish, with the reason the resident will read."""
    wish = _locked(wish)
    ensure_can(actor, "volunteers.manage", wish.community.code)
    reason = _reason(reason)
    if wish.status != WishStatus.ORDERED:
        raise ValidationError({"status": [_("只有待审核的心愿可以退回。")]})
    before = _snapshot(wish)
    wish.status, wish.decision_note = WishStatus.REJECTED, reason
    wish.save(update_fields=["status", "decision_note"])
    audit.record(actor=actor, action="volunteers.wish.rejected", obj=wish, before=before,
                 after={**_snapshot(wish), "reason": reason})
    _text_orderer(wish, _("【轴心】您的微心愿（%(number)s）未通过社区审核，原因请登录居民服务网站查看。")
                  % {"number": wish.number})
    return wish


@transaction.atomic
def wish_withdraw(*, account, wish: Wish) -> Wish:
    """The ordering resident withdraws their wish while nobody has taken it yet."""
    _account_required(account)
    wish = _locked(wish)
    if wish.ordered_by_id != account.pk:
        raise PermissionDenied(_("只能撤回自己的心愿。"))
    if wish.status not in (WishStatus.ORDERED, WishStatus.POSTED):
        raise ValidationError({"status": [_("心愿已被认领或已结束，不能撤回。")]})
    before = _snapshot(wish)
    wish.status = WishStatus.WITHDRAWN
    wish.save(update_fields=["status"])
    audit.record(actor=None, action="volunteers.wish.withdrawn", obj=wish, before=before, after=_snapshot(wish))
    return wish


# --- 党员接单 -------------------------------------------------------------------------------------

def _claim(wish: Wish, **taker) -> bool:
    """The atomic claim: of two takers at once exactly one moves the wish from posted to taken."""
    now = timezone.now()
    moved = Wish.objects.unscoped().filter(pk=wish.pk, status=WishStatus.POSTED).update(
        status=WishStatus.TAKEN, taken_at=now, **taker)
    return moved == 1


def _after_take(wish: Wish, actor, action: str) -> Wish:
    wish.refresh_from_db()
    audit.record(actor=actor, action=action, obj=wish, before={"status": WishStatus.POSTED}, after=_snapshot(wish))
    _text_orderer(wish, _("【轴心】您的微心愿（%(number)s）已有人认领，社区将跟进完成情况。")
                  % {"number": wish.number})
    return wish


@transaction.atomic
def wish_take(*, account, wish: Wish) -> Wish:
    """党员接单 on the portal: a signed-in account takes a posted wish; a Party member's account
    records the member (their points and their work unit's feedback follow)."""
    _account_required(account)
    current = Wish.objects.unscoped().filter(pk=wish.pk).values("status", "ordered_by_id").first()
    if current is None or current["status"] != WishStatus.POSTED:
        raise ValidationError({"status": [_("该心愿已被认领或已结束，请看看其他心愿。")]})
    if current["ordered_by_id"] == account.pk:
        raise ValidationError({"status": [_("不能认领自己点的心愿。")]})
    member = member_for_account(account)
    if not _claim(wish, taken_by_account=account, taken_by_person=member, taken_by_unit=None):
        raise ValidationError({"status": [_("该心愿刚刚被其他人认领，请看看其他心愿。")]})
    return _after_take(wish, None, "volunteers.wish.taken")


def liaison_units(actor):
    """The units the actor is liaison of (their active unit-liaison grants' organisations)."""
    from zhouxin.core.choices import Role
    from zhouxin.core.models import Grant
    from zhouxin.orgs.models import Organisation

    if actor is None or not getattr(actor, "is_authenticated", False) or not can(actor, "volunteers.unit"):
        return Organisation.objects.unscoped().none()
    ids = Grant.objects.filter(user=actor, active=True, role=Role.UNIT_LIAISON,
                               organisation__isnull=False).values("organisation_id")
    return Organisation.objects.unscoped().filter(pk__in=ids, is_active=True).select_related("area")


def unit_community_codes(units) -> set[str]:
    """Communities a unit serves: where it sits (its area, or the community its grid belongs to)
    and those it has a confirmed registration with (单位报到)."""
    units = list(units)
    codes = {unit.area.code[:12] for unit in units if unit.area_id and len(unit.area.code) >= 12}
    codes |= set(UnitRegistration.objects.unscoped().filter(unit__in=units, status=RegistrationStatus.CONFIRMED)
                 .values_list("community__code", flat=True))
    return codes


def takeable_for_liaison(actor):
    """Posted wishes a liaison may take for one of their units."""
    codes = unit_community_codes(liaison_units(actor))
    return Wish.objects.unscoped().filter(status=WishStatus.POSTED, community__code__in=sorted(codes))


@transaction.atomic
def wish_take_for_unit(*, actor, wish: Wish, unit) -> Wish:
    """A unit liaison takes a posted wish for their unit (the unit sits in or registered with the
    wish's community)."""
    ensure_can(actor, "volunteers.unit")
    units = liaison_units(actor)
    if unit is None or not units.filter(pk=unit.pk).exists() or unit.pk not in scope_for_user(actor).organisation_ids:
        raise PermissionDenied(_("您不是该单位的联络人。"))
    community_code = Wish.objects.unscoped().filter(pk=wish.pk).values_list("community__code", flat=True).first()
    if community_code is None or community_code not in unit_community_codes([unit]):
        raise ValidationError({"unit": [_("该单位不在这个社区，也没有向这个社区报到，不能认领。")]})
    if not _claim(wish, taken_by_unit=unit, taken_by_account=None, taken_by_person=None):
        raise ValidationError({"status": [_("该心愿已被认领或已结束，请看看其他心愿。")]})
    return _after_take(wish, actor, "volunteers.wish.taken_by_unit")


@transaction.atomic
def wish_give_back(*, wish: Wish, account=None, actor=None) -> Wish:
    """The taker gives the wish back before completion (the account that took it, or a liaison of
    the unit that took it); it is posted again for someone else."""
    wish = _locked(wish)
    if account is not None:
        _account_required(account)
        mine = wish.taken_by_account_id == account.pk
    else:
        mine = wish.taken_by_unit_id is not None and liaison_units(actor).filter(pk=wish.taken_by_unit_id).exists()
    if not mine:
        raise PermissionDenied(_("只有认领人可以放弃认领。"))
    before = _snapshot(wish)
    moved = Wish.objects.unscoped().filter(pk=wish.pk, status=WishStatus.TAKEN).update(
        status=WishStatus.POSTED, taken_by_account=None, taken_by_person=None, taken_by_unit=None, taken_at=None)
    if moved != 1:
        raise ValidationError({"status": [_("心愿已完成，不能放弃认领。")]})
    wish.refresh_from_db()
    audit.record(actor=actor, action="volunteers.wish.given_back", obj=wish, before=before, after=_snapshot(wish))
    return wish


# --- Completion and thanks ----------------------------------------------------------------------

@transaction.atomic
def wish_complete(*, actor, wish: Wish, note: str = "") -> Wish:
    """The community confirms the wish was fulfilled; a member taker earns the "per_wish" points once."""
    wish = _locked(wish)
    ensure_can(actor, "volunteers.manage", wish.community.code)
    note = " ".join(str(note or "").split())
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("说明不能超过 %(n)d 个字。") % {"n": NOTE_MAX}]})
    if wish.status != WishStatus.TAKEN:
        raise ValidationError({"status": [_("只有已接单的心愿可以确认完成。")]})
    before = _snapshot(wish)
    now = timezone.now()
    wish.status, wish.completed_at, wish.confirmed_by = WishStatus.COMPLETED, now, actor
    fields = ["status", "completed_at", "confirmed_by"]
    if note:
        wish.decision_note = note
        fields.append("decision_note")
    wish.save(update_fields=fields)
    entry = None
    if wish.taken_by_person_id:
        entry = points.award(person=wish.taken_by_person, source=PointSource.WISH, source_id=wish.pk,
                             rule="per_wish", on=timezone.localdate(now), note=wish.number)
    audit.record(actor=actor, action="volunteers.wish.completed", obj=wish, before=before,
                 after={**_snapshot(wish), "note": note, "points": getattr(entry, "points", None)})
    _text_orderer(wish, _("【轴心】您的微心愿（%(number)s）已完成。欢迎登录居民服务网站感谢与评价。")
                  % {"number": wish.number})
    return wish


def _stars(value) -> int | None:
    if isinstance(value, bool):
        return None
    text = str(value if value is not None else "").strip()
    if not text.isdigit():
        return None
    stars = int(text)
    return stars if 1 <= stars <= 5 else None


@transaction.atomic
def wish_thank(*, account, wish: Wish, stars, thanks: str = "") -> Wish:
    """The ordering resident thanks and rates a completed wish (once); a held message stays hidden
    until a moderator releases it."""
    _account_required(account)
    errors: dict[str, list[str]] = {}
    value = _stars(stars)
    if value is None:
        errors.setdefault("stars", []).append(_("请选择 1 到 5 星。"))
    thanks = str(thanks or "").strip()
    if len(thanks) > THANKS_MAX:
        errors.setdefault("thanks", []).append(_("感谢留言不能超过 %(n)d 个字。") % {"n": THANKS_MAX})
    # The thanks message is public: a phone or ID number in it is refused, never shown (PIPL).
    if problem := personal_numbers.public_text_problem(thanks):
        errors.setdefault("thanks", []).append(problem)
    wish = _locked(wish)
    if wish.ordered_by_id != account.pk:
        raise PermissionDenied(_("只能评价自己点的心愿。"))
    if wish.status != WishStatus.COMPLETED:
        errors.setdefault("status", []).append(_("心愿完成后才能感谢与评价，每个心愿只能评价一次。"))
    if errors:
        raise ValidationError(errors)
    verdict = screen(thanks) if thanks else None
    held = verdict is not None and verdict.hold
    before = _snapshot(wish)
    wish.status, wish.stars, wish.thanks, wish.thanks_visible = WishStatus.THANKED, value, thanks, not held
    wish.thanked_at = timezone.now()
    wish.save(update_fields=["status", "stars", "thanks", "thanks_visible", "thanked_at"])
    if held:
        moderation.hold_item(actor=None, kind=THANKS_HOLD_KIND, source_key=thanks_hold_key(wish), area=wish.community,
                             text=thanks, reasons=verdict.reasons, matched=verdict.matched,
                             title=_("微心愿感谢留言：%(title)s") % {"title": wish.title}, content_object=wish)
    audit.record(actor=None, action="volunteers.wish.thanked", obj=wish, before=before,
                 after={**_snapshot(wish), "stars": value, "thanks_chars": len(thanks), "held": held})
    return wish


# --- Moderation ---------------------------------------------------------------------------------

def _wish_of(item) -> Wish | None:
    raw = item.source_key.rpartition(":")[2]
    if not raw.isdigit():
        return None
    return (Wish.objects.unscoped().select_for_update(of=("self",)).select_related("ordered_by")
            .filter(pk=int(raw)).first())


def on_wish_decision(item, decision: str) -> None:
    """A reviewer's decision on a held wish text (in the reviewer's transaction): released, staff
    may post it; rejected, a wish still waiting for review is rejected with the reviewer's reason."""
    wish = _wish_of(item)
    if wish is None:
        return
    if decision == moderation_registry.RELEASED or wish.status != WishStatus.ORDERED:
        audit.record(actor=item.decided_by, action="volunteers.wish.text_released" if decision ==
                     moderation_registry.RELEASED else "volunteers.wish.text_rejected", obj=wish,
                     after={"status": wish.status, "moderation_item": item.pk})
        return
    before = _snapshot(wish)
    wish.status = WishStatus.REJECTED
    wish.decision_note = (item.decision_note or _("内容未通过审核。"))[:NOTE_MAX]
    wish.save(update_fields=["status", "decision_note"])
    audit.record(actor=item.decided_by, action="volunteers.wish.rejected", obj=wish, before=before,
                 after={**_snapshot(wish), "reason": wish.decision_note, "moderation_item": item.pk})
    _text_orderer(wish, _("【轴心】您的微心愿（%(number)s）未通过审核，原因请登录居民服务网站查看。")
                  % {"number": wish.number})


def on_thanks_decision(item, decision: str) -> None:
    """Released, the thanks message is shown; rejected, it is removed (the stars stay).  A decision
    about a message replaced since changes nothing."""
    wish = _wish_of(item)
    if wish is None or wish.thanks != item.excerpt:
        return
    before = {"thanks_visible": wish.thanks_visible, "thanks_chars": len(wish.thanks)}
    if decision == moderation_registry.RELEASED:
        wish.thanks_visible = True
        action = "volunteers.wish.thanks_released"
    else:
        wish.thanks, wish.thanks_visible = "", True
        action = "volunteers.wish.thanks_removed"
    wish.save(update_fields=["thanks", "thanks_visible"])
    audit.record(actor=item.decided_by, action=action, obj=wish, before=before,
                 after={"thanks_visible": wish.thanks_visible, "thanks_chars": len(wish.thanks),
                        "moderation_item": item.pk})


class WishSource(HeldItemSource):
    """Residents' wishes and thanks messages held by the screen, for the reviewers of the wish's
    area; decisions go through moderation's services, which call the reactors above."""

    key = "volunteers-wishes"
    label = gettext_lazy("微心愿")
    release_label = gettext_lazy("放行")
    reject_label = gettext_lazy("不予通过")
    item_kinds = (HOLD_KIND, THANKS_HOLD_KIND)

    def link(self, obj) -> str:
        return reverse("volunteers:wish_detail", args=[int(obj.object_id)]) if obj.object_id.isdigit() else ""
