"""Browser-side defences: the security headers on every response, pages the strict CSP can run
(no inline script, no on* handlers, no style attributes), and a production configuration that
`manage.py check --deploy` finds nothing to say about."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from zhouxin.core.middleware import SESSION_SEEN_AT

from .crawl import parse

pytestmark = pytest.mark.django_db

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
def header_problems(response, label: str) -> list[str]:
    problems = [f"{label}: {name} is {response.get(name)!r}"
                for name, value in HEADERS.items() if response.get(name) != value]
    policy = response.get("Permissions-Policy", "")
    if "microphone=()" not in policy or "camera=(self)" not in policy:
        problems.append(f"{label}: Permissions-Policy is {policy!r}")
    return problems


def test_every_crawled_response_has_the_headers(crawled):
    problems = []
    for page in crawled.pages:
        if page.name == "dispatch:attachment":
            continue  # attachments carry their own sandbox policy (below and test_views_work)
        problems += header_problems(page.response, f"{page.persona} GET {page.url} ({page.status})")
    assert len(crawled.pages) > 500
    assert not problems, "\n".join(sorted(set(problems)))


def test_every_page_runs_under_the_strict_csp(crawled):
    """No inline script with code, no on*= handler, no style= attribute, no <style>, no javascript: URL."""
    problems, html_pages = [], set()
    for page in crawled.pages:
        if page.is_html and page.body:
            if page.status == 200:
                html_pages.add(page.name)
            problems += [f"{page.persona} GET {page.url}: {p}" for p in parse(page.body).problems]
    # The crawl really went through the staff UI and the portal.
    assert {"core:home", "orgs:person_detail", "dispatch:request_detail", "core:audit_detail",
            "portal:me", "portal:status", "portal:community"} <= html_pages
    assert not problems, "\n".join(sorted(set(problems)))


def test_responses_made_before_any_view_carry_the_headers_too(personas, client_for, settings):
    """Static files, a CSRF refusal, an unknown URL, the session-timeout redirect and a lockout."""
    checks = {}
    checks["static file"] = Client().get("/static/zhouxin/app.js")
    checks["csrf refusal"] = Client(enforce_csrf_checks=True).post(reverse("core:login"), {"username": "x"})
    checks["unknown url"] = Client().get("/no-such-page/")
    client = client_for("community_staff")
    session = client.session
    session[SESSION_SEEN_AT] = 0  # idle since 1970
    session.save()
    checks["timeout redirect"] = client.get(reverse("orgs:tree"))
    assert checks["timeout redirect"].status_code == 302
    assert checks["csrf refusal"].status_code == 403
    problems = [p for label, response in checks.items() for p in header_problems(response, label)]
    assert not problems, "\n".join(problems)


def test_attachments_keep_their_own_sandbox_policy():
    """The security middleware adds its policy only where a view set none."""
    from django.http import HttpResponse

    from zhouxin.core.middleware import SecurityHeadersMiddleware

    def view(request):
        response = HttpResponse(b"x")
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    response = SecurityHeadersMiddleware(view)(None)
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_production_settings_pass_check_deploy(tmp_path):
    """With what production must set (dummy values), `manage.py check --deploy` reports no issue."""
    env = {k: v for k, v in os.environ.items() if k not in {"ZHOUXIN_TESTING", "DEBUG", "DATABASE_URL"}}
    env.update({
        "ZHOUXIN_ENV": "production",
        "SECRET_KEY": "deploy-check-" + "k3y-" * 16,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "FIELD_INDEX_KEY": "deploy-check-index-key-0123456789abcdef",
        "ALLOWED_HOSTS": "zhouxin.example.gov.cn",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "ZHOUXIN_VAR_DIR": str(tmp_path),
    })
    base = Path(django_settings.BASE_DIR)
    result = subprocess.run(
        [sys.executable, str(base / "manage.py"), "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=base, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
