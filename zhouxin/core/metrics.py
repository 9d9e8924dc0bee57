"""Prometheus metrics at /metrics (core:metrics) and the request-counting middleware.

Two kinds of series:

* Per request, counted in the process that served it (MetricsMiddleware, no database work):
  `zhouxin_http_requests_total` and `zhouxin_http_request_duration_seconds` by view name
  (the URL name from resolver_match, so the label set stays small), method and status.
* Read from the database when Prometheus scrapes (DatabaseCollector, a handful of
  aggregate queries on indexed columns): task queue depth by status and the age of the
  oldest runnable task, requests still being worked on and overdue by status, audit
  entries awaiting the sealer and the oldest one's age, database up and its round trip.

The series live in a registry of their own (not prometheus_client's global one), so tests
see only these and nothing a library registered on import.

Several gunicorn workers: each worker counts only the requests it served, and a scrape
reaches one worker at random.  Set PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied
at every start, writable by the workers) before the processes start: prometheus_client
then keeps the counters in files there and the scrape sums them over all workers
(MultiProcessCollector).  The database gauges are computed by the scraped worker alone.

Access: a bearer token equal to METRICS_TOKEN, or a client address in METRICS_ALLOWED_IPS
(addresses or networks).  Anyone else gets the site's ordinary 404: the endpoint is not
revealed.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Count, Min, Q
from django.http import Http404, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .ratelimit import client_ip

REGISTRY = CollectorRegistry(auto_describe=True)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("zhouxin_http_requests", "HTTP requests answered, by URL name, method and status.",
                   ["view", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("zhouxin_http_request_duration_seconds",
                    "Time from the request reaching Django to the response leaving it, by URL name, method and status.",
                    ["view", "method", "status"], buckets=LATENCY_BUCKETS, registry=REGISTRY)


def view_label(request) -> str:
    """The URL name ("dispatch:request_detail"), never the path: paths carry ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or "unnamed"
    static = settings.STATIC_URL or "/static/"
    if request.path_info.startswith(static if static.startswith("/") else "/" + static):
        return "static"
    # Answered before URL resolution (liveness, a database fault, a refused body): the URL it was for.
    try:
        return resolve(request.path_info).view_name or "unnamed"
    except Resolver404:
        return "unresolved"  # no such URL


class MetricsMiddleware:
    """Counts every response and its latency.  Outermost, so 503s and refusals count too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        method = request.method if request.method in METHODS else "other"
        labels = (view_label(request), method, str(response.status_code))
        REQUESTS.labels(*labels).inc()
        LATENCY.labels(*labels).observe(elapsed)
        return response


# --- Read from the database at scrape time -------------------------------------------

def _seconds_since(moment, now) -> float:
    return max((now - moment).total_seconds(), 0.0) if moment else 0.0


def task_queue(now=None) -> dict:
    """{"by_status": {status: n}, "oldest_ready_age": seconds the oldest runnable task has waited}."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = now or timezone.now()
    by_status = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")).order_by())
    # A task enqueued to run at once carries run_after = 9999-01-01 (django_tasks_db): it has
    # waited since it was enqueued; a delayed one since its run_after passed.
    never = get_date_max()
    row = DBTaskResult.objects.filter(status="READY").aggregate(
        immediate=Min("enqueued_at", filter=Q(run_after=never)),
        delayed=Min("run_after", filter=Q(run_after__lte=now)))
    waiting = [moment for moment in (row["immediate"], row["delayed"]) if moment is not None]
    return {"by_status": by_status, "oldest_ready_age": _seconds_since(min(waiting) if waiting else None, now)}


def requests_open(now=None) -> dict[str, tuple[int, int]]:
    """{status: (requests, overdue)} over the statuses somebody still acts on; one query on the
    (status, resolve_due_at) index.  Closed, merged and invalid requests are left out: counting
    them would read the whole table at every scrape."""
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.dispatch.models import ServiceRequest
    from zhouxin.dispatch.selectors import ACTIVE_STATUSES

    now = now or timezone.now()
    with scopes_disabled():
        rows = (ServiceRequest.objects.filter(status__in=sorted(ACTIVE_STATUSES)).values_list("status")
                .annotate(n=Count("id"), overdue=Count("id", filter=Q(resolve_due_at__lt=now))).order_by())
        return {status: (n, overdue) for status, n, overdue in rows}


