#!/usr/bin/env python
"""The rankings page (dispatch:rankings) over a year of N requests, vs the naive aggregate (DESIGN §5).

1. A fresh PostgreSQL database with the demo district (or --reuse an existing one).
2. N requests received over the last 12 months in Dongcheng's communities, each with the
   five events of a normal life (received, dispatched, contacted, callback, closed; the
   shapes the services write), generated inside PostgreSQL with INSERT … SELECT over
   generate_series (timed: DESIGN budget "generating 1 M demo requests < 3 min").
3. rollups.rebuild() replays every event into the roll-ups (timed).
4. `--repeat` GETs of the rankings page of last month by the demo district administrator
   (signed in, second factor verified) through Django's full middleware stack in process:
   p50/p95 and the page's query count; and the naive aggregate over raw rows — one GROUP BY
   street × month over the year with the three rates' counts — timed the same way.

    .venv/bin/python scripts/bench_rankings.py [--requests 1000000] [--repeat 30] [--reuse] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_common as common  # noqa: E402

REQUEST_SQL = """
INSERT INTO dispatch_servicerequest (
    number, district_id, street_id, area_id, kind, channel, urgency, category_id, category_confirmed, suggestions,
    title, description, address, contact_name, contact_phone, contact_phone_index, status, hold_reason, lead_org_id,
    master_id, idempotency_key, received_by_id, received_at, dispatched_at, accepted_at, contacted_at, replied_at,
    callback_at, closed_at, contact_due_at, resolve_due_at, deadline_provisional, warn_due_at, warned_at,
    escalated_at, contact_overdue_at, supervised, reopen_count, resolution, satisfaction, reply, invalid_reason,
    created_at, updated_at)
SELECT 'B' || lpad(g.i::text, 16, '0'), %(district)s, (%(streets)s::bigint[])[g.c], (%(areas)s::bigint[])[g.c],
       'complaint', 'hotline', 'normal', (%(cats)s::bigint[])[1 + (g.i * 31) %% %(ncats)s], true, '[]'::jsonb,
       '楼道灯坏了', '我们小区3号楼楼道灯坏了，晚上太黑，希望尽快修。', '', '王女士', '', '', 'closed', '',
       (%(orgs)s::bigint[])[g.c], NULL, NULL, NULL,
       g.t, g.t, g.t + interval '1 hour', g.t + interval '5 hours', g.t + interval '2 days',
       g.t + interval '3 days', g.t + interval '3 days', g.t + interval '24 hours', g.t + interval '7 days', false,
       g.t + interval '134 hours', NULL, NULL, NULL, false, 0,
       CASE WHEN g.i %% 100 < 86 THEN 'resolved' WHEN g.i %% 100 < 94 THEN 'partly' ELSE 'not_resolved' END,
       CASE WHEN g.i %% 97 < 80 THEN 'satisfied' WHEN g.i %% 97 < 91 THEN 'basic'
            WHEN g.i %% 97 < 95 THEN 'unsatisfied' ELSE 'unreachable' END,
       '已处理。', '', g.t, g.t + interval '3 days'
FROM (SELECT i, 1 + (i * 7919) %% %(ncomm)s AS c,
             %(start)s::timestamptz + (i::float8 / %(n)s) * (%(end)s::timestamptz - %(start)s::timestamptz) AS t
      FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i) AS g
"""

EVENT_SQL = """
INSERT INTO dispatch_requestevent (request_id, at, actor_id, organisation_id, action, from_status, to_status, note, data)
SELECT r.id, {at}, NULL, {org}, '{action}', '{frm}', '{to}', '', {data}
FROM dispatch_servicerequest r WHERE r.number LIKE 'B%%' AND r.id BETWEEN %(lo)s AND %(hi)s ORDER BY r.id
"""
EVENTS = (
    ("received", "''", "received", "r.received_at", "NULL", "'{}'::jsonb"),
    ("dispatched", "received", "dispatched", "r.received_at", "r.lead_org_id",
     """jsonb_build_object('lead', r.lead_org_id, 'co', '[]'::jsonb, 'automatic', true)"""),
    ("contacted", "dispatched", "contacted", "r.contacted_at", "r.lead_org_id",
     "jsonb_build_object('in_time', r.id %% 10 <> 0)"),
    ("callback", "contacted", "replied", "r.callback_at", "r.lead_org_id",
     "jsonb_build_object('resolution', r.resolution, 'satisfaction', r.satisfaction)"),
    ("closed", "replied", "closed", "r.closed_at", "r.lead_org_id", "'{}'::jsonb"),
)

NAIVE_SQL = """
SELECT street_id, date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai') AS month,
       count(*) AS received,
       count(*) FILTER (WHERE status = 'invalid') AS invalid,
       count(contacted_at) FILTER (WHERE status <> 'invalid') AS response_due,
       count(*) FILTER (WHERE status <> 'invalid' AND contacted_at <= contact_due_at) AS responded_in_time,
       count(callback_at) FILTER (WHERE status <> 'invalid') AS callbacks,
       count(*) FILTER (WHERE resolution = 'resolved' AND status <> 'invalid') AS resolved,
       count(*) FILTER (WHERE resolution = 'partly' AND status <> 'invalid') AS partly,
       count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basic', 'unsatisfied') AND status <> 'invalid')
           AS evaluated,
       count(*) FILTER (WHERE satisfaction = 'satisfied' AND status <> 'invalid') AS satisfied,
       count(*) FILTER (WHERE satisfaction = 'basic' AND status <> 'invalid') AS basic
