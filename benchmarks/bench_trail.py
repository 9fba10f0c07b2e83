"""Audit-trail benchmark: durable appends per second, and verify time for large trails.

    python benchmarks/bench_trail.py                  # appends + verify at 100k and 1M entries
    python benchmarks/bench_trail.py --sizes 100000   # quicker
    python benchmarks/bench_trail.py --postgres URL   # also time appends on PostgreSQL

Appends go through the real API (SQLite, WAL, ``synchronous=FULL``: every append is fsynced).
The large trails for the verify timing are seeded directly: precomputed, correctly chained rows
inserted in one transaction, which is what a trail of that size would contain.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from governance.trail import open_trail
from governance.trail.chain import GENESIS_HASH, entry_hash, make_body
from governance.workspace import Workspace

PAYLOAD = {"stage": "evaluate", "metrics": {"accuracy": 0.853, "dp_difference": 0.041},
           "artifacts": {"model": {"sha256": "ab" * 32, "path": "runs/r/model.keras"}}}


def bench_appends(ws: Workspace, n: int, url: str | None = None) -> dict[str, float]:
    """Append ``n`` events one by one; return appends/s and latency percentiles (ms)."""
    with open_trail(ws, url=url) as t:
        t.append("run.started", run_id="bench", payload={})  # schema and connection warm-up
        latencies = []
        start = time.perf_counter()
        for i in range(n):
            t0 = time.perf_counter()
            t.append("stage.completed", run_id="bench", payload={**PAYLOAD, "i": i})
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {"appends_per_s": n / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (n - 1))]}


def seed(ws: Workspace, n: int, batch: int = 20_000) -> float:
    """Fill a fresh SQLite trail with ``n`` chained entries in one transaction; return seconds."""
    open_trail(ws).close()  # creates the schema and triggers
    start = time.perf_counter()
    conn = sqlite3.connect(ws.trail_db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    prev, rows = GENESIS_HASH, []
    for seq in range(1, n + 1):
        run = f"run-{seq // 20}"
        t = f"2025-01-01T00:00:00.{seq % 1_000_000:06d}Z"
        body = make_body(t, run, "bench", "stage.completed", {}, {**PAYLOAD, "i": seq})
        digest = entry_hash(seq, prev, body)
        rows.append((seq, t, run, "bench", "stage.completed", body, prev, digest))
        prev = digest
        if len(rows) == batch:
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            rows.clear()
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def bench_verify(ws: Workspace, n: int) -> dict[str, float]:
    """Seed ``n`` entries; time the first checkpoint, a later one, and a full verify."""
    seeded = seed(ws, n)
    with open_trail(ws) as t:
        t0 = time.perf_counter()
        t.checkpoint()  # the first one reads the whole trail
        first_checkpoint_s = time.perf_counter() - t0
        for i in range(20):  # a pipeline run's worth of events
            t.append("stage.completed", run_id="next", payload={**PAYLOAD, "i": i})
        t0 = time.perf_counter()
        t.checkpoint()  # later ones resume after the previous checkpoint
        next_checkpoint_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = t.verify(blobs=False)
        verify_s = time.perf_counter() - t0
    assert report.ok and report.size == n + 20, report.problems[:3]
    return {"seed_s": seeded, "first_checkpoint_s": first_checkpoint_s, "next_checkpoint_s": next_checkpoint_s,
            "verify_s": verify_s, "entries_per_s": (n + 20) / verify_s, "db_mb": ws.trail_db.stat().st_size / 1e6}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--postgres", help="also time appends on this PostgreSQL URL (uses a fresh database!)")
    parser.add_argument("--dir", help="where to put the benchmark workspaces (default: a temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rai-bench-", dir=args.dir) as tmp:
        base = Path(tmp)
        r = bench_appends(Workspace(base / "appends"), args.appends)
        print(f"sqlite durable appends: {r['appends_per_s']:,.0f}/s "
              f"(p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms; {args.appends} appends, synchronous=FULL)")
        if args.postgres:
            r = bench_appends(Workspace(base / "pg"), args.appends, url=args.postgres)
            print(f"postgres durable appends: {r['appends_per_s']:,.0f}/s "
                  f"(p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms)")
        for n in args.sizes:
            r = bench_verify(Workspace(base / f"verify-{n}"), n)
            print(f"verify {n:>9,} entries: {r['verify_s']:6.1f} s ({r['entries_per_s']:,.0f} entries/s); "
                  f"first checkpoint {r['first_checkpoint_s']:.1f} s, next one {1000 * r['next_checkpoint_s']:.0f} ms; "
                  f"seeded in {r['seed_s']:.1f} s; db {r['db_mb']:.0f} MB")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
