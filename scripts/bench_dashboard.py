#!/usr/bin/env python
"""The district dashboard (analytics:dashboard) at city scale: all of Beijing, up to 10 M requests (DESIGN §5).

1. A fresh PostgreSQL database with the demo district (users, catalogue) and all of Beijing's areas
   imported from the bundled divisions (16 districts, 349 streets and towns, 7,535 communities).
2. Requests received over the last 12 months, spread over every community of the city and over the
   catalogue's leaves, generated inside PostgreSQL (INSERT … SELECT over generate_series), in steps
   (default 1 M, then 10 M) so the page is measured as the data grows.
3. The roll-ups of those requests.  Replaying 50 M events through rollups.rebuild() would take about
   half an hour at 10 M requests (≈ 60,000 events/s, docs/performance.md "Rankings at scale"), so the
   roll-up rows are computed with one INSERT … SELECT … GROUP BY per subject level, which for these
   request lives (received, dispatched, contacted, called back, closed) gives the same counters as the
   fold: `--verify` generates the events of a small set too and checks that rollups.rebuild() gives
   exactly the rows the SQL wrote.
4. At each step, four pages, signed in with the second factor verified: the city (a district admin
   granted on 北京市: 16 districts), a district (the demo district admin: 东城区, 17 streets), a street
   and a community.  Served: gunicorn (`--workers` × `--threads`, DEBUG off) on 127.0.0.1 and a load
   generator on the same machine (scripts/bench_common.py: asyncio, `--clients` HTTP/1.1 keep-alive
   connections, `--seconds` per page after `--warmup`): p50/p95/p99, requests a second, errors (only a
   200 with the page's own content counts).  In process: `--repeat` GETs through Django's whole
   middleware stack with the test Client: p50/p95 and the query count.  And the naive aggregate of
   DESIGN §5 over raw rows — GROUP BY street × month over the year of the whole city, with the counts
   the three rates need — timed the same way (and, for comparison, the same over 东城区 only).
   The budget, on the served figures: every page p95 < 300 ms at every size with no error, and p50
   ≥ 20 × faster than the naive aggregate at the largest size; flat as the data grows.

    .venv/bin/python scripts/bench_dashboard.py [--steps 1000000,10000000] [--repeat 30] [--reuse] [--json FILE]
        [--markdown FILE] [--workers 4] [--threads 1] [--clients 4] [--seconds 5] [--warmup 1]
    .venv/bin/python scripts/bench_dashboard.py --verify --steps 20000      # roll-ups SQL == rebuild()
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
from bench_rankings import EVENT_SQL, EVENTS  # noqa: E402  (the five events of a normal life)

REQUEST_SQL = """
INSERT INTO dispatch_servicerequest (
    number, district_id, street_id, area_id, kind, channel, urgency, category_id, category_confirmed, suggestions,
    title, description, address, contact_name, contact_phone, contact_phone_index, status, hold_reason, lead_org_id,
    master_id, idempotency_key, received_by_id, received_at, dispatched_at, accepted_at, contacted_at, replied_at,
    callback_at, closed_at, contact_due_at, resolve_due_at, deadline_provisional, warn_due_at, warned_at,
    escalated_at, contact_overdue_at, supervised, reopen_count, resolution, satisfaction, reply, invalid_reason,
    created_at, updated_at)
SELECT 'B' || lpad(g.i::text, 16, '0'), (%(districts)s::bigint[])[g.c], (%(streets)s::bigint[])[g.c],
       (%(areas)s::bigint[])[g.c],
       'complaint', 'hotline', 'normal', (%(cats)s::bigint[])[1 + (g.i * 31) %% %(ncats)s], true, '[]'::jsonb,
       '楼道灯坏了', '我们小区3号楼楼道灯坏了，晚上太黑，希望尽快修。', '', '王女士', '', '', 'closed', '',
       NULL, NULL, NULL, NULL,
       g.t, g.t, g.t + interval '1 hour', g.t + interval '5 hours', g.t + interval '2 days',
       g.t + interval '3 days', g.t + interval '3 days', g.t + interval '24 hours', g.t + interval '7 days', false,
       g.t + interval '134 hours', NULL, NULL, NULL, false, 0,
       CASE WHEN g.i %% 100 < 86 THEN 'resolved' WHEN g.i %% 100 < 94 THEN 'partly' ELSE 'not_resolved' END,
       CASE WHEN (g.i + g.c) %% 97 < 78 THEN 'satisfied' WHEN (g.i + g.c) %% 97 < 90 THEN 'basic'
            WHEN (g.i + g.c) %% 97 < 95 THEN 'unsatisfied' ELSE 'unreachable' END,
       '已处理。', '', g.t, g.t + interval '3 days'
