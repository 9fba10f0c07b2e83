"""``rai policy init``: a starter policy for a dataset's columns that lints clean as written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from governance.policy.loader import load_policy


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"age": [30, 40], "sex": ["F", "M"], "région": ["a", "b"], "label: ok": [0, 1]}).to_csv(
        "applicants.csv", sep=";", index=False)
    return tmp_path


def test_a_starter_policy_extends_the_pack_and_names_the_features(data, rai):
    code, out, err = rai("policy", "init", "applicants.csv", "--target", "label: ok", "--sensitive", "sex,région",
                         "--sep", ";", "--owner", "risk@example.org")
    assert code == 0, err
    policy = load_policy("policy.yaml")
    assert policy.extends == "rai:default" and policy.sensitive_features == ["sex", "région"]
    assert policy.owner == "risk@example.org" and policy.policy == "applicants" and policy.version == "1"
    required = next(r for r in policy.rules if r.id == "required-columns")
    assert required.validated.columns == ["label: ok", "sex", "région"]
    assert len(policy.rules) == len(load_policy("rai:default").rules) + 1
    assert "# Columns: age, sex, région, label: ok" in Path("policy.yaml").read_text()
    assert out.startswith("wrote policy.yaml: 18 rules")


def test_without_sensitive_features_the_runs_are_used(data, rai):
    code, _, _ = rai("policy", "init", "applicants.csv", "--target", "age", "--sep", ";", "--pack",
                     "rai:eu-ai-act-high-risk", "-o", "eu.yaml")
    policy = load_policy("eu.yaml")
    assert code == 0 and policy.sensitive_features is None and policy.fail_on.value == "medium"


@pytest.mark.parametrize("args, message", [
    (["--target", "labels"], "applicants.csv: no column 'labels' (columns: age, sex, région, label: ok; did you mean 'label: ok'?)"),
    (["--target", "age", "--sensitive", "gender"], "applicants.csv: no column 'gender' (columns: age, sex, région, label: ok)"),
    (["--target", "age", "--pack", "rai:eu"], "--pack: unknown pack 'rai:eu'; did you mean 'rai:eu-ai-act-high-risk'? "
     "(packs: rai:default, rai:eu-ai-act-high-risk)"),
    (["--target", "age", "--sep", ";;"], "--sep: must be one character (e.g. ';' or '\\t'), got ';;'"),
], ids=["target", "sensitive", "pack", "sep"])
def test_bad_input_is_one_line(data, rai, args, message):
    code, out, err = rai("policy", "init", "applicants.csv", "--sep", ";", *args)
    assert (code, err) == (2, f"error: {message}\n") and not Path("policy.yaml").exists()


def test_an_existing_file_is_kept_unless_forced(data, rai):
    Path("policy.yaml").write_text("keep me\n")
    code, _, err = rai("policy", "init", "applicants.csv", "--target", "age", "--sep", ";")
    assert code == 2 and err == "error: policy.yaml: exists; choose another --output or pass --force\n"
    assert Path("policy.yaml").read_text() == "keep me\n"
    code, _, _ = rai("policy", "init", "applicants.csv", "--target", "age", "--sep", ";", "--force")
    assert code == 0 and load_policy("policy.yaml").policy == "applicants"
