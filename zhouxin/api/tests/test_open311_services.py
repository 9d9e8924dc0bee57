"""Open311 discovery, services and service definitions: public, from the dispatch catalogue,
the same data in JSON and XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils.dateparse import parse_datetime

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import catalogue as dispatch_catalogue
from zhouxin.dispatch.models import Category

from .open311_helpers import BASE, api_key, assert_same_in_both_formats

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def test_discovery_names_the_endpoint_its_formats_and_the_key_rule(client, personas, dispatch_world):
    data = assert_same_in_both_formats(client, f"{BASE}/discovery")
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "test"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["changeset"] == data["changeset"]
    assert parse_datetime(data["changeset"]).utcoffset().total_seconds() == 8 * 3600
    assert data["changeset"].endswith("+08:00")
    # The api_key rule for reading requests is documented where clients look for keys.
    assert "api_key" in data["key_service"] and "GET requests" in data["key_service"]


def test_discovery_xml_has_the_spec_elements(client, personas):
    body = client.get(f"{BASE}/discovery.xml").content
    root = ET.fromstring(body)
    assert root.tag == "discovery"
    assert [e.tag for e in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert "接口令牌" in root.findtext("key_service")  # Chinese survives the UTF-8 round trip


def test_discovery_changeset_moves_when_the_catalogue_changes(client, personas, dispatch_world):
    before = parse_datetime(client.get(f"{BASE}/discovery.json").json()["changeset"])
    dispatch_catalogue.category_update(actor=personas.users["district_admin"],
                                       category=dispatch_world.categories["040102"], keywords="楼道 杂物")
    after = parse_datetime(client.get(f"{BASE}/discovery.json").json()["changeset"])
    assert after > before


def test_services_are_the_active_leaves_of_the_catalogue(client, personas, dispatch_world):
    data = assert_same_in_both_formats(client, f"{BASE}/services")
    assert [s["service_code"] for s in data] == ["040101", "040102", "060101", "080101", "120101"]
    lift = data[0]
    assert lift == {
        "service_code": "040101",
        "service_name": "电梯故障",
        "description": "物业管理 › 物业服务 › 电梯故障（时限类别：紧急类）",
        "metadata": True,
        "type": "realtime",
        "keywords": "电梯, 困人, 停运, 故障",
        "group": "物业管理",
    }
    assert {s["group"] for s in data} == {"物业管理", "城乡建设", "社会秩序", "水电气热"}


def test_a_deactivated_item_is_no_longer_a_service(client, personas, dispatch_world):
    dispatch_catalogue.category_deactivate(actor=personas.users["district_admin"],
                                           category=dispatch_world.categories["0801"])  # its leaf goes too
    codes = [s["service_code"] for s in client.get(f"{BASE}/services.json").json()]
    assert "080101" not in codes and "040101" in codes
    assert client.get(f"{BASE}/services/080101.json").status_code == 404


def test_the_bundled_catalogue_gives_one_service_per_leaf(client, personas):
    with scopes_disabled():
        dispatch_catalogue.catalogue_seed(actor=None)
        leaves = set(Category.objects.filter(level=3, is_active=True).values_list("code", flat=True))
    rows = dispatch_catalogue.read_catalogue()
    assert len(leaves) == len([r for r in rows if r.level == 3]) > 200
    data = client.get(f"{BASE}/services.json").json()
    assert {s["service_code"] for s in data} == leaves
    assert all(s["group"] and s["service_name"] and s["type"] == "realtime" for s in data)


def test_service_definition_gives_the_attributes(client, personas, dispatch_world):
    data = assert_same_in_both_formats(client, f"{BASE}/services/040101")
    assert data["service_code"] == "040101"
    by_code = {a["code"]: a for a in data["attributes"]}
    assert list(by_code) == ["kind", "urgency", "title"]
    kind = by_code["kind"]
    assert kind["datatype"] == "singlevaluelist" and kind["required"] is True and kind["variable"] is True
    assert kind["order"] == 1 and kind["description"] == "诉求类型"
    assert kind["values"] == [{"key": "consult", "name": "咨询"}, {"key": "help", "name": "求助"},
                              {"key": "complaint", "name": "投诉"}, {"key": "report", "name": "举报"},
                              {"key": "suggestion", "name": "建议"}]
    assert by_code["urgency"]["required"] is False
    assert [v["key"] for v in by_code["urgency"]["values"]] == ["normal", "urgent"]
    assert by_code["title"]["datatype"] == "string" and by_code["title"]["values"] == []
    assert all(set(a) == {"variable", "code", "datatype", "required", "datatype_description", "order",
                          "description", "values"} for a in data["attributes"])


def test_service_definition_xml_layout(client, personas, dispatch_world):
    root = ET.fromstring(client.get(f"{BASE}/services/040101.xml").content)
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("code") == "kind"
    assert [v.findtext("name") for v in attribute.findall("values/value")] == ["咨询", "求助", "投诉", "举报", "建议"]


@pytest.mark.parametrize("code", ["999999", "04", "0401", "abc", "0401011", "０４０１０１", "x" * 100])
def test_unknown_service_code_is_404(client, personas, dispatch_world, code):
    data = assert_same_in_both_formats(client, f"{BASE}/services/{code}")
    assert data[0]["code"] == 404
    assert client.get(f"{BASE}/services/{code}.json").status_code == 404


@pytest.mark.parametrize("jurisdiction", ["1101", "beijing", "BeiJing", "beijingshi"])
def test_the_city_is_a_jurisdiction(client, personas, dispatch_world, jurisdiction):
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": jurisdiction}).status_code == 200
    assert client.get(f"{BASE}/services/040101.json", {"jurisdiction_id": jurisdiction}).status_code == 200


def test_a_configured_jurisdiction_is_accepted(client, personas, dispatch_world, settings):
    settings.OPEN311_JURISDICTION = "beijing.gov.cn"
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": "beijing.gov.cn"}).status_code == 200


@pytest.mark.parametrize("jurisdiction", ["shanghai", "110101", "11", "beijing.gov.cn", "x" * 5000])
def test_an_unknown_jurisdiction_is_404(client, personas, dispatch_world, jurisdiction):
    for url in (f"{BASE}/services", f"{BASE}/services/040101"):
        data = assert_same_in_both_formats(client, url, data={"jurisdiction_id": jurisdiction})
        assert data == [{"code": 404, "description": "未找到该 jurisdiction_id。"}]
    key = api_key(personas, "community_staff")
    response = client.get(f"{BASE}/requests.json", {"jurisdiction_id": jurisdiction, "api_key": key})
    assert response.status_code == 404
    response = client.post(f"{BASE}/requests.json", {"jurisdiction_id": jurisdiction, "api_key": key,
                                                     "service_code": "040101", "attribute[kind]": "help",
                                                     "address_id": "110101001001"})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["discovery.txt", "services.html", "services/040101.yaml", "requests.csv",
                                  "requests/11010126010100001.pdf", "tokens/abc.JSON"])
def test_an_unknown_format_is_404_in_xml(client, personas, dispatch_world, path):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.findtext("error/code") == "404"
    assert "json" in root.findtext("error/description")


def test_a_method_the_url_does_not_take_is_405(client, personas, dispatch_world):
    response = client.post(f"{BASE}/services.json", {})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()[0]["code"] == 405
    assert client.delete(f"{BASE}/requests.json").status_code == 405


def test_errors_follow_the_request_language(client, personas, dispatch_world):
    chinese = client.get(f"{BASE}/services/999.json").json()[0]["description"]
    english = client.get(f"{BASE}/services/999.json", headers={"Accept-Language": "en"}).json()[0]["description"]
    assert chinese == "未找到服务代码“999”。"
    assert english.isascii() and "999" in english
    response = client.get(f"{BASE}/services/040101.json", headers={"Accept-Language": "en"})
    kind = json.loads(response.content)["attributes"][0]
    assert kind["description"].isascii() and kind["values"][1]["name"].isascii()
