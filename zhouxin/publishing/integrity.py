"""The published-content integrity monitor (DESIGN §4 "Integrity").

Defaced government sites typically show the real article to people and append a block of
gambling or porn links for search engines only: the server answers differently when the
User-Agent is a crawler, or when the visitor comes from a search results page.  The
monitor therefore renders every watched public page in-process (Django's test client
against the real URLconf and middleware, no network) four times — as a browser, as
Baiduspider, as Googlebot and as a browser arriving from a Baidu results page — and
checks:

(a) the four answers are identical (status, redirect target and the whole page, with only
    the per-request CSRF token masked): anything added for crawlers anywhere in the page
    is found, not only inside the article;
(b) for a notice: the page's marked article region (`data-zx-canonical`, rendered from
    publishing/public/_article.html) hashes to the hash taken at approval, so a body
    changed in the database, or a changed article template, is found;
(c) every host the page links to or loads from is our own or on the allow-list
    (policy "publishing.links");

and the template and static files on disk are compared with the baseline manifest stored
in the database (FileBaseline, recorded by `manage.py integrity_baseline` at start-up or at
the first verification).  A changed file withholds every watched page whose render used
that template or references that static file.  What to do with the findings (withhold,
alert, audit) is services.pages_record_results().
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.template import engines
from django.template.base import Template
from django.template.loader import render_to_string
from django.utils import translation

from zhouxin.core.sanitize import host_allowed, outbound_links, own_hosts

# Requests made by the monitor carry this object under PROBE_KEY in their WSGI environ.  It
# is not a header (those arrive as HTTP_*), and no client can send a Python object, so only
# the monitor itself can see a withheld page's current content.
PROBE_KEY = "zhouxin.integrity_probe"
PROBE = object()

BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36")
BAIDUSPIDER_UA = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@dataclass(frozen=True)
class Variant:
    name: str
    user_agent: str
    search_referer: bool = False


VARIANTS = (
    Variant("browser", BROWSER_UA),
    Variant("baiduspider", BAIDUSPIDER_UA),
    Variant("googlebot", GOOGLEBOT_UA),
    Variant("search_referer", BROWSER_UA, search_referer=True),
)

CANONICAL_ATTR = "data-zx-canonical"
_CANONICAL_START = re.compile(r"<article\b[^>]*\b" + CANONICAL_ATTR + r'="[^"]*"[^>]*>', re.IGNORECASE)
_ARTICLE_TAG = re.compile(r"<(/?)article\b[^>]*>", re.IGNORECASE)
_CSRF = (
    re.compile(r'(name="csrf-token"\s+content=")[^"]*(")'),
    re.compile(r'(name="csrfmiddlewaretoken"\s+value=")[^"]*(")'),
    re.compile(r'(value=")[^"]*("\s+name="csrfmiddlewaretoken")'),
)

# --- Problems ------------------------------------------------------------------------


@dataclass
class Problem:
    code: str  # status, cloaking, region, hash, links, files, error
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "details": self.details}


@dataclass
class Render:
    variant: str
    status: int
    location: str
    html: str
    templates: set[str] = field(default_factory=set)


@dataclass
class PageCheck:
    path: str
    problems: list[Problem] = field(default_factory=list)
    region_hash: str = ""
    templates: set[str] = field(default_factory=set)  # manifest keys of the templates used
    statics: set[str] = field(default_factory=set)  # manifest keys of the static files referenced
    hosts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- Canonical content ---------------------------------------------------------------


def normalise(text: str) -> str:
    """Line-wise stripped, blank lines dropped: indentation is not content."""
    return "\n".join(line.strip() for line in (text or "").splitlines() if line.strip())


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_regions(html: str) -> list[str]:
    """Every marked article region of a page (there must be exactly one), with nested
    <article> elements balanced."""
    regions = []
    for start in _CANONICAL_START.finditer(html or ""):
        depth = 0
        for tag in _ARTICLE_TAG.finditer(html, start.start()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                regions.append(html[start.start():tag.end()])
                break
        else:
            regions.append(html[start.start():])  # unclosed: everything after the marker
    return regions


def region_hash(region: str) -> str:
    return sha256(normalise(region))


def render_notice_region(notice) -> str:
    """The article region exactly as the public page includes it (no translated text in it,
    so the language of whoever approves does not change the hash)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("publishing/public/_article.html", {"notice": notice})


