"""GET requests, requests/{id} and tokens/{token}: only with an api_key, only what its user
sees, with the spec's filters and defaults (90 days, at most 1,000), never personal data."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from zhouxin.api.models import ApiToken
from zhouxin.api.open311 import selectors
from zhouxin.api.services import api_token_revoke
from zhouxin.dispatch import services
from zhouxin.dispatch.choices import Status

from .open311_helpers import BASE, api_key, as_text, assert_same_in_both_formats, from_xml, intake, post

pytestmark = pytest.mark.django_db

FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
          "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
          "address", "address_id", "zipcode", "lat", "long", "media_url"]


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def clerk_key(personas, dispatch_world):
    return api_key(personas, "community_staff")


def listed(client, key, **params) -> list[dict]:
    response = client.get(f"{BASE}/requests.json", {"api_key": key, **params})
    assert response.status_code == 200, response.content
    return response.json()


def numbers(client, key, **params) -> list[str]:
    return [r["service_request_id"] for r in listed(client, key, **params)]


# --- the api_key --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["requests", "requests/11010126112700001", "tokens/" + "a" * 32])
def test_reading_requests_needs_a_valid_api_key(client, personas, clerk_key, path):
    r = intake(personas, category=None)
    signed_in = Client()
    signed_in.force_login(personas.users["community_staff"])  # a session is not an api_key
    api_token_revoke(actor=personas.users["system_admin"],
                     token=ApiToken.objects.get(user=personas.users["community_staff"]))
    for who, params in ((client, {}), (signed_in, {}), (client, {"api_key": "wrong"}),
                        (client, {"api_key": clerk_key})):
        data = assert_same_in_both_formats(who, f"{BASE}/{path}", data=params)
        assert data[0]["code"] == 403 and "api_key" in data[0]["description"]
        assert r.number not in str(data)


# --- what a request looks like -----------------------------------------------------------------------

def test_a_request_as_open311_shows_it(client, personas, clerk_key, dispatch_world):
    submitted = post(client, **{"api_key": clerk_key, "service_code": "040102", "attribute[kind]": "complaint",
                                "address_id": "110101001001", "lat": "39.9142", "long": "116.4041",
                                "description": "楼道里堆满纸箱，消防通道被堵。", "phone": "13900001111",
                                "first_name": "桂兰", "last_name": "吴", "media_url": "https://example.org/p.jpg"})
    number = submitted.json()[0]["service_request_id"]
    [item] = assert_same_in_both_formats(client, f"{BASE}/requests/{number}", data={"api_key": clerk_key})
    assert list(item) == FIELDS
    assert item["service_request_id"] == number
    assert item["status"] == "open" and item["status_notes"] == "已派单"
    assert (item["service_code"], item["service_name"]) == ("040102", "楼道卫生")
    assert item["description"] == "楼道里堆满纸箱，消防通道被堵。"
    assert item["agency_responsible"] == "中共多福巷社区委员会"
    assert item["address"] == "多福巷社区" and item["address_id"] == "110101001001" and item["zipcode"] is None
    assert (item["lat"], item["long"]) == (39.9142, 116.4041)
    assert item["media_url"] == "https://example.org/p.jpg"
    with_offset = [item["requested_datetime"], item["updated_datetime"], item["expected_datetime"]]
    assert all(value.endswith("+08:00") for value in with_offset)
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.dispatch.models import ServiceRequest

    with scopes_disabled():
        stored = ServiceRequest.objects.get(number=number)
    assert parse_datetime(item["expected_datetime"]) == stored.resolve_due_at.replace(microsecond=0)
    assert parse_datetime(item["requested_datetime"]) == stored.received_at.replace(microsecond=0)
    assert item["service_notice"].startswith("按时限要求")
    body = client.get(f"{BASE}/requests/{number}.xml", {"api_key": clerk_key}).content.decode()
    for personal in ("13900001111", "139****1111", "吴桂兰", "桂兰"):
        assert personal not in body
    root = ET.fromstring(body.encode())
    assert root.tag == "service_requests" and [e.tag for e in root[0]] == FIELDS


def test_a_request_from_another_channel_has_no_media_and_its_place_as_address(client, personas, clerk_key):
    r = intake(personas, category=None, contact_name="赵大妈", phone="13700009999")
    [item] = listed(client, clerk_key)
    assert item["service_request_id"] == r.number
    assert item["service_code"] is None and item["service_name"] is None and item["agency_responsible"] is None
    assert item["media_url"] is None and item["lat"] is None and item["address"] == "多福巷社区"
    assert "赵大妈" not in str(item) and "13700009999" not in str(item)


def test_status_and_notes_follow_the_request(client, personas, clerk_key, dispatch_world):
    clerk, hub = personas.users["community_staff"], personas.users["street_hub"]
    r = intake(personas, category=dispatch_world.categories["040102"])
    services.request_accept(actor=clerk, request=r)
    services.request_contact(actor=clerk, request=r, note="电话联系")
    services.request_reply(actor=clerk, request=r, reply="已联系物业清理纸箱。")
    [item] = listed(client, clerk_key)
    assert item["status"] == "open" and item["status_notes"] == "已答复：已联系物业清理纸箱。"
    services.request_callback(actor=hub, request=r, resolution="resolved", satisfaction="satisfied")
    [item] = listed(client, clerk_key)
    assert item["status"] == "closed" and item["status_notes"] == "已办结：已联系物业清理纸箱。"

    spam = intake(personas, title="重复来电")
    services.request_invalidate(actor=hub, request=spam, reason="同一人重复来电")
    master, duplicate = intake(personas, title="主工单"), intake(personas, title="同一件事")
    services.request_merge(actor=hub, master=master, duplicates=[duplicate])
    notes = {i["service_request_id"]: (i["status"], i["status_notes"]) for i in listed(client, clerk_key)}
    assert notes[spam.number] == ("closed", "无效：同一人重复来电")
    assert notes[duplicate.number] == ("closed", f"已合并至工单 {master.number}，随主工单办理。")
    assert notes[master.number][0] == "open"


# --- filters -------------------------------------------------------------------------------------

def test_service_request_id_picks_requests_and_overrides_the_rest(client, personas, clerk_key, dispatch_world):
    a, b, c = (intake(personas, title=t) for t in ("一号", "二号", "三号"))
    assert numbers(client, clerk_key, service_request_id=f"{a.number}, {c.number},nonsense") == [c.number, a.number]
    # The other arguments do not apply (even ones that would be refused on their own).
    assert numbers(client, clerk_key, service_request_id=b.number, status="closed", service_code="999999",
                   start_date="not a date") == [b.number]


def test_service_code_and_status_filter(client, personas, clerk_key, dispatch_world):
    lift = intake(personas, title="电梯", category=dispatch_world.categories["040101"])
    stairs = intake(personas, title="楼道", category=dispatch_world.categories["040102"])
    gone = intake(personas, title="无效")
    services.request_invalidate(actor=personas.users["street_hub"], request=gone, reason="恶意骚扰来电")
    assert numbers(client, clerk_key, service_code="040101") == [lift.number]
    assert numbers(client, clerk_key, service_code="040101,040102") == [stairs.number, lift.number]
    assert numbers(client, clerk_key, status="closed") == [gone.number]
    assert numbers(client, clerk_key, status="open") == [stairs.number, lift.number]
    assert numbers(client, clerk_key, status="open,closed") == [gone.number, stairs.number, lift.number]
    response = client.get(f"{BASE}/requests.json", {"api_key": clerk_key, "status": "open,pending"})
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": "status：“pending”无效，应为 open 或 closed。"}]


def _received_days_ago(personas, monkeypatch, days: float, **kwargs):
    at = timezone.now() - dt.timedelta(days=days)
    monkeypatch.setattr(services, "_now", lambda: at)
    try:
        return intake(personas, **kwargs)
    finally:
        monkeypatch.undo()


def test_by_default_the_last_90_days(client, personas, clerk_key, monkeypatch):
    old = _received_days_ago(personas, monkeypatch, 91, title="三个月前")
    recent = _received_days_ago(personas, monkeypatch, 89, title="两个多月前")
    today = intake(personas, title="今天")
    assert numbers(client, clerk_key) == [today.number, recent.number]
    # A window that reaches back finds the old one.
    start = (timezone.localdate() - dt.timedelta(days=120)).isoformat()
    end = (timezone.localdate() - dt.timedelta(days=60)).isoformat()
    assert numbers(client, clerk_key, start_date=start, end_date=end) == [recent.number, old.number]
    # start_date alone: 90 days from it; end_date alone: the 90 days before it.
    assert numbers(client, clerk_key, start_date=start) == [recent.number, old.number]
    assert numbers(client, clerk_key, end_date=timezone.localdate().isoformat()) == [today.number, recent.number]


def test_dates_are_w3c_datetimes(client, personas, clerk_key):
    r = intake(personas)
    received = timezone.localtime(r.received_at)
    just_before = (received - dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    just_after = (received + dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    assert numbers(client, clerk_key, start_date=just_before, end_date=just_after) == [r.number]
    utc_after = (received + dt.timedelta(seconds=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert numbers(client, clerk_key, start_date=just_after, end_date=utc_after) == []
    assert numbers(client, clerk_key, start_date=just_before, end_date=utc_after) == [r.number]
    # Without an offset a time is Beijing time.
    assert numbers(client, clerk_key, start_date=just_before[:19]) == [r.number]


@pytest.mark.parametrize("params, expected", [
    ({"start_date": "2026-13-01"}, "start_date：时间格式应为 W3C 日期时间"),
    ({"start_date": "yesterday"}, "start_date：时间格式应为 W3C 日期时间"),
    ({"end_date": "2026-02-30T10:00:00+08:00"}, "end_date：时间格式应为 W3C 日期时间"),
    ({"start_date": "2026-06-01", "end_date": "2026-01-01"}, "end_date：结束时间不能早于开始时间。"),
    ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "end_date：查询时间范围不能超过 90 天。"),
    ({"start_date": "9999-12-31"}, "start_date：日期超出范围。"),
    ({"end_date": "0001-01-01"}, "end_date：日期超出范围。"),
    ({"start_date": "0001-01-01T00:00:00", "end_date": "0001-01-02"}, "start_date：日期超出范围。"),
    ({"start_date": "2" * 5000}, "start_date：时间格式应为 W3C 日期时间"),
])
def test_bad_dates_are_400(client, personas, clerk_key, params, expected):
    response = client.get(f"{BASE}/requests.json", {"api_key": clerk_key, **params})
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith(expected), response.json()


def test_at_most_1000_requests_newest_first(client, personas, clerk_key, dispatch_world):
    """1,001 real requests through the intake service: the oldest is the one left out."""
    made = [intake(personas, title=f"第{i}件", category=dispatch_world.categories["040102"]).number
            for i in range(selectors.MAX_RESULTS + 1)]
    got = numbers(client, clerk_key)
    assert len(got) == 1000
    assert got == list(reversed(made))[:1000]
    assert made[0] not in got


def test_query_count_does_not_grow_with_the_list(client, personas, clerk_key, dispatch_world,
                                                 django_assert_max_num_queries):
    def make(n):
        for i in range(n):
            r = intake(personas, title=f"诉求{i}", category=dispatch_world.categories["040102"])
            if i % 2:
                services.request_accept(actor=personas.users["community_staff"], request=r)
    # The token, its user's grants, the jurisdiction's cities, the requests with all they show.
    make(3)
    post(client, **{"api_key": clerk_key, "service_code": "040101", "attribute[kind]": "help",
                    "address_id": "110101001001", "media_url": "https://example.org/x.jpg"})
    with django_assert_max_num_queries(4):
        assert len(listed(client, clerk_key, jurisdiction_id="1101")) == 4
    make(30)
    with django_assert_max_num_queries(4):
        assert len(listed(client, clerk_key, jurisdiction_id="1101")) == 34


# --- scope ---------------------------------------------------------------------------------------

def test_a_key_of_one_street_sees_nothing_of_another(client, personas, dispatch_world):
    """景山街道's 吉祥社区 and 东华门街道: each key sees its own, and the other's requests do
    not exist for it (404), not even through its token."""
    a_key, b_key = api_key(personas, "street_hub"), api_key(personas, "community_staff_b")
    mine = post(client, **{"api_key": a_key, "service_code": "040102", "attribute[kind]": "complaint",
                           "address_id": "110101001001", "description": "东华门的楼道诉求"}).json()[0]
    theirs = intake(personas, area="community_b", actor="community_staff_b", title="景山的噪音诉求")
    assert numbers(client, a_key) == [mine["service_request_id"]]
    assert numbers(client, b_key) == [theirs.number]
    assert numbers(client, b_key, service_request_id=mine["service_request_id"]) == []
    for path in (f"requests/{mine['service_request_id']}", f"tokens/{mine['token']}"):
        data = assert_same_in_both_formats(client, f"{BASE}/{path}", data={"api_key": b_key})
        assert data[0]["code"] == 404 and "东华门" not in str(data)
    assert client.get(f"{BASE}/requests/{theirs.number}.json", {"api_key": a_key}).status_code == 404
    # A department reaches what was assigned to it; a key of another district nothing at all.
    assert numbers(client, api_key(personas, "outsider")) == []


def test_jurisdiction_limits_the_requests(client, personas, clerk_key):
    r = intake(personas)
    assert numbers(client, clerk_key, jurisdiction_id="beijing") == [r.number]
    assert client.get(f"{BASE}/requests/{r.number}.json",
                      {"api_key": clerk_key, "jurisdiction_id": "shanghai"}).status_code == 404


# --- one request, tokens --------------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["11010126112799999", "x", "1" * 100, "%00"])
def test_an_unknown_request_is_404(client, personas, clerk_key, number):
    intake(personas)
    data = assert_same_in_both_formats(client, f"{BASE}/requests/{number}", data={"api_key": clerk_key})
    assert data == [{"code": 404, "description": "未找到该诉求，或不在该 api_key 的管辖范围内。"}]


def test_a_token_gives_its_request(client, personas, clerk_key):
    answer = post(client, **{"api_key": clerk_key, "service_code": "040101", "attribute[kind]": "help",
                             "address_id": "110101001001"}).json()[0]
    data = assert_same_in_both_formats(client, f"{BASE}/tokens/{answer['token']}", data={"api_key": clerk_key})
    assert data == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]
    for unknown in ("0" * 32, "short", answer["token"].upper() + "g"):
        response = client.get(f"{BASE}/tokens/{unknown}.json", {"api_key": clerk_key})
        assert response.status_code == 404
        assert response.json()[0]["description"] == "未找到该查询令牌，或不在该 api_key 的管辖范围内。"


def test_an_empty_list_is_an_empty_array(client, personas, clerk_key):
    assert assert_same_in_both_formats(client, f"{BASE}/requests", data={"api_key": clerk_key}) == []
    body = client.get(f"{BASE}/requests.xml", {"api_key": clerk_key}).content
    assert ET.fromstring(body).tag == "service_requests"


def test_held_requests_say_so(client, personas, clerk_key, dispatch_world):
    from zhouxin.dispatch import screening

    def hold(text):
        return screening.ScreenResult(hold=True, reason="疑似广告")

    screening.register(hold)
    try:
        r = intake(personas, category=dispatch_world.categories["040102"])
    finally:
        screening.unregister(hold)
    assert r.status == Status.HELD
    [item] = listed(client, clerk_key)
    assert item["status"] == "open" and item["service_notice"] == "已受理，内容正在审核，审核通过后派单办理。"


def test_every_endpoint_answers_the_same_in_json_and_xml(client, personas, clerk_key, dispatch_world, settings):
    """Each method, its success and its errors: parsed from JSON and from XML, the same data."""
    with_key = {"api_key": clerk_key}
    # POST: the XML retry of a JSON post with the same Idempotency-Key is the same answer.
    headers = {"Idempotency-Key": "both-formats"}
    form = {**with_key, "service_code": "040102", "attribute[kind]": "complaint", "address_id": "110101001001",
            "description": "楼道堆放纸箱", "lat": "39.9", "long": "116.4", "media_url": "https://example.org/1.jpg"}
    created = client.post(f"{BASE}/requests.json", form, headers=headers)
    replayed = client.post(f"{BASE}/requests.xml", form, headers=headers)
    assert as_text(created.json()) == from_xml(replayed.content)
    answer = created.json()[0]
    intake(personas, title="热线来的诉求", category=dispatch_world.categories["040101"])
    checks = [
        (f"{BASE}/discovery", {}), (f"{BASE}/services", {}), (f"{BASE}/services/040102", {}),
        (f"{BASE}/services/0000", {}),  # 404
        (f"{BASE}/requests", with_key), (f"{BASE}/requests", {**with_key, "status": "closed"}),  # []
        (f"{BASE}/requests", {**with_key, "start_date": "bad"}),  # 400
        (f"{BASE}/requests", {}),  # 403
        (f"{BASE}/requests/{answer['service_request_id']}", with_key),
        (f"{BASE}/requests/00000000000000000", with_key),  # 404
        (f"{BASE}/tokens/{answer['token']}", with_key),
        (f"{BASE}/tokens/{answer['token']}", {"api_key": "nope"}),  # 403
    ]
    statuses = []
    for url, params in checks:
        data = assert_same_in_both_formats(client, url, data=params)
        statuses.append(data[0]["code"] if isinstance(data, list) and data and "code" in data[0] else 200)
    assert statuses == [200, 200, 200, 404, 200, 200, 400, 403, 200, 404, 200, 403]
    assert len(listed(client, clerk_key)) == 2
    # A bad POST and a rate-limited POST.
    assert_same_in_both_formats(client, f"{BASE}/requests", method="post", data={**with_key, "lat": "x"})
    settings.OPEN311_POST_LIMIT_PER_KEY = 0
    data = assert_same_in_both_formats(client, f"{BASE}/requests", method="post", data=form)
    assert data[0]["code"] == 429
