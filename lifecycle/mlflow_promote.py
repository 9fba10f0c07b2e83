"""Governed promotion in MLflow's Model Registry, and checking the registry against the trail.

A version of an MLflow model is *governed* when all of these hold:

1. it carries a ``rai.run_id`` tag naming a run in this workspace's trail;
2. that run's last decision is ``passed``;
3. the trail records rai registering exactly this version (``mlflow.model_registered``);
4. its files, downloaded from MLflow, verify against their signed manifest (a key the workspace
   trusts, every file's SHA-256), and that manifest is the one rai registered.

:func:`promote` moves an alias (``champion`` by default) to a version only when it is governed
*and* its approvals still hold: the policy's ``accountability.approvals`` rules for ``deploy``,
re-evaluated on the approvals recorded now, any roles asked for at promotion, and no recorded
rejection of the run. It then records ``model.promoted``. :func:`verify_registry` reports every
version that is not governed and every alias that rai did not put where it is.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.fsutil import file_sha256
from governance.manifest import MANIFEST, verify_manifest
from governance.trail.approvals import approvals_for
from governance.trail.signing import KeyRing
from lifecycle.mlflow_registry import CHAMPION, download_version, resolve_version

APPROVAL_CHECK = "accountability.approvals"
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,254}")


class PromotionRefused(Exception):
    """A version that is not governed or not approved; the CLI prints one line and exits 1."""

    exit_code = 1

    def __init__(self, name: str, version: int, alias: str, problems: list[str]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        super().__init__(f"refusing to promote {name} v{version} to '{alias}': {problems[0]}{more}")


@dataclass
class VersionCheck:
    """Whether one MLflow model version is governed; ``problems`` say why not."""

    name: str
    version: int
    run_id: str | None
    problems: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    body: dict[str, Any] | None = None
    manifest_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "run_id": self.run_id, "aliases": self.aliases,
                "ok": self.ok, "problems": self.problems}


def check_version(mlflow: Any, model_version: Any, trail: Any, ws: Any, scratch: Path) -> VersionCheck:
    """Check one MLflow model version against the trail and its signed manifest (see the module doc)."""
    check = VersionCheck(model_version.name, int(model_version.version), (model_version.tags or {}).get("rai.run_id"))
    if not check.run_id:
        check.problems.append("not registered by rai (no rai.run_id tag)")
        return check
    events = trail.events(run_id=check.run_id, checked=True)
    if not any(e.kind == "run.started" for e in events):
        check.problems.append(f"its rai run {check.run_id} is not in this workspace's trail")
        return check
    finished = [e.payload for e in events if e.kind == "run.finished"]
    outcome = finished[-1] if finished else {"decision": "unfinished"}
    if outcome.get("decision") != "passed":
        where = f" at {outcome['blocked_at']}" if outcome.get("blocked_at") else ""
        why = f" ({outcome['reasons'][0]})" if outcome.get("reasons") else ""
        check.problems.append(f"its rai run {check.run_id} finished '{outcome.get('decision')}'{where}{why}")
    recorded = next((e.payload for e in reversed(events) if e.kind == "mlflow.model_registered"
                     and e.payload.get("name") == check.name and e.payload.get("version") == check.version), None)
    if recorded is None:
        check.problems.append("the trail records no rai registration of this version (registered outside rai)")
    try:
        local = download_version(mlflow, model_version, Path(tempfile.mkdtemp(dir=scratch)))
    except UserError as err:
        check.problems.append(str(err))
        return check
    signed = verify_manifest(local, KeyRing(ws.keys).trusted())
    check.body = signed.body
    check.problems += [f"files in MLflow: {problem}" for problem in signed.problems]
    if signed.body is not None and signed.body.get("run_id") != check.run_id:
        check.problems.append(f"the signed manifest is of run {signed.body.get('run_id')}, not {check.run_id}")
    check.manifest_sha256 = file_sha256(local / MANIFEST) if (local / MANIFEST).is_file() else None
    if recorded and check.manifest_sha256 != recorded.get("manifest_sha256"):
        check.problems.append("manifest.json in MLflow is not the one rai registered")
    return check


def approval_problems(trail: Any, run_id: str, require_roles: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Why the run's approvals do not hold now: the policy's deploy approval rules, extra roles, rejections."""
    from governance.engine import evaluate
    from governance.evidence import Evidence
    from governance.policy.accountability import bind_recorded_roles
    from governance.policy.schema import Policy, Rule

    started = next(e for e in trail.events(run_id=run_id, kind="run.started", checked=True))
    approvals = approvals_for(trail, run_id)
    problems = [f"run {run_id} was rejected by {a['role']} ({a['actor']}, {a['time']})"
                for a in approvals if a.get("decision") == "reject"]
    recorded = {k: v for k, v in (started.payload.get("policy") or {}).items() if k not in ("name", "sha256", "source")}
    try:
        policy = Policy.model_validate(recorded)
    except Exception as err:  # a policy recorded by an older rai that today's schema refuses
        return problems + [f"the policy recorded for run {run_id} cannot be read back: {str(err).splitlines()[0]}"]
    rules = [r for r in policy.rules_for("deploy") if r.check == APPROVAL_CHECK]
    if require_roles:
        rules.append(Rule(id="promotion-sign-off", check=APPROVAL_CHECK, stage="deploy", severity="critical",
                          params={"roles": list(dict.fromkeys(require_roles))}))
    if rules:
        bind_recorded_roles(policy, rules)  # the recorded policy's roles count at promotion too
        result = evaluate(policy, "deploy", Evidence(approvals=approvals), rules=rules)
        problems += [f"{f.rule_id}: {f.message}" for f in result.blocking]
    return problems


