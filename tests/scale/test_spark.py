"""Spark in local mode gives the streaming engine's numbers: exact ones to 1e-12, estimates within their bounds."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys

import pytest

from governance.engines.columns import pandas_dtypes
from governance.engines.local import stream_drift, stream_fairness
from governance.metrics.drift import DriftOptions
from governance.stream import open_dataset

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark

NUMERIC_METHODS = ("ks", "wasserstein", "jensenshannon", "psi", "kl_div", "hellinger", "t_test", "mannw",
                   "anderson", "ed")
CATEGORICAL_METHODS = ("chisquare", "z", "jensenshannon", "psi", "kl_div", "hellinger")


@pytest.fixture(scope="module")
def spark():
    from governance.engines.spark import session

    active = session("local[2]")
    yield active
    active.stop()


def assert_close(ours, theirs, path="$"):
    """Same structure, same text and flags, numbers equal to 1e-12 (relative)."""
    if isinstance(ours, dict):
        assert set(ours) == set(theirs), path
        for key in ours:
            assert_close(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(ours, list):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_close(a, b, f"{path}[{i}]")
    elif isinstance(ours, float) and not isinstance(ours, bool):
        assert math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-300), (path, ours, theirs)
    else:
        assert ours == theirs, (path, ours, theirs)


def frames(spark, *names):
    from governance.engines.spark import read

    datasets = [open_dataset(name) for name in names]
    dtypes = tuple(pandas_dtypes(d.arrow_schema) if d.arrow_schema is not None else {} for d in datasets)
    return datasets, [read(spark, d) for d in datasets], dtypes


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_fairness_on_spark_equals_streaming(spark, scale_files, fmt):
    from governance.engines import spark_audit

    (dataset,), (frame,), _ = frames(spark, scale_files[f"predictions.{fmt}"])
    ours = spark_audit.fairness(frame, "y_true", "y_pred", ["race", "sex"], min_group_size=30, where=dataset.name)
    streamed = stream_fairness(dataset, "y_true", "y_pred", ["race", "sex"], min_group_size=30, progress=False)
    assert json.dumps(ours.to_dict()) == json.dumps(streamed.to_dict())  # counts: identical, not merely close


CSV_METHODS = ("wasserstein", "jensenshannon", "psi", "chisquare")  # Spark's own CSV parser, a few methods


@pytest.mark.parametrize("fmt, method", [("parquet", m) for m in sorted(set(NUMERIC_METHODS + CATEGORICAL_METHODS))]
                         + [("csv", m) for m in CSV_METHODS])
def test_every_exact_drift_method_on_spark_equals_streaming(spark, scale_files, fmt, method):
    from governance.engines import spark_audit

    columns = [c for c, kinds in (("income", NUMERIC_METHODS), ("hours", NUMERIC_METHODS), ("age", NUMERIC_METHODS),
                                  ("sex", CATEGORICAL_METHODS), ("workclass", CATEGORICAL_METHODS),
                                  ("children", CATEGORICAL_METHODS), ("owns_home", CATEGORICAL_METHODS))
               if method in kinds]
    if method == "z":
        columns = ["sex", "owns_home"]  # two-valued columns
    options = DriftOptions(columns=columns, stattest=method)
    datasets, (ref, cur), dtypes = frames(spark, scale_files[f"reference.{fmt}"], scale_files[f"current.{fmt}"])
    ours, _ = spark_audit.drift(ref, cur, options, names=(datasets[0].name, datasets[1].name), dtypes=dtypes)
    streamed, _ = stream_drift(*datasets, options, progress=False)
    assert_close(ours.to_dict(), streamed.to_dict())


def test_default_drift_with_prediction_and_skipped_columns(spark, scale_files):
    from governance.engines import spark_audit

    datasets, (ref, cur), dtypes = frames(spark, scale_files["reference.parquet"], scale_files["current.parquet"])
    ours, row = spark_audit.drift(ref, cur, DriftOptions(), names=("r", "c"), prediction="score", dtypes=dtypes)
    streamed, expected = stream_drift(*datasets, DriftOptions(), prediction="score", progress=False)
    assert_close(ours.to_dict() | {"skipped": []}, streamed.to_dict() | {"skipped": []})
    assert ours.skipped == streamed.skipped == [{"column": "note", "type": "text", "reason": "free text (dtype object)"}]
    assert_close(row, expected)


def test_estimates_past_the_cap_stay_within_their_bounds(spark, scale_files):
    """With a cap below the distinct values, continuous columns are estimated on Spark from the
    second pass's histograms; the exact numbers lie within each reported bound."""
    from governance.engines import spark_audit

    options = DriftOptions(columns=["income", "score", "hours"], stattest="wasserstein",
                           per_column={"hours": {"stattest": "psi"}})
    datasets, (ref, cur), dtypes = frames(spark, scale_files["reference.parquet"], scale_files["current.parquet"])
    bounded, _ = spark_audit.drift(ref, cur, options, names=("r", "c"), dtypes=dtypes, cap=50)
    exact, _ = stream_drift(*datasets, options, cap=None, progress=False)
    for est, row in zip(bounded.columns, exact.columns, strict=True):
        if row["column"] == "hours":  # 98 values, past a cap of 50: Sturges bins counted by Spark, exact
            assert "approximate" not in est
            assert math.isclose(est["statistic"], row["statistic"], rel_tol=1e-12)
        else:
            note = est["approximate"]
            assert note["low"] - 1e-12 <= row["statistic"] <= note["high"] + 1e-12
            assert abs(est["statistic"] - row["statistic"]) <= note["error_bound"] + 1e-12


