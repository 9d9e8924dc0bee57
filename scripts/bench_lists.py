#!/usr/bin/env python
"""Staff list pages over the city-scale request set (DESIGN §5: "staff list pages with 1 M requests:
p95 < 150 ms; query count independent of page size").

Runs on the database `scripts/bench_dashboard.py` built (all of Beijing, its requests; `--db`, default
zhouxin_bench_city): the work queue's "all" tab (every request in the user's scope, newest first,
paginated) and its default tab, at 25 and at 100 rows a page, for the demo district admin (东城区:
1/45 of the city's requests) and for a district admin granted on the whole city (every request), signed
in with the second factor verified.  Served: gunicorn (`--workers` × `--threads`, DEBUG off) on 127.0.0.1
and a load generator on the same machine (scripts/bench_common.py: asyncio, `--clients` HTTP/1.1
keep-alive connections, `--seconds` per page after `--warmup`): p50/p95/p99, requests a second and
errors (only a 200 with the queue itself counts).  In process: `--repeat` GETs through Django's whole
middleware stack with the test Client: p50/p95 and the query count of each.  The budget: served p95
< 150 ms with no error; the query count the same at 25 and at 100 rows a page.

    .venv/bin/python scripts/bench_lists.py [--db zhouxin_bench_city] [--repeat 30] [--json FILE] [--markdown FILE]
        [--workers 4] [--threads 1] [--clients 4] [--seconds 5] [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_common as common  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=common.DEFAULT_SERVER)
    parser.add_argument("--db", default="zhouxin_bench_city")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json")
    parser.add_argument("--markdown")
    common.add_serve_arguments(parser)
    args = parser.parse_args()
    db_url = common.database_url(args.server, args.db)
    os.environ.update(common.env_for(db_url))
    import psycopg

    # The city set was bulk-loaded: let PostgreSQL set its visibility map and statistics first, as
    # autovacuum does on a live database (the capped counts read the district index alone then).
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) dispatch_servicerequest, dispatch_assignment")
    import django

    django.setup()
    from django.db import connection
    from django.urls import reverse

    from zhouxin.core.models import User

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dispatch_servicerequest")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM dispatch_servicerequest r JOIN orgs_area d ON d.id = r.district_id "
                       "WHERE d.code = '110101'")
        district_total = cursor.fetchone()[0]
    if not User.objects.filter(username="bench_city_admin").exists():
        raise SystemExit("run scripts/bench_dashboard.py first: it builds the city and its city-level admin")

    queue = reverse("dispatch:queue")
    pages = []
    for who, username, seen in (("district admin 东城区", "district_admin", district_total),
                                ("city-wide admin 北京市", "bench_city_admin", total)):
        client = common.signed_in_client(username)
        for tab in ("all", "dispatch"):
            for per_page in (25, 100):
                url = f"{queue}?tab={tab}&per_page={per_page}"
                pages.append({"who": who, "username": username, "url": url, "requests_in_scope": seen, "tab": tab,
                              "per_page": per_page, **common.measure_in_process(client, url, args.repeat)})
                print(pages[-1], flush=True)
    same_queries = all(
        len({p["queries"] for p in pages if p["who"] == who and p["tab"] == tab}) == 1
        for who in {p["who"] for p in pages} for tab in {p["tab"] for p in pages})

    # The same pages through gunicorn under the load generator.
    cookies = {username: common.signed_in_session(username) for username in {p["username"] for p in pages}}
    served = []
    with common.serve(db_url, workers=args.workers, threads=args.threads, port=args.port) as server:
        for page in pages:
            figures = common.load(server.host, server.port, [page["url"]], clients=args.clients, seconds=args.seconds,
                                  warmup=args.warmup, cookie=cookies[page["username"]], expect='id="zx-queue"')
            served.append({k: page[k] for k in ("who", "requests_in_scope", "tab", "per_page", "url")} | figures)
            print("served", served[-1], flush=True)
        served_how = common.served_setup(server, args.clients, args.seconds, args.warmup)
    result = {"machine": common.machine(), "requests": total, "repeat": args.repeat, "served": served, "pages": pages,
              "served_setup": {"workers": args.workers, "threads": args.threads, "clients": args.clients,
                               "seconds": args.seconds, "warmup": args.warmup, "description": served_how},
              "budget": {"p95_under_150ms": all(p["p95_ms"] < 150 for p in served),
                         "served_without_errors": all(p["errors"] == 0 and p["requests"] > 0 for p in served),
                         "queries_independent_of_page_size": same_queries,
                         "in_process_p95_under_150ms": all(p["p95_ms"] < 150 for p in pages)}}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    if args.markdown:
        lines = [f"### Staff list pages: the work queue over {total:,} requests", "",
                 f"Served through gunicorn under load ({args.clients} concurrent clients, {args.seconds:g} s per page):",
                 "", "| who | requests in scope | tab | rows a page | p50 ms | p95 ms | p99 ms | req/s | errors |",
                 "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {p['who']} | {p['requests_in_scope']:,} | {p['tab']} | {p['per_page']} | {p['p50_ms']} | "
                  f"{p['p95_ms']} | {p['p99_ms']} | {p['rps']} | {p['errors']} |" for p in served]
        lines += ["", served_how, "",
                  f"In process (Django's test Client through the whole middleware stack, {args.repeat} GETs each, one "
                  "at a time), with the query count of each page:", "",
                  "| who | tab | rows a page | p50 ms | p95 ms | queries |", "|---|---|---|---|---|---|"]
        lines += [f"| {p['who']} | {p['tab']} | {p['per_page']} | {p['p50_ms']} | {p['p95_ms']} | {p['queries']} |"
                  for p in pages]
        budget = result["budget"]
        lines += ["", f"Served p95 < 150 ms: **{'met' if budget['p95_under_150ms'] else 'not met'}** (errors: "
                  f"**{'none' if budget['served_without_errors'] else 'some, see the table'}**); query count "
                  f"independent of page size: **{'met' if budget['queries_independent_of_page_size'] else 'not met'}**.",
                  f"Machine: {result['machine']}.", ""]
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text("\n".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
