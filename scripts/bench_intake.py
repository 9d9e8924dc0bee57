#!/usr/bin/env python
"""Request intake through the full pipeline vs a bare one-row insert (DESIGN §5), over HTTP.

A fresh PostgreSQL database with the demo district (scripts/bench_common.py); gunicorn
(DEBUG off, ZHOUXIN_BENCH=1 for the benchmark endpoints of zhouxin/dispatch/bench.py)
on 127.0.0.1 (bench_common.serve); the load generator on the same machine, bench_common.load: an
asyncio HTTP/1.1 client with keep-alive connections (no extra package), `--clients` concurrent clients,
each sending its next request as soon as the previous answer arrived.  Both endpoints are measured in
the same run, interleaved (bare, intake, bare, intake …) so that drift on a shared
machine hits both alike.  Budget: intake throughput ≥ 0.4 × bare, intake p99 ≤ 2.5 ×
bare p99.

Intake runs as deployed at city scale (docs/deploy.md): deferred (ZHOUXIN_INTAKE_DEFERRED=1),
with the intake worker (`manage.py intake_worker --loop 0.2`) running on the same machine for
the whole run, so its CPU is paid inside the measurement.  The worker must keep up: the
backlog left at the end of each intake phase, the time to drain it, and the lag from receipt
to routing of every request are reported, and the budget counts as met only when the backlog
drains within DRAIN_BUDGET seconds.  As at city scale, the web processes and the worker leave
the audit chain to one sealer process (`manage.py audit_seal --loop 0.5`, ZHOUXIN_AUDIT_LINK_ON_WRITE=0),
measured with them.  `--inline` measures intake doing everything in its own
transaction instead (the default of a small installation), for comparison.

    .venv/bin/python scripts/bench_intake.py [--clients 50] [--seconds 15] [--rounds 2] [--inline]
        [--workers 4] [--threads 4] [--server postgres://postgres@127.0.0.1:5432] [--db zhouxin_bench]
        [--json var/bench_intake.json]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common  # noqa: E402

# Requests residents send, by leaf (routing sends most of them to a department or community at once).
SAMPLES = (
    ("040101", "help", "电梯又坏了", "我们小区3号楼电梯又坏了，老人上不去楼，希望尽快派人来修。"),
    ("120501", "help", "暖气不热", "家里暖气摸着是凉的，屋里才十五度，老人冻得直感冒。"),
    ("080102", "complaint", "饭馆夜里噪音扰民", "楼下烧烤店每天营业到凌晨，音响开得特别大，居民没法睡觉。"),
    ("070101", "complaint", "违章停车堵路", "胡同口总有车乱停，把路堵死了，居民出不去。"),
    ("110302", "complaint", "垃圾清运不及时", "小区垃圾桶满了三天没人清运，味道特别大。"),
    ("010301", "complaint", "健身房跑路退不了费", "办了三千多的年卡，健身房突然关门了，老板联系不上。"),
)


# The audit sealer's round (manage.py audit_seal --loop) in deferred runs.
SEALER_SECONDS = 0.5
# The worker must have routed everything an intake phase left within this many seconds after it.
DRAIN_BUDGET = 5.0


def pending(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM dispatch_servicerequest WHERE intake_pending").fetchone()[0]


def drain(url: str, limit: float = 120.0) -> tuple[int, float]:
    """The backlog the worker has left now, and how long it took to clear it (-1: not within `limit`)."""
    left, start = pending(url), time.monotonic()
    while pending(url):
        if time.monotonic() - start > limit:
            return left, -1.0
        time.sleep(0.05)
    return left, round(time.monotonic() - start, 2)


def newest_entry(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM core_auditentry").fetchone()[0]


def unsealed_wait(url: str, after_id: int, limit: float = 60.0) -> float:
    """Seconds until every audit entry above `after_id` is linked into the chain (-1: not within `limit`)."""
    import psycopg

    start = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT EXISTS (SELECT 1 FROM core_auditentry e WHERE e.id > %s AND NOT EXISTS "
                           "(SELECT 1 FROM core_auditseal s WHERE s.entry_id = e.id))", [after_id]).fetchone()[0]:
            if time.monotonic() - start > limit:
                return -1.0
            time.sleep(0.1)
    return round(time.monotonic() - start, 2)


def routing_lag(url: str, since) -> dict:
    """Receipt → routing, for the requests the worker routed since `since` (server time)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM dispatched_at - received_at) FROM dispatch_servicerequest "
            "WHERE received_at >= %s AND dispatched_at IS NOT NULL ORDER BY 1", [since]).fetchall()
    lags = [r[0] for r in rows]
    if not lags:
        return {"requests": 0}
    return {"requests": len(lags), **{f"p{p}_ms": round(float(common.percentile(lags, p)) * 1000, 1)
                                      for p in (50, 95, 99)}, "max_ms": round(float(lags[-1]) * 1000, 1)}


def community_codes(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT code FROM orgs_area WHERE level = 'community' AND code LIKE '110101%%' "
                            "ORDER BY code").fetchall()
    return [r[0] for r in rows]


def body_for(kind: str, n: int, communities: list[str], rng: random.Random) -> bytes:
    if kind == "insert":
        return json.dumps({"n": n, "text": "一行"}, ensure_ascii=False).encode()
    code, request_kind, title, description = rng.choice(SAMPLES)
    return json.dumps({
        "area": rng.choice(communities), "kind": request_kind, "channel": "api", "category": code,
        "title": title, "description": description, "contact_phone": f"138{rng.randint(0, 99_999_999):08d}",
    }, ensure_ascii=False).encode()


