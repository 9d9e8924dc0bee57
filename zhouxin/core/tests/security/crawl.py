"""What the security tests share: a demo-like world and a crawler that finds the pages by itself.

The world is the personas, the small dispatch world, requests in three communities with
known contact phones (one dispatched and answered, so assignments and events show), a
signed-in resident's portal account, an API token, and everything the apps' outsider case
modules create (zhouxin/*/tests/outsiders_*.py: whistles, import jobs, tokens, …).  A new app
that adds its outsider cases is therefore in the world without touching this file.

The crawler starts from every URL pattern that takes no argument and every concrete URL of
the outsider cases (real ids), follows the links, htmx URLs and GET forms of every HTML page
it gets, and for the REST API goes from each list to the details of its first results.  It
never sends anything but GET; each URL name is visited at most PER_NAME times with distinct
URLs, so the crawl stays small whatever the data.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.test import Client, TestCase
from django.urls import NoReverseMatch, Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.core.tests.test_outsiders import ZHOUXIN_NAMESPACES, all_cases
from zhouxin.testing.clients import verified_client
from zhouxin.testing.outsiders import PUBLIC, Case

PER_NAME = 3
MAX_PAGES = 400

# URL names never fetched by the crawler: they end the session.
NEVER = {"core:logout", "portal:signout"}

STAFF = ("district_admin", "street_hub", "community_staff", "community_staff_b", "grid_worker",
         "department_handler", "unit_liaison", "system_admin", "security_admin", "audit_admin")

RESIDENT_PHONE = "13955556666"
# Full numbers seeded into the world; no staff page may show them (masked forms are fine).
CONTACT_PHONES = {
    "community_a": "13811112345",
    "community_b": "13722223456",
    "community_x": "13633334567",
}
HTML_TYPES = ("text/html",)
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/vnd.oai.openapi")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class World:
    personas: object
    cases: list[Case]
    requests: dict[str, object] = field(default_factory=dict)
    resident: Client | None = None
    token_key: str = ""
    # URLs the crawl visits first, by URL name (the audit entries holding payloads, …).
    first: dict[str, list[str]] = field(default_factory=dict)

    def full_numbers(self) -> set[str]:
        """Every full phone and ID number of the world's people, requests and resident accounts."""
        numbers = set(CONTACT_PHONES.values()) | {RESIDENT_PHONE}
        for person in self.personas.people.values():
            numbers |= {person.phone, person.id_number}
        return {n for n in numbers if n}


def build_world(personas, *, settings=None) -> World:
    """The world on top of the `personas` fixture (pass pytest-django's `settings` to also sign a
    resident in through the portal, which needs the in-memory text backend)."""
    from zhouxin.api.services import api_token_create
    from zhouxin.dispatch import services as dispatch
    from zhouxin.testing.dispatch import build_dispatch_world

    dispatch_world = build_dispatch_world(personas)
    world = World(personas=personas, cases=all_cases(personas))
    a, users = personas.areas, personas.users
    actors = {"community_a": "community_staff", "community_b": "community_staff_b", "community_x": "outsider"}
    with scopes_disabled():
        for area, phone in CONTACT_PHONES.items():
            world.requests[area] = dispatch.request_intake(
                actor=users[actors[area]], kind="complaint", channel="hotline", area=a[area],
                title=f"安全测试诉求 {area}", description="楼道堆放杂物，影响通行。", address="3号楼2单元",
                contact_name="安全测试联系人", contact_phone=phone, category=dispatch_world.categories["080101"])
        # The signed-in resident's own request, so the portal's status and rating pages are reached.
        world.requests["resident"] = dispatch.request_intake(
            actor=None, kind="complaint", channel="portal", area=a["community_a"], title="安全测试居民诉求",
            description="路灯不亮。", contact_name="安全测试居民", contact_phone=RESIDENT_PHONE)
        sr = world.requests["community_a"]
        sr.refresh_from_db()
        if sr.status == "received":
            dispatch.request_dispatch(actor=users["street_hub"], request=sr, lead=personas.orgs["department"])
        _token, world.token_key = api_token_create(actor=users["system_admin"], user=users["street_hub"],
                                                   name="安全测试令牌")
    if settings is not None:
        world.resident = resident_client(settings)
    return world


def resident_client(settings, phone: str = RESIDENT_PHONE, client: Client | None = None) -> Client:
    """A browser session signed in to the portal account of `phone` (opened by the sign-in)."""
    from zhouxin.portal import sms

    if settings is not None:
        settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    client = client or Client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("portal:signin"), {"phone": phone, "consent": "on",
                                                          "consent_version": _consent_version()})
    assert response.status_code == 302, response.content.decode()
    code = re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1)
    response = client.post(reverse("portal:signin_code"), {"code": code})
    assert response.status_code == 302 and response.url == reverse("portal:me"), response.content.decode()
    return client


