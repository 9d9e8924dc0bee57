"""The staff work pages of 接诉即办: intake, work queues, the request detail with its
actions (the dispatch screen among them), bulk actions, attachments and the logged
reveal of a contact phone.

Reads go through selectors (scoped: a request outside the user's grants is 404);
every write is a service call, whose refusal (ValidationError, an illegal
transition) is shown to the clerk with nothing changed.  With htmx the detail
panel is swapped in place after an action; without JavaScript every form posts
and redirects back.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core import policy
from zhouxin.core.decorators import staff_view
from zhouxin.core.pagination import CappedPaginator
from zhouxin.core.permissions import can
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.orgs.selectors import area_path

from .. import duplicates, reveal, routing, selectors, services, sla
from .. import forms as f
from ..choices import (
    OPEN_STATUSES,
    AssignmentRole,
    AssignmentStatus,
    Channel,
    ExtensionStatus,
    SlaLight,
    Status,
    Urgency,
)
from ..models import Attachment, Category, ServiceRequest
from ..templatetags.dispatch_lights import LIGHTS, light_badge

logger = logging.getLogger("zhouxin.dispatch.views")

PER_PAGE_DEFAULT = 25
PER_PAGE_MIN = 10
PER_PAGE_MAX = 100
PANEL_ID = "zx-request-panel"


# --- helpers -------------------------------------------------------------------------

def _messages_of(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _per_page(request) -> int:
    try:
        wanted = int(request.GET.get("per_page", PER_PAGE_DEFAULT))
    except (TypeError, ValueError):
        return PER_PAGE_DEFAULT
    return min(max(wanted, PER_PAGE_MIN), PER_PAGE_MAX)


def _request_or_404(number: str) -> ServiceRequest:
    found = selectors.request_for_detail(number)
    if found is None:
        raise Http404
    return found


def _default_channel(user) -> str:
    roles = scope_for_user(user).roles
    if "grid_worker" in roles and not roles & {"street_hub", "community_staff", "district_admin"}:
        return Channel.GRID
    if roles & {"street_hub", "district_admin"}:
        return Channel.HOTLINE
    return Channel.WALK_IN


def _area_options(areas: list[Area]) -> list[dict]:
    return [{"code": a.code, "name": a.name, "grid": a.level == AreaLevel.GRID} for a in areas]


def _lights(requests, now):
    """Each request's SLA progress (sla.sla_progress: the worse of its running clocks), the
    policy's warning ratio read once per city rather than once per row."""
    ratios: dict = {}
    lights = {}
    for r in requests:
        city = sla.request_city(r)
        if city not in ratios:
            ratios[city] = _warn_ratio(r)
        lights[r.pk] = sla.sla_progress(r, now, warn_ratio=ratios[city])
    return lights


def _queue_rows(requests, now) -> list[dict]:
    """What each queue row shows, made once per page in Python, as plain dicts: the labels,
    badges and link are translated or reversed once and shared, the times formatted without
    the template's date filter, and the template reads dict keys rather than model attributes
    (a 100-row page otherwise spends most of its time in the template)."""
    lights = _lights(requests, now)
    detail = reverse("dispatch:request_detail", args=["~"])
    statuses = {value: str(label) for value, label in Status.choices}
    channels = {value: str(label) for value, label in Channel.choices}
    badges = {key: light_badge(key) for key in LIGHTS}
    pick = _("选择工单 %(n)s")
    rows = []
    for sr in requests:
        light = lights[sr.pk]
        rows.append({
            "number": sr.number, "url": detail.replace("~", sr.number), "pick_label": pick % {"n": sr.number},
            "title": sr.title, "supervised": sr.supervised, "urgent": sr.urgency == Urgency.URGENT,
            "status": sr.status, "status_label": statuses.get(sr.status, sr.status),
            "light": light.light, "light_badge": badges.get(light.light, badges["green"]),
            "due_text": timezone.localtime(light.due_at).strftime("%m-%d %H:%M") if light.due_at else "",
            "provisional": sr.deadline_provisional, "area": sr.area.name,
            "category": sr.category.name if sr.category_id else "",
            "lead": sr.lead_org.name if sr.lead_org_id else "",
            "received_text": timezone.localtime(sr.received_at).strftime("%Y-%m-%d %H:%M"),
            "channel_label": channels.get(sr.channel, sr.channel),
        })
    return rows


