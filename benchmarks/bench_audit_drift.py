"""`rai audit drift` against evidently's DataDriftPreset on the same files, whole process.

    python benchmarks/bench_audit_drift.py                    # 1M rows x 11 columns, Parquet, best of 3
    python benchmarks/bench_audit_drift.py --rows 200000 --format csv --repeat 1

Both sides start a fresh interpreter, read the same reference and current files (each ``--rows``
rows of 5 numerical and 6 categorical columns, some of them shifted) and print each column's
method, statistic and drift flag and the share of drifted columns, so imports, file reading and
output all count. The reference script is what a user would write with pandas and evidently.
Both outputs are compared (method and flag identical, statistic to 1e-9) before any time is
reported.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import bench_arguments, interleaved, write_frame

EVIDENTLY_SCRIPT = """
import json, sys, warnings
import pandas as pd
from evidently import Report
from evidently.legacy.calculations import stattests
from evidently.presets import DataDriftPreset

warnings.simplefilter("ignore")
read = lambda p: pd.read_parquet(p) if p.endswith(".parquet") else pd.read_csv(p)
reference, current = read(sys.argv[1]), read(sys.argv[2])
snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference).dict()
names = {t.display_name: t.name for t in vars(stattests).values() if isinstance(t, stattests.StatTest)}
failed = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in snapshot["tests"]}
out = {"columns": {}}
for m in snapshot["metrics"]:
    if m["config"]["type"].endswith("ValueDrift"):
        out["columns"][m["config"]["column"]] = {
            "method": names[m["config"]["method"]], "statistic": m["value"], "drifted": failed[m["id"]]}
    else:
        out["drifted_share"] = m["value"]["share"]
print(json.dumps(out))
"""


def make_data(path: Path, rows: int, shift: float, seed: int) -> None:
    """Adult-like columns; ``shift`` moves income, score and the sex and race mixes."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(17, 90, rows),
        "income": rng.lognormal(10 + shift, 1, rows),
        "score": rng.normal(shift, 1, rows),
        "hours": rng.integers(1, 99, rows).astype(float),
        "rate": rng.random(rows),
        "workclass": rng.choice(np.array(["Private", "Self-emp", "Gov", "Never-worked", "Without-pay"]), rows),
        "education": rng.choice(np.array([f"level-{i:02d}" for i in range(16)]), rows),
        "sex": rng.choice(np.array(["Female", "Male"]), rows, p=[0.33 + shift, 0.67 - shift]),
        "race": rng.choice(np.array(["Asian", "Black", "Other", "White"]), rows, p=[0.1, 0.1 + shift, 0.1, 0.7 - shift]),
        "children": rng.integers(0, 5, rows),
        "owns_home": rng.random(rows) < 0.3,
    })
    write_frame(frame, path)


def same_numbers(ours: str, theirs: str) -> int:
    """Both printed the same methods, drift flags and share; statistics equal to 1e-9. Returns the drifted count."""
    mine, reference = json.loads(ours), json.loads(theirs)
    assert {row["column"] for row in mine["columns"]} == set(reference["columns"])
    for row in mine["columns"]:
        expected = reference["columns"][row["column"]]
        assert (row["method"], row["drifted"]) == (expected["method"], expected["drifted"]), (row, expected)
        assert math.isclose(row["statistic"], expected["statistic"], rel_tol=1e-9), (row, expected)
    assert math.isclose(mine["drifted_share"], reference["drifted_share"], rel_tol=1e-12)
    return mine["n_drifted"]


def main() -> None:
    args = bench_arguments(__doc__.splitlines()[0])

    with tempfile.TemporaryDirectory() as tmp:
        reference, current = Path(tmp) / f"reference.{args.format}", Path(tmp) / f"current.{args.format}"
        make_data(reference, args.rows, 0.0, seed=1)
        make_data(current, args.rows, 0.15, seed=2)
        script = Path(tmp) / "evidently_data_drift.py"
        script.write_text(EVIDENTLY_SCRIPT)
        rai = [sys.executable, "-m", "rai", "audit", "drift", "--reference", str(reference),
               "--current", str(current), "--json"]
        best = interleaved(rai, [sys.executable, str(script), str(reference), str(current)], args.repeat)
    (ours, our_cpu, our_out), (theirs, their_cpu, their_out) = best["ours"], best["theirs"]
    drifted = same_numbers(our_out, their_out)

    print(f"rows: {args.rows:,} (reference and current)  columns: 11 ({drifted} drifted)  "
          f"format: {args.format}  best of {args.repeat}")
    print(f"{'':31}{'wall':>9}{'cpu':>9}")
    print(f"rai audit drift --json         {ours:8.2f}s {our_cpu:7.2f}s")
    print(f"pandas + evidently DataDrift   {theirs:8.2f}s {their_cpu:7.2f}s")
    print(f"speed-up (wall): {theirs / ours:.1f}x  (cpu: {their_cpu / our_cpu:.1f}x)")


if __name__ == "__main__":
    main()
