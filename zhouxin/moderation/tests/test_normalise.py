"""normalise() and fold(): the disguises of spam are undone before screening."""

import sys
import unicodedata

import pytest

from zhouxin.moderation import normalise as n
from zhouxin.moderation.detectors import find_hosts, stuffing_runs


@pytest.mark.parametrize(("raw", "folded"), [
    ("博\u200b彩\u200d平\u2060台\ufeff", "博彩平台"),
    ("博<b></b>彩<span class='x'>平</span>台", "博彩平台"),
    ("博 彩 | 平 ★ 台", "博彩平台"),
    ("ＢＥＴ３６５", "bet365"),
    ("澳門賭場", "澳门赌场"),
    ("&#21338;&#24425;", "博彩"),
    ("博\U000e0062\U000e0063彩", "博彩"),
    ("代<span style=\"display:none\">x</span>开发票", "代开发票。x"),
    ("不赌。场地", "不赌。场地"),
    ("不赌，场地", "不赌。场地"),
])
def test_fold(raw, folded):
    assert n.fold_text(raw) == folded


def test_normalise_keeps_readable_text():
    assert n.normalise("  物业费  从1.2元\n\n\n涨到 1.8 元  ") == "物业费 从1.2元\n涨到 1.8 元"
    assert n.normalise("PM2.5<75 时开窗") == "pm2.5<75 时开窗"  # not a tag
    assert n.normalise("<p>第一段</p><p>第二段</p>") == "第一段\n第二段"
    assert n.normalise('<a href="http://bad.example.com/x">看这里</a>') == "看这里。\nhttp://bad.example.com/x"
    assert n.normalise("") == "" and n.normalise(None) == ""


def test_every_format_character_is_removed():
    """The hard-coded class covers Unicode category Cf of this Python's Unicode database."""
    cf = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
    assert n.normalise("甲" + cf + "乙") == "甲乙"


def test_stuffing_detector():
    assert stuffing_runs("甲乙丙丁|戊己庚辛|子丑寅卯|辰巳午未|申酉戌亥|金木水火|东南西北")
    assert not stuffing_runs("停车位收费标准：月租、季租、年租")
    assert not stuffing_runs("楼上 每天 半夜 拖椅子 很吵 找过物业 也找过 居委会 都没用 希望你们 管一管")
    assert not stuffing_runs("垃圾 噪音 停车 漏水 电梯 物业费 绿化 路灯")


def test_hosts_are_found_in_disguise_but_not_in_mail_addresses():
    assert find_hosts("请看 bet365点com 和 abc [.] net 以及 xyz。cn") == ["bet365.com", "abc.net", "xyz.cn"]
    assert find_hosts("材料发送至 dfxsq@163.com") == []
    assert find_hosts("详见 https://www.beijing.gov.cn/zhengce/") == ["beijing.gov.cn"]
