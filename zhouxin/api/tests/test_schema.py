"""The OpenAPI schema and Swagger UI: generated without warnings, served locally under our CSP."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client


def test_schema_generates_and_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/requests/{number}/dispatch/", "/api/v1/areas/{id}/", "/api/v1/organisations/"):
        assert path in text
    for field in ("contact_due_at", "resolve_due_at", "deadline_provisional", "Idempotency-Key"):
        assert field in text


@pytest.mark.django_db
def test_schema_and_docs_need_a_signed_in_caller(personas, client_for, token_client):
    assert Client().get("/api/schema/").status_code == 401
    assert Client().get("/api/docs/").status_code in (401, 403)
    assert token_client("street_hub").get("/api/schema/").status_code == 200
    assert client_for("street_hub").get("/api/schema/?format=json").json()["openapi"].startswith("3.")


@pytest.mark.django_db
def test_swagger_ui_loads_only_local_assets_under_the_strict_csp(personas, client_for):
    client = client_for("street_hub")
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "default-src 'self'; script-src 'self'" in page["Content-Security-Policy"]
    assert "<style" not in html and "style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    init = next(u for u in urls if "script" in u)
    script = client.get(init)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    bundle = next(u for u in urls if u.endswith("swagger-ui-bundle.js"))
    assert "drf_spectacular_sidecar" in bundle