def summary(results: list[dict]) -> dict:
    """Several measured phases of one endpoint pooled: every latency, the summed time and errors."""
    latencies = sorted(x for r in results for x in r["latencies"])
    elapsed = sum(r["seconds"] for r in results)
    return {
        "requests": len(latencies), "errors": sum(r["errors"] for r in results), "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(common.percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(common.percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(common.percentile(latencies, 99) * 1000, 1),
        "sample_errors": [e for r in results for e in r["sample_errors"]][:5],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=common.DEFAULT_SERVER)
    parser.add_argument("--db", default="zhouxin_bench")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15, help="per measured phase")
    parser.add_argument("--rounds", type=int, default=2, help="bare/intake pairs")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--reuse", action="store_true", help="reuse the database (skip the demo set-up)")
    parser.add_argument("--inline", action="store_true",
                        help="intake does everything in its own transaction (no intake worker)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    setup = {}
    if args.reuse:
        url = common.database_url(args.server, args.db)
        setup = {"vacuum_analyze": common.analyze(url, vacuum=True)}  # the last run's dead rows, its statistics
    else:
        url = common.recreate_database(args.server, args.db)
        setup = common.prepare_demo(url)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_row (id bigserial PRIMARY KEY, created_at timestamptz "
                     "NOT NULL, payload text NOT NULL)")
    communities = community_codes(url)
    rng = random.Random(7)
    paths = {"insert": "/bench/insert/", "intake": "/bench/intake/"}
    phases = {"insert": [], "intake": []}
    json_head = {"Content-Type": "application/json"}
    deferred = "0" if args.inline else "1"
    backlog = []
    cpu: dict[str, dict[str, float]] = {"insert": {}, "intake": {}}  # seconds of CPU per group, all rounds
    # Deferred, as deployed at city scale: the web processes and the intake worker leave the audit
    # chain to the one sealer process (ZHOUXIN_AUDIT_LINK_ON_WRITE=0), whose CPU is counted too.
    link_on_write = "1" if args.inline else "0"
    worker = sealer = None
    if not args.inline:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "intake_worker", "--loop", "0.2"], cwd=common.ROOT,
            env=common.env_for(url, ZHOUXIN_INTAKE_DEFERRED="1", ZHOUXIN_AUDIT_LINK_ON_WRITE=link_on_write),
            stdout=subprocess.DEVNULL)
        sealer = subprocess.Popen(
            [sys.executable, "manage.py", "audit_seal", "--loop", str(SEALER_SECONDS)], cwd=common.ROOT,
            env=common.env_for(url), stdout=subprocess.DEVNULL)
    with psycopg.connect(url) as conn:
        started = conn.execute("SELECT now()").fetchone()[0]
    try:
        with common.serve(url, workers=args.workers, threads=args.threads, port=args.port, ZHOUXIN_BENCH="1",
                          ZHOUXIN_INTAKE_DEFERRED=deferred, ZHOUXIN_AUDIT_LINK_ON_WRITE=link_on_write) as server:
            def run(kind: str, seconds: float, warmup: float = 0.0) -> dict:
                return common.load(server.host, server.port, [paths[kind]], clients=args.clients, seconds=seconds,
                                   warmup=warmup, method="POST", headers=json_head, ok=(200, 201),
                                   body_for=lambda n: body_for(kind, n, communities, rng), keep_latencies=True)

            for kind in ("insert", "intake"):  # warm both (connections, caches, the classifier)
                run(kind, args.warmup)
            if worker is not None:
                drain(url)
            meter = common.CpuMeter(server, **{"intake worker": worker, "audit sealer": sealer})
            for _round in range(args.rounds):  # interleaved, so drift on a shared machine hits both alike
                for kind in ("insert", "intake"):
                    first_entry = newest_entry(url)
                    before = meter.snapshot()
                    phases[kind].append(run(kind, args.seconds))
                    if kind == "intake" and worker is not None:
                        left, seconds = drain(url)  # the worker's catching up is the intake's cost too
                        backlog.append({"left_at_end": left, "drain_seconds": seconds,
                                        "audit_chain_sealed_after_seconds": unsealed_wait(url, first_entry)})
                    for name, seconds in meter.used(before, meter.snapshot()).items():
                        cpu[kind][name] = cpu[kind].get(name, 0.0) + seconds
    finally:
        for process in (worker, sealer):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    bare, intake = summary(phases["insert"]), summary(phases["intake"])
    ratio_rps = intake["rps"] / bare["rps"] if bare["rps"] else 0
    ratio_p99 = intake["p99_ms"] / bare["p99_ms"] if bare["p99_ms"] else float("inf")
    result = {
        "machine": common.machine(), "clients": args.clients, "workers": args.workers, "threads": args.threads,
        "seconds_per_phase": args.seconds, "rounds": args.rounds, "setup_seconds": setup,
        "bare": bare, "intake": intake, "throughput_ratio": round(ratio_rps, 3), "p99_ratio": round(ratio_p99, 2),
        "intake_mode": "inline" if args.inline else "deferred (intake worker running)",
        "backlog_after_each_phase": backlog, "routing_lag": routing_lag(url, started),
        "cpu_ms_per_request": {
            "bare": common.CpuMeter.per_request(cpu["insert"], bare["requests"]),
            "intake": common.CpuMeter.per_request(cpu["intake"], intake["requests"])},
        "budget_met": ratio_rps >= 0.4 and ratio_p99 <= 2.5
        and all(0 <= b["drain_seconds"] <= DRAIN_BUDGET and b["audit_chain_sealed_after_seconds"] >= 0
                for b in backlog),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
