"""Benchmark-only endpoints (DESIGN §5 "request intake"), served only when settings.BENCH_ENDPOINTS.

`make bench` (scripts/bench_intake.py) measures intake through the full pipeline over HTTP
against a bare one-row-insert endpoint served the same way (same gunicorn, same middleware):

  POST /bench/intake/   JSON → services.request_intake (validation, screening, category
                        suggestions, SLA clock, routing and automatic dispatch, number,
                        roll-ups, audit) acting as the user named by settings.BENCH_ACTOR;
  POST /bench/insert/   one raw INSERT into the table `bench_row` (created by the script).

BENCH_ENDPOINTS comes from ZHOUXIN_BENCH=1 and is forced off in production settings; the
URLs are not even routed without it, and each view checks it again (404).  No CSRF token and
no login: a load generator has neither, and these endpoints never exist where it matters.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zhouxin.core.backends import ModelBackend
from zhouxin.core.models import User

from . import lookup, services

BENCH_TABLE = "bench_row"
CREATE_TABLE = {
    "postgresql": f"CREATE TABLE IF NOT EXISTS {BENCH_TABLE} (id bigserial PRIMARY KEY, "
                  "created_at timestamptz NOT NULL, payload text NOT NULL)",
    "sqlite": f"CREATE TABLE IF NOT EXISTS {BENCH_TABLE} (id integer PRIMARY KEY AUTOINCREMENT, "
              "created_at text NOT NULL, payload text NOT NULL)",
}


def _enabled() -> None:
    if not getattr(settings, "BENCH_ENDPOINTS", False):
        raise Http404


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": ["请求体不是有效的 JSON。"]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": ["请求体应为 JSON 对象。"]})
    return data


_actor_ids: dict[str, int] = {}


def _actor() -> User:
    """The acting user, read as a signed-in request reads it: the session holds the user's id and
    the authentication backend loads the user by it on every request (one query).  The id of
    settings.BENCH_ACTOR is looked up once, as signing in would have stored it."""
    username = getattr(settings, "BENCH_ACTOR", "district_admin")
    if username not in _actor_ids:
        found = User.objects.filter(username=username).values_list("pk", flat=True).first()
        if found is None:
            raise Http404
        _actor_ids[username] = found
    user = ModelBackend().get_user(_actor_ids[username])
    if user is None:
        raise Http404
    return user


@csrf_exempt
@require_POST
def bench_intake(request):
    _enabled()
    try:
        data = _body(request)
        # As the portal's form finds them (lookup.py: with their parents, cached per process).
        area = lookup.intake_area(data.get("area"))
        category = lookup.leaf_category(code=data["category"]) if data.get("category") else None
        if data.get("category") and category is None:
            raise ValidationError({"category": ["请选择启用中的第三级（最细一级）诉求类别。"]})
        created = services.request_intake(
            actor=_actor(), kind=data.get("kind", ""), channel=data.get("channel", "api"), area=area,
            title=data.get("title", ""), description=data.get("description", ""),
            urgency=data.get("urgency", "normal"), category=category, contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""), idempotency_key=data.get("idempotency_key"))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return JsonResponse({"errors": errors}, status=400)
    except PermissionDenied as exc:
        return JsonResponse({"errors": {"__all__": [str(exc)]}}, status=403)
    return JsonResponse({"number": created.number, "status": created.status,
                         "lead_org": created.lead_org_id}, status=201)


@csrf_exempt
@require_POST
def bench_insert(request):
    _enabled()
    with connection.cursor() as cursor:
        # bandit B608 (medium) reviewed: BENCH_TABLE is a constant; the values are parameters
        cursor.execute(f"INSERT INTO {BENCH_TABLE} (created_at, payload) VALUES (%s, %s)",
                       [timezone.now(), request.body.decode("utf-8", "replace")[:500]])
    return JsonResponse({"ok": True}, status=201)


def create_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE[connection.vendor])


# Deliberately unnamed and outside the "dispatch" namespace: they exist only in benchmark runs.
urlpatterns = [
    path("intake/", bench_intake),
    path("insert/", bench_insert),
]