def notice_hash(notice) -> str:
    return region_hash(render_notice_region(notice))


def normalise_page(html: str) -> str:
    for pattern in _CSRF:
        html = pattern.sub(r"\1…\2", html)
    return normalise(html)


# --- Rendering -----------------------------------------------------------------------

_recording: contextvars.ContextVar[set | None] = contextvars.ContextVar("zhouxin_templates_used", default=None)
_patch_lock = threading.Lock()
_patch_state: dict = {"depth": 0, "original": None}


@contextlib.contextmanager
def recording_templates():
    """Record the file of every template rendered in this context (as Django's own test
    instrumentation does, by wrapping Template._render); used only by the monitor's process."""
    with _patch_lock:
        if _patch_state["depth"] == 0:
            original = Template._render
            _patch_state["original"] = original

            def _render(self, context):
                used = _recording.get()
                if used is not None and self.origin is not None and self.origin.name:
                    used.add(str(self.origin.name))
                return original(self, context)

            Template._render = _render
        _patch_state["depth"] += 1
    try:
        yield
    finally:
        with _patch_lock:
            _patch_state["depth"] -= 1
            if _patch_state["depth"] == 0:
                Template._render = _patch_state["original"]


def site_host() -> str:
    hosts = own_hosts()
    return hosts[0] if hosts else "localhost"


def render(path: str, variant: Variant, *, search_words: str = "") -> Render:
    from django.test import Client

    client = Client(raise_request_exception=False, HTTP_HOST=site_host())
    headers = {"User-Agent": variant.user_agent}
    if variant.search_referer:
        headers["Referer"] = f"https://www.baidu.com/s?wd={quote(search_words or path)}"
    used: set[str] = set()
    token = _recording.set(used)
    try:
        response = client.get(path, headers=headers, secure=getattr(settings, "SECURE_SSL_REDIRECT", False),
                              **{PROBE_KEY: PROBE})
    finally:
        _recording.reset(token)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Render(variant=variant.name, status=response.status_code, location=response.get("Location", ""),
                  html=body.decode(response.charset or "utf-8", errors="replace"), templates=used)


def _first_difference(a: str, b: str) -> str:
    """A short excerpt of what `b` has that `a` has not (for the alert and the review page)."""
    added = [line[1:].strip() for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
             if line.startswith("+") and not line.startswith("+++")]
    removed = [line[1:].strip() for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
               if line.startswith("-") and not line.startswith("---")]
    text = " ".join(added) or ("− " + " ".join(removed))
    return text[:300]


def check_page(path: str, *, approved_hash: str | None, allowed: Iterable[str], search_words: str = "",
               variants: Iterable[Variant] = VARIANTS) -> PageCheck:
    """Render `path` in every variant and check (a), (b) when approved_hash is given, and (c)."""
    from django.utils.translation import gettext as _

    allowed = tuple(allowed)
    check = PageCheck(path=path)
    renders = [render(path, v, search_words=search_words) for v in variants]
    reference = renders[0]
    for r in renders:
        check.templates |= {template_key(name) for name in r.templates}
    if reference.status != 200:
        check.problems.append(Problem("status", _("页面无法正常打开（状态码 %(status)s）。") % {"status": reference.status},
                                      {"status": reference.status}))
    base = normalise_page(reference.html)
    for other in renders[1:]:
        if other.status != reference.status or other.location != reference.location:
            check.problems.append(Problem(
                "cloaking", _("以 %(variant)s 访问时页面状态不同（%(a)s → %(b)s）：疑似针对搜索引擎的伪装。")
                % {"variant": other.variant, "a": reference.status, "b": other.status},
                {"variant": other.variant, "status": other.status, "location": other.location}))
            continue
        page = normalise_page(other.html)
        if page != base:
            check.problems.append(Problem(
                "cloaking", _("以 %(variant)s 访问时页面内容不同：疑似只给搜索引擎看的内容。") % {"variant": other.variant},
                {"variant": other.variant, "excerpt": _first_difference(base, page)}))
    if approved_hash is not None:
        regions = canonical_regions(reference.html)
        if len(regions) != 1:
            check.problems.append(Problem("region", _("页面正文区域应有且只有一个，实际有 %(n)d 个。") % {"n": len(regions)},
                                          {"count": len(regions)}))
        else:
            check.region_hash = region_hash(regions[0])
            if check.region_hash != approved_hash:
                check.problems.append(Problem("hash", _("页面正文与审核通过时不一致。"),
                                              {"approved": approved_hash, "current": check.region_hash}))
    hosts: list[str] = []
    for r in renders:
        for host in outbound_links(r.html):
            if host not in hosts:
                hosts.append(host)
        check.statics |= static_keys(r.html)
    check.hosts = hosts
    foreign = [h for h in hosts if not host_allowed(h, allowed)]
    if foreign:
        check.problems.append(Problem("links", _("页面链接到未列入允许名单的网站：%(hosts)s。")
                                      % {"hosts": "、".join(foreign[:10])}, {"hosts": foreign}))
    return check


