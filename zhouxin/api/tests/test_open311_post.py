"""POST requests.{fmt}: through dispatch intake on the Open311/API channel, with every
parameter rule of GeoReport v2 and the errors it names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.test import Client

from zhouxin.api.models import ApiToken, Open311Submission
from zhouxin.api.services import api_token_revoke
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.choices import Channel, Status
from zhouxin.dispatch.models import ServiceRequest

from .open311_helpers import api_key, as_text, from_xml, post

pytestmark = pytest.mark.django_db

COMMUNITY_A = "110101001001"  # 多福巷社区 (东华门街道)
COMMUNITY_A2 = "110101001002"  # 银闸社区 (东华门街道)
COMMUNITY_B = "110101002001"  # 吉祥社区 (景山街道)


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def clerk_key(personas, dispatch_world):
    return api_key(personas, "community_staff")


@pytest.fixture
def hub_key(personas, dispatch_world):
    return api_key(personas, "street_hub")


def minimal(key, **extra):
    return {"api_key": key, "service_code": "040101", "attribute[kind]": "help", "address_id": COMMUNITY_A,
            **extra}


def count() -> int:
    return ServiceRequest.objects.unscoped().count()


def errors_of(response) -> list[str]:
    data = response.json()
    assert all(set(e) == {"code", "description"} and e["code"] == response.status_code for e in data)
    return [e["description"] for e in data]


def test_a_request_goes_through_intake_on_the_open311_channel(client, personas, clerk_key):
    response = post(client, **minimal(
        clerk_key, description="3号楼东侧电梯困人，已有两人被困。\n请尽快派人。", lat="39.914", long="116.404",
        address_string="多福巷 3 号楼", media_url="https://img.example.org/lift.jpg", phone="13812345678",
        first_name="秀英", last_name="王", email="wang@example.org", device_id="ios-123", account_id="acc-9",
        **{"attribute[urgency]": "urgent"}))
    assert response.status_code == 201
    [answer] = response.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["account_id"] == "acc-9"
    with scopes_disabled():
        created = ServiceRequest.objects.select_related("category", "area", "open311").get(number=answer["service_request_id"])
    assert created.channel == Channel.API
    assert created.category.code == "040101" and created.kind == "help" and created.urgency == "urgent"
    assert created.area.code == COMMUNITY_A
    assert created.latitude == Decimal("39.914000") and created.longitude == Decimal("116.404000")
    assert created.address == "多福巷 3 号楼"
    assert created.title == "3号楼东侧电梯困人，已有两人被困。"
    assert created.description.startswith("3号楼东侧电梯困人") and "\n请尽快派人。" in created.description
    assert created.contact_name == "王秀英" and created.contact_phone == "13812345678"
    assert created.received_by == personas.users["community_staff"]
    # Routed by the rules like any channel: 电梯故障 in 多福巷社区 → its Party committee.
    assert created.status == Status.DISPATCHED and created.lead_org == personas.orgs["community_a_committee"]
    assert created.open311.token == answer["token"] and len(answer["token"]) == 32
    assert created.open311.media_url == "https://img.example.org/lift.jpg"
    assert created.open311.api_token == ApiToken.objects.get(user=personas.users["community_staff"])
    assert "前首次联系诉求人" in answer["service_notice"]
    # Neither the phone nor the name comes back.
    assert "13812345678" not in response.content.decode() and "王秀英" not in response.content.decode()
    assert AuditEntry.objects.filter(action="api.open311.submitted", object_repr=created.number).exists()
    assert AuditEntry.objects.filter(action="dispatch.request.received", actor=personas.users["community_staff"],
                                     object_id=str(created.pk)).exists()


def test_the_smallest_request_needs_only_service_kind_and_place(client, personas, clerk_key):
    response = post(client, "xml", **minimal(clerk_key))
    assert response.status_code == 201
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests" and root[0].tag == "request"
    number = root.findtext("request/service_request_id")
    assert root.find("request/account_id").text is None
    with scopes_disabled():
        created = ServiceRequest.objects.get(number=number)
    assert created.title == "电梯故障" and created.description == "电梯故障"  # from the service
    assert created.urgency == "normal"


def test_the_answer_is_the_same_in_json_and_xml(client, personas, clerk_key):
    """A retry with the same Idempotency-Key in the other format returns the same request."""
    headers = {"Idempotency-Key": "hotline-20261127-0001"}
    first = post(client, "json", headers=headers, **minimal(clerk_key, account_id="a1"))
    again = post(client, "xml", headers=headers, **minimal(clerk_key, account_id="a1"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert as_text(first.json()) == from_xml(again.content)


def test_a_title_attribute_wins_and_a_long_first_line_is_shortened(client, personas, clerk_key):
    titled = post(client, **minimal(clerk_key, description="内容", **{"attribute[title]": "  电梯  困人 "}))
    long_line = "很" * 60
    untitled = post(client, **minimal(clerk_key, description=long_line))
    with scopes_disabled():
        assert ServiceRequest.objects.get(number=titled.json()[0]["service_request_id"]).title == "电梯 困人"
        title = ServiceRequest.objects.get(number=untitled.json()[0]["service_request_id"]).title
    assert title == "很" * 39 + "…"


# --- api_key --------------------------------------------------------------------------------

def test_without_a_valid_api_key_the_post_is_refused_with_403(client, personas, clerk_key):
    token = ApiToken.objects.get(user=personas.users["community_staff"])
    api_token_revoke(actor=personas.users["system_admin"], token=token)
    for key in (None, "", "not-a-key", clerk_key, "k" * 5000, "bad\x00key"):
        data = minimal(key)
        if key is None:
            del data["api_key"]
        response = post(client, **data)
        assert response.status_code == 403, key
        [message] = errors_of(response)
        assert "api_key" in message
    assert count() == 0


def test_an_account_that_may_not_take_requests_gets_403(client, personas, dispatch_world):
    key = api_key(personas, "department_handler")  # handles requests, does not receive them
    response = post(client, **minimal(key))
    assert response.status_code == 403
    assert errors_of(response) == ["该 api_key 代表的账号无权受理诉求。"]
    assert count() == 0


def test_post_takes_api_key_only_never_the_session(personas, dispatch_world):
    signed_in = Client()
    signed_in.force_login(personas.users["community_staff"])
    response = post(signed_in, **{k: v for k, v in minimal("").items() if k != "api_key"})
    assert response.status_code == 403
    assert count() == 0


def test_post_needs_no_csrf_token(personas, clerk_key):
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, **minimal(clerk_key)).status_code == 201


# --- service_code and attributes ------------------------------------------------------------

@pytest.mark.parametrize("code, message", [
    (None, "service_code：请提供服务代码。"),
    ("", "service_code：请提供服务代码。"),
    ("999999", "service_code：未找到服务代码“999999”。"),
    ("0401", "service_code：未找到服务代码“0401”。"),  # not a leaf
])
def test_service_code_is_required_and_must_be_a_service(client, personas, clerk_key, code, message):
    data = minimal(clerk_key, service_code=code)
    if code is None:
        del data["service_code"]
    response = post(client, **data)
    assert response.status_code == 400
    assert message in errors_of(response)
    assert count() == 0


def test_a_missing_required_attribute_is_named(client, personas, clerk_key):
    data = minimal(clerk_key)
    del data["attribute[kind]"]
    response = post(client, **data)
    assert response.status_code == 400
    [message] = errors_of(response)
    assert message.startswith("attribute[kind]：请填写诉求类型") and "help（求助）" in message
    assert count() == 0


@pytest.mark.parametrize("field, value, expected", [
    ("attribute[kind]", "emergency", "attribute[kind]：“emergency”不是可选的值"),
    ("attribute[kind]", ["help", "complaint"], "attribute[kind]：只能填写一个值。"),
    ("attribute[urgency]", "very", "attribute[urgency]：“very”不是可选的值"),
    ("attribute[title]", "标" * 121, "attribute[title]：应为不超过 120 个字的文字。"),
    ("attribute[colour]", "red", "attribute[colour]：该服务没有这个属性。"),
    ("attribute[kind", "help", "attribute[kind：属性参数应写作 attribute[代码]。"),
])
def test_attribute_values_are_checked_against_the_definition(client, personas, clerk_key, field, value, expected):
    data = minimal(clerk_key)
    data[field] = value
    response = post(client, **data)
    assert response.status_code == 400
    assert any(m.startswith(expected) for m in errors_of(response)), errors_of(response)
    assert count() == 0


def test_every_attribute_datatype_is_checked(personas):
    """The checker handles all six datatypes of the spec, also those today's definition does not use."""
    from zhouxin.api.open311.catalogue import Attribute, clean_attributes

    attrs = (
        Attribute("floors", "number", True, "楼层", 1),
        Attribute("since", "datetime", False, "发现时间", 2),
        Attribute("notes", "text", False, "补充", 3, max_length=10),
        Attribute("tags", "multivaluelist", False, "标签", 4, values=lambda: [("a", "甲"), ("b", "乙")]),
    )
    good = clean_attributes({"floors": ["12"], "since": ["2026-11-01T08:00:00+08:00"], "notes": ["第一行\n第二行"],
                             "tags": ["a", "b"]}, attrs)
    assert not good.errors
    assert good.values["floors"] == 12.0 and good.values["tags"] == ["a", "b"]
    assert good.values["since"].isoformat() == "2026-11-01T08:00:00+08:00"
    bad = clean_attributes({"floors": ["十二"], "since": ["yesterday"], "notes": ["x" * 11], "tags": ["a", "c"]},
                           attrs)
    assert [e.split("：")[0] for e in bad.errors] == [
        "attribute[floors]", "attribute[since]", "attribute[notes]", "attribute[tags]"]
    assert clean_attributes({"floors": ["nan"]}, attrs).errors
    assert clean_attributes({}, attrs).errors == ["attribute[floors]：请填写楼层。"]


