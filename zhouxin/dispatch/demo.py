"""A year of demo requests for the demo district (Dongcheng), deterministic from a seed.

`load_demo_requests(seed=2019, months=12, per_month=1500)` fills the demo district
(zhouxin/orgs/demo.py) with requests received over the last `months` months up to
now, in the words residents use (demo_texts.py), across the bundled catalogue, with
the seasons of a northern city (heating in November–March, noise and storms in
summer, snow in winter, catkins in spring) and realistic outcomes: most requests
routed automatically by the routing rules, some returned (退单) and re-dispatched
by the street, some extended (延期), first contact mostly in time, about 85–90 %
resolved and 85–95 % satisfied at the callback, a few unsatisfied and reopened
under supervision (督办), a few invalid, the latest ones still open and a few overdue
(escalated by the sweep).  Plus whistles (吹哨) with departments reporting and rated,
and two monthly themes (每月一题).

Why not call the services one transition at a time: a year is about 18,000 requests
and 150,000 transitions, several minutes through the services.  Instead each
request's life is simulated in memory and written with bulk_create in exactly the
shapes the services write (services.py): the same numbers (district + yyMMdd + the
day's sequence, with the NumberCounter rows advanced so later intakes continue the
sequence), deadlines from sla.compute_deadlines / workdays (the same clocks,
recomputed on categorisation and reopening, extended by sla's rule), the warning
and escalation moments of the SLA sweep, assignments and RequestEvents with the
services' from/to statuses, organisations and data conventions.  The roll-ups are
then rebuilt from the events (rollups.rebuild), which is what the live fold gives
(the tests replay the events through rollups.apply_event and compare).  The time
line stops at now: every event is in the past.

Idempotent: the load ends with an audit entry (MARKER_ACTION, seed and counts); a
second run finds it and writes nothing.  Refused unless settings.DEMO_ENABLED and
the demo district is loaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit, workdays
from zhouxin.core import policy as policy_store
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation, Person
from zhouxin.orgs.services import community_short_name

from . import classify, rates, rollups, routing, sla
from . import demo_texts as texts
from .choices import (
    AssignmentRole,
    AssignmentStatus,
    Channel,
    EventAction,
    ExtensionStatus,
    Resolution,
    Satisfaction,
    Status,
    Urgency,
    WhistleStatus,
)
from .models import (
    Assignment,
    Category,
    Extension,
    NumberCounter,
    RequestEvent,
    RoutingRule,
    ServiceRequest,
    Summons,
    Whistle,
)
from .services import closes_on_callback

DEFAULT_SEED = orgs_demo.DEFAULT_SEED
DEFAULT_MONTHS = 12
# About what a district of 700,000 people sends the 12345 line is several thousand a month;
# 1,500 keeps the first `make run` well under a minute on SQLite.
DEFAULT_PER_MONTH = 1500
MARKER_ACTION = "dispatch.demo.requests_loaded"
BATCH = 2000

# Overall volume by calendar month (Spring Festival dip, summer peak), mean 1.
MONTH_VOLUME = (1.0, 0.82, 0.95, 0.95, 1.0, 1.05, 1.15, 1.13, 1.0, 0.9, 1.02, 1.03)
CHANNELS = ((Channel.HOTLINE, 72), (Channel.PORTAL, 13), (Channel.WALK_IN, 5), (Channel.API, 3))
GENERIC_WEIGHT = 0.25  # per leaf without a scenario
THEME_EFFECT = 0.82  # volume of a theme's category in the months after it


@dataclass
class DemoRequestsReport:
    seed: int
    created: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    already_loaded: bool = False


def marker() -> AuditEntry | None:
    return AuditEntry.objects.filter(action=MARKER_ACTION).order_by("-id").first()


def load_demo_requests(*, seed: int = DEFAULT_SEED, months: int = DEFAULT_MONTHS,
                       per_month: int = DEFAULT_PER_MONTH, now: dt.datetime | None = None) -> DemoRequestsReport:
    """Generate the demo requests once (see the module docstring)."""
    if not orgs_demo.demo_enabled():
        raise orgs_demo.DemoUnavailable(_("演示模式未开启（设置 ZHOUXIN_DEMO=1，生产环境不可开启）。"))
    if months < 1 or months > 36 or per_month < 1 or per_month > 100_000:
        raise ValueError(_("月数应为 1–36，每月件数应为 1–100000。"))
    started = timezone.now()
    report = DemoRequestsReport(seed=seed)
    with scopes_disabled(), transaction.atomic():
        if orgs_demo.demo_marker() is None:
            raise orgs_demo.DemoUnavailable(_("演示数据尚未加载，请先运行 python manage.py load_demo。"))
        if marker() is not None:
            report.already_loaded = True
            return report
        builder = _Builder(seed=seed, months=months, per_month=per_month, now=now or timezone.now())
        with _policy_memo():
            builder.run()
        report.created = builder.created
        audit.record(actor=None, action=MARKER_ACTION, object_type="orgs.area", object_id=builder.district.pk,
                     object_repr=builder.district.name,
                     after={"seed": seed, "months": months, "per_month": per_month, "created": builder.created})
    report.seconds = (timezone.now() - started).total_seconds()
    return report


@contextlib.contextmanager
def _policy_memo():
    """Read each policy rule once per (key, city, day) while the demo is generated: the
    SLA clocks read "dispatch.sla" for every deadline (two queries each), which would
    otherwise be most of the load's time.  The policy cannot change inside the load's
    transaction, so the answers are the same."""
    original = policy_store.get
    memo: dict = {}

    def get(key, *, city=None, on=None):
        token = (key, getattr(city, "pk", city), on or timezone.localdate())
        if token not in memo:
            memo[token] = original(key, city=city, on=on)
        return dict(memo[token])

    policy_store.get = get
    try:
        yield
    finally:
        policy_store.get = original


# --- Simulation ------------------------------------------------------------------------

@dataclass
class _Event:
    at: dt.datetime
    action: str
    from_status: str
    to_status: str
    organisation_id: int | None = None
    actor_id: int | None = None
    note: str = ""
    data: dict = field(default_factory=dict)
    order: int = 0


@dataclass
class _Phase:
    """A run of the resolve clock: from intake (or a reopening) to the reply."""

    start: dt.datetime
    due: dt.datetime
    warn: dt.datetime
    end: dt.datetime | None = None


class _Stop(Exception):
    """The request's next step lies in the future: its life so far ends here."""


