"""Rich text sanitising (DESIGN §4 "Integrity"): an nh3 allowlist with no style attributes, so
nothing can be hidden.

Hacked government sites are defaced with blocks of gambling and porn links appended below
real articles and hidden from readers (style="display:none", font-size:0, a `hidden`
attribute, a closed <details>) while search engines still index them.  clean_html() keeps
only the few elements a notice needs and *no* attribute that changes how or whether
something is shown (style, class, id, hidden), so anything smuggled in is either removed
or shown to every reader, where screening and the moderator see it:

* elements: p, br, h2–h4, ul/ol/li, strong, em, blockquote, a, table basics, img;
  script, style, iframe, object, embed, svg, math, form controls, template and noscript
  are removed with their content; other elements (details, summary, span, div, font…)
  are unwrapped, their text kept and visible;
* links: http, https, mailto and tel only (no javascript:, data:, vbscript:); a link to
  another host gets rel="noopener noreferrer nofollow", so a planted link passes no
  search ranking even if it survives review;
* images: only from our own site (a site-absolute path or one of ALLOWED_HOSTS), never
  data: or another host;
* comments are dropped.

outbound_links() lists the hosts a piece of HTML links to or loads from (the integrity
monitor compares them with the allow-list) and text_of() gives the plain text that the
spam screen reads.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3
from django.conf import settings

ALLOWED_TAGS = frozenset({
    "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "blockquote", "a",
    "table", "caption", "thead", "tbody", "tr", "th", "td", "img",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
# Removed together with everything inside them (the rest are unwrapped, their text kept).
REMOVED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "template",
    "noscript", "noembed", "noframes", "textarea", "select", "option", "button", "form", "input", "title",
    "head", "meta", "link", "base",
})
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
EXTERNAL_REL = "noopener noreferrer nofollow"

_SPAN = re.compile(r"^[1-9][0-9]?$")
_SCOPE = frozenset({"row", "col", "rowgroup", "colgroup"})
_A_HREF = re.compile(r'<a href="([^"]*)">')
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_BLOCK_BOUNDARY = re.compile(r"</?(?:p|br|h[1-6]|li|ul|ol|blockquote|table|caption|thead|tbody|tr|th|td|div)\b[^>]*>",
                             re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def own_hosts() -> tuple[str, ...]:
    """Our own host names: ALLOWED_HOSTS without wildcards (".example.cn" counts as example.cn)."""
    hosts = []
    for entry in getattr(settings, "ALLOWED_HOSTS", []) or []:
        entry = str(entry).strip().lower().lstrip(".")
        if entry and entry != "*" and not entry.startswith("["):
            hosts.append(entry)
    return tuple(hosts)


def host_of(url: str) -> str:
    """The lower-case host of an absolute or protocol-relative URL; "" for a path or mailto:/tel:."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url if not url.startswith("//") else "https:" + url)
        host = parts.hostname or ""
    except ValueError:
        return "?"  # unparseable (e.g. a broken IPv6 literal): never treated as ours
    return host.rstrip(".").lower()


def host_allowed(host: str, allowed) -> bool:
    """`host` is one of `allowed` or a sub-domain of one (gov.cn allows www.beijing.gov.cn)."""
    host = host.lower().rstrip(".")
    return any(host == a or host.endswith("." + a) for a in (x.lower().strip().lstrip(".") for x in allowed) if a)


def _is_site_path(value: str) -> bool:
    # "/\evil.com" and "//evil.com" are another host to a browser.
    return value.startswith("/") and not value.startswith("//")


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    value = value.strip()
    if "\\" in value and attribute in {"href", "src"}:
        return None  # browsers read "\" as "/": "/\evil.com" would be another host
    if element == "img" and attribute == "src":
        if _is_site_path(value):
            return value
        host = host_of(value)
        if value.lower().startswith(("http://", "https://")) and host and host_allowed(host, own_hosts()):
            return value
        return None  # data:, another host, or a relative path that depends on the page's URL
    if attribute in {"colspan", "rowspan"}:
        return value if _SPAN.match(value) else None
    if attribute == "scope":
        return value if value in _SCOPE else None
    return value


def _is_external(href: str) -> bool:
    href = html_lib.unescape(href)
    if href.lower().startswith(("mailto:", "tel:")):
        return False
    host = host_of(href)
    if not host:
        return False  # a path on our own site
    return not host_allowed(host, own_hosts())


def _mark_external(match: re.Match) -> str:
    href = match.group(1)
    if _is_external(href):
        return f'<a href="{href}" rel="{EXTERNAL_REL}">'
    return match.group(0)


def clean_html(html: str) -> str:
    """The allowlisted form of `html` (see the module docstring).  Idempotent."""
    if not html:
        return ""
    cleaned = nh3.clean(
        str(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)
    return _A_HREF.sub(_mark_external, cleaned).strip()


def text_of(html: str) -> str:
    """The plain text a reader sees (block elements become line breaks), for screening."""
    cleaned = clean_html(html)
    broken = _BLOCK_BOUNDARY.sub("\n", cleaned)
    text = html_lib.unescape(nh3.clean(broken, tags=set(), clean_content_tags=set(REMOVED_WITH_CONTENT)))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


# --- Outbound links ------------------------------------------------------------------

_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "poster", "data", "cite", "background",
                             "longdesc", "manifest", "ping", "xlink:href"})
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+['"]([^'"]+)""", re.IGNORECASE)
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\";\s]+)", re.IGNORECASE)


class _LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        values = {name.lower(): (value or "") for name, value in attrs}
        for name, value in values.items():
            if name in _URL_ATTRIBUTES:
                self.urls.extend(value.split() if name == "ping" else [value])
            elif name in {"srcset", "imagesrcset"}:
                self.urls.extend(part.strip().split(" ")[0] for part in value.split(",") if part.strip())
            elif name == "style":
                self._css(value)
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            found = _REFRESH_URL.search(values.get("content", ""))
            if found:
                self.urls.append(found.group(1))
        self._in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data)

    def _css(self, text: str) -> None:
        self.urls.extend(_CSS_URL.findall(text))
        self.urls.extend(_CSS_IMPORT.findall(text))


def outbound_urls(html: str) -> list[str]:
    """Every URL the HTML links to or loads (a/href, img/src, forms, srcset, CSS url(), meta refresh)."""
    collector = _LinkCollector()
    collector.feed(html or "")
    collector.close()
    return [u.strip() for u in collector.urls if u and u.strip()]


def outbound_links(html: str) -> list[str]:
    """The hosts the HTML links to or loads from, each once, in order of first appearance.
    Paths on our own site and mailto:/tel: have no host and are left out."""
    hosts: list[str] = []
    for url in outbound_urls(html):
        if url.lower().startswith(("mailto:", "tel:", "#")):
            continue
        host = host_of(url)
        if host and host not in hosts:
            hosts.append(host)
    return hosts