def test_cli_engine_spark_prints_the_streaming_json(spark, scale_files, rai):
    base = ("audit", "fairness", "--data", str(scale_files["predictions.parquet"]), "--y-true", "y_true",
            "--y-pred", "y_pred", "--sensitive", "race,sex", "--json")
    spark_run = rai(*base, "--engine", "spark", "--spark-master", "local[2]")
    stream_run = rai(*base, "--engine", "stream")
    assert spark_run[0] == stream_run[0] == 0 and spark_run[1] == stream_run[1]


def test_cli_drift_on_spark_prints_the_streaming_json(spark, scale_files, rai):
    base = ("audit", "drift", "--reference", str(scale_files["reference.parquet"]), "--current",
            str(scale_files["current.parquet"]), "--prediction", "score", "--json")
    spark_run = rai(*base, "--engine", "spark", "--spark-master", "local[2]")
    stream_run = rai(*base, "--engine", "stream")
    assert spark_run[0] == stream_run[0] == 0, spark_run[2]
    assert_close(json.loads(spark_run[1]), json.loads(stream_run[1]))


def _marked_csv(path, rows, seed, shift):
    """A CSV whose missing cells are pandas' markers (NA, null, empty, N/A), among numbers,
    integers with and without gaps, booleans, dates and text."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    markers = np.array(["NA", "null", "", "N/A", "nan"], dtype=object)

    def gaps(values):
        values = pd.Series(values, dtype=object)
        holes = rng.random(rows) < 0.15
        values[holes] = markers[rng.integers(0, len(markers), holes.sum())]
        return values

    pd.DataFrame({
        "x": gaps(rng.normal(shift, 1, rows).round(3)), "k": gaps(rng.integers(0, 9, rows)),
        "n": rng.integers(0, 1000, rows), "flag": rng.choice(["True", "false"], rows),
        "day": rng.choice(["2024-01-01", "2024-02-01"], rows), "c": gaps(rng.choice(["a", "b", "c"], rows)),
    }).to_csv(path, index=False)
    return str(path)


def test_csv_missing_markers_and_types_read_as_pandas_reads_them(spark, tmp_path, rai):
    """NA, null, empty and pandas' other markers are missing on Spark too, and each column has the
    type pandas gives it: a drift audit prints the in-memory engine's JSON, a fairness audit
    refuses the missing groups as they do."""
    ref, cur = _marked_csv(tmp_path / "ref.csv", 400, 1, 0.0), _marked_csv(tmp_path / "cur.csv", 300, 2, 0.4)
    base = ("audit", "drift", "--reference", ref, "--current", cur, "--json")
    runs = {engine: rai(*base, "--engine", engine, *(("--spark-master", "local[2]") if engine == "spark" else ()))
            for engine in ("memory", "stream", "spark")}
    assert [run[0] for run in runs.values()] == [0, 0, 0], runs["spark"][2]
    memory = json.loads(runs["memory"][1])
    assert [(row["column"], row["type"]) for row in memory["columns"]] == [
        ("x", "num"), ("k", "num"), ("n", "num"), ("flag", "cat"), ("day", "cat"), ("c", "cat")]
    assert memory["skipped"] == []
    for engine in ("stream", "spark"):
        assert_close(json.loads(runs[engine][1]), memory)
    data = tmp_path / "predictions.csv"
    data.write_text("y_true,y_pred,g\n1,1,a\n0,1,NA\n1,0,b\n0,0,null\n1,1,a\n")
    done = rai("audit", "fairness", "--data", str(data), "--y-true", "y_true", "--y-pred", "y_pred",
               "--sensitive", "g", "--engine", "spark", "--spark-master", "local[2]")
    assert (done[0], done[1]) == (2, "")
    assert done[2].startswith(f"error: {data}: column 'g' has 2 missing value(s)")


def test_public_api_takes_spark_dataframes(spark, scale_files):
    import rai

    (dataset,), (frame,), _ = frames(spark, scale_files["predictions.parquet"])
    report = rai.fairness_report("y_true", "y_pred", ["race", "sex"], data=frame)
    streamed = stream_fairness(dataset, "y_true", "y_pred", ["race", "sex"], min_group_size=30, progress=False)
    assert report.to_dict() == streamed.to_dict()
    _, (ref, cur), _ = frames(spark, scale_files["reference.parquet"], scale_files["current.parquet"])
    drift = rai.drift_report(ref, cur, columns=["age", "sex"])
    assert [row["column"] for row in drift.columns] == ["age", "sex"]


def _cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "rai", *args], capture_output=True, text=True, timeout=timeout,
                          env=env or os.environ.copy())


def test_unreachable_master_is_one_line_and_exit_2(scale_files):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = _cli("audit", "fairness", "--data", str(scale_files["predictions.parquet"]), "--y-true", "y_true",
                "--y-pred", "y_pred", "--sensitive", "race", "--engine", "spark", "--spark-master",
                f"spark://127.0.0.1:{port}")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: --spark-master spark://127.0.0.1:{port}: cannot connect")
    assert done.stderr.count("\n") == 1


def test_missing_java_is_one_line_and_exit_2(scale_files, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    python_dir = os.path.dirname(sys.executable)
    env["PATH"] = python_dir  # no java on it
    done = _cli("audit", "drift", "--reference", str(scale_files["reference.parquet"]), "--current",
                str(scale_files["current.parquet"]), "--engine", "spark", env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: --engine spark needs a Java runtime") and done.stderr.count("\n") == 1


def test_missing_pyspark_is_one_line_and_exit_2(scale_files):
    code = ("import sys; sys.modules['pyspark'] = None; sys.modules['pyspark.sql'] = None\n"
            "from rai.cli import main\nmain(sys.argv[1:])")
    done = subprocess.run([sys.executable, "-c", code, "audit", "fairness", "--data",
                           str(scale_files["predictions.parquet"]), "--y-true", "y_true", "--y-pred", "y_pred",
                           "--sensitive", "race", "--engine", "spark"], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: --engine spark needs PySpark: pip install 'rai[spark]'\n"
