"""Faults the visitor did not cause (zhouxin/core/faults.py).

1. The database is not there: every URL pattern, GET and POST, anonymous and with a session
   cookie, answers 503 with Retry-After, no traceback, in its own format.  Run in a child
   process whose DATABASE_URL points at a port nothing listens on, so settings, middleware,
   URL resolver and views meet the outage as the web server would; and, where PostgreSQL's
   binaries are installed, against a private cluster that is really stopped and started.
2. The audit log cannot be written (a trigger refuses INSERTs into core_auditentry): reveal
   of personal data, sign-in, grants, user changes and token issue are refused with a clear
   message, and nothing changes.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from zhouxin.core import faults
from zhouxin.core.models import AuditEntry, Grant, User, UserSession
from zhouxin.testing.personas import PASSWORD

ROOT = Path(settings.BASE_DIR)
DB_MESSAGE = "系统暂时无法访问数据库，请稍后再试"
AUDIT_MESSAGE = "审计日志暂时无法写入"
TRACE_MARKERS = ("Traceback", 'File "/', "OperationalError", "psycopg", "sqlite3", "Exception Value")
PG_BIN = Path(os.environ.get("ZHOUXIN_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _child_env(database_url: str, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update({"ZHOUXIN_TESTING": "1", "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "zhouxin.settings",
                "LOG_LEVEL": "CRITICAL", **extra})
    return env


def _probe(database_url: str, *args: str, timeout: int = 120, **extra) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "zhouxin.testing.faults_probe", *args], cwd=ROOT,
                          env=_child_env(database_url, **extra), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _expected_type(url: str) -> str:
    if url.startswith("/open311/"):
        return "application/json" if url.endswith(".json") else "text/xml"
    if url.startswith("/api/") and not url.startswith(("/api/tokens/", "/api/docs/")) or url.startswith("/healthz"):
        return "application/json"
    return "text/html"


# --- 1. database unavailable -----------------------------------------------------------------

@pytest.mark.parametrize("database_url", [
    "postgres://postgres@127.0.0.1:1/nowhere",  # nothing listens on port 1: PostgreSQL is stopped
    "sqlite:////nonexistent-zhouxin-dir/zhouxin.sqlite3",  # the SQLite file's volume is gone
], ids=["postgresql", "sqlite"])
@pytest.mark.parametrize("debug", ["0", "1"], ids=["debug-off", "debug-on"])
def test_every_url_answers_503_when_the_database_is_not_there(database_url, debug):
    from zhouxin.core.tests.test_outsiders import zhouxin_url_names

    answers = _probe(database_url, DEBUG=debug)
    problems = [a for a in answers if "status" not in a]
    assert not problems, problems
    probed = {a["name"] for a in answers}
    assert zhouxin_url_names() <= probed, sorted(zhouxin_url_names() - probed)
    assert {"open311:services", "api:request-detail", "core:login", "portal:submit", "core:health"} <= probed
    assert {(a["method"], a["session"]) for a in answers} == {("get", False), ("post", False), ("get", True),
                                                              ("post", True)}
    failures = []
    for a in answers:
        if a["url"] == "/healthz/live" and a["method"] == "get":  # liveness: answers without the database
            assert a["status"] == 200 and json.loads(a["body"]) == {"status": "ok"}, a
            continue
        wanted = _expected_type(a["url"])
        leaked = [m for m in TRACE_MARKERS if m in a["body"]]
        if a["status"] != 503 or a["retry_after"] != "30" or not a["content_type"].startswith(wanted) or leaked:
            failures.append(f"{a['method']} {a['url']} session={a['session']}: {a['status']} "
                            f"{a['content_type']} retry={a['retry_after']} leaked={leaked}")
            continue
        if wanted == "application/json" and a["url"].startswith("/api/"):
            assert json.loads(a["body"]) == {"errors": [{"code": "service_unavailable", "field": None,
                                                         "message": DB_MESSAGE + "。"}]}, a["url"]
        elif wanted == "application/json":  # Open311 JSON, and /healthz
            body = json.loads(a["body"])
            assert body in ([{"code": 503, "description": DB_MESSAGE + "。"}],
                            {"errors": [{"code": "service_unavailable", "field": None,
                                         "message": DB_MESSAGE + "。"}]}), a["url"]
        elif wanted == "text/xml":
            assert a["body"].startswith('<?xml version="1.0" encoding="UTF-8"?>\n<errors><error><code>503</code>')
            assert DB_MESSAGE in a["body"]
        else:
            assert DB_MESSAGE in a["body"] and '<html lang="zh-hans">' in a["body"] and "<script" not in a["body"]
    assert not failures, "\n".join(failures)


def test_the_503_page_follows_the_browser_language_without_the_session(rf):
    """Language from the cookie or Accept-Language only: the session cannot be read."""
    english = faults.fault_response(rf.get("/", HTTP_ACCEPT_LANGUAGE="en"), "database")
    assert english.status_code == 503 and english["Content-Language"] == "en"
    assert '<html lang="en">' in english.content.decode()
    chinese = faults.fault_response(rf.get("/"), "database")
    assert chinese["Content-Language"] == "zh-hans" and DB_MESSAGE in chinese.content.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _private_cluster():
    """A throw-away PostgreSQL cluster on a free port; yields (url, stop argv, start argv)."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (set ZHOUXIN_PG_BIN)")
    as_user: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="zx-pg-"))
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the postgres account
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: cannot start a private PostgreSQL as another user")
        try:
            shutil.chown(workdir, "postgres")
        except (LookupError, PermissionError):
            pytest.skip("running as root and there is no postgres account to run PostgreSQL as")
        as_user = [runuser, "-u", "postgres", "--"]
    data, port = workdir / "data", _free_port()
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    pg_ctl = [*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-w"]
    start = [*pg_ctl, "-o", options, "-l", str(workdir / "log"), "start"]
    stop = [*pg_ctl, "-m", "fast", "stop"]
    try:
        subprocess.run([*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, timeout=60)
        subprocess.run(start, check=True, capture_output=True, timeout=60)
        yield f"postgres://postgres@127.0.0.1:{port}/postgres", stop, start
    finally:
        subprocess.run(stop, capture_output=True, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


def test_stopping_and_starting_a_real_database():
    with _private_cluster() as (url, stop, start):
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                  env=_child_env(url), capture_output=True, text=True, timeout=180)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        phases = {p["phase"]: p["answers"] for p in _probe(url, "--restart", ZX_PG_STOP=shlex.join(stop),
                                                           ZX_PG_START=shlex.join(start))}
    running, stale, stopped, restarted = (phases["running"], phases["stopped, stale connection"],
                                          phases["stopped"], phases["restarted"])
    assert all(status in (200, 302, 401) for status, _, _ in running.values()), running
    # Every request after the stop: 503 in the URL's format, no traceback.
    for url, (status, content_type, traceback) in stopped.items():
        assert status == 503 and content_type.startswith(_expected_type(url)) and not traceback, (url, stopped)
    # The connection opened before the stop breaks inside the request (in a middleware or the
    # view): still a 503 wherever the database was needed, never a 500.
    for url, (status, _content_type, traceback) in stale.items():
        assert status in (503, running[url][0]) and not traceback, (url, stale)
    assert stale["/open311/v2/services.json"][0] == stale["/api/v1/areas/"][0] == 503
    # Started again: the same answers as before, without restarting the web process.
    assert restarted == running


# --- database errors inside the request (in-process) ------------------------------------------

def _server_closed() -> OperationalError:
    return OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_database_error_inside_a_middleware_is_a_503_not_a_500(personas, client_for, monkeypatch, settings,
                                                                    debug):
    """The session store fails while the middleware stack loads the user (DEBUG on would show
    Django's technical 500 page with the traceback)."""
    settings.DEBUG = debug
    client = client_for("community_staff")
    client.raise_request_exception = False
    from django.contrib.sessions.backends.db import SessionStore

    def fail(self):
        raise _server_closed()

    monkeypatch.setattr(SessionStore, "load", fail)
    response = client.get(reverse("core:home"))
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert DB_MESSAGE in body and "Traceback" not in body and "server closed" not in body
    api = client.get("/api/v1/areas/")
    assert api.status_code == 503 and api.json()["errors"][0]["code"] == "service_unavailable"


@pytest.mark.django_db
def test_a_database_error_inside_a_view_is_a_503(personas, monkeypatch):
    from zhouxin.api.open311 import views as open311_views

    def fail(*args, **kwargs):
        raise _server_closed()

    monkeypatch.setattr(open311_views.catalogue, "services_payload", fail)
    response = Client().get("/open311/v2/services.xml")
    assert response.status_code == 503 and response["Content-Type"].startswith("text/xml")
    assert "<code>503</code>" in response.content.decode() and DB_MESSAGE in response.content.decode()


@pytest.mark.django_db
def test_other_errors_stay_500_and_show_no_traceback(monkeypatch, settings):
    """A query the database refuses (not an outage) is a real server error: 500, no details."""
    from zhouxin.api.open311 import views as open311_views

    def fail(*args, **kwargs):
        raise OperationalError("no such column: nonsense")

    monkeypatch.setattr(open311_views.catalogue, "services_payload", fail)
    client = Client(raise_request_exception=False)
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 500 and response.json() == [
        {"code": 500, "description": "服务器处理请求时出错，请稍后再试。错误已记录。"}]
    assert "nonsense" not in response.content.decode()


def test_outage_errors_are_told_apart_from_refused_queries():
    import psycopg

    assert faults.is_database_unavailable(_server_closed())
    wrapped = OperationalError("connection failed")
    wrapped.__cause__ = psycopg.OperationalError("connection failed: Connection refused")
    assert faults.is_database_unavailable(wrapped)
    assert faults.is_database_unavailable(OperationalError("unable to open database file"))
    assert not faults.is_database_unavailable(OperationalError("no such table: core_user"))
    from django.db import IntegrityError

    assert not faults.is_database_unavailable(IntegrityError("UNIQUE constraint failed"))


@pytest.mark.django_db
def test_health_answers_ok_while_the_database_answers():
    response = Client().get(reverse("core:health"))
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert {name: check["status"] for name, check in response.json()["checks"].items()} == {
        "database": "ok", "task_queue": "ok", "audit_sealer": "ok"}
    assert response["Cache-Control"] == "no-store"


# --- 2. audit log unavailable ----------------------------------------------------------------

@contextmanager
def audit_refuses_inserts():
    """The audit table refuses every INSERT, at the database level, until the block ends."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION zx_test_audit_down() RETURNS trigger AS $$ BEGIN "
                           "RAISE EXCEPTION 'audit store unavailable'; END; $$ LANGUAGE plpgsql")
            cursor.execute(f"CREATE TRIGGER zx_test_audit_down BEFORE INSERT ON {table} "
                           "FOR EACH ROW EXECUTE FUNCTION zx_test_audit_down()")
        else:
            cursor.execute(f"CREATE TRIGGER zx_test_audit_down BEFORE INSERT ON {table} "
                           "BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS zx_test_audit_down ON {table}"
                           if connection.vendor == "postgresql" else "DROP TRIGGER IF EXISTS zx_test_audit_down")
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION IF EXISTS zx_test_audit_down()")


def _refused(response) -> str:
    body = response.content.decode()
    assert response.status_code == 503, (response.status_code, body[:500])
    assert AUDIT_MESSAGE in body and "没有做任何更改" in body and "Traceback" not in body
    return body


# Real commits and rollbacks: the refused INSERT must roll back the service's own transaction.
audit_db = pytest.mark.django_db(transaction=True)


@audit_db
def test_person_reveal_is_refused_when_the_audit_log_cannot_be_written(personas, client_for):
    person = personas.people["resident_a"]
    client = client_for("community_staff")
    url = reverse("orgs:person_reveal", args=[person.pk])
    entries = AuditEntry.objects.count()
    with audit_refuses_inserts():
        for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
            body = _refused(client.post(url, {"field": "phone", "reason": "入户走访核实"}, **extra))
            assert "13812341234" not in body and "11010119800101007X" not in body
    assert AuditEntry.objects.count() == entries
    # With the audit log back, the same reveal works and is logged.
    shown = client.post(url, {"field": "phone", "reason": "入户走访核实"})
    assert shown.status_code == 200 and "13812341234" in shown.content.decode()
    assert AuditEntry.objects.filter(action="orgs.person.revealed").count() == 1


@audit_db
def test_contact_reveal_is_refused_when_the_audit_log_cannot_be_written(personas, dispatch_world, client_for):
    from zhouxin.dispatch import services

    values = {"kind": "complaint", "title": "楼道堆放杂物", "description": "3号楼2单元楼道长期堆放纸箱杂物，影响通行。",
              "contact_name": "吴女士", "contact_phone": "13812345678", "category": None}
    sr = services.request_intake(actor=personas.street_hub, area=personas.areas["community_a"], channel="hotline",
                                 **values)
    # The grid worker sees this one (its own grid) but may not reveal: the refusal is audited.
    seen = services.request_intake(actor=personas.grid_worker, area=personas.areas["grid_a"], channel="grid",
                                   **values)
    client, grid_worker = client_for("street_hub"), client_for("grid_worker")
    entries = AuditEntry.objects.count()
    with audit_refuses_inserts():
        body = _refused(client.post(reverse("dispatch:request_reveal", args=[sr.number]), {"reason": "电话联系诉求人"}))
        assert "13812345678" not in body
        # A refused (denied) reveal cannot be logged either: still refused, still nothing shown.
        denied = grid_worker.post(reverse("dispatch:request_reveal", args=[seen.number]),
                                                {"reason": "核实情况"})
        assert denied.status_code == 503 and "13812345678" not in denied.content.decode()
    assert AuditEntry.objects.count() == entries


@audit_db
def test_an_api_write_is_refused_with_the_structured_error(personas, dispatch_world):
    from rest_framework.test import APIClient

    from zhouxin.api.services import api_token_create
    from zhouxin.dispatch.models import ServiceRequest

    _token, key = api_token_create(actor=personas.system_admin, user=personas.community_staff, name="热线平台")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with audit_refuses_inserts():
        response = api.post("/api/v1/requests/", {
            "kind": "complaint", "area": "110101001001", "category": "040102", "title": "楼道堆物",
            "description": "3号楼楼道堆满纸箱。", "contact_phone": "13812345678"}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    error = response.json()["errors"][0]
    assert error["code"] == "audit_unavailable" and AUDIT_MESSAGE in error["message"]
    assert not ServiceRequest.objects.unscoped().exists()


@audit_db
def test_sign_in_is_refused_when_it_cannot_be_logged(personas):
    member = personas.member
    last_login = User.objects.get(pk=member.pk).last_login
    sessions = UserSession.objects.count()
    client = Client()
    with audit_refuses_inserts():
        _refused(client.post(reverse("core:login"), {"username": "member", "password": PASSWORD}))
        # Not signed in: the next page sends the visitor back to the sign-in page.
        home = client.get(reverse("core:home"))
        assert home.status_code == 302 and reverse("core:login") in home["Location"]
    assert "_auth_user_id" not in client.session
    assert User.objects.get(pk=member.pk).last_login == last_login
    assert UserSession.objects.count() == sessions
    # Logged again: signing in works.
    assert client.post(reverse("core:login"), {"username": "member", "password": PASSWORD}).status_code == 302
    assert client.get(reverse("core:home")).status_code == 200


@audit_db
def test_grant_and_user_changes_are_refused_when_they_cannot_be_logged(personas, client_for):
    from zhouxin.core.choices import Role

    client = client_for("system_admin")
    target = User.objects.create_user(username="target", password=PASSWORD)
    grants, users = Grant.objects.count(), User.objects.count()
    with audit_refuses_inserts():
        _refused(client.post(reverse("core:grant_add", args=[target.pk]), {
            "role": Role.UNIT_LIAISON, "area_code": "110101001001", "organisation": personas.orgs["unit"].pk}))
        _refused(client.post(reverse("core:user_deactivate", args=[personas.street_hub.pk])))
        _refused(client.post(reverse("core:user_create"), {
            "username": "newclerk", "full_name": "新来的办事员", "password1": "Zx-Strong-Pass-2026!",
            "password2": "Zx-Strong-Pass-2026!"}))
    assert Grant.objects.count() == grants and User.objects.count() == users
    assert User.objects.get(pk=personas.street_hub.pk).is_active
    assert not Grant.objects.filter(user=target).exists()


@audit_db
def test_token_issue_is_refused_when_it_cannot_be_logged(personas, client_for):
    from zhouxin.api.models import ApiToken

    client = client_for("system_admin")
    with audit_refuses_inserts():
        body = _refused(client.post(reverse("api:token_create"), {"user": personas.street_hub.pk,
                                                                   "name": "12345 热线平台"}))
        assert "密钥只显示这一次" not in body
    assert not ApiToken.objects.exists()


@audit_db
def test_sign_out_is_never_refused(personas, client_for):
    """Ending a session only takes power away: it goes through even when it cannot be logged."""
    client = client_for("community_staff")
    with audit_refuses_inserts():
        response = client.post(reverse("core:logout"))
        assert response.status_code == 302
        home = client.get(reverse("core:home"))
        assert home.status_code == 302 and reverse("core:login") in home["Location"]