def _consent_version() -> str:
    from zhouxin.portal import services

    return services.account_consent()["version"]


def client_for(world: World, persona: str | None, **kwargs) -> Client:
    if persona is None:
        return Client(**kwargs)
    if persona == "resident_portal":
        assert world.resident is not None, "build_world(..., settings=settings) signs the resident in"
        return world.resident
    if kwargs:
        client = Client(**kwargs)
        # Same as verified_client, on a client with the given options.
        from django_otp import DEVICE_ID_SESSION_KEY

        client.force_login(world.personas.users[persona])
        device = world.personas.devices.get(persona)
        if device is not None:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client
    return verified_client(world.personas, persona)


# --- URL patterns ---------------------------------------------------------------

def _patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _patterns(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{prefix}{pattern.name}", pattern


def url_names() -> dict[str, URLPattern]:
    """Every named URL of a Zhouxin namespace (new apps' too, once listed in ZHOUXIN_NAMESPACES)."""
    return {name: p for name, p in _patterns(get_resolver())
            if name.split(":")[0] in ZHOUXIN_NAMESPACES or name in PUBLIC}


def concrete_urls(world: World) -> dict[str, list[str]]:
    """For every URL name, concrete URLs: reverse() without arguments when it takes none, and the
    URLs of the outsider cases (which carry real ids)."""
    found: dict[str, list[str]] = {}
    for name in url_names():
        found.setdefault(name, [])
        for kwargs in ({}, {"fmt": "json"}):  # Open311's routes take only the format
            try:
                found[name].append(reverse(name, kwargs=kwargs))
                break
            except NoReverseMatch:
                continue
    for case in world.cases:
        urls = found.setdefault(case.url_name, [])
        if case.url not in urls:
            urls.append(case.url)
    first = {name: list(urls) for name, urls in world.first.items()}
    for sr in world.requests.values():
        for name in ("dispatch:request_detail", "api:request-detail"):
            first.setdefault(name, []).append(reverse(name, args=[sr.number]))
    for name, urls in first.items():
        found[name] = urls + [url for url in found.get(name, []) if url not in urls]
    return found


def name_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


# --- HTML ------------------------------------------------------------------------

class PageParser(HTMLParser):
    """Links to follow, GET forms, and what the CSP forbids (inline script and style, on* handlers)."""

    JSON_TYPES = {"application/json", "application/ld+json", "importmap"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.get_forms: list[tuple[str, list[str]]] = []
        self.problems: list[str] = []
        self._script: dict | None = None
        self._style = False
        self._form: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs_d = {k.lower(): (v or "") for k, v in attrs}
        for name, value in attrs_d.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler attribute")
            elif name == "style":
                self.problems.append(f"<{tag} style=\"{value[:40]}\"> inline style")
            elif name in ("href", "src", "action", "formaction", "hx-get", "hx-post") and \
                    value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=\"javascript:…\">")
        for name in ("href", "hx-get", "data-url", "src"):
            value = attrs_d.get(name, "")
            if value.startswith("/") and not value.startswith("//") and tag not in ("script", "link", "img"):
                self.links.append(value)
        if tag == "script":
            self._script = {"attrs": attrs_d, "body": ""}
        elif tag == "style":
            self._style = True
            self.problems.append("<style> element")
        elif tag == "form" and attrs_d.get("method", "get").lower() == "get":
            self._form = (attrs_d.get("action", ""), [])
            self.get_forms.append(self._form)
        elif tag in ("input", "select", "textarea") and self._form is not None and attrs_d.get("name"):
            self._form[1].append(attrs_d["name"])

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            attrs, body = self._script["attrs"], self._script["body"]
            if "src" not in attrs and body.strip() and attrs.get("type", "").lower() not in self.JSON_TYPES:
                self.problems.append(f"inline <script> with code: {body.strip()[:60]!r}")
            self._script = None
        elif tag == "style":
            self._style = False
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"] += data


def parse(body: str) -> PageParser:
    parser = PageParser()
    parser.feed(body)
    parser.close()
    return parser


# --- the crawl --------------------------------------------------------------------

@dataclass
class Page:
    persona: str | None
    url: str
    name: str | None
    status: int
    content_type: str
    body: str
    response: object
    raw: bytes = b""

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith(HTML_TYPES)


def crawl(world: World, persona: str | None, *, seeds: dict[str, list[str]] | None = None,
          per_name: int = PER_NAME, follow: bool = True, only: tuple[str, ...] = (),
          skip: tuple[str, ...] = ()) -> list[Page]:
    """GET every page `persona` (None: anonymous; "resident_portal": the signed-in resident) can
    reach from the seeds.  `only` limits the URL names to those namespaces ("portal", …), `skip`
    leaves those namespaces (or URL names) out."""
    seeds = seeds if seeds is not None else concrete_urls(world)
    client = client_for(world, persona)
    client.raise_request_exception = False  # a view that fails is a 500 page, reported by the tests
    # The hundreds of expected 403/404/405 would each log a warning (with a traceback): only
    # errors are logged while crawling.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        return _crawl(client, world, persona, seeds, per_name, follow, only, skip)
    finally:
        request_log.setLevel(level)


def _crawl(client, world, persona, seeds, per_name, follow, only, skip) -> list[Page]:
    queue: deque[str] = deque()
    per = Counter()
    seen: set[str] = set()

    def add(url: str):
        url = html.unescape(url).split("#")[0]
        if not url.startswith("/") or url.startswith("//") or url.startswith("/static/") or url in seen:
            return
        name = name_of(url)
        namespace = (name or "").split(":")[0]
        if name is None or name in NEVER or (only and namespace not in only) or namespace in skip or name in skip:
            return
        if per[name] >= per_name:
            return
        per[name] += 1
        seen.add(url)
        queue.append(url)

    # Seeds take all but one of each name's places: the last is for a link the pages show.
    for _name, urls in sorted(seeds.items()):
        for url in urls[:max(1, per_name - 1)]:
            add(url)
    pages: list[Page] = []
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        content_type = response.get("Content-Type", "")
        raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
        body = raw.decode(errors="replace") if content_type.startswith(TEXT_TYPES) else ""
        page = Page(persona, url, name_of(url), response.status_code, content_type, body, response, raw)
        pages.append(page)
        if not follow or response.status_code != 200:
            continue
        if page.is_html:
            parsed = parse(body)
            for link in parsed.links:
                add(link)
            for action, names in parsed.get_forms:
                target = action or urlsplit(url).path
                if target.startswith("/") and names:
                    add(f"{target}?{names[0]}=")
        elif content_type.startswith("application/json") and page.name and page.name.endswith("-list"):
            for detail in _api_details(page.name, body):
                add(detail)
    return pages


def _api_details(list_name: str, body: str) -> list[str]:
    """The detail URLs of a DRF router list's first results (by the detail route's own kwarg)."""
    detail = list_name[: -len("-list")] + "-detail"
    pattern = url_names().get(detail)
    if pattern is None:
        return []
    try:
        results = json.loads(body).get("results", [])
    except (ValueError, AttributeError):
        return []
    kwarg = next(iter(pattern.pattern.regex.groupindex), "pk")
    urls = []
    for item in results[:2]:
        value = item.get(kwarg, item.get("id")) if isinstance(item, dict) else None
        if value not in (None, ""):
            urls.append(reverse(detail, kwargs={kwarg: value}))
    return urls


# --- XSS payloads -----------------------------------------------------------------

# What must never reach a page unescaped.  The long form goes into every text field that can
# hold it, the short one into the shorter fields.
RAW_MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>")
LONG_PAYLOAD = 'javascript:alert(1)//"><script>alert(1)</script>"><img src=x onerror=alert(1)>'
SHORT_PAYLOAD = '"><svg onload=alert(1)>'
# Fields the code treats as identifiers, formats or secrets rather than text (URL parts, choices
# without a choices= list, hashes and blind indexes): writing markup there tests nothing but the
# parser of that format.
NOT_TEXT = re.compile(
    r"^(password|username|code|number|key|token|prefix|series|kind|source|action|object_type|object_id|"
    r"request_id|content_type|consent_version|idempotency_key|session_key|credit_code|role)$"
    r"|(_index|hash|digest|sha256|phone|pinyin|_initials|_url)$")
# Append-only (database triggers refuse UPDATE) or not text at all: audit entries get fresh
# payload entries instead (plant_payloads writes them through audit.record).
NOT_UPDATED = {"core.AuditEntry", "core.AuditSeal", "core.RateLimitWindow"}


def text_fields(model) -> list:
    from django.db import models

    from zhouxin.core.crypto import EncryptedTextField

    return [f for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not isinstance(f, EncryptedTextField)
            and not f.choices and not f.unique and not f.primary_key and not NOT_TEXT.search(f.name)
            and (f.max_length is None or f.max_length >= len(SHORT_PAYLOAD) + 12)]


def plant_payloads(world: World) -> dict[str, list[str]]:
    """Write the payloads straight into every text field of every Zhouxin row (no form, no
    service), plus audit entries whose description and before/after carry them.  Returns
    the fields written, by model."""
    import contextlib

    from django.apps import apps
    from django.db import DatabaseError, connection, models, transaction
    from django.db.models import Value
    from django.db.models.functions import Cast, Concat

    from zhouxin.core import audit
    from zhouxin.core.append_only import groups

    APPEND_ONLY_TABLES = {table: group for group in groups() for table in group.tables}

    written: dict[str, list[str]] = {}
    for model in apps.get_models():
        label = model._meta.label
        if not model.__module__.startswith("zhouxin.") or label in NOT_UPDATED:
            continue
        fields = text_fields(model)
        if not fields or not model._base_manager.exists():
            continue
        # The row's id after the payload keeps values unique where a constraint wants them so.
        row_id = Cast("pk", output_field=models.CharField())
        values = {f.name: Concat(Value(LONG_PAYLOAD if f.max_length is None or f.max_length >= len(LONG_PAYLOAD) + 12
                                       else SHORT_PAYLOAD), row_id, output_field=models.TextField())
                  for f in fields}
        try:
            with transaction.atomic(), contextlib.ExitStack() as stack:
                if model._meta.db_table in APPEND_ONLY_TABLES:
                    # Append-only tables (funds ledger, disclosures) are written as an intruder
                    # would: triggers lifted for this transaction only.
                    stack.enter_context(APPEND_ONLY_TABLES[model._meta.db_table].triggers_lifted(connection))
                model._base_manager.update(**values)
        except DatabaseError as exc:  # pragma: no cover - reported, not hidden
            raise AssertionError(f"cannot write payloads into {label}: {exc}") from exc
        written[label] = sorted(values)
    users = world.personas.users
    for persona in ("district_admin", "system_admin", "security_admin"):
        entry = audit.record(actor=users[persona], action="security.payload", object_type="orgs.area",
                             object_id=world.personas.areas["community_a"].pk, object_repr=LONG_PAYLOAD,
                             before={"name": LONG_PAYLOAD}, after={"name": SHORT_PAYLOAD})
        world.first.setdefault("core:audit_detail", []).append(reverse("core:audit_detail", args=[entry.pk]))
    return written


def unescaped(body: str) -> list[str]:
    return [m for m in RAW_MARKUP if m in body]


# --- the shared crawl -----------------------------------------------------------------

# Who the shared crawl goes as, with how many URLs of each name.  The public portal and Open311
# show the same to everyone: anonymous visitors and the resident crawl them, staff do not.
# The district admin sees the most and goes furthest; roles whose pages are mostly refusals
# (or the same pages as another persona's, on other objects) go one URL per name.
SHARED_PERSONAS = {
    "district_admin": 3,
    "audit_admin": 2,
    **dict.fromkeys(("street_hub", "community_staff", "department_handler", "system_admin", "community_staff_b",
                     "grid_worker", "unit_liaison", "security_admin", "member"), 1),
    None: 2,
    "resident_portal": 2,
}
PUBLIC_NAMESPACES = ("portal", "open311")
# The same for every staff persona and slow to build: the district admin fetches the schema.
SCHEMA = ("api:schema",)


def _skipped(persona) -> tuple[str, ...]:
    if persona in (None, "resident_portal"):
        return ()
    return PUBLIC_NAMESPACES if persona == "district_admin" else PUBLIC_NAMESPACES + SCHEMA


@dataclass
class Crawled:
    world: World
    pages: list[Page]
    written: dict[str, list[str]]
    numbers: set[str]


def crawl_everything(tmp_var) -> Crawled:
    """Personas, world and payloads, then a crawl as every staff persona, a member, an anonymous
    visitor and a signed-in resident.  The caller runs it inside a transaction it rolls back."""
    from django.test import override_settings

    from zhouxin.core import policy, workdays
    from zhouxin.dispatch import classify
    from zhouxin.testing.personas import build_personas

    with override_settings(VAR_DIR=tmp_var, SMS_BACKEND="zhouxin.portal.sms.MemoryBackend"):
        classify.reset_cache()
        workdays.invalidate()
        policy.invalidate()
        try:
            personas = build_personas()
            world = build_world(personas)
            world.resident = resident_client(None)
            numbers = world.full_numbers()
            written = plant_payloads(world)
            pages = [page for persona, per_name in SHARED_PERSONAS.items()
                     for page in crawl(world, persona, per_name=per_name, skip=_skipped(persona))]
        finally:
            classify.reset_cache()
            workdays.invalidate()
            policy.invalidate()
    return Crawled(world, pages, written, numbers)