# --- Files ---------------------------------------------------------------------------


def _display(path: Path) -> str:
    path = path.resolve()
    try:
        return str(path.relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


def template_key(origin_name: str) -> str:
    return "template:" + _display(Path(origin_name))


def template_dirs() -> list[Path]:
    """Every directory templates are loaded from: each engine's DIRS and the apps' templates."""
    from django.template.utils import get_app_template_dirs

    dirs: list[Path] = []
    for engine in engines.all():
        dirs.extend(Path(d) for d in getattr(engine, "dirs", []) or [])
        if getattr(engine, "app_dirs", False):
            dirs.extend(Path(d) for d in get_app_template_dirs("templates"))
    seen, unique = set(), []
    for d in dirs:
        resolved = d.resolve()
        if resolved not in seen and resolved.is_dir():
            seen.add(resolved)
            unique.append(resolved)
    return unique


def static_dirs() -> list[Path]:
    """Collected static files (STATIC_ROOT) when collected, else the project's STATICFILES_DIRS."""
    root = getattr(settings, "STATIC_ROOT", None)
    if root and Path(root).is_dir() and any(Path(root).iterdir()):
        return [Path(root).resolve()]
    dirs = []
    for entry in getattr(settings, "STATICFILES_DIRS", []) or []:
        path = Path(entry[1] if isinstance(entry, list | tuple) else entry)
        if path.is_dir():
            dirs.append(path.resolve())
    return dirs


def _file_hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass(frozen=True)
class FileEntry:
    kind: str
    sha256: str
    size: int


def manifest() -> dict[str, FileEntry]:
    """Every template file (key "template:<path>") and static file (key "static:<URL path>")."""
    files: dict[str, FileEntry] = {}
    for directory in template_dirs():
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            key = "template:" + _display(path)
            if key not in files:
                digest, size = _file_hash(path)
                files[key] = FileEntry("template", digest, size)
    for directory in static_dirs():
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            key = "static:" + path.relative_to(directory).as_posix()
            if key not in files:  # the first directory wins, as for the static files finders
                digest, size = _file_hash(path)
                files[key] = FileEntry("static", digest, size)
    return files


@dataclass
class FileChanges:
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    @property
    def keys(self) -> set[str]:
        return set(self.changed) | set(self.added) | set(self.removed)

    def as_dict(self) -> dict:
        return {"changed": self.changed, "added": self.added, "removed": self.removed}

    def fingerprint(self) -> str:
        return sha256(repr(sorted(self.as_dict().items())))


def compare(baseline: dict[str, str], current: dict[str, FileEntry]) -> FileChanges:
    """baseline: key → sha256."""
    return FileChanges(
        changed=sorted(k for k in baseline.keys() & current.keys() if baseline[k] != current[k].sha256),
        added=sorted(current.keys() - baseline.keys()),
        removed=sorted(baseline.keys() - current.keys()),
    )


_STATIC_REF = None


def static_keys(html: str) -> set[str]:
    """Manifest keys of the static files a page references (<link href>, <script src>, <img src>)."""
    global _STATIC_REF
    prefix = settings.STATIC_URL or "/static/"
    if _STATIC_REF is None or _STATIC_REF[0] != prefix:
        _STATIC_REF = (prefix, re.compile(r'(?:href|src)="' + re.escape(prefix) + r'([^"?#]+)'))
    return {"static:" + m for m in _STATIC_REF[1].findall(html or "")}
