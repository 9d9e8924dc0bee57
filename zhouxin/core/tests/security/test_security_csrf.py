"""CSRF: every URL of the staff UI, the portal and the session-authenticated API refuses a POST
without the CSRF token (403) and changes nothing, for a signed-in staff persona and for a
signed-in resident.  The URLs come from the URL patterns and the outsider cases' real ids, so a
new view is covered as soon as it has its outsider case."""

from __future__ import annotations

import pytest
from django.apps import apps

from .crawl import build_world, client_for, concrete_urls, resident_client

pytestmark = pytest.mark.django_db

# Open311 is an API for other systems, authenticated by api_key alone (no cookie): exempt by design.
EXEMPT_NAMESPACES = {"open311"}


def row_counts() -> dict[str, int]:
    """Rows of every Zhouxin model (rate-limit windows aside: counting a refused hit is their job)."""
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()
            if (m.__module__.startswith("zhouxin.") and m._meta.label != "core.RateLimitWindow")
            or m._meta.label in {"sessions.Session", "axes.AccessAttempt"}}


def _targets(world) -> dict[str, str]:
    """One concrete URL per URL name (the first: the persona's own object where there is one)."""
    return {name: urls[0] for name, urls in concrete_urls(world).items()
            if urls and name.split(":")[0] not in EXEMPT_NAMESPACES}


@pytest.mark.parametrize("persona", ["street_hub", "resident_portal"])
def test_posts_without_the_token_are_refused_and_change_nothing(personas, settings, persona):
    world = build_world(personas, settings=settings if persona == "resident_portal" else None)
    if persona == "resident_portal":
        client = resident_client(settings)
        client.handler.enforce_csrf_checks = True
    else:
        client = client_for(world, persona, enforce_csrf_checks=True)
    targets = _targets(world)
    assert len(targets) > 80
    before = row_counts()
    failures = []
    for name, url in sorted(targets.items()):
        response = client.post(url, {"title": "跨站伪造", "reason": "跨站伪造", "confirm": "on", "note": "x"})
        ours = response.status_code == 403 and "请求无法验证" in response.content.decode(errors="replace")
        # The API answers its own JSON: 403 for a session without the token, 401 for a resident
        # (no staff session at all).  A cross-site form can only send a form or multipart body, which
        # the API (JSON only) refuses with 415 before any view runs once the browser holds a CSRF
        # cookie (the CSRF check reads the form body); the same POST as JSON must then meet the CSRF
        # check itself.
        api = False
        if name.startswith("api:") and response.status_code in (401, 403, 415):
            as_json = client.post(url, {"title": "跨站伪造"}, content_type="application/json")
            api = as_json.status_code in (401, 403)
            if not api:
                failures.append(f"POST {url} ({name}) as JSON as {persona}: {as_json.status_code}")
                continue
        if not (ours or api):
            failures.append(f"POST {url} ({name}) as {persona}: {response.status_code}")
    after = row_counts()
    changed = {label: (before[label], after[label]) for label in before if before[label] != after[label]}
    assert not failures, "\n".join(failures)
    assert not changed, changed


def test_the_same_post_with_the_token_goes_through(personas, client_for):
    """Guard: the refusals above are the CSRF check's, not the view's."""
    client = client_for("street_hub")
    client.handler.enforce_csrf_checks = True
    page = client.get("/orgs/")
    token = page.cookies.get("csrftoken") or client.cookies.get("csrftoken")
    assert token is not None
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/orgs/",
                                              "csrfmiddlewaretoken": token.value})
    assert response.status_code == 302
