#!/usr/bin/env python
"""Monthly payroll for 10,000 community workers (DESIGN §5: < 5 s).

Pure computation (zhouxin.workforce.payrules), no database: 10,000 synthetic workers hired
2000–2026 in 正职 / 副职 / 专职 / 其他 posts (some holding two posts, some 书记 and 主任 in one
person), with education, social-work certificates and a yearly assessment for every year
(a few 不合格, some 优秀 runs).  The rule is read through a callable by date, as in
production, with a version change: the Jinan-style preset until 2023, the Benxi-style one
(with a 一肩挑 allowance) from 2024-01-01.  It times `payroll(...)` for one month, 5 runs
(each with a fresh rule cache), and prints p50/max; the figures also go to
docs/benchmarks/payroll.md.

    .venv/bin/python scripts/bench_payroll.py [--workers 10000] [--runs 5] [--month 2026-11]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
os.environ.setdefault("ZHOUXIN_TESTING", "1")

import django  # noqa: E402

django.setup()

from zhouxin.workforce.payrules import PostHolding, WorkerFacts, payroll  # noqa: E402
from zhouxin.workforce.policy import preset_value  # noqa: E402

BUDGET_SECONDS = 5.0
POSTS = [("正职", "书记"), ("正职", "主任"), ("副职", "副主任"), ("副职", "副书记"), ("专职", "专职党务工作者"),
         ("其他", "网格员"), ("其他", "委员")]


def synthetic_workers(n: int, rng: random.Random) -> list[WorkerFacts]:
    workers = []
    for i in range(n):
        hire = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 26 * 365))
        post_type, title = rng.choice(POSTS)
        posts = [PostHolding(post_type, title, hire)]
        roll = rng.random()
        if roll < 0.05:  # 一肩挑
            posts = [PostHolding("正职", "书记", hire), PostHolding("正职", "主任", hire + dt.timedelta(days=400))]
        elif roll < 0.20:  # a second, concurrent post
            other_type, other_title = rng.choice(POSTS)
            posts.append(PostHolding(other_type, other_title, hire + dt.timedelta(days=rng.randint(0, 2000))))
        assessments = {}
        for year in range(hire.year, 2026):
            r = rng.random()
            assessments[year] = "不合格" if r < 0.03 else "基本合格" if r < 0.08 else "优秀" if r < 0.28 else "合格"
        workers.append(WorkerFacts(
            hire_date=hire, posts=posts, assessments=assessments, key=i,
            education=rng.choice(["大专", "大专", "本科", "本科", "本科", "硕士", "博士"]),
            has_diploma=rng.random() < 0.9, has_degree=rng.random() < 0.8,
            certificates=tuple(rng.sample(["助理社会工作师", "社会工作师", "高级社会工作师"], rng.randint(0, 2))),
        ))
    return workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks" / "payroll.md"))
    args = parser.parse_args()
    year, month = (int(part) for part in args.month.split("-"))
    workers = synthetic_workers(args.workers, random.Random(8))
    old, new = preset_value("jinan"), {**preset_value("benxi"), "dual_top_allowance": Decimal("300")}
    switch = dt.date(2024, 1, 1)
    lookups = []

    def policy_by_date(day):
        lookups.append(day)
        return new if day >= switch else old

    timings = []
    for _ in range(args.runs):
        lookups.clear()
        t0 = time.perf_counter()
        slips = payroll(workers, policy_by_date, year, month)
        timings.append(time.perf_counter() - t0)
    total = sum(s.total for s in slips)
    lines = sum(len(s.lines) for s in slips)
    assert total == sum(line.amount for s in slips for line in s.lines)
    p50, worst = statistics.median(timings), max(timings)
    report = [
        "# Monthly payroll benchmark",
        "",
        f"`scripts/bench_payroll.py`: `payroll(...)` for {args.workers:,} synthetic workers, month {args.month}, "
        f"{args.runs} runs (pure computation, rule read through a callable by date with a version change "
        f"on {switch}; {len(lookups)} rule look-ups per run). Python {platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs.",
        "",
        "| what | p50 | max | budget (DESIGN §5) |",
        "|---|---|---|---|",
        f"| monthly payroll, {args.workers:,} workers | {p50:.2f} s | {worst:.2f} s | < {BUDGET_SECONDS:.0f} s "
        f"({'met' if worst < BUDGET_SECONDS else 'MISSED'}) |",
        "",
        f"{lines:,} pay lines, total ¥{total:,.2f}.",
    ]
    text = "\n".join(report) + "\n"
    print(text, end="")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text, encoding="utf-8")
    return 0 if worst < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
