"""Compliance-report benchmark: time to build and render a full-size run, and the file sizes.

    python benchmarks/bench_report.py                                  # synthetic full-size Adult DP run
    python benchmarks/bench_report.py --workspace .rai --run latest    # a real run of yours

The synthetic run is the report tests' fixed workspace in its heavy form: every fairness rule
with intersectional per-group tables (40 groups), three LiteRT variants each re-audited with
those rules, drift rows, privacy record, approvals and a waiver, all written through the trail
API. "Build" reads the run from the trail and verifies the trail against its checkpoint;
each format is then rendered from the built document. The target (issue 6): the HTML report
of a full Adult DP run is under 2 MB and is built and rendered in under 10 s.
Exits 1 when the HTML misses either target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_HTML_BYTES = 2_000_000
MAX_SECONDS = 10.0


def _timed(fn, repeat: int):
    """(result of the last call, median seconds over ``repeat`` calls)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def _synthetic_workspace(directory: Path) -> tuple[Path, str]:
    sys.path.insert(0, str(ROOT / "tests"))  # the fixture lives with the report tests
    from report.synthetic import PASSED_RUN, build_workspace

    return build_workspace(directory / "ws", heavy=True), PASSED_RUN


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="workspace of a real run (default: a synthetic one)")
    parser.add_argument("--run", default="latest", help="run id with --workspace (default: latest)")
    parser.add_argument("--repeat", type=int, default=3, help="timings are the median of this many runs")
    args = parser.parse_args()

    # Imported here so that the import time of the report package is part of the first build.
    from governance.report import build_report, render_report
    from governance.report.source import resolve_run_id
    from governance.trail import open_trail

    with tempfile.TemporaryDirectory() as tmp:
        workspace, run_id = (args.workspace, args.run) if args.workspace else _synthetic_workspace(Path(tmp))
        with open_trail(workspace, create=False) as trail:
            run_id = resolve_run_id(trail, run_id, str(workspace))
            doc, build_s = _timed(lambda: build_report(trail, run_id), args.repeat)
        print(f"run {run_id}: {len(doc.events)} events, {len(doc.findings)} findings")
        print(f"{'step':<14}{'seconds':>9}{'bytes':>12}")
        print(f"{'build':<14}{build_s:>9.3f}{'':>12}")
        html_s = html_bytes = 0.0
        for fmt in ("html", "md", "json", "pdf"):
            out, seconds = _timed(lambda fmt=fmt: render_report(doc, fmt), args.repeat)
            size = len(out.encode("utf-8") if isinstance(out, str) else out)
            print(f"{'render ' + fmt:<14}{seconds:>9.3f}{size:>12,}")
            if fmt == "html":
                html_s, html_bytes = seconds, size
    total = build_s + html_s
    ok = html_bytes < MAX_HTML_BYTES and total < MAX_SECONDS
    print(f"HTML report: {html_bytes / 1e6:.2f} MB (target < 2 MB), build + render {total:.2f} s "
          f"(target < {MAX_SECONDS:g} s): {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