FROM dispatch_servicerequest
WHERE district_id = %s AND received_at >= %s AND received_at < %s
GROUP BY 1, 2
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=common.DEFAULT_SERVER)
    parser.add_argument("--db", default="zhouxin_bench")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--reuse", action="store_true", help="reuse the database (skip the demo set-up)")
    parser.add_argument("--json")
    args = parser.parse_args()

    setup = {}
    if args.reuse:
        url = common.database_url(args.server, args.db)
    else:
        url = common.recreate_database(args.server, args.db)
        setup = common.prepare_demo(url)
    os.environ.update(common.env_for(url))
    import django

    django.setup()
    import datetime as dt

    from django.db import connection, transaction
    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.dispatch import rates, rollups
    from zhouxin.orgs.models import Area, Organisation

    with scopes_disabled():
        district = Area.objects.get(code="110101")
        communities = list(Area.objects.filter(level="community", code__startswith="110101").order_by("code"))
        streets = {a.code: a.pk for a in Area.objects.filter(level="street", code__startswith="110101")}
        committees = {o.area.code: o.pk for o in Organisation.objects.filter(
            kind="party_committee", area__level="community", area__code__startswith="110101").select_related("area")}
        cats = list(rollups.Category.objects.filter(level=3, is_active=True).order_by("code")
                    .values_list("id", flat=True))
    now = timezone.now()
    end = now - dt.timedelta(days=4)
    start = end - dt.timedelta(days=365)
    params = {"district": district.pk, "streets": [streets[c.code[:9]] for c in communities],
              "areas": [c.pk for c in communities], "orgs": [committees[c.code] for c in communities],
              "cats": cats, "ncats": len(cats), "ncomm": len(communities), "n": args.requests,
              "start": start, "end": end}

    # --- generate --------------------------------------------------------------------------
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dispatch_servicerequest WHERE number LIKE 'B%%'")
        already = cursor.fetchone()[0]
    generated = {}
    if already != args.requests:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM dispatch_requestevent WHERE request_id IN "
                           "(SELECT id FROM dispatch_servicerequest WHERE number LIKE 'B%%')")
            cursor.execute("DELETE FROM dispatch_servicerequest WHERE number LIKE 'B%%'")
        t0 = time.perf_counter()
        for first in range(1, args.requests + 1, args.chunk):
            last = min(args.requests, first + args.chunk - 1)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(REQUEST_SQL, {**params, "first": first, "last": last})
        t1 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id), max(id) FROM dispatch_servicerequest WHERE number LIKE 'B%%'")
            lo, hi = cursor.fetchone()
        step = args.chunk
        for start_id in range(lo, hi + 1, step):
            with transaction.atomic(), connection.cursor() as cursor:
                for action, frm, to, at, org, data in EVENTS:
                    cursor.execute(EVENT_SQL.format(action=action, frm=frm.strip("'"), to=to, at=at, org=org,
                                                    data=data), {"lo": start_id, "hi": min(hi, start_id + step - 1)})
        t2 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dispatch_servicerequest")
            cursor.execute("ANALYZE dispatch_requestevent")
        generated = {"requests_seconds": round(t1 - t0, 1), "events_seconds": round(t2 - t1, 1),
                     "total_seconds": round(t2 - t0, 1)}
        print("generated", generated, flush=True)
    t0 = time.perf_counter()
    with scopes_disabled():
        rebuilt = rollups.rebuild()
    rebuild_seconds = round(time.perf_counter() - t0, 1)
    print("rebuilt", rebuilt, rebuild_seconds, flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dispatch_rollup")
        cursor.execute("SELECT count(*) FROM dispatch_servicerequest")
        total_requests = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM dispatch_requestevent")
        total_events = cursor.fetchone()[0]

    # --- the page ----------------------------------------------------------------------------
    client = common.signed_in_client("district_admin")
    month = rates.add_months(timezone.localdate().replace(day=1), -1)
    url_page = reverse("dispatch:rankings") + f"?month={month:%Y-%m}"
    page = common.measure_in_process(client, url_page, args.repeat, expect="东华门街道")

    # --- the naive aggregate ------------------------------------------------------------------
    year_start = timezone.localtime(now).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    year_start = min(year_start, timezone.localtime(start))
    naive_times = []
    for _ in range(max(5, args.repeat // 3)):
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(NAIVE_SQL, [district.pk, start, now])
            rows = cursor.fetchall()
        naive_times.append(time.perf_counter() - t)
    naive_times.sort()

    page_p50, page_p95 = page["p50_ms"], page["p95_ms"]
    naive_p50 = statistics.median(naive_times) * 1000
    result = {
        "machine": common.machine(), "requests_generated": args.requests, "total_requests": total_requests,
        "total_events": total_events, "setup_seconds": setup, "generate": generated,
        "rebuild_seconds": rebuild_seconds, "rollup_rows": rebuilt.rollups,
        "category_rollup_rows": rebuilt.category_rollups,
        "page": {"url": url_page, "repeat": args.repeat, "p50_ms": page_p50, "p95_ms": page_p95,
                 "queries": page["queries"]},
        "naive": {"rows": len(rows), "runs": len(naive_times), "p50_ms": round(naive_p50, 1),
                  "p95_ms": round(common.percentile(naive_times, 95) * 1000, 1)},
        "speedup_p50": round(naive_p50 / page_p50, 1) if page_p50 else None,
        "budget": {"p95_under_300ms": page_p95 < 300, "at_least_20x": naive_p50 / page_p50 >= 20 if page_p50 else False},
    }
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
