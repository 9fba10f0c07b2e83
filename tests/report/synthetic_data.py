"""The payloads of the synthetic Adult runs: spec, policy, evidence and findings.

Per-group tables are derived from confusion counts, so every rate, gap and observed value in
a finding agrees with its own evidence, as it would coming from the real checks.
"""

from __future__ import annotations

import hashlib
from typing import Any

from governance.findings import Finding
from governance.vocabulary import Severity, Status


def _h(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


SPEC: dict[str, Any] = {
    "name": "adult-income-dp",
    "data": {"train": "data/adult.data.csv.gz", "test": "data/adult.test.csv.gz", "target": "income",
             "positive_label": ">50K", "sensitive_features": ["sex", "race"], "seed": 42, "test_fraction": 0.2,
             "drop_columns": ["fnlwgt"]},
    "model": {"hidden_units": [64, 32], "epochs": 5, "batch_size": 256, "learning_rate": 0.001, "optimizer": "sgd"},
    "privacy": {"dp": True, "l2_norm_clip": 1.0, "target_epsilon": 8.0, "delta": 1e-5},
    "optimize": {"modes": ["int8", "dynamic_range"], "deploy": "int8"},
    "deploy": {"model_name": "adult-income"},
    "policy": "../../policies/eu-ai-act-high-risk.yaml",
    "metadata": {
        "owner": "Credit Analytics (Zoë Müller)",
        "intended_use": "Research into income prediction on census data; a teaching example of governed ML.",
        "out_of_scope_uses": ["Decisions about individual people (credit, hiring, housing).",
                              "Any population other than the 1994 US census."],
        "limitations": ["Trained on 1994 data; incomes and categories are out of date.",
                        "Privacy guarantee ε ≈ 1.18 covers training rows only — not the test set."],
        "ethical_considerations": ["Sex and race are used as features and for fairness evaluation."],
        "contact": "credit-analytics@example.org",
        "license": "Apache-2.0",
    },
}

VERSIONS = {"python": "3.11.9", "rai": "0.1.0", "tensorflow": "2.21.0", "tf-keras": "2.21.0",
            "tensorflow-privacy": "0.9.0", "numpy": "1.26.4", "dp-accounting": "0.4.4"}


def _rule(rid, check, stage, severity, params, maps_to):
    return {"id": rid, "check": check, "stage": stage, "severity": severity, "params": params,
            "description": None, "maps_to": maps_to}


POLICY: dict[str, Any] = {
    "policy": "eu-ai-act-high-risk", "name": "eu-ai-act-high-risk", "version": "1.0", "owner": "rai maintainers",
    "description": "High-risk AI system policy.", "frameworks": ["eu-ai-act", "nist-ai-rmf", "iso-42001"],
    "fail_on": "medium", "sha256": _h("policy eu-ai-act-high-risk 1.0"), "source": "policies/eu-ai-act-high-risk.yaml",
    "rules": [
        _rule("required-columns", "data.required_columns", "ingest", "critical", {"columns": ["sex", "race", "age"]},
              ["eu-ai-act:art-10(2)(f)", "iso-42001:a.7.3"]),
        _rule("missing-values", "data.missing_values", "ingest", "medium", {"max_share": 0.1}, ["eu-ai-act:art-10(3)"]),
        _rule("label-balance", "data.label_balance", "ingest", "high", {"min_minority_share": 0.15},
              ["eu-ai-act:art-10(3)", "nist-ai-rmf:map-2.3"]),
        _rule("train-test-drift", "drift.dataset", "ingest", "high", {"drift_share": 0.3},
              ["eu-ai-act:art-10(3)", "nist-ai-rmf:measure-2.5"]),
        _rule("dp-required", "privacy.dp_required", "train", "critical", {}, ["eu-ai-act:art-10(5)", "nist-ai-rmf:measure-2.10"]),
        _rule("privacy-budget", "privacy.epsilon_budget", "train", "critical", {"max_epsilon": 8.0, "max_delta": 1e-5},
              ["eu-ai-act:art-10(5)", "nist-ai-rmf:measure-2.10"]),
        _rule("training-lineage", "accountability.lineage_recorded", "train", "high", {"require": ["datasets"]},
              ["eu-ai-act:art-12", "eu-ai-act:annex-iv(2)", "iso-42001:a.6.2.8"]),
        _rule("accuracy", "performance.metric", "evaluate", "high", {"metric": "accuracy", "min": 0.8},
              ["eu-ai-act:art-15(1)", "nist-ai-rmf:measure-2.5"]),
        _rule("equal-opportunity-sex", "fairness.equal_opportunity_difference", "evaluate", "high",
              {"sensitive_features": ["sex"], "max": 0.15, "min_group_size": 50},
              ["eu-ai-act:art-10(2)(f)", "nist-ai-rmf:measure-2.11", "iso-42001:a.5.4"]),
        _rule("equalized-odds-race", "fairness.equalized_odds_difference", "evaluate", "medium",
              {"sensitive_features": ["race"], "max": 0.25, "min_group_size": 50}, ["nist-ai-rmf:measure-2.11"]),
        _rule("demographic-parity-sex", "fairness.demographic_parity_difference", "evaluate", "low",
              {"sensitive_features": ["sex"], "max": 0.1, "min_group_size": 50}, ["eu-ai-act:art-13(3)(b)"]),
        _rule("edge-accuracy-drop", "optimize.accuracy_drop", "optimize", "high", {"max": 0.01}, ["eu-ai-act:art-15(1)"]),
        _rule("edge-size", "optimize.size_ratio", "optimize", "low", {"max": 0.5}, ["nist-ai-rmf:manage-2.2"]),
        _rule("human-approval", "accountability.approvals", "deploy", "critical",
              {"roles": ["risk-officer"], "min_approvals": 1}, ["eu-ai-act:art-14", "iso-42001:a.3.2"]),
        _rule("model-card", "accountability.metadata_present", "deploy", "high",
              {"fields": ["owner", "intended_use", "limitations"]}, ["eu-ai-act:art-13", "eu-ai-act:annex-iv(1)"]),
        _rule("custom-clause", "accountability.lineage_recorded", "deploy", "high", {"require": ["datasets", "model"]},
              ["eu-ai-act:art-17"]),
    ],
    "waivers": [{"rule": "equalized-odds-race", "reason": "Small groups; remediation plan FAIR-12",
                 "approved_by": "Head of Risk", "expires": "2025-12-31"}],
}
RULES = {r["id"]: r for r in POLICY["rules"]}

def _artifact(kind: str, name: str, path: str, size: int) -> dict[str, Any]:
    return {"kind": kind, "name": name, "sha256": _h(path), "path": path, "size_bytes": size}


DATA_ARTIFACTS = {"train": _artifact("dataset", "train", "data/train.parquet", 412_331),
                  "test": _artifact("dataset", "test", "data/test.parquet", 208_944)}
SOURCE_HASHES = {"train": _h("adult.data.csv.gz"), "test": _h("adult.test.csv.gz")}
COLUMNS = ["age", "workclass", "education", "education-num", "marital-status", "occupation", "relationship",
           "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]
DATASETS = {name: {"rows": rows, "columns": COLUMNS, "source_sha256": SOURCE_HASHES[name],
                   "content_sha256": DATA_ARTIFACTS[name]["sha256"]} for name, rows in (("train", 32561), ("test", 16281))}
MODEL_ARTIFACTS = {"model": _artifact("model", "model", "model/model.keras", 61440)}
PREDICTION_ARTIFACTS = {"predictions": _artifact("predictions", "keras", "predictions/keras.parquet", 98_304)}
VARIANT_ARTIFACTS = {"int8": _artifact("litert", "int8", "litert/int8.tflite", 17408),
                     "dynamic_range": _artifact("litert", "dynamic_range", "litert/dynamic_range.tflite", 18944)}
LINEAGE = {"datasets": SOURCE_HASHES, "model": MODEL_ARTIFACTS["model"]["sha256"]}

PRIVACY = {"dp": True, "epsilon": 1.1819207419865143, "epsilon_pld": 0.9349443596677149, "delta": 1e-05,
           "noise_multiplier": 1.1, "l2_norm_clip": 1.0, "sampling_rate": 0.007862166395380977, "steps": 636,
           "epochs": 5, "batch_size": 256, "examples": 32561, "accountant": "rdp", "microbatches": 256}

PROFILE = {
    "rows": {"train": 32561, "test": 16281},
    "missing": {"train": {"workclass": 1836, "occupation": 1843, "native-country": 583},
                "test": {"workclass": 963, "occupation": 966, "native-country": 274}},
    "label_balance": {"train": {"positive": 7841, "negative": 24720, "positive_rate": 0.2408},
                      "test": {"positive": 3846, "negative": 12435, "positive_rate": 0.2362}},
    "groups": {"sex": {"train": {"Male": 21790, "Female": 10771}, "test": {"Male": 10860, "Female": 5421}}},
}

_DRIFT_ROWS = [("age", "num", "wasserstein", 0.0213), ("workclass", "cat", "jensenshannon", 0.0121),
               ("education", "cat", "jensenshannon", 0.0087), ("marital-status", "cat", "jensenshannon", 0.0065),
               ("occupation", "cat", "jensenshannon", 0.0142), ("relationship", "cat", "jensenshannon", 0.0071),
               ("race", "cat", "jensenshannon", 0.0093), ("sex", "cat", "jensenshannon", 0.0024),
               ("capital-gain", "num", "wasserstein", 0.0311), ("capital-loss", "num", "wasserstein", 0.0198),
               ("hours-per-week", "num", "wasserstein", 0.0176), ("native-country", "cat", "jensenshannon", 0.1134)]
DRIFT = {"schema_version": 1,
         "columns": [{"column": c, "type": t, "method": m, "statistic": s, "threshold": 0.1, "drifted": s > 0.1}
                     for c, t, m, s in _DRIFT_ROWS],
         "drifted_share": 1 / 12, "dataset_drift": False}

# Confusion counts (tp, fp, tn, fn) per group on the 16,281 test rows.
SEX_OK = {"Male": (2300, 700, 6510, 1350), "Female": (330, 120, 4711, 260)}
SEX_GAP = {"Male": (2600, 900, 6310, 1050), "Female": (270, 60, 4771, 320)}
RACE = {"White": (2250, 720, 9726, 1250), "Black": (120, 35, 1286, 120), "Asian-Pac-Islander": (80, 30, 320, 50),
        "Amer-Indian-Eskimo": (7, 4, 135, 13), "Other": (8, 3, 112, 12)}

EVAL_METRICS = {"accuracy": 0.8312, "balanced_accuracy": 0.7412, "precision": 0.6921, "recall": 0.6184,
                "f1": 0.6532, "roc_auc": 0.8807}


def _rates(tp: int, fp: int, tn: int, fn: int) -> dict[str, float]:
    n = tp + fp + tn + fn
    return {"count": n, "selection_rate": (tp + fp) / n, "accuracy": (tp + tn) / n,
            "tpr": tp / (tp + fn), "fpr": fp / (fp + tn)}


def fairness_evidence(feature: str | tuple[str, ...], counts: dict[Any, tuple[int, int, int, int]]) -> dict[str, Any]:
    """The fairness JSON of one or more sensitive features, as ``fairness_report(...).to_dict()`` shapes it.

    With several features, ``counts`` is keyed by tuples of their values (intersectional groups).
    """
    features = (feature,) if isinstance(feature, str) else tuple(feature)
    groups = []
    for name, (tp, fp, tn, fn) in counts.items():
        key = dict(zip(features, name if isinstance(name, tuple) else (name,), strict=True))
        groups.append({"group": key, **_rates(tp, fp, tn, fn), "excluded": False,
                       "tp": tp, "fp": fp, "tn": tn, "fn": fn})
    total = [sum(c[i] for c in counts.values()) for i in range(4)]

    def spread(rate: str) -> float:
        values = [g[rate] for g in groups]
        return max(values) - min(values)

    sel = [g["selection_rate"] for g in groups]
    return {"schema_version": 1, "sensitive_features": list(features), "min_group_size": 50,
            "overall": _rates(*total), "groups": groups,
            "metrics": {"demographic_parity_difference": spread("selection_rate"),
                        "demographic_parity_ratio": min(sel) / max(sel),
                        "equalized_odds_difference": max(spread("tpr"), spread("fpr")),
                        "equal_opportunity_difference": spread("tpr")},
            "excluded_groups": []}


def intersectional_counts() -> dict[tuple[str, str, str], tuple[int, int, int, int]]:
    """Confusion counts for the 40 groups of sex x race x age band (a deterministic spread)."""
    counts = {}
    for i, (sex, race, band) in enumerate((s, r, b) for s in SEX_OK for r in RACE for b in ("17-29", "30-44", "45-59", "60+")):
        n = 60 + 37 * i
        tp = n // (4 + i % 3)
        fn, fp = n // 9, n // (11 + i % 5)
        counts[(sex, race, band)] = (tp, fp, n - tp - fn - fp, fn)
    return counts


def heavy_evaluate_findings(subject: str | None = None) -> list[dict[str, Any]]:
    """Every fairness rule's finding with intersectional evidence, as a large real run would have."""
    ev = fairness_evidence(("sex", "race", "age_band"), intersectional_counts())
    out = []
    for rule in ("equal-opportunity-sex", "equalized-odds-race", "demographic-parity-sex"):
        metric = {"equal-opportunity-sex": "equal_opportunity_difference", "equalized-odds-race": "equalized_odds_difference",
                  "demographic-parity-sex": "demographic_parity_difference"}[rule]
        out.append(_finding(rule, "warning", f"{metric} across 40 intersectional groups", ev["metrics"][metric],
                            RULES[rule]["params"]["max"], ev, subject=subject))
    return out


def _finding(rule_id: str, status: str, message: str, observed=None, threshold=None, evidence=None,
             subject=None, waiver=None) -> dict[str, Any]:
    r = RULES[rule_id]
    return Finding(rule_id=rule_id, check=r["check"], stage=r["stage"], severity=Severity(r["severity"]),
                   status=Status(status), message=message, observed=observed, threshold=threshold,
                   evidence=evidence or {}, maps_to=list(r["maps_to"]), subject=subject, waiver=waiver).to_dict()


def ingest_findings() -> list[dict[str, Any]]:
    return [
        _finding("required-columns", "passed", "all 3 required columns present", 3, 3,
                 {"required": ["sex", "race", "age"], "missing": []}),
        _finding("missing-values", "passed", "largest missing share 0.0566 (occupation) <= max 0.1", 0.0566, 0.1),
        _finding("label-balance", "passed", "minority class share 0.2408 >= min 0.15", 0.2408, 0.15),
        _finding("train-test-drift", "passed", "1 of 12 columns drifted (share 0.08333 <= 0.3)", 1 / 12, 0.3, DRIFT),
    ]


def train_findings() -> list[dict[str, Any]]:
    summary = {k: PRIVACY[k] for k in ("dp", "epsilon", "delta", "noise_multiplier", "sampling_rate", "steps")}
    return [
        _finding("dp-required", "passed", "trained with DP-SGD", True, True, summary),
        _finding("privacy-budget", "passed", "epsilon 1.182 at delta 1e-05 (RDP) within epsilon <= 8, delta <= 1e-05",
                 PRIVACY["epsilon"], 8.0, {**summary, "epsilon_recomputed": PRIVACY["epsilon"], "problems": []}),
        _finding("training-lineage", "passed", "dataset hashes recorded", True, True, {"datasets": LINEAGE["datasets"]}),
    ]


def evaluate_findings(passing: bool) -> list[dict[str, Any]]:
    sex = fairness_evidence("sex", SEX_OK if passing else SEX_GAP)
    race = fairness_evidence("race", RACE)
    eo = sex["metrics"]["equal_opportunity_difference"]
    dp = sex["metrics"]["demographic_parity_difference"]
    eodds = race["metrics"]["equalized_odds_difference"]
    waiver = dict(POLICY["waivers"][0])
    return [
        _finding("accuracy", "passed", "accuracy 0.8312 within min 0.8", 0.8312, {"min": 0.8},
                 {"metric": "accuracy", "value": 0.8312, "rows": 16281, "min": 0.8}),
        _finding("equal-opportunity-sex", "passed" if passing else "failed",
                 f"equal opportunity difference {eo:.4g} {'<=' if passing else '>'} max 0.15 across 2 groups of sex",
                 eo, 0.15, sex),
        _finding("equalized-odds-race", "waived",
                 f"equalized odds difference {eodds:.4g} > max 0.25 across 5 groups of race (waived by Head of Risk "
                 "until 2025-12-31: Small groups; remediation plan FAIR-12)", eodds, 0.25, race, waiver=waiver),
        _finding("demographic-parity-sex", "warning",
                 f"demographic parity difference {dp:.4g} > max 0.1 across 2 groups of sex", dp, 0.1, sex),
    ]


OPTIMIZE_EVIDENCE = {
    "parent": {"size_bytes": 61440, "latency_ms": 0.91, "accuracy": 0.8312,
               "group_gaps": {"sex.equal_opportunity_difference": 0.0712, "sex.demographic_parity_difference": 0.1932}},
    "variants": [
        {"mode": "int8", "sha256": VARIANT_ARTIFACTS["int8"]["sha256"], "size_bytes": 17408, "latency_ms": 0.35,
         "accuracy": 0.8301, "group_gaps": {"sex.equal_opportunity_difference": 0.0752,
                                            "sex.demographic_parity_difference": 0.1901}, "deployed": True},
        {"mode": "dynamic_range", "sha256": VARIANT_ARTIFACTS["dynamic_range"]["sha256"], "size_bytes": 18944,
         "latency_ms": 0.41, "accuracy": 0.8188, "group_gaps": {"sex.equal_opportunity_difference": 0.0804,
                                                                "sex.demographic_parity_difference": 0.1887},
         "deployed": False},
    ],
}


# The third variant of a heavy run (not in the golden fixture).
FLOAT16 = {"mode": "float16", "sha256": _h("f16.tflite"), "size_bytes": 31744, "latency_ms": 0.62, "accuracy": 0.8311,
           "group_gaps": {"sex.equal_opportunity_difference": 0.0713, "sex.demographic_parity_difference": 0.1931},
           "deployed": False}


def optimize_findings(mode: str) -> list[dict[str, Any]]:
    v = next(x for x in OPTIMIZE_EVIDENCE["variants"] + [FLOAT16] if x["mode"] == mode)
    drop = round(OPTIMIZE_EVIDENCE["parent"]["accuracy"] - v["accuracy"], 4)
    ratio = v["size_bytes"] / OPTIMIZE_EVIDENCE["parent"]["size_bytes"]
    ok = drop <= 0.01
    return [
        _finding("edge-accuracy-drop", "passed" if ok else "failed",
                 f"accuracy 0.8312 -> {v['accuracy']:.4f} (drop {drop:+.4f}, max 0.01)", drop, 0.01,
                 {"parent_accuracy": 0.8312, "variant_accuracy": v["accuracy"], "rows": 16281}, subject=mode),
        _finding("edge-size", "passed", f"size ratio {ratio:.3f} <= max 0.5", ratio, 0.5,
                 {"size_bytes": {"variant": v["size_bytes"], "parent": 61440}, "ratio": ratio}, subject=mode),
    ]


def deploy_findings() -> list[dict[str, Any]]:
    return [
        _finding("human-approval", "passed", "1 approval by risk-officer (dana) >= 1", 1, 1,
                 {"approvals": [{"role": "risk-officer", "actor": "dana", "decision": "approve"}]}),
        _finding("model-card", "passed", "owner, intended_use, limitations present", 3, 3),
        _finding("custom-clause", "passed", "dataset and model hashes recorded", True, True),
    ]


def summary(run_id: str, decision: str) -> dict[str, Any]:
    """A compact ``--json`` summary, as ``run.finished`` carries it."""
    return {"run_id": run_id, "decision": decision, "privacy": PRIVACY,
            "variants": OPTIMIZE_EVIDENCE["variants"] if decision == "passed" else [],
            "deployed": {"name": "adult-income", "version": "3"} if decision == "passed" else None}