# --- intake --------------------------------------------------------------------------

def _intake_page(request, form, areas, status=200):
    key = form["idempotency_key"].value()
    if form.is_bound and "idempotency_key" in form.errors:
        key = uuid.uuid4().hex  # a stale or tampered form gets a fresh key to submit with
    return render(request, "dispatch/work/intake.html", {
        "form": form, "idempotency_key": key,
        "area_options": _area_options(areas),
        "selected_area": form["area"].value() or "",
        "category_groups": selectors.category_leaves(),
        "selected_category": str(form["category"].value() or ""),
        "max_images": f.MAX_IMAGES,
    }, status=status)


@never_cache
@staff_view("dispatch.intake")
@require_http_methods(["GET", "POST"])
def intake(request):
    """Record a request from a hotline call, a visitor or a grid patrol.  The hidden key,
    new for every blank form, makes a double submit create one request."""
    user = request.user
    areas = selectors.intake_areas(user)
    if request.method == "POST":
        form = f.IntakeForm(request.POST, request.FILES, areas=areas)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.request_intake(
                    actor=user, kind=data["kind"], channel=data["channel"], area=data["area"],
                    title=data["title"], description=data["description"], urgency=data["urgency"] or "normal",
                    category=data["category"], address=data["address"], contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"], images=data["images"],
                    idempotency_key=data["idempotency_key"])
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.message_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, _messages_of(exc))
            else:
                return redirect("dispatch:request_receipt", number=created.number)
        return _intake_page(request, form, areas, status=422)
    initial = {"idempotency_key": uuid.uuid4().hex, "channel": _default_channel(user), "urgency": "normal"}
    if len(areas) == 1:
        initial["area"] = areas[0].code
    return _intake_page(request, f.IntakeForm(initial=initial, areas=areas), areas)


@staff_view("dispatch.intake")
@require_POST
def intake_suggest(request):
    """Category suggestions for the text typed so far (htmx, as the clerk types)."""
    form = f.SuggestForm(request.POST)
    suggestions = []
    if form.is_valid():
        text = f"{form.cleaned_data['title']} {form.cleaned_data['description']}".strip()
        if len(text) >= 4:
            suggestions = _suggest(text)
    return render(request, "dispatch/work/_suggestions.html", {"suggestions": suggestions})


def _suggest(text: str) -> list:
    """Suggestions from the classifier; none (never an error) when it is missing or fails."""
    try:
        from .. import classify
    except ImportError:  # a deployment without the classifier still takes requests
        return []
    try:
        return classify.suggest(text, top=3)
    except Exception:  # suggest() promises not to raise; intake must not depend on that promise
        logger.exception("category suggestion failed")
        return []


@staff_view("dispatch.work")
@require_GET
def category_search(request):
    """Leaves of the catalogue matching the text (name, parent names, keywords, pinyin initials)."""
    q = request.GET.get("category_q") or request.GET.get("q", "")
    return render(request, "dispatch/work/_category_results.html",
                  {"results": selectors.category_search(q), "q": q.strip()[:40],
                   "target": request.GET.get("target", "zx-category")[:40]})


@never_cache
@staff_view("dispatch.work")
@require_GET
def request_receipt(request, number: str):
    sr = _request_or_404(number)
    return render(request, "dispatch/work/receipt.html", {"sr": sr})


# --- queues --------------------------------------------------------------------------

def _queue_filters(request, form) -> selectors.QueueFilters:
    if not form.is_bound or not form.is_valid():
        data = {k: v for k, v in (form.cleaned_data if form.is_bound else {}).items()
                if k not in form.errors}
    else:
        data = form.cleaned_data
    area = None
    if data.get("area"):
        area = get_object_or_404(Area.objects, code=data["area"])  # outside the scope: 404
    category = None
    if data.get("category"):
        category = Category.objects.filter(code=data["category"]).first()
    return selectors.QueueFilters(
        q=" ".join((data.get("q") or "").split()), kind=data.get("kind") or "", channel=data.get("channel") or "",
        category=category, area=area, date_from=data.get("date_from"), date_to=data.get("date_to"))


