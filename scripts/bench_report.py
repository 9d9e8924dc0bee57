#!/usr/bin/env python
"""Render the JSON figures of bench_intake.py and bench_rankings.py as a Markdown summary.

    .venv/bin/python scripts/bench_report.py var/bench/intake.json var/bench/rankings.json > var/bench/summary.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def intake(r: dict) -> str:
    b, i = r["bare"], r["intake"]
    return "\n".join([
        f"### Request intake ({r['clients']} clients, gunicorn {r['workers']} workers × {r['threads']} threads, "
        f"{r['rounds']} × {r['seconds_per_phase']:.0f} s per endpoint)",
        "",
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
        f"| bare one-row insert | {b['requests']} | {b['rps']} | {b['p50_ms']} | {b['p95_ms']} | {b['p99_ms']} | "
        f"{b['errors']} |",
        f"| intake (full pipeline) | {i['requests']} | {i['rps']} | {i['p50_ms']} | {i['p95_ms']} | {i['p99_ms']} | "
        f"{i['errors']} |",
        "",
        f"Throughput ratio {r['throughput_ratio']} (budget ≥ 0.4), p99 ratio {r['p99_ratio']} (budget ≤ 2.5): "
        f"**{'met' if r['budget_met'] else 'not met'}**.  Machine: {r['machine']}.",
        *_deferred(r),
        *_cpu(r),
    ])


def _cpu(r: dict) -> list[str]:
    """Milliseconds of CPU per request, by process: steadier than req/s on a shared machine."""
    cpu = r.get("cpu_ms_per_request") or {}
    if not cpu.get("bare") or not cpu.get("intake"):
        return []
    groups = [name for name in cpu["intake"] if name != "all"]
    groups += [name for name in cpu["bare"] if name not in groups and name != "all"]
    return ["", "CPU per request (ms), by process:", "",
            "| endpoint | " + " | ".join(groups) + " | all |", "|---" * (len(groups) + 2) + "|",
            *(f"| {label} | " + " | ".join(str(cpu[key].get(name, "—")) for name in groups) + f" | {cpu[key]['all']} |"
              for key, label in (("bare", "bare one-row insert"), ("intake", "intake")))]


def _deferred(r: dict) -> list[str]:
    """The intake worker's side of a deferred-intake run: did it keep up, and how late was routing."""
    mode = r.get("intake_mode")
    if not mode:
        return []
    lines = ["", f"Intake mode: {mode}."]
    backlog = r.get("backlog_after_each_phase") or []
    if backlog:
        lines.append("Backlog left by each intake phase, and the seconds to route it: " + ", ".join(
            f"{b['left_at_end']} in {b['drain_seconds']} s" for b in backlog) + ".")
    lag = r.get("routing_lag") or {}
    if lag.get("requests") and backlog:
        lines.append(f"Receipt → routing over {lag['requests']} requests: p50 {lag['p50_ms']} ms, "
                     f"p95 {lag['p95_ms']} ms, p99 {lag['p99_ms']} ms, max {lag['max_ms']} ms (under saturating load).")
    return lines


def rankings(r: dict) -> str:
    g = r.get("generate") or {}
    return "\n".join([
        f"### Rankings at scale ({r['total_requests']:,} requests, {r['total_events']:,} events)",
        "",
        f"- generated {r['requests_generated']:,} requests + events in {g.get('total_seconds', '—')} s; "
        f"rollups.rebuild() {r['rebuild_seconds']} s ({r['rollup_rows']} roll-up rows)",
        f"- rankings page p50 {r['page']['p50_ms']} ms, p95 {r['page']['p95_ms']} ms, {r['page']['queries']} queries "
        f"({r['page']['repeat']} requests)",
        f"- naive GROUP BY street × month over the year: p50 {r['naive']['p50_ms']} ms ({r['naive']['runs']} runs)",
        f"- speed-up {r['speedup_p50']}× (budget ≥ 20×); p95 < 300 ms: {r['budget']['p95_under_300ms']}",
        f"- machine: {r['machine']}",
    ])


def main() -> int:
    parts = []
    for name in sys.argv[1:]:
        data = json.loads(Path(name).read_text())
        parts.append(intake(data) if "bare" in data else rankings(data))
    print("\n\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
