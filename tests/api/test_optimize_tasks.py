"""``run.optimize`` and ``run.register`` for a user's multiclass and regression Keras models.

A softmax over the three iris species and one linear unit on the diabetes data are converted to
LiteRT, each variant is gated against its Keras parent and one is registered. Every number the
optimize stage records (the variants' and the parent's metrics, how each variant differs from
the parent, the gates' evidence) equals scikit-learn's on the variant's and the parent's
predictions, which the test computes itself (the ``.tflite`` files run by the LiteRT
interpreter). A model that does not fit the run's task is one ``rai.UserError``, and nothing is
recorded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import rai
from governance.manifest import verify_manifest
from governance.trail.signing import KeyRing

# A float32 softmax row sums to 1 within about 1e-7, which scikit-learn's log_loss notes.
pytestmark = [pytest.mark.tf, pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")]

TOL = 1e-9
LINEAGE = ("  - {id: lineage, check: accountability.lineage_recorded, stage: deploy, severity: high,\n"
           "     params: {require: [datasets, model]}}\n")
MULTICLASS_POLICY = """\
policy: optimize-multiclass
version: '1'
owner: qa
fail_on: high
rules:
  - {id: accuracy-floor, check: performance.metric, stage: evaluate, severity: high, params: {metric: accuracy, min: 0.6}}
  - {id: parity-site, check: fairness.demographic_parity_difference, stage: evaluate, severity: medium,
     params: {sensitive_features: [site], max: 0.3}}
  - {id: litert-accuracy-drop, check: optimize.accuracy_drop, stage: optimize, severity: high, params: {max: 0.05}}
  - {id: litert-parity, check: optimize.fairness_gap_increase, stage: optimize, severity: high,
     params: {metric: demographic_parity_difference, sensitive_features: [site], max: 0.1}}
""" + LINEAGE
REGRESSION_POLICY = """\
policy: optimize-regression
version: '1'
owner: qa
fail_on: high
rules:
  - {id: mae-ceiling, check: performance.error, stage: evaluate, severity: high, params: {metric: mae, max: 90}}
  - {id: error-parity-age, check: fairness.group_metric, stage: evaluate, severity: medium,
     params: {sensitive_features: [age], metric: mae, aggregate: difference, max: 40}}
  - {id: litert-mae, check: optimize.error_increase, stage: optimize, severity: high, params: {metric: mae, max: 3}}
  - {id: litert-rmse, check: optimize.error_increase, stage: optimize, severity: high, params: {metric: rmse, max: 3}}
