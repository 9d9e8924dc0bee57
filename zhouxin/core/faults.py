"""Faults the visitor did not cause: the database is down, or the audit log cannot be written.

Database unavailable → every page and endpoint answers 503 with Retry-After: an HTML page
for people, the API's error shape for /api/ (`{"errors": [{"code": "service_unavailable",
…}]}`) and the Open311 error array (JSON or XML, by the URL's format) for /open311/.  No
stack trace, and nothing that would need the database to render (no context processors,
no user, no session).

Where the failure can show up, and who catches it:

* Before anything else: DatabaseFaultMiddleware opens the connection (a no-op when a
  persistent connection is already open) and answers 503 at once when that fails, so a
  stopped database gives the same answer on every URL, whether or not the view would
  have reached it.
* In a view: `process_exception` (this middleware is the outermost one with the hook, so
  it sees what the view raised after every other middleware declined it).
* In another middleware (sessions, auth, axes, OTP, the timeout and scope middleware) or
  in a response phase: Django turns the exception into a 500 response at that layer and
  sends `got_request_exception`; `remember_exception` keeps the exception on the request
  and the middleware, on its way out, replaces that 500 with the 503.  `server_error`
  (handler500) recognises the same errors when DEBUG is off, for anything outside.

Audit unavailable (zhouxin.core.audit.AuditUnavailable): the service transaction that
tried to write the entry has been rolled back (the exception left its atomic block); the
visitor gets a 503 saying the action was refused and nothing changed.
"""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

logger = logging.getLogger("zhouxin.faults")

RETRY_AFTER_SECONDS = 30
# Paths answered in the API's JSON error shape; the pages under /api/ meant for people are HTML.
API_PREFIX = "/api/"
API_HTML_PREFIXES = ("/api/tokens/", "/api/docs/")
OPEN311_PREFIX = "/open311/"
HEALTH_PATH = "/healthz"
# Error texts of SQLite (which has no SQLSTATE) that mean the database file cannot be used.
_SQLITE_UNAVAILABLE = ("unable to open database", "database is locked", "disk i/o error",
                       "database or disk is full", "readonly database")