class _Life:
    """One request's life: the request row's values, its assignments, extensions and events."""

    def __init__(self, builder: _Builder, values: dict, rng: random.Random):
        self.b = builder
        self.rng = rng
        self.v = values
        self.events: list[_Event] = []
        self.assignments: list[dict] = []
        self.extensions: list[dict] = []
        self.whistle: dict | None = None
        self.phases: list[_Phase] = []
        self.last = values["received_at"]
        self.contact_end: dt.datetime | None = None  # first contact (or invalidation): the contact clock stops

    # time
    def at(self, moment: dt.datetime) -> dt.datetime:
        # Never before the previous step; the same moment is allowed (intake and its automatic
        # dispatch, a callback and the close it causes are one transaction in the services).
        moment = max(moment, self.last)
        if moment > self.b.now:
            raise _Stop
        self.last = moment
        return moment

    def office(self, moment: dt.datetime, *, minutes: tuple[int, int]) -> dt.datetime:
        """`moment` plus a delay, moved into office hours (08:30–20:00) when it lands at night."""
        t = timezone.localtime(moment + dt.timedelta(minutes=self.rng.randint(*minutes)))
        if t.hour < 8 or (t.hour == 8 and t.minute < 30):
            t = t.replace(hour=8, minute=30 + self.rng.randint(0, 29))
        elif t.hour >= 20:
            t = (t + dt.timedelta(days=1)).replace(hour=8, minute=30 + self.rng.randint(0, 29))
        return t

    def event(self, when, action, to_status, *, org=None, actor=None, note="", data=None):
        moment = self.at(when)
        self.events.append(_Event(moment, action, self.v["status"], to_status, org, actor, note, data or {}))
        self.v["status"] = to_status
        self.v["updated_at"] = moment
        return moment

    @property
    def status(self):
        return self.v["status"]

    # assignments
    def assign(self, org_id: int, role: str, at: dt.datetime, by: int | None) -> dict:
        row = {"organisation_id": org_id, "role": role, "status": AssignmentStatus.PENDING, "assigned_by_id": by,
               "assigned_at": at, "accepted_at": None, "returned_at": None, "return_reason": ""}
        self.assignments.append(row)
        return row

    def set_assignments(self, frm: set, to: str, *, role: str | None = None):
        for row in self.assignments:
            if row["status"] in frm and (role is None or row["role"] == role):
                row["status"] = to

    def lead(self) -> dict:
        return next(a for a in reversed(self.assignments)
                    if a["role"] == AssignmentRole.LEAD and a["status"] not in ("returned", "withdrawn"))

    # deadlines
    def deadlines(self, start: dt.datetime):
        category = self.v["category"]
        return self.b.deadlines(kind=self.v["kind"], urgency=self.v["urgency"],
                                sla_class=category.sla_class if category else "", start=start)

    def set_clock(self, start: dt.datetime, *, contact: bool):
        d = self.deadlines(start)
        if contact:
            self.v["contact_due_at"] = d.contact.at
        self.v["resolve_due_at"] = d.resolve.at
        self.v["deadline_provisional"] = d.provisional
        self.v["warn_due_at"] = self.b.warn_due(start, d.resolve.at)

    def open_phase(self, start: dt.datetime):
        self.phases.append(_Phase(start, self.v["resolve_due_at"], self.v["warn_due_at"]))

    def update_phase(self):
        phase = self.phases[-1]
        phase.due, phase.warn = self.v["resolve_due_at"], self.v["warn_due_at"]


