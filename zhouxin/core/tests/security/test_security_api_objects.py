"""Objects across communities in the REST API, with tokens (the outsider cases use sessions,
api/tests/test_scoping.py checks one street's token on details and accept): for every router
route that takes an object id — details and every action, found from the URL patterns — a token
of another community gets 404 (or 403) for each object the owner's token lists, and nothing of it
in the answer.  A new viewset is covered as soon as it is registered."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from zhouxin.api.services import api_token_create

from .crawl import build_world, url_names

pytestmark = pytest.mark.django_db

OWNER = "community_staff"  # 多福巷社区
OTHERS = ("community_staff_b", "outsider")  # 吉祥社区 (same district), 西交民巷社区 (西城区)


def token(personas, persona: str) -> APIClient:
    _token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users[persona],
                                   name=f"对象越权测试 {persona}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def object_routes() -> dict[str, tuple[str, list[str]]]:
    """basename → (its lookup kwarg, the route names that take it: detail and the actions)."""
    routes: dict[str, tuple[str, list[str]]] = {}
    for name, pattern in url_names().items():
        if not name.startswith("api:") or "-" not in name or not pattern.pattern.regex.groupindex:
            continue
        basename = name[len("api:"):].rsplit("-", 1)[0]
        kwarg = next(iter(pattern.pattern.regex.groupindex))
        routes.setdefault(basename, (kwarg, []))[1].append(name)
    return routes


def method_of(name: str) -> str:
    """The method a route answers: a read action (detail, matches) is a GET, the others POST."""
    actions = getattr(url_names()[name].callback, "actions", {})
    return "post" if "post" in actions else "get"


def ids(client: APIClient, basename: str, kwarg: str) -> set[str]:
    response = client.get(reverse(f"api:{basename}-list"), {"limit": 200})
    assert response.status_code == 200, basename
    return {str(item.get(kwarg, item.get("id"))) for item in response.json()["results"]}


def test_tokens_of_other_communities_reach_no_object_of_this_one(personas):
    build_world(personas)
    owner = token(personas, OWNER)
    routes = object_routes()
    assert {"area", "organisation", "request"} <= set(routes)
    assert {"api:request-detail", "api:request-accept", "api:request-close"} <= set(routes["request"][1])
    failures, tried = [], set()
    for other_name in OTHERS:
        other = token(personas, other_name)
        for basename, (kwarg, names) in routes.items():
            foreign = ids(owner, basename, kwarg) - ids(other, basename, kwarg)
            if basename in {"area", "organisation", "request"}:
                assert foreign, f"{OWNER} lists no {basename} that {other_name} does not"
            for value in sorted(foreign)[:3]:
                for name in names:
                    url = reverse(name, kwargs={kwarg: value})
                    method = method_of(name)
                    response = getattr(other, method)(url, {}, format="json")
                    tried.add(name)
                    if response.status_code not in (403, 404) or f'"{value}"' in response.content.decode():
                        failures.append(f"{other_name} {method.upper()} {url}: {response.status_code}")
    assert tried >= {n for _, names in routes.values() for n in names if n.startswith(("api:request-", "api:area-"))}
    assert not failures, "\n".join(failures)