def _bulk_actions(user) -> list[tuple[str, str]]:
    actions = []
    if can(user, "dispatch.handle") and scope_for_user(user).organisation_ids:
        actions.append(("accept", _("批量签收")))
    if can(user, "dispatch.dispatch"):
        actions.append(("dispatch", _("批量派单")))
    return actions


@never_cache
@staff_view("dispatch.work")
@require_GET
def queue(request):
    user = request.user
    tabs = selectors.tabs_for(user)
    keys = {t.key for t in tabs}
    tab = request.GET.get("tab") or selectors.default_tab(user)
    if tab not in keys:
        tab = selectors.default_tab(user)
    params = request.GET.copy()
    for name in ("tab", "page", "per_page"):
        params.pop(name, None)
    form = f.QueueFilterForm(params or None)
    if form.is_bound:
        form.is_valid()
    filters = _queue_filters(request, form)
    now = timezone.now()
    # The "all" tab of a district or the city holds hundreds of thousands of requests: count at most
    # CappedPaginator.cap of them (one bounded query) and offer the pages of those.
    paginator = CappedPaginator(selectors.queue(user, tab, filters, now), _per_page(request),
                                count_parts=selectors.queue_count_parts(user, tab, filters, now))
    page = paginator.get_page(request.GET.get("page"))
    rows = _queue_rows(list(page.object_list), now)
    counts = selectors.tab_counts(user, tabs, now)
    context = {
        "tabs": [{"key": t.key, "label": t.label, "count": counts.get(t.key), "active": t.key == tab}
                 for t in tabs],
        "tab": tab, "form": form, "filters": filters, "page": page, "rows": rows,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "area_options": [{"code": a.code, "name": a.name, "indent": "\u3000" * max(0, (len(a.code) - 6) // 3)}
                         for a in selectors.filter_areas(user)],
        "filter_area": filters.area,
        "category_groups": selectors.category_filter_groups(),
        "bulk_actions": _bulk_actions(user),
        "kinds": f.QueueFilterForm.base_fields["kind"].choices,
        "channels": f.QueueFilterForm.base_fields["channel"].choices,
        "can_intake": can(user, "dispatch.intake"),
    }
    if request.htmx and request.htmx.target == "zx-queue":
        return render(request, "dispatch/work/_queue.html", context)
    return render(request, "dispatch/work/queue.html", context)


# --- bulk actions --------------------------------------------------------------------

@never_cache
@staff_view("dispatch.work")
@require_POST
def bulk(request):
    """Bulk accept (a handling organisation) or bulk dispatch to one organisation (the
    street hub): a confirmation page first, then each request through its service;
    what failed is reported per request, what succeeded stays done."""
    user = request.user
    allowed = dict(_bulk_actions(user))
    action = request.POST.get("action", "")
    numbers = list(dict.fromkeys(n.strip() for n in request.POST.getlist("numbers") if n.strip()))
    errors = []
    if action not in allowed:
        raise PermissionDenied
    if not numbers:
        errors.append(_("请至少勾选一张工单。"))
    if len(numbers) > f.BULK_MAX:
        errors.append(_("一次最多处理 %(n)d 张工单。") % {"n": f.BULK_MAX})
    found = {sr.number: sr for sr in ServiceRequest.objects.filter(number__in=numbers[:f.BULK_MAX])
             .select_related("area", "category", "lead_org")}
    targets = selectors.bulk_dispatch_targets(user) if action == "dispatch" else []
    target_by_id = {org.pk: org for org in targets}
    lead = None
    if action == "dispatch":
        try:
            lead = target_by_id.get(int(request.POST.get("lead", "")))
        except ValueError:
            lead = None
        if lead is None and request.POST.get("confirm"):
            errors.append(_("请选择主办单位。"))
    items = [{"number": n, "request": found.get(n)} for n in numbers[:f.BULK_MAX]]
    if action == "accept":
        pending = selectors.my_pending_assignments(user, [i["request"] for i in items if i["request"]])
        for item in items:
            item["assignment"] = pending.get(item["request"].pk) if item["request"] else None
    context = {"action": action, "action_label": allowed[action], "items": items, "targets": targets,
               "lead": lead, "errors": errors}
    if errors or not request.POST.get("confirm"):
        return render(request, "dispatch/work/bulk_confirm.html", context, status=422 if errors else 200)

    results = []
    for item in items:
        sr = item["request"]
        result = {"number": item["number"], "request": sr, "ok": False, "message": ""}
        if sr is None:
            result["message"] = _("工单不存在，或不在您的管辖范围内。")
        else:
            try:
                if action == "accept":
                    assignment = item.get("assignment")
                    if assignment is None:
                        raise ValidationError(_("本单位在这张工单上没有待签收的派单。"))
                    services.request_accept(actor=user, request=sr, organisation=assignment.organisation)
                else:
                    services.request_dispatch(actor=user, request=sr, lead=lead)
            except ValidationError as exc:
                result["message"] = pgettext("列表分隔", "；").join(_messages_of(exc))
            except PermissionDenied:
                result["message"] = _("您没有权限处理这张工单。")
            else:
                result["ok"] = True
        results.append(result)
    context.update(results=results, done=sum(r["ok"] for r in results),
                   failed=sum(not r["ok"] for r in results))
    return render(request, "dispatch/work/bulk_result.html", context)


# --- request detail and actions ------------------------------------------------------

def _my_assignments(user, sr: ServiceRequest) -> list:
    """The request's current assignments to the organisations the user's grants name."""
    org_ids = set(scope_for_user(user).organisation_ids)
    return [a for a in sr.assignments.all() if a.organisation_id in org_ids
            and a.status in (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED, AssignmentStatus.DONE)]


def available_actions(user, sr: ServiceRequest) -> dict[str, bool]:
    """The actions to offer: those the request's status allows (services.ALLOWED) for this
    user's role and organisation.  The services check all of it again and are the authority;
    this only keeps forms that could not succeed off the page."""
    code = sr.area.code
    status = sr.status
    allowed = {action: status in statuses for action, statuses in services.ALLOWED.items()}
    mine = _my_assignments(user, sr)
    pending_lead = any(a.role == AssignmentRole.LEAD and a.status == AssignmentStatus.PENDING for a in mine)
    pending_co = any(a.role == AssignmentRole.CO and a.status == AssignmentStatus.PENDING for a in mine)
    lead_active = any(a.role == AssignmentRole.LEAD and a.status != AssignmentStatus.PENDING for a in mine)
    handles = can(user, "dispatch.handle", code)
    dispatcher = can(user, "dispatch.dispatch", code)
    supervisor = can(user, "dispatch.supervise", code)
    pending_extension = any(e.status == ExtensionStatus.PENDING for e in sr.extensions.all())
    return {
        "release": dispatcher and allowed["release"],
        "categorise": dispatcher and allowed["categorise"],
        # A request is dispatched once its category is confirmed (services.request_dispatch).
        "dispatch": dispatcher and allowed["dispatch"] and sr.category_id is not None,
        "merge": dispatcher and allowed["merge"] and not sr.master_id,
        "invalidate": dispatcher and allowed["invalidate"],
        "accept": handles and ((pending_lead and allowed["accept"]) or (pending_co and allowed["co_accept"])),
        "return": handles and ((pending_lead and allowed["return"]) or (pending_co and allowed["co_return"])),
        "extension": handles and lead_active and allowed["extension"] and not pending_extension,
        "extension_decide": supervisor and pending_extension,
        "contact": handles and lead_active and allowed["contact"] and not sr.contacted_at,
        "reply": handles and lead_active and allowed["reply"],
        "callback": can(user, "dispatch.callback", code) and allowed["callback"] and not sr.callback_at,
        "close": supervisor and allowed["close"] and status == Status.REPLIED and bool(sr.callback_at),
        "reopen": supervisor and allowed["reopen"] and bool(sr.callback_at or status == Status.CLOSED)
                  and not sr.master_id,
    }


def _warn_ratio(sr: ServiceRequest) -> float:
    day = timezone.localtime(sr.received_at).date() if sr.received_at else timezone.localdate()
    return float(policy.get(sla.POLICY_KEY, city=sla.request_city(sr), on=day)["warn_ratio"])


def _clock(key, label, *, start, due, done_at, running, now, warn_ratio, provisional) -> dict:
    """One SLA badge: green / yellow (warn_ratio of the time passed) / red (due) while the
    clock runs; once done, red when it was done late; "stopped" when the request left the
    clock without an answer (held, merged, invalid)."""
    if running:
        if now >= due:
            light = SlaLight.RED
        elif now >= start + (due - start) * warn_ratio:
            light = SlaLight.YELLOW
        else:
            light = SlaLight.GREEN
    elif done_at is not None:
        light = SlaLight.RED if done_at > due else "done"
    else:
        light = "stopped"
    return {"key": key, "label": label, "due": due, "light": light, "done_at": None if running else done_at,
            "provisional": provisional}


def _clocks(sr: ServiceRequest, now) -> list[dict]:
    """The contact and resolve clocks of the detail page."""
    if sr.received_at is None:
        return []
    ratio = _warn_ratio(sr)
    running = sr.status in OPEN_STATUSES
    clocks = []
    if sr.contact_due_at:
        clocks.append(_clock("contact", _("联系时限"), start=sr.received_at, due=sr.contact_due_at,
                             done_at=sr.contacted_at, running=running and sr.contacted_at is None, now=now,
                             warn_ratio=ratio,
                             provisional=sr.deadline_provisional and sr.contact_due_at == sr.resolve_due_at))
    if sr.resolve_due_at:
        answered = sr.replied_at if sr.status in (Status.REPLIED, Status.CLOSED) else None
        # The resolve clock restarts when a request is reopened: measure it as the sweep does.
        start = sla.resolve_clock_start(sr, ratio) or sr.received_at
        clocks.append(_clock("resolve", _("办结时限"), start=start, due=sr.resolve_due_at,
                             done_at=answered, running=running, now=now, warn_ratio=ratio,
                             provisional=sr.deadline_provisional))
    return clocks


def _dispatch_screen(sr: ServiceRequest) -> dict:
    """Routing suggestion, category suggestions and duplicate candidates for the dispatcher."""
    routed = routing.route_for(category=sr.category, area=sr.area) if sr.category_id else None
    suggestions = _suggest(f"{sr.title} {sr.description}")
    try:
        candidates = duplicates.find_duplicates(sr, limit=5)
    except Exception:  # a broken duplicate probe must not hide the dispatch form
        logger.exception("duplicate probe failed for %s", sr.number)
        candidates = []
    return {"routed": routed, "suggestions": suggestions, "duplicates": candidates,
            "targets": selectors.dispatch_targets(sr)}


def _panel_context(request, sr: ServiceRequest, *, forms_by_action=None, errors=(), done: str = "") -> dict:
    user = request.user
    actions = available_actions(user, sr)
    forms_by_action = forms_by_action or {}
    screen = _dispatch_screen(sr) if actions["dispatch"] or actions["categorise"] or actions["merge"] else None
    targets = screen["targets"] if screen else []
    if screen and screen["routed"] and not any(t.pk == screen["routed"].pk for t in targets):
        targets = [screen["routed"], *targets]

    def form(action, cls, **kwargs):
        return forms_by_action.get(action) or cls(**kwargs)

    initial_lead = screen["routed"].pk if screen and screen["routed"] else None
    pending_extension = next((e for e in sr.extensions.all() if e.status == ExtensionStatus.PENDING), None)
    return {
        "sr": sr, "clocks": _clocks(sr, timezone.now()), "actions": actions, "any_action": any(actions.values()),
        "screen": screen, "errors": errors, "done": done, "panel_id": PANEL_ID,
        "open_action": next(iter(forms_by_action), None),
        "path": area_path(sr.area.code, user, include_self=True, self_name=sr.area.name, self_level=sr.area.level),
        "can_reveal": bool(sr.contact_phone) and can(user, "dispatch.contact.reveal"),
        "reveal_form": forms_by_action.get("reveal") or f.RevealForm(),
        "pending_extension": pending_extension,
        "category_groups": selectors.category_leaves() if actions["categorise"] else [],
        "forms": {
            "dispatch": form("dispatch", f.DispatchForm, targets=targets, initial={"lead": initial_lead}),
            "categorise": form("categorise", f.CategoriseForm,
                               initial={"category": sr.category_id}),
            "return": form("return", f.ReturnForm),
            "accept": form("accept", f.NoteForm),
            "extension": form("extension", f.ExtensionForm),
            "extension_decide": form("extension_decide", f.ExtensionDecideForm,
                                     initial={"extension": pending_extension.pk if pending_extension else None}),
            "contact": form("contact", f.NoteForm),
            "reply": form("reply", f.ReplyForm),
            "callback": form("callback", f.CallbackForm),
            "close": form("close", f.NoteForm),
            "release": form("release", f.NoteForm),
            "reopen": form("reopen", f.ReasonForm),
            "invalidate": form("invalidate", f.ReasonForm),
        },
        "assignments": list(sr.assignments.all()),
        "events": list(sr.events.all()),
        "extensions": list(sr.extensions.all()),
        "attachments": list(sr.attachments.all()),
    }


def _detail(request, sr, *, status=200, **kwargs):
    context = _panel_context(request, sr, **kwargs)
    template = "dispatch/work/_panel.html" if request.htmx else "dispatch/work/detail.html"
    return render(request, template, context, status=status)


@never_cache
@staff_view("dispatch.work")
@require_GET
def request_detail(request, number: str):
    return _detail(request, _request_or_404(number))


def _extension_of(sr, pk):
    for extension in sr.extensions.all():
        if extension.pk == pk:
            return extension
    raise ValidationError(_("延期申请不存在。"))


def _perform(action: str, user, sr: ServiceRequest, data: dict, form) -> str:
    """Call the service of one action; returns what to tell the user."""
    if action == "dispatch":
        services.request_dispatch(actor=user, request=sr, lead=data["lead_org"], co_handlers=data["co_orgs"])
        return _("已派单给%(org)s。") % {"org": data["lead_org"].name}
    if action == "categorise":
        services.request_categorise(actor=user, request=sr, category=data["category"])
        return _("类别已确认为“%(name)s”。") % {"name": data["category"].name}
    if action == "release":
        services.request_release(actor=user, request=sr, note=data["note"])
        return _("审核通过，工单进入派单。")
    if action in ("accept", "return"):
        # The organisation that acts: the user's pending assignment on the request, the lead's first.
        pending = sorted((a for a in _my_assignments(user, sr) if a.status == AssignmentStatus.PENDING),
                         key=lambda a: a.role != AssignmentRole.LEAD)
        organisation = pending[0].organisation if pending else None
        if action == "accept":
            services.request_accept(actor=user, request=sr, organisation=organisation)
            return _("已签收。")
        services.request_return(actor=user, request=sr, reason=data["reason"], organisation=organisation)
        if pending and pending[0].role == AssignmentRole.CO:
            return _("已退回协办任务。")
        return _("已退单，工单退回街道重新派单。")
    if action == "extension":
        services.extension_request(actor=user, request=sr, working_days=data["working_days"], reason=data["reason"])
        return _("延期申请已提交，等待街道审批。")
    if action == "extension_decide":
        extension = _extension_of(sr, data["extension"])
        approve = data["decision"] == "approve"
        services.extension_decide(actor=user, extension=extension, approve=approve, note=data["note"])
        return _("已批准延期。") if approve else _("已驳回延期申请。")
    if action == "contact":
        services.request_contact(actor=user, request=sr, note=data["note"])
        return _("已记录首次联系。")
    if action == "reply":
        services.request_reply(actor=user, request=sr, reply=data["reply"])
        return _("答复已提交，等待回访。")
    if action == "callback":
        services.request_callback(actor=user, request=sr, resolution=data["resolution"],
                                  satisfaction=data["satisfaction"], note=data["note"])
        return _("回访结果已记录。")
    if action == "close":
        services.request_close(actor=user, request=sr, note=data["note"])
        return _("工单已办结。")
    if action == "reopen":
        services.request_reopen(actor=user, request=sr, reason=data["reason"])
        return _("工单已重新办理，列入督办。")
    if action == "invalidate":
        services.request_invalidate(actor=user, request=sr, reason=data["reason"])
        return _("工单已判定为无效。")
    if action == "merge":
        master = ServiceRequest.objects.filter(number=data["master"]).first()
        if master is None:
            raise ValidationError(_("要并入的工单不存在，或不在您的管辖范围内。"))
        services.request_merge(actor=user, master=master, duplicates=[sr])
        return _("已并入工单 %(number)s，办理结果将同步回访本诉求人。") % {"number": master.number}
    raise Http404


ACTION_FORMS = {
    "release": f.NoteForm, "dispatch": f.DispatchForm, "categorise": f.CategoriseForm, "accept": f.NoteForm, "return": f.ReturnForm,
    "extension": f.ExtensionForm, "extension_decide": f.ExtensionDecideForm, "contact": f.NoteForm,
    "reply": f.ReplyForm, "callback": f.CallbackForm, "close": f.NoteForm, "reopen": f.ReasonForm,
    "invalidate": f.ReasonForm, "merge": f.MergeForm,
}


@never_cache
@staff_view("dispatch.work")
@require_POST
def request_action(request, number: str, action: str):
    """One action on a request, through its service.  A refusal (bad input, an illegal
    transition, a request changed by someone else meanwhile) is shown and changes nothing."""
    if action not in ACTION_FORMS:
        raise Http404
    sr = _request_or_404(number)
    if action == "dispatch":
        screen_targets = selectors.dispatch_targets(sr)
        routed = routing.route_for(category=sr.category, area=sr.area) if sr.category_id else None
        if routed is not None and all(t.pk != routed.pk for t in screen_targets):
            screen_targets.append(routed)
        form = f.DispatchForm(request.POST, targets=screen_targets)
    else:
        form = ACTION_FORMS[action](request.POST)
    if not form.is_valid():
        return _detail(request, sr, forms_by_action={action: form}, status=422)
    try:
        done = _perform(action, request.user, sr, form.cleaned_data, form)
    except ValidationError as exc:
        # The service's word (an illegal transition, a colleague who was quicker, bad input):
        # shown above the panel, field messages also next to their field.
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                if name in form.fields:
                    form.add_error(name, errors)
        fresh = selectors.request_for_detail(number)
        if fresh is None:
            raise Http404 from None
        return _detail(request, fresh, forms_by_action={action: form}, errors=_messages_of(exc), status=422)
    if request.htmx:
        fresh = selectors.request_for_detail(number)
        if fresh is None:  # e.g. dispatched away from a community that now no longer sees it
            response = render(request, "dispatch/work/_gone.html", {"done": done, "number": number})
            return response
        return _detail(request, fresh, done=done)
    messages.success(request, done)
    if selectors.request_for_detail(number) is None:
        return redirect("dispatch:queue")
    return redirect("dispatch:request_detail", number=number)


@never_cache
@staff_view("dispatch.work")
@require_POST
def request_reveal(request, number: str):
    """The contact phone in full, with a reason; logged (reveal.request_reveal_contact)."""
    sr = _request_or_404(number)
    form = f.RevealForm(request.POST)
    value, errors = None, []
    if form.is_valid():
        try:
            value = reveal.request_reveal_contact(actor=request.user, request=sr, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for name, errs in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errs)
    if value is None:
        errors = [e for errs in form.errors.values() for e in errs]
    context = {"sr": sr, "value": value, "reveal_form": form, "reveal_errors": errors, "can_reveal": True,
               "open_reveal": True}
    if request.htmx:
        return render(request, "dispatch/work/_contact.html", context, status=200 if value is not None else 422)
    if value is not None:
        context = _panel_context(request, sr)
        context["revealed_phone"] = value
        return render(request, "dispatch/work/detail.html", context)
    return _detail(request, sr, forms_by_action={"reveal": form}, errors=errors, status=422)


@staff_view("dispatch.work")
@require_GET
def attachment(request, number: str, pk: int):
    """An image of a request, only to those who may see the request (never a public media URL)."""
    sr = _request_or_404(number)
    item = get_object_or_404(Attachment, pk=pk, request=sr)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type=item.content_type)
    response["Content-Disposition"] = content_disposition_header(False, item.original_name)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response

