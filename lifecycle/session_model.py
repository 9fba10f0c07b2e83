"""The model steps of a governed run: LiteRT variants, datasets in the lineage, the registry.

:class:`ModelSteps` is the part of :class:`lifecycle.session.Run` that handles the user's own
Keras model with the pipeline's own stage functions: :func:`lifecycle.variants.litert_variants`
builds and describes the variants, :func:`lifecycle.registration.publish` writes the signed
entry, and the run's :class:`~lifecycle.governed.Governor` records and gates them. TensorFlow is
imported only when :meth:`ModelSteps.optimize` (or :meth:`ModelSteps.register` of a model that
must be saved) runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from governance.errors import GateBlocked, UserError
from governance.vocabulary import closest
from lifecycle.measure import group_gaps, performance

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class ModelSteps:
    """Optimize, register and lineage methods of :class:`lifecycle.session.Run`."""

    def add_dataset(self, name: str, data: Any) -> str:
        """Put a dataset's content hash in the run's lineage (a file path, or a table) and return it.

        Files are hashed byte for byte; tables (pandas, pyarrow, numpy) by their values, so the
        same rows give the same hash wherever they were loaded from.
        """
        from governance.evidence_input import as_frame
        from governance.fsutil import file_sha256

        self._require_open()
        if not isinstance(name, str) or not name.strip():
            raise UserError(f"add_dataset: name must be a non-empty string, got {name!r}")
        if isinstance(data, (str, Path)):
            if not Path(data).is_file():
                raise UserError(f"add_dataset {name}: no such file: {data}")
            digest = file_sha256(data)
        else:
            digest = _frame_sha256(as_frame(data, f"add_dataset {name}", "value"))
        self._gov.note_dataset(name, digest)
        return digest

    def optimize(self, model: Any, modes: list[str] | tuple[str, ...] = ("dynamic_range",),
                 representative_data: Any = None, evaluation_data: tuple | None = None) -> dict[str, Any]:
        """Convert a Keras model to LiteRT per mode, score each variant and re-audit it against the model.

        The task is the run's: that of the predictions gated at ``evaluate`` in this run
        (``rai.Predictions(..., task=...)``), binary when none were. Multiclass and regression
        variants are compared with the model as the pipeline compares its own (accuracy, agreement
        and per-class rates; MAE and RMSE), and the evaluate predictions' ``classes``,
        ``favorable_label``, ``value_labels`` and ``bins`` apply to the evaluation rows.

        Parameters
        ----------
        model : a single-input Keras model whose output fits the run's task: the positive-class
            probability (binary: one sigmoid unit, or two softmax units), one probability per
            class in the order of the evaluate predictions' ``classes`` (multiclass: softmax), or
            the predicted number (regression: one unit)
        modes : LiteRT modes: ``float32``, ``dynamic_range``, ``float16``, ``int8``
        representative_data : model inputs for int8 calibration (default: the first 500
            evaluation rows)
        evaluation_data : ``(x, y_true, sensitive)``: inputs, labels (0/1, class labels or
            numbers, as at evaluate) and sensitive features of the rows every variant is scored
            and audited on

        Returns
        -------
        dict
            ``{mode: Variant}``; each variant's gate (the policy's ``optimize`` and ``evaluate``
            rules, against the Keras parent) is recorded and kept as ``variant.result``. A blocked
            variant cannot be registered; the gates are evidence until one is.

        Raises
        ------
        UserError
            Bad modes or evaluation data, or a model whose output does not fit the run's task
            (a regression model in a multiclass run, a softmax of another width than the
            classes); nothing is recorded.
        """
        from lifecycle import own_model
        from lifecycle.optimize import MODES
        from lifecycle.variants import litert_variants

        self._require_open()
        modes = _modes(modes, MODES)
        x, parent = self._evaluation(model, evaluation_data)
        representative = own_model.as_features(x[:500] if representative_data is None else representative_data,
                                               "representative_data")
        optimized = litert_variants(model, modes, x, parent, self._artifacts(), representative=representative,
                                    lineage=dict(self._gov.lineage))
        self._gov.record("optimize", optimized)
        rules = self.policy.rules_for("optimize") + self.policy.rules_for("evaluate")
        variants = {}
        for done in optimized.variants:
            result = self._gov.gate("optimize", done.evidence, rules=rules, subject=done.mode, binding=False)
            row = done.row
            variants[done.mode] = own_model.Variant(
                done.mode, self._artifacts().path_for(f"litert/{done.mode}.tflite"), row["sha256"], row["size_bytes"],
                row["latency_ms"], row["accuracy"], done.predictions, result=result, evidence=done.evidence, row=row)
            self._variant_rows[done.mode] = {**row, "decision": result.decision}
        return variants

    def _evaluation(self, model: Any, evaluation_data: Any) -> tuple[Any, Any]:
        from lifecycle import own_model

        if not isinstance(evaluation_data, (tuple, list)) or len(evaluation_data) != 3:
            raise UserError("evaluation_data: expected (x, y_true, sensitive), the rows each variant is audited on")
        if not hasattr(model, "predict"):
            raise UserError(f"optimize: expected a Keras model, got {type(model).__name__}")
        x = own_model.as_features(evaluation_data[0], "evaluation_data[0]")
        try:
            output = model.predict(x, verbose=0, batch_size=4096)
        except Exception as err:  # noqa: BLE001  (Keras says why; the user gets one line of it)
            # A traced function's error ends with the reason, after the frames it passed through.
            reason = ([line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__])[-1]
            raise UserError(f"optimize: the model cannot score evaluation_data[0] (shape {x.shape}): {reason}") from None
        return x, own_model.parent_predictions(output, evaluation_data[1], evaluation_data[2], self._evaluated)

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
        from lifecycle import own_model, registration

        self._require_open()
        name = _model_name(name or self.name)
        if isinstance(model, own_model.Variant):
            if model.result is None or model.evidence is None:
                raise UserError(f"variant {model.mode}: not audited by this run's optimize()")
            rules = self.policy.rules_for("optimize") + self.policy.rules_for("evaluate")
            self._gov.gate("optimize", model.evidence, rules=rules, subject=model.mode).raise_if_blocked()
            files, fmt, mode, sha = {"model.tflite": ("model", model.path)}, "litert", model.mode, model.sha256
        elif hasattr(model, "save") and hasattr(model, "predict"):
            path = self._artifacts().path_for("model/model.keras")
            model.save(path)
            artifact = self._artifacts().adopt("model", "model", path)
            files, fmt, mode, sha = {"model.keras": ("model", path)}, "keras", "keras", artifact.sha256
        else:
            raise UserError(f"register: expected a Variant from run.optimize() or a Keras model, got {type(model).__name__}")
        self._gov.note_model(sha)
        candidate = self._candidate(model, fmt, mode)
        result = self._gov.gate("deploy", registration.deploy_evidence(candidate, self._gov.privacy))
        if result.blocked:
            raise GateBlocked(result)
        # The gated predictions go with the entry: the baseline of later relative_to rules.
        reference = model.predictions if isinstance(model, own_model.Variant) else self._evaluated
        if reference is not None:
            recorded = self._artifacts().put_predictions(f"registered-{mode}", reference)
            files["reference_predictions.parquet"] = ("reference_predictions", recorded.location(self._workspace))
        deployed = registration.publish(Path(registry) if registry else self._workspace.registry, candidate,
                                        self._facts(name), files, self._trail, self._workspace)
        self._gov.publish(deployed)
        return deployed.entry

    def _candidate(self, model: Any, fmt: str, mode: str) -> dict[str, Any]:
        """What is registered, described as the pipeline describes its deploy candidate."""
        from lifecycle import own_model

        row = model.row if isinstance(model, own_model.Variant) else {}
        gated = model.predictions if isinstance(model, own_model.Variant) else self._evaluated
        sensitive = [str(c) for c in gated.sensitive.columns] if gated is not None else []
        numbers = (performance(gated), group_gaps(gated, sensitive)) if gated is not None else ({}, {})
        return {"variant": mode, "format": fmt,
                "metrics": {"accuracy": numbers[0].get("accuracy"), "size_bytes": row.get("size_bytes"),
                            "latency_ms": row.get("latency_ms")},
                "performance": numbers[0], "group_gaps": numbers[1],
                "schema": _schema(gated, sensitive), "lineage": dict(self._gov.lineage)}

    def _facts(self, model_name: str) -> Any:
        from lifecycle.modelcard import RunFacts

        return RunFacts(run_id=self.run_id, pipeline=None, run_name=self.name, model_name=model_name,
                        architecture={"type": "user-keras"}, metadata=dict(self.metadata), privacy=self._gov.privacy,
                        policy=self.policy, decisions=self._gov.decision_counts(exclude=("deploy",)))

    def _artifacts(self) -> Any:
        from lifecycle.artifacts import RunArtifacts

        if not hasattr(self, "_run_artifacts"):
            self._run_artifacts = RunArtifacts(self._workspace, self.run_id)
        return self._run_artifacts


def _schema(gated: Any, sensitive: list[str]) -> dict[str, Any]:
    """The registered model's data contract: array inputs, its sensitive columns, its task (and classes)."""
    from governance.evidence import task_of
    from governance.findings import jsonable

    schema: dict[str, Any] = {"input": "array", "sensitive": sensitive}
    if gated is not None:
        schema["task"] = task_of(gated)
        if schema["task"] == "multiclass":
            schema.update(classes=jsonable(list(gated.classes)), favorable_label=jsonable(gated.favorable_label))
    return schema


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


def _frame_sha256(frame: Any) -> str:
    import hashlib

    import pandas as pd

    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode("utf-8"))
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()
