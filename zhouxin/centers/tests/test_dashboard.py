"""The street and community utilisation dashboards and the visitor-count form: who sees which
centres, the period chooser, the figures in the tables, the chart data island, and recording the
day's visitors from the page.

Centres, rooms and visitor counts are made through the services; bookings of today and of last
month are written directly (the booking service only takes times still to come)."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import centres as centre_services
from zhouxin.centers import utilisation
from zhouxin.centers.choices import BookerKind, BookingStatus
from zhouxin.centers.models import Booking, VisitCount
from zhouxin.core.scoping import scopes_disabled

ALL_DAY = {key: [["08:00", "20:00"]] for key in ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")}
STREET = reverse("centers:dashboard_street")
COMMUNITY = reverse("centers:dashboard_community")
VISITS = reverse("centers:visits")


def _at(day, hour):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


@pytest.fixture
def board(personas):
    """A street centre and a community centre in 东华门街道 (多福巷, and 银闸 with none), one in 景山街道's
    吉祥社区; today's bookings and visitors, and a day of last month."""
    today = timezone.localdate()
    last_month = utilisation.period_for("last_month", today).first
    areas = personas.areas
    built = {}
    with scopes_disabled():
        for key, area, actor, name in (
                ("street", areas["street_a"], personas.street_hub, "东华门街道党群服务中心"),
                ("duofu", areas["community_a"], personas.community_staff, "多福巷社区党群服务站"),
                ("yinzha", areas["community_a2"], personas.street_hub, "银闸社区党群服务站"),
                ("jixiang", areas["community_b"], personas.community_staff_b, "吉祥社区党群服务站")):
            centre = centre_services.centre_save(actor=actor, area=area, name=name, address=f"{area.name}1号",
                                                 floor_area=Decimal("800"), opening_hours=ALL_DAY)
            room = centre_services.room_save(actor=actor, centre=centre, name=f"{name[:2]}多功能厅", floor_area=Decimal("120"),
                                             capacity=60)
            built[key] = centre
            built[f"{key}_room"] = room
        # 多福巷: today 2 h approved and a no-show; last month 3 h.
        for room, day, start, end, status in (
                (built["duofu_room"], today, 8, 10, BookingStatus.APPROVED),
                (built["duofu_room"], today, 10, 11, BookingStatus.NO_SHOW),
                (built["duofu_room"], last_month, 9, 12, BookingStatus.COMPLETED),
                (built["jixiang_room"], today, 8, 20, BookingStatus.APPROVED)):
            Booking.objects.unscoped().create(room=room, title="居民议事会", booker_kind=BookerKind.STAFF,
                                              starts_at=_at(day, start), ends_at=_at(day, end), expected=20,
                                              status=status)
    utilisation.visits_record(actor=personas.community_staff, centre=built["duofu"], day=today, visitors=4321)
    utilisation.visits_record(actor=personas.community_staff, centre=built["duofu"], day=last_month, visitors=1234)
    utilisation.visits_record(actor=personas.community_staff_b, centre=built["jixiang"], day=today, visitors=9876)
    return built


def _data(response) -> dict:
    match = re.search(r'<script id="centres-dashboard-data" type="application/json">(.*?)</script>',
                      response.content.decode())
    assert match, "no chart data island"
    return json.loads(match.group(1))


def _rows(response, table_id) -> list[list[str]]:
    html = response.content.decode()
    table = html[html.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):], re.S):
        rows.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return rows


def test_the_street_hub_sees_the_centres_of_their_street(board, client_for):
    response = client_for("street_hub").get(STREET)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("东华门街道党群服务中心", "多福巷社区党群服务站", "银闸社区党群服务站"):
        assert name in html
    assert "吉祥社区党群服务站" not in html and "9876" not in html
    rows = {row[0]: row for row in _rows(response, "zx-centres-centre-table")}
    duofu = rows["多福巷社区党群服务站"]
    # rooms, open h, used h, occupancy, bookings, no-shows, events, attendance, visitors
    assert duofu[1] == "1" and duofu[3] == "2" and duofu[5:7] == ["1", "1"] and duofu[9] == "4321"
    open_hours = Decimal(duofu[2].replace(",", ""))
    assert open_hours == 12 * timezone.localdate().day
    assert duofu[4] == f"{(Decimal(200) / open_hours).quantize(Decimal('0.1'))}%"
    data = _data(response)
    assert [c["name"] for c in data["centres"]] == ["东华门街道党群服务中心", "多福巷社区党群服务站", "银闸社区党群服务站"]
    assert sum(data["visitors"]) == 4321
    assert sum(data["bookings"]) == 1 and sum(data["no_shows"]) == 1


