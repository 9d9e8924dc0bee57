"""Nothing a client can send makes Open311 answer 500: huge, malformed or hostile input gets
the error array with 400, 403, 404 or 405, and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.models import ServiceRequest

from .open311_helpers import BASE, api_key

pytestmark = pytest.mark.django_db

CLIENT_ERRORS = {400, 403, 404, 405}
POST_FIELDS = ["api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
               "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url",
               "attribute[kind]", "attribute[urgency]", "attribute[title]", "attribute[]", "attribute[[x]]"]
GET_FIELDS = ["api_key", "jurisdiction_id", "service_request_id", "service_code", "start_date", "end_date",
              "status"]
NASTY = ["", " ", "\x00", "\x1b[31m", "a" * 100_000, "９０", "1e309", "-0", "NaN", "Infinity", "<x/>", "]]>",
         "' OR 1=1 --", "%", "_", "\\", "😀" * 50, "\ufeff", "2026-02-30", "9" * 400, ",,,,", "open,,closed"]


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def street_hub_key(personas, dispatch_world):
    return api_key(personas, "street_hub")


def assert_error_array(response):
    assert response.status_code in CLIENT_ERRORS, (response.status_code, response.content[:300])
    data = json.loads(response.content)
    assert isinstance(data, list) and data
    assert all(set(e) == {"code", "description"} and e["code"] == response.status_code for e in data)


@pytest.mark.parametrize("value", NASTY)
def test_nasty_values_in_every_post_field(client, personas, dispatch_world, value):
    key = api_key(personas, "street_hub")
    for field in POST_FIELDS:
        data = {"api_key": key, "service_code": "0", "address_id": "1"}
        data[field] = value
        assert_error_array(client.post(f"{BASE}/requests.json", data))
    with scopes_disabled():
        assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("value", NASTY)
def test_nasty_values_in_every_get_parameter(client, personas, dispatch_world, value):
    key = api_key(personas, "street_hub")
    for field in GET_FIELDS:
        params = {"api_key": key, field: value}
        response = client.get(f"{BASE}/requests.json", params)
        assert response.status_code in CLIENT_ERRORS | {200}, (field, response.status_code)
        if response.status_code != 200:
            assert_error_array(response)
    for path in ("services", "services/040101", "discovery"):
        response = client.get(f"{BASE}/{path}.json", {"jurisdiction_id": value})
        assert response.status_code in {200, 404}


@pytest.mark.parametrize("path", ["requests/%00", "requests/" + "9" * 100, "tokens/%FF%FE", "tokens/" + "g" * 32,
                                  "services/%00", "services/" + "0" * 100, "requests/a.b.c"])
def test_nasty_paths(client, personas, dispatch_world, path):
    key = api_key(personas, "street_hub")
    assert_error_array(client.get(f"{BASE}/{path}.json", {"api_key": key}))


def test_a_body_too_big_or_with_too_many_fields_is_400(client, personas, dispatch_world, settings):
    key = api_key(personas, "street_hub")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post(f"{BASE}/requests.json", f"api_key={key}&description={'x' * 20_000}",
                           content_type="application/x-www-form-urlencoded")
    assert_error_array(response)
    assert response.status_code == 400
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    many = "&".join(f"attribute[a{i}]=1" for i in range(100))
    response = client.post(f"{BASE}/requests.json", f"api_key={key}&{many}",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    response = client.get(f"{BASE}/requests.json?api_key={key}&{many}")
    assert response.status_code == 400


def test_a_malformed_multipart_body_is_400(client, personas, dispatch_world):
    response = client.generic("POST", f"{BASE}/requests.xml", b"--nope\r\nbroken",
                              content_type="multipart/form-data; boundary=")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/xml; charset=utf-8"


def test_a_json_body_is_not_form_data(client, personas, dispatch_world):
    key = api_key(personas, "street_hub")
    response = client.post(f"{BASE}/requests.json", {"api_key": key}, content_type="application/json")
    assert response.status_code == 403  # the api_key is a form field: a JSON body carries none


PLAUSIBLE = st.one_of(st.text(max_size=300), st.sampled_from(
    ["040101", "help", "urgent", "110101001001", "110101001001001", "39.9", "116.4", "1101", "beijing",
     "https://example.org/a.jpg", "13812345678", "a@example.org"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(POST_FIELDS[1:]), PLAUSIBLE, max_size=10),
       fmt=st.sampled_from(["json", "xml"]))
def test_random_posts_never_fail_the_server(client, personas, dispatch_world, street_hub_key, fields, fmt):
    response = client.post(f"{BASE}/requests.{fmt}", {"api_key": street_hub_key, **fields})
    assert response.status_code in CLIENT_ERRORS | {201}, (fields, response.content[:300])
    if fmt == "json" and response.status_code != 201:
        assert_error_array(response)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(GET_FIELDS[1:]), st.one_of(st.text(max_size=300), st.sampled_from(
    ["open", "closed", "040101", "2026-11-01", "2026-11-27T08:00:00+08:00", "1101"])), max_size=6))
def test_random_queries_never_fail_the_server(client, personas, dispatch_world, street_hub_key, fields):
    response = client.get(f"{BASE}/requests.xml", {"api_key": street_hub_key, **fields})
    assert response.status_code in CLIENT_ERRORS | {200}, (fields, response.content[:300])
