"""`rai audit fairness` against fairlearn's MetricFrame on the same file, whole process.

    python benchmarks/bench_audit_fairness.py                 # 1M rows, Parquet, best of 3
    python benchmarks/bench_audit_fairness.py --rows 200000 --format csv --repeat 1

Both sides start a fresh interpreter, read the same file and print the per-group selection rate,
accuracy and true positive rate of the same 8 groups (race x sex), so imports, file reading and
output all count. The reference script is what a user would write with pandas and fairlearn.
The per-group numbers of both are compared before any time is reported.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import bench_arguments, interleaved, write_frame

TARGET = 10.0
RATES = ("selection_rate", "accuracy", "tpr")

FAIRLEARN_SCRIPT = """
import json, sys
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
from sklearn.metrics import accuracy_score

path = sys.argv[1]
data = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
frame = MetricFrame(
    metrics={"selection_rate": selection_rate, "accuracy": accuracy_score, "tpr": true_positive_rate},
    y_true=data["y_true"], y_pred=data["y_pred"], sensitive_features=data[["race", "sex"]],
)
rows = frame.by_group.reset_index().to_dict("records")
print(json.dumps({"groups": rows, "difference": frame.difference().to_dict()}))
"""


def make_data(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` rows of 8 groups with group-dependent selection and error rates."""
    rng = np.random.default_rng(seed)
    race = rng.choice(np.array(["Asian", "Black", "Other", "White"]), rows, p=[0.1, 0.15, 0.05, 0.7])
    sex = rng.choice(np.array(["Female", "Male"]), rows, p=[0.45, 0.55])
    base = 0.2 + 0.1 * (sex == "Male") + 0.05 * (race == "White")
    y_true = (rng.random(rows) < base).astype(np.int64)
    flip = rng.random(rows) < 0.15
    y_pred = np.where(flip, 1 - y_true, y_true)
    frame = pd.DataFrame({"race": race, "sex": sex, "y_true": y_true, "y_pred": y_pred,
                          "age": rng.integers(18, 90, rows)})
    write_frame(frame, path)


def same_numbers(ours: str, theirs: str) -> None:
    """Both printed the same groups and rates (fairlearn's index order may differ)."""
    mine = {(g["group"]["race"], g["group"]["sex"]): g for g in json.loads(ours)["groups"]}
    reference = json.loads(theirs)["groups"]
    assert len(mine) == len(reference), (len(mine), len(reference))
    for row in reference:
        group = mine[(row["race"], row["sex"])]
        for rate in RATES:
            assert abs(group[rate] - row[rate]) <= 1e-12, (row, rate)


def main() -> None:
    args = bench_arguments(__doc__.splitlines()[0])

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"predictions.{args.format}"
        make_data(data, args.rows)
        script = Path(tmp) / "fairlearn_metricframe.py"
        script.write_text(FAIRLEARN_SCRIPT)
        rai = [sys.executable, "-m", "rai", "audit", "fairness", "--data", str(data), "--y-true", "y_true",
               "--y-pred", "y_pred", "--sensitive", "race,sex", "--json"]
        best = interleaved(rai, [sys.executable, str(script), str(data)], args.repeat)
    (ours, our_cpu, our_out), (theirs, their_cpu, their_out) = best["ours"], best["theirs"]
    same_numbers(our_out, their_out)

    ratio = theirs / ours
    print(f"rows: {args.rows:,}  format: {args.format}  groups: 8  best of {args.repeat}")
    print(f"{'':31}{'wall':>9}{'cpu':>9}")
    print(f"rai audit fairness --json      {ours:8.2f}s {our_cpu:7.2f}s")
    print(f"pandas + fairlearn MetricFrame {theirs:8.2f}s {their_cpu:7.2f}s")
    print(f"speed-up (wall): {ratio:.1f}x  (cpu: {their_cpu / our_cpu:.1f}x)  "
          f"target >= {TARGET:.0f}x: {'met' if ratio >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