def test_the_page_has_no_inline_script(board, client_for):
    html = client_for("street_hub").get(STREET).content.decode()
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert all('type="application/json"' in attrs for attrs in scripts), scripts
    assert "vendor/echarts/echarts.min.js" in html and "zhouxin/centres-dashboard.js" in html
    assert ' style="' not in html


def test_another_street_is_not_found(board, client_for):
    assert client_for("street_hub").get(STREET, {"street": "110101002"}).status_code == 404
    assert client_for("street_hub").get(COMMUNITY, {"community": "110101002001"}).status_code == 404


def test_the_district_admin_picks_a_street(board, client_for):
    client = client_for("district_admin")
    first = client.get(STREET)
    assert "多福巷社区党群服务站" in first.content.decode()
    other = client.get(STREET, {"street": "110101002"})
    html = other.content.decode()
    assert "吉祥社区党群服务站" in html and "9876" in html
    assert "多福巷社区党群服务站" not in html
    assert "登记来访人次" not in html  # the district reads, it does not keep the centres


def test_community_staff_see_their_community_only(board, client_for):
    client = client_for("community_staff")
    assert client.get(STREET).url == COMMUNITY
    response = client.get(COMMUNITY)
    html = response.content.decode()
    assert "多福巷社区党群服务站" in html and "4321" in html
    assert "银闸社区党群服务站" not in html and "东华门街道党群服务中心" not in html
    assert client.get(COMMUNITY, {"community": "110101001002"}).status_code == 404
    assert [r[0] for r in _rows(response, "zx-centres-rooms")] == ["多福多功能厅"]


def test_the_street_hub_picks_a_community(board, client_for):
    response = client_for("street_hub").get(COMMUNITY, {"community": "110101001002"})
    html = response.content.decode()
    assert "银闸社区党群服务站" in html and "多福巷社区党群服务站" not in html


def test_the_period_chooser(board, client_for):
    client = client_for("community_staff")
    last = client.get(COMMUNITY, {"period": "last_month"})
    html = last.content.decode()
    assert "1234" in html and "4321" not in html
    row = _rows(last, "zx-centres-centre-table")[0]
    assert row[3] == "3" and row[5] == "1" and row[6] == "0"
    year = client.get(COMMUNITY, {"period": "last_12_months"})
    assert "5555" in year.content.decode()  # 4321 + 1234
    assert len(_data(year)["weeks"]) >= 48


def test_staff_record_visitors_from_the_dashboard(board, client_for):
    client = client_for("community_staff")
    page = client.get(COMMUNITY)
    assert "登记来访人次" in page.content.decode()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(VISITS, {"centre": board["duofu"].pk, "day": yesterday.isoformat(), "visitors": "88",
                                    "next": f"{COMMUNITY}?period=this_month"})
    assert response.status_code == 302 and response.url == f"{COMMUNITY}?period=this_month"
    with scopes_disabled():
        assert VisitCount.objects.unscoped().get(centre=board["duofu"], day=yesterday).visitors == 88
    # A count for tomorrow is refused with the reason; nothing is written.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    refused = client.post(VISITS, {"centre": board["duofu"].pk, "day": tomorrow.isoformat(), "visitors": "5"},
                          follow=True)
    assert "不能登记今天以后的来访人次" in refused.content.decode()
    with scopes_disabled():
        assert not VisitCount.objects.unscoped().filter(day=tomorrow).exists()


def test_next_must_stay_on_the_site(board, client_for):
    response = client_for("community_staff").post(VISITS, {
        "centre": board["duofu"].pk, "day": timezone.localdate().isoformat(), "visitors": "7",
        "next": "https://evil.example/"})
    assert response.url == VISITS