class _Builder:
    def __init__(self, *, seed: int, months: int, per_month: int, now: dt.datetime):
        self.seed = seed
        self.months = months
        self.per_month = per_month
        self.now = now
        self.created: dict[str, int] = {}
        self._deadline_cache: dict = {}

    def rng(self, key: str) -> random.Random:
        return random.Random(f"zhouxin-demo-requests:{self.seed}:{key}")

    # --- set-up ----------------------------------------------------------------------

    def load_world(self) -> None:
        code = orgs_demo.DISTRICT_CODE
        self.district = Area.objects.get(code=code)
        self.city_id = self.district.parent_id
        areas = list(Area.objects.filter(code__startswith=code, is_active=True).order_by("code"))
        self.streets = [a for a in areas if a.level == AreaLevel.STREET]
        self.communities = [a for a in areas if a.level == AreaLevel.COMMUNITY]
        self.grids: dict[str, list[Area]] = defaultdict(list)
        for a in areas:
            if a.level == AreaLevel.GRID:
                self.grids[a.code[:12]].append(a)
        self.street_of = {a.code: a for a in self.streets}
        if not self.communities:
            raise orgs_demo.DemoUnavailable(_("演示区没有社区，请先运行 python manage.py load_demo。"))
        self.leaves = list(Category.objects.filter(level=3, is_active=True).select_related("parent__parent")
                           .order_by("code"))
        if not self.leaves:
            raise orgs_demo.DemoUnavailable(_("诉求分类目录为空，请先运行 python manage.py seed_catalogue。"))
        self.leaf_by_code = {c.code: c for c in self.leaves}
        self.tops = {c.code: c for c in Category.objects.filter(level=1, is_active=True)}
        orgs = list(Organisation.objects.filter(area__code__startswith=code, is_active=True).select_related("area"))
        self.org_by_id = {o.pk: o for o in orgs}
        self.community_committee = {o.area.code: o for o in orgs if o.kind == OrgKind.PARTY_COMMITTEE
                                    and len(o.area.code) == 12}
        self.street_committee = {o.area.code: o for o in orgs if o.kind == OrgKind.WORKING_COMMITTEE}
        self.departments = sorted((o for o in orgs if o.kind == OrgKind.DEPARTMENT), key=lambda o: o.pk)
        self.street_departments = defaultdict(list)
        for o in self.departments:
            if len(o.area.code) == 9:
                self.street_departments[o.area.code].append(o)
        self.district_departments = [o for o in self.departments if o.area.code == code]
        # Routing, in memory: the same rule as routing.rule_for (deepest category, then longest area code).
        self.rules = {}
        for cat_code, area_code, org_id in (RoutingRule.objects.filter(is_active=True, organisation__is_active=True)
                                            .values_list("category__code", "area__code", "organisation_id")):
            self.rules[(cat_code, area_code)] = org_id
        self._route_cache: dict = {}
        users = {u.username: u.pk for u in User.objects.filter(username__in=list(orgs_demo.LOGINS_BY_NAME))}
        self.users = users
        login = orgs_demo.LOGINS_BY_NAME
        # Who may act where, so the time line shows a demo login only where its grant reaches.
        self.hub_user = {login["street_hub"].area_code: users.get("street_hub")}
        self.handler_user: dict[int, int] = {}
        for name in ("community_staff", "community_staff_b"):
            committee = self.community_committee.get(login[name].area_code)
            if committee is not None and users.get(name):
                self.handler_user[committee.pk] = users[name]
        city_dept = next((o for o in self.district_departments if "城市管理综合执法" in o.name), None)
        if city_dept is not None and users.get("department_handler"):
            self.handler_user[city_dept.pk] = users["department_handler"]
        self.clerk_user = {login["community_staff"].area_code: users.get("community_staff"),
                           login["community_staff_b"].area_code: users.get("community_staff_b"),
                           login["grid_worker"].area_code: users.get("grid_worker")}
        self.district_admin = User.objects.filter(username="district_admin").first()
        resident = Person.objects.filter(user__username="resident").select_related("home_area").first()
        self.resident = resident
        self.warn_ratio = float(policy_store.get("dispatch.sla", city=self.city_id)["warn_ratio"])
        # Households weight where requests come from.
        self.community_weights = [max(c.households or 1500, 300) for c in self.communities]
        # How well each organisation and street works (rankings must differ).
        self.quality = {pk: self.rng(f"quality:{pk}").uniform(0.75, 1.2) for pk in self.org_by_id}
        self.street_quality = {s.code: self.rng(f"street-quality:{s.code}").uniform(0.8, 1.15)
                               for s in self.streets}

    def route(self, leaf: Category, area_code: str) -> int | None:
        key = (leaf.code, area_code)
        if key not in self._route_cache:
            found = None
            for cat_code in reversed(routing.category_path_codes(leaf.code)):
                for code in reversed(routing.area_path_codes(area_code)):
                    if (cat_code, code) in self.rules:
                        found = self.rules[(cat_code, code)]
                        break
                if found is not None:
                    break
            self._route_cache[key] = found
        return self._route_cache[key]

    def deadlines(self, *, kind, urgency, sla_class, start):
        return sla.compute_deadlines(kind=kind, urgency=urgency, sla_class=sla_class, received_at=start,
                                     city=self.city_id)

    def warn_due(self, start, due):
        return start + (due - start) * self.warn_ratio

    # --- months and volume -------------------------------------------------------------

    def month_list(self) -> list[dt.date]:
        current = timezone.localtime(self.now).date().replace(day=1)
        return [rates.add_months(current, -n) for n in range(self.months - 1, -1, -1)]

    def theme_months(self) -> dict[str, dt.date]:
        months = self.month_list()
        chosen = {}
        for calendar_month, top_code, _title, _note in texts.THEMES:
            candidates = [m for m in months[:-1] if m.month == calendar_month]
            if candidates and top_code in self.tops:
                chosen[top_code] = candidates[-1]
        return chosen

    def scenario_table(self, month: dt.date, themes: dict[str, dt.date]):
        entries, weights = [], []
        covered = set()
        for scenario in texts.SCENARIOS:
            leaf = self.leaf_by_code.get(scenario.code)
            if leaf is None:
                continue
            covered.add(leaf.code)
            w = scenario.weight * scenario.season[month.month - 1]
            theme = themes.get(leaf.code[:2])
            if theme is not None and month > theme:
                w *= THEME_EFFECT
            if w > 0:
                entries.append((leaf, scenario))
                weights.append(w)
        for leaf in self.leaves:
            if leaf.code not in covered:
                entries.append((leaf, None))
                weights.append(GENERIC_WEIGHT)
        return entries, weights

    # --- the run -------------------------------------------------------------------------

    def run(self) -> None:
        self.load_world()
        themes = self.theme_months()
        lives: list[_Life] = []
        for month in self.month_list():
            lives.extend(self.month_requests(month, themes))
        lives.sort(key=lambda life: (life.v["received_at"], life.v["seq"]))
        self.write(lives)
        self.write_themes(themes)
        result = rollups.rebuild()
        self.created["rollups"] = result.rollups
        self.created["category_rollups"] = result.category_rollups

    def month_requests(self, month: dt.date, themes) -> list[_Life]:
        rng = self.rng(f"month:{month:%Y-%m}")
        start, end = rollups._month_bounds(month)
        end = min(end, self.now - dt.timedelta(minutes=5))
        if end <= start:
            return []
        span = (end - start).total_seconds()
        full = (rollups._month_bounds(month)[1] - start).total_seconds()
        count = round(self.per_month * MONTH_VOLUME[month.month - 1] * span / full)
        entries, weights = self.scenario_table(month, themes)
        lives = []
        for n in range(count):
            received = self.received_time(rng, start, span)
            leaf, scenario = rng.choices(entries, weights)[0]
            life_rng = self.rng(f"request:{month:%Y-%m}:{n}")
            lives.append(self.simulate(life_rng, received, leaf, scenario, seq=(month, n)))
        return lives

    def received_time(self, rng: random.Random, start: dt.datetime, span: float) -> dt.datetime:
        """Calls come by day (a peak mid-morning and after supper), fewer at weekends."""
        while True:
            moment = timezone.localtime(start + dt.timedelta(seconds=rng.uniform(0, span)))
            hour = moment.hour + moment.minute / 60
            weight = 0.08 if hour < 7 else (1.0 if 8 <= hour < 12 else 0.8 if hour < 18 else 0.6 if hour < 22
                                             else 0.2)
            if moment.weekday() >= 5:
                weight *= 0.7
            if rng.random() < weight:
                return moment

    # --- one request ---------------------------------------------------------------------

    def fill(self, rng: random.Random, template: str, community: Area, leaf: Category) -> str:
        short = community_short_name(community.name)
        bld = f"{rng.randint(1, 32)}号楼"
        values = {
            "community": short, "bld": bld, "unit": f"{rng.randint(1, 6)}单元",
            "place": rng.choice((f"我们小区{bld}", f"{short}{bld}", f"{bld}{rng.randint(1, 6)}单元", "我家")),
            "road": rng.choice(texts.ROADS), "shop": rng.choice(texts.SHOPS), "dur": rng.choice(texts.DURATIONS),
            "night": rng.choice(texts.NIGHTS), "who": rng.choice(texts.FAMILY), "floor": rng.choice(texts.FLOORS),
            "name": leaf.name,
            "keyword": rng.choice(leaf.keywords.split()) if leaf.keywords.strip() else leaf.name,
        }
        return template.format(**values)

    def text(self, rng, leaf, scenario, community) -> tuple[str, str, str]:
        if scenario is not None:
            title = self.fill(rng, rng.choice(scenario.titles), community, leaf)
            body = self.fill(rng, rng.choice(scenario.bodies), community, leaf)
            reply = self.fill(rng, scenario.reply, community, leaf) if scenario.reply else ""
        else:
            title = self.fill(rng, rng.choice(texts.GENERIC_TITLES), community, leaf)
            body = self.fill(rng, rng.choice(texts.GENERIC_BODIES), community, leaf)
            reply = ""
        opener = self.fill(rng, rng.choice(texts.OPENERS), community, leaf)
        ask = rng.choice(texts.ASKS)
        return title[:120], f"{opener}{body}{ask}", reply

    def simulate(self, rng: random.Random, received: dt.datetime, leaf: Category, scenario, *, seq) -> _Life:
        community = rng.choices(self.communities, self.community_weights)[0]
        street = self.street_of[community.code[:9]]
        grid_share = scenario.grid if scenario else 0.05
        if rng.random() < grid_share * 0.5:
            channel = Channel.GRID
        else:
            channel = rng.choices([c for c, _w in CHANNELS], [w for _c, w in CHANNELS])[0]
        grids = self.grids.get(community.code, [])
        area = community
        if grids and (channel == Channel.GRID or rng.random() < 0.35):
            area = rng.choice(grids)
        kinds = scenario.kinds if scenario else texts.K_COMPLAINT
        kind = rng.choices([k for k, _w in kinds], [w for _k, w in kinds])[0]
        urgent = scenario.urgent if scenario else (0.3 if leaf.sla_class == "emergency" else 0.0)
        urgency = Urgency.URGENT if rng.random() < urgent else Urgency.NORMAL
        title, description, reply = self.text(rng, leaf, scenario, community)
        # Hotline clerks and grid workers classify at once; residents on the portal and at the
        # desk sometimes leave it to the street.
        categorised = channel in (Channel.HOTLINE, Channel.GRID) or rng.random() < 0.6
        clerk = self.clerk_user.get(area.code) or self.clerk_user.get(community.code)
        if channel in (Channel.HOTLINE, Channel.API, Channel.PORTAL):
            clerk = None  # the hotline centre's and the portal's integration: the system
        requester = None
        if self.resident is not None and channel == Channel.PORTAL and community.pk == self.resident.home_area_id \
                and rng.random() < 0.5:
            requester = self.resident
        name = rng.choices(orgs_demo._SURNAME_CHOICES, orgs_demo._SURNAME_WEIGHTS)[0] + rng.choice(
            ("先生", "女士", "女士", "先生", "阿姨", "大爷")) if requester is None else requester.name
        phone = (rng.choice(orgs_demo.MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}") \
            if requester is None else requester.phone
        if rng.random() < 0.04 and requester is None:
            phone = ""  # anonymous
        values = {
            "seq": seq, "district_id": self.district.pk, "street_id": street.pk, "area": area,
            "community": community, "street": street, "kind": kind, "channel": channel, "urgency": urgency,
            "category": leaf if categorised else None, "category_confirmed": categorised and clerk is not None,
            "title": title, "description": description,
            "address": f"{community.name}{rng.randint(1, 32)}号楼" if rng.random() < 0.6 else "",
            "contact_name": name, "contact_phone": phone, "requester": requester,
            "status": Status.RECEIVED, "received_by_id": clerk, "received_at": received,
            "lead_org_id": None, "dispatched_at": None, "accepted_at": None, "contacted_at": None,
            "replied_at": None, "callback_at": None, "closed_at": None, "warned_at": None, "escalated_at": None,
            "supervised": False, "reopen_count": 0, "resolution": "", "satisfaction": "", "reply": "",
            "invalid_reason": "", "updated_at": received, "leaf": leaf, "reply_text": reply,
        }
        life = _Life(self, values, rng)
        life.set_clock(received, contact=True)
        life.open_phase(received)
        with contextlib.suppress(_Stop):
            self.live(life, leaf, street)
        if life.phases and life.phases[-1].end is None:
            life.phases[-1].end = self.now
        self.sweep(life)
        return life

    def hub(self, street: Area) -> int | None:
        return self.hub_user.get(street.code)

    def manual_lead(self, life: _Life) -> int:
        """Where the street sends a request no rule routes: the community for community matters,
        otherwise the street handles it itself (街道统筹)."""
        community, street, leaf = life.v["community"], life.v["street"], life.v["leaf"]
        committee = self.community_committee.get(community.code)
        if leaf.default_org_kind == OrgKind.PARTY_COMMITTEE and committee is not None:
            return committee.pk
        return self.street_committee[street.code].pk

    def co_handler(self, life: _Life, lead: int) -> int | None:
        community, street = life.v["community"], life.v["street"]
        committee = self.community_committee.get(community.code)
        if committee is not None and committee.pk != lead:
            return committee.pk
        station = next((o.pk for o in self.street_departments.get(street.code, []) if o.pk != lead), None)
        return station

    def redispatch_target(self, life: _Life, returned_by: int) -> tuple[int, str]:
        """After a return (退单): the street re-dispatches to the right body, and the reason says why."""
        rng, community, street = life.rng, life.v["community"], life.v["street"]
        org = self.org_by_id[returned_by]
        committee = self.community_committee.get(community.code)
        if org.kind == OrgKind.PARTY_COMMITTEE or committee is None:
            return self.street_committee[street.code].pk, texts.RETURN_REASONS[3]
        if rng.random() < 0.5:
            return committee.pk, texts.RETURN_REASONS[2]
        others = [o.pk for o in self.district_departments if o.pk != returned_by]
        if not others:
            return committee.pk, texts.RETURN_REASONS[2]
        return rng.choice(others), rng.choice(texts.RETURN_REASONS[:2])

    def live(self, life: _Life, leaf: Category, street: Area) -> None:
        rng, v = life.rng, life.v
        hub = self.hub(street)
        received = v["received_at"]
        life.event(received, EventAction.RECEIVED, Status.RECEIVED, actor=v["received_by_id"])
        lead = self.route(leaf, v["area"].code) if v["category"] is not None else None
        if lead is not None:
            self.dispatch(life, lead, received, actor=None, automatic=True)
        else:
            t = life.office(received, minutes=(20, 240))
            if v["category"] is None:
                life.v["category"] = leaf
                when = life.event(t, EventAction.CATEGORISED, Status.RECEIVED, actor=hub,
                                  data={"from": None, "to": leaf.pk})
                v["category_confirmed"] = True
                life.set_clock(received, contact=True)
                life.update_phase()
                t = when + dt.timedelta(minutes=rng.randint(1, 15))
            if rng.random() < 0.012:
                self.invalidate(life, t, hub)
                return
            lead = self.route(leaf, v["area"].code) or self.manual_lead(life)
            co = []
            if rng.random() < 0.2:
                helper = self.co_handler(life, lead)
                co = [helper] if helper is not None else []
            self.dispatch(life, lead, t, actor=hub, automatic=False, co=co)
        quality = self.quality.get(v["lead_org_id"], 1.0) * self.street_quality[street.code]
        if rng.random() < 0.008:
            self.invalidate(life, life.office(life.last, minutes=(30, 300)), hub)
            return
        # 退单 and re-dispatch.
        if rng.random() < 0.06 / quality:
            org = v["lead_org_id"]
            new_lead, reason = self.redispatch_target(life, org)
            t = life.office(life.last, minutes=(30, 360))
            life.event(t, EventAction.RETURNED, Status.RETURNED, org=org, actor=self.handler_user.get(org),
                       note=reason, data={"reason": reason})
            v["lead_org_id"] = None
            row = life.lead()
            row.update(status=AssignmentStatus.RETURNED, returned_at=life.last, return_reason=reason)
            life.set_assignments({AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED}, AssignmentStatus.WITHDRAWN,
                                 role=AssignmentRole.CO)
            self.dispatch(life, new_lead, life.office(life.last, minutes=(20, 240)), actor=hub, automatic=False)
            quality = self.quality.get(new_lead, 1.0) * self.street_quality[street.code]
        # 签收.
        org = v["lead_org_id"]
        handler = self.handler_user.get(org)
        contact_span = (v["contact_due_at"] - received).total_seconds()
        t = life.last + dt.timedelta(seconds=contact_span * rng.uniform(0.03, 0.3))
        accepted = life.event(t, EventAction.ACCEPTED, Status.ACCEPTED, org=org, actor=handler,
                              data={"role": AssignmentRole.LEAD})
        v["accepted_at"] = accepted
        life.lead().update(status=AssignmentStatus.ACCEPTED, accepted_at=accepted)
        for row in life.assignments:
            if row["role"] == AssignmentRole.CO and row["status"] == AssignmentStatus.PENDING:
                when = life.event(accepted + dt.timedelta(minutes=rng.randint(2, 9)), EventAction.ACCEPTED,
                                  life.status, org=row["organisation_id"],
                                  actor=self.handler_user.get(row["organisation_id"]),
                                  data={"role": AssignmentRole.CO})
                row.update(status=AssignmentStatus.ACCEPTED, accepted_at=when)
        # 首次联系: mostly in time.
        late = rng.random() < 0.07 / quality
        share = rng.uniform(1.02, 1.8) if late else rng.uniform(0.15, 0.95)
        t = max(received + dt.timedelta(seconds=contact_span * share), life.last + dt.timedelta(minutes=10))
        in_time = contacted_in_time(t, v["contact_due_at"])
        contacted = life.event(t, EventAction.CONTACTED, Status.CONTACTED, org=org, actor=handler,
                               note=rng.choice(("已电话联系诉求人，约定上门时间。", "已与诉求人电话沟通，了解具体情况。",
                                                "已到现场与诉求人见面核实。")),
                               data={"in_time": in_time})
        v["contacted_at"] = contacted
        life.contact_end = contacted
        self.handle(life, street, quality, clock_start=received)

    def handle(self, life: _Life, street: Area, quality: float, *, clock_start: dt.datetime) -> None:
        """From contact (or a reopening) to the reply, the callback and the close or reopening."""
        rng, v = life.rng, life.v
        org = v["lead_org_id"]
        handler = self.handler_user.get(org)
        hub = self.hub(street)
        # 延期 (the lead handler asks, the street decides) on long clocks, by logins that can ask.
        span = (v["resolve_due_at"] - clock_start).total_seconds()
        if handler is not None and span > 4 * 86400 and v["reopen_count"] == 0 and rng.random() < 0.12:
            t = clock_start + dt.timedelta(seconds=span * rng.uniform(0.25, 0.45))
            days = rng.choice((3, 5, 5, 7, 10))
            reason = rng.choice(texts.EXTENSION_REASONS)
            extension = {"organisation_id": org, "requested_by_id": handler, "working_days": days, "reason": reason,
                         "status": ExtensionStatus.PENDING, "decided_by_id": None, "decided_at": None,
                         "decision_note": "", "new_resolve_due_at": None}
            requested = life.event(t, EventAction.EXTENSION_REQUESTED, life.status, org=org, actor=handler,
                                   note=reason, data={"extension": extension, "working_days": days,
                                                      "reason": reason})
            extension["requested_at"] = requested
            life.extensions.append(extension)
            decided_at = requested + dt.timedelta(seconds=min(span * 0.2, rng.uniform(2, 20) * 3600))
            if rng.random() < 0.85:
                new_due = workdays.add_working_days(v["resolve_due_at"], days)
                note = "同意延期。"
                when = life.event(decided_at, EventAction.EXTENSION_APPROVED, life.status, org=org, actor=hub,
                                  note=note, data={"extension": extension, "working_days": days,
                                                   "resolve_due_at": new_due.at.isoformat()})
                extension.update(status=ExtensionStatus.APPROVED, decided_by_id=hub, decided_at=when,
                                 decision_note=note, new_resolve_due_at=new_due.at)
                v["resolve_due_at"] = new_due.at
                v["warn_due_at"] = self.warn_due(clock_start, new_due.at)
                v["deadline_provisional"] = v["deadline_provisional"] or new_due.provisional
                life.update_phase()
            else:
                note = rng.choice(texts.REFUSAL_NOTES)
                when = life.event(decided_at, EventAction.EXTENSION_REFUSED, life.status, org=org, actor=hub,
                                  note=note, data={"extension": extension})
                extension.update(status=ExtensionStatus.REFUSED, decided_by_id=hub, decided_at=when,
                                 decision_note=note)
            # Only a decided extension is written with an approver; one still pending has none.
            if hub is None:
                extension["decided_by_id"] = None
        # 答复: most well within the clock, some in the yellow, a few late.
        span = (v["resolve_due_at"] - clock_start).total_seconds()
        draw = rng.random()
        if draw < 0.06 / quality:
            share = rng.uniform(1.02, 1.6)
        elif draw < 0.12:
            share = rng.uniform(self.warn_ratio + 0.01, 0.99)
        else:
            share = rng.uniform(0.12, self.warn_ratio - 0.02)
        if rng.random() < 0.004:
            share = rng.uniform(2.0, 4.0)  # stuck
        t = max(clock_start + dt.timedelta(seconds=span * share), life.last + dt.timedelta(minutes=30))
        reply = v["reply_text"] or texts.GENERIC_REPLY.format(org=self.org_by_id[org].name)
        replied = life.event(t, EventAction.REPLIED, Status.REPLIED, org=org, actor=handler, note=reply[:200])
        life.phases[-1].end = replied
        v.update(reply=reply, replied_at=replied, callback_at=None, resolution="", satisfaction="")
        life.set_assignments({AssignmentStatus.ACCEPTED}, AssignmentStatus.DONE)
        # 回访.
        resolution, satisfaction = self.outcome(rng, quality, again=v["reopen_count"] > 0)
        t = life.office(replied, minutes=(6 * 60, 3 * 24 * 60))
        closing = closes_on_callback(resolution, satisfaction)
        note = rng.choice(texts.CALLBACK_NOTES[satisfaction])
        called = life.event(t, EventAction.CALLBACK, Status.REPLIED, org=org, actor=hub, note=note,
                            data={"resolution": resolution, "satisfaction": satisfaction})
        v.update(resolution=resolution, satisfaction=satisfaction, callback_at=called)
        if closing:
            life.event(called, EventAction.CLOSED, Status.CLOSED, org=org, actor=hub)
            v["closed_at"] = called
            return
        # The supervisor: reopen (督办) an unsatisfied first answer, close the rest.
        t = life.office(called, minutes=(2 * 60, 2 * 24 * 60))
        reopen = (v["reopen_count"] == 0 and satisfaction != Satisfaction.UNREACHABLE
                  and rng.random() < 0.7) or (v["reopen_count"] == 0 and rng.random() < 0.15)
        if not reopen:
            life.event(t, EventAction.CLOSED, Status.CLOSED, org=org, actor=hub,
                       note=rng.choice(texts.SUPERVISOR_CLOSE_NOTES))
            v["closed_at"] = life.last
            return
        reason = rng.choice(texts.REOPEN_REASONS)
        reopened = life.at(t)
        d = life.deadlines(reopened)
        life.event(reopened, EventAction.REOPENED, Status.REOPENED, org=org, actor=hub, note=reason,
                   data={"reason": reason})
        v.update(supervised=True, reopen_count=v["reopen_count"] + 1, closed_at=None, callback_at=None,
                 resolution="", satisfaction="", resolve_due_at=d.resolve.at,
                 warn_due_at=self.warn_due(reopened, d.resolve.at), warned_at=None, escalated_at=None,
                 deadline_provisional=d.provisional)
        for row in life.assignments:
            if row["role"] == AssignmentRole.LEAD and row["organisation_id"] == org \
                    and row["status"] == AssignmentStatus.DONE:
                row["status"] = AssignmentStatus.ACCEPTED
        life.open_phase(reopened)
        self.handle(life, street, quality * 1.3, clock_start=reopened)

    def outcome(self, rng: random.Random, quality: float, *, again: bool) -> tuple[str, str]:
        q = min(quality, 1.25) * (1.25 if again else 1.0)
        draw = rng.random()
        not_resolved = 0.085 / q
        partly = 0.09
        if draw < not_resolved:
            resolution = Resolution.NOT_RESOLVED
            weights = (5, 15, 65, 15)
        elif draw < not_resolved + partly:
            resolution = Resolution.PARTLY
            weights = (30, 48, 16, 6)
        else:
            resolution = Resolution.RESOLVED
            weights = (86 * q, 10, 1.2, 2.8)
        satisfaction = rng.choices((Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.UNSATISFIED,
                                    Satisfaction.UNREACHABLE), weights)[0]
        return resolution, satisfaction

    def dispatch(self, life: _Life, lead: int, when, *, actor, automatic: bool, co=()) -> None:
        data = {"lead": lead, "co": list(co)}
        if automatic:
            data["automatic"] = True
        moment = life.event(when, EventAction.DISPATCHED, Status.DISPATCHED, org=lead, actor=actor, data=data)
        life.v.update(lead_org_id=lead, dispatched_at=moment)
        life.assign(lead, AssignmentRole.LEAD, moment, actor)
        for org in co:
            life.assign(org, AssignmentRole.CO, moment, actor)

    def invalidate(self, life: _Life, when, hub) -> None:
        reason = life.rng.choice(texts.INVALID_REASONS)
        life.event(when, EventAction.INVALIDATED, Status.INVALID, org=life.v["lead_org_id"], actor=hub, note=reason,
                   data={"reason": reason})
        life.v["invalid_reason"] = reason
        life.set_assignments({AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED}, AssignmentStatus.WITHDRAWN)
        life.phases[-1].end = life.last
        life.contact_end = life.last

    def sweep(self, life: _Life) -> None:
        """What the SLA sweep (every 60 s) did while each clock ran: warn once at warn_ratio,
        escalate once when due — only while the request was open, and never in the future."""
        rng, v = life.rng, life.v
        added = []
        for index, phase in enumerate(life.phases):
            end = phase.end or self.now
            last_phase = index == len(life.phases) - 1
            warned_at = escalated_at = None
            warn_at = phase.warn + dt.timedelta(seconds=rng.uniform(1, 59))
            if warn_at < phase.due and warn_at < end and warn_at <= self.now:
                added.append(("warn", warn_at, phase))
                warned_at = warn_at
            due_at = phase.due + dt.timedelta(seconds=rng.uniform(1, 59))
            if due_at < end and due_at <= self.now:
                added.append(("escalate", due_at, phase))
                escalated_at = due_at
            if last_phase:
                v["warned_at"], v["escalated_at"] = warned_at, escalated_at
        # Nobody called by the contact deadline: marked once, due and not in time (rollups).
        v["contact_overdue_at"] = None
        if v["contact_due_at"] is not None:
            overdue_at = v["contact_due_at"] + dt.timedelta(seconds=rng.uniform(1, 59))
            if overdue_at < (life.contact_end or self.now) and overdue_at <= self.now:
                added.append(("contact", overdue_at, None))
                v["contact_overdue_at"] = overdue_at
        if not added:
            return
        for kind, moment, phase in added:
            before = [e for e in life.events if e.at <= moment]
            status = before[-1].to_status if before else Status.RECEIVED
            org = None
            for e in before:
                if e.action == EventAction.DISPATCHED:
                    org = e.organisation_id
                elif e.action in (EventAction.RETURNED,) and e.to_status == Status.RETURNED:
                    org = None
            if kind == "contact":
                life.events.append(_Event(moment, EventAction.CONTACT_OVERDUE, status, status, org, None, "",
                                          {"contact_due_at": v["contact_due_at"].astimezone(dt.UTC).isoformat()},
                                          order=1))
            elif kind == "warn":
                life.events.append(_Event(moment, EventAction.WARNED, status, status, org, None, "",
                                          {"resolve_due_at": phase.due.astimezone(dt.UTC).isoformat()}, order=1))
            else:
                life.events.append(_Event(moment, EventAction.ESCALATED, status, status, org, None, "", {},
                                          order=1))
        life.events.sort(key=lambda e: (e.at, e.order))
        v["updated_at"] = max(v["updated_at"], max(e.at for e in life.events))

    # --- whistles --------------------------------------------------------------------------

    def plan_whistles(self, lives: list[_Life]) -> list[dict]:
        """A few whistles a month, blown by the demo street hub's street on hard cases and local problems."""
        street_code = orgs_demo.LOGINS_BY_NAME["street_hub"].area_code
        hub = self.hub_user.get(street_code)
        street = self.street_of.get(street_code)
        if hub is None or street is None:
            return []
        summonable = [o for o in self.departments if o.area.code in (self.district.code, street_code)]
        if not summonable:
            return []
        preferred = [o for o in summonable if any(k in o.name for k in ("城市管理综合执法", "派出所", "市场监管所",
                                                                        "住房和城乡建设", "城市管理委员会"))]
        whistles = []
        for life in lives:
            v = life.v
            if v["street"].pk != street.pk or v["leaf"].code not in texts.WHISTLE_LEAVES:
                continue
            rng = self.rng(f"whistle:{v['seq'][0]:%Y-%m}:{v['seq'][1]}")
            if rng.random() > 0.12 or v["accepted_at"] is None:
                continue
            opened = v["accepted_at"] + dt.timedelta(hours=rng.uniform(2, 30))
            end = v["replied_at"] or self.now
            if opened >= end or opened > self.now:
                continue
            whistles.append(self.whistle(rng, street, hub, preferred or summonable, opened, life))
        months = self.month_list()
        for month in months:
            rng = self.rng(f"local-whistle:{month:%Y-%m}")
            start, end = rollups._month_bounds(month)
            end = min(end, self.now - dt.timedelta(hours=1))
            if end <= start:
                continue
            opened = self.office_hours(start + (end - start) * rng.uniform(0.1, 0.9), rng)
            if opened > self.now - dt.timedelta(hours=1):
                continue
            whistles.append(self.whistle(rng, street, hub, preferred or summonable, opened, None))
        whistles.sort(key=lambda w: w["opened_at"])
        return whistles

    def whistle(self, rng, street, hub, departments, opened, life: _Life | None) -> dict:
        if life is not None:
            title = f"{life.v['title']}（工单联合处置）"[:120]
            description = life.v["description"][:500]
        else:
            community = rng.choice([c for c in self.communities if c.code.startswith(street.code)])
            problem = rng.choice(texts.LOCAL_PROBLEMS)
            title = problem[0].format(road=rng.choice(texts.ROADS), community=community.name)
            description = problem[1]
        urgency = Urgency.URGENT if rng.random() < 0.2 else Urgency.NORMAL
        due = opened + (dt.timedelta(minutes=30) if urgency == Urgency.URGENT else dt.timedelta(hours=24))
        chosen = rng.sample(departments, min(len(departments), rng.randint(2, 3)))
        summons = []
        for department in sorted(chosen, key=lambda d: (d.name, d.pk)):
            late = rng.random() < 0.15
            span = (due - opened).total_seconds()
            reported = opened + dt.timedelta(seconds=span * (rng.uniform(1.05, 2.5) if late else rng.uniform(0.1, 0.9)))
            if reported > self.now:
                reported = None
            overdue = due + dt.timedelta(seconds=rng.uniform(1, 59))
            overdue = overdue if (reported is None or reported > overdue) and overdue <= self.now else None
            rating = None
            if reported is not None and reported + dt.timedelta(days=1) <= self.now:
                rating = rng.choices((5, 4, 3, 2), (45, 35, 15, 5))[0] if not late else rng.choice((2, 3, 3, 4))
            summons.append({"department_id": department.pk, "report_due_at": due, "reported_at": reported,
                            "reported_by_id": self.handler_user.get(department.pk) if reported else None,
                            "report_note": rng.choice(texts.REPORT_NOTES) if reported else "",
                            "rating": rating, "rating_note": texts.RATING_NOTES[rating] if rating else "",
                            "rated_by_id": hub if rating else None, "overdue_at": overdue})
        all_reported = all(s["reported_at"] is not None for s in summons)
        last_report = max((s["reported_at"] for s in summons if s["reported_at"]), default=opened)
        solved = last_report + dt.timedelta(days=rng.uniform(1, 6)) if all_reported else None
        if solved is not None and solved > self.now:
            solved = None
        return {"street": street, "request_life": life, "title": title, "description": description,
                "urgency": urgency, "opened_by_id": hub, "opened_at": opened, "summons": summons,
                "status": WhistleStatus.SOLVED if solved else WhistleStatus.OPEN, "solved_at": solved,
                "solution": rng.choice(texts.SOLUTIONS) if solved else "", "departments": [d.pk for d in chosen]}

    @staticmethod
    def office_hours(moment, rng):
        t = timezone.localtime(moment)
        if t.hour < 8 or t.hour >= 20:
            t = (t + dt.timedelta(days=1 if t.hour >= 20 else 0)).replace(hour=9, minute=rng.randint(0, 59))
        return t

    # --- writing ---------------------------------------------------------------------------

    def write(self, lives: list[_Life]) -> None:
        whistles = self.plan_whistles(lives)
        # Whistled events on the requests' time lines (the number is drawn below).
        for w in whistles:
            life = w["request_life"]
            if life is None:
                continue
            before = [e for e in life.events if e.at <= w["opened_at"]]
            status = before[-1].to_status
            org = life.v["lead_org_id"]
            event = _Event(w["opened_at"], EventAction.WHISTLED, status, status, org, w["opened_by_id"], w["title"],
                           {"whistle": None, "departments": sorted(w["departments"])}, order=2)
            w["event"] = event
            life.events.append(event)
            life.events.sort(key=lambda e: (e.at, e.order))
        # Numbers: the district's daily sequence, in the order of receipt.
        per_day: dict[dt.date, int] = defaultdict(int)
        code = self.district.code
        requests = []
        suggest_cache: dict[str, list] = {}
        for life in lives:
            v = life.v
            day = timezone.localtime(v["received_at"]).date()
            per_day[day] += 1
            number = f"{code}{day:%y%m%d}{per_day[day]:05d}"
            text = f"{v['title']}\n{v['description']}"
            suggestions = suggest_cache.get(text)
            if suggestions is None:
                suggestions = [{"category_id": s.category_id, "code": s.code, "name": s.name,
                                "confidence": round(float(s.confidence), 4)}
                               for s in classify.suggest(text, top=3)]
                suggest_cache[text] = suggestions
            phone = v["contact_phone"]
            requests.append(ServiceRequest(
                number=number, district_id=v["district_id"], street_id=v["street_id"], area=v["area"],
                kind=v["kind"], channel=v["channel"], urgency=v["urgency"], category=v["category"],
                category_confirmed=v["category_confirmed"], suggestions=suggestions, title=v["title"],
                description=v["description"], address=v["address"], contact_name=v["contact_name"],
                contact_phone=phone, contact_phone_index=blind_index("phone", phone) if phone else "",
                requester=v["requester"], status=v["status"], lead_org_id=v["lead_org_id"],
                received_by_id=v["received_by_id"], received_at=v["received_at"], dispatched_at=v["dispatched_at"],
                accepted_at=v["accepted_at"], contacted_at=v["contacted_at"], replied_at=v["replied_at"],
                callback_at=v["callback_at"], closed_at=v["closed_at"], contact_due_at=v["contact_due_at"],
                contact_overdue_at=v["contact_overdue_at"],
                resolve_due_at=v["resolve_due_at"], deadline_provisional=v["deadline_provisional"],
                warn_due_at=v["warn_due_at"], warned_at=v["warned_at"], escalated_at=v["escalated_at"],
                supervised=v["supervised"], reopen_count=v["reopen_count"], resolution=v["resolution"],
                satisfaction=v["satisfaction"], reply=v["reply"], invalid_reason=v["invalid_reason"],
            ))
        ServiceRequest.objects.bulk_create(requests, batch_size=BATCH)
        for life, request in zip(lives, requests, strict=True):
            life.pk = request.pk
        self.created["requests"] = len(requests)
        self.advance_counters(f"R{code}", per_day)

        extensions = []
        for life in lives:
            for row in life.extensions:
                extensions.append((row, Extension(request_id=life.pk, **row)))
        Extension.objects.bulk_create([e for _row, e in extensions], batch_size=BATCH)
        for row, extension in extensions:
            row["pk"] = extension.pk
        self.created["extensions"] = len(extensions)

        self.write_whistles(whistles)

        assignments, events = [], []
        for life in lives:
            for row in life.assignments:
                assignments.append(Assignment(request_id=life.pk, **row))
            for e in life.events:
                data = dict(e.data)
                if isinstance(data.get("extension"), dict):
                    data["extension"] = data["extension"]["pk"]
                events.append(RequestEvent(request_id=life.pk, at=e.at, actor_id=e.actor_id,
                                           organisation_id=e.organisation_id, action=e.action,
                                           from_status=e.from_status, to_status=e.to_status, note=e.note,
                                           data=data))
        Assignment.objects.bulk_create(assignments, batch_size=BATCH)
        RequestEvent.objects.bulk_create(events, batch_size=BATCH)
        self.created["assignments"] = len(assignments)
        self.created["events"] = len(events)
        # bulk_create stamps created_at/updated_at with the load time: give each request its own
        # (received, and the moment of its latest event).
        if requests:
            latest = (RequestEvent.objects.filter(request_id=OuterRef("pk")).order_by()
                      .values("request_id").annotate(last=Max("at")).values("last"))
            ServiceRequest.objects.filter(pk__gte=min(r.pk for r in requests),
                                          pk__lte=max(r.pk for r in requests)).update(
                created_at=F("received_at"), updated_at=Subquery(latest))

    def advance_counters(self, series: str, per_day: dict[dt.date, int]) -> None:
        """Later intakes continue each day's sequence after the demo's numbers (numbering.py)."""
        existing = {c.day: c for c in NumberCounter.objects.filter(series=series, day__in=list(per_day))}
        new, changed = [], []
        for day, count in per_day.items():
            row = existing.get(day)
            if row is None:
                new.append(NumberCounter(series=series, day=day, value=count))
            elif row.value < count:
                row.value = count
                changed.append(row)
        NumberCounter.objects.bulk_create(new, batch_size=BATCH)
        NumberCounter.objects.bulk_update(changed, ["value"], batch_size=BATCH)

    def write_whistles(self, whistles: list[dict]) -> None:
        per_day: dict[dt.date, int] = defaultdict(int)
        code = self.district.code
        rows = []
        for w in whistles:
            day = timezone.localtime(w["opened_at"]).date()
            per_day[day] += 1
            number = f"CS{code}{day:%y%m%d}{per_day[day]:03d}"
            if "event" in w:
                w["event"].data["whistle"] = number
            life = w["request_life"]
            rows.append(Whistle(number=number, district=self.district, street=w["street"],
                                request_id=life.pk if life is not None else None, title=w["title"],
                                description=w["description"], urgency=w["urgency"], status=w["status"],
                                opened_by_id=w["opened_by_id"], opened_at=w["opened_at"],
                                solved_at=w["solved_at"], solution=w["solution"]))
        Whistle.objects.bulk_create(rows, batch_size=BATCH)
        summons = [Summons(whistle_id=row.pk, **s) for row, w in zip(rows, whistles, strict=True)
                   for s in w["summons"]]
        Summons.objects.bulk_create(summons, batch_size=BATCH)
        self.advance_counters(f"W{code}", per_day)
        self.created["whistles"] = len(rows)
        self.created["summons"] = len(summons)

    def write_themes(self, themes: dict[str, dt.date]) -> None:
        if self.district_admin is None:
            return
        admin = User.objects.get(pk=self.district_admin.pk)
        count = 0
        for _calendar_month, top_code, title, note in texts.THEMES:
            month = themes.get(top_code)
            if month is None:
                continue
            rates.monthly_theme_set(actor=admin, district=self.district, month=month, category=self.tops[top_code],
                                    title=title, note=note)
            count += 1
        self.created["themes"] = count


def contacted_in_time(at: dt.datetime, due: dt.datetime | None) -> bool:
    """As request_contact decides it: no contact deadline, or contacted by it."""
    return due is None or at <= due
