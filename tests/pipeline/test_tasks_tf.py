"""Every task and the user's own model in the pipeline (TensorFlow), on 3,000 Adult rows.

A regression run (hours per week, age in bands) and a multiclass run (education level, sex coded
1/2 with value labels) pass through optimize and deploy, and the per-group numbers they record
equal fairlearn's ``MetricFrame`` with scikit-learn's metrics. A ``model.builder`` run and a
``model.path`` run of the model it trained pass too, with the same numbers. The events a user's
script records for the same predictions are the pipeline's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance.trail import open_trail
from governance.trail.signing import KeyRing
from lifecycle.deploy import verify_manifest
from lifecycle.pipeline import run_pipeline

from .conftest import HERE, ROOT, SPEC

pytestmark = pytest.mark.tf

LINEAGE = """\
  - {id: train-lineage, check: accountability.lineage_recorded, stage: train, severity: high,
     params: {require: [datasets, model]}}
  - {id: deploy-lineage, check: accountability.lineage_recorded, stage: deploy, severity: high,
     params: {require: [datasets, model]}}
"""
REGRESSION_POLICY = """\
policy: regression-tests
version: "1"
owner: test suite
fail_on: high
rules:
  - {id: mae-ceiling, check: performance.error, stage: evaluate, severity: high, params: {metric: mae, max: 12}}
  - {id: error-parity-age, check: fairness.group_metric, stage: evaluate, severity: medium,
     params: {sensitive_features: [age], metric: mae, aggregate: difference, max: 1.0}}
  - {id: litert-error, check: optimize.error_increase, stage: optimize, severity: high, params: {metric: mae, max: 0.5}}
""" + LINEAGE
MULTICLASS_POLICY = """\
policy: multiclass-tests
version: "1"
owner: test suite
fail_on: high
rules:
  - {id: accuracy-floor, check: performance.metric, stage: evaluate, severity: high, params: {metric: accuracy, min: 0.3}}
  - {id: parity-sex, check: fairness.demographic_parity_difference, stage: evaluate, severity: medium,
     params: {sensitive_features: [sex], max: 0.05}}
  - {id: litert-accuracy-drop, check: optimize.accuracy_drop, stage: optimize, severity: high, params: {max: 0.03}}
