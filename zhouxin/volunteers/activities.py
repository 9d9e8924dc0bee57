"""Volunteer activities (志愿服务活动): create, edit, publish, cancel and finish; sign-up on the
portal and by the organiser; the scoped reads of the staff pages.

Rules and where they come from (DESIGN §3 volunteers, issue 7):
* an activity belongs to a community; staff holding "volunteers.manage" on it run it (the
  community's staff and the street hub); a unit (驻区单位) and a co-building project may be linked;
* volunteers sign up on the portal while the activity is published, before the sign-up deadline
  and before it starts, within its slots: the activity row is locked while the places are
  counted, so two last sign-ups cannot both take the last place;
* a members-only activity (仅限报到党员) takes only Party members whose registration with a
  community (双报到) is confirmed; a member's sign-up carries the member, so their hours and
  points reach their work unit;
* cancelling an activity texts everybody still signed up.
Check-in, check-out and verified hours are in checkin.py.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.permissions import can, ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel

from . import identity
from .choices import (
    LIVE_SIGNUP_STATUSES,
    ActivityCategory,
    ActivityStatus,
    RegistrationStatus,
    SignUpStatus,
)
from .models import Activity, MemberRegistration, SignUp, UnitRegistration

TITLE_MAX = 120
PLACE_MAX = 200
TEXT_MAX = 5000
REASON_MAX = 200
SLOTS_MAX = 10000
# Sign-ups that hold a place.
PLACE_HOLDING = (SignUpStatus.SIGNED_UP, SignUpStatus.CHECKED_IN, SignUpStatus.COMPLETED)


# --- Reads -------------------------------------------------------------------------------

def _any(parts) -> Q:
    parts = list(parts)
    return reduce(or_, parts) if parts else Q(pk__in=[])


def activities_for(user):
    """Activities the user may see: of their area subtree (staff with "volunteers.view"), or
    run with their unit (a unit liaison)."""
    scope = scope_for_user(user)
    parts = [Q(community__code__startswith=p) for p in scope.prefixes(AREA_ROLES & roles_for("volunteers.view"))]
    if can(user, "volunteers.unit") and scope.organisation_ids:
        parts.append(Q(unit_id__in=scope.organisation_ids))
    return Activity.objects.unscoped().filter(_any(parts))


def can_manage(user, activity: Activity) -> bool:
    return can(user, "volunteers.manage", activity.community.code)


def manageable_communities(user):
    """Communities the user may run activities in (active, in their "volunteers.manage" subtree)."""
    from zhouxin.orgs.models import Area

    scope = scope_for_user(user)
    prefixes = scope.prefixes(AREA_ROLES & roles_for("volunteers.manage"))
    return (Area.objects.unscoped().filter(_any(Q(code__startswith=p) for p in prefixes),
                                           level=AreaLevel.COMMUNITY, is_active=True).order_by("code"))


def unit_choices(community):
    """Units that may run an activity with a community: registered with it (单位报到, confirmed)
    or located in it."""
    from zhouxin.orgs.models import Organisation

    registered = UnitRegistration.objects.unscoped().filter(community=community,
                                                            status=RegistrationStatus.CONFIRMED).values("unit_id")
    return Organisation.objects.unscoped().filter(Q(pk__in=registered) | Q(area__code__startswith=community.code))


def project_choices(community):
    """Co-building projects in the community or its street."""
    from zhouxin.cobuild.models import Project

    street_code = community.parent.code if community.parent_id else community.code
    return Project.objects.unscoped().filter(Q(area=community) | Q(area__code=street_code))


def places_taken(activity: Activity) -> int:
    return SignUp.objects.unscoped().filter(activity=activity, status__in=PLACE_HOLDING).count()


def with_places(queryset):
    """Annotate `taken` (places held) on a queryset of activities, in the same query."""
    return queryset.annotate(taken=Count("signups", filter=Q(signups__status__in=PLACE_HOLDING)))


# --- Activities --------------------------------------------------------------------------

def _snapshot(activity: Activity) -> dict:
    return {"community": activity.community.code, "title": activity.title, "category": activity.category,
            "place": activity.place, "starts_at": activity.starts_at, "ends_at": activity.ends_at,
            "slots": activity.slots, "signup_closes_at": activity.signup_closes_at,
            "members_only": activity.members_only, "status": activity.status,
            "unit": activity.unit_id, "project": activity.project_id}


def _clean(errors: dict, *, community, title, category, place, description, starts_at, ends_at, slots,
           signup_closes_at, unit, project) -> dict:
    title = (title or "").strip()
    place = (place or "").strip()
    description = (description or "").strip()
    if not title:
        errors.setdefault("title", []).append(_("请填写活动名称。"))
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(_("活动名称不能超过 %(n)d 个字。") % {"n": TITLE_MAX})
    if not place:
        errors.setdefault("place", []).append(_("请填写活动地点。"))
    elif len(place) > PLACE_MAX:
        errors.setdefault("place", []).append(_("活动地点不能超过 %(n)d 个字。") % {"n": PLACE_MAX})
    if len(description) > TEXT_MAX:
        errors.setdefault("description", []).append(_("活动内容不能超过 %(n)d 个字。") % {"n": TEXT_MAX})
    if category not in ActivityCategory.values:
        errors.setdefault("category", []).append(_("请选择服务类别。"))
    if starts_at is None:
        errors.setdefault("starts_at", []).append(_("请填写开始时间。"))
    if ends_at is None:
        errors.setdefault("ends_at", []).append(_("请填写结束时间。"))
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors.setdefault("ends_at", []).append(_("结束时间必须晚于开始时间。"))
        elif ends_at - starts_at > dt.timedelta(hours=24):
            errors.setdefault("ends_at", []).append(_("一次活动不能超过 24 小时；跨天的服务请分次发布。"))
    if signup_closes_at and starts_at and signup_closes_at > starts_at:
        errors.setdefault("signup_closes_at", []).append(_("报名截止时间不能晚于活动开始时间。"))
    if slots is None or not isinstance(slots, int) or slots < 1:
        errors.setdefault("slots", []).append(_("招募人数必须大于 0。"))
    elif slots > SLOTS_MAX:
        errors.setdefault("slots", []).append(_("招募人数不能超过 %(n)d 人。") % {"n": SLOTS_MAX})
    if community is not None:
        if unit is not None and not unit_choices(community).filter(pk=unit.pk).exists():
            errors.setdefault("unit", []).append(_("联合开展单位须已向该社区报到或位于该社区。"))
        if project is not None and not project_choices(community).filter(pk=project.pk).exists():
            errors.setdefault("project", []).append(_("只能关联本社区或所在街道的共建项目。"))
    return {"title": title, "place": place, "description": description}


@transaction.atomic
def activity_create(*, actor, community, title: str, category: str, place: str, starts_at: dt.datetime,
                    ends_at: dt.datetime, slots: int, description: str = "",
                    signup_closes_at: dt.datetime | None = None, members_only: bool = False, unit=None,
                    project=None) -> Activity:
    """A new activity (草稿) of a community, run by the actor (the organiser)."""
    errors: dict[str, list[str]] = {}
    if community is None or community.level != AreaLevel.COMMUNITY or not community.is_active:
        errors.setdefault("community", []).append(_("活动只能发布在启用中的社区。"))
        community = None
    texts = _clean(errors, community=community, title=title, category=category, place=place,
                   description=description, starts_at=starts_at, ends_at=ends_at, slots=slots,
                   signup_closes_at=signup_closes_at, unit=unit, project=project)
    if starts_at and starts_at <= timezone.now():
        errors.setdefault("starts_at", []).append(_("开始时间必须在现在之后。"))
    if errors:
        raise ValidationError(errors)
    if not can(actor, "volunteers.manage", community.code):
        raise PermissionDenied(_("您没有权限在该社区发布志愿活动。"))
    activity = Activity.objects.unscoped().create(
        community=community, unit=unit, project=project, category=category, starts_at=starts_at, ends_at=ends_at,
        slots=slots, signup_closes_at=signup_closes_at, members_only=bool(members_only),
        qr_key=secrets.token_urlsafe(32), organiser=actor, status=ActivityStatus.DRAFT, **texts)
    audit.record(actor=actor, action="volunteers.activity.created", obj=activity, after=_snapshot(activity))
    return activity


def _locked(activity: Activity) -> Activity:
    return Activity.objects.unscoped().select_for_update().select_related("community").get(pk=activity.pk)


@transaction.atomic
def activity_update(*, actor, activity: Activity, title: str, category: str, place: str, starts_at: dt.datetime,
                    ends_at: dt.datetime, slots: int, description: str = "",
                    signup_closes_at: dt.datetime | None = None, members_only: bool = False, unit=None,
                    project=None) -> Activity:
    """Edit a draft or published activity that has not started.  Slots never go below the
    places already taken."""
    ensure_can(actor, "volunteers.manage", activity.community.code)
    current = _locked(activity)
    errors: dict[str, list[str]] = {}
    if current.status not in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        raise ValidationError(_("已取消或已结束的活动不能修改。"))
    if current.starts_at <= timezone.now():
        raise ValidationError(_("活动已经开始，不能再修改。"))
    texts = _clean(errors, community=current.community, title=title, category=category, place=place,
                   description=description, starts_at=starts_at, ends_at=ends_at, slots=slots,
                   signup_closes_at=signup_closes_at, unit=unit, project=project)
    if starts_at and starts_at <= timezone.now():
        errors.setdefault("starts_at", []).append(_("开始时间必须在现在之后。"))
    taken = places_taken(current)
    if isinstance(slots, int) and slots < taken:
        errors.setdefault("slots", []).append(_("已有 %(n)d 人报名，招募人数不能少于报名人数。") % {"n": taken})
    if members_only and not current.members_only and SignUp.objects.unscoped().filter(
            activity=current, status__in=PLACE_HOLDING, person__isnull=True).exists():
        errors.setdefault("members_only", []).append(_("已有非党员居民报名，不能改为仅限报到党员。"))
    if errors:
        raise ValidationError(errors)
    before = _snapshot(current)
    for field, value in {**texts, "category": category, "starts_at": starts_at, "ends_at": ends_at, "slots": slots,
                         "signup_closes_at": signup_closes_at, "members_only": bool(members_only), "unit": unit,
                         "project": project}.items():
        setattr(current, field, value)
    current.save(update_fields=["title", "place", "description", "category", "starts_at", "ends_at", "slots",
                                "signup_closes_at", "members_only", "unit", "project", "updated_at"])
    audit.record(actor=actor, action="volunteers.activity.updated", obj=current, before=before,
                 after=_snapshot(current))
    return current


def _transition(actor, activity: Activity, allowed, target: str, action: str, message: str, extra=None) -> Activity:
    ensure_can(actor, "volunteers.manage", activity.community.code)
    updated = Activity.objects.unscoped().filter(pk=activity.pk, status__in=allowed).update(
        status=target, updated_at=timezone.now())
    if updated != 1:
        raise ValidationError(message)
    before = activity.status
    activity.refresh_from_db()
    audit.record(actor=actor, action=action, obj=activity, before={"status": before},
                 after={"status": activity.status, **(extra or {})})
    return activity


@transaction.atomic
def activity_publish(*, actor, activity: Activity) -> Activity:
    """Open a draft for sign-up on the portal (报名中); only before it starts."""
    ensure_can(actor, "volunteers.manage", activity.community.code)
    if activity.starts_at <= timezone.now():
        raise ValidationError(_("活动开始时间已过，请先修改时间再发布。"))
    return _transition(actor, activity, (ActivityStatus.DRAFT,), ActivityStatus.PUBLISHED,
                       "volunteers.activity.published", _("只有草稿状态的活动可以发布。"))


@transaction.atomic
def activity_cancel(*, actor, activity: Activity, reason: str) -> Activity:
    """Cancel a draft or published activity that has not ended; everyone signed up is texted
    (after commit) and their sign-ups are cancelled."""
    from zhouxin.portal import sms

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因，会以短信告知已报名的志愿者。")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("取消原因不能超过 %(n)d 个字。") % {"n": REASON_MAX}]})
    ensure_can(actor, "volunteers.manage", activity.community.code)
    if activity.ends_at <= timezone.now():
        raise ValidationError(_("活动已经结束，不能取消。"))
    activity = _transition(actor, activity, (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED),
                           ActivityStatus.CANCELLED, "volunteers.activity.cancelled",
                           _("只有草稿或报名中的活动可以取消。"), {"reason": reason})
    signed = list(SignUp.objects.unscoped().filter(activity=activity, status__in=(SignUpStatus.SIGNED_UP,
                                                                                 SignUpStatus.CHECKED_IN))
                  .select_related("account", "person"))
    phones = []
    for signup in signed:
        phone = signup.account.phone if signup.account_id else (signup.person.phone if signup.person_id else "")
        if phone and phone not in phones:
            phones.append(phone)
    SignUp.objects.unscoped().filter(pk__in=[s.pk for s in signed]).update(status=SignUpStatus.CANCELLED)
    text = _("【轴心】您报名的志愿活动“%(title)s”（%(when)s）已取消：%(reason)s。给您带来不便，敬请谅解。") % {
        "title": activity.title, "when": timezone.localtime(activity.starts_at).strftime("%m-%d %H:%M"),
        "reason": reason}
    for phone in phones:
        transaction.on_commit(lambda phone=phone: sms.send(phone, text))
    audit.record(actor=actor, action="volunteers.activity.volunteers_notified", obj=activity,
                 after={"signups_cancelled": len(signed), "texts": len(phones)})
    return activity


@transaction.atomic
def activity_finish(*, actor, activity: Activity) -> Activity:
    """Close a published activity after its end (已结束): sign-ups that never checked in are
    marked no-show.  Volunteers still checked in can be checked out by the organiser."""
    ensure_can(actor, "volunteers.manage", activity.community.code)
    if activity.ends_at > timezone.now():
        raise ValidationError(_("活动尚未结束，结束后才能办结。"))
    activity = _transition(actor, activity, (ActivityStatus.PUBLISHED,), ActivityStatus.FINISHED,
                           "volunteers.activity.finished", _("只有报名中的活动可以办结。"))
    absent = SignUp.objects.unscoped().filter(activity=activity, status=SignUpStatus.SIGNED_UP).update(
        status=SignUpStatus.NO_SHOW)
    if absent:
        audit.record(actor=actor, action="volunteers.signup.no_show_on_finish", obj=activity,
                     after={"no_show": absent})
    return activity


@transaction.atomic
def activity_rotate_qr_key(*, actor, activity: Activity) -> Activity:
    """Replace the key that signs the activity's check-in codes: every code shown so far
    (a photo passed around, a screenshot) stops working at once."""
    ensure_can(actor, "volunteers.manage", activity.community.code)
    Activity.objects.unscoped().filter(pk=activity.pk).update(qr_key=secrets.token_urlsafe(32),
                                                             updated_at=timezone.now())
    activity.refresh_from_db()
    audit.record(actor=actor, action="volunteers.activity.qr_key_rotated", obj=activity)
    return activity


# --- Sign-up -----------------------------------------------------------------------------

def registered_member(account):
    """The Party member behind the account when their registration (双报到) is confirmed, else None."""
    member = identity.member_for_account(account)
    if member is None:
        return None
    # A lapsed registration (not renewed) counts as not registered (completion.py does the same).
    confirmed = MemberRegistration.objects.unscoped().filter(
        person=member, status=RegistrationStatus.CONFIRMED, valid_until__gte=timezone.localdate()).exists()
    return member if confirmed else None


def signup_open_reason(activity: Activity, now: dt.datetime | None = None) -> str:
    """"" when the activity takes sign-ups now, else why not (shown on the portal)."""
    now = now or timezone.now()
    if activity.status != ActivityStatus.PUBLISHED:
        return _("该活动不在报名中。")
    if activity.starts_at <= now:
        return _("活动已经开始，报名已结束。")
    if activity.signup_closes_at and activity.signup_closes_at <= now:
        return _("报名已截止。")
    return ""


def _take_place(activity: Activity, *, by_organiser: bool = False, **who) -> SignUp:
    """Lock the activity, count its places and write the sign-up; refused when full.  The
    organiser may still add a member who turns up while the activity runs."""
    current = _locked(activity)
    if by_organiser:
        if current.status != ActivityStatus.PUBLISHED:
            raise ValidationError(_("只有报名中的活动可以添加志愿者。"))
        if current.ends_at <= timezone.now():
            raise ValidationError(_("活动已经结束，不能再添加志愿者。"))
    else:
        reason = signup_open_reason(current)
        if reason:
            raise ValidationError(reason)
    if places_taken(current) >= current.slots:
        raise ValidationError(_("名额已满，欢迎报名其他活动。"))
    try:
        with transaction.atomic():
            return SignUp.objects.unscoped().create(activity=current, status=SignUpStatus.SIGNED_UP, **who)
    except IntegrityError:
        raise ValidationError(_("您已报名这个活动。")) from None


@transaction.atomic
def signup(*, account, activity: Activity) -> SignUp:
    """A resident account signs up on the portal (a member's sign-up carries the member)."""
    if account is None:
        raise PermissionDenied(_("请先登录。"))
    if SignUp.objects.unscoped().filter(activity=activity, account=account, status__in=LIVE_SIGNUP_STATUSES).exists():
        raise ValidationError(_("您已报名这个活动。"))
    member = identity.member_for_account(account)
    if activity.members_only:
        member = registered_member(account)
        if member is None:
            raise ValidationError(_("该活动仅限已向社区报到的在职党员报名；请先完成党员报到。"))
    if member is not None and SignUp.objects.unscoped().filter(activity=activity, person=member,
                                                               status__in=LIVE_SIGNUP_STATUSES).exists():
        raise ValidationError(_("社区已为您报名这个活动。"))
    entry = _take_place(activity, account=account, person=member)
    audit.record(actor=None, action="volunteers.signup.created", obj=entry,
                 after={"activity": activity.pk, "account": account.pk, "person": member.pk if member else None})
    return entry


@transaction.atomic
def signup_cancel(*, account, signup: SignUp) -> SignUp:
    """A volunteer withdraws their own sign-up before the activity starts."""
    if account is None or signup.account_id != account.pk:
        raise PermissionDenied(_("只能取消自己的报名。"))
    if signup.activity.starts_at <= timezone.now():
        raise ValidationError(_("活动已经开始，不能再取消报名；如不能到场请联系社区。"))
    updated = SignUp.objects.unscoped().filter(pk=signup.pk, status=SignUpStatus.SIGNED_UP).update(
        status=SignUpStatus.CANCELLED)
    if updated != 1:
        raise ValidationError(_("这个报名已经不能取消。"))
    signup.refresh_from_db()
    audit.record(actor=None, action="volunteers.signup.cancelled", obj=signup,
                 before={"status": SignUpStatus.SIGNED_UP}, after={"status": signup.status, "account": account.pk})
    return signup


def member_choices(activity: Activity):
    """Party members the organiser may add: living in the activity's community or registered
    with it (confirmed)."""
    from zhouxin.orgs.models import Person

    registered = MemberRegistration.objects.unscoped().filter(community=activity.community,
                                                              status=RegistrationStatus.CONFIRMED).values("person_id")
    return (Person.objects.unscoped().filter(Q(home_area=activity.community) | Q(pk__in=registered),
                                             is_party_member=True).order_by("name", "id"))


@transaction.atomic
def signup_add_member(*, actor, activity: Activity, person) -> SignUp:
    """The organiser signs a Party member up (organiser side), e.g. one who phoned in.  The
    member's portal account, if any, is linked so the sign-up shows on their own page."""
    from zhouxin.portal.models import ResidentAccount

    ensure_can(actor, "volunteers.manage", activity.community.code)
    if person is None or not member_choices(activity).filter(pk=person.pk).exists():
        raise ValidationError({"person": [_("只能添加居住在本社区或已向本社区报到的党员。")]})
    if activity.members_only and not MemberRegistration.objects.unscoped().filter(
            person=person, status=RegistrationStatus.CONFIRMED, valid_until__gte=timezone.localdate()).exists():
        raise ValidationError({"person": [_("该活动仅限已报到党员，这位党员的报到尚未确认。")]})
    if SignUp.objects.unscoped().filter(activity=activity, person=person, status__in=LIVE_SIGNUP_STATUSES).exists():
        raise ValidationError({"person": [_("该党员已报名这个活动。")]})
    account = ResidentAccount.objects.filter(phone_index=person.phone_index).first() if person.phone_index else None
    if account is not None and SignUp.objects.unscoped().filter(activity=activity, account=account,
                                                                 status__in=LIVE_SIGNUP_STATUSES).exists():
        raise ValidationError({"person": [_("该党员已报名这个活动。")]})
    entry = _take_place(activity, by_organiser=True, account=account, person=person)
    audit.record(actor=actor, action="volunteers.signup.added", obj=entry,
                 after={"activity": activity.pk, "person": person.pk})
    return entry