# --- where ----------------------------------------------------------------------------------

def test_some_location_is_required(client, personas, clerk_key):
    data = minimal(clerk_key)
    del data["address_id"]
    response = post(client, **data)
    assert response.status_code == 400
    assert errors_of(response) == ["请提供诉求发生的位置：lat 和 long、address_string 或 address_id 至少一项。"]


@pytest.mark.parametrize("lat, long, expected", [
    ("91", "116.4", "lat：应为 -90 到 90"),
    ("-90.5", "116.4", "lat：应为 -90 到 90"),
    ("39.9", "180.01", "long：应为 -180 到 180"),
    ("39.9", "-181", "long：应为 -180 到 180"),
    ("北纬39度", "116.4", "lat：应为 -90 到 90"),
    ("39.9", "NaN", "long：应为 -180 到 180"),
    ("39.9", "1e400", "long：应为 -180 到 180"),
    ("39.9", "", "lat/long：lat 和 long 须同时提供。"),
    ("", "116.4", "lat/long：lat 和 long 须同时提供。"),
    ("3" * 100, "116.4", "lat/long：坐标必须是 WGS84 经纬度数字。"),
])
def test_coordinates_are_wgs84_degrees(client, personas, clerk_key, lat, long, expected):
    response = post(client, **minimal(clerk_key, lat=lat, long=long))
    assert response.status_code == 400
    assert any(m.startswith(expected) for m in errors_of(response)), errors_of(response)
    assert count() == 0


