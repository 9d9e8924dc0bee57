"""Spam screening of user text: `screen(text) -> Verdict`.

Every text anyone can send (a resident's request through the portal, Open311 or the API,
later wishes, comments, rich text, uploaded file names) is screened before it is
accepted for publication.  The text is normalised (normalise.py) and then

1. matched against the lexicon's active terms (an Aho-Corasick automaton over the folded
   text, lexicon.py): any term holds;
2. checked for keyword stuffing (detectors.stuffing_runs);
3. checked for links (detectors.find_hosts): a domain of the lexicon's domain list holds;
   so do links outside the allowlist in a short text, or many of them.

A hold is never a rejection: the content waits in the moderation queue for a person
(views.queue).  The reasons are Chinese sentences for that person ("命中违规词（赌博）：
百家乐、真人荷官", "疑似关键词堆砌", "含未允许的外部链接 example.com").

Cost: no database query in the common case (the lexicon's version is looked at once per
lexicon.CHECK_SECONDS; the link policy only when the text has links); a 200-character text
takes tens of microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import detectors, lexicon
from .normalise import fold, normalise, spaced


@dataclass(frozen=True)
class Verdict:
    hold: bool
    reasons: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


PASS = Verdict(hold=False)
_MAX_LISTED = 5


def _join(items) -> str:
    items = list(items)
    shown = "、".join(items[:_MAX_LISTED])
    return shown + (_("等") if len(items) > _MAX_LISTED else "")


def screen(text: str | None) -> Verdict:
    normalised = normalise(text)
    if not normalised:
        return PASS
    compiled = lexicon.compiled()
    reasons: list[str] = []
    matched: list[str] = []

    terms = compiled.find_terms(fold(normalised), spaced(normalised) if _has_latin(normalised) else "")
    by_category: dict[str, list[str]] = {}
    for term in terms:
        by_category.setdefault(term.category_label, []).append(term.term)
        matched.append(term.term)
    for label, found in by_category.items():
        reasons.append(_("命中违规词（%(category)s）：%(terms)s") % {"category": label, "terms": _join(found)})

    runs = detectors.stuffing_runs(normalised)
    if runs:
        reasons.append(_("疑似关键词堆砌（连续 %(n)d 个短词，没有句读）") % {"n": max(runs)})

    hosts = detectors.find_hosts(normalised)
    if hosts:
        reasons.extend(_link_reasons(compiled, normalised, hosts, matched))

    if not reasons:
        return PASS
    return Verdict(hold=True, reasons=tuple(reasons), matched=tuple(dict.fromkeys(matched)))


_LATIN = re.compile("[a-z]")


def _has_latin(text: str) -> bool:
    return _LATIN.search(text) is not None


def _link_reasons(compiled, normalised: str, hosts: list[str], matched: list[str]) -> list[str]:
    from zhouxin.core import policy

    reasons: list[str] = []
    bad = {}
    for host in dict.fromkeys(hosts):
        term = compiled.domain_term(host)
        if term is not None:
            bad[host] = term
    if bad:
        for term in bad.values():
            if term.term not in matched:
                matched.append(term.term)
        reasons.append(_("含违规网址：%(hosts)s") % {"hosts": _join(
            f"{host}（{term.category_label}）" for host, term in bad.items())})
    rules = policy.get("moderation.links")
    allowlist = [str(d).strip().lower().lstrip("*.") for d in rules["allowed_domains"]]
    foreign = [h for h in hosts if h not in bad and not detectors.allowed(h, allowlist)]
    if not foreign:
        return reasons
    distinct = list(dict.fromkeys(foreign))
    if len(detectors.without_links(normalised)) <= int(rules["short_text_chars"]):
        reasons.append(_("含未允许的外部链接 %(hosts)s") % {"hosts": _join(distinct)})
    elif len(foreign) >= int(rules["max_links"]):
        reasons.append(_("含多个外部链接（%(n)d 个）：%(hosts)s") % {"n": len(foreign), "hosts": _join(distinct)})
    return reasons


def intake_screen(text: str):
    """The screen registered with dispatch's intake hook (apps.py)."""
    from zhouxin.dispatch.screening import ScreenResult

    verdict = screen(text)
    return ScreenResult(hold=verdict.hold, reason=verdict.reason[:200])