FROM (SELECT i, 1 + (i * 7919) %% %(ncomm)s AS c,
             %(start)s::timestamptz + ((i - 1)::float8 / %(span)s) * (%(end)s::timestamptz - %(start)s::timestamptz)
                 AS t
      FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i) AS g
"""

# The counters the fold moves for these lives: received (received), contacted (response_due and,
# when data.in_time, responded_in_time; the events say in_time = id % 10 <> 0), callback (callbacks,
# resolved / partly, evaluated / satisfied / basic — "unreachable" is no evaluation), closed (closed).
ROLLUP_SQL = """
INSERT INTO dispatch_rollup (month, district_id, area_id, organisation_id, received, invalid, response_due,
                             responded_in_time, callbacks, resolved, partly, evaluated, satisfied, basic, returned,
                             overdue, reopened, closed)
SELECT date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai')::date, district_id, {subject}, NULL,
       count(*), 0, count(*), count(*) FILTER (WHERE id % 10 <> 0), count(*),
       count(*) FILTER (WHERE resolution = 'resolved'), count(*) FILTER (WHERE resolution = 'partly'),
       count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basic', 'unsatisfied')),
       count(*) FILTER (WHERE satisfaction = 'satisfied'), count(*) FILTER (WHERE satisfaction = 'basic'),
       0, 0, 0, count(*)
FROM dispatch_servicerequest WHERE number LIKE 'B%'
GROUP BY 1, 2, 3
"""
CATEGORY_ROLLUP_SQL = """
INSERT INTO dispatch_categoryrollup (month, district_id, street_id, category_id, received)
SELECT date_trunc('month', r.received_at AT TIME ZONE 'Asia/Shanghai')::date, r.district_id, r.street_id, c.top,
       count(*)
