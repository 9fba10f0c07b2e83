"""Find the baseline a ``relative_to`` rule compares with, and load its recorded predictions.

``relative_to: champion`` is the latest registered version of the same model name whose gates
all passed (its signed manifest's ``decision_summary``); ``relative_to: {version: N}`` is that
version. Either way the entry's manifest must verify (signature and file hashes, as before
serving) and its ``reference_predictions.parquet``, the predictions gated when it was registered,
become the :class:`~governance.baseline.Baseline`. Only the references the gate's rules use are
looked up, so gates without such rules never touch the registry.

A champion that does not exist yet, or an entry registered without recorded predictions, is a
missing baseline (the rule's ``on_missing_baseline`` decides). A version that does not exist, or
an entry whose manifest does not verify, is a :class:`~governance.errors.UserError`: one line
naming the rule.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from governance.baseline import CHAMPION, Baseline, reference_key, rule_references
from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from lifecycle.deploy import find_entry, versions
from lifecycle.serve import load_verified
from lifecycle.spec import name_problem

ROLE = "reference_predictions"
PASSED = "passed"


def with_baselines(evidence: Evidence, rules: Iterable[Any], registry: Path, name: str, keys: Path) -> Evidence:
    """``evidence`` with a ``baselines`` piece for the references ``rules`` use (unchanged if none).

    Parameters
    ----------
    rules : the rules the gate evaluates
    registry : the model registry; ``name`` the model name the baselines are registered under
    keys : the workspace's key directory (manifests must verify against its trusted keys)
    """
    references = rule_references(rules)
    if not references or "baselines" in evidence:
        return evidence
    from governance.trail.signing import KeyRing

    first_rule = next(iter(references.values()))[0]
    problem = name_problem(name)
    if problem:
        raise UserError(f"rule '{first_rule}': relative_to: the model name to compare under {problem}")
    trusted = KeyRing(keys).trusted()
    found = {key: find_baseline(registry, name, relative_to, trusted, rule_id)
             for key, (rule_id, relative_to) in references.items()}
    return evidence.with_(baselines=found)


def pipeline_baselines(run: Any, rules: Iterable[Any], evidence: Evidence) -> Evidence:
    """:func:`with_baselines` for a ``rai run`` gate: the spec's registry and ``deploy.model_name``."""
    deploy = run.spec.deploy
    registry = Path(deploy.registry) if deploy.registry else run.ws.registry
    return with_baselines(evidence, rules, registry, deploy.model_name, run.ws.keys)


def find_baseline(registry: Path, name: str, relative_to: Any, trusted: dict[str, bytes],
                  rule_id: str = "?") -> Baseline:
    """The baseline of ``relative_to`` (``champion`` or a version) among ``name``'s registered versions."""
    key = reference_key(relative_to)
    where = f"rule '{rule_id}': relative_to {key}"
    if key == CHAMPION:
        version = champion_version(registry, name)
        if version is None:
            return Baseline(key, name, missing=f"no registered version of '{name}' has passed its gates yet")
    else:
        version = int(key.split()[-1])
        try:
            find_entry(registry, name, version)
        except UserError as err:
            raise UserError(f"{where}: {err}") from None
    try:
        verified = load_verified(registry, name, version, trusted, roles=(ROLE,))
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    if ROLE not in verified.files:
        return Baseline(key, name, version, missing=f"{name} v{version} was registered without recorded predictions")
    return Baseline(key, name, version, _predictions(verified.files[ROLE], f"{where}: {name} v{version}"))


def champion_version(registry: Path, name: str) -> int | None:
    """The latest registered version of ``name`` whose recorded gates all passed, or ``None``."""
    for version in reversed(versions(registry / name)):
        body = find_entry(registry, name, version).body
        stages = (body.get("decision_summary") or {}).get("stages") or {}
        if stages and all(status == PASSED for status in stages.values()):
            return version
    return None


def _predictions(data: bytes, where: str) -> Predictions:
    """The recorded predictions of a registry entry (``lifecycle.artifacts.predictions_frame`` layout)."""
    import numpy as np
    import pandas as pd

    try:
        frame = pd.read_parquet(io.BytesIO(data))
        score = frame["y_score"].to_numpy(dtype=float)
        return Predictions(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(),
                           frame.drop(columns=["y_true", "y_pred", "y_score"]),
                           y_score=None if np.isnan(score).all() else score)
    except (KeyError, ValueError, OSError, UserError) as err:
        raise UserError(f"{where}: recorded predictions are unreadable: {err}") from None
