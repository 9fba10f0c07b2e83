"""A team's own Keras training script, governed by rai.

The model, the feature engineering and the training loop are the team's; rai adds the gates:
a callback audits the validation set when training ends (and would stop a run whose fairness
or accuracy gate blocks), ``run.gate`` audits the held-out test set, ``run.optimize`` converts
the model to LiteRT and re-audits every variant against the Keras parent, and ``run.register``
writes a signed registry entry after the deploy gate. Everything lands in the audit trail, so
``rai report latest``, ``rai model-card latest`` and ``rai trail verify`` work afterwards.

Run from the repository root::

    python examples/bring-your-own/train.py [--workspace .rai] [--epochs 4]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tensorflow-privacy needs Keras 2 optimizers

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "adult-income" / "data"
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "relationship", "native-country"]
SENSITIVE = ["sex", "race"]


def load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / name, skipinitialspace=True, na_values=["?"])
    frame["label"] = frame["Y"].str.rstrip(".").eq(">50K").astype(int)
    return frame


def features(frame: pd.DataFrame, columns: list[str] | None = None, stats=None) -> tuple[np.ndarray, list, tuple]:
    """The team's own encoding: standardised numbers, one-hot categories (fitted on train)."""
    numeric = frame[NUMERIC].astype(float)
    stats = stats or (numeric.mean(), numeric.std())
    numeric = (numeric - stats[0]) / stats[1]
    onehot = pd.get_dummies(frame[CATEGORICAL].fillna("missing"), dtype=float)
    table = pd.concat([numeric, onehot], axis=1)
    if columns is not None:
        table = table.reindex(columns=columns, fill_value=0.0)
    return table.to_numpy(dtype=np.float32), list(table.columns), stats


def build_model(width: int):
    import tf_keras as keras

    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.layers.Input(shape=(width,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".rai")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)

    import rai.keras

    train, test = load("adult.data.csv.gz"), load("adult.test.csv.gz")
    x_train, columns, stats = features(train)
    x_test, _, _ = features(test, columns, stats)
    cut = int(len(x_train) * 0.85)
    x_fit, y_fit, x_val, y_val = x_train[:cut], train["label"][:cut], x_train[cut:], train["label"][cut:]

    metadata = {"owner": "credit-risk team (example)", "intended_use": "Demonstrating rai hooks in a team's script.",
                "limitations": ["1994 US census data", "not for decisions about real people"]}
    try:
        with rai.start_run("bring-your-own", policy=HERE / "policy.yaml", workspace=args.workspace,
                           metadata=metadata) as run:
            run.add_dataset("train", DATA / "adult.data.csv.gz")
            run.add_dataset("test", DATA / "adult.test.csv.gz")
            model = build_model(x_train.shape[1])
            callback = rai.keras.GovernanceCallback(run, (x_val, y_val), sensitive=train[SENSITIVE][cut:])
            model.fit(x_fit, y_fit, epochs=args.epochs, batch_size=256, verbose=0, callbacks=[callback])

            scores = model.predict(x_test, verbose=0).reshape(-1)
            test_predictions = rai.Predictions(test["label"], (scores >= 0.5).astype(int), test[SENSITIVE],
                                               y_score=scores)
            result = run.gate("evaluate", predictions=test_predictions)
            print(f"evaluate gate: {result.decision} (accuracy {(test_predictions.y_pred == test_predictions.y_true).mean():.4f})")

            variants = run.optimize(model, modes=["dynamic_range", "int8"], representative_data=x_fit[:500],
                                    evaluation_data=(x_test, test["label"], test[SENSITIVE]))
            for mode, variant in variants.items():
                print(f"{mode}: {variant.size_bytes} bytes, accuracy {variant.accuracy:.4f}, gate {variant.result.decision}")
            entry = run.register(variants["int8"], name="bring-your-own")
            print(f"registered {entry.name} v{entry.version}")
    except rai.GateBlocked as blocked:
        print(f"blocked: {blocked}", file=sys.stderr)
        for finding in blocked.result.blocking:
            print(f"  {finding.rule_id}: {finding.message}", file=sys.stderr)
        return 1
    except rai.UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"run {run.run_id}: {run.decision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