def promote(tracking: Any, name: str, version: int, ws: Any, *, alias: str = CHAMPION,
            require_roles: list[str] | tuple[str, ...] = (), actor: str | None = None) -> dict[str, Any]:
    """Move ``alias`` of MLflow model ``name`` to ``version`` if it is governed and approved; record it.

    Raises
    ------
    PromotionRefused
        The version is not governed (see :func:`check_version`) or its approvals do not hold.
    UserError
        A bad name, version or alias, an unknown model or version, MLflow unreachable.
    """
    from governance.trail import open_trail

    check_name(name)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise UserError(f"version {version!r}: expected a whole number from 1")
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise UserError(f"alias {alias!r}: expected a letter, then letters, digits, '_' or '-'")
    with open_trail(ws, create=False) as trail, tempfile.TemporaryDirectory(prefix="rai-promote-") as scratch:
        def inspect() -> tuple[Any, int | None, VersionCheck]:
            mlflow = _client(tracking)
            found = resolve_version(mlflow, name, None, version)
            return found, alias_version(mlflow, name, alias), check_version(mlflow, found, trail, ws, Path(scratch))

        found, previous, check = reach(tracking, inspect)
        problems = list(check.problems)
        if check.run_id and trail.count(run_id=check.run_id, kind="run.started"):
            problems += approval_problems(trail, check.run_id, require_roles)
        if problems:
            raise PromotionRefused(name, version, alias, problems)
        reach(tracking, lambda: _client(tracking).set_registered_model_alias(name, alias, str(version)))
        body = check.body or {}
        payload = {"name": name, "version": version, "alias": alias, "previous_version": previous,
                   "tracking_uri": tracking.uri, "mlflow_run_id": found.run_id,
                   "registry_version": body.get("version"), "manifest_sha256": check.manifest_sha256,
                   "required_roles": list(require_roles), "approvals": approvals_for(trail, check.run_id)}
        try:
            event = trail.append("model.promoted", run_id=check.run_id, actor=actor, payload=payload,
                                 subjects={"model": body.get("model_sha256")})
        except BaseException:  # not recorded, so not promoted: put the alias back
            reach(tracking, lambda: _restore_alias(_client(tracking), name, alias, previous))
            raise
    return {**payload, "seq": event.seq, "run_id": check.run_id}


