#!/usr/bin/env python
"""Request intake through the full pipeline vs a bare one-row insert (DESIGN §5), over HTTP.

A fresh PostgreSQL database with the demo district (scripts/bench_common.py); gunicorn
(DEBUG off, ZHOUXIN_BENCH=1 for the benchmark endpoints of zhouxin/dispatch/bench.py)
on 127.0.0.1; a load generator on the same machine: an asyncio HTTP/1.1 client with
keep-alive connections (no extra package), `--clients` concurrent clients, each sending
its next request as soon as the previous answer arrived.  Both endpoints are measured in
the same run, interleaved (bare, intake, bare, intake …) so that drift on a shared
machine hits both alike.  Budget: intake throughput ≥ 0.4 × bare, intake p99 ≤ 2.5 ×
bare p99.

    .venv/bin/python scripts/bench_intake.py [--clients 50] [--seconds 15] [--rounds 2]
        [--workers 4] [--threads 4] [--server postgres://postgres@127.0.0.1:5432] [--db zhouxin_bench]
        [--json var/bench_intake.json]
"""

from __future__ import annotations

import argparse
import asyncio
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


async def client_loop(host: str, port: int, path: str, kind: str, deadline: float, latencies: list, errors: list,
                      communities: list[str], seed: int, counter: list):
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            counter[0] += 1
            body = body_for(kind, counter[0], communities, rng)
            head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n").encode()
            started = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("server closed the connection")
            length = 0
            close = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
                elif name.strip().lower() == "connection" and value.strip().lower() == "close":
                    close = True
            payload = await reader.readexactly(length) if length else b""
            elapsed = time.perf_counter() - started
            status = int(status_line.split()[1])
            if status in (200, 201):
                latencies.append(elapsed)
            else:
                errors.append((status, payload[:200]))
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def run_phase(host, port, path, kind, clients, seconds, communities, seed) -> dict:
    latencies: list[float] = []
    errors: list = []
    counter = [0]
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(host, port, path, kind, deadline, latencies, errors, communities,
                                       seed * 1000 + i, counter) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def summary(results: list[dict]) -> dict:
    latencies = sorted(x for r in results for x in r["latencies"])
    elapsed = sum(r["elapsed"] for r in results)
    errors = sum(len(r["errors"]) for r in results)
    return {
        "requests": len(latencies), "errors": errors, "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(common.percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(common.percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(common.percentile(latencies, 99) * 1000, 1),
        "sample_errors": [str(e) for r in results for e in r["errors"][:3]][:5],
    }


def wait_ready(host: str, port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


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
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reuse", action="store_true", help="reuse the database (skip the demo set-up)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    host = "127.0.0.1"
    setup = {}
    if args.reuse:
        url = common.database_url(args.server, args.db)
    else:
        url = common.recreate_database(args.server, args.db)
        setup = common.prepare_demo(url)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_row (id bigserial PRIMARY KEY, created_at timestamptz "
                     "NOT NULL, payload text NOT NULL)")
    communities = community_codes(url)
    env = common.env_for(url, ZHOUXIN_BENCH="1", WEB_CONCURRENCY=str(args.workers))
    server = subprocess.Popen(
        [str(common.ROOT / ".venv" / "bin" / "gunicorn"), "zhouxin.wsgi:application", "--bind", f"{host}:{args.port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning",
         "--keep-alive", "30"],
        cwd=common.ROOT, env=env)
    try:
        wait_ready(host, args.port)
        loop = asyncio.new_event_loop()
        phases = {"insert": [], "intake": []}
        paths = {"insert": "/bench/insert/", "intake": "/bench/intake/"}
        for kind in ("insert", "intake"):  # warm both (connections, caches, the classifier)
            loop.run_until_complete(run_phase(host, args.port, paths[kind], kind, args.clients, args.warmup,
                                              communities, seed=99))
        for round_no in range(args.rounds):
            for kind in ("insert", "intake"):
                phases[kind].append(loop.run_until_complete(run_phase(
                    host, args.port, paths[kind], kind, args.clients, args.seconds, communities,
                    seed=round_no * 2 + (kind == "intake"))))
        loop.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare, intake = summary(phases["insert"]), summary(phases["intake"])
    ratio_rps = intake["rps"] / bare["rps"] if bare["rps"] else 0
    ratio_p99 = intake["p99_ms"] / bare["p99_ms"] if bare["p99_ms"] else float("inf")
    result = {
        "machine": common.machine(), "clients": args.clients, "workers": args.workers, "threads": args.threads,
        "seconds_per_phase": args.seconds, "rounds": args.rounds, "setup_seconds": setup,
        "bare": bare, "intake": intake, "throughput_ratio": round(ratio_rps, 3), "p99_ratio": round(ratio_p99, 2),
        "budget_met": ratio_rps >= 0.4 and ratio_p99 <= 2.5,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