def audit_unsealed(now=None) -> dict:
    """Audit entries of the sealer's horizon (the last SWEEP_HORIZON) still without a seal, and
    how long the oldest has waited.  Older stragglers are verify_audit's business."""
    from zhouxin.core.audit import SWEEP_HORIZON
    from zhouxin.core.models import AuditEntry

    now = now or timezone.now()
    row = (AuditEntry.objects.filter(seal__isnull=True, at__gte=now - SWEEP_HORIZON)
           .aggregate(n=Count("id"), oldest=Min("at")))
    return {"count": row["n"], "oldest_age": _seconds_since(row["oldest"], now)}


def database_ping(alias: str = "default") -> float:
    """Round trip of SELECT 1 in seconds; raises DatabaseError when the database does not answer."""
    started = time.perf_counter()
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return time.perf_counter() - started


class DatabaseCollector:
    """Gauges computed from the database when Prometheus scrapes."""

    def collect(self):
        from zhouxin.dispatch.selectors import ACTIVE_STATUSES

        up = GaugeMetricFamily("zhouxin_database_up", "1 when the database answered SELECT 1.")
        latency = GaugeMetricFamily("zhouxin_database_latency_seconds", "Round trip of SELECT 1 to the database.")
        try:
            seconds = database_ping()
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        latency.add_metric([], seconds)
        yield up
        yield latency
        now = timezone.now()

        queue = task_queue(now)
        depth = GaugeMetricFamily("zhouxin_task_queue", "Background tasks by status (django_tasks_db).",
                                  labels=["status"])
        for status in ("READY", "RUNNING", "FAILED", "SUCCESSFUL"):
            depth.add_metric([status], queue["by_status"].get(status, 0))
        for status, n in sorted(queue["by_status"].items()):
            if status not in ("READY", "RUNNING", "FAILED", "SUCCESSFUL"):
                depth.add_metric([status], n)
        yield depth
        age = GaugeMetricFamily("zhouxin_task_queue_oldest_ready_seconds",
                                "How long the oldest runnable task has waited for a worker (0: none waits).")
        age.add_metric([], queue["oldest_ready_age"])
        yield age

        counts = requests_open(now)
        open_ = GaugeMetricFamily("zhouxin_requests_open", "Requests somebody still acts on, by status.",
                                  labels=["status"])
        overdue = GaugeMetricFamily("zhouxin_requests_overdue",
                                    "Requests still being worked on past their resolve deadline, by status.",
                                    labels=["status"])
        for status in sorted(ACTIVE_STATUSES):
            n, late = counts.get(status, (0, 0))
            open_.add_metric([str(status)], n)
            overdue.add_metric([str(status)], late)
        yield open_
        yield overdue

        audit = audit_unsealed(now)
        unsealed = GaugeMetricFamily("zhouxin_audit_unsealed", "Audit entries of the last hour the sealer has not linked yet.")
        unsealed.add_metric([], audit["count"])
        yield unsealed
        lag = GaugeMetricFamily("zhouxin_audit_unsealed_oldest_seconds",
                                "Age of the oldest audit entry awaiting the sealer (0: none).")
        lag.add_metric([], audit["oldest_age"])
        yield lag


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape_registry(*, database: bool = True) -> CollectorRegistry:
    """The registry one scrape reads: this process's counters (or all workers' in multiprocess
    mode) plus the database gauges."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    if database:
        registry.register(DatabaseCollector())
    return registry


# --- Access ---------------------------------------------------------------------------

def _networks() -> list:
    networks = []
    for item in getattr(settings, "METRICS_ALLOWED_IPS", ["127.0.0.1"]):
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue  # a typo in the setting refuses that entry, not every scrape
    return networks


def allowed(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in _networks())


def metrics(request):
    """Prometheus text format for a scraper with the token or from an allowed address; 404 otherwise."""
    if not allowed(request):
        raise Http404
    response = HttpResponse(generate_latest(scrape_registry()),
                            content_type="text/plain; version=0.0.4; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response

