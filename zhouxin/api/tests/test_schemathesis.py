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
