"""Intake screens title, description and the images' file names; the lexicon's changes take effect
without a restart; the cache costs no query on the hot path."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.choices import Status
from zhouxin.moderation import lexicon, services
from zhouxin.moderation.models import LexiconEntry, LexiconState
from zhouxin.moderation.screen import screen

from .helpers import SPAM_TEXT, intake, png

pytestmark = pytest.mark.django_db


def test_intake_holds_spam_with_the_reason(personas, seeded):
    held = intake(personas, title="咨询", description=SPAM_TEXT)
    assert held.status == Status.HELD
    assert "命中违规词（赌博）" in held.hold_reason and "真人百家乐" in held.hold_reason
    normal = intake(personas)
    assert normal.status != Status.HELD and normal.hold_reason == ""


def test_intake_screens_the_names_of_uploaded_images(personas, seeded):
    held = intake(personas, images=[("代开增值税发票-加微.png", png())])
    assert held.status == Status.HELD and "代开增值税" in held.hold_reason
    fine = intake(personas, images=[("楼道照片.png", png())])
    assert fine.status != Status.HELD


def test_a_new_term_screens_at_once_and_a_deactivated_one_no_more(personas):
    text = "本店出售稀有鹦鹉，价格面议"
    assert not screen(text).hold
    entry = services.lexicon_add(actor=personas.users["security_admin"], term="出售稀有鹦鹉",
                                 category="contraband")
    verdict = screen(text)
    assert verdict.hold and verdict.matched == ("出售稀有鹦鹉",)
    assert verdict.reasons == ("命中违规词（违禁品）：出售稀有鹦鹉",)
    services.lexicon_set_active(actor=personas.users["security_admin"], entry=entry, active=False)
    assert not screen(text).hold


def test_another_process_sees_the_change_within_the_check_interval(personas, monkeypatch):
    assert not screen("本店出售稀有鹦鹉").hold
    # Another process adds a term: its row and a new token, nothing invalidated in this one.
    LexiconEntry.objects.create(term="出售稀有鹦鹉", key="出售稀有鹦鹉", category="contraband")
    LexiconState.objects.update_or_create(pk=1, defaults={"token": "from-another-process", "version": 7})
    assert not screen("本店出售稀有鹦鹉").hold  # within the interval: the cached automaton
    monkeypatch.setattr(lexicon, "_checked_at", lexicon._checked_at - lexicon.CHECK_SECONDS - 1)
    assert screen("本店出售稀有鹦鹉").hold


def test_screening_costs_no_query_between_checks(seeded):
    screen("预热")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            screen("楼上邻居每天晚上十一点以后还在拖动家具，噪音很大，严重影响休息。")
    assert len(queries) == 0


def test_links_outside_the_allowlist(seeded):
    assert screen("详细政策请查阅 http://www.bjdch.gov.cn 或首都之窗").hold is False
    verdict = screen("社区活动详情请登录 www.sq-huodong.net 报名")
    assert verdict.reasons == ("含未允许的外部链接 sq-huodong.net",)
    verdict = screen("皇冠网址：hg0088点com，信誉第一")
    assert verdict.hold and "含违规网址：hg0088.com（赌博）" in verdict.reasons
    assert not screen("申报材料请发送至社区邮箱 dfxsq@163.com").hold


def test_the_seed_is_idempotent_and_keeps_deletions(personas):
    with scopes_disabled():
        added = services.seed_default_lexicon()
        assert added > 200
        assert services.seed_default_lexicon() == 0
    entry = LexiconEntry.objects.get(term="百家乐")
    services.lexicon_delete(actor=personas.users["district_admin"], entry=entry)
    with scopes_disabled():
        assert services.seed_default_lexicon() == 0
    assert not LexiconEntry.objects.filter(term="百家乐").exists()
