"""The two detectors beside the lexicon: keyword stuffing, and links.

Both read the normalised text (normalise.normalise), never the raw input.

Keyword stuffing is the shape of SEO spam injected into hacked government pages: dozens
of short search phrases in a row, joined by |, blanks, commas or slashes, with no
sentence in sight ("澳门赌场|网上赌场|真人百家乐|…").  A *run* is a stretch of short
segments (2–10 characters) between separators with no clause or sentence punctuation
(。！？；：) and no long segment in between.  A run is stuffing when

* it has at least PIPE_MIN_SEGMENTS segments and PIPE_MIN_SEPARATORS of its separators are
  pipes (|, ｜, 丨): ordinary Chinese writing never joins phrases with pipes; or
* it has at least MIN_SEGMENTS segments, most of them Chinese, averaging at least
  MIN_MEAN_LENGTH characters, at least LONG_SHARE of them four characters or more (lists
  of names, 王秀英 刘国庆 …, are mostly two or three), and fewer than NATURAL_SHARE of them
  contain a function word (的 了 我 很 也 都 吗 …), which every sentence typed with blanks
  instead of punctuation has ("楼上 每天 半夜 拖椅子 很吵 找过物业 也没用").  Lists joined by
  the enumeration comma 、 (with commas between the clauses) are how Chinese writes lists
  (参会人员、议题、服务项目), so such a run needs DUNHAO_MIN_SEGMENTS segments.

Links: URLs and bare domains are found even when disguised (xx点com, xx[.]com, full-width
dots, blanks around the dot); e-mail addresses are not links.  A domain on the lexicon's
domain list holds the text; so do links to domains outside the allowlist (policy
"moderation.links") in a short text, or many such links in any text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PIPE_MIN_SEGMENTS = 6
PIPE_MIN_SEPARATORS = 5
MIN_SEGMENTS = 8
DUNHAO_MIN_SEGMENTS = 20
MIN_MEAN_LENGTH = 3.5
LONG_SHARE = 0.6
NATURAL_SHARE = 0.2
SEGMENT_MIN, SEGMENT_MAX = 2, 10

_PIPES = "|丨¦"
_SEPARATORS = _PIPES + " \n\t,，、/\\·•‧∙★☆●○◆◇■□▲△▼▽♦♠♣♥→←↑↓_#~＃～"
_RUN_BREAKS = "。！？；：!?;:…"
_TOKENS = re.compile(
    f"(?P<sep>[{re.escape(_SEPARATORS)}]+)|(?P<brk>[{re.escape(_RUN_BREAKS)}]+)"
    f"|(?P<word>[^{re.escape(_SEPARATORS + _RUN_BREAKS)}]+)"
)
_WORD = f"[^{re.escape(_SEPARATORS + _RUN_BREAKS)}]"
_SEP = f"[{re.escape(_SEPARATORS)}]+"
# The least a stuffing run needs: min(PIPE_MIN_SEGMENTS, MIN_SEGMENTS) short segments in a row.
_CANDIDATE = re.compile(f"(?<!{_WORD})(?:{_WORD}{{{SEGMENT_MIN},{SEGMENT_MAX}}}+{_SEP})"
                        f"{{{min(PIPE_MIN_SEGMENTS, MIN_SEGMENTS) - 1},}}+{_WORD}{{{SEGMENT_MIN},{SEGMENT_MAX}}}+(?!{_WORD})")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_FUNCTION_CHARS = frozenset("的了我你他她吗呢吧啊呀很也都没就还但却又把被给说这那么着过得地等和与及共")


@dataclass
class _Run:
    segments: list[str]
    separators: list[str]

    def is_stuffing(self) -> bool:
        n = len(self.segments)
        if n < min(PIPE_MIN_SEGMENTS, MIN_SEGMENTS):
            return False
        pipes = sum(1 for sep in self.separators if any(p in sep for p in _PIPES))
        if n >= PIPE_MIN_SEGMENTS and pipes >= PIPE_MIN_SEPARATORS:
            return True
        if n < MIN_SEGMENTS:
            return False
        chinese = [s for s in self.segments if _CJK.search(s)]
        if len(chinese) < 0.6 * n:
            return False
        natural = sum(1 for s in chinese if _FUNCTION_CHARS.intersection(s))
        if natural >= NATURAL_SHARE * len(chinese):
            return False
        if sum(len(s) for s in chinese) / len(chinese) < MIN_MEAN_LENGTH:
            return False
        if sum(1 for s in chinese if len(s) >= 4) < LONG_SHARE * len(chinese):
            return False
        # Prose lists: 、 with commas between clauses (the full-width ， is a comma after NFKC).
        dunhao = sum(1 for sep in self.separators if "、" in sep)
        prose = sum(1 for sep in self.separators if "、" in sep or "," in sep)
        return not (dunhao and prose >= 0.8 * len(self.separators) and n < DUNHAO_MIN_SEGMENTS)


def stuffing_runs(text: str) -> list[int]:
    """The segment counts of the stuffing runs in a normalised text (empty: none)."""
    found: list[int] = []
    run = _Run([], [])
    pending_sep = ""

    def close():
        nonlocal run, pending_sep
        if run.is_stuffing():
            found.append(len(run.segments))
        run = _Run([], [])
        pending_sep = ""

    # Cheap first look (one regular expression): most text has no run of short segments at all.
    if not _CANDIDATE.search(text):
        return found
    for match in _TOKENS.finditer(text):
        if match.lastgroup == "sep":
            pending_sep = match.group()
        elif match.lastgroup == "brk":
            close()
        else:
            word = match.group()
            if SEGMENT_MIN <= len(word) <= SEGMENT_MAX and not word.isdigit():
                if run.segments:
                    run.separators.append(pending_sep)
                run.segments.append(word)
                pending_sep = ""
            else:
                close()
    close()
    return found


# --- Links -----------------------------------------------------------------------------

_TLDS = (
    "com|net|org|cn|cc|vip|top|xyz|info|me|tv|io|co|biz|club|site|online|bet|casino|win|shop|live|fun|ltd|hk|tw|"
    "mo|app|pw|ws|la|asia|link|red|ink|wang|xin|ren|tech|store|pro|cloud|work|icu|porn|sex|xxx|adult|poker|"
    "gov|edu|us|uk|jp|kr|ru|in|cx|tk|ml|ga|cf|gq|buzz|today|games|game|bio|lol|mobi|name|one|plus|run|space|"
    "website|world|life|email|tel|im"
)
# A dot, or how spam spells one: 点, [.], (.), 。, 丶, or blanks around a dot.
_DOT = r"(?:\s*(?:\.|点|dot|\[\s*\.\s*\]|\(\s*\.\s*\)|。|丶)\s*)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?<![a-z0-9_@.\-])((?:{_LABEL}{_DOT})+(?:{_TLDS}))(?![a-z0-9\-])")
_URL = re.compile(r"(?:https?|ftp)://([^\s/?#<>\"'，。、]+)")
_DOT_ONLY = re.compile(_DOT)
_QUICK = re.compile(r"\.|点|dot|\[|\(|。|丶|://")


def _clean_host(raw: str) -> str:
    host = _DOT_ONLY.sub(".", raw.strip()).strip(".")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host[4:] if host.startswith("www.") else host


def find_hosts(text: str) -> list[str]:
    """Every link target in a normalised text, in order, repeated as often as it occurs."""
    if not _QUICK.search(text):
        return []
    hosts: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        hosts.append(_clean_host(match.group(1)))
        spans.append(match.span())
    for match in _HOST.finditer(text):
        if any(a <= match.start() < b for a, b in spans):
            continue
        hosts.append(_clean_host(match.group(1)))
    return [h for h in hosts if h]


def allowed(host: str, allowlist) -> bool:
    return any(host == d or host.endswith("." + d) for d in allowlist)


def without_links(text: str) -> str:
    return _HOST.sub("", _URL.sub("", text))
