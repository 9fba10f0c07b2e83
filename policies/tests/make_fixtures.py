"""Write the small fixture files of the shipped packs' policy tests (deterministic; run from anywhere).

    python policies/tests/make_fixtures.py

The files are committed; this script says how they were made, so a reviewer can change them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "fixtures"


def table(seed: int, rows: int = 400, age_shift: float = 0.0) -> pd.DataFrame:
    """Applicants: age, income, sex, region (east is a group of 10), a 0/1 label and a model score."""
    rng = np.random.default_rng(seed)
    age = np.round(rng.normal(40 + age_shift, 10, rows), 1)
    income = np.round(rng.lognormal(10, 0.4, rows))
    region = np.where(np.arange(rows) < 10, "east", np.where(np.arange(rows) % 2 == 0, "north", "south"))
    score = np.round(rng.random(rows), 3)
    return pd.DataFrame({"age": age, "income": income, "sex": np.where(np.arange(rows) % 2 == 0, "F", "M"),
                         "region": region, "y": (score > 0.7).astype(int), "score": score})


def predictions(tpr_f: float, tpr_m: float, extra_errors: int = 0) -> pd.DataFrame:
    """100 positives and 100 negatives per sex; TPR as given, 10 false positives per sex."""
    rows = []
    for sex, tpr in (("F", tpr_f), ("M", tpr_m)):
        for i in range(100):
            rows.append({"y": 1, "pred": int(i < round(tpr * 100)), "sex": sex})
        for i in range(100):
            rows.append({"y": 0, "pred": int(i < 10), "sex": sex})
    frame = pd.DataFrame(rows)
    flip = frame.index[(frame.y == 0) & (frame.pred == 0)][:extra_errors]
    frame.loc[flip, "pred"] = 1
    frame["score"] = np.round(0.2 + 0.6 * frame.pred + (frame.index % 10) / 100, 2)
    return frame[["y", "pred", "score", "sex"]]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    table(1).to_csv(OUT / "train.csv", index=False)
    table(2).to_csv(OUT / "test-same.csv", index=False)
    table(3, age_shift=25).to_csv(OUT / "test-shifted.csv", index=False)
    predictions(0.9, 0.9).to_csv(OUT / "fair.csv", index=False)
    predictions(0.6, 0.95).to_csv(OUT / "unequal-opportunity.csv", index=False)
    predictions(0.9, 0.9, extra_errors=8).to_csv(OUT / "variant-worse.csv", index=False)
    card = {"owner": "credit risk team", "intended_use": "Pre-screening of consumer credit applications.",
            "limitations": ["Trained on one country's applicants."],
            "out_of_scope_uses": ["Employment decisions."], "ethical_considerations": ["Group gaps are monitored."]}
    (OUT / "model-card.json").write_text(json.dumps(card, indent=2) + "\n")
    (OUT / "privacy-dp.json").write_text(json.dumps(dp_record(), indent=2) + "\n")


def dp_record(noise: float = 1.0, examples: int = 32561, batch_size: int = 256, epochs: int = 10,
              delta: float = 1e-5) -> dict:
    """A DP-SGD record as the train stage writes it, its epsilon from rai's own accounting."""
    from governance.metrics.privacy import dp_sgd_epsilon, dp_sgd_steps

    rate, steps = batch_size / examples, dp_sgd_steps(examples, batch_size, epochs)
    return {"dp": True, "epsilon": dp_sgd_epsilon(noise, rate, steps, delta), "delta": delta,
            "noise_multiplier": noise, "l2_norm_clip": 1.0, "sampling_rate": rate, "steps": steps,
            "epochs": epochs, "batch_size": batch_size, "examples": examples, "accountant": "rdp"}


if __name__ == "__main__":
    main()
