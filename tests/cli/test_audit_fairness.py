"""`rai audit fairness`: numbers equal fairlearn's, exit codes, one-line errors, no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from cliargs import override
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from .recorded import recorded_blocked_audit

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "adult-income" / "data"
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
BASE = ("audit", "fairness", "--data", "adult.csv", "--y-true", "Y", "--y-pred", "pred", "--pos-label", ">50K.")
HEAVY = ("tensorflow", "tf_keras", "keras", "tensorflow_privacy", "ai_edge_litert", "fairlearn", "evidently")


@pytest.fixture(scope="module")
def adult_frame() -> pd.DataFrame:
    """The Adult test split as shipped (labels ``<=50K.``/``>50K.``) plus 0/1 ``pred`` and ``score``."""
    train = pd.read_csv(DATA / "adult.data.csv.gz", skipinitialspace=True)
    test = pd.read_csv(DATA / "adult.test.csv.gz", skipinitialspace=True)
    model = LogisticRegression(max_iter=1000).fit(train[NUMERIC], train["Y"].str.startswith(">50K"))
    test["score"] = model.predict_proba(test[NUMERIC])[:, 1]
    test["pred"] = (test["score"] >= 0.5).astype(int)
    return test


@pytest.fixture
def files(tmp_path, monkeypatch, adult_frame):
    monkeypatch.chdir(tmp_path)
    adult_frame.to_csv("adult.csv", index=False)
    return tmp_path




def policy(*rules: str, fail_on: str = "high") -> str:
    body = "".join(f"  - {rule}\n" for rule in rules)
    Path("policy.yaml").write_text(f"policy: audit\nversion: '1'\nowner: qa\nfail_on: {fail_on}\nrules:\n{body}")
    return "policy.yaml"


def rule(rule_id: str, check: str, params: str, severity: str = "high", stage: str = "evaluate") -> str:
    return f"{{id: {rule_id}, check: {check}, stage: {stage}, severity: {severity}, params: {params}}}"


# --- numbers ----------------------------------------------------------------------------------


def test_json_equals_fairlearn_on_adult(files, rai, adult_frame):
    code, out, err = rai(*BASE, "--sensitive", "sex,race", "--json")
    assert code == 0, err
    result = json.loads(out)
    y_true = (adult_frame["Y"] == ">50K.").astype(int)
    y_pred, sensitive = adult_frame["pred"], adult_frame[["sex", "race"]]
    for name, function in {
        "demographic_parity_difference": demographic_parity_difference,
        "demographic_parity_ratio": demographic_parity_ratio,
        "equalized_odds_difference": equalized_odds_difference,
        "equal_opportunity_difference": equal_opportunity_difference,
    }.items():
        assert result["metrics"][name] == pytest.approx(function(y_true, y_pred, sensitive_features=sensitive), rel=1e-12)
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "accuracy": accuracy_score, "tpr": true_positive_rate,
                 "fpr": false_positive_rate},
        y_true=y_true, y_pred=y_pred, sensitive_features=sensitive,
    )
    expected = frame.by_group.dropna(how="all")
    assert len(result["groups"]) == len(expected) == 10
    for row in result["groups"]:
        key = (row["group"]["sex"], row["group"]["race"])
        for rate in ("selection_rate", "accuracy", "tpr", "fpr"):
            assert row[rate] == pytest.approx(expected.loc[key, rate], rel=1e-12)
    assert result["overall"]["accuracy"] == pytest.approx(frame.overall["accuracy"], rel=1e-12)
    assert result["overall"]["count"] == len(adult_frame)


def test_json_schema_keys(files, rai):
    code, out, _ = rai(*BASE, "--sensitive", "race", "--min-group-size", "200", "--json")
    result = json.loads(out)
    assert code == 0
    assert set(result) == {"schema_version", "task", "favorable", "sensitive_features", "min_group_size", "overall",
                           "groups", "metrics"}
    assert result["schema_version"] == 1 and result["sensitive_features"] == ["race"]
    assert (result["task"], result["favorable"], result["min_group_size"]) == ("binary", "positive", 200)
    assert set(result["groups"][0]) == {"group", "count", "selection_rate", "accuracy", "tpr", "fpr", "excluded",
                                        "tp", "fp", "tn", "fn"}
    excluded = {g["group"]["race"] for g in result["groups"] if g["excluded"]}
    assert excluded == {"Amer-Indian-Eskimo", "Other"}  # listed, flagged, not dropped


def test_gzip_csv_and_parquet_give_the_same_json(files, rai, adult_frame):
    adult_frame.to_csv("adult.csv.gz", index=False)
    adult_frame.to_parquet("adult.parquet", index=False)
    outputs = []
    for name in ("adult.csv", "adult.csv.gz", "adult.parquet"):
        args = list(BASE)
        args[3] = name
        code, out, _ = rai(*args, "--sensitive", "race,sex", "--json")
        assert code == 0
        outputs.append(json.loads(out))
    assert outputs[0] == outputs[1] == outputs[2]


def test_labels_already_coded_need_no_pos_label(files, rai, adult_frame):
    frame = adult_frame.assign(truth=(adult_frame["Y"] == ">50K.").astype(int), flag=adult_frame["pred"] == 1)
    frame.to_parquet("coded.parquet", index=False)
    code, out, _ = rai("audit", "fairness", "--data", "coded.parquet", "--y-true", "truth", "--y-pred", "flag",
                       "--sensitive", "sex", "--json")
    _, reference, _ = rai(*BASE, "--sensitive", "sex", "--json")
    assert code == 0 and json.loads(out)["metrics"] == json.loads(reference)["metrics"]


def test_table_output(files, rai):
    code, out, _ = rai(*BASE, "--sensitive", "sex")
    assert code == 0
    assert "Groups by sex" in out and "Female" in out and "Male" in out and "overall" in out
    assert "demographic_parity_difference │ 0.0776" in out
    assert "excluded" in out and "compare nothing" not in out


@pytest.mark.parametrize("size, excluded, value", [(6000, 1, "0.0000"), (20000, 2, "n/a")])
def test_table_warns_when_groups_are_too_small(files, rai, size, excluded, value):
    code, out, _ = rai(*BASE, "--sensitive", "sex", "--min-group-size", str(size))
    assert code == 0
    (line,) = [line for line in out.splitlines() if "demographic_parity_difference" in line]
    assert line.split("│")[2].strip() == value  # fairlearn: a single group differs by 0 from itself
    assert f"{excluded} group(s) under {size} rows excluded from the metrics" in out
    assert "fewer than 2 groups remain: the metrics compare nothing" in out


# --- policies and exit codes ------------------------------------------------------------------


@pytest.mark.parametrize("rules, code, statuses", [
    ([rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [sex], max: 0.1}")], 0, ["passed"]),
    ([rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [sex], max: 0.05}")], 1, ["failed"]),
    ([rule("dpr", "fairness.demographic_parity_ratio", "{sensitive_features: [race]}", severity="medium")], 0, ["warning"]),
    ([rule("acc", "performance.metric", "{metric: accuracy, min: 0.8}"),
      rule("gm", "fairness.group_metric_min", "{sensitive_features: [sex, race], metric: accuracy, min: 0.7}",
           stage="monitor")], 0, ["passed", "passed"]),
    ([rule("one", "fairness.equal_opportunity_difference", "{sensitive_features: [sex], min_group_size: 20000}")],
     1, ["error"]),
])
def test_policy_exit_codes(files, rai, rules, code, statuses):
    got, out, err = rai(*BASE, "--sensitive", "sex", "--policy", policy(*rules), "--json")
    result = json.loads(out)
    assert got == code, err
    assert [f["status"] for f in result["findings"]] == statuses
    assert result["decision"] == ("blocked" if code else "passed")
    assert result["policy"]["name"] == "audit" and len(result["policy"]["sha256"]) == 64


def test_policy_rules_get_their_own_sensitive_columns(files, rai):
    path = policy(rule("race", "fairness.demographic_parity_difference", "{sensitive_features: [race], max: 0.2}"))
    code, out, _ = rai(*BASE, "--sensitive", "sex", "--policy", path, "--json")
    result = json.loads(out)
    assert code == 0 and result["sensitive_features"] == ["sex"]
    assert result["findings"][0]["evidence"]["sensitive_features"] == ["race"]


def test_policy_findings_table(files, rai):
    path = policy(rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [sex], max: 0.05}"),
                  rule("auc", "performance.metric", "{metric: roc_auc, min: 0.75}"))
    code, out, _ = rai(*BASE, "--sensitive", "sex", "--y-score", "score", "--policy", path)
    assert code == 1
    assert "Policy findings" in out and "decision: blocked (dp)" in out
    assert "auc: roc_auc 0.8" in out


# --- user mistakes: one line, exit 2 ----------------------------------------------------------

ERRORS = [
    (["--sensitive", "sexx"], "adult.csv: no column 'sexx' (columns: age, workclass, fnlwgt, education, "
     "education-num, marital-status, occupation, relationship, race, sex, capital-gain, capital-loss, "
     "hours-per-week, native-country, Y, score, pred; did you mean 'sex'?)"),
    (["--sensitive", "Sex"], "did you mean 'sex'?)"),
    (["--sensitive", "sex,"], "--sensitive: empty column name in 'sex,' (give COL[,COL...])"),
    (["--sensitive", "sex", "--pos-label", ">50K"],
     "adult.csv: --pos-label '>50K' is not a label of column 'Y' (labels: '<=50K.', '>50K.')"),
    (["--sensitive", "sex", "--y-pred", "race"], "adult.csv: column 'race' has 5 distinct labels"),
    (["--sensitive", "sex", "--y-score", "race"], "adult.csv: column 'race' must hold numeric scores, got object"),
    (["--sensitive", "sex", "--data", "missing.csv"], "missing.csv: no such file"),
    (["--sensitive", "sex", "--data", "adult.xlsx"], "adult.xlsx: unknown file type (expected one of .csv,"),
]


@pytest.mark.parametrize("extra, message", ERRORS)
def test_user_mistakes(files, rai, extra, message):
    code, out, err = rai(*override(BASE, extra))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_text_labels_need_a_pos_label(files, rai):
    code, _, err = rai("audit", "fairness", "--data", "adult.csv", "--y-true", "Y", "--y-pred", "pred",
                       "--sensitive", "sex")
    assert code == 2
    assert err == "error: adult.csv: column 'Y' holds labels '<=50K.', '>50K.'; pass --pos-label with the positive one\n"


def test_missing_sensitive_values_name_the_column(files, rai, adult_frame):
    adult_frame.assign(race=adult_frame["race"].where(adult_frame.index != 4)).to_csv("holes.csv", index=False)
    code, _, err = rai("audit", "fairness", "--data", "holes.csv", "--y-true", "Y", "--y-pred", "pred",
                       "--pos-label", ">50K.", "--sensitive", "sex,race")
    assert code == 2
    assert err == ("error: holes.csv: column 'race' has 1 missing value(s) (first in data row 5); "
                   "fill or drop them first\n")


def test_header_only_file(files, rai):
    Path("empty.csv").write_text("Y,pred,sex\n")
    code, _, err = rai("audit", "fairness", "--data", "empty.csv", "--y-true", "Y", "--y-pred", "pred", "--sensitive", "sex")
    assert (code, err) == (2, "error: empty.csv: no rows\n")


@pytest.mark.parametrize("rules, message", [
    ([rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [gender]}")],
     "adult.csv: no column 'gender' (columns: "),
    ([rule("auc", "performance.metric", "{metric: roc_auc, min: 0.7}")],
     "rule 'auc' of policy.yaml needs prediction scores: pass --y-score COL"),
    ([rule("meta", "accountability.metadata_present", "{}", stage="train")],
     "policy.yaml: no fairness.* or performance.* rules to audit (rules: 1)"),
    ([rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [sex], max: 2}")],
     "policy.yaml:6:"),
])
def test_policy_mistakes(files, rai, rules, message):
    code, _, err = rai(*BASE, "--sensitive", "sex", "--policy", policy(*rules))
    assert code == 2 and message in err and err.count("\n") == 1
    if "gender" in message:
        assert err.rstrip().endswith("(needed by rule 'dp' of policy.yaml)")


# --- whole process ----------------------------------------------------------------------------


def run_process(args: list[str], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> subprocess.CompletedProcess:
    code = textwrap.dedent(f"""
        import sys
        from rai.cli import main
        try:
            main({args!r})
        finally:
            heavy = sorted(m for m in sys.modules if m in {heavy!r} or m.split(".")[0] in {heavy!r})
            print("HEAVY", heavy, file=sys.stderr)
    """)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env)


def test_whole_process_loads_no_tensorflow_nor_oracles(files):
    path = policy(rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [sex], max: 0.05}"),
                  rule("auc", "performance.metric", "{metric: roc_auc, min: 0.7}"))
    done = run_process(list(BASE) + ["--sensitive", "sex", "--y-score", "score", "--policy", path, "--json"], files)
    assert done.returncode == 1
    assert json.loads(done.stdout)["decision"] == "blocked"
    assert done.stderr.strip().splitlines()[-1] == "HEAVY []"


def test_plain_audit_loads_no_statistics_libraries(files):
    """Without a policy only the fairness code runs: no drift audit, SciPy or scikit-learn."""
    done = run_process(list(BASE) + ["--sensitive", "sex", "--json"], files,
                       heavy=HEAVY + ("scipy", "sklearn", "rai.commands.audit_drift"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "HEAVY []"


def test_console_script_error_has_no_traceback(files):
    done = subprocess.run([str(Path(sys.executable).parent / "rai"), *BASE, "--sensitive", "sexx"],
                          cwd=files, capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: adult.csv: no column 'sexx'")


# --- the trail --------------------------------------------------------------------------------


def test_record_appends_an_audit_event(files, rai):
    from governance.fsutil import file_sha256

    path = policy(rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [sex], max: 0.05}"))
    event = recorded_blocked_audit(rai, *BASE, "--sensitive", "sex", "--policy", path)
    digest = file_sha256("adult.csv")
    assert event.subjects == {"inputs": [digest]}
    assert event.payload["kind"] == "fairness" and event.payload["inputs"] == {"adult.csv": digest}


def test_audit_group_lists_fairness(rai):
    code, out, _ = rai("audit", "--help")
    assert code == 0 and "fairness" in out


# --- every task, favourable labels, readable groups --------------------------------------------

TASKS = ("audit", "fairness", "--data", "tasks.csv")


@pytest.fixture
def task_files(tmp_path, monkeypatch):
    from tasks.support import adult_tasks

    monkeypatch.chdir(tmp_path)
    adult_tasks().to_csv("tasks.csv", index=False)
    return adult_tasks()


@pytest.mark.parametrize("args, kwargs", [
    (["--y-true", "rel_true", "--y-pred", "rel_pred", "--sensitive", "sex,race", "--task", "multiclass",
      "--min-group-size", "60"], {"task": "multiclass", "min_group_size": 60}),
    (["--y-true", "rel_true", "--y-pred", "rel_pred", "--sensitive", "sex", "--task", "multiclass",
      "--favorable-label", "Husband"], {"task": "multiclass", "favorable_label": "Husband"}),
    (["--y-true", "hours_true", "--y-pred", "hours_pred", "--sensitive", "sex,age", "--task", "regression",
      "--bins", "age=0,25,40,60,120"], {"task": "regression", "bins": {"age": [0, 25, 40, 60, 120]}}),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--sensitive", "sex", "--pos-label", "1",
      "--favorable-label", "0", "--labels", "sex=Female:women,Male:men"],
     {"favorable_label": 0, "value_labels": {"sex": {"Female": "women", "Male": "men"}}}),
])
def test_task_json_equals_the_api(task_files, rai, args, kwargs):
    """The API's numbers equal fairlearn's (tests/tasks); the command prints the same object."""
    code, out, err = rai(*TASKS, *args, "--json")
    assert code == 0, err
    features = args[args.index("--sensitive") + 1].split(",")
    columns = [args[args.index("--y-true") + 1], args[args.index("--y-pred") + 1]]
    expected = rai_api().fairness_report(task_files[columns[0]], task_files[columns[1]], task_files[features],
                                         **kwargs).to_dict()
    assert_same(json.loads(out), json.loads(json.dumps(expected)))


def rai_api():
    import rai as api

    return api


def assert_same(got, expected, where="result"):
    """Equal JSON, floats to 1e-12 (a CSV round trip may move a float's last digit)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected), where
        for key in expected:
            assert_same(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15), where
    else:
        assert got == expected and type(got) is type(expected), where


def test_credit_example_favourable_is_the_negative_label(task_files, rai):
    """Positive = default = unfavourable: selection counts the rows predicted to repay."""
    code, out, _ = rai(*TASKS, "--y-true", "bin_true", "--y-pred", "bin_pred", "--sensitive", "sex",
                       "--pos-label", "1", "--favorable-label", "0", "--json")
    result = json.loads(out)
    assert code == 0 and result["favorable"] == "negative"
    for row in result["groups"]:
        rows = task_files[task_files["sex"] == row["group"]["sex"]]
        assert row["selection_rate"] == pytest.approx((rows["bin_pred"] == 0).mean(), rel=1e-12)


def test_labels_and_bins_name_groups_in_value_order(task_files, rai):
    code, out, _ = rai(*TASKS, "--y-true", "bin_true", "--y-pred", "bin_pred", "--sensitive", "sex,age",
                       "--labels", "sex=Male:men,Female:women", "--bins", "age=0,25,40,60,120", "--json")
    groups = [tuple(g["group"].values()) for g in json.loads(out)["groups"]]
    assert code == 0
    assert groups[:4] == [("women", "0-25"), ("women", "25-40"), ("women", "40-60"), ("women", "60-120")]
    assert groups[4][0] == "men"


@pytest.mark.parametrize("args, shown", [
    (["--y-true", "rel_true", "--y-pred", "rel_pred", "--sensitive", "sex", "--task", "multiclass"],
     ["One-vs-rest rates by class", "worst class", "Husband"]),
    (["--y-true", "hours_true", "--y-pred", "hours_pred", "--sensitive", "age", "--task", "regression",
      "--bins", "age=0,25,40,60,120", "--min-group-size", "1500"],
     ["mean_prediction", "60-120", "mae_difference", "1 group(s) under 1500 rows excluded from the metrics"]),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--sensitive", "sex", "--favorable-label", "0"],
     ["(selection: the favourable label, the negative one)"]),
])
def test_tables_of_every_task_show_the_minimum_group_size(task_files, rai, args, shown):
    code, out, err = rai(*TASKS, *args)
    assert code == 0, err
    size = args[args.index("--min-group-size") + 1] if "--min-group-size" in args else "30"
    assert f"groups under {size} rows left out" in out
    for text in shown:
        assert text in out


