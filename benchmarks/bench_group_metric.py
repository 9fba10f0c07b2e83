"""``fairness.group_metric`` numbers and intervals: time per metric, in process.

    python benchmarks/bench_group_metric.py                      # 1M rows, 8 groups, 1000 replicates
    python benchmarks/bench_group_metric.py --rows 100000 --samples 2000

Per metric it times the per-group values (and fairlearn's MetricFrame with the scikit-learn
function on the same rows, whose values must agree), then the 95% intervals of the difference:
Wilson plus a multinomial bootstrap of the confusion cells for count metrics, a Poisson bootstrap
of the rows for mean metrics (whose cost grows with rows x replicates).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "checks"))

from test_groupwise_oracle import ORACLES  # noqa: E402

from governance.evidence import Predictions  # noqa: E402
from governance.metrics.groupwise import group_metric  # noqa: E402
from governance.metrics.intervals import intervals  # noqa: E402

METRICS = ("fnr", "precision", "f1", "brier_score", "calibration_gap")


def data(rows: int, seed: int = 0) -> Predictions:
    rng = np.random.default_rng(seed)
    race = rng.choice(np.array(["Asian", "Black", "Other", "White"]), rows, p=[0.1, 0.15, 0.05, 0.7])
    sex = rng.choice(np.array(["Female", "Male"]), rows, p=[0.45, 0.55])
    y_true = (rng.random(rows) < 0.3).astype(np.int64)
    score = np.clip(0.5 * y_true + rng.normal(0.25, 0.2, rows), 0, 1)
    return Predictions(y_true, (score >= 0.5).astype(np.int64), pd.DataFrame({"race": race, "sex": sex}),
                       y_score=score)


def seconds(work) -> tuple[float, object]:
    start = time.perf_counter()
    out = work()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    from fairlearn.metrics import MetricFrame

    predictions = data(args.rows)
    features = ["race", "sex"]
    print(f"{args.rows} rows, 8 groups, {args.samples} replicates")
    print(f"{'metric':<16}{'values s':>10}{'fairlearn s':>13}{'intervals s':>13}  95% interval of the difference")
    for name in METRICS:
        took, found = seconds(lambda n=name: group_metric(n, predictions, features, 30))
        output = predictions.y_score if found.spec.needs_scores else predictions.y_pred
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference_took, frame = seconds(lambda n=name, o=output: MetricFrame(
                metrics=ORACLES[n], y_true=predictions.y_true, y_pred=o, sensitive_features=predictions.sensitive))
        assert np.allclose(np.sort(found.value), np.sort(frame.by_group.to_numpy()), rtol=1e-9), name
        interval_took, result = seconds(lambda f=found: intervals(f, "difference", 0.95, args.samples, 0))
        low, high = result.aggregate
        print(f"{name:<16}{took:>10.3f}{reference_took:>13.3f}{interval_took:>13.3f}  [{low:.4f}, {high:.4f}]")


if __name__ == "__main__":
    main()
