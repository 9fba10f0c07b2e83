"""The model steps of a governed run: LiteRT variants, datasets in the lineage, the registry.

:class:`ModelSteps` is the part of :class:`lifecycle.session.Run` that handles the user's own
Keras model (:mod:`lifecycle.own_model` does the conversion and scoring). TensorFlow is
imported only when :meth:`ModelSteps.optimize` or :meth:`ModelSteps.register` runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from governance.errors import GateBlocked, UserError
from governance.evidence import Evidence
from governance.findings import jsonable
from governance.vocabulary import closest
from lifecycle.measure import fairness_reports, group_gaps, performance

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class ModelSteps:
    """Optimize, register and lineage methods of :class:`lifecycle.session.Run`."""

    def add_dataset(self, name: str, data: Any) -> str:
        """Put a dataset's content hash in the run's lineage (a file path, or a table) and return it.

        Files are hashed byte for byte; tables (pandas, pyarrow, numpy) by their values, so the
        same rows give the same hash wherever they were loaded from.
        """
        from governance.evidence_input import as_frame
        from governance.io import file_sha256

        self._require_open()
        if not isinstance(name, str) or not name.strip():
            raise UserError(f"add_dataset: name must be a non-empty string, got {name!r}")
        if isinstance(data, (str, Path)):
            if not Path(data).is_file():
                raise UserError(f"add_dataset {name}: no such file: {data}")
            digest = file_sha256(data)
        else:
            digest = _frame_sha256(as_frame(data, f"add_dataset {name}", "value"))
        self._lineage.setdefault("datasets", {})[name] = digest
        return digest

    def optimize(self, model: Any, modes: list[str] | tuple[str, ...] = ("dynamic_range",),
                 representative_data: Any = None, evaluation_data: tuple | None = None) -> dict[str, Any]:
        """Convert a Keras model to LiteRT per mode, score each variant and re-audit it.

        Parameters
        ----------
        model : a single-input Keras model whose output is the positive-class probability
        modes : LiteRT modes: ``float32``, ``dynamic_range``, ``float16``, ``int8``
        representative_data : model inputs for int8 calibration (default: the first 500
            evaluation rows)
        evaluation_data : ``(x, y_true, sensitive)``: inputs, labels and sensitive features of
            the rows every variant is scored and audited on

        Returns
        -------
        dict
            ``{mode: Variant}``; each variant's gate (the policy's ``optimize`` and ``evaluate``
            rules, against the Keras parent) is recorded and kept as ``variant.result``. A blocked
            variant cannot be registered; the gates are evidence until one is.
        """
        from lifecycle import own_model
        from lifecycle.optimize import MODES

        self._require_open()
        modes = _modes(modes, MODES)
        x, parent = self._evaluation(model, evaluation_data)
        representative = own_model.as_features(x[:500] if representative_data is None else representative_data,
                                               "representative_data")
        built = {mode: own_model.build_variant(model, mode, representative, x, parent, self._artifacts())
                 for mode in dict.fromkeys(["float32", *modes])}
        reference = built["float32"]
        parent_stats = {"size_bytes": reference.size_bytes, "latency_ms": reference.latency_ms}
        self._record_optimize(built, modes, parent, parent_stats)
        rules = self.policy.rules_for("optimize") + self.policy.rules_for("evaluate")
        variants = {}
        for mode in modes:
            variant = built[mode]
            variant.evidence = Evidence(
                predictions=variant.predictions, parent_predictions=parent, parent_stats=parent_stats,
                model_stats={"size_bytes": variant.size_bytes, "latency_ms": variant.latency_ms},
                metadata=dict(self.metadata), lineage={**self._lineage, "model": variant.sha256})
            variant.result = self._evaluate("optimize", variant.evidence, rules=rules, subject=mode, binding=False)
            variants[mode] = variant
        return variants

    def _evaluation(self, model: Any, evaluation_data: Any) -> tuple[Any, Any]:
        from governance.evidence import Predictions
        from lifecycle import own_model

        if not isinstance(evaluation_data, (tuple, list)) or len(evaluation_data) != 3:
            raise UserError("evaluation_data: expected (x, y_true, sensitive), the rows each variant is audited on")
        x = own_model.as_features(evaluation_data[0], "evaluation_data[0]")
        scores = own_model.keras_scores(model, x)
        y_pred = (scores >= own_model.THRESHOLD).astype("int64")
        return x, Predictions(evaluation_data[1], y_pred, evaluation_data[2], y_score=scores)

    def _record_optimize(self, built: dict[str, Any], modes: list[str], parent: Any, parent_stats: dict) -> None:
        rows = [{"mode": m, "sha256": v.sha256, "size_bytes": v.size_bytes, "latency_ms": v.latency_ms,
                 "accuracy": v.accuracy, "group_gaps": group_gaps(v.predictions, list(parent.sensitive.columns))}
                for m, v in built.items() if m in modes]
        features = list(parent.sensitive.columns)
        metrics = {"parent_size_bytes": parent_stats["size_bytes"], "parent_accuracy": performance(parent).get("accuracy")}
        for row in rows:
            metrics[f"{row['mode']}.size_bytes"], metrics[f"{row['mode']}.accuracy"] = row["size_bytes"], row["accuracy"]
        artifacts = {m: {"kind": "litert", "name": m, "sha256": v.sha256, "size_bytes": v.size_bytes,
                         "path": str(v.path)} for m, v in built.items()}
        blob = {"parent": {"name": "keras", **parent_stats, **performance(parent)}, "variants": rows,
                "fairness": {"keras": fairness_reports(parent, features),
                             **{m: fairness_reports(built[m].predictions, features) for m in modes}}}
        self._metrics["optimize"] = jsonable(metrics)
        self._variant_rows = rows
        self._recorder.stage("optimize", "completed", self._metrics["optimize"], artifacts, blob)

    def register(self, model: Any, *, name: str | None = None, registry: str | Path | None = None) -> Any:
        """Register a model (a LiteRT :class:`Variant` from :meth:`optimize`, or a Keras model).

        First the chosen variant's optimize gate is recorded as binding, then the deploy gate runs
        (approvals recorded with ``rai approve``, model-card metadata, privacy); only when both
        pass is a signed registry entry written, as ``rai run`` does.

        Raises
        ------
        GateBlocked
            A gate blocked (waiting only for approvals finishes the run ``awaiting_approval``).
        UserError
            A bad name, a model that is neither a variant nor a Keras model, or a finished run.
        """
        from lifecycle import own_model

        self._require_open()
        name = _model_name(name or self.name)
        if isinstance(model, own_model.Variant):
            if model.result is None or model.evidence is None:
                raise UserError(f"variant {model.mode}: not audited by this run's optimize()")
            rules = self.policy.rules_for("optimize") + self.policy.rules_for("evaluate")
            self._evaluate("optimize", model.evidence, rules=rules, subject=model.mode).raise_if_blocked()
            files, fmt, mode, sha = {"model.tflite": ("model", model.path)}, "litert", model.mode, model.sha256
        elif hasattr(model, "save") and hasattr(model, "predict"):
            path = self._artifacts().path_for("model/model.keras")
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
            artifact = self._artifacts().adopt("model", "model", path)
            files, fmt, mode, sha = {"model.keras": ("model", path)}, "keras", "keras", artifact.sha256
        else:
            raise UserError(f"register: expected a Variant from run.optimize() or a Keras model, got {type(model).__name__}")
        self._lineage["model"] = sha
        result = self.gate("deploy", raise_on_block=False)
        if result.blocked:
            raise GateBlocked(result)
        # The gated predictions go with the entry: the baseline of later relative_to rules.
        reference = model.predictions if isinstance(model, own_model.Variant) else getattr(self, "_evaluated_predictions", None)
        if reference is not None:
            recorded = self._artifacts().put_predictions(f"registered-{mode}", reference)
            files["reference_predictions.parquet"] = ("reference_predictions", recorded.location(self._workspace))
        return self._publish(name, registry, files, fmt, mode, sha)

    def _publish(self, name: str, registry: Any, files: dict, fmt: str, mode: str, sha: str) -> Any:
        from governance.trail import keys
        from governance.trail.signing import KeyRing
        from lifecycle.deploy import register
        from lifecycle.own_model import model_card

        row = next((r for r in getattr(self, "_variant_rows", []) if r["mode"] == mode), {})
        metrics = {"performance": self._metrics.get("evaluate", {}), "group_gaps": row.get("group_gaps", {}),
                   "size_bytes": row.get("size_bytes"), "latency_ms": row.get("latency_ms")}
        card = model_card(self, name, fmt, mode, sha, metrics, 0)
        body = {"run_id": self.run_id, "pipeline": None, "run_name": self.name, "variant": mode, "format": fmt,
                "model_sha256": sha, "policy": card["governance"]["policy"], "policy_sha256": self.policy.sha256,
                "decision_summary": self.decision_counts(), "epsilon": self._privacy.get("epsilon"),
                "privacy": self.privacy_record, "metrics": metrics, "schema": {"input": "array"},
                "lineage": dict(self._lineage), "threshold": 0.5}
        signer = keys.active_signer(self._trail)
        keys.ensure_trusted(self._trail, signer)
        root = Path(registry) if registry else self._workspace.registry
        entry = register(root, name, files, body, card, signer, KeyRing(self._workspace.keys))
        manifest_sha = _sha256(entry.manifest_path)
        self._recorder.event("model.registered", {
            "name": entry.name, "version": entry.version, "model_sha256": sha, "variant": mode,
            "manifest_path": str(entry.manifest_path.resolve()), "manifest_sha256": manifest_sha,
            "registry": str(root.resolve())}, {"model": sha, "manifest": manifest_sha})
        self._recorder.event("model.deployed", {"name": entry.name, "version": entry.version, "target": "registry",
                                                "path": str(entry.dir.resolve())}, {"model": sha})
        self.deployed = {"name": entry.name, "version": entry.version, "manifest": str(entry.manifest_path.resolve()),
                         "variant": mode, "model_sha256": sha}
        return entry

    @property
    def privacy_record(self) -> dict[str, Any]:
        """The DP-SGD record gated in this run (``{"dp": False}`` without DP)."""
        return dict(self._privacy)

    def decision_counts(self) -> dict[str, Any]:
        """Each gated stage's status and the count of findings by status."""
        counts: dict[str, int] = {}
        for entry in self._stages:
            for finding in entry.get("findings") or []:
                counts[finding["status"]] = counts.get(finding["status"], 0) + 1
        return {"stages": {e["stage"]: e["status"] for e in self._stages}, "findings": counts}

    def _artifacts(self) -> Any:
        from lifecycle.artifacts import RunArtifacts

        if not hasattr(self, "_run_artifacts"):
            self._run_artifacts = RunArtifacts(self._workspace, self.run_id)
        return self._run_artifacts


def _modes(modes: Any, allowed: tuple[str, ...]) -> list[str]:
    if isinstance(modes, str) or not isinstance(modes, (list, tuple)) or not modes:
        raise UserError(f"modes: expected a non-empty list of LiteRT modes ({', '.join(allowed)})")
    for mode in modes:
        if mode not in allowed:
            raise UserError(f"modes: unknown LiteRT mode {mode!r}{closest(str(mode), allowed)} ({', '.join(allowed)})")
    return list(dict.fromkeys(modes))


def _model_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UserError(f"name: a model name is 1-64 letters, digits, '.', '_' or '-' and starts with a letter "
                        f"or digit, got {name!r}")
    return name


def _sha256(path: Path) -> str:
    from governance.io import file_sha256

    return file_sha256(path)


def _frame_sha256(frame: Any) -> str:
    import hashlib

    import pandas as pd

    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode("utf-8"))
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()
