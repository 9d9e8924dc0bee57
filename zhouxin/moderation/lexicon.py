"""The compiled lexicon: an Aho-Corasick automaton over the active terms, cached per process.

Intake screens every request, so the hot path must not query the database.  How a change
reaches every process:

* every write of the lexicon (services.py) gives the single LexiconState row a new random
  `token` (and bumps its counter) in the writing transaction;
* each process keeps the automaton it built together with the token it was built from and
  the time it last looked at the row; `compiled()` looks again (one indexed one-row query)
  only when CHECK_SECONDS have passed, and rebuilds only when the token differs;
* the writing process itself calls `invalidate()` (at once and after commit), so its next
  screening re-reads the token: an edit in the lexicon page takes effect immediately there
  and within CHECK_SECONDS in every other process, without a restart.

The token is read before the entries, so an automaton is never older than its token; a
random token (not the counter alone) means that a rolled-back change can never be mistaken
for a later committed one.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import ahocorasick

from .choices import LexiconCategory, LexiconKind
from .normalise import fold

CHECK_SECONDS = 3.0


@dataclass(frozen=True)
class Term:
    key: str
    term: str
    category: str

    @property
    def category_label(self) -> str:
        try:
            return str(LexiconCategory(self.category).label)
        except ValueError:
            return self.category


@dataclass(frozen=True)
class Compiled:
    token: str
    automaton: ahocorasick.Automaton | None = None  # every folded key
    latin: ahocorasick.Automaton | None = None  # ASCII-only keys, matched on word boundaries
    latin_keys: frozenset[str] = frozenset()
    domains: dict[str, Term] = field(default_factory=dict)  # host → term; ".bet" → any host ending so
    size: int = 0

    def find_terms(self, folded: str, spaced: str) -> list[Term]:
        found: dict[str, Term] = {}
        if self.automaton is not None and folded:
            for end, term in self.automaton.iter(folded):
                if term.key in self.latin_keys and not _bounded(folded, end - len(term.key) + 1, end):
                    continue
                found.setdefault(term.key, term)
        if self.latin is not None and spaced and not spaced.isspace():
            padded = f" {spaced} "
            for _end, term in self.latin.iter(padded):
                found.setdefault(term.key, term)
        return list(found.values())

    def domain_term(self, host: str) -> Term | None:
        if not self.domains:
            return None
        labels = host.split(".")
        for i in range(len(labels)):
            suffix = ".".join(labels[i:])
            hit = self.domains.get(suffix) if i == 0 else (self.domains.get(suffix) or self.domains.get("." + suffix))
            if hit is not None:
                return hit
        return None


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _bounded(text: str, start: int, end: int) -> bool:
    """A Latin term found in folded text counts only between non-Latin neighbours
    (赌场bet365官网, not alphabet365)."""
    return (start == 0 or not _is_latin(text[start - 1])) and (end + 1 >= len(text) or not _is_latin(text[end + 1]))


def build(token: str, rows) -> Compiled:
    """An automaton from (key, term, category, kind) rows of active entries."""
    automaton = ahocorasick.Automaton()
    latin = ahocorasick.Automaton()
    latin_keys: set[str] = set()
    domains: dict[str, Term] = {}
    words = 0
    for key, term, category, kind in rows:
        if kind == LexiconKind.DOMAIN:
            domains.setdefault(key, Term(key, term, category))
            # A full domain is also a keyword, to find it spelled out with blanks or 点.
            base = key.lstrip(".")
            folded = fold(base)
            if "." in base and len(folded) >= 6 and automaton.get(folded, None) is None:
                automaton.add_word(folded, Term(folded, term, category))
                words += 1
            continue
        if not key or automaton.get(key, None) is not None:
            continue
        value = Term(key, term, category)
        automaton.add_word(key, value)
        words += 1
        if key.isascii():
            latin_keys.add(key)
            latin.add_word(f" {key} ", value)
    if words:
        automaton.make_automaton()
    if latin_keys:
        latin.make_automaton()
    return Compiled(token=token, automaton=automaton if words else None, latin=latin if latin_keys else None,
                    latin_keys=frozenset(latin_keys), domains=domains, size=words + len(domains))


_lock = threading.Lock()
_compiled: Compiled | None = None
_checked_at = -math.inf


def _read_token() -> str:
    from .models import LexiconState

    return LexiconState.objects.filter(pk=1).values_list("token", flat=True).first() or ""


def _read_rows():
    from .models import LexiconEntry

    return LexiconEntry.objects.filter(active=True).order_by("id").values_list("key", "term", "category", "kind")


def compiled() -> Compiled:
    """The automaton of the active lexicon (see the module docstring for when it is rebuilt)."""
    global _compiled, _checked_at
    current = _compiled
    if current is not None and time.monotonic() - _checked_at < CHECK_SECONDS:
        return current
    with _lock:
        if _compiled is not None and time.monotonic() - _checked_at < CHECK_SECONDS:
            return _compiled
        token = _read_token()
        if _compiled is None or _compiled.token != token:
            _compiled = build(token, list(_read_rows()))
        _checked_at = time.monotonic()
        return _compiled


def invalidate() -> None:
    """Look at the lexicon's token at the next screening (this process changed it)."""
    global _checked_at
    _checked_at = -math.inf


def reset_cache() -> None:
    """Forget the automaton (tests: a rolled-back lexicon must not be remembered)."""
    global _compiled, _checked_at
    with _lock:
        _compiled = None
        _checked_at = -math.inf
