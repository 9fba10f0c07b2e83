"""Fixtures of the pipeline tests: a small slice of the bundled Adult data, specs, policies, the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "examples" / "adult-income" / "data"
HERE = Path(__file__).resolve().parent

SPEC = """\
name: adult-small
data:
  train: train.csv
  test: test.csv
  target: Y
  positive_label: ">50K"
  label_strip: "."
  sensitive_features: [sex, race]
  drop_columns: [fnlwgt]
model:
  hidden_units: [16]
  epochs: 2
  batch_size: 128
optimize:
  modes: [dynamic_range]
  deploy: dynamic_range
deploy:
  model_name: adult-small
policy: policy.yaml
metadata:
  owner: test suite
  intended_use: testing the pipeline
  limitations: [a few thousand rows, two epochs]
"""


@pytest.fixture(scope="session")
def adult_rows(tmp_path_factory) -> Path:
    """A directory with the first 3,000 training rows and 1,000 test rows of Adult, as CSV."""
    out = tmp_path_factory.mktemp("adult")
    for name, rows, target in (("adult.data.csv.gz", 3000, "train.csv"), ("adult.test.csv.gz", 1000, "test.csv")):
        frame = pd.read_csv(ADULT / name, nrows=rows, skipinitialspace=True, dtype=str)
        frame.to_csv(out / target, index=False)
    return out


@pytest.fixture
def project(tmp_path, adult_rows, monkeypatch) -> Path:
    """A pipeline project in a temporary directory (the current directory during the test).

    Holds ``pipeline.yaml``, ``train.csv``, ``test.csv`` and ``policy.yaml`` (the test policy);
    the workspace is ``ws/``.
    """
    for name in ("train.csv", "test.csv"):
        (tmp_path / name).write_bytes((adult_rows / name).read_bytes())
    (tmp_path / "pipeline.yaml").write_text(SPEC)
    (tmp_path / "policy.yaml").write_text((HERE / "policy.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path




def events(workspace: Path, run_id: str | None = None) -> list:
    """The trail's events (of one run), oldest first."""
    from governance.trail import open_trail

    trail = open_trail(workspace, create=False)
    try:
        return trail.events(run_id=run_id)
    finally:
        trail.close()
