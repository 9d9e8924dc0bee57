"""Schemathesis against /api/schema/ (bounded examples): no 5xx, no response that contradicts
the schema, whatever the generated input — on every operation, with a street hub's token."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from zhouxin.api.services import api_token_create
from zhouxin.cobuild.tests.helpers import need as cobuild_need
from zhouxin.cobuild.tests.helpers import resource as cobuild_resource

pytestmark = pytest.mark.django_db(transaction=False)

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the DB connection after each request (request_finished), which
    would close the test's transaction; Django's own test Client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Hundreds of generated calls in a few seconds: the rate limits are lifted so every example
# reaches its operation (the 429 answer itself is tested in test_ratelimit.py).
NO_LIMITS = {kind: {"client": (10_000, 60), "ip": (10_000, 60)} for kind in ("read", "write")}


@override_settings(API_RATE_LIMITS=NO_LIMITS)
def test_every_operation_survives_generated_input(personas, dispatch_world, new_request, keep_test_connection):
    for i in range(3):
        new_request(title=f"楼道诉求{i}", category=dispatch_world.categories["040102"])
    # Co-building objects with small ids, so generated ids reach matches, claims and conflicts.
    for i in range(2):
        cobuild_need(personas, title=f"助老午餐需求{i}", quantity=5, quantity_unit="份")
        cobuild_resource(personas, title=f"职工食堂助老餐{i}")
    _token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users["street_hub"],
                                   name="schemathesis")
    auth = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call(headers=auth)
            case.validate_response(response, checks=CHECKS)

        run()


@override_settings(API_RATE_LIMITS=NO_LIMITS)
def test_cobuild_answers_with_real_objects_match_the_schema(personas, keep_test_connection):
    """Generated ids seldom hit a real need: every co-building operation once more with real ids,
    through its 200, 201, 409 and 422 answers, each checked against the schema."""
    from zhouxin.cobuild import services as cobuild_services

    meal = cobuild_need(personas, title="助老午餐需求", quantity=5, quantity_unit="份")
    spare = cobuild_need(personas, title="另一项助老需求")
    canteen = cobuild_resource(personas, title="职工食堂助老餐", capacity=10)
    claim = cobuild_services.claim_create(actor=personas.unit_liaison, need=spare, resource=canteen, quantity=1)
    cobuild_services.claim_confirm(actor=personas.street_hub, claim=claim)
    project = cobuild_services.project_create_from_claim(actor=personas.street_hub, claim=claim, budget="100.50")
    _token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users["street_hub"],
                                   name="schemathesis cobuild")
    auth = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), headers=auth)
    calls = [
        ("GET", "/api/v1/cobuild/needs/", {}, None, 200),
        ("GET", "/api/v1/cobuild/needs/{id}/", {"id": meal.pk}, None, 200),
        ("GET", "/api/v1/cobuild/needs/{id}/matches/", {"id": meal.pk}, None, 200),
        ("GET", "/api/v1/cobuild/resources/", {}, None, 200),
        ("GET", "/api/v1/cobuild/resources/{id}/", {"id": canteen.pk}, None, 200),
        ("GET", "/api/v1/cobuild/resources/{id}/matches/", {"id": canteen.pk}, None, 200),
        ("GET", "/api/v1/cobuild/projects/", {}, None, 200),
        ("GET", "/api/v1/cobuild/projects/{id}/", {"id": project.pk}, None, 200),
        ("POST", "/api/v1/cobuild/needs/{id}/claim/", {"id": meal.pk}, {"resource": canteen.pk, "quantity": 99}, 422),
        ("POST", "/api/v1/cobuild/needs/{id}/claim/", {"id": meal.pk}, {"resource": canteen.pk, "quantity": 0}, 400),
        ("POST", "/api/v1/cobuild/needs/{id}/claim/", {"id": meal.pk}, {"resource": canteen.pk, "note": "送餐"}, 201),
        ("POST", "/api/v1/cobuild/needs/{id}/claim/", {"id": meal.pk}, {"resource": canteen.pk}, 409),
    ]
    for method, path, params, body, expected in calls:
        operation = schema[path][method]
        kwargs = {"path_parameters": params} if params else {}
        if body is not None:
            kwargs.update(body=body, media_type="application/json")
        case = operation.Case(**kwargs)
        response = case.call(headers=auth)
        assert response.status_code == expected, (method, path, response.text)
        case.validate_response(response, checks=CHECKS)
        if path.endswith("/matches/"):
            assert response.json(), path  # real matches, with their components, were checked
