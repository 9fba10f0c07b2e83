"""rai's signed registry entries in MLflow's Model Registry, and back.

Registering (``deploy.target: mlflow``): the run's registry entry (the model, for LiteRT also the
Keras model whose preprocessing feeds it, the reference data, the model card and the signed
``manifest.json``) is logged as the ``model/`` artifact directory of the run's MLflow run and
registered as a new version of the model's name, tagged with the rai run id, the policy hash,
the decision, epsilon and the manifest's SHA-256. The local entry is verified first, and must be
the one the trail recorded.

Importing (``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``): :func:`pull` downloads a version's
files, verifies the signed manifest against the workspace's trusted keys and every file's hash,
and lays them out as a rai registry (``DIR/NAME/VERSION``, rai's own name and version), which
``rai monitor --registry DIR`` and ``rai serve --registry DIR`` read. :func:`champion` is the
verified champion of a model, the baseline a policy can compare a candidate with.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.fsutil import file_sha256
from governance.manifest import MANIFEST, verify_manifest
from governance.trail.signing import KeyRing

ARTIFACT_PATH = "model"
CHAMPION = "champion"
_MODELS_URI = re.compile(r"models:/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:@(?P<alias>[A-Za-z0-9_-]{1,255})"
                         r"|/(?P<version>[1-9][0-9]{0,8}))")


@dataclass(frozen=True)
class DeployedEntry:
    """A run's verified local registry entry, as the trail recorded it."""

    dir: Path
    name: str
    version: int
    body: dict[str, Any]
    manifest_sha256: str
    decision: str


def deployed_entry(trail: Any, ws: Any, events: list[Any]) -> DeployedEntry | None:
    """The run's last registered entry, verified (None when the run registered nothing).

    Raises
    ------
    UserError
        The entry no longer verifies (signature, a file's hash) or its manifest is not the one
        the trail recorded: nothing is registered in MLflow.
    """
    registered = [e.payload for e in events if e.kind == "model.registered"]
    if not registered:
        return None
    record = registered[-1]
    manifest = Path(str(record.get("manifest_path")))
    where = f"{record.get('name')} v{record.get('version')}"
    check = verify_manifest(manifest.parent, KeyRing(ws.keys).trusted())
    if not check.ok:
        raise UserError(f"{manifest.parent}: not registering {where} in MLflow: {check.problems[0]}")
    digest = file_sha256(manifest)
    if digest != record.get("manifest_sha256"):
        raise UserError(f"{manifest}: not registering {where} in MLflow: the manifest is not the one the trail "
                        "recorded (replaced after registration)")
    finished = [e.payload for e in events if e.kind == "run.finished"]
    return DeployedEntry(manifest.parent, str(record["name"]), int(record["version"]), check.body or {}, digest,
                         str(finished[-1].get("decision")) if finished else "unknown")


def version_tags(entry: DeployedEntry, rai_run_id: str) -> dict[str, str]:
    """Tags of the MLflow model version: who vouches for it and under which policy."""
    body = entry.body
    epsilon = body.get("epsilon")
    return {"rai.run_id": rai_run_id, "rai.registry_name": entry.name, "rai.registry_version": str(entry.version),
            "rai.model_sha256": str(body.get("model_sha256")), "rai.manifest_sha256": entry.manifest_sha256,
            "rai.policy.name": str((body.get("policy") or {}).get("name")),
            "rai.policy.sha256": str(body.get("policy_sha256")), "rai.decision": entry.decision,
            "rai.epsilon": "none" if epsilon is None else str(epsilon), "rai.variant": str(body.get("variant")),
            "rai.format": str(body.get("format"))}


def register_entry(mlflow: Any, mlflow_run_id: str, entry: DeployedEntry) -> dict[str, Any]:
    """Log ``entry`` under ``model/`` of the MLflow run and register it (once) as a model version."""
    rai_run_id = str(entry.body.get("run_id"))
    mlflow.log_artifacts(mlflow_run_id, str(entry.dir), ARTIFACT_PATH)
    if not mlflow.search_registered_models(filter_string=f"name = '{entry.name}'"):
        mlflow.create_registered_model(entry.name, tags={"rai.managed": "true"},
                                       description="Versions registered by rai with a signed manifest (model/manifest.json).")
    version = next((v for v in mlflow.search_model_versions(f"name = '{entry.name}'")
                    if v.run_id == mlflow_run_id and (v.tags or {}).get("rai.manifest_sha256") == entry.manifest_sha256),
                   None)
    if version is None:  # a retry after a partial attempt finds the version it already created
        source = f"{mlflow.get_run(mlflow_run_id).info.artifact_uri}/{ARTIFACT_PATH}"
        version = mlflow.create_model_version(
            entry.name, source, run_id=mlflow_run_id, tags=version_tags(entry, rai_run_id), await_creation_for=0,
            description=f"rai run {rai_run_id}, registry entry {entry.name} v{entry.version}, signed manifest in "
                        f"{ARTIFACT_PATH}/{MANIFEST}")
    return {"name": entry.name, "version": int(version.version), "source": version.source,
            "mlflow_run_id": mlflow_run_id, "registry_name": entry.name, "registry_version": entry.version,
            "manifest_sha256": entry.manifest_sha256, "model_sha256": entry.body.get("model_sha256")}


