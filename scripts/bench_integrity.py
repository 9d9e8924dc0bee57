#!/usr/bin/env python
"""What integrity costs (issue 5): spam screening on the intake path, backup and verification.

  screening   every text of the moderation corpora (spam and legitimate) screened many times
              with the seeded lexicon, through the same hook intake calls
              (dispatch.screening.screen_text): µs per text, p50 / p95 / p99 / max
  backup      `manage.py backup` of a database, then `restore --verify-only` of the archive:
              seconds, archive size, rows covered (only with --backup-url, e.g. the database
              `make bench` filled)

Screening runs in a throw-away test database (created and dropped here), on SQLite by default
or on PostgreSQL with DATABASE_URL.

    .venv/bin/python scripts/bench_integrity.py [--rounds 50] [--json var/bench/integrity.json]
    .venv/bin/python scripts/bench_integrity.py --backup-url postgres://postgres@127.0.0.1:5432/zhouxin_bench
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
os.environ.setdefault("ZHOUXIN_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from zhouxin.dispatch import screening  # noqa: E402
from zhouxin.moderation import lexicon  # noqa: E402
from zhouxin.moderation.tests.corpus import load  # noqa: E402


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def bench_screening(rounds: int) -> dict:
    spam, legit = load("spam.txt"), load("legit.txt")
    texts = spam + legit
    lexicon.reset_cache()
    for text in texts:  # warm-up: automaton built, OpenCC loaded
        screening.screen_text(text)
    timings: list[float] = []
    held = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            result = screening.screen_text(text)
            timings.append(time.perf_counter() - t0)
            held += result.hold
    elapsed = time.perf_counter() - started
    ordered = sorted(timings)
    chars = sum(len(t) for t in texts) / len(texts)
    return {
        "texts": len(texts), "spam": len(spam), "legit": len(legit), "rounds": rounds,
        "mean_chars": round(chars, 1), "held_per_round": held // rounds,
        "per_s": round(len(timings) / elapsed),
        "p50_us": round(_percentile(ordered, 0.50) * 1e6, 1),
        "p95_us": round(_percentile(ordered, 0.95) * 1e6, 1),
        "p99_us": round(_percentile(ordered, 0.99) * 1e6, 1),
        "max_us": round(ordered[-1] * 1e6, 1),
    }


def bench_backup(url: str, out_dir: Path) -> dict:
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="zhouxin.settings")
    env.pop("ZHOUXIN_TESTING", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / "bench.zxbak"
    archive.unlink(missing_ok=True)
    py = str(ROOT / ".venv" / "bin" / "python")
    t0 = time.perf_counter()
    subprocess.run([py, "manage.py", "backup", "--output", str(archive)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    backup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([py, "manage.py", "restore", str(archive), "--verify-only"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    verify_s = time.perf_counter() - t0
    import tarfile

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    counts = manifest["tables"]
    rows = sum(table["rows"] for table in counts.values())
    size = archive.stat().st_size
    archive.unlink()
    return {"backup_s": round(backup_s, 2), "verify_s": round(verify_s, 2), "archive_mb": round(size / 2**20, 1),
            "rows": rows, "tables": len(counts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--backup-url", default="")
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    result: dict = {"database": connection.vendor}
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        call_command("seed_lexicon", verbosity=0)
        result["screening"] = s = bench_screening(args.rounds)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"screening ({result['database']}): {s['texts']} texts ({s['spam']} spam, {s['legit']} legitimate, "
          f"mean {s['mean_chars']} chars) × {s['rounds']} rounds: {s['per_s']} texts/s; "
          f"p50 {s['p50_us']} µs, p95 {s['p95_us']} µs, p99 {s['p99_us']} µs, max {s['max_us']} µs; "
          f"held {s['held_per_round']} per round")
    if args.backup_url:
        result["backup"] = b = bench_backup(args.backup_url, ROOT / "var" / "bench")
        print(f"backup: {b['rows']} rows in {b['tables']} tables → {b['archive_mb']} MB in {b['backup_s']} s; "
              f"archive verified in {b['verify_s']} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
