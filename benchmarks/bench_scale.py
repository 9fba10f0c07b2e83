"""`rai audit` at scale: peak memory and throughput of the streaming engine, whole process.

    python benchmarks/bench_scale.py                          # 100M predictions, 20M x 11 drift
    python benchmarks/bench_scale.py --rows 20000000 --drift-rows 5000000

Fairness: a Parquet file of ``--rows`` predictions (8 groups: race x sex) goes through
``rai audit fairness --engine stream --json``; in the same run, a bare pyarrow scan reads the
same columns of the same file, batch by batch, and does nothing with them. Targets: peak resident
memory under 1.5 GB, and the audit's time within 3x of the scan's. Drift: reference and current
Parquet files of ``--drift-rows`` rows x 11 columns through ``rai audit drift --engine stream``,
under the same memory bound. Peak memory is the process's own high-water mark (``VmHWM``),
read as it exits; the JSON of each audit is checked (row counts) before anything is reported.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

MEMORY_LIMIT_MB = 1536
THROUGHPUT_LIMIT = 3.0
CHUNK = 1 << 20
COLUMNS = ["y_true", "y_pred", "race", "sex"]

# Runs the real CLI in this process and reports its peak resident memory on exit.
PEAK = ("import atexit, sys\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read().split('\\n')\n"
        "    sys.stderr.write('VmHWM ' + next(l.split()[1] for l in status if l.startswith('VmHWM')) + '\\n')\n"
        "atexit.register(peak)\n"
        "from rai.cli import main\n"
        "main(sys.argv[1:])\n")


def write_predictions(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` predictions in row groups of 1M: 8 groups with different rates."""
    rng = np.random.default_rng(seed)
    races, sexes = np.array(["Asian", "Black", "Other", "White"]), np.array(["Female", "Male"])
    schema = pa.schema([("y_true", pa.int8()), ("y_pred", pa.int8()), ("race", pa.string()), ("sex", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            race = rng.choice(4, n, p=[0.1, 0.15, 0.05, 0.7])
            sex = rng.choice(2, n, p=[0.45, 0.55])
            y_true = (rng.random(n) < 0.2 + 0.1 * sex + 0.05 * (race == 3)).astype(np.int8)
            y_pred = np.where(rng.random(n) < 0.15, 1 - y_true, y_true).astype(np.int8)
            writer.write_table(pa.table([y_true, y_pred, pa.DictionaryArray.from_arrays(race, races).cast(pa.string()),
                                         pa.DictionaryArray.from_arrays(sex, sexes).cast(pa.string())], schema=schema),
                               row_group_size=CHUNK)


def write_drift(path: Path, rows: int, shift: float, seed: int) -> None:
    """11 columns (5 numerical, 6 categorical), some shifted, as benchmarks/bench_audit_drift.py."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_audit_drift import make_data

    writer = None
    for i, start in enumerate(range(0, rows, CHUNK)):
        part = path.with_suffix(f".part{i}.parquet")
        make_data(part, min(CHUNK, rows - start), shift, seed * 100_003 + i)
        table = pq.read_table(part)
        part.unlink()
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=CHUNK)
    writer.close()


def run(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak memory (MB) and standard output of one fresh ``rai`` process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *argv], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"rai {' '.join(argv[:2])} failed ({done.returncode}):\n{done.stderr}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("VmHWM"))
    return wall, peak / 1024, done.stdout


def bare_scan(path: Path, batch_rows: int, dictionary: bool) -> float:
    """Seconds to read the audited columns batch by batch (a fresh process, like the audit)."""
    code = ("import sys, time, pyarrow.parquet as pq\nstart = time.perf_counter()\n"
            f"f = pq.ParquetFile(sys.argv[1], read_dictionary={['race', 'sex'] if dictionary else None})\n"
            f"rows = sum(b.num_rows for b in f.iter_batches(batch_size={batch_rows}, columns={COLUMNS}))\n"
            "print(time.perf_counter() - start, rows)\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return time.perf_counter() - start if done.stdout else float("nan")


def fairness(path: Path, rows: int, batch_rows: int) -> None:
    argv = ["audit", "fairness", "--data", str(path), "--y-true", "y_true", "--y-pred", "y_pred",
            "--sensitive", "race,sex", "--engine", "stream", "--batch-rows", str(batch_rows), "--json"]
    scans = [bare_scan(path, batch_rows, dictionary) for dictionary in (False, True)]
    wall, peak, out = run(argv)
    result = json.loads(out)
    assert result["overall"]["count"] == rows and len(result["groups"]) == 8, result["overall"]
    scan = min(scans)  # the faster of plain and dictionary-encoded reading: the stricter comparison
    ratio = wall / scan
    print(f"fairness: {rows:,} rows, 8 groups, {path.stat().st_size / 2**20:,.0f} MiB of Parquet")
    print(f"  rai audit fairness --engine stream  {wall:8.2f}s  {rows / wall / 1e6:6.1f}M rows/s  peak {peak:,.0f} MB")
    print(f"  bare pyarrow scan (same columns)    {scan:8.2f}s  {rows / scan / 1e6:6.1f}M rows/s  "
          f"(plain {scans[0]:.2f}s, dictionary {scans[1]:.2f}s)")
    print(f"  time ratio {ratio:.2f}x (target <= {THROUGHPUT_LIMIT:.0f}x: {'met' if ratio <= THROUGHPUT_LIMIT else 'NOT met'}); "
          f"peak memory target < {MEMORY_LIMIT_MB} MB: {'met' if peak < MEMORY_LIMIT_MB else 'NOT met'}")


def drift(reference: Path, current: Path, rows: int, batch_rows: int) -> None:
    argv = ["audit", "drift", "--reference", str(reference), "--current", str(current), "--engine", "stream",
            "--batch-rows", str(batch_rows), "--json"]
    wall, peak, out = run(argv)
    result = json.loads(out)
    assert len(result["columns"]) == 11, result
    estimated = [row["column"] for row in result["columns"] if "approximate" in row]
    bounds = {row["column"]: row["approximate"]["error_bound"] for row in result["columns"] if "approximate" in row}
    print(f"drift: {rows:,} rows x 11 columns in each of reference and current")
    print(f"  rai audit drift --engine stream     {wall:8.2f}s  {2 * rows / wall / 1e6:6.1f}M rows/s  peak {peak:,.0f} MB "
          f"(target < {MEMORY_LIMIT_MB} MB: {'met' if peak < MEMORY_LIMIT_MB else 'NOT met'})")
    print(f"  {result['n_drifted']} of 11 columns drifted; estimated (past the distinct-value cap): "
          f"{', '.join(f'{c} (error <= {bounds[c]:.1e})' for c in estimated) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000, help="predictions for the fairness audit")
    parser.add_argument("--drift-rows", type=int, default=20_000_000, help="rows of each drift file (0: skip)")
    parser.add_argument("--batch-rows", type=int, default=1 << 20)
    parser.add_argument("--dir", type=Path, help="where to write the data (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        write_predictions(root / "predictions.parquet", args.rows)
        print(f"(wrote {args.rows:,} predictions in {time.perf_counter() - start:.0f}s)")
        fairness(root / "predictions.parquet", args.rows, args.batch_rows)
        (root / "predictions.parquet").unlink()
        if args.drift_rows:
            start = time.perf_counter()
            write_drift(root / "reference.parquet", args.drift_rows, 0.0, 1)
            write_drift(root / "current.parquet", args.drift_rows, 0.15, 2)
            print(f"(wrote 2 x {args.drift_rows:,} drift rows in {time.perf_counter() - start:.0f}s)")
            drift(root / "reference.parquet", root / "current.parquet", args.drift_rows, args.batch_rows)


if __name__ == "__main__":
    main()
