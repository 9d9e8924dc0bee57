"""Terms of a need's or a resource's text, for the text-similarity part of matching.

Terms are computed once when the text is saved (jieba word segmentation, words of two or
more characters, minus words every need and resource shares) and stored space-separated,
so ranking thousands of candidates compares small sets instead of segmenting text.
"""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_jieba = None
# Words that nearly every need or offer contains: they say nothing about fit.
STOP_WORDS = frozenset({
    "社区", "居民", "服务", "提供", "需要", "需求", "我们", "可以", "开展", "活动", "单位", "相关", "进行", "每周",
    "每月", "一次", "以及", "工作", "帮助", "支持", "街道", "辖区", "共建",
})
_WORD = re.compile(r"^[\w\u4e00-\u9fff]{2,}$")
MAX_TERMS = 64


def _segmenter():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(60)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def terms_of(*texts: str) -> str:
    """The distinct terms of the texts, space-separated, in first-seen order (at most MAX_TERMS)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in _segmenter().lcut((text or "").lower()):
            word = word.strip()
            if word and word not in STOP_WORDS and _WORD.match(word) and not word.isdigit():
                seen.setdefault(word, None)
                if len(seen) >= MAX_TERMS:
                    return " ".join(seen)
    return " ".join(seen)


def term_set(terms: str) -> frozenset[str]:
    return frozenset(terms.split()) if terms else frozenset()


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common) if common else 0.0
