"""Find the baseline a ``relative_to`` rule compares with: its recorded predictions, or its model re-scored.

``relative_to: champion`` is the latest registered version of the same model name whose gates
all passed (its signed manifest's ``decision_summary``) and that has not been revoked;
``relative_to: {version: N}`` is that version. Either way the entry's manifest must verify
(signature and file hashes, as before serving), and the files read are the bytes verified:

* ``reference_predictions.parquet``, the predictions gated when it was registered, of any task
  (:func:`lifecycle.artifacts.read_predictions`);
* for rules with ``rescore: true``, the model files: the model is scored on the rows of the
  gate's ``predictions`` (their features, which the run hands over) with the registry's own
  scorer (:func:`lifecycle.serve.make_scorer`), and its outputs become predictions the way a
  LiteRT variant's do (:func:`lifecycle.outputs.variant_predictions`): same labels, groups and
  classes as the current model's.

Only the references the gate's rules use are looked up, so gates without such rules never touch
the registry. A champion that does not exist yet, or an entry registered without recorded
predictions, is a missing baseline (the rule's ``on_missing_baseline`` decides); a model that
cannot be re-scored on the rows (other features, task or classes, or no rows given) is recorded
with the reason, and the rule's finding is an ``error``. A version that does not exist, or an
entry whose manifest does not verify, is a :class:`~governance.errors.UserError`: one line
naming the rule and where the policy file defines it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from governance.baseline import CHAMPION, Baseline, Reference, reference_key, rule_references
from governance.errors import UserError
from governance.evidence import Evidence, task_of
from lifecycle.deploy import find_entry, versions
from lifecycle.serve import MODEL_ROLES, VerifiedEntry, load_verified
from lifecycle.spec import name_problem

ROLE = "reference_predictions"
PASSED = "passed"
NO_ROWS = ("the gate was given no feature rows to score (rai run hands its evaluate and optimize gates the "
           "test rows; gates of API runs have predictions only)")


def with_baselines(evidence: Evidence, rules: Iterable[Any], registry: Path, name: str, keys: Path,
                   rows: Any = None) -> Evidence:
    """``evidence`` with a ``baselines`` piece for the references ``rules`` use (unchanged if none).

    Parameters
    ----------
    rules : the rules the gate evaluates
    registry : the model registry; ``name`` the model name the baselines are registered under
    keys : the workspace's key directory (manifests must verify against its trusted keys)
    rows : the raw feature rows the gate's ``predictions`` are of (a ``DataFrame``), which
        ``rescore: true`` rules score the baseline model on; ``None`` where the run has none
    """
    references = rule_references(rules)
    if not references or "baselines" in evidence:
        return evidence
    from governance.trail.signing import KeyRing

    check_references(references, registry, name)
    trusted = KeyRing(keys).trusted()
    current = evidence.get("predictions")
    found = {key: find_baseline(registry, name, reference, trusted, (current, rows) if reference.rescore else None)
             for key, reference in references.items()}
    return evidence.with_(baselines=found)


def check_references(references: dict[str, Reference], registry: Path, name: str) -> None:
    """Refuse (UserError) a model name that cannot be one, or a ``{version: N}`` that is not registered.

    Cheap (no manifest is verified), so a run can call it before it trains anything.
    """
    problem = name_problem(name)
    if problem:
        first = next(iter(references.values()))
        raise UserError(f"{first.where}: relative_to: the model name to compare under {problem}")
    for key, reference in references.items():
        if key != CHAMPION:
            try:
                find_entry(registry, name, int(key.split()[-1]))
            except UserError as err:
                raise UserError(f"{reference.where}: relative_to {key}: {err}") from None


def policy_references(rules: Iterable[Any], registry: Path, name: str | None) -> None:
    """:func:`check_references` for a run's policy before it starts (nothing if no rule compares)."""
    references = rule_references(rules)
    if references:
        check_references(references, registry, name or "")


