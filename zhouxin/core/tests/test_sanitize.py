"""Rich text sanitising against the payloads actually used to deface government sites."""

import pytest

from zhouxin.core.sanitize import clean_html, host_allowed, outbound_links, text_of

HIDDEN_LINK_BLOCK = (
    '<p>关于开展老旧小区加装电梯意见征集的通知</p>'
    '<div style="display:none"><a href="http://www.bet365-cn.com/">澳门葡京赌场</a>'
    '<a href="http://www.av-xx.net/">成人视频</a></div>'
)


def test_style_hidden_link_block_is_shown_not_hidden():
    cleaned = clean_html(HIDDEN_LINK_BLOCK)
    assert "style" not in cleaned and "display" not in cleaned
    # The spam is no longer hidden: readers, screening and the moderator all see it.
    assert "澳门葡京赌场" in text_of(HIDDEN_LINK_BLOCK)
    assert outbound_links(cleaned) == ["www.bet365-cn.com", "www.av-xx.net"]


@pytest.mark.parametrize("payload", [
    '<p style="font-size:0">博彩</p>',
    '<span style="font-size:0px;color:#fff">博彩</span>',
    '<p hidden>博彩</p>',
    '<p class="hide" id="x">博彩</p>',
    '<div style="position:absolute;left:-9999px">博彩</div>',
    '<font size="0" color="white">博彩</font>',
    '<details><summary>更多</summary>博彩</details>',
])
def test_nothing_can_hide_text(payload):
    cleaned = clean_html(payload)
    for attribute in ("style", "hidden", "class", "id=", "size", "color", "<details", "<font", "<span", "<div"):
        assert attribute not in cleaned
    assert "博彩" in cleaned


@pytest.mark.parametrize("payload", [
    '<a href="javascript:alert(1)">点我</a>',
    '<a href="JaVaScRiPt:alert(1)">点我</a>',
    '<a href="&#106;avascript:alert(1)">点我</a>',
    '<a href="&#x6A;&#x61;vascript&#58;alert(1)">点我</a>',
    '<a href="java\tscript:alert(1)">点我</a>',
    '<a href="vbscript:msgbox(1)">点我</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">点我</a>',
])
def test_script_and_data_urls_are_removed(payload):
    cleaned = clean_html(payload)
    assert "script" not in cleaned.lower() and "data:" not in cleaned
    assert "href" not in cleaned
    assert "点我" in cleaned


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<img src="/x.png" onerror="alert(1)">',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name="q"><button>go</button></form>',
    "<scr<script>ipt>alert(1)</script>",
    "<style>@import url(https://evil.example/x.css);</style>",
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!-- <script>alert(1)</script> -->",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
])
def test_active_content_is_removed(payload):
    cleaned = clean_html(payload)
    lowered = cleaned.lower()
    for bad in ("<script", "onload", "onerror", "<iframe", "<object", "<embed", "<form", "<input", "<svg", "<style",
                "<math", "<base", "<meta", "evil.example"):
        assert bad not in lowered, (payload, cleaned)


def test_entity_encoded_script_stays_text():
    cleaned = clean_html("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert "<script" not in cleaned
    assert text_of(cleaned) == "<script>alert(1)</script>"  # shown literally, never run


def test_links_keep_allowed_schemes_and_external_ones_get_nofollow():
    cleaned = clean_html(
        '<a href="https://www.beijing.gov.cn/zhengce/">政策</a> <a href="/portal/">门户</a> '
        '<a href="mailto:office@example.cn">邮件</a> <a href="tel:010-65123456">电话</a> '
        '<a href="ftp://files.example.cn/">ftp</a> <a href="http://localhost/portal/">本站</a>')
    assert '<a href="https://www.beijing.gov.cn/zhengce/" rel="noopener noreferrer nofollow">政策</a>' in cleaned
    assert '<a href="/portal/">门户</a>' in cleaned
    assert '<a href="mailto:office@example.cn">邮件</a>' in cleaned
    assert '<a href="tel:010-65123456">电话</a>' in cleaned
    assert "ftp:" not in cleaned
    assert '<a href="http://localhost/portal/">本站</a>' in cleaned  # our own host (ALLOWED_HOSTS)


def test_protocol_relative_and_backslash_urls_count_as_other_hosts():
    cleaned = clean_html('<a href="//spam.example/">a</a><a href="/\\spam.example/">b</a>'
                         '<img src="//spam.example/x.png"><img src="/\\spam.example/x.png">')
    assert '<a href="//spam.example/" rel="noopener noreferrer nofollow">a</a>' in cleaned
    assert "<a>b</a>" in cleaned
    assert "<img" not in cleaned
    assert outbound_links(cleaned) == ["spam.example"]


def test_images_only_from_our_own_site():
    cleaned = clean_html('<img src="/static/zhouxin/favicon.svg" alt="图标" width="0" height="0">'
                         '<img src="https://tracker.example/p.gif"><img src="data:image/png;base64,iVBORw0KGgo=">'
                         '<img src="http://localhost/static/a.png">')
    assert cleaned == ('<img src="/static/zhouxin/favicon.svg" alt="图标">'
                       '<img src="http://localhost/static/a.png">')


def test_nested_and_broken_markup_is_balanced():
    cleaned = clean_html("<p><strong><em>重要<p>通知</strong></em><ul><li>一<li>二</ul><table><tr><td colspan=2>表"
                         "<td rowspan=999 onclick=x>格</table>")
    assert cleaned.count("<p>") == cleaned.count("</p>")
    assert cleaned.count("<li>") == cleaned.count("</li>") == 2
    assert 'colspan="2"' in cleaned and "rowspan" not in cleaned and "onclick" not in cleaned


def test_clean_html_is_idempotent_and_keeps_ordinary_notice():
    notice = ("<h2>停水通知</h2><p>因管线改造，<strong>6月3日 9:00—17:00</strong>停水。</p>"
              "<ul><li>1号楼</li><li>2号楼</li></ul><blockquote>请提前储水。</blockquote>")
    assert clean_html(notice) == notice
    assert clean_html(clean_html(HIDDEN_LINK_BLOCK)) == clean_html(HIDDEN_LINK_BLOCK)


def test_text_of_separates_blocks():
    assert text_of("<p>第一段</p><p>第二段</p><ul><li>甲</li><li>乙</li></ul>") == "第一段\n第二段\n甲\n乙"


def test_outbound_links_of_a_whole_page():
    page = ('<link rel="stylesheet" href="/static/app.css"><script src="https://cdn.evil.example/x.js"></script>'
            '<meta http-equiv="refresh" content="5; url=https://redirect.example/">'
            '<div style="background:url(https://bg.example/x.png)"></div><img srcset="https://a.example/1x.png 1x, '
            '/2x.png 2x"><style>@import "https://css.example/x.css";</style><a href="mailto:a@b.cn">m</a>')
    assert outbound_links(page) == ["cdn.evil.example", "redirect.example", "bg.example", "a.example",
                                    "css.example"]


def test_host_allowed_matches_subdomains_only():
    assert host_allowed("www.beijing.gov.cn", ["gov.cn"])
    assert host_allowed("gov.cn", ["gov.cn"])
    assert not host_allowed("evilgov.cn", ["gov.cn"])
    assert not host_allowed("gov.cn.evil.example", ["gov.cn"])
