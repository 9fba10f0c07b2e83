"""Served multiclass and regression answers against the models' own predictions (TensorFlow).

The oracle of a Keras entry is Keras ``predict`` on the same rows; of a LiteRT entry, the LiteRT
interpreter on the model's own Keras preprocessing (as ``optimize`` evaluated the variant).
Rows hold missing values, unseen categories and values far outside the training range; they are
sent as one batch and one by one (the single-row interpreter and encoder).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.workspace import Workspace
from lifecycle.serving.scoring import OutputMismatch, build_scorer

from .harness import CATEGORICAL, CLASSES, FIXTURES, NUMERIC, TASK_FILES, register_demo

pytestmark = pytest.mark.tf


def _frame(n: int = 60, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.normal(45, 30, n).round(1), "hours-per-week": rng.normal(40, 60, n).round(2),
        "color": rng.choice(["red", "green", "blue", "pink", None], n).astype(object),
        "sex": rng.choice(["Female", "Male", "Other", None], n).astype(object)})
    frame.loc[::7, "age"] = np.nan
    frame.loc[::9, "hours-per-week"] = 5e4
    return frame


def _rows(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _oracle(task: str, fmt: str, frame: pd.DataFrame) -> np.ndarray:
    from lifecycle.model import encode_features, load_model, score
    from lifecycle.optimize import LiteRTModel

    stem = TASK_FILES[task][0]
    model = load_model(FIXTURES / f"{stem}.keras")
    if fmt == "keras":
        return np.asarray(score(model, frame), dtype=float)
    return np.asarray(LiteRTModel((FIXTURES / f"{stem}.tflite").read_bytes())(encode_features(model, frame)), dtype=float)


#: Probabilities to 1e-6; predictions to 1e-6 of their size or of the target's (about 200 here: the
#: head adds the target's mean in float32, whose last bit is 1.5e-5 there).
_TOLERANCE = {"multiclass": {"rtol": 0, "atol": 1e-6},
              "regression": {"rtol": 1e-6, "atol": 1e-6 * float(pd.read_parquet(
                  FIXTURES / f"{TASK_FILES['regression'][1]}.parquet")["y_true"].abs().mean())}}


def _served(task: str, answer: dict) -> np.ndarray:
    if task == "multiclass":
        return np.array([[p["probabilities"][c] for c in CLASSES] for p in answer["predictions"]])
    return np.array([p["prediction"] for p in answer["predictions"]])


def test_served_answers_equal_the_models_own_predictions(task_server):
    task, fmt, server = task_server.task, task_server.fmt, task_server.server
    frame = _frame()
    expected = _oracle(task, fmt, frame)
    status, answer = server.predict({"rows": _rows(frame)})
    assert status == 200
    np.testing.assert_allclose(_served(task, answer), expected, **_TOLERANCE[task])
    one_by_one = [server.predict({"row": row})[1] for row in _rows(frame.iloc[:15])]
    single = np.concatenate([_served(task, a) for a in one_by_one])
    np.testing.assert_allclose(single, expected[:15], **_TOLERANCE[task])
    if task == "multiclass":  # the label is the most probable class, as evaluation decided it
        assert [p["label"] for p in answer["predictions"]] == [CLASSES[i] for i in expected.argmax(axis=1)]


def _files(task: str) -> dict[str, bytes]:
    return {"model": (FIXTURES / f"{TASK_FILES[task][0]}.keras").read_bytes()}


def test_the_keras_fallback_gives_the_same_outputs(monkeypatch):
    """A Keras core the NumPy path does not know is run by Keras itself: same (n, k) probabilities."""
    from lifecycle.model import load_model, score
    from lifecycle.serving import scoring
    from lifecycle.serving.rows import ValidRows

    monkeypatch.setattr(scoring, "_numpy_core", lambda keras_file: None)
    frame = _frame(20)
    for task, outputs in (("multiclass", 3), ("regression", 1)):
        scorer = build_scorer("keras", _files(task), NUMERIC, CATEGORICAL, outputs)
        assert scorer.path == "keras"
        rows = ValidRows.of(frame[scorer.numeric].to_numpy(dtype=np.float64),
                            [[None if pd.isna(v) else v for v in frame[c]] for c in scorer.categorical])
        got = scorer(rows)
        assert got.shape == ((20, 3) if task == "multiclass" else (20,))
        np.testing.assert_allclose(got, score(load_model(FIXTURES / f"{TASK_FILES[task][0]}.keras"), frame),
                                   **_TOLERANCE[task])


def test_a_model_whose_outputs_do_not_fit_its_task_is_refused_at_start(tmp_path, rai):
    with pytest.raises(OutputMismatch, match=r"the model gives 3 value\(s\) per row; its schema's task needs 1"):
        build_scorer("keras", _files("multiclass"), NUMERIC, CATEGORICAL, 1)
    ws = Workspace(tmp_path / "ws")
    entry = register_demo(ws, task="multiclass")
    register_demo(ws, task="multiclass", schema={**entry.body["schema"], "classes": ["high", "low"]})  # v2
    code, _, err = rai("serve", "demo", "--version", "2", "--workspace", str(ws.root), "--port", "0")
    assert code == 2 and err.count("\n") == 1
    assert "refusing to serve demo v2: the model gives 3 value(s) per row; its schema's task needs 2" in err