TASK_ERRORS = [
    (["--y-true", "hours_true", "--y-pred", "hours_pred", "--task", "regression", "--pos-label", "1"],
     "--pos-label does not apply to --task regression (only to binary)"),
    (["--y-true", "rel_true", "--y-pred", "rel_pred", "--task", "multiclass", "--y-score", "bin_score"],
     "--y-score does not apply to --task multiclass (only to binary)"),
    (["--y-true", "hours_true", "--y-pred", "hours_pred", "--task", "regression", "--favorable-label", "1"],
     "--favorable-label does not apply to --task regression (only to binary and multiclass)"),
    (["--y-true", "rel_true", "--y-pred", "rel_pred", "--task", "regression"],
     "tasks.csv: column 'rel_true': regression values must be numbers, got 'Own-child', 'Husband', "
     "'Not-in-family', 'Unmarried', 'Wife' ... (object); class labels need task binary or multiclass"),
    (["--y-true", "hours_true", "--y-pred", "hours_pred", "--task", "multiclass"],
     "tasks.csv: column 'hours_pred': multiclass labels must be classes, got numbers with a fraction"),
    (["--y-true", "rel_true", "--y-pred", "rel_pred", "--task", "multiclass", "--favorable-label", "husband"],
     "tasks.csv: favorable_label: 'husband' is not a class (classes: 'Husband', 'Not-in-family', "
     "'Other-relative', 'Own-child', 'Unmarried' ...)"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--favorable-label", "yes"],
     "tasks.csv: --favorable-label 'yes' is not a label of column 'bin_true' (labels: 0, 1)"),
    (["--y-true", "Y", "--y-pred", "Y", "--pos-label", ">50K.", "--favorable-label", "<=50K"],
     "tasks.csv: --favorable-label '<=50K' is neither --pos-label '>50K.' nor the other label of columns 'Y' and "
     "'Y' (labels: '<=50K.', '>50K.')"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--bins", "age=18,65"],
     "tasks.csv: --bins for 'age' (18, 65) leave 845 row(s) outside every band, with values 17, 66, 67, 68, 69 ...; "
     "widen the first or last edge"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--labels", "sex=Female:women"],
     "tasks.csv: --labels for 'sex': 1 value(s) of the column have no label: 'Male'"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--labels", "sex=Female:women,Male:men,Other:other"],
     "tasks.csv: --labels for 'sex': 'Other' does not occur in the column (values: 'Female', 'Male')"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--labels", "race=1:white"],
     "tasks.csv: --labels: 'race' is not a sensitive column; did you mean 'age'? (sensitive: sex, age)"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--bins", "sex=0,1"],
     "tasks.csv: --bins for 'sex': the column holds values that are not numbers: 'Female', 'Male'"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--labels", "sex:Female=women"],
     "--labels: expected COL=VALUE:LABEL[,VALUE:LABEL...], got 'sex:Female=women'"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--bins", "age=0;120"], "--bins: edge '0;120' of 'age' is not a number"),
    (["--y-true", "bin_true", "--y-pred", "bin_pred", "--task", "regresion"], "Invalid value for '--task'"),
]


@pytest.mark.parametrize("extra, message", TASK_ERRORS, ids=[m[:50] for _, m in TASK_ERRORS])
def test_task_mistakes_are_one_line(task_files, rai, extra, message):
    code, out, err = rai(*TASKS, "--sensitive", "sex,age", *extra)
    assert code == 2 and out == "", err
    assert message in err and err.count("\n") == 1


def test_policy_on_regression_predictions(task_files, rai):
    path = policy(rule("mae", "performance.error", "{metric: mae, max: 8}"),
                  rule("dp", "fairness.demographic_parity_difference", "{sensitive_features: [sex]}"),
                  rule("gap", "fairness.group_metric", "{sensitive_features: [sex], metric: mae, aggregate: difference, max: 2}"))
    code, out, _ = rai(*TASKS, "--y-true", "hours_true", "--y-pred", "hours_pred", "--sensitive", "sex",
                       "--task", "regression", "--policy", path, "--json")
    result = json.loads(out)
    assert code == 1
    assert [f["status"] for f in result["findings"]] == ["passed", "error", "passed"]
    assert "which regression predictions do not have" in result["findings"][1]["message"]


def test_multiclass_log_loss_rule_needs_the_api(task_files, rai):
    path = policy(rule("ll", "performance.error", "{metric: log_loss, max: 1}"))
    code, _, err = rai(*TASKS, "--y-true", "rel_true", "--y-pred", "rel_pred", "--sensitive", "sex",
                       "--task", "multiclass", "--policy", path)
    assert code == 2 and err == ("error: rule 'll' of policy.yaml needs class probabilities, which rai audit does "
                                 "not read from files; gate it with rai.audit and rai.Predictions(y_score=...)\n")