def test_the_visits_page_lists_recent_counts_of_ones_own_centres(board, client_for):
    html = client_for("community_staff").get(VISITS).content.decode()
    assert "4321" in html and "9876" not in html
    html = client_for("street_hub").get(VISITS).content.decode()
    assert "4321" in html and "9876" not in html
    assert "银闸社区党群服务站" in html  # in the form's choices


def test_others_cannot_record_visitors(board, client_for):
    day = timezone.localdate().isoformat()
    # Another street's community staff do not find the centre; the district may read but not record.
    assert client_for("community_staff_b").post(
        VISITS, {"centre": board["duofu"].pk, "day": day, "visitors": "1"}).status_code == 404
    assert client_for("district_admin").post(
        VISITS, {"centre": board["duofu"].pk, "day": day, "visitors": "1"}).status_code == 403
    # Community staff of 多福巷 do not find the street's own centre.
    assert client_for("community_staff").post(
        VISITS, {"centre": board["street"].pk, "day": day, "visitors": "1"}).status_code == 404
    with scopes_disabled():
        assert VisitCount.objects.unscoped().filter(visitors=1).count() == 0


def test_the_street_dashboard_query_count_does_not_grow_with_centres(board, personas, client_for,
                                                                     django_assert_max_num_queries):
    client = client_for("street_hub")
    client.get(STREET)  # warm the session and the calendar
    with scopes_disabled():
        for n in range(5):
            centre = centre_services.centre_save(
                actor=personas.street_hub, area=personas.areas["community_a2"], name=f"银闸社区服务点{n}",
                address="银闸胡同", floor_area=Decimal("500"), opening_hours=ALL_DAY)
            for k in range(3):
                room = centre_services.room_save(actor=personas.street_hub, centre=centre, name=f"活动室{k}",
                                                 floor_area=Decimal("50"), capacity=20)
                Booking.objects.unscoped().create(
                    room=room, title="书法班", booker_kind=BookerKind.STAFF, starts_at=_at(timezone.localdate(), 9),
                    ends_at=_at(timezone.localdate(), 10), expected=10, status=BookingStatus.APPROVED)
    with django_assert_max_num_queries(16):
        response = client.get(STREET, {"period": "last_12_months"})
    assert response.content.decode().count("银闸社区服务点") >= 5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("orm_beside_playwright")
def test_in_a_browser_the_charts_draw_under_the_csp_and_the_count_is_recorded(
        board, personas, live_server, browser, browser_context_args):
    """The street hub opens 中心使用情况 from the menu: every chart is drawn (ECharts from the data
    island, no CSP error), the tables carry the numbers, axe-core finds nothing serious; the hub
    then records yesterday's visitors of 银闸 from the form on the page."""
    from playwright.sync_api import expect

    from zhouxin.testing.browser import Axe, open_from_menu, sign_in

    expect.set_options(timeout=15_000)
    errors: list[str] = []
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server.url, personas, "street_hub")
    open_from_menu(page, "党群服务中心", "中心使用情况")
    expect(page.get_by_role("heading", name="街道中心使用情况")).to_be_visible()
    for chart in ("centres", "rooms", "weekly", "events"):
        expect(page.locator(f'[data-centres-chart="{chart}"] canvas')).to_have_count(1)
    expect(page.locator("#zx-centres-centre-table")).to_contain_text("4321")
    page.get_by_label("统计期").select_option("last_month")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#zx-centres-centre-table")).to_contain_text("1234")

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    page.get_by_label("服务中心", exact=True).select_option(label="银闸社区党群服务站")
    page.get_by_label("日期", exact=True).fill(yesterday.isoformat())
    page.get_by_label("来访人次", exact=True).fill("66")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_text("已登记银闸社区党群服务站")).to_be_visible()
    assert "period=last_month" in page.url
    with scopes_disabled():
        assert VisitCount.objects.unscoped().get(centre=board["yinzha"], day=yesterday).visitors == 66
    assert not [e for e in errors if "Content Security Policy" in e or "echarts" in e.lower()], errors

    axe = Axe()
    # The same session (a TOTP code is good once), in a context that lets axe-core be injected.
    axe_context = browser.new_context(**browser_context_args, bypass_csp=True, storage_state=context.storage_state())
    axe.check_url(axe_context, live_server.url + STREET)
    axe.check_url(axe_context, live_server.url + VISITS)
    axe.assert_clean()
    context.close()
    axe_context.close()
