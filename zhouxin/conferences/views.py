"""Joint conference pages: conferences, meetings (agenda, attendance, minutes, decisions) and the
action item board.  Reads go through the scoped managers (another street's conference is 404);
writes validate a form and call a service, whose message is shown.  Forms post and redirect
back to the page; errors come back as messages, and nothing is changed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import flash_errors, perform
from zhouxin.core.choices import Role
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation, Person

from . import services
from .choices import OPEN_ACTION_STATUSES, ActionStatus, AttendanceStatus, MeetingStatus, TermState
from .forms import (
    AgendaDecideForm,
    AgendaForm,
    ConferenceForm,
    DecisionForm,
    MeetingForm,
    MembershipEndForm,
    MembershipForm,
    MinutesForm,
    PartTimeForm,
    ProgressForm,
)
from .models import ActionItem, AgendaItem, Escalation, JointConference, Meeting, Membership

VIEW = "conferences.view"
MEMBER_KINDS = (OrgKind.RESIDENT_UNIT, OrgKind.DEPARTMENT, OrgKind.SOCIAL_ORG, OrgKind.NONPUBLIC_ENTERPRISE,
                OrgKind.PARTY_COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH, OrgKind.SECTOR_COMMITTEE)


def _manageable_areas(user):
    prefixes = scope_for_user(user).prefixes({Role.STREET_HUB, Role.COMMUNITY_STAFF})
    if not prefixes:
        return Area.objects.unscoped().none()
    reach = Q()
    for prefix in prefixes:
        reach |= Q(code__startswith=prefix)
    return Area.objects.unscoped().filter(reach, level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY],
                                          is_active=True).order_by("code")


def _conference(pk) -> JointConference:
    return get_object_or_404(JointConference.objects.select_related("area"), pk=pk)


def _meeting(pk) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("conference__area"), pk=pk)


# --- conferences ------------------------------------------------------------------------

@never_cache
@require_GET
@staff_view(VIEW)
def conference_list(request):
    conferences = list(JointConference.objects.select_related("area").annotate(
        unit_count=Count("memberships", filter=Q(memberships__left_on__isnull=True), distinct=True),
        meeting_count=Count("meetings", distinct=True)).order_by("area__code", "name"))
    return render(request, "conferences/conference_list.html", {
        "conferences": conferences,
        "can_create": _manageable_areas(request.user).exists(),
    })


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view("conferences.manage")
def conference_create(request):
    areas = _manageable_areas(request.user)
    form = ConferenceForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        try:
            conference = services.conference_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("联席会议已设立。"))
            return redirect("conferences:conference_detail", conference.pk)
    return render(request, "conferences/conference_form.html", {"form": form})


def _member_candidates(conference: JointConference):
    street_code = conference.area.code[:9]
    district_code = conference.area.code[:6]
    current = conference.memberships.filter(left_on__isnull=True).values("organisation_id")
    return (Organisation.objects.unscoped()
            .filter(Q(area__code__startswith=street_code) | Q(area__code__startswith=district_code,
                                                              kind=OrgKind.DEPARTMENT),
                    is_active=True, kind__in=MEMBER_KINDS)
            .exclude(pk__in=current).select_related("area").order_by("kind", "name"))


def _people_candidates(conference: JointConference):
    units = conference.memberships.filter(left_on__isnull=True).values("organisation_id")
    return Person.objects.unscoped().filter(work_unit_id__in=units).select_related("work_unit").order_by("name", "pk")


@never_cache
@require_GET
@staff_view(VIEW)
def conference_detail(request, pk):
    conference = _conference(pk)
    today = timezone.localdate()
    members = list(conference.memberships.select_related("organisation__area").order_by("left_on", "organisation__name"))
    seats = list(conference.part_time_members.select_related("person", "unit"))
    for seat in seats:
        seat.state = seat.term_state(today)
        seat.state_label = TermState(seat.state).label
        seat.days_left = (seat.term_end - today).days
    manage = services.can_manage(request.user, conference)
    meetings = list(conference.meetings.order_by("-held_on", "-pk")[:50])
    return render(request, "conferences/conference_detail.html", {
        "conference": conference,
        "members": members,
        "seats": seats,
        "meetings": meetings,
        "expiring": [s for s in seats if s.state == TermState.EXPIRING],
        "can_manage": manage,
        "member_form": MembershipForm(organisations=_member_candidates(conference)) if manage else None,
        "seat_form": PartTimeForm(people=_people_candidates(conference)) if manage else None,
        "meeting_form": MeetingForm() if manage else None,
        "end_form": MembershipEndForm(initial={"left_on": today}) if manage else None,
    })


@require_POST
@staff_view("conferences.manage")
def membership_add(request, pk):
    conference = _conference(pk)
    services.ensure_manage(request.user, conference)
    perform(request, MembershipForm(request.POST, organisations=_member_candidates(conference)),
            lambda data: services.membership_add(actor=request.user, conference=conference, **data),
            success=_("已加入成员单位。"))
    return redirect("conferences:conference_detail", conference.pk)


@require_POST
@staff_view("conferences.manage")
def membership_end(request, pk, membership_id):
    conference = _conference(pk)
    services.ensure_manage(request.user, conference)
    membership = get_object_or_404(Membership, pk=membership_id, conference=conference)
    perform(request, MembershipEndForm(request.POST),
            lambda data: services.membership_end(actor=request.user, membership=membership, **data),
            success=_("该单位已退出。"))
    return redirect("conferences:conference_detail", conference.pk)


@require_POST
@staff_view("conferences.manage")
def part_time_add(request, pk):
    conference = _conference(pk)
    services.ensure_manage(request.user, conference)
    perform(request, PartTimeForm(request.POST, people=_people_candidates(conference)),
            lambda data: services.part_time_member_add(
                actor=request.user, conference=conference, person=data["person"], unit=data["person"].work_unit,
                role=data["role"], term_start=data["term_start"], term_end=data["term_end"]),
            success=_("已增补兼职委员。"))
    return redirect("conferences:conference_detail", conference.pk)


@require_POST
@staff_view("conferences.manage")
def meeting_create(request, pk):
    conference = _conference(pk)
    services.ensure_manage(request.user, conference)
    ok, meeting = perform(request, MeetingForm(request.POST),
                          lambda data: services.meeting_create(actor=request.user, conference=conference, **data),
                          success=_("会议已安排。"))
    if ok:
        return redirect("conferences:meeting_detail", meeting.pk)
    return redirect("conferences:conference_detail", conference.pk)


# --- meetings ------------------------------------------------------------------------------

@never_cache
@require_GET
@staff_view(VIEW)
def meeting_list(request):
    meetings = Meeting.objects.select_related("conference__area").order_by("-held_on", "-pk")[:200]
    return render(request, "conferences/meeting_list.html", {"meetings": meetings})


@never_cache
@require_GET
@staff_view(VIEW)
def meeting_detail(request, pk):
    return _meeting_page(request, _meeting(pk))


def _meeting_page(request, meeting: Meeting, minutes_form: MinutesForm | None = None, status: int = 200):
    conference = meeting.conference
    manage = services.can_manage(request.user, conference)
    proposers = services.liaison_units(request.user, conference)
    units, seats = services.attendees(meeting)
    marks = {("u", a.membership_id) if a.membership_id else ("s", a.part_time_member_id): a.status
             for a in meeting.attendance.all()}
    for unit in units:
        unit.mark = marks.get(("u", unit.pk), "")
    for seat in seats:
        seat.mark = marks.get(("s", seat.pk), "")
    decisions = list(meeting.decisions.prefetch_related("action_items__owner"))
    own_ids = set(scope_for_user(request.user).organisation_ids)
    for decision in decisions:
        for item in decision.action_items.all():
            item.can_update = manage or (item.owner_id in own_ids and can(request.user, "conferences.propose"))
    owners = Organisation.objects.unscoped().filter(pk__in=services.current_members(conference)
                                                    .values("organisation_id")).order_by("name")
    proposer_qs = (owners if manage else
                   Organisation.objects.unscoped().filter(pk__in=[o.pk for o in proposers]))
    return render(request, "conferences/meeting_detail.html", {
        "meeting": meeting,
        "conference": conference,
        "can_manage": manage,
        "can_propose": (manage or bool(proposers)) and meeting.status == MeetingStatus.PLANNED,
        "liaison_missing": services.liaison_missing(meeting),
        "agenda": meeting.agenda_items.select_related("proposer"),
        "units": units,
        "seats": seats,
        "attendance_choices": AttendanceStatus.choices,
        "rate": services.attendance_rate(meeting),
        "decisions": decisions,
        "agenda_form": AgendaForm(proposers=proposer_qs),
        "minutes_form": minutes_form or (MinutesForm(initial={"text": meeting.minutes}) if manage else None),
        "decision_form": DecisionForm(owners=owners) if manage else None,
        "progress_statuses": ActionStatus.choices,
    }, status=status)


@require_POST
@staff_view("conferences.manage")
def meeting_status(request, pk):
    meeting = _meeting(pk)
    services.ensure_manage(request.user, meeting.conference)
    actions = {
        "held": (services.meeting_mark_held, _("会议已标记为已召开。")),
        "approve": (services.minutes_approve, _("会议纪要已审定。")),
    }
    chosen = actions.get(request.POST.get("action", ""))
    if chosen is None:
        messages.error(request, _("未知的操作。"))
    else:
        service, done = chosen
        perform(request, None, lambda _data: service(actor=request.user, meeting=meeting), success=done)
    return redirect("conferences:meeting_detail", meeting.pk)


@require_POST
@staff_view()
def agenda_propose(request, pk):
    if not (can(request.user, "conferences.manage") or can(request.user, "conferences.propose")):
        raise PermissionDenied
    meeting = _meeting(pk)
    conference = meeting.conference
    if services.can_manage(request.user, conference):
        proposers = Organisation.objects.unscoped().filter(
            pk__in=services.current_members(conference).values("organisation_id"))
    else:
        units = services.liaison_units(request.user, conference)
        if not units:
            raise PermissionDenied
        proposers = Organisation.objects.unscoped().filter(pk__in=[u.pk for u in units])
    perform(request, AgendaForm(request.POST, proposers=proposers),
            lambda data: services.agenda_propose(actor=request.user, meeting=meeting, **data),
            success=_("议题已提出。"))
    return redirect("conferences:meeting_detail", meeting.pk)


@require_POST
@staff_view("conferences.manage")
def agenda_decide(request, pk, item_id):
    meeting = _meeting(pk)
    services.ensure_manage(request.user, meeting.conference)
    item = get_object_or_404(AgendaItem.objects.select_related("meeting__conference__area"), pk=item_id,
                             meeting=meeting)
    perform(request, AgendaDecideForm(request.POST),
            lambda data: services.agenda_decide(actor=request.user, item=item, status=data["status"]),
            success=_("议题状态已更新。"))
    return redirect("conferences:meeting_detail", meeting.pk)


@require_POST
@staff_view("conferences.manage")
def attendance(request, pk):
    meeting = _meeting(pk)
    services.ensure_manage(request.user, meeting.conference)
    units, seats = {}, {}
    try:
        for key, value in request.POST.items():
            if key.startswith("unit-") and value:
                units[int(key[5:])] = value
            elif key.startswith("seat-") and value:
                seats[int(key[5:])] = value
    except ValueError:
        messages.error(request, _("出席名单中有不属于本次会议的单位或人员。"))
        return redirect("conferences:meeting_detail", meeting.pk)
    perform(request, None,
            lambda _data: services.attendance_record(actor=request.user, meeting=meeting, units=units, seats=seats),
            success=lambda rate: _("出席情况已保存：出席 %(p)d / 应到 %(e)d。") % {"p": rate.present, "e": rate.expected})
    return redirect("conferences:meeting_detail", meeting.pk)


@never_cache
@require_POST
@staff_view("conferences.manage")
def minutes(request, pk):
    meeting = _meeting(pk)
    services.ensure_manage(request.user, meeting.conference)
    form = MinutesForm(request.POST)
    if form.is_valid():
        try:
            services.minutes_save(actor=request.user, meeting=meeting, text=form.cleaned_data["text"])
        except services.MinutesHeld as exc:
            # Keep what was typed on the page so it can be corrected; it was not saved.
            flash_errors(request, exc)
            return _meeting_page(request, meeting, minutes_form=form, status=422)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("会议纪要已保存。"))
    else:
        flash_errors(request, form)
    return redirect("conferences:meeting_detail", meeting.pk)


@require_POST
@staff_view("conferences.manage")
def decision_add(request, pk):
    meeting = _meeting(pk)
    services.ensure_manage(request.user, meeting.conference)
    owners = Organisation.objects.unscoped().filter(
        pk__in=services.current_members(meeting.conference).values("organisation_id"))

    def record(data):
        spec = services.ActionSpec(owner=data["owner"], title=data["action_title"], due_on=data["due_on"],
                                   due_in_working_days=data["due_in_working_days"])
        return services.decision_record(actor=request.user, meeting=meeting, text=data["text"], actions=[spec])

    perform(request, DecisionForm(request.POST, owners=owners), record, success=_("决议已形成，督办事项已交办。"))
    return redirect("conferences:meeting_detail", meeting.pk)


# --- action items --------------------------------------------------------------------------

@never_cache
@require_GET
@staff_view(VIEW)
def action_board(request):
    """Open and overdue action items the caller reaches; overdue ones reported to the street first."""
    items = list(ActionItem.objects.filter(status__in=OPEN_ACTION_STATUSES)
                 .select_related("owner", "decision__meeting__conference__area", "escalation")
                 .order_by("due_on", "pk")[:500])
    today = timezone.localdate()
    for item in items:
        item.days_over = (today - item.due_on).days
    overdue = [i for i in items if i.status == ActionStatus.OVERDUE]
    open_items = [i for i in items if i.status != ActionStatus.OVERDUE]
    own = set(scope_for_user(request.user).organisation_ids)
    return render(request, "conferences/action_board.html", {
        "overdue": overdue, "open_items": open_items, "own": own,
    })


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view(VIEW)
def action_detail(request, pk):
    item = get_object_or_404(ActionItem.objects.select_related("owner", "decision__meeting__conference__area"), pk=pk)
    allowed = services.can_update_action(request.user, item)
    form = ProgressForm(request.POST or None, initial={"status": item.status})
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.action_progress(actor=request.user, item=item, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("进展已填报。"))
                return redirect("conferences:action_detail", item.pk)
    return render(request, "conferences/action_detail.html", {
        "item": item, "form": form if allowed and item.status != ActionStatus.DONE else None,
        "notes": item.notes.select_related("author"),
        "escalation": Escalation.objects.filter(action_item=item).first(),
    })