@pytest.mark.parametrize("address_id", [COMMUNITY_B, "110102001001", "110101001", "110101001999", "abc"])
def test_address_id_must_be_a_community_or_grid_the_key_reaches(client, personas, hub_key, address_id):
    response = post(client, **minimal(hub_key, address_id=address_id))
    assert response.status_code == 400
    [message] = errors_of(response)
    assert message.startswith("address_id：")
    assert count() == 0


def test_address_id_may_be_a_grid(client, personas, hub_key):
    response = post(client, **minimal(hub_key, address_id="110101001001001"))
    assert response.status_code == 201
    with scopes_disabled():
        assert ServiceRequest.objects.get().area == personas.areas["grid_a"]


def test_coordinates_find_the_community_whose_boundary_holds_them(client, personas, hub_key):
    with scopes_disabled():
        square = {"type": "Polygon", "coordinates": [[[116.40, 39.91], [116.42, 39.91], [116.42, 39.93],
                                                      [116.40, 39.93], [116.40, 39.91]]]}
        from zhouxin.orgs.models import Area

        Area.objects.filter(code=COMMUNITY_A2).update(latitude="39.92", longitude="116.41", boundary=square)
        Area.objects.filter(code=COMMUNITY_A).update(latitude="39.9295", longitude="116.3990")
    data = minimal(hub_key, lat="39.928", long="116.401")  # inside 银闸's square, nearer 多福巷's centre
    del data["address_id"]
    response = post(client, **data)
    assert response.status_code == 201
    with scopes_disabled():
        assert ServiceRequest.objects.get().area.code == COMMUNITY_A2