def find_baseline(registry: Path, name: str, reference: Reference, trusted: dict[str, bytes],
                  rescore_on: tuple[Any, Any] | None = None) -> Baseline:
    """The baseline ``reference`` names among ``name``'s registered versions.

    ``rescore_on`` is ``(current predictions, their feature rows)`` when a rule re-scores it.
    """
    key = reference_key(reference.relative_to)
    where = f"{reference.where}: relative_to {key}"
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
    roles = (ROLE, *MODEL_ROLES) if rescore_on is not None else (ROLE,)
    try:
        verified = load_verified(registry, name, version, trusted, roles=roles)
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    body = verified.entry.body
    found = Baseline(key, name, version, model_sha256=body.get("model_sha256"))
    if ROLE in verified.files:
        task = (body.get("schema") or {}).get("task")
        found = replace(found, predictions=_recorded(verified.files[ROLE], task, f"{where}: {found.label}"))
    else:
        found = replace(found, missing=f"{found.label} was registered without recorded predictions")
    if rescore_on is None:
        return found
    rescored, problem = rescore(verified, *rescore_on)
    return replace(found, rescored=rescored, rescore_problem=problem)


def champion_version(registry: Path, name: str) -> int | None:
    """The latest registered, unrevoked version of ``name`` whose recorded gates all passed, or ``None``."""
    from governance.trail.revocations import read_mark

    for version in reversed(versions(registry / name)):
        entry = find_entry(registry, name, version)
        stages = (entry.body.get("decision_summary") or {}).get("stages") or {}
        if stages and all(status == PASSED for status in stages.values()) and read_mark(entry.dir) is None:
            return version
    return None


def rescore(verified: VerifiedEntry, current: Any, rows: Any) -> tuple[Any, str | None]:
    """``(predictions, None)`` of the verified model on ``rows``, labelled as ``current``; or ``(None, why not)``."""
    import numpy as np

    from lifecycle.outputs import variant_predictions
    from lifecycle.serve import make_scorer

    if current is None:
        return None, "the gate has no predictions whose rows could be scored"
    if rows is None:
        return None, NO_ROWS
    body = verified.entry.body
    problem = _unfit(body.get("schema") or {}, current, rows)
    if problem:
        return None, problem
    schema = body["schema"]
    features = [*schema["numeric"], *schema["categorical"]]
    try:
        output = make_scorer(body["format"], verified.files)(rows[features])
        # A LiteRT multiclass core's outputs come flat: one row per example again.
        output = np.asarray(output, dtype=float).reshape(len(rows), -1)
        return variant_predictions(output, current, f"{verified.entry.name} v{verified.entry.version}"), None
    except Exception as err:  # whatever stops the scoring is the rule's error finding, recorded, never a pass
        return None, f"scoring failed: {type(err).__name__}: {err}"


def _unfit(schema: dict[str, Any], current: Any, rows: Any) -> str | None:
    """Why the model of ``schema`` cannot score ``rows`` as ``current``'s rows, or ``None``."""
    features = [*(schema.get("numeric") or []), *(schema.get("categorical") or [])]
    if not features:
        return "its manifest names no feature columns (a model registered by an API run takes arrays)"
    absent = [c for c in features if c not in rows.columns]
    if absent:
        return f"the rows lack its feature column(s) {', '.join(map(repr, absent[:5]))}"
    task, ours = schema.get("task", "binary"), task_of(current)
    if task != ours:
        return f"it is a {task} model, the current predictions are {ours}"
    if task == "multiclass" and [str(c) for c in schema.get("classes") or []] != [str(c) for c in current.classes]:
        return (f"its classes ({', '.join(map(str, schema.get('classes') or []))}) are not the current model's "
                f"({', '.join(map(str, current.classes))})")
    if len(rows) != len(current.y_true):
        return f"{len(rows)} feature rows were given for {len(current.y_true)} predictions"
    return None


def _recorded(data: bytes, task: str | None, where: str) -> Any:
    """The recorded predictions of a registry entry, of the task its manifest names (if it does)."""
    from lifecycle.artifacts import read_predictions

    try:
        return read_predictions(data, task)
    except (KeyError, ValueError, OSError, UserError) as err:
        raise UserError(f"{where}: recorded predictions are unreadable: {err}") from None
