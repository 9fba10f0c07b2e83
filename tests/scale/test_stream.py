"""The streaming engine prints the in-memory engine's JSON, whatever the batch size or file split."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from governance.engines.local import stream_drift, stream_fairness
from governance.io import read_table
from governance.metrics.drift import DriftOptions, drift_report
from governance.metrics.fairness import fairness_report
from governance.stream import open_dataset
from rai.commands.audit import read_predictions

from .conftest import drift_frame, predictions, write

FORMATS = ("parquet", "csv")
# 1 and 7 rows: batches far smaller than a group; 1000: a Parquet row group; 10**6: one batch.
BATCHES = (1, 7, 1000, 10**6)


def in_memory_fairness(path, min_group_size=30, pos_label=None) -> dict:
    pred = read_predictions(str(path), "y_true", "y_pred", None, pos_label, ["race", "sex"])
    return fairness_report(pred.y_true, pred.y_pred, pred.sensitive, min_group_size).to_dict()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("batch_rows", BATCHES)
def test_fairness_equals_in_memory_at_every_batch_size(scale_files, fmt, batch_rows):
    path = scale_files[f"predictions.{fmt}"]
    if batch_rows == 1 and fmt == "csv":
        pytest.skip("one-row CSV chunks: covered by 7 rows, and slow")
    streamed = stream_fairness(open_dataset(path), "y_true", "y_pred", ["race", "sex"], min_group_size=30,
                               batch_rows=batch_rows, progress=False)
    assert json.dumps(streamed.to_dict()) == json.dumps(in_memory_fairness(path))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("batch_rows", BATCHES[1:])
@pytest.mark.parametrize("options", [{}, {"stattest": "psi"}, {"columns": ["age", "hours", "sex"], "stattest": "ks"}],
                         ids=["defaults", "psi", "ks-on-some"])
def test_drift_equals_in_memory_at_every_batch_size(scale_files, fmt, batch_rows, options):
    ref, cur = scale_files[f"reference.{fmt}"], scale_files[f"current.{fmt}"]
    if options.get("stattest") == "ks":
        options = {**options, "columns": ["age", "income", "score", "hours"]}
    expected = drift_report(read_table(ref), read_table(cur), names=(str(ref), str(cur)), columns=options.get("columns"),
                            stattest=options.get("stattest")).to_dict()
    streamed, _ = stream_drift(open_dataset(ref), open_dataset(cur), DriftOptions(**options), batch_rows=batch_rows,
                               progress=False)
    assert json.dumps(streamed.to_dict()) == json.dumps(expected)
    assert expected["skipped"] == [{"column": "note", "type": "text", "reason": "free text (dtype object)"}] or options


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_directory_or_glob_of_files_equals_their_concatenation(tmp_path, fmt):
    frame = predictions(3000, seed=3)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, start in enumerate(range(0, 3000, 700)):
        write(frame.iloc[start:start + 700], parts / f"part-{i:05d}.{fmt}")
    (parts / "_SUCCESS").write_text("")  # Spark's marker files are not data
    (parts / ".part-00000.crc").write_text("")
    whole = write(frame, tmp_path / f"whole.{fmt}")
    expected = in_memory_fairness(whole)
    for name in (parts, f"{parts}/*.{fmt}"):
        streamed = stream_fairness(open_dataset(name), "y_true", "y_pred", ["race", "sex"], min_group_size=30,
                                   batch_rows=500, progress=False)
        assert json.dumps(streamed.to_dict()) == json.dumps(expected)


def test_labels_coded_from_the_whole_column_not_one_batch(tmp_path):
    frame = predictions(400, seed=4)
    frame["y_true"] = frame["y_true"].map({0: "<=50K", 1: ">50K"})
    frame.loc[:199, "y_true"] = "<=50K"  # the first batches hold one label only
    path = write(frame, tmp_path / "labels.parquet")
    streamed = stream_fairness(open_dataset(path), "y_true", "y_pred", ["race", "sex"], pos_label=">50K",
                               min_group_size=30, batch_rows=50, progress=False)
    assert json.dumps(streamed.to_dict()) == json.dumps(in_memory_fairness(path, pos_label=">50K"))


def test_cli_engines_print_the_same_json(scale_files, rai):
    base = ("audit", "fairness", "--data", str(scale_files["predictions.parquet"]), "--y-true", "y_true",
            "--y-pred", "y_pred", "--sensitive", "race,sex", "--json")
    outputs = {engine: rai(*base, "--engine", engine, "--batch-rows", "333") for engine in ("memory", "stream", "auto")}
    assert {code for code, _, _ in outputs.values()} == {0}
    assert outputs["memory"][1] == outputs["stream"][1] == outputs["auto"][1]
    ref, cur = scale_files["reference.csv"], scale_files["current.csv"]
    drift = ("audit", "drift", "--reference", str(ref), "--current", str(cur), "--prediction", "score", "--json")
    assert rai(*drift, "--engine", "memory")[1] == rai(*drift, "--engine", "stream", "--batch-rows", "500")[1]


def test_progress_goes_to_a_terminal_only(scale_files, tmp_path):
    """Piped stderr (CI logs, scripts) gets no progress bar; the JSON on stdout is untouched."""
    command = [sys.executable, "-m", "rai", "audit", "fairness", "--data", str(scale_files["predictions.parquet"]),
               "--y-true", "y_true", "--y-pred", "y_pred", "--sensitive", "race", "--engine", "stream", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0 and done.stderr == ""
    assert json.loads(done.stdout)["overall"]["count"] == 5000


def test_free_text_column_past_the_cap_is_listed_not_guessed(tmp_path):
    ref = write(drift_frame(1500, 0.0, 5), tmp_path / "r.parquet")  # over 1000 rows: Wasserstein by default
    cur = write(drift_frame(1500, 0.0, 6), tmp_path / "c.parquet")
    report, _ = stream_drift(open_dataset(ref), open_dataset(cur), DriftOptions(), cap=100, progress=False)
    assert report.to_dict()["skipped"] == [{"column": "note", "type": "uncounted",
                                           "reason": "too varied to count in bounded memory (dtype object)"}]
    exact, _ = stream_drift(open_dataset(ref), open_dataset(cur), DriftOptions(), cap=None, progress=False)
    assert [r["column"] for r in exact.columns] == [r["column"] for r in report.columns]
    for bounded, row in zip(report.columns, exact.columns, strict=True):
        if "approximate" in bounded:  # continuous columns past the cap: estimates within their bound
            assert abs(bounded["statistic"] - row["statistic"]) <= bounded["approximate"]["error_bound"] + 1e-12
        else:
            assert bounded == row


def test_memory_stays_bounded_by_the_batch_not_the_rows(tmp_path):
    """Peak memory of a streamed audit of 1.5M rows stays near that of 100k rows (same batch size)."""
    script = ("import sys\nfrom governance.stream import open_dataset\n"
              "from governance.engines.local import stream_fairness\n"
              "stream_fairness(open_dataset(sys.argv[1]), 'y_true', 'y_pred', ['race', 'sex'], batch_rows=50_000,"
              " progress=False)\n"
              # VmHWM, not ru_maxrss: the latter keeps the forking test process's pages across exec
              "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))\n")
    peaks = {}
    for rows in (100_000, 1_500_000):
        path = write(predictions(rows, seed=rows), tmp_path / f"p{rows}.parquet", row_group=50_000)
        done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        peaks[rows] = int(done.stdout) / 1024  # MiB
    assert peaks[1_500_000] < peaks[100_000] + 40, peaks


def test_in_memory_frame_read_back_equals_stream_of_its_file(tmp_path):
    frame = pd.DataFrame({"g": ["a", "b"] * 50, "y_true": [0, 1] * 50, "y_pred": [1, 1, 0, 0] * 25})
    path = write(frame, tmp_path / "tiny.csv")
    streamed = stream_fairness(open_dataset(path), "y_true", "y_pred", ["g"], batch_rows=3, progress=False)
    assert streamed.to_dict() == fairness_report(frame["y_true"], frame["y_pred"], frame[["g"]], 1).to_dict()


def test_streamed_audit_is_recorded_with_every_file_hashed(tmp_path, monkeypatch, rai):
    from governance.fsutil import file_sha256
    from governance.trail import open_trail

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ds").mkdir()
    frame = predictions(900, seed=9)
    files = [write(frame.iloc[i:i + 300], tmp_path / "ds" / f"part-{i // 300}.parquet") for i in range(0, 900, 300)]
    code, out, err = rai("audit", "fairness", "--data", "ds", "--y-true", "y_true", "--y-pred", "y_pred",
                         "--sensitive", "sex", "--min-group-size", "1", "--json", "--record", "--workspace", "ws")
    assert code == 0, err
    trail = open_trail(tmp_path / "ws", create=False)
    try:
        (audit,) = [e for e in trail.events() if e.kind == "audit.completed"]
    finally:
        trail.close()
    assert audit.payload["inputs"] == {str(f.relative_to(tmp_path)): file_sha256(f) for f in files}
    assert audit.payload["result"] == json.loads(out)
