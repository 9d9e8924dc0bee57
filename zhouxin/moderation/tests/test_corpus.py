"""The spam corpus is held entirely, the legitimate corpus not at all (default lexicon)."""

import opencc
import pytest

from zhouxin.moderation.screen import screen

from .corpus import load

pytestmark = pytest.mark.django_db

SPAM = load("spam.txt")
LEGIT = load("legit.txt")


def test_the_corpus_is_big_and_varied_enough():
    to_simplified = opencc.OpenCC("t2s")
    traditional = [s for s in LEGIT if to_simplified.convert(s) != s]
    assert len(SPAM) >= 60
    assert len(LEGIT) >= 220
    assert len(traditional) >= 60
    assert len(set(LEGIT)) == len(LEGIT) and len(set(SPAM)) == len(SPAM)
    # Disguises are present: invisible characters, full-width forms, HTML, Traditional.
    assert sum(1 for s in SPAM if any(c in s for c in "\u200b\u200c\u200d\u2060\ufeff\U000e0061")) >= 5
    assert sum(1 for s in SPAM if any("\uff01" <= c <= "\uff5e" for c in s)) >= 5
    assert sum(1 for s in SPAM if "<" in s or "&#" in s) >= 5
    assert sum(1 for s in SPAM if to_simplified.convert(s) != s) >= 6


def test_every_spam_sample_is_held(seeded):
    missed = [s for s in SPAM if not screen(s).hold]
    assert not missed, "spam not held:\n" + "\n".join(missed)


def test_no_legitimate_text_is_held(seeded):
    held = []
    for sample in LEGIT:
        verdict = screen(sample)
        if verdict.hold:
            held.append(f"{verdict.reasons}: {sample}")
    assert not held, "legitimate text held:\n" + "\n".join(held)


def test_every_hold_says_why_in_chinese(seeded):
    for sample in SPAM:
        verdict = screen(sample)
        assert verdict.reasons and all(r.strip() for r in verdict.reasons), sample