def test_coordinates_find_the_nearest_centre_within_reach(client, personas, hub_key):
    with scopes_disabled():
        from zhouxin.orgs.models import Area

        Area.objects.filter(code=COMMUNITY_A2).update(latitude="39.9200", longitude="116.4100")
        Area.objects.filter(code=COMMUNITY_A).update(latitude="39.9300", longitude="116.4000")
        # 吉祥社区 is nearest of all, but in another street: the hub cannot take requests there.
        Area.objects.filter(code=COMMUNITY_B).update(latitude="39.9201", longitude="116.4101")
    data = minimal(hub_key, lat="39.9202", long="116.4102")
    del data["address_id"]
    assert post(client, **data).status_code == 201
    far = minimal(hub_key, lat="39.99", long="116.49")  # no centre within 1.5 km, no address
    del far["address_id"]
    response = post(client, **far)
    assert response.status_code == 400
    assert "address_id" in errors_of(response)[0]
    with scopes_disabled():
        assert [r.area.code for r in ServiceRequest.objects.all()] == [COMMUNITY_A2]


def test_an_address_naming_a_community_locates_it(client, personas, hub_key):
    for address, code in (("银闸社区 5 号楼", COMMUNITY_A2), ("东华门多福巷 12 号", COMMUNITY_A)):
        data = minimal(hub_key, address_string=address)
        del data["address_id"]
        response = post(client, **data)
        assert response.status_code == 201, response.content
        with scopes_disabled():
            assert ServiceRequest.objects.get(number=response.json()[0]["service_request_id"]).area.code == code
    # 吉祥社区 is in another street: not found for this key, and the street has two communities.
    data = minimal(hub_key, address_string="吉祥社区 1 号楼")
    del data["address_id"]
    assert post(client, **data).status_code == 400


def test_a_key_for_one_community_needs_no_more_than_an_address(client, personas, clerk_key):
    data = minimal(clerk_key, address_string="3号楼2单元")
    del data["address_id"]
    response = post(client, **data)
    assert response.status_code == 201
    with scopes_disabled():
        assert ServiceRequest.objects.get().area.code == COMMUNITY_A


# --- who, what, media --------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, expected", [
    ("email", "not-an-email", "email：电子邮件地址格式不正确。"),
    ("media_url", "ftp://example.org/a.jpg", "media_url：应为以 http:// 或 https:// 开头的网址。"),
    ("media_url", "javascript:alert(1)", "media_url：应为以 http:// 或 https:// 开头的网址。"),
    ("media_url", "https://example.org/" + "a" * 500, "media_url：不能超过 500 个字。"),
    ("description", "很" * 4001, "description：不能超过 4000 个字。"),
    ("description", "含有\x00空字符", "description：含有不允许的控制字符。"),
    ("phone", "12345", "phone：联系电话应为"),
    ("first_name", "名" * 33, "first_name：不能超过 32 个字。"),
    ("device_id", "d" * 101, "device_id：不能超过 100 个字。"),
    ("account_id", "a" * 101, "account_id：不能超过 100 个字。"),
    ("address_string", "址" * 201, "address_string：不能超过 200 个字。"),
])
def test_the_other_fields_are_checked(client, personas, clerk_key, field, value, expected):
    response = post(client, **minimal(clerk_key, **{field: value}))
    assert response.status_code == 400
    assert any(m.startswith(expected) for m in errors_of(response)), errors_of(response)
    assert count() == 0


