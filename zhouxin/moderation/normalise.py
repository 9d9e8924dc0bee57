"""Normalising user text before spam screening (DESIGN §4 "Integrity").

SEO spam injected into government sites is disguised so that a plain keyword
search misses it: full-width letters and digits (ｂｅｔ３６５), zero-width and
other invisible format characters between the characters (博\u200b彩), HTML
tags splitting a word (博<b></b>彩), entities (&#21338;彩), spaces or symbols
between characters (博 彩, 博★彩), Traditional characters (賭場).  Screening
therefore never looks at the raw text:

* `normalise(text)` is the readable canonical form: NFKC, HTML tags removed
  and entities decoded, format characters (Unicode category Cf: U+200B–U+200F,
  U+2060…, U+FEFF, the tag characters U+E0000–U+E007F) and variation selectors
  removed, lower case, Traditional → Simplified (OpenCC t2s), runs of blanks
  folded to one space.  The keyword-stuffing and link detectors read this form.
* `fold(normalised)` is the matching key: every character that is neither a
  letter nor a digit is dropped, so separators between characters vanish
  (博 彩 → 博彩), except clause and sentence punctuation (，、。：；！？), which
  becomes one break mark: a term never matches across two clauses
  ("……不赌。场地……" does not contain 赌场).  Lexicon terms are folded the
  same way before they go into the automaton.

No offset mapping back to the original is kept: screening answers hold or pass
with reasons naming the lexicon terms, never a position in the text.

The OpenCC converter is created once per process; its convert() is called under
a lock, since the binding makes no promise about concurrent use.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata

import opencc

_T2S = opencc.OpenCC("t2s")
_T2S_LOCK = threading.Lock()

# Unicode category Cf (Unicode 14, checked against unicodedata by the tests), the whole
# tag block, variation selectors, the combining grapheme joiner and the Hangul fillers
# (invisible letters used the same way).
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f"
    "\u034f\ufe00-\ufe0f\U000e0100-\U000e01ef\u115f\u1160\u3164\uffa0\u17b4\u17b5]"
)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.S | re.I)
# A tag needs a letter (or / or !) right after "<": "PM2.5<75" and "温度<0" stay text.
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|ul|ol|tr|td|th|table|h[1-6]|section|article|blockquote|hr)\b[^<>]*>",
                        re.I)
_TAG = re.compile(r"</?[a-z!][^<>]*>", re.I)
_LINK_ATTR = re.compile(r"""\b(?:href|src|action)\s*=\s*["']?([^"'\s<>]+)""", re.I)
_HIDDEN = re.compile(
    r"""<([a-z][a-z0-9]*)\b[^<>]*\b(?:style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|"""
    r"""font-size\s*:\s*0|opacity\s*:\s*0)[^"']*["']|hidden\b)[^<>]*>(.*?)</\1\s*>""", re.I | re.S)
_BLANKS = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")

# Clause and sentence punctuation (after NFKC: full-width ，：；！？ are their ASCII forms).
BREAKS = "。！？；，、：!?;,:"
BREAK_MARK = "。"
_FOLD_DROP = re.compile(r"[^\w。！？；，、：!?;,:]|_")
_FOLD_BREAKS = re.compile(r"[。！？；，、：!?;,:]+")


def to_simplified(text: str) -> str:
    if text.isascii():
        return text
    with _T2S_LOCK:
        return _T2S.convert(text)


# Full-width ASCII and the ideographic space: NFKC's most common work in Chinese text, done by
# a regular expression first so that the (slow) full normalisation is skipped for most texts.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")


def _half_width(match: re.Match) -> str:
    ch = match.group()
    return " " if ch == "\u3000" else chr(ord(ch) - 0xFEE0)


def _nfkc(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    text = _FULL_WIDTH.sub(_half_width, text)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def strip_html(text: str) -> str:
    """Tags removed (block tags become line breaks, inline tags vanish: 博<b></b>彩 → 博彩).

    What a tag hides is not dropped but moved to the end, each on its own line: the link
    targets of href/src attributes, and the content of elements hidden by their style
    (display:none and the like, the classic way of hiding injected links).  So
    代<span hidden>x</span>开发票 reads 代开发票, and the hidden x is still screened."""
    if "<" in text:
        text = _COMMENT.sub("", text)
        text = _SCRIPT.sub("", text)
        extra = _LINK_ATTR.findall(text)
        hidden = [m.group(2) for m in _HIDDEN.finditer(text)]
        if hidden:
            text = _HIDDEN.sub("", text)
        text = _BLOCK_TAG.sub("\n", text)
        text = _TAG.sub("", text)
        extra += [_TAG.sub("", h) for h in hidden]
        if extra:
            text = "。\n".join([text, *extra])  # a break: the hidden part never joins a word
    if "&" in text:
        text = unicodedata.normalize("NFKC", html.unescape(text))
    return text


def normalise(text: str | None) -> str:
    """The canonical, readable form screened for stuffing and links (see the module docstring)."""
    if not text:
        return ""
    text = _nfkc(str(text))
    text = strip_html(text)
    text = _INVISIBLE.sub("", text)
    text = to_simplified(text.lower())
    text = _BLANKS.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def fold(normalised: str) -> str:
    """The matching key of an already normalised text: letters and digits only, clause
    punctuation kept as one break mark."""
    return _FOLD_BREAKS.sub(BREAK_MARK, _FOLD_DROP.sub("", normalised))


def fold_text(text: str | None) -> str:
    """normalise() then fold(): how lexicon terms are stored and matched."""
    return fold(normalise(text))


_WORDS = re.compile(r"[\W_]+")


def spaced(normalised: str) -> str:
    """Letters and digits with one space for every run of anything else: where Latin terms
    (bet365, pornhub) are matched on word boundaries."""
    return _WORDS.sub(" ", normalised)