def parse_models_uri(uri: Any) -> tuple[str, str | None, int | None]:
    """``models:/NAME@ALIAS`` -> (name, alias, None); ``models:/NAME/VERSION`` -> (name, None, version)."""
    match = _MODELS_URI.fullmatch(uri) if isinstance(uri, str) else None
    if match is None:
        raise UserError(f"{uri!r}: expected models:/NAME@ALIAS (e.g. models:/credit@champion) or models:/NAME/VERSION")
    version = match["version"]
    return match["name"], match["alias"], int(version) if version else None


def resolve_version(mlflow: Any, name: str, alias: str | None, version: int | None) -> Any:
    """The MLflow model version an alias or number names; UserError when there is none."""
    from lifecycle.mlflow_client import not_found

    try:
        if alias is not None:
            return mlflow.get_model_version_by_alias(name, alias)
        return mlflow.get_model_version(name, str(version))
    except Exception as err:
        if not_found(err):
            what = f"alias '{alias}'" if alias else f"version {version}"
            raise UserError(f"models:/{name}: MLflow has no {what} of model '{name}'") from None
        raise


def download_version(mlflow: Any, model_version: Any, into: Path) -> Path:
    """Download a model version's files into ``into``; return the directory holding ``manifest.json``."""
    from mlflow.artifacts import download_artifacts

    source = str(model_version.source or "")
    if not source or source.startswith("models:/"):
        raise UserError(f"{model_version.name} v{model_version.version}: its source {source!r} is not a rai "
                        "registry entry (registered outside rai)")
    local = Path(download_artifacts(artifact_uri=source, dst_path=str(into), tracking_uri=mlflow.tracking_uri))
    return local if (local / MANIFEST).is_file() else local / ARTIFACT_PATH


@dataclass(frozen=True)
class Pulled:
    """A model version downloaded and verified: its rai registry entry and where it came from."""

    entry: Any  # lifecycle.deploy.RegistryEntry
    mlflow_name: str
    mlflow_version: int
    rai_run_id: str | None


def pull(tracking: Any, models_uri: str, into: str | Path, ws: Any) -> Pulled:
    """Download ``models:/NAME@ALIAS`` (or ``/VERSION``) into the registry directory ``into``, verified.

    Raises
    ------
    UserError
        A bad URI, an unknown model, alias or version, MLflow unreachable, or files whose signed
        manifest does not verify against the workspace's trusted keys (nothing is kept then).
    """
    from lifecycle.deploy import RegistryEntry
    from lifecycle.mlflow_client import MlflowUnavailable, client, with_retries
    from lifecycle.spec import name_problem

    name, alias, number = parse_models_uri(models_uri)
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pull-", dir=into))
    try:
        def fetch() -> tuple[Any, Path]:
            mlflow = client(tracking.uri)
            found = resolve_version(mlflow, name, alias, number)
            return found, download_version(mlflow, found, staging)

        try:
            found, local = with_retries(tracking.uri, fetch, attempts=tracking.spec.attempts,
                                        timeout_s=tracking.spec.timeout_s)
        except MlflowUnavailable as err:
            raise UserError(str(err)) from None
        check = verify_manifest(local, KeyRing(ws.keys).trusted())
        if not check.ok:
            raise UserError(f"{models_uri} (v{found.version}): refusing the download: {check.problems[0]}")
        body = check.body or {}
        if name_problem(body.get("name")) or type(body.get("version")) is not int or body["version"] < 1:
            raise UserError(f"{models_uri} (v{found.version}): the signed manifest names no valid model and version")
        target = into / body["name"] / str(body["version"])
        if target.exists():
            shutil.rmtree(target)  # an earlier pull of the same signed entry, or a damaged one: replace it
        target.parent.mkdir(parents=True, exist_ok=True)
        local.rename(target)
        entry = RegistryEntry(body["name"], body["version"], target, body)
        return Pulled(entry, name, int(found.version), body.get("run_id"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def champion(tracking: Any, name: str, ws: Any, *, alias: str = CHAMPION, into: str | Path | None = None) -> Pulled:
    """The verified champion of model ``name`` (the version its ``alias`` names), downloaded.

    The baseline for rules that compare a candidate with the model in production: its signed
    manifest carries the champion's ``metrics``, ``group_gaps``, ``epsilon`` and ``policy_sha256``,
    and its ``reference_predictions.parquet`` the predictions gated when it was registered. The
    entry is placed in the registry directory ``into`` (default ``WORKSPACE/mlflow-registry``) as
    ``INTO/NAME/VERSION``, rai's signed name and version, so registry readers (the baseline
    lookup, ``rai monitor``, ``rai serve``) take ``into`` as their registry.
    """
    return pull(tracking, f"models:/{name}@{alias}", into or Path(ws.root) / "mlflow-registry", ws)