def test_all_problems_are_reported_at_once(client, personas, clerk_key):
    response = post(client, api_key=clerk_key, service_code="0", lat="95", long="0", email="x")
    assert response.status_code == 400
    prefixes = {m.split("：")[0] for m in errors_of(response)}
    assert {"service_code", "attribute[kind]", "lat", "email"} <= prefixes


def test_media_url_is_kept_as_a_reference_and_never_fetched(client, personas, clerk_key, monkeypatch):
    import socket
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("the server must not fetch media_url")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    response = post(client, **minimal(clerk_key, media_url="http://10.0.0.1/internal.png"))
    assert response.status_code == 201
    assert Open311Submission.objects.get().media_url == "http://10.0.0.1/internal.png"


# --- idempotency and rate limits ----------------------------------------------------------------

def test_a_retry_with_the_same_idempotency_key_returns_the_same_request(client, personas, clerk_key):
    headers = {"Idempotency-Key": "12345-call-778"}
    first = post(client, headers=headers, **minimal(clerk_key))
    retry = post(client, headers=headers, **minimal(clerk_key))
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    other = post(client, headers={"Idempotency-Key": "12345-call-779"}, **minimal(clerk_key))
    assert other.status_code == 201
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert count() == 2 and Open311Submission.objects.count() == 2


def test_idempotency_keys_belong_to_their_user(client, personas, clerk_key, hub_key):
    headers = {"Idempotency-Key": "same-key"}
    mine = post(client, headers=headers, **minimal(clerk_key)).json()[0]
    theirs = post(client, headers=headers, **minimal(hub_key)).json()[0]
    assert mine["service_request_id"] != theirs["service_request_id"]


def test_a_bad_idempotency_key_is_400(client, personas, clerk_key):
    response = post(client, headers={"Idempotency-Key": "k" * 201}, **minimal(clerk_key))
    assert response.status_code == 400
    assert errors_of(response)[0].startswith("Idempotency-Key：")
    assert count() == 0


def test_posts_are_limited_per_api_key(client, personas, clerk_key, hub_key, settings):
    settings.OPEN311_POST_LIMIT_PER_KEY = 2
    assert [post(client, **minimal(clerk_key)).status_code for _ in range(2)] == [201, 201]
    refused = post(client, **minimal(clerk_key))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    [message] = errors_of(refused)
    assert "每个 api_key 每分钟最多 2 次" in message
    xml = post(client, "xml", **minimal(clerk_key))
    assert xml.status_code == 429 and ET.fromstring(xml.content).findtext("error/code") == "429"
    assert post(client, **minimal(hub_key)).status_code == 201  # another key is not affected
    assert count() == 3


def test_posts_are_limited_per_address(personas, clerk_key, hub_key, settings):
    settings.OPEN311_POST_LIMIT_PER_IP = 2
    one_ip = Client(REMOTE_ADDR="203.0.113.7")
    assert post(one_ip, **minimal(clerk_key)).status_code == 201
    assert post(one_ip, **minimal(hub_key)).status_code == 201
    refused = post(one_ip, **minimal(hub_key))
    assert refused.status_code == 429
    assert "同一地址每分钟最多 2 次" in errors_of(refused)[0]
    # Bad keys count too: a flood of guesses from one address is stopped the same way.
    assert post(one_ip, **minimal("guess")).status_code == 429
    assert post(Client(REMOTE_ADDR="203.0.113.8"), **minimal(hub_key)).status_code == 201


@pytest.mark.parametrize("address", ["%", "_", "\\", "100%_社区'--", "社区"])
def test_wildcards_in_an_address_match_nothing(client, personas, hub_key, address):
    data = minimal(hub_key, address_string=address)
    del data["address_id"]
    response = post(client, **data)
    assert response.status_code == 400  # the hub's street has two communities: which one is unknown
    assert "address_id" in errors_of(response)[0]
    assert count() == 0
