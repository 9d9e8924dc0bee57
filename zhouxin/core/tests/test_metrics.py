"""/metrics (Prometheus) and /healthz, /healthz/live (zhouxin/core/metrics.py, faults.health)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.parser import text_string_to_metric_families

from zhouxin.core import audit
from zhouxin.dispatch import services
from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.models import ServiceRequest

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"  # a documentation address: not in METRICS_ALLOWED_IPS


def scrape(client=None, **headers) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape from 127.0.0.1."""
    response = (client or Client()).get(reverse("core:metrics"), **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def make_request(personas, **kwargs):
    values = {"kind": "complaint", "channel": "hotline", "title": "楼道堆放杂物", "description": "3号楼楼道堆放杂物。"}
    values.update(kwargs)
    return services.request_intake(actor=personas.users["street_hub"], area=personas.areas["community_a"],
                                   category=None, **values)


def make_task(status="READY", *, run_after=None, enqueued_ago=dt.timedelta(0)):
    task = DBTaskResult.objects.create(
        status=status, args_kwargs={"args": [], "kwargs": {}}, task_path="zhouxin.tasks.example",
        queue_name="default", backend_name="default", run_after=run_after or get_date_max(),
        exception_class_path="", traceback="")
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - enqueued_ago)
    return task


# --- access --------------------------------------------------------------------------------

