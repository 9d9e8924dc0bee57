"""The lifecycle services: every allowed and every refused transition, who may act, and
what a second clerk acting at the same moment sees."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import timezone

from zhouxin.core.choices import Role
from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.dispatch import screening, services
from zhouxin.dispatch.choices import AssignmentRole, AssignmentStatus, EventAction, ExtensionStatus, Status
from zhouxin.dispatch.models import Assignment, Extension, RequestEvent, Rollup, ServiceRequest
from zhouxin.dispatch.services import TransitionError

pytestmark = pytest.mark.django_db


def new_request(personas, *, category=None, title="楼道堆放杂物", area="community_a", actor="community_staff",
                kind="complaint"):
    return services.request_intake(
        actor=personas.users[actor], kind=kind, channel="hotline", area=personas.areas[area], title=title,
        description="3号楼2单元楼道长期堆放纸箱杂物，影响通行。", contact_phone="13812345678", category=category)


class Lifecycle:
    """Puts a request of community_a into any status through the services themselves."""

    def __init__(self, personas, world):
        self.p, self.w = personas, world
        self.hub, self.clerk = personas.street_hub, personas.community_staff

    def svc(self, name, **kwargs):
        return getattr(services, name)(**kwargs)

    def received(self):  # categorised, waiting for the street hub
        r = new_request(self.p)
        services.request_categorise(actor=self.hub, request=r, category=self.w.categories["040102"])
        return r

    def held(self):
        def hold(text):
            return screening.ScreenResult(hold=True, reason="疑似广告")
        screening.register(hold)
        try:
            return new_request(self.p, category=self.w.categories["040102"])
        finally:
            screening.unregister(hold)

    def dispatched(self):
        r = new_request(self.p, category=self.w.categories["040102"])  # routed to 多福巷社区
        assert r.status == Status.DISPATCHED
        return r

    def accepted(self):
        r = self.dispatched()
        return services.request_accept(actor=self.clerk, request=r)

    def returned(self):
        r = self.dispatched()
        return services.request_return(actor=self.clerk, request=r, reason="不属于本社区职责")

    def contacted(self):
        return services.request_contact(actor=self.clerk, request=self.accepted(), note="电话联系")

    def replied(self):
        return services.request_reply(actor=self.clerk, request=self.contacted(), reply="已联系物业清理杂物。")

    def called_back(self):  # replied, callback unsatisfied: waiting for the supervisor
        return services.request_callback(actor=self.hub, request=self.replied(), resolution="partly",
                                         satisfaction="unsatisfied")

    def closed(self):
        return services.request_callback(actor=self.hub, request=self.replied(), resolution="resolved",
                                         satisfaction="satisfied")

    def reopened(self):
        return services.request_reopen(actor=self.hub, request=self.called_back(), reason="居民仍不满意")

    def merged(self):
        master = new_request(self.p, title="主工单")
        dup = new_request(self.p)
        services.request_merge(actor=self.hub, master=master, duplicates=[dup])
        return dup

    def invalid(self):
        r = new_request(self.p)
        return services.request_invalidate(actor=self.hub, request=r, reason="恶意骚扰来电")

    def make(self, state):
        r = getattr(self, state)()
        r.refresh_from_db()
        return r

    # -- the actions, each by the person who would do it --------------------------
    def act(self, action, r, master=None):
        hub, clerk, w = self.hub, self.clerk, self.w
        if action == "categorise":
            return services.request_categorise(actor=hub, request=r, category=w.categories["040101"])
        if action == "release":
            return services.request_release(actor=hub, request=r)
        if action == "dispatch":
            return services.request_dispatch(actor=hub, request=r, lead=w.orgs["community_a"],
                                             co_handlers=[w.orgs["department"]])
        if action == "accept":
            return services.request_accept(actor=clerk, request=r)
        if action == "return":
            return services.request_return(actor=clerk, request=r, reason="不属于本社区职责")
        if action == "extension":
            return services.extension_request(actor=clerk, request=r, working_days=3, reason="需协调产权单位")
        if action == "contact":
            return services.request_contact(actor=clerk, request=r)
        if action == "reply":
            return services.request_reply(actor=clerk, request=r, reply="已处理完毕。")
        if action == "callback":
            return services.request_callback(actor=hub, request=r, resolution="resolved", satisfaction="basic")
        if action == "close":
            return services.request_close(actor=hub, request=r, note="多次联系不上")
        if action == "reopen":
            return services.request_reopen(actor=hub, request=r, reason="督办：重新处理")
        if action == "merge":
            master = master or new_request(self.p, title="主工单")
            return services.request_merge(actor=hub, master=master, duplicates=[r])
        if action == "invalidate":
            return services.request_invalidate(actor=hub, request=r, reason="重复来电骚扰")
        raise AssertionError(action)


STATES = ["received", "held", "dispatched", "accepted", "returned", "contacted", "replied", "called_back",
          "closed", "reopened", "merged", "invalid"]
STATE_STATUS = {"received": Status.RECEIVED, "held": Status.HELD, "dispatched": Status.DISPATCHED,
                "accepted": Status.ACCEPTED, "returned": Status.RETURNED, "contacted": Status.CONTACTED,
                "replied": Status.REPLIED, "called_back": Status.REPLIED, "closed": Status.CLOSED,
                "reopened": Status.REOPENED, "merged": Status.MERGED, "invalid": Status.INVALID}
# action → {state: status afterwards}; every other state refuses the action.
ALLOWED = {
    "categorise": {"received": Status.RECEIVED, "held": Status.HELD, "returned": Status.RETURNED},
    "release": {"held": Status.DISPATCHED},  # released and routed by the rules
    "dispatch": {"received": Status.DISPATCHED, "returned": Status.DISPATCHED},
    "accept": {"dispatched": Status.ACCEPTED},
    "return": {"dispatched": Status.RETURNED},
    "extension": {"accepted": Status.ACCEPTED, "contacted": Status.CONTACTED, "reopened": Status.REOPENED},
    "contact": {"accepted": Status.CONTACTED},
    "reply": {"contacted": Status.REPLIED, "reopened": Status.REPLIED},
    "callback": {"replied": Status.CLOSED},  # resolved + basically satisfied closes
    "close": {"called_back": Status.CLOSED},
    "reopen": {"called_back": Status.REOPENED, "closed": Status.REOPENED},
    "merge": dict.fromkeys(("received", "held", "returned", "dispatched"), Status.MERGED),
    "invalidate": dict.fromkeys(("received", "held", "returned", "dispatched"), Status.INVALID),
}
# Handler actions on a request never dispatched to the handler's unit are refused as such.
HANDLER_ACTIONS = {"accept", "return", "extension", "contact", "reply"}
NEVER_DISPATCHED = {"received", "held", "merged", "invalid"}


@pytest.fixture
def life(personas, dispatch_world):
    return Lifecycle(personas, dispatch_world)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_transition_table(life, state, action):
    r = life.make(state)
    assert r.status == STATE_STATUS[state]
    master = new_request(life.p, title="主工单") if action == "merge" else None
    events_before = RequestEvent.objects.filter(request=r).count()
    expected = ALLOWED[action].get(state)
    if expected is not None:
        life.act(action, r, master)
        r.refresh_from_db()
        assert r.status == expected
        assert RequestEvent.objects.filter(request=r).count() > events_before
        return
    snapshot = ServiceRequest.objects.unscoped().filter(pk=r.pk).values().get()
    audits = AuditEntry.objects.count()
    if action in HANDLER_ACTIONS and state in NEVER_DISPATCHED:
        with pytest.raises(PermissionDenied) as caught:
            life.act(action, r, master)
        assert "没有派给您所在的单位" in str(caught.value)
    else:
        with pytest.raises(TransitionError) as caught:
            life.act(action, r, master)
        message = caught.value.messages[0]
        assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    # A refusal changes nothing: same row, no event, no audit entry.
    assert ServiceRequest.objects.unscoped().filter(pk=r.pk).values().get() == snapshot
    assert RequestEvent.objects.filter(request=r).count() == events_before
    assert AuditEntry.objects.count() == audits


@pytest.mark.parametrize("state,action,message", [
    ("accepted", "return", "该工单已被签收，不能退单。"),
    ("accepted", "accept", "该工单已被签收，不能重复签收。"),
    ("dispatched", "dispatch", "该工单已派单，正等待承办单位签收，不能重复派单。"),
    ("returned", "accept", "该工单已退单，正等待街道重新派单，不能签收。"),
    ("accepted", "reply", "请先记录与诉求人的首次联系，再答复。"),
    ("contacted", "contact", "已记录过首次联系，不能重复记录。"),
    ("replied", "close", "请先完成回访，再办结。"),
    ("replied", "reopen", "该工单尚未回访，请先回访再决定是否督办重办。"),
    ("called_back", "callback", "该工单已回访，请由街道决定办结或督办重办。"),
    ("closed", "invalidate", "该工单已办结，不能判定无效。"),
    ("invalid", "dispatch", "该工单已判定无效，不能派单。"),
    ("held", "dispatch", "该工单正在审核，审核通过后才能派单。"),
])
def test_refusals_say_why(life, state, action, message):
    r = life.make(state)
    with pytest.raises(TransitionError) as caught:
        life.act(action, r)
    assert caught.value.messages == [message]


def test_merged_request_names_its_master(life):
    dup = life.make("merged")
    with pytest.raises(TransitionError) as caught:
        life.act("dispatch", dup)
    assert f"已合并至工单 {dup.master.number}" in caught.value.messages[0]


def test_dispatch_needs_a_category_and_records_lead_and_co_handlers(life, personas, dispatch_world):
    r = new_request(personas)
    with pytest.raises(TransitionError) as caught:
        services.request_dispatch(actor=life.hub, request=r, lead=dispatch_world.orgs["community_a"])
    assert caught.value.messages == ["请先确认诉求类别，再派单。"]
    services.request_categorise(actor=life.hub, request=r, category=dispatch_world.categories["080101"])
    with pytest.raises(ValidationError) as bad:
        services.request_dispatch(actor=life.hub, request=r, lead=dispatch_world.orgs["department"],
                                  co_handlers=[dispatch_world.orgs["department"]])
    assert "主办单位不能同时是协办单位" in bad.value.message_dict["co_handlers"][0]
    with pytest.raises(ValidationError) as far:
        services.request_dispatch(actor=life.hub, request=r, lead=personas.orgs["community_x_committee"])
    assert "不在该工单所在区域" in far.value.message_dict["lead"][0]
    services.request_dispatch(actor=life.hub, request=r, lead=dispatch_world.orgs["department"],
                              co_handlers=[dispatch_world.orgs["community_a"]])
    r.refresh_from_db()
    assert r.status == Status.DISPATCHED and r.lead_org == dispatch_world.orgs["department"]
    roles = dict(Assignment.objects.filter(request=r).values_list("organisation_id", "role"))
    assert roles == {dispatch_world.orgs["department"].pk: AssignmentRole.LEAD,
                     dispatch_world.orgs["community_a"].pk: AssignmentRole.CO}
    event = RequestEvent.objects.get(request=r, action=EventAction.DISPATCHED)
    assert event.actor == life.hub and event.organisation == dispatch_world.orgs["department"]
    # The co-handler signs for its part without touching the request's status.
    services.request_accept(actor=life.clerk, request=r)
    r.refresh_from_db()
    assert r.status == Status.DISPATCHED
    assert Assignment.objects.get(request=r, role=AssignmentRole.CO).status == AssignmentStatus.ACCEPTED
    # The department (lead) accepts; only the lead contacts and replies.
    services.request_accept(actor=personas.department_handler, request=r)
    with pytest.raises(PermissionDenied):
        services.request_contact(actor=life.clerk, request=r)
    services.request_contact(actor=personas.department_handler, request=r)
    r.refresh_from_db()
    assert r.status == Status.CONTACTED


def test_categorise_confirms_and_recomputes_the_deadline(life, personas, dispatch_world):
    r = new_request(personas)  # no category: the kind's clock only (complaint: 15 working days)
    before = r.resolve_due_at
    services.request_categorise(actor=life.hub, request=r, category=dispatch_world.categories["040101"])
    r.refresh_from_db()
    assert r.category_confirmed and r.category.code == "040101"
    assert r.resolve_due_at < before  # the emergency class (24 h) is earlier
    event = RequestEvent.objects.get(request=r, action=EventAction.CATEGORISED)
    assert event.data == {"from": None, "to": dispatch_world.categories["040101"].pk}


# --- who may act ------------------------------------------------------------------------

def test_outsiders_are_refused_at_the_service_level(life, personas, dispatch_world):
    r = life.make("dispatched")  # dispatched to 多福巷社区 (community_a)
    for name in ("community_staff_b", "department_handler", "outsider", "grid_worker", "resident"):
        with pytest.raises(PermissionDenied):
            services.request_accept(actor=personas.users[name], request=r)
        with pytest.raises(PermissionDenied):
            services.request_return(actor=personas.users[name], request=r, reason="不是我们的")
    for name in ("community_staff", "community_staff_b", "outsider", "department_handler"):
        with pytest.raises(PermissionDenied):
            services.request_invalidate(actor=personas.users[name], request=r, reason="无效诉求")
    with pytest.raises(PermissionDenied):
        services.request_accept(actor=None, request=r)  # the system only inside scopes_disabled()
    r.refresh_from_db()
    assert r.status == Status.DISPATCHED
    # community_b's staff and hub cannot touch community_a's request at any step.
    replied = life.make("replied")
    with pytest.raises(PermissionDenied):
        services.request_callback(actor=personas.community_staff_b, request=replied, resolution="resolved",
                                  satisfaction="satisfied")
    with pytest.raises(PermissionDenied):
        services.request_reopen(actor=personas.community_staff, request=replied, reason="不满意")


def test_department_handler_acts_only_on_its_own_organisations_assignment(life, personas, dispatch_world):
    noise = new_request(personas, title="夜间施工噪声", category=dispatch_world.categories["080101"])
    assert noise.lead_org == dispatch_world.orgs["department"]  # rule "08" @ 东城区 → 城管
    services.request_accept(actor=personas.department_handler, request=noise)
    other = life.make("dispatched")  # 多福巷社区's
    with pytest.raises(PermissionDenied):
        services.request_accept(actor=personas.department_handler, request=other)
    # Naming another organisation does not help.
    with pytest.raises(PermissionDenied):
        services.request_accept(actor=personas.department_handler, request=other,
                                organisation=dispatch_world.orgs["community_a"])


# --- two clerks at once ---------------------------------------------------------------------

def _second_clerk(personas):
    user = User.objects.create_user(username="community_staff_2", password="Zhouxin-Test-2026!", full_name="孙小红")
    Grant.objects.create(user=user, role=Role.COMMUNITY_STAFF, area=personas.areas["community_a"],
                         organisation=personas.orgs["community_a_committee"])
    return user


@pytest.fixture
def both_read_first(monkeypatch):
    """Make the race real: each clerk's service reads the request's status, then waits until the
    other has read it too, so both go on to the compare-and-set believing it is still open.
    (On SQLite the IMMEDIATE transaction makes the second clerk wait for the first one's
    commit before reading; the wait then times out and they run one after the other.)"""
    meeting = threading.Barrier(2)
    seen = threading.local()
    real = services._fresh_status

    def fresh_status(request):
        status = real(request)
        if not getattr(seen, "done", False):
            seen.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait(timeout=2)
        return status

    monkeypatch.setattr(services, "_fresh_status", fresh_status)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            outcomes[i] = ("ok", call())
        except TransitionError as exc:
            outcomes[i] = ("refused", exc.messages[0])
        except BaseException as exc:
            outcomes[i] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_clerks_accept_and_return_at_once_exactly_one_wins(life, personas, round_, both_read_first):
    other = _second_clerk(personas)
    r = life.make("dispatched")
    outcomes = _race(
        lambda: services.request_accept(actor=personas.community_staff,
                                        request=ServiceRequest.objects.unscoped().get(pk=r.pk)).status,
        lambda: services.request_return(actor=other, request=ServiceRequest.objects.unscoped().get(pk=r.pk),
                                        reason="应由物业处理").status,
    )
    kinds = sorted(o[0] for o in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    r.refresh_from_db()
    lead = Assignment.objects.get(request=r, role=AssignmentRole.LEAD)
    if r.status == Status.ACCEPTED:
        assert lead.status == AssignmentStatus.ACCEPTED
        assert ("refused", "该工单已被签收，不能退单。") in outcomes
    else:
        assert r.status == Status.RETURNED and lead.status == AssignmentStatus.RETURNED
        assert ("refused", "该工单已退单，正等待街道重新派单，不能签收。") in outcomes
    assert RequestEvent.objects.filter(request=r, action__in=[EventAction.ACCEPTED, EventAction.RETURNED]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clerks_accepting_at_once_sign_once(life, personas, both_read_first):
    other = _second_clerk(personas)
    r = life.make("dispatched")
    outcomes = _race(
        lambda: services.request_accept(actor=personas.community_staff,
                                        request=ServiceRequest.objects.unscoped().get(pk=r.pk)).status,
        lambda: services.request_accept(actor=other, request=ServiceRequest.objects.unscoped().get(pk=r.pk)).status,
    )
    assert sorted(o[0] for o in outcomes) == ["ok", "refused"], outcomes
    assert ("refused", "该工单已被签收，不能重复签收。") in outcomes
    assert RequestEvent.objects.filter(request=r, action=EventAction.ACCEPTED).count() == 1


# --- return, extension, callback, reopen ---------------------------------------------------

def test_return_goes_back_to_the_dispatcher_with_the_reason(life, personas, dispatch_world):
    r = life.make("returned")
    assert r.status == Status.RETURNED and r.lead_org is None
    lead = Assignment.objects.get(request=r)
    assert lead.status == AssignmentStatus.RETURNED and lead.return_reason == "不属于本社区职责"
    event = RequestEvent.objects.get(request=r, action=EventAction.RETURNED)
    assert event.data == {"reason": "不属于本社区职责"} and event.organisation == dispatch_world.orgs["community_a"]
    assert Rollup.objects.unscoped().get(organisation=dispatch_world.orgs["community_a"]).returned == 1
    with pytest.raises(ValidationError):
        services.request_return(actor=life.clerk, request=life.make("dispatched"), reason=" ")
    # The hub dispatches it again, to the department this time.
    services.request_dispatch(actor=life.hub, request=r, lead=dispatch_world.orgs["department"])
    r.refresh_from_db()
    assert r.status == Status.DISPATCHED and r.lead_org == dispatch_world.orgs["department"]


def test_extension_is_requested_once_and_decided_by_the_street(life, personas):
    r = life.make("accepted")
    due = r.resolve_due_at
    ext = services.extension_request(actor=life.clerk, request=r, working_days=5, reason="需协调产权单位")
    with pytest.raises(TransitionError) as pending:
        services.extension_request(actor=life.clerk, request=r, working_days=2, reason="再延两天")
    assert pending.value.messages == ["该工单已有待审批的延期申请，请等待街道审批。"]
    with pytest.raises(PermissionDenied):
        services.extension_decide(actor=life.clerk, extension=ext, approve=True)
    with pytest.raises(ValidationError):
        services.extension_decide(actor=life.hub, extension=ext, approve=False, note="")
    services.extension_decide(actor=life.hub, extension=ext, approve=True, note="同意")
    r.refresh_from_db()
    ext.refresh_from_db()
    assert ext.status == ExtensionStatus.APPROVED and r.resolve_due_at == ext.new_resolve_due_at
    assert r.resolve_due_at - due >= dt.timedelta(days=5)
    assert r.warn_due_at < r.resolve_due_at
    with pytest.raises(TransitionError) as twice:
        services.extension_decide(actor=life.hub, extension=ext, approve=False, note="重复审批")
    assert twice.value.messages == ["该延期申请已审批过了。"]
    # A new request for more time is possible once nothing is pending; the street may refuse it.
    second = services.extension_request(actor=life.clerk, request=r, working_days=2, reason="材料未到")
    services.extension_decide(actor=life.hub, extension=second, approve=False, note="时限内可以办结")
    assert Extension.objects.get(pk=second.pk).status == ExtensionStatus.REFUSED
    assert list(RequestEvent.objects.filter(request=r, action__startswith="extension").values_list(
        "action", flat=True)) == ["extension_requested", "extension_approved", "extension_requested",
                                  "extension_refused"]


@pytest.mark.parametrize("resolution,satisfaction,closes", [
    ("resolved", "satisfied", True), ("resolved", "basic", True), ("partly", "satisfied", True),
    ("partly", "basic", True), ("resolved", "unsatisfied", False), ("not_resolved", "satisfied", False),
    ("resolved", "unreachable", False), ("not_resolved", "unreachable", False),
])
def test_callback_closes_only_resolved_and_satisfied(life, resolution, satisfaction, closes):
    r = life.make("replied")
    services.request_callback(actor=life.hub, request=r, resolution=resolution, satisfaction=satisfaction)
    r.refresh_from_db()
    assert (r.status == Status.CLOSED) is closes
    assert r.resolution == resolution and r.satisfaction == satisfaction and r.callback_at is not None
    event = RequestEvent.objects.get(request=r, action=EventAction.CALLBACK)
    assert event.data == {"resolution": resolution, "satisfaction": satisfaction}
    assert RequestEvent.objects.filter(request=r, action=EventAction.CLOSED).exists() is closes


def test_callback_rejects_unknown_answers(life):
    r = life.make("replied")
    with pytest.raises(ValidationError) as caught:
        services.request_callback(actor=life.hub, request=r, resolution="maybe", satisfaction="meh")
    assert set(caught.value.message_dict) == {"resolution", "satisfaction"}


def test_reopen_under_supervision_starts_a_new_clock(life, personas):
    r = life.make("called_back")
    services.request_close  # noqa: B018  (the supervisor could also close; here they reopen)
    ServiceRequest.objects.unscoped().filter(pk=r.pk).update(
        warned_at=timezone.now(), escalated_at=timezone.now())  # it had been warned and escalated
    before = timezone.now()
    services.request_reopen(actor=life.hub, request=r, reason="居民仍不满意，督办")
    r.refresh_from_db()
    assert r.status == Status.REOPENED and r.supervised and r.reopen_count == 1
    assert r.resolve_due_at > before + dt.timedelta(days=6) and r.warned_at is None and r.escalated_at is None
    assert r.resolution == "" and r.satisfaction == "" and r.callback_at is None
    assert Assignment.objects.get(request=r, role=AssignmentRole.LEAD).status == AssignmentStatus.ACCEPTED
    # The lead handler answers again; a second round of callback closes it.
    services.request_reply(actor=life.clerk, request=r, reply="已再次清理并加装围挡。")
    services.request_callback(actor=life.hub, request=r, resolution="resolved", satisfaction="satisfied")
    r.refresh_from_db()
    assert r.status == Status.CLOSED
    services.request_reopen(actor=life.hub, request=r, reason="同一问题再次出现")
    r.refresh_from_db()
    assert r.reopen_count == 2


# --- merge ------------------------------------------------------------------------------------

def test_merged_requests_follow_the_master_and_every_requester_gets_a_callback(life, personas, dispatch_world):
    master = life.make("dispatched")
    dup1 = new_request(personas, title="楼道杂物又多了")
    dup2 = new_request(personas, title="楼道杂物", category=dispatch_world.categories["040102"])  # dispatched
    services.request_merge(actor=life.hub, master=master, duplicates=[dup1, dup2])
    for dup in (dup1, dup2):
        dup.refresh_from_db()
        assert dup.status == Status.MERGED and dup.master == master and dup.lead_org is None
        assert RequestEvent.objects.get(request=dup, action=EventAction.MERGED).data == {"master": master.pk}
    assert Assignment.objects.get(request=dup2).status == AssignmentStatus.WITHDRAWN
    with pytest.raises(TransitionError) as follows:
        services.request_accept(actor=life.clerk, request=dup2)  # its assignment was withdrawn
    assert follows.value.messages == [f"该工单已合并至工单 {master.number}，随主工单办理，不能签收。"]
    # The master is handled; on its reply every duplicate gets the reply and waits for its callback.
    services.request_accept(actor=life.clerk, request=master)
    services.request_contact(actor=life.clerk, request=master)
    services.request_reply(actor=life.clerk, request=master, reply="物业已清理楼道。")
    for dup in (dup1, dup2):
        dup.refresh_from_db()
        assert dup.status == Status.REPLIED and dup.reply == "物业已清理楼道。"
        assert dup.lead_org == dispatch_world.orgs["community_a"]
        assert RequestEvent.objects.get(request=dup, action=EventAction.REPLIED).data == {"master": master.pk}
    waiting = ServiceRequest.objects.unscoped().filter(status=Status.REPLIED, callback_at__isnull=True)
    assert set(waiting.values_list("pk", flat=True)) == {master.pk, dup1.pk, dup2.pk}
    # Each requester is called back on their own request.
    services.request_callback(actor=life.hub, request=master, resolution="resolved", satisfaction="unsatisfied")
    services.request_callback(actor=life.hub, request=dup1, resolution="resolved", satisfaction="satisfied")
    services.request_callback(actor=life.hub, request=dup2, resolution="partly", satisfaction="unsatisfied")
    dup1.refresh_from_db()
    assert dup1.status == Status.CLOSED
    # Reopening the master takes the unsatisfied duplicate along; a reopened duplicate is refused.
    with pytest.raises(TransitionError) as own:
        services.request_reopen(actor=life.hub, request=dup2, reason="不满意")
    assert f"随主工单 {master.number} 办理" in own.value.messages[0]
    services.request_reopen(actor=life.hub, request=master, reason="督办：彻底清理")
    dup2.refresh_from_db()
    dup1.refresh_from_db()
    assert dup2.status == Status.MERGED and dup1.status == Status.CLOSED
    services.request_reply(actor=life.clerk, request=master, reply="已清理并加装围挡。")
    dup2.refresh_from_db()
    assert dup2.status == Status.REPLIED and dup2.reply == "已清理并加装围挡。"


def test_merge_refusals(life, personas):
    master = new_request(personas, title="主工单")
    with pytest.raises(ValidationError):
        services.request_merge(actor=life.hub, master=master, duplicates=[master])
    closed = life.make("closed")
    with pytest.raises(TransitionError) as caught:
        services.request_merge(actor=life.hub, master=closed, duplicates=[new_request(personas)])
    assert "不能作为合并的主工单" in caught.value.messages[0]
    accepted = life.make("accepted")
    with pytest.raises(TransitionError) as signed:
        services.request_merge(actor=life.hub, master=master, duplicates=[accepted])
    assert signed.value.messages[0].startswith(f"工单 {accepted.number}：")
    with pytest.raises(PermissionDenied):
        services.request_merge(actor=personas.community_staff_b, master=master, duplicates=[new_request(personas)])
    # A master others follow cannot be invalidated.
    dup = new_request(personas)
    services.request_merge(actor=life.hub, master=master, duplicates=[dup])
    with pytest.raises(TransitionError):
        services.request_invalidate(actor=life.hub, request=master, reason="无效")


def test_invalid_requests_leave_the_rates(life, personas, dispatch_world):
    r = life.make("invalid")
    assert r.invalid_reason == "恶意骚扰来电"
    street = Rollup.objects.unscoped().get(area=personas.areas["street_a"])
    assert street.invalid == 1 and street.received == 1
    assert AuditEntry.objects.filter(action="dispatch.request.invalidated", object_id=str(r.pk)).exists()
