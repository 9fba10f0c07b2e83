"""Rules against the champion: two real Keras models registered with ``run.register``, compared group by group."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import rai
from governance.vocabulary import Status

pytestmark = pytest.mark.tf

POLICY = """\
policy: champion-test
version: '1'
owner: qa
fail_on: high
rules:
  - id: fnr-no-worse-than-champion
    check: fairness.group_metric
    stage: evaluate
    severity: high
    params: {sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: champion, max_increase: 0.05}
"""
VERSION_RULE = """\
  - id: accuracy-vs-v{version}
    check: fairness.group_metric
    stage: evaluate
    severity: high
    params: {{sensitive_features: [sex], metric: accuracy, aggregate: min, relative_to: {{version: {version}}},
             max_decrease: 0.02}}
"""


def fit(x, y, seed: int):
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.layers.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy")
    model.fit(x, y, epochs=8, batch_size=50, verbose=0)
    return model


@pytest.fixture(scope="module")
def models():
    """A good model, and one trained with most of the women's positive labels hidden (it misses them)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype(int)
    sex = np.where(rng.random(2000) < 0.5, "f", "m")
    x[:, 3] = (sex == "f").astype("float32")  # the model can tell the groups apart
    hidden = y.copy()
    hidden[(sex == "f") & (rng.random(2000) < 0.8)] = 0
    good, biased = fit(x[:1200], y[:1200], 1), fit(x[:1200], hidden[:1200], 1)
    return good, biased, (x[1200:], y[1200:], sex[1200:])


def predictions(model, data) -> rai.Predictions:
    x, y, sex = data
    scores = model.predict(x, verbose=0).reshape(-1)
    return rai.Predictions(y, (scores >= 0.5).astype(int), {"sex": sex}, y_score=scores)


def governed(policy: str, model, data, register: bool = True):
    """One API run named ``credit``: the evaluate gate, then (if it passed) registration."""
    with rai.start_run("credit", policy=policy) as run:
        result = run.gate("evaluate", raise_on_block=False, predictions=predictions(model, data))
        if register and not result.blocked:
            run.register(model)
    return run, result


def test_the_champion_gates_the_next_model_group_by_group(models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(POLICY)
    good, biased, data = models

    first, result = governed("policy.yaml", good, data)
    (finding,) = result.findings
    assert finding.status == Status.WARNING and "no registered version of 'credit' has passed" in finding.message
    assert first.deployed["version"] == 1

    second, result = governed("policy.yaml", good, data)  # the same model: nothing changed
    (finding,) = result.findings
    assert finding.status == Status.PASSED, finding.message
    assert finding.evidence["baseline"] == {"relative_to": "champion", "model": "credit", "version": 1, "compare": "groups",
                                            "model_sha256": first.deployed["model_sha256"], "source": "recorded",
                                            "rows": 800}
    assert all(row["change"] == 0 for row in finding.evidence["groups"])
    assert second.deployed["version"] == 2

    third, result = governed("policy.yaml", biased, data)
    (finding,) = result.findings
    assert result.blocked and finding.status == Status.FAILED, finding.message
    assert "vs champion credit v2: group by group, 1 beyond of 2 groups for max_increase 0.05 (sex=f)" in finding.message
    women = next(row for row in finding.evidence["groups"] if row["group"] == {"sex": "f"})
    assert women["change"] > 0.3 and women["value"] == pytest.approx(women["baseline"] + women["change"])
    assert third.decision == "blocked" and third.deployed is None
    assert not Path(".rai/registry/credit/3").exists()
    assert rai.verify_trail(".rai").ok


def test_a_named_version_and_an_unknown_one(models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(POLICY)
    good, biased, data = models
    governed("policy.yaml", good, data)

    Path("v1.yaml").write_text(POLICY + VERSION_RULE.format(version=1))
    _, result = governed("v1.yaml", biased, data, register=False)
    accuracy = next(f for f in result.findings if f.rule_id == "accuracy-vs-v1")
    assert accuracy.status == Status.FAILED and accuracy.evidence["baseline"]["version"] == 1

    Path("v9.yaml").write_text(POLICY + VERSION_RULE.format(version=9))
    with pytest.raises(rai.UserError, match=r"^v9.yaml:11:5: rule 'accuracy-vs-v9': relative_to version 9: .*no version 9; "
                                            r"versions are 1$"):
        governed("v9.yaml", good, data, register=False)  # refused when the run starts, before any gate