def test_metrics_are_hidden_from_other_addresses_without_the_token(settings):
    settings.METRICS_TOKEN = "s3cret-token"
    url = reverse("core:metrics")
    outside = Client(REMOTE_ADDR=OUTSIDE)
    assert outside.get(url).status_code == 404
    assert b"zhouxin_" not in outside.get(url).content
    assert outside.get(url, HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 404
    assert outside.get(url, HTTP_AUTHORIZATION="s3cret-token").status_code == 404  # not a bearer header
    # The same 404 page as any unknown address: nothing reveals that the endpoint exists.
    def page(path):  # without the per-response CSRF token and the path itself
        return re.sub(r'"[A-Za-z0-9]{64}"', "", outside.get(path).content.decode()).replace(path, "")

    assert page(url) == page("/no-such-page/")
    assert outside.get(url, HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get(url).status_code == 200


def test_no_token_configured_means_no_token_opens_it(settings):
    settings.METRICS_TOKEN = ""
    outside = Client(REMOTE_ADDR=OUTSIDE)
    assert outside.get(reverse("core:metrics"), HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_allowed_networks_and_a_bad_entry(settings):
    settings.METRICS_ALLOWED_IPS = ["not-an-address", "10.20.0.0/16"]
    url = reverse("core:metrics")
    assert Client(REMOTE_ADDR="10.20.3.4").get(url).status_code == 200
    assert Client(REMOTE_ADDR="10.21.3.4").get(url).status_code == 404
    assert Client(REMOTE_ADDR="127.0.0.1").get(url).status_code == 404  # the default was replaced


# --- content -------------------------------------------------------------------------------

def test_request_counters_move_by_view_method_and_status():
    client = Client()
    key = ("zhouxin_http_requests_total", (("method", "GET"), ("status", "200"), ("view", "core:health_live")))
    missing = ("zhouxin_http_requests_total", (("method", "GET"), ("status", "404"), ("view", "unresolved")))
    before = scrape(client)
    for _ in range(3):
        assert client.get(reverse("core:health_live")).status_code == 200
    client.get("/no-such-page/")
    after = scrape(client)
    assert after[key] - before.get(key, 0) == 3
    assert after[missing] - before.get(missing, 0) == 1
    count = ("zhouxin_http_request_duration_seconds_count", key[1])
    assert after[count] - before.get(count, 0) == 3
    inf = ("zhouxin_http_request_duration_seconds_bucket", tuple(sorted((*key[1], ("le", "+Inf")))))
    assert after[inf] - before.get(inf, 0) == 3
    # Paths with ids never become labels: the URL name does.
    assert not any("/" in dict(labels).get("view", "") for _, labels in after)


def test_gauges_match_the_database(personas):
    now = timezone.now()
    received = make_request(personas, title="待派")
    late = make_request(personas, title="超期")
    closed = make_request(personas, title="已办结")
    returned = make_request(personas, title="退单")
    requests = ServiceRequest.objects.unscoped()
    requests.filter(pk=late.pk).update(status=Status.DISPATCHED, resolve_due_at=now - dt.timedelta(days=1))
    requests.filter(pk=closed.pk).update(status=Status.CLOSED, resolve_due_at=now - dt.timedelta(days=1))
    requests.filter(pk=returned.pk).update(status=Status.RETURNED, resolve_due_at=now + dt.timedelta(days=3))
    requests.filter(pk=received.pk).update(resolve_due_at=now + dt.timedelta(days=3))
    make_task("READY", enqueued_ago=dt.timedelta(minutes=5))
    make_task("READY", run_after=now + dt.timedelta(hours=1))  # not runnable yet: waits for nobody
    make_task("FAILED")
    make_task("SUCCESSFUL")
    make_task("SUCCESSFUL")

    samples = scrape()
    assert samples[("zhouxin_database_up", ())] == 1
    assert 0 < samples[("zhouxin_database_latency_seconds", ())] < 5
    assert samples[("zhouxin_requests_open", (("status", "received"),))] == 1
    assert samples[("zhouxin_requests_overdue", (("status", "received"),))] == 0
    assert samples[("zhouxin_requests_open", (("status", "dispatched"),))] == 1
    assert samples[("zhouxin_requests_open", (("status", "returned"),))] == 1
    assert ("zhouxin_requests_open", (("status", "closed"),)) not in samples  # finished work is not scraped
    assert samples[("zhouxin_requests_overdue", (("status", "dispatched"),))] == 1
    assert samples[("zhouxin_requests_overdue", (("status", "returned"),))] == 0

    queue = {dict(labels)["status"]: value for (name, labels), value in samples.items() if name == "zhouxin_task_queue"}
    assert queue == {"READY": 2, "RUNNING": 0, "FAILED": 1, "SUCCESSFUL": 2}
    assert 290 <= samples[("zhouxin_task_queue_oldest_ready_seconds", ())] < 400

    # Audit entries written in this (never committed) test transaction wait for the sealer.
    unsealed = samples[("zhouxin_audit_unsealed", ())]
    assert unsealed >= 4  # one per intake at least
    audit.seal_all()
    samples = scrape()
    assert samples[("zhouxin_audit_unsealed", ())] == 0
    assert samples[("zhouxin_audit_unsealed_oldest_seconds", ())] == 0


def test_counters_add_up_over_processes_in_multiprocess_mode(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR set: two worker processes count one request each, a third
    process's scrape sees both."""
    script = textwrap.dedent("""
        import sys, django
        django.setup()
        from django.http import HttpResponse
        from django.test import RequestFactory
        from prometheus_client import generate_latest
        from zhouxin.core import metrics
        if sys.argv[1] == "serve":
            metrics.MetricsMiddleware(lambda request: HttpResponse(status=204))(RequestFactory().get("/x"))
        else:
            print(generate_latest(metrics.scrape_registry(database=False)).decode())
    """)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "zhouxin.settings",
           "ZHOUXIN_TESTING": "1"}
    env.pop("PYTEST_CURRENT_TEST", None)
    for mode in ("serve", "serve", "scrape"):
        done = subprocess.run([sys.executable, "-c", script, mode], cwd=django_settings.BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    families = {f.name: f for f in text_string_to_metric_families(done.stdout)}
    values = [s.value for s in families["zhouxin_http_requests"].samples
              if s.name == "zhouxin_http_requests_total" and s.labels["status"] == "204"]
    assert values == [2.0]


# --- health --------------------------------------------------------------------------------

def test_health_reports_each_check():
    response = Client().get(reverse("core:health"))
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["task_queue"] == {"status": "ok", "oldest_ready_seconds": 0}
    assert body["checks"]["audit_sealer"] == {"status": "ok", "oldest_unsealed_seconds": 0}


def test_health_fails_when_the_task_queue_stalls(settings):
    settings.HEALTH_TASK_QUEUE_MAX_AGE = 600
    make_task("READY", enqueued_ago=dt.timedelta(minutes=5))
    assert Client().get(reverse("core:health")).status_code == 200
    make_task("READY", run_after=timezone.now() - dt.timedelta(minutes=20))  # due 20 min ago, nobody ran it
    response = Client().get(reverse("core:health"))
    body = response.json()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert body["status"] == "fail" and body["checks"]["task_queue"]["status"] == "fail"
    assert 1190 <= body["checks"]["task_queue"]["oldest_ready_seconds"] <= 1300
    assert body["checks"]["database"]["status"] == "ok" and body["checks"]["audit_sealer"]["status"] == "ok"
    # Counts stay off the public page.
    assert "READY" not in response.content.decode()


def test_health_fails_while_audit_entries_wait_for_the_sealer(settings, personas):
    settings.HEALTH_AUDIT_SEAL_MAX_AGE = 0  # any unsealed entry is late
    audit.record(actor=personas.district_admin, action="core.test_entry", object_repr="x")
    response = Client().get(reverse("core:health"))
    assert response.status_code == 503
    assert response.json()["checks"]["audit_sealer"]["status"] == "fail"
    audit.seal_all()
    assert Client().get(reverse("core:health")).status_code == 200


def test_liveness_never_asks_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get(reverse("core:health_live"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