""" + LINEAGE
TEAM_MODEL = '''\
import tf_keras as keras


def build(inputs, features):
    hidden = keras.layers.Dense(12, activation="relu", name="team_dense")(inputs)
    hidden = keras.layers.BatchNormalization(name="team_norm")(hidden)
    output = keras.layers.Dense(features["outputs"], activation="sigmoid", name="team_score")(hidden)
    model = keras.Model(inputs, output)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    return model


def sequential(inputs, features):
    return keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])


def nothing(inputs, features):
    return None


def failing(inputs, features):
    raise RuntimeError("no GPU here")


def too_wide(inputs, features):
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
'''


def _project(root: Path, adult_rows: Path, spec: str, policy: str, data=None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("train.csv", "test.csv"):
        frame = pd.read_csv(adult_rows / name, dtype=str, keep_default_na=False)
        (data(frame) if data else frame).to_csv(root / name, index=False)
    (root / "pipeline.yaml").write_text(spec)
    (root / "policy.yaml").write_text(policy)
    (root / "team_model.py").write_text(TEAM_MODEL)
    return root


def _run(project: Path, **kwargs) -> dict:
    result = run_pipeline(project / "pipeline.yaml", workspace=project / "ws", **kwargs)
    assert result.error is None, result.error
    return result.summary


def _stage_blob(project: Path, run_id: str, stage: str) -> dict:
    with open_trail(project / "ws", create=False) as trail:
        event = [e for e in trail.events(run_id=run_id) if e.kind == "stage.completed" and e.payload["stage"] == stage][-1]
        return {**event.payload, "blob": json.loads(trail.get_blob(event.payload["evidence_blob"]))}


def _recorded(project: Path, run_id: str, name: str = "keras") -> pd.DataFrame:
    return pd.read_parquet(project / "ws" / "runs" / run_id / "predictions" / f"{name}.parquet")


def _passed_everything(summary: dict, project: Path) -> None:
    assert summary["decision"] == "passed", summary["reasons"]
    assert [(s["stage"], s["status"]) for s in summary["stages"]] == [
        (s, "passed") for s in ("ingest", "train", "evaluate", "optimize", "deploy")]
    check = verify_manifest(Path(summary["deployed"]["manifest"]).parent, KeyRing(project / "ws" / "keys").trusted())
    assert check.ok, check.problems


# -- regression -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def regression(tmp_path_factory, adult_rows):
    spec = (SPEC.replace('  target: Y\n  positive_label: ">50K"\n  label_strip: "."\n',
                         "  target: hours-per-week\n  task: regression\n")
            .replace("  sensitive_features: [sex, race]\n", "  sensitive_features: [sex, age]\n"
                     "  bins: {age: [0, 25, 40, 60, 120]}\n")
            .replace("  drop_columns: [fnlwgt]", "  drop_columns: [fnlwgt, Y]")
            .replace("  modes: [dynamic_range]", "  modes: [dynamic_range, int8]"))
    project = _project(tmp_path_factory.mktemp("regression"), adult_rows, spec, REGRESSION_POLICY)
    return project, _run(project)


def test_a_regression_pipeline_passes_through_optimize_and_deploy(regression):
    project, summary = regression
    _passed_everything(summary, project)
    evaluate = summary["stages"][2]["metrics"]
    assert 0 < evaluate["mae"] < 12 and evaluate["rmse"] >= evaluate["mae"] and "accuracy" not in evaluate
    # The MLP fits the standardized target; its training error is reported in hours, like the test error.
    assert 0.5 * evaluate["mae"] < summary["stages"][1]["metrics"]["train_mae"] < 2 * evaluate["mae"]
    assert {v["mode"] for v in summary["variants"]} == {"dynamic_range", "int8"}
    body = json.loads(Path(summary["deployed"]["manifest"]).read_text())["manifest"]
    assert (body["schema"]["task"], body["schema"]["bins"]) == ("regression", {"age": [0.0, 25.0, 40.0, 60.0, 120.0]})
    assert body["model_card"]["data"]["task"] == "regression"


def test_regression_group_errors_equal_fairlearn_on_age_bands(regression):
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    project, summary = regression
    predictions = _recorded(project, summary["run_id"])
    ages = pd.read_csv(project / "test.csv")["age"].to_numpy(dtype=float)
    bands = pd.cut(ages, [0, 25, 40, 60, 120], right=False, labels=["0-25", "25-40", "40-60", "60-120"])
    assert list(predictions["age"].astype(str)) == list(bands.astype(str))  # the bins applied to the evidence
    frame = MetricFrame(metrics={"mae": mean_absolute_error, "rmse": root_mean_squared_error},
                        y_true=predictions["y_true"], y_pred=predictions["y_pred"], sensitive_features=bands.astype(str))
    table = _stage_blob(project, summary["run_id"], "evaluate")["blob"]["fairness"]["age"]
    groups = {g["group"]["age"]: g for g in table["groups"]}
    assert list(groups) == ["0-25", "25-40", "40-60", "60-120"]  # in numeric order, not alphabetical
    for band, row in frame.by_group.iterrows():
        assert groups[band]["mae"] == pytest.approx(row["mae"], abs=1e-9)
        assert groups[band]["rmse"] == pytest.approx(row["rmse"], abs=1e-9)
        assert groups[band]["count"] == int((bands == band).sum())


# -- multiclass -------------------------------------------------------------------------------------
def _education(frame: pd.DataFrame) -> pd.DataFrame:
    """Education in four levels and sex coded 1/2, as examples/adult-education/prepare.py writes them."""
    path = ROOT / "examples" / "adult-education" / "prepare.py"
    module_spec = importlib.util.spec_from_file_location("adult_education_prepare", path)
    prepare = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(prepare)
    out = frame.assign(education_level=frame["education-num"].astype(int).map(prepare.level),
                       sex=frame["sex"].str.strip().map({"Male": "1", "Female": "2"}))
    return out.drop(columns=["education", "education-num", "fnlwgt", "Y"])


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory, adult_rows):
    spec = (SPEC.replace('  target: Y\n  positive_label: ">50K"\n  label_strip: "."\n',
                         "  target: education_level\n  task: multiclass\n")
            .replace("  sensitive_features: [sex, race]\n", "  sensitive_features: [sex, race]\n"
                     "  value_labels: {sex: {1: male, 2: female}}\n")
            .replace("  drop_columns: [fnlwgt]\n", "")
            .replace("  modes: [dynamic_range]", "  modes: [dynamic_range, int8]"))
    project = _project(tmp_path_factory.mktemp("multiclass"), adult_rows, spec, MULTICLASS_POLICY, _education)
    return project, _run(project)


def test_a_multiclass_pipeline_passes_through_optimize_and_deploy(multiclass):
    project, summary = multiclass
    _passed_everything(summary, project)
    assert summary["stages"][0]["metrics"]["classes"] == 4
    evaluate = summary["stages"][2]["metrics"]
    assert 0.3 < evaluate["accuracy"] <= 1 and 0 <= evaluate["macro_f1"] <= 1 and evaluate["log_loss"] > 0
    body = json.loads(Path(summary["deployed"]["manifest"]).read_text())["manifest"]
    assert body["schema"]["classes"] == ["degree", "high-school", "no-diploma", "some-college"]
    recorded = _recorded(project, summary["run_id"], "int8")
    probabilities = recorded[[f"y_score[{c}]" for c in body["schema"]["classes"]]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0)  # int8 probabilities renormalised


def test_multiclass_rates_per_class_equal_fairlearn_with_value_labels(multiclass):
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score

    project, summary = multiclass
    predictions = _recorded(project, summary["run_id"])
    sex = pd.read_csv(project / "test.csv")["sex"].map({1: "male", 2: "female"})
    assert list(predictions["sex"].astype(str)) == list(sex)
    table = _stage_blob(project, summary["run_id"], "evaluate")["blob"]["fairness"]["sex"]
    groups = {g["group"]["sex"]: g for g in table["groups"]}
    assert list(groups) == ["male", "female"]  # the codes' order (1, 2), read by their labels
    accuracy = MetricFrame(metrics=accuracy_score, y_true=predictions["y_true"], y_pred=predictions["y_pred"],
                           sensitive_features=sex)
    for klass in table["classes"]:
        frame = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                                     "fpr": false_positive_rate},
                            y_true=predictions["y_true"] == klass, y_pred=predictions["y_pred"] == klass,
                            sensitive_features=sex)
        for group, row in frame.by_group.iterrows():
            ours = next(c for c in groups[group]["classes"] if c["class"] == klass)
            for rate in ("selection_rate", "tpr", "fpr"):
                assert ours[rate] == pytest.approx(row[rate], abs=1e-9), (klass, group, rate)
    for group, value in accuracy.by_group.items():
        assert groups[group]["accuracy"] == pytest.approx(value, abs=1e-9)


# -- the user's own model -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def builder(tmp_path_factory, adult_rows):
    spec = SPEC.replace("  hidden_units: [16]\n", '  builder: "team_model:build"\n').replace(
        "  modes: [dynamic_range]\n  deploy: dynamic_range", "  modes: [dynamic_range, int8]\n  deploy: int8")
    project = _project(tmp_path_factory.mktemp("builder"), adult_rows, spec, (HERE / "policy.yaml").read_text())
    return project, _run(project)


def test_a_builder_model_trains_with_its_own_compile_settings_and_deploys_as_litert(builder):
    from lifecycle.model import core_model, load_model, preprocess_model

    project, summary = builder
    _passed_everything(summary, project)
    assert summary["deployed"]["variant"] == "int8"
    train = _stage_blob(project, summary["run_id"], "train")
    assert train["blob"]["model"]["origin"] == {"type": "builder", "builder": "team_model:build", "compiled_by": "builder"}
    model = load_model(project / "ws" / "runs" / summary["run_id"] / "model" / "model.keras")
    assert preprocess_model(model) is not None  # the preprocessing travels inside the exported model
    assert {"team_dense", "team_norm", "team_score"} <= {layer.name for layer in core_model(model).layers}
    card = json.loads(Path(summary["deployed"]["manifest"]).read_text())["manifest"]["model_card"]
    assert card["model_details"]["architecture"] == {"type": "builder", "builder": "team_model:build", "epochs": 2,
                                                     "batch_size": 128, "learning_rate": 0.001, "optimizer": "adam"}


def test_a_trained_model_file_skips_training_and_records_its_hash(builder, tmp_path, adult_rows):
    project, first = builder
    spec = SPEC.replace("  hidden_units: [16]\n  epochs: 2\n  batch_size: 128\n", "  path: trained.keras\n")
    other = _project(tmp_path / "from-file", adult_rows, spec, (HERE / "policy.yaml").read_text())
    shutil.copy(project / "ws" / "runs" / first["run_id"] / "model" / "model.keras", other / "trained.keras")
    summary = _run(other)
    _passed_everything(summary, other)
    train = _stage_blob(other, summary["run_id"], "train")
    file_sha = hashlib.sha256((other / "trained.keras").read_bytes()).hexdigest()
    assert train["metrics"]["trained"] is False and train["blob"]["lineage"]["model"] == file_sha
    assert train["blob"]["model"]["origin"]["type"] == "keras-file"
    # the same model on the same rows: the builder run's numbers
    assert summary["stages"][2]["metrics"] == first["stages"][2]["metrics"]
    body = json.loads(Path(summary["deployed"]["manifest"]).read_text())["manifest"]
    assert body["lineage"]["parent_model"] == file_sha


def test_a_builder_returning_an_unbuilt_model_gets_the_preprocessed_inputs(tmp_path, adult_rows):
    spec = SPEC.replace("  hidden_units: [16]\n", '  builder: "team_model:sequential"\n  learning_rate: 0.01\n')
    project = _project(tmp_path / "sequential", adult_rows, spec, (HERE / "policy.yaml").read_text())
    summary = _run(project, until="evaluate")
    assert summary["decision"] == "passed", summary["reasons"]
    assert summary["stages"][2]["metrics"]["accuracy"] > 0.7
    origin = _stage_blob(project, summary["run_id"], "train")["blob"]["model"]["origin"]
    assert origin["compiled_by"] == "spec"


def test_a_scripts_gate_records_what_the_pipeline_records_for_the_same_predictions(builder, tmp_path, monkeypatch):
    import rai

    project, summary = builder
    stored = _recorded(project, summary["run_id"])
    predictions = rai.Predictions(stored["y_true"], stored["y_pred"], stored[["sex", "race"]],
                                  y_score=stored["y_score"])
    monkeypatch.chdir(tmp_path)
    with rai.start_run("same-predictions", policy=project / "policy.yaml", workspace="api") as run:
        run.gate("evaluate", predictions=predictions)
    pipeline = _stage_blob(project, summary["run_id"], "evaluate")
    with open_trail("api", create=False) as trail:
        event = next(e for e in trail.events(run_id=run.run_id) if e.kind == "stage.completed")
        script = {**event.payload, "blob": json.loads(trail.get_blob(event.payload["evidence_blob"]))}
    assert script["metrics"] == pipeline["metrics"]
    assert script["blob"]["fairness"] == pipeline["blob"]["fairness"]
    assert script["blob"]["metrics"] == pipeline["blob"]["metrics"] and script["blob"]["rows"] == pipeline["blob"]["rows"]


# -- bad input that only training reveals ---------------------------------------------------------------
BAD = [
    ("builder returns no model", [("  hidden_units: [16]\n", '  builder: "team_model:nothing"\n')],
     "pipeline.yaml:11:12: model.builder: team_model:nothing returned NoneType, not a Keras model"),
    ("builder raises", [("  hidden_units: [16]\n", '  builder: "team_model:failing"\n')],
     "pipeline.yaml:11:12: model.builder: team_model:failing raised RuntimeError: no GPU here"),
    ("builder output too wide", [("  hidden_units: [16]\n", '  builder: "team_model:too_wide"\n')],
     "pipeline.yaml:11:12: model.builder: team_model:too_wide returned a model that outputs 3 value(s) per row; "
     "data.task binary needs 1 (the positive-class probability, a sigmoid)"),
    ("builder compiled and learning_rate set", [("  hidden_units: [16]\n", '  builder: "team_model:build"\n'
                                                 "  learning_rate: 0.01\n")],
     "pipeline.yaml:12:18: model.learning_rate: team_model:build compiled its model (optimizer and loss); setting "
     "model.learning_rate too would be ignored: remove one of them"),
    ("model.path not a Keras model", [("  hidden_units: [16]\n  epochs: 2\n  batch_size: 128\n",
                                       "  path: notes.keras\n")],
     "pipeline.yaml:11:9: model.path: notes.keras: not a Keras model rai can load: OSError: Unable to synchronously "
     "open file (file signature not found)"),
]


@pytest.mark.parametrize("case,edits,expected", BAD, ids=[c[0] for c in BAD])
def test_a_model_that_does_not_fit_fails_the_train_stage_with_one_located_line(project, rai, case, edits, expected):
    (project / "team_model.py").write_text(TEAM_MODEL)
    (project / "notes.keras").write_text("not a model")
    spec = (project / "pipeline.yaml").read_text()
    for old, new in edits:
        spec = spec.replace(old, new, 1)
    (project / "pipeline.yaml").write_text(spec)
    code, _, err = rai("run", "pipeline.yaml", "--workspace", "ws", "--json")
    assert (code, err.splitlines()[-1]) == (2, f"error: {expected}")  # progress lines above it
    with open_trail(project / "ws", create=False) as trail:
        events = trail.events()
    failed = [e.payload for e in events if e.kind == "stage.completed" and e.payload["status"] == "failed"]
    assert [(p["stage"], p["error"]) for p in failed] == [("train", expected)]
    assert events[-1].payload["decision"] == "failed" and not (project / "ws" / "registry").exists()


def test_a_model_file_whose_inputs_or_outputs_do_not_fit_the_data(builder, multiclass, project, rai):
    builder_project, built = builder
    multiclass_project, classes = multiclass
    cases = [
        (multiclass_project / "ws" / "runs" / classes["run_id"] / "model" / "model.keras", "",
         "model.path: other.keras: the model does not match the data's features: the model has no input for "
         "feature(s) education, education-num (drop or add columns with data.drop_columns, or export the model "
         "from the same data)"),
        (builder_project / "ws" / "runs" / built["run_id"] / "model" / "model.keras", "  task: multiclass\n",
         "model.path: other.keras: the model outputs 1 value(s) per row; data.task multiclass needs 2 (one softmax "
         "probability per class)"),
    ]
    original = (project / "pipeline.yaml").read_text()
    for source, task, expected in cases:
        shutil.copy(source, project / "other.keras")
        spec = original.replace("  hidden_units: [16]\n  epochs: 2\n  batch_size: 128\n", "  path: other.keras\n")
        if task:
            spec = spec.replace('  positive_label: ">50K"\n', task)
        (project / "pipeline.yaml").write_text(spec)
        code, _, err = rai("run", "pipeline.yaml", "--workspace", "ws", "--json")
        line = err.splitlines()[-1]
        assert code == 2 and line.startswith("error: pipeline.yaml:11:9: ") and line.endswith(f": {expected}"), err


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_dp_sgd_trains_every_task_within_its_recorded_budget(tmp_path, adult_rows, task):
    target = ('  positive_label: ">50K"\n', "  task: multiclass\n") if task == "multiclass" else (
        '  target: Y\n  positive_label: ">50K"\n  label_strip: "."\n', "  target: hours-per-week\n  task: regression\n")
    spec = SPEC.replace(*target).replace("optimize:", "privacy: {dp: true, noise_multiplier: 1.1}\noptimize:")
    if task == "regression":
        spec = spec.replace("  drop_columns: [fnlwgt]", "  drop_columns: [fnlwgt, Y]")
    policy = "policy: dp\nversion: '1'\nowner: test suite\nrules:\n" + LINEAGE.splitlines(keepends=True)[0] + \
        LINEAGE.splitlines(keepends=True)[1]
    project = _project(tmp_path / task, adult_rows, spec, policy)
    summary = _run(project, until="evaluate")
    assert summary["decision"] == "passed", summary["reasons"]
    assert summary["privacy"]["noise_multiplier"] == 1.1 and 0 < summary["privacy"]["epsilon"] < 10
    metrics = summary["stages"][2]["metrics"]
    assert (metrics["accuracy"] > 0.6) if task == "multiclass" else (metrics["mae"] < 12)