FROM dispatch_servicerequest r JOIN bench_top_category c ON c.leaf = r.category_id
WHERE r.number LIKE 'B%'
GROUP BY 1, 2, 3, 4
"""

NAIVE_SQL = """
SELECT {key}, date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai') AS month,
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
WHERE {where} received_at >= %s AND received_at < %s
GROUP BY 1, 2
"""

CITY = "1101"
DISTRICT = "110101"
COUNTER_COLUMNS = ("received", "invalid", "response_due", "responded_in_time", "callbacks", "resolved", "partly",
                   "evaluated", "satisfied", "basic", "returned", "overdue", "reopened", "closed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=common.DEFAULT_SERVER)
    parser.add_argument("--db", default="zhouxin_bench_city")
    parser.add_argument("--steps", default="1000000,10000000",
                        help="request totals to measure at, comma-separated (each adds to the previous)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--reuse", action="store_true", help="reuse the database and the requests already in it")
    parser.add_argument("--verify", action="store_true",
                        help="also write the events and check rollups.rebuild() equals the SQL roll-ups (small sizes)")
    parser.add_argument("--generate-only", action="store_true",
                        help="set up and generate the last step's requests, measure nothing (then run with --reuse)")
    parser.add_argument("--json")
    parser.add_argument("--markdown", help="write the figures as a Markdown table (docs/benchmarks/dashboard.md)")
    common.add_serve_arguments(parser)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",") if s.strip()]

    setup: dict = {}
    if args.reuse:
        url = common.database_url(args.server, args.db)
    else:
        url = common.recreate_database(args.server, args.db)
        setup = common.prepare_demo(url)
        setup["import_beijing"] = common.manage(url, "import_divisions", "zhouxin/orgs/data/divisions", "--city", CITY)
    setup = {k: round(v, 1) for k, v in setup.items()}
    os.environ.update(common.env_for(url))
    import django

    django.setup()
    import datetime as dt

    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zhouxin.core.choices import Role
    from zhouxin.core.models import Grant, User
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.dispatch import rollups
    from zhouxin.dispatch.models import Category
    from zhouxin.orgs.models import Area

    with scopes_disabled():
        city = Area.objects.get(code=CITY)
        communities = list(Area.objects.filter(level="community", code__startswith=CITY, is_active=True)
                           .select_related("parent__parent").order_by("code"))
        leaves = list(Category.objects.filter(level=3, is_active=True).select_related("parent__parent")
                      .order_by("code"))
        counts = {level: Area.objects.filter(level=level, code__startswith=CITY).count()
                  for level in ("district", "street", "community")}
    print("areas", counts, flush=True)
    now = timezone.now()
    end = now - dt.timedelta(days=4)
    start = end - dt.timedelta(days=365)
    params = {"districts": [c.parent.parent_id for c in communities], "streets": [c.parent_id for c in communities],
              "areas": [c.pk for c in communities], "cats": [c.pk for c in leaves], "ncats": len(leaves),
              "ncomm": len(communities), "start": start, "end": end, "span": steps[-1]}

    # A district admin granted on the whole city (the city view), with a second factor, like the demo's.
    city_admin, created = User.objects.get_or_create(username="bench_city_admin", defaults={"full_name": "市级管理员"})
    if created:
        Grant.objects.create(user=city_admin, role=Role.DISTRICT_ADMIN, area=city)
        demo_device = TOTPDevice.objects.filter(user__username="district_admin", confirmed=True).first()
        TOTPDevice.objects.create(user=city_admin, name="bench", key=demo_device.key, confirmed=True)

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_top_category")
        cursor.execute("CREATE TABLE bench_top_category (leaf bigint PRIMARY KEY, top bigint NOT NULL)")
        cursor.executemany("INSERT INTO bench_top_category VALUES (%s, %s)",
                           [(c.pk, c.parent.parent_id) for c in leaves])

    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    period = f"{month:%Y-%m}"
    pages: list[tuple[str, str, str, str]] = []
    clients: dict[str, Client] = {}

    def prepare_pages() -> None:
        base = reverse("analytics:dashboard")
        pages.extend([
            ("city 北京市 (16 districts)", "bench_city_admin", f"{base}?area={CITY}&period={period}", "东城区"),
            ("district 东城区 (17 streets)", "district_admin", f"{base}?area={DISTRICT}&period={period}", "东华门街道"),
            ("street 东华门街道", "district_admin", f"{base}?area=110101001&period={period}", "多福巷社区"),
            ("community 多福巷社区", "district_admin", f"{base}?area=110101001001&period={period}", "多福巷社区"),
        ])
        clients.update({username: common.signed_in_client(username) for username in {p[1] for p in pages}})

    def measure_pages() -> list[dict]:
        if not pages:
            prepare_pages()
        out = []
        for label, username, url_page, expect in pages:
            out.append({"page": label, "url": url_page,
                        **common.measure_in_process(clients[username], url_page, args.repeat, expect=expect)})
            print(out[-1], flush=True)
        return out

    served_how: list[str] = []

    def serve_pages() -> list[dict]:
        """Each page through gunicorn under the load generator (a fresh server per step: no warm cache
        from the previous size)."""
        cookies = {username: common.signed_in_session(username) for username in {p[1] for p in pages}}
        out = []
        with common.serve(url, workers=args.workers, threads=args.threads, port=args.port) as server:
            for label, username, url_page, expect in pages:
                figures = common.load(server.host, server.port, [url_page], clients=args.clients,
                                      seconds=args.seconds, warmup=args.warmup, cookie=cookies[username],
                                      expect=expect)
                out.append({"page": label, "url": url_page, **figures})
                print("served", out[-1], flush=True)
            served_how[:] = [common.served_setup(server, args.clients, args.seconds, args.warmup)]
        return out

    def naive(key: str, where: str, params_: list) -> dict:
        sql = NAIVE_SQL.format(key=key, where=where)
        times = []
        rows = []
        for _ in range(max(3, args.repeat // 6)):
            t = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params_)
                rows = cursor.fetchall()
            times.append(time.perf_counter() - t)
        times.sort()
        return {"rows": len(rows), "runs": len(times), "p50_ms": round(statistics.median(times) * 1000, 1)}

    results = []
    if args.generate_only:
        steps = steps[-1:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dispatch_servicerequest WHERE number LIKE 'B%%'")
        have = cursor.fetchone()[0]
    for target in steps:
        generated = None
        if target < have:
            raise SystemExit(f"the database already holds {have:,} requests, more than {target:,}: "
                             "run without --reuse (a fresh database) to measure the smaller size")
        if target > have:
            t0 = time.perf_counter()
            for first in range(have + 1, target + 1, args.chunk):
                last = min(target, first + args.chunk - 1)
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(REQUEST_SQL, {**params, "first": first, "last": last})
                print(f"  requests {last:,}", flush=True)
            generated = round(time.perf_counter() - t0, 1)
            have = target
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM dispatch_rollup")
            cursor.execute("DELETE FROM dispatch_categoryrollup")
            cursor.execute(ROLLUP_SQL.format(subject="street_id"))
            cursor.execute(ROLLUP_SQL.format(subject="area_id"))
            cursor.execute(CATEGORY_ROLLUP_SQL)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dispatch_servicerequest")
            cursor.execute("ANALYZE dispatch_rollup")
            cursor.execute("ANALYZE dispatch_categoryrollup")
            cursor.execute("ANALYZE orgs_area")
            cursor.execute("SELECT count(*) FROM dispatch_rollup")
            rollup_rows = cursor.fetchone()[0]
        rollup_seconds = round(time.perf_counter() - t0, 1)
        print(f"step {target:,}: generated in {generated} s, roll-ups {rollup_rows:,} rows in {rollup_seconds} s",
              flush=True)
        if args.generate_only:
            return 0
        verified = None
        if args.verify:
            verified = verify(connection, transaction, rollups, scopes_disabled)
        with scopes_disabled():
            district_pk = Area.objects.get(code=DISTRICT).pk
        step = {
            "requests": have, "generate_seconds": generated, "rollup_seconds": rollup_seconds,
            "rollup_rows": rollup_rows, "verified_against_rebuild": verified,
            "pages": measure_pages(),
            "served": serve_pages(),
            # DESIGN §5's naive aggregate: GROUP BY street × month over the year's raw rows of the whole city.
            "naive_city": naive("street_id", "", [start, now]),
            "naive_district": naive("street_id", "district_id = %s AND", [district_pk, start, now]),
        }
        # Every page against the city-wide naive aggregate (the budget's measure: the served p50; the
        # in-process p50 too), and the district page also against the naive aggregate of its own district
        # only (street × month, for comparison).
        for page in step["pages"] + step["served"]:
            page["speedup"] = speedup(step["naive_city"]["p50_ms"], page["p50_ms"])
        district_p50 = next(p for p in step["served"] if p["page"].startswith("district"))["p50_ms"]
        step["speedup_district_only"] = speedup(step["naive_district"]["p50_ms"], district_p50)
        print(json.dumps(step, ensure_ascii=False), flush=True)
        results.append(step)

    result = {"machine": common.machine(), "areas": counts, "setup_seconds": setup, "period": period,
              "repeat": args.repeat, "steps": results,
              "served_setup": {"workers": args.workers, "threads": args.threads, "clients": args.clients,
                               "seconds": args.seconds, "warmup": args.warmup,
                               "description": served_how[0] if served_how else ""},
              "budget": {"p95_under_300ms": all(p["p95_ms"] < 300 for s in results for p in s["served"]),
                         "served_without_errors": all(p["errors"] == 0 and p["requests"] > 0
                                                      for s in results for p in s["served"]),
                         "at_least_20x": all(p["speedup"] >= 20 for s in results[-1:] for p in s["served"]),
                         "in_process_p95_under_300ms": all(p["p95_ms"] < 300 for s in results for p in s["pages"])}}
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(markdown(result), encoding="utf-8")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


def speedup(naive_ms: float, page_ms: float) -> float:
    if not page_ms or page_ms != page_ms:  # no successful request: NaN
        return 0.0
    ratio = naive_ms / page_ms
    return round(ratio, 1 if ratio >= 1 else 2)


def markdown(result: dict) -> str:
    """The figures as docs/benchmarks/dashboard.md: served (the budget's figures), then in process (the
    query counts), then the naive aggregate."""
    served = result["served_setup"]
    lines = [f"### District dashboard at city scale ({result['areas']['district']} districts, "
             f"{result['areas']['street']:,} streets, {result['areas']['community']:,} communities; period "
             f"{result['period']})", "",
             f"Served through gunicorn under load ({served['clients']} concurrent clients, {served['seconds']:g} s "
             "per page):", "",
             "| requests | roll-up rows | page | p50 ms | p95 ms | p99 ms | req/s | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for step in result["steps"]:
        for page in step["served"]:
            lines.append(f"| {step['requests']:,} | {step['rollup_rows']:,} | {page['page']} | {page['p50_ms']} | "
                         f"{page['p95_ms']} | {page['p99_ms']} | {page['rps']} | {page['errors']} |")
    lines += ["", served["description"], "",
              f"In process (Django's test Client through the whole middleware stack, {result['repeat']} GETs per "
              "page, one at a time), with the query count of each page:", "",
              "| requests | page | p50 ms | p95 ms | queries |", "|---|---|---|---|---|"]
    for step in result["steps"]:
        for page in step["pages"]:
            lines.append(f"| {step['requests']:,} | {page['page']} | {page['p50_ms']} | {page['p95_ms']} | "
                         f"{page['queries']} |")
    lines += ["", "| requests | naive GROUP BY street × month, whole city, p50 | speed-up of each served page (city, "
              "district, street, community) | in process | naive GROUP BY street × month, 东城区 only, p50 | "
              "speed-up of the served district page over it |", "|---|---|---|---|---|---|"]
    for step in result["steps"]:
        speedups = " / ".join(f"{p['speedup']} ×" for p in step["served"])
        in_process = " / ".join(f"{p['speedup']} ×" for p in step["pages"])
        lines.append(f"| {step['requests']:,} | {step['naive_city']['p50_ms']} ms | {speedups} | {in_process} | "
                     f"{step['naive_district']['p50_ms']} ms | {step['speedup_district_only']} × |")
    budget = result["budget"]
    lines += ["", f"Served p95 < 300 ms on every page at every size: "
              f"**{'met' if budget['p95_under_300ms'] else 'not met'}** (errors: "
              f"**{'none' if budget['served_without_errors'] else 'some, see the table'}**); served p50 ≥ 20 × the "
              f"naive aggregate at the largest size: **{'met' if budget['at_least_20x'] else 'not met'}**.",
              f"Machine: {result['machine']}.", ""]
    return "\n".join(lines)


def verify(connection, transaction, rollups, scopes_disabled) -> bool:
    """Write the five events of every bench request, replay them with rollups.rebuild() and compare
    its street and community rows with the SQL's (small sizes only)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dispatch_requestevent WHERE request_id IN "
                       "(SELECT id FROM dispatch_servicerequest WHERE number LIKE 'B%%')")
        cursor.execute("SELECT min(id), max(id) FROM dispatch_servicerequest WHERE number LIKE 'B%%'")
        lo, hi = cursor.fetchone()
    with transaction.atomic(), connection.cursor() as cursor:
        for action, frm, to, at, _org, data in EVENTS:
            cursor.execute(EVENT_SQL.format(action=action, frm=frm.strip("'"), to=to, at=at, org="NULL", data=data),
                           {"lo": lo, "hi": hi})
    columns = ", ".join(COUNTER_COLUMNS)
    query = (f"SELECT month, district_id, area_id, {columns} FROM dispatch_rollup WHERE area_id IS NOT NULL "
             "ORDER BY month, area_id")
    category_query = "SELECT month, street_id, category_id, received FROM dispatch_categoryrollup ORDER BY 1, 2, 3"
    with connection.cursor() as cursor:
        cursor.execute(query)
        by_sql = cursor.fetchall()
        cursor.execute(category_query)
        categories_sql = cursor.fetchall()
    with scopes_disabled():
        rollups.rebuild()
    with connection.cursor() as cursor:
        cursor.execute(query)
        by_fold = cursor.fetchall()
        cursor.execute(category_query)
        categories_fold = cursor.fetchall()
    same = by_sql == by_fold and categories_sql == categories_fold
    print(f"verify: {len(by_sql)} roll-up rows and {len(categories_sql)} category rows by SQL; "
          f"rebuild() gives {'the same' if same else 'DIFFERENT'} rows", flush=True)
    if not same:
        diff = sorted(set(by_sql) ^ set(by_fold))[:5]
        print("first differences:", diff, flush=True)
    return same


if __name__ == "__main__":
    sys.exit(main())
