"""Bad pipeline specs and bad data: one line on stderr, exit 2, and the trail records the failed run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from governance.errors import LocatedError
from lifecycle.specload import load_spec

from .conftest import events

SPEC_CASES = [
    # (case, (old, new) edit of the spec, expected message)
    ("unknown key, did you mean", ("  epochs: 2", "  epoch: 2"),
     "pipeline.yaml:12:3: model.epoch: unknown key 'epoch'; did you mean 'epochs'?"),
    ("wrong type", ("  epochs: 2", "  epochs: two"),
     "pipeline.yaml:12:11: model.epochs: must be an integer in [1, 1000], got 'two'"),
    ("missing data file", ("  train: train.csv", "  train: trian.csv"),
     "pipeline.yaml:3:10: data.train: file not found: trian.csv (relative to the spec file)"),
    ("missing policy file", ("policy: policy.yaml", "policy: polcy.yaml"),
     "pipeline.yaml:19:9: policy: file not found: polcy.yaml (relative to the spec file)"),
    ("deployed mode not converted", ("  deploy: dynamic_range", "  deploy: int8"),
     "pipeline.yaml:16:11: optimize.deploy: 'int8' is not converted: add it to optimize.modes (now: dynamic_range)"),
    ("duplicate key", ("  epochs: 2", "  epochs: 2\n  epochs: 3"),
     "pipeline.yaml:13:3: model.epochs: duplicate key 'epochs' (first defined on line 12)"),
]


def _edit(project: Path, old: str, new: str) -> None:
    spec = project / "pipeline.yaml"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("case,edit,expected", SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_bad_spec_is_one_located_line_exit_2_and_a_failed_run(project, rai, case, edit, expected):
    _edit(project, *edit)
    code, out, err = rai("run", "pipeline.yaml", "--workspace", "ws")
    assert (code, out, err) == (2, "", f"error: {expected}\n")
    started, finished = events(project / "ws")
    assert started.kind == "run.started" and started.payload["spec"] is None
    assert started.payload["spec_file"] == "pipeline.yaml"
    assert finished.kind == "run.finished" and finished.run_id == started.run_id
    assert finished.payload["decision"] == "failed" and finished.payload["reasons"] == [expected]


def test_missing_spec_file(project, rai):
    code, out, err = rai("run", "nope.yaml", "--workspace", "ws")
    assert (code, out, err) == (2, "", "error: nope.yaml: no such file\n")


def test_policy_option_overrides_the_spec_policy_and_its_errors_are_located(project, rai):
    (project / "other.yaml").write_text("policy: x\nversion: '1'\nowner: me\nfail_on: hihg\n")
    code, _, err = rai("run", "pipeline.yaml", "--policy", "other.yaml", "--workspace", "ws")
    assert code == 2
    assert err == "error: other.yaml:4:10: fail_on: must be one of low, medium, high, critical, got 'hihg'\n"


def test_relative_paths_resolve_against_the_spec_file_not_the_working_directory(project, monkeypatch):
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    loaded = load_spec("../pipeline.yaml")
    assert Path(loaded.spec.data.train) == Path("../train.csv")
    assert Path(loaded.spec.policy) == Path("../policy.yaml")
    assert loaded.base_dir == project.resolve()
    assert loaded.raw["data"]["train"] == "train.csv"  # what the trail records: the spec as written


def test_spec_errors_are_located_errors(project):
    _edit(project, "  epochs: 2", "  epochs: 0")
    with pytest.raises(LocatedError) as err:
        load_spec(project / "pipeline.yaml")
    assert (err.value.line, err.value.col, err.value.path) == (12, 11, "model.epochs")


def _rewrite_train(project: Path, transform) -> None:
    frame = pd.read_csv(project / "train.csv", dtype=str)
    result = transform(frame)
    if isinstance(result, str):
        (project / "train.csv").write_text(result)
    else:
        result.to_csv(project / "train.csv", index=False)


DATA_CASES = [
    ("unknown target column", None, ("  target: Y", "  target: income"),
     "train.csv: column 'income' (data.target) not found; columns are: age, workclass, fnlwgt, education, "
     "education-num, marital-status, occupation, relationship, race, sex, capital-gain, capital-loss, "
     "hours-per-week, native-country, Y"),
    ("misspelled sensitive column", None, ("[sex, race]", "[sex, rase]"),
     "train.csv: column 'rase' (data.sensitive_features) not found; did you mean 'race'?"),
    ("target with one class", lambda f: f[f["Y"] == "<=50K"], None,
     "train.csv: target column 'Y' has a single class '<=50K'; need two"),
    ("empty file", lambda f: "", None, "train.csv: data file is empty"),
    ("missing sensitive value", lambda f: f.assign(sex=f["sex"].mask(f.index == 3)), None,
     "train.csv: column 'sex' has 1 missing value(s) (first in data row 4); fill or drop them first"),
]


@pytest.mark.parametrize("case,transform,edit,expected", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_fails_ingest_with_one_line_and_the_trail_says_why(project, rai, case, transform, expected, edit):
    if transform is not None:
        _rewrite_train(project, transform)
    if edit is not None:
        _edit(project, *edit)
    code, out, err = rai("run", "pipeline.yaml", "--workspace", "ws")
    assert code == 2 and out == ""
    assert err == f"error: {expected}\n"
    kinds = [(e.kind, e.payload.get("stage"), e.payload.get("status")) for e in events(project / "ws")]
    assert kinds == [("run.started", None, None), ("stage.completed", "ingest", "failed"), ("run.finished", None, None)]
    finished = events(project / "ws")[-1].payload
    assert finished["decision"] == "failed" and finished["blocked_at"] == "ingest"
    assert finished["reasons"] == [expected]
    assert not (project / "ws" / "registry").exists()


def test_a_spec_without_deploy_registers_under_its_own_name(project):
    text = (project / "pipeline.yaml").read_text()
    deploy = text[text.index("deploy:\n"):].split("\n", 2)  # the section and its model_name line
    assert deploy[1].startswith("  model_name:")
    (project / "pipeline.yaml").write_text(text.replace(f"deploy:\n{deploy[1]}\n", ""))
    loaded = load_spec(project / "pipeline.yaml")
    assert (loaded.spec.deploy.model_name, loaded.spec.deploy.target) == (loaded.spec.name, "registry")
    (project / "pipeline.yaml").write_text(text.replace(deploy[1], "  target: registry"))
    assert load_spec(project / "pipeline.yaml").spec.deploy.model_name == loaded.spec.name