# SQLSTATE classes of PostgreSQL for "the server is not there": 08 connection exception,
# 57P admin/crash shutdown or cannot connect now, 53 insufficient resources.
_PG_UNAVAILABLE = ("08", "57P", "53")
_EXCEPTION_ATTR = "_zx_faults"


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) says the database cannot be reached or used at all,
    as opposed to a query the database refused (a constraint, a trigger, a bad statement)."""
    for item in _chain(exc):
        if isinstance(item, InterfaceError):
            return True
        if isinstance(item, OperationalError):
            driver = item.__cause__
            sqlstate = getattr(driver, "sqlstate", None)
            if sqlstate is not None:
                if str(sqlstate).startswith(_PG_UNAVAILABLE):
                    return True
                continue
            text = str(item).lower()
            if driver is not None and type(driver).__module__.startswith("psycopg"):
                return True  # psycopg without a SQLSTATE: the connection itself failed
            if any(part in text for part in _SQLITE_UNAVAILABLE):
                return True
            if "connection" in text or "server closed" in text or "could not connect" in text:
                return True
    return False


def _audit_unavailable(exc: BaseException | None) -> bool:
    from .audit import AuditUnavailable

    return any(isinstance(item, AuditUnavailable) for item in _chain(exc))


def classify(exc: BaseException | None) -> str | None:
    """"database", "audit" or None (not a fault this module answers)."""
    if is_database_unavailable(exc):
        return "database"
    if _audit_unavailable(exc):
        return "audit"
    return None


# --- Responses ------------------------------------------------------------------

def _messages(kind: str) -> tuple[str, str]:
    """(title, message) in the active language."""
    if kind == "server":
        return _("服务器错误"), _("服务器处理请求时出错，请稍后再试。错误已记录。")
    if kind == "audit":
        return (_("操作未执行"),
                _("审计日志暂时无法写入。为保证每项操作都有记录，本次操作已被拒绝，没有做任何更改。"
                  "请稍后再试；如果一直如此，请联系系统管理员。"))
    if kind == "too_large":
        from django.conf import settings

        return (_("上传内容过大"),
                _("上传的内容超过 %(mb)d MB，没有被接收。请减少文件数量或压缩后再试。")
                % {"mb": settings.UPLOAD_REQUEST_MAX_BYTES // (1024 * 1024)})
    return (_("服务暂时不可用"), _("系统暂时无法访问数据库，请稍后再试。"))


def _language(request) -> str:
    # The cookie and Accept-Language only: the session (a database read) is out of reach.
    return translation.get_language_from_request(request, check_path=False)


def _format(request) -> str:
    path = request.path_info
    if path.startswith(OPEN311_PREFIX):
        return "open311"
    if path == HEALTH_PATH or path.startswith(HEALTH_PATH + "/"):
        return "json"
    if path.startswith(API_PREFIX) and not path.startswith(API_HTML_PREFIXES):
        return "json"
    return "html"


CODES = {"database": "service_unavailable", "audit": "audit_unavailable", "server": "server_error",
         "too_large": "request_too_large"}
STATUS = {"database": 503, "audit": 503, "server": 500, "too_large": 413}


def fault_response(request, kind: str) -> HttpResponse:
    """The answer for `kind` ("database" or "audit": 503; "server": 500; "too_large": 413), in
    the format the URL speaks.  Rendered without the request: no context processor, no
    session, no user."""
    from .middleware import SecurityHeadersMiddleware

    status = STATUS[kind]
    with translation.override(_language(request)):
        title, message = _messages(kind)
        fmt = _format(request)
        if fmt == "json":
            response = JsonResponse({"errors": [{"code": CODES[kind], "field": None, "message": message}]},
                                    status=status, json_dumps_params={"ensure_ascii": False})
        elif fmt == "open311":
            from zhouxin.api.open311.render import respond

            path = request.path_info
            response = respond("errors", [{"code": status, "description": message}],
                               "json" if path.endswith(".json") else "xml", status=status)
        else:
            body = loader.get_template("core/unavailable.html").render(
                {"title": title, "message": message, "language": translation.get_language(),
                 "retry": status == 503})
            response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
            response["Content-Language"] = translation.get_language()
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = SecurityHeadersMiddleware.POLICY
    response["X-Frame-Options"] = "DENY"
    response["X-Content-Type-Options"] = "nosniff"
    response.zx_fault = kind
    return response


# --- Catching them ----------------------------------------------------------------

def remember_exception(sender, request=None, **kwargs) -> None:
    """got_request_exception: keep what a middleware or view raised on the request, so the
    middleware can tell, on the way out, that a 500 was really a database outage."""
    exc = sys.exc_info()[1]
    if request is not None and exc is not None:
        faults = getattr(request, _EXCEPTION_ATTR, None)
        if faults is None:
            faults = []
            setattr(request, _EXCEPTION_ATTR, faults)
        faults.append(exc)


def _connect_signal() -> None:
    from django.core.signals import got_request_exception

    got_request_exception.connect(remember_exception, dispatch_uid="zhouxin.core.faults.remember_exception")


_connect_signal()


def _ensure_usable(connection) -> None:
    """Open the connection, or check a persistent one (CONN_HEALTH_CHECKS): one that died with a
    database restart is replaced now, so the request neither fails half-way nor in vain.
    Django runs the same check at the first query of a request; this runs it first (and also
    under the test client, which skips Django's per-request reset)."""
    reused = connection.connection is not None
    connection.ensure_connection()
    if reused and connection.health_check_enabled and not connection.in_atomic_block:
        connection.health_check_done = False
        connection.close_if_health_check_failed()
        connection.ensure_connection()


class DatabaseFaultMiddleware:
    """Outermost layer above the sessions: database down → 503; audit log down → 503 with
    "refused, nothing changed".  See the module docstring for where each is caught."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == LIVE_PATH and request.method in ("GET", "HEAD"):
            return live_response()  # liveness: the process answers, whatever the database does
        try:
            _ensure_usable(connections["default"])
        except DatabaseError as exc:
            logger.error("database unavailable: %s %s answered 503 (%s)", request.method, request.path, exc)
            return fault_response(request, "database")
        response = self.get_response(request)
        if response.status_code == 500:
            for exc in getattr(request, _EXCEPTION_ATTR, ()):
                kind = classify(exc)
                if kind is not None:
                    return fault_response(request, kind)
        return response

    def process_exception(self, request, exception):
        kind = classify(exception)
        if kind is None:
            return None
        if kind == "database":
            logger.error("database unavailable: %s %s answered 503", request.method, request.path,
                         exc_info=exception)
        else:
            logger.error("audit log unavailable: %s %s refused", request.method, request.path,
                         exc_info=exception)
        return fault_response(request, kind)


def health(request):
    """/healthz for monitors (readiness): JSON with a status per check and 200 when all pass,
    503 when one fails.  The database not answering is caught earlier, by the middleware
    (the usual 503).  Checks: the database's round trip, the age of the oldest runnable
    background task (HEALTH_TASK_QUEUE_MAX_AGE) and of the oldest audit entry awaiting the
    sealer (HEALTH_AUDIT_SEAL_MAX_AGE).  Ages and statuses only, no counts: the page is public
    (counts are in the token-protected /metrics)."""
    from django.conf import settings

    from . import metrics

    checks = {}
    try:
        checks["database"] = {"status": "ok", "latency_ms": round(metrics.database_ping() * 1000, 1)}
        queue_age = metrics.task_queue()["oldest_ready_age"]
        checks["task_queue"] = {"status": "ok" if queue_age <= settings.HEALTH_TASK_QUEUE_MAX_AGE else "fail",
                                "oldest_ready_seconds": round(queue_age)}
        seal_age = metrics.audit_unsealed()["oldest_age"]
        checks["audit_sealer"] = {"status": "ok" if seal_age <= settings.HEALTH_AUDIT_SEAL_MAX_AGE else "fail",
                                  "oldest_unsealed_seconds": round(seal_age)}
    except DatabaseError as exc:
        if is_database_unavailable(exc):
            raise  # the middleware's 503
        logger.exception("health check failed")
        checks.setdefault("database", {"status": "fail"})
        checks["database"]["status"] = "fail"
    ok = all(check["status"] == "ok" for check in checks.values())
    response = JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    if not ok:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


LIVE_PATH = HEALTH_PATH + "/live"


def live_response() -> JsonResponse:
    response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def health_live(request):
    """/healthz/live (liveness): 200 whenever the process answers; never touches the database.
    DatabaseFaultMiddleware answers it before its own database check."""
    return live_response()


class RequestSizeMiddleware:
    """Refuses a request body over UPLOAD_REQUEST_MAX_BYTES (413, a clear message) before any of
    it is read: Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams files of any
    size to temporary files.  The per-file caps (images 5 MB, imports 5 MB) are checked by the
    forms; this only stops a body no form could accept from filling the disk."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.UPLOAD_REQUEST_MAX_BYTES:
            logger.warning("request body of %d bytes refused: %s %s", length, request.method, request.path)
            return fault_response(request, "too_large")
        return self.get_response(request)


def server_error(request, *args, **kwargs):
    """handler500 (DEBUG off): the 503 answers for the faults above, otherwise a plain 500 in
    the URL's format, rendered without context processors (the cause may be the database)."""
    return fault_response(request, classify(sys.exc_info()[1]) or "server")
