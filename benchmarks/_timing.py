"""Whole-process timing shared by the benchmarks: each side runs as a fresh process."""

from __future__ import annotations

import argparse
import resource
import subprocess
import time
from pathlib import Path

import pandas as pd


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet or CSV, by the file's suffix."""
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall time and CPU time (user + system) of one fresh process, and its standard output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def interleaved(ours: list[str], theirs: list[str], repeat: int) -> dict[str, tuple[float, float, str]]:
    """Best wall and CPU time of each side; runs alternate so that both meet the same load."""
    runs: dict[str, list[tuple[float, float, str]]] = {"ours": [], "theirs": []}
    for _ in range(repeat):
        runs["ours"].append(timed(ours))
        runs["theirs"].append(timed(theirs))
    return {side: (min(r[0] for r in rs), min(r[1] for r in rs), rs[0][2]) for side, rs in runs.items()}


def bench_arguments(description: str) -> argparse.Namespace:
    """The options every audit benchmark takes: rows, file format and repetitions."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per side")
    return parser.parse_args()