""" + LINEAGE
MISFIT_POLICY = "policy: misfit\nversion: '1'\nowner: qa\nfail_on: high\nrules:\n" + LINEAGE
SPECIES = np.array(["setosa", "versicolor", "virginica"], dtype=object)
SITES = {"site": {1: "north", 2: "south"}}
AGE_BANDS = {"age": [0, 40, 55, 100]}


def _fit(model, x, y, loss: str, epochs: int):
    import tf_keras as keras

    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def iris():
    import tf_keras as keras
    from sklearn.datasets import load_iris

    data = load_iris()
    x = ((data.data - data.data.mean(axis=0)) / data.data.std(axis=0)).astype("float32")
    site = np.where(np.random.default_rng(0).random(len(x)) < 0.5, 1, 2)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.layers.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    return _fit(model, x, data.target, "sparse_categorical_crossentropy", 40), x, SPECIES[data.target], site


@pytest.fixture(scope="module")
def diabetes():
    import tf_keras as keras
    from sklearn.datasets import load_diabetes

    scaled, raw = load_diabetes(), load_diabetes(scaled=False)
    x = scaled.data.astype("float32")
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.layers.Input(shape=(10,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1)])
    model.layers[-1].bias.assign([150.0])  # start at the target's scale: a few epochs then suffice
    sensitive = {"age": raw.data[:, 0], "sex": raw.data[:, 1].astype(int)}
    return _fit(model, x, scaled.target, "mse", 60), x, scaled.target, sensitive


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def keras_output(model, x) -> np.ndarray:
    return np.asarray(model.predict(x, verbose=0, batch_size=4096), dtype=float)


def litert_output(path: Path, x: np.ndarray) -> np.ndarray:
    """The ``.tflite`` file run by the LiteRT interpreter on all rows at once (float32 in and out)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    entrance, exit_ = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(entrance["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(entrance["index"], x.astype(np.float32))
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(exit_["index"]), dtype=float).reshape(len(x), -1)


def recorded(run_id: str) -> tuple[dict, dict[str, list]]:
    """The optimize stage's evidence blob, and each variant's optimize gate findings, from the trail."""
    with rai.open_trail(".rai") as trail:
        events = trail.events(run_id=run_id)
        stage = [e for e in events if e.kind == "stage.completed" and e.payload["stage"] == "optimize"]
        assert len(stage) == 1
        blob = json.loads(trail.get_blob(stage[0].payload["evidence_blob"]))
    gates: dict[str, list] = {}
    for e in events:
        if e.kind == "gate.decided" and e.payload["stage"] == "optimize":
            gates[e.payload["subject"]] = e.payload["findings"]  # the last one: the binding gate of register
    return blob, gates


def finding(findings: list, rule_id: str) -> dict:
    return next(f for f in findings if f["rule_id"] == rule_id)


def close(recorded_value, expected) -> bool:
    return recorded_value is not None and abs(recorded_value - float(expected)) <= TOL


def assert_registered(entry, task: str) -> dict:
    check = verify_manifest(entry.dir, KeyRing(Path(".rai/keys")).trusted())
    assert check.ok, check.problems
    card = json.loads((entry.dir / "model_card.json").read_text())
    assert entry.body["schema"]["task"] == card["data"]["task"] == task
    assert rai.verify_trail(".rai").ok
    return entry.body


# -- multiclass -------------------------------------------------------------------------------------
def classifier_metrics(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    return {"accuracy": metrics.accuracy_score(y, pred), "balanced_accuracy": metrics.balanced_accuracy_score(y, pred),
            "macro_f1": metrics.f1_score(y, pred, average="macro"),
            "log_loss": metrics.log_loss(y, proba, labels=[0, 1, 2])}


def test_a_multiclass_model_is_optimized_compared_with_its_parent_and_registered(iris, workdir):
    Path("policy.yaml").write_text(MULTICLASS_POLICY)
    model, x, species, site = iris
    proba = keras_output(model, x)
    with rai.start_run("iris", policy="policy.yaml") as run:
        run.add_dataset("iris", x)
        run.gate("evaluate", predictions=rai.Predictions(species, SPECIES[proba.argmax(axis=1)], {"site": site},
                                                         y_score=proba, task="multiclass", classes=list(SPECIES),
                                                         value_labels=SITES))
        variants = run.optimize(model, modes=["dynamic_range", "int8"], representative_data=x[:100],
                                evaluation_data=(x, species, {"site": site}))
        assert {mode: v.blocked for mode, v in variants.items()} == {"dynamic_range": False, "int8": False}
        entry = run.register(variants["int8"])
    assert run.decision == "passed" and run.deployed["version"] == 1
    body = assert_registered(entry, "multiclass")
    assert body["schema"]["classes"] == list(SPECIES) and body["model_sha256"] == variants["int8"].sha256

    blob, gates = recorded(run.run_id)
    y = np.searchsorted(SPECIES, species)
    parent_pred = proba.argmax(axis=1)
    parent = classifier_metrics(y, parent_pred, proba)
    assert all(close(blob["parent"]["performance"][name], value) for name, value in parent.items())
    parent_recall = metrics.recall_score(y, parent_pred, average=None, labels=[0, 1, 2], zero_division=0)
    for row in blob["variants"]:
        variant = variants[row["mode"]]
        pred = litert_output(variant.path, x).argmax(axis=1)
        assert np.array_equal(variant.predictions.y_pred, pred)
        ours = classifier_metrics(y, pred, variant.predictions.y_score)
        assert all(close(row["performance"][name], value) for name, value in ours.items()), row["performance"]
        versus = row["versus_parent"]
        assert close(versus["agreement"], np.mean(pred == parent_pred))
        assert close(versus["accuracy_change"], ours["accuracy"] - parent["accuracy"])
        recall = metrics.recall_score(y, pred, average=None, labels=[0, 1, 2], zero_division=0)
        assert [c["class"] for c in versus["classes"]] == list(SPECIES)
        for k, change in enumerate(versus["classes"]):
            assert close(change["selection_rate_change"], np.mean(pred == k) - np.mean(parent_pred == k))
            assert close(change["recall_change"], recall[k] - parent_recall[k])
        drop = finding(gates[row["mode"]], "litert-accuracy-drop")
        assert close(drop["evidence"]["parent_accuracy"], parent["accuracy"])
        assert close(drop["evidence"]["variant_accuracy"], ours["accuracy"])
        assert close(drop["observed"], parent["accuracy"] - ours["accuracy"])
    # The evaluate rules ran again on each variant, with the groups named as at evaluate.
    parity = finding(gates["int8"], "parity-site")
    assert parity["status"] == "passed"
    assert {g["group"]["site"] for g in blob["fairness"]["int8"]["site"]["groups"]} == {"north", "south"}


# -- regression -------------------------------------------------------------------------------------
def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return {"mae": metrics.mean_absolute_error(y, pred), "rmse": metrics.root_mean_squared_error(y, pred),
            "r2": metrics.r2_score(y, pred)}


def test_a_regression_model_is_optimized_compared_with_its_parent_and_registered(diabetes, workdir):
    Path("policy.yaml").write_text(REGRESSION_POLICY)
    model, x, y, sensitive = diabetes
    predicted = keras_output(model, x)[:, 0]
    with rai.start_run("diabetes", policy="policy.yaml") as run:
        run.add_dataset("diabetes", x)
        run.gate("evaluate", predictions=rai.Predictions(y, predicted, sensitive, task="regression", bins=AGE_BANDS))
        variants = run.optimize(model, modes=["float16", "int8"], representative_data=x[:200],
                                evaluation_data=(x, y, sensitive))
        assert not variants["int8"].blocked and variants["int8"].accuracy is None
        entry = run.register(variants["int8"])
    assert run.decision == "passed"
    body = assert_registered(entry, "regression")
    assert "accuracy" not in body["metrics"]["performance"]

    blob, gates = recorded(run.run_id)
    parent = regression_metrics(y, predicted)
    assert all(close(blob["parent"]["performance"][name], value) for name, value in parent.items())
    for row in blob["variants"]:
        variant = variants[row["mode"]]
        pred = litert_output(variant.path, x)[:, 0]
        assert np.array_equal(variant.predictions.y_pred, pred)
        ours = regression_metrics(y, pred)
        assert all(close(row["performance"][name], value) for name, value in ours.items()), row["performance"]
        assert close(row["versus_parent"]["mae_change"], ours["mae"] - parent["mae"])
        assert close(row["versus_parent"]["rmse_change"], ours["rmse"] - parent["rmse"])
        for rule, metric in (("litert-mae", "mae"), ("litert-rmse", "rmse")):
            found = finding(gates[row["mode"]], rule)
            assert close(found["evidence"]["parent"], parent[metric]) and close(found["evidence"]["variant"], ours[metric])
    # The age bands of evaluate group the variants' errors too.
    bands = {g["group"]["age"] for g in blob["fairness"]["int8"]["age"]["groups"]}
    assert bands == {"0-40", "40-55", "55-100"}


# -- a model that does not fit the run's task ---------------------------------------------------------
def _untrained(inputs: int, units: int, activation: str | None):
    import tf_keras as keras

    return keras.Sequential([keras.layers.Input(shape=(inputs,)), keras.layers.Dense(units, activation=activation)])


MULTICLASS_RUN = "multiclass with 3 classes ('setosa', 'versicolor', 'virginica'), from the predictions gated at evaluate"
MISFITS = [
    ("regression model, multiclass run", "multiclass", (4, 1, None),
     f"the model outputs 1 value per row, but this run is {MULTICLASS_RUN}: a multiclass model outputs one "
     "probability per class, in the order of the classes (a softmax)"),
    ("softmax of 4 classes, 3 in the run", "multiclass", (4, 4, "softmax"),
     f"the model outputs 4 values per row, but this run is {MULTICLASS_RUN}"),
    ("logits, not probabilities", "multiclass", (4, 3, None),
     "the model outputs rows that are not class probabilities (values from "),
    ("softmax model, regression run", "regression", (4, 3, "softmax"),
     "the model outputs 3 values per row, but this run is regression, from the predictions gated at evaluate: "
     "a regression model outputs one number per row"),
    ("softmax model, no evaluate gate", None, (4, 3, "softmax"),
     "the model outputs 3 values per row, but this run is binary, as no predictions were gated at evaluate: a "
     "binary model outputs the positive-class probability (one sigmoid unit, or two softmax units); a multiclass "
     "or regression run gates evaluate with rai.Predictions(..., task=...) first"),
    ("linear model, no evaluate gate", None, (4, 1, None), "the model outputs values from "),
    ("inputs of another width", "multiclass", (6, 3, "softmax"),
     "the model cannot score evaluation_data[0] (shape (150, 4)): ValueError: Input 0 of layer "),
]


@pytest.mark.parametrize("case, task, shape, message", MISFITS, ids=[m[0] for m in MISFITS])
def test_a_model_that_does_not_fit_the_run_is_one_user_error_and_nothing_is_recorded(iris, workdir, case, task,
                                                                                      shape, message):
    import tf_keras as keras

    Path("policy.yaml").write_text(MISFIT_POLICY)
    _, x, species, site = iris

    keras.utils.set_random_seed(5)
    model = _untrained(*shape)
    evaluated = {"multiclass": rai.Predictions(species, species, {"site": site}, task="multiclass"),
                 "regression": rai.Predictions(np.arange(150.0), np.arange(150.0), {"site": site}, task="regression")}
    y = {"regression": np.arange(150.0)}.get(task, species if task else (species == "setosa").astype(int))
    with rai.start_run("misfit", policy="policy.yaml") as run:
        if task is not None:
            run.gate("evaluate", predictions=evaluated[task])
        with pytest.raises(rai.UserError) as raised:
            run.optimize(model, modes=["dynamic_range"], evaluation_data=(x, y, {"site": site}))
    error = str(raised.value)
    assert error.startswith("optimize: " + message) and "\n" not in error, error
    assert run.decision == "passed"
    with rai.open_trail(".rai") as trail:
        stages = [e.payload["stage"] for e in trail.events(run_id=run.run_id) if e.kind == "stage.completed"]
    assert "optimize" not in stages and not Path(".rai/runs", run.run_id, "litert").exists()