def verify_registry(tracking: Any, ws: Any, names: list[str] | tuple[str, ...] = ()) -> list[VersionCheck]:
    """Check every version of the models rai registered (or of ``names``) and where their aliases point."""
    from governance.trail import open_trail

    for name in names:
        check_name(name)
    with open_trail(ws, create=False) as trail, tempfile.TemporaryDirectory(prefix="rai-verify-") as scratch:
        promoted = promotions(trail)

        def inspect() -> list[VersionCheck]:
            mlflow = _client(tracking)
            checks = []
            for model in _models(mlflow, names):
                aliases = dict(model.aliases or {})
                versions = mlflow.search_model_versions(f"name = '{model.name}'")
                for found in sorted(versions, key=lambda v: int(v.version)):
                    check = check_version(mlflow, found, trail, ws, Path(scratch))
                    check.aliases = sorted(a for a, v in aliases.items() if str(v) == str(found.version))
                    for alias in check.aliases:
                        check.problems += alias_problems(promoted, model.name, alias, check.version)
                    checks.append(check)
            return checks

        return reach(tracking, inspect)


def check_name(name: object) -> None:
    """A model name rai registers: a file name, never a path."""
    from lifecycle.spec import name_problem

    problem = name_problem(name)
    if problem:
        raise UserError(f"model name {problem}")


def alias_problems(promoted: dict[tuple[str, str], int], name: str, alias: str, version: int) -> list[str]:
    """Why ``alias`` on ``version`` is not where ``rai promote`` last put it."""
    moved = promoted.get((name, alias))
    if moved is None:
        return [f"alias '{alias}' was set outside rai promote (the trail records no promotion of {name} to it)"]
    if moved != version:
        return [f"alias '{alias}' points here, but rai promote last moved it to v{moved}"]
    return []


def promotions(trail: Any) -> dict[tuple[str, str], int]:
    """``(model, alias) -> version`` of the last ``model.promoted`` event of each."""
    out: dict[tuple[str, str], int] = {}
    for event in trail.iter_events(kind="model.promoted"):
        out[(event.payload.get("name"), event.payload.get("alias"))] = event.payload.get("version")
    return out


def alias_version(mlflow: Any, name: str, alias: str) -> int | None:
    """The version ``alias`` names now, or None."""
    from lifecycle.mlflow_client import not_found

    try:
        return int(mlflow.get_model_version_by_alias(name, alias).version)
    except Exception as err:
        if not_found(err):
            return None
        raise


def _restore_alias(mlflow: Any, name: str, alias: str, previous: int | None) -> None:
    if previous is None:
        mlflow.delete_registered_model_alias(name, alias)
    else:
        mlflow.set_registered_model_alias(name, alias, str(previous))


def _models(mlflow: Any, names: list[str] | tuple[str, ...]) -> list[Any]:
    from lifecycle.mlflow_client import not_found

    models = []
    for name in names:
        try:
            models.append(mlflow.get_registered_model(name))
        except Exception as err:
            if not_found(err):
                raise UserError(f"MLflow has no registered model '{name}'") from None
            raise
    if names:
        return models
    return [m for m in mlflow.search_registered_models() if (m.tags or {}).get("rai.managed") == "true"]


def _client(tracking: Any) -> Any:
    from lifecycle.mlflow_client import client

    return client(tracking.uri)


def reach(tracking: Any, action: Any) -> Any:
    """Run ``action`` against MLflow with bounded retries; MLflow unreachable is one UserError line."""
    from lifecycle.mlflow_client import MlflowUnavailable, with_retries

    try:
        return with_retries(tracking.uri, action, attempts=tracking.spec.attempts, timeout_s=tracking.spec.timeout_s)
    except MlflowUnavailable as err:
        raise UserError(str(err)) from None
