"""Typed, content-addressed artifacts of a pipeline run.

Every file a run produces (the ingested frames, the Keras model, each LiteRT variant, the
prediction tables) lives under ``WORKSPACE/runs/RUN_ID/`` and is known by an :class:`Artifact`:
its kind, its SHA-256 and its path relative to the workspace. The trail records the artifact
records (``stage.completed`` payload ``artifacts``), so a later reader (``rai run --resume``,
reports, dashboards) can find each file and prove it is the one the run produced.

Layout of a run directory::

    runs/RUN_ID/
      data/train.parquet, data/test.parquet     ingested frames (kind "dataset")
      model/model.keras                         the trained parent model (kind "model")
      litert/MODE.tflite                        LiteRT variants (kind "litert")
      predictions/NAME.parquet                  y_true, y_pred, y_score and sensitive columns
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from governance.errors import UserError
from governance.evidence import Predictions
from governance.fsutil import file_sha256, write_atomic
from governance.workspace import Workspace

ArtifactKind = Literal["dataset", "model", "litert", "predictions", "reference", "deployment"]


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Artifact:
    """One file produced by a run.

    Attributes
    ----------
    kind : what the file is (dataset, model, litert, predictions, reference, deployment)
    name : its name within the run, e.g. ``"train"``, ``"keras"``, ``"int8"``
    sha256 : hex SHA-256 of the file's bytes
    path : path relative to the workspace root (POSIX separators)
    size_bytes : file size
    """

    kind: str
    name: str
    sha256: str
    path: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Artifact:
        return cls(**{k: record[k] for k in ("kind", "name", "sha256", "path", "size_bytes")})

    def location(self, workspace: Workspace) -> Path:
        return workspace.root / self.path

    def verified_path(self, workspace: Workspace) -> Path:
        """The artifact's file, after checking it still has the recorded hash.

        Raises
        ------
        UserError
            The file is missing or its content changed since the run recorded it.
        """
        path = self.location(workspace)
        if not path.is_file():
            raise UserError(f"{path}: {self.kind} artifact '{self.name}' is missing from the workspace")
        actual = file_sha256(path)
        if actual != self.sha256:
            raise UserError(
                f"{path}: {self.kind} artifact '{self.name}' was modified "
                f"(sha256 {actual[:12]}..., recorded {self.sha256[:12]}...)"
            )
        return path


class RunArtifacts:
    """Writes and hashes the artifacts of one run under ``runs/RUN_ID/``."""

    def __init__(self, workspace: Workspace, run_id: str):
        self.workspace = workspace
        self.run_id = run_id
        self.dir = workspace.run_dir(run_id)

    def path_for(self, relative: str) -> Path:
        """Where a file of this run goes (parent directories created)."""
        path = self.dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def adopt(self, kind: ArtifactKind, name: str, path: Path) -> Artifact:
        """Record a file already written inside the run directory (e.g. by Keras)."""
        path = Path(path)
        relative = path.resolve().relative_to(self.workspace.root.resolve()).as_posix()
        return Artifact(kind, name, file_sha256(path), relative, path.stat().st_size)

    def put_bytes(self, kind: ArtifactKind, name: str, relative: str, data: bytes) -> Artifact:
        """Write ``data`` to ``runs/RUN_ID/relative`` and record it."""
        path = self.path_for(relative)
        write_atomic(path, data, mode=0o600)  # run files hold personal data: their owner's alone
        return self.adopt(kind, name, path)

    def put_frame(self, kind: ArtifactKind, name: str, relative: str, frame: pd.DataFrame) -> Artifact:
        """Write ``frame`` as Parquet and record it."""
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return self.put_bytes(kind, name, relative, buffer.getvalue())

    def put_predictions(self, name: str, predictions: Predictions) -> Artifact:
        """Write one model's predictions (labels, scores, sensitive columns) as Parquet."""
        return self.put_frame("predictions", name, f"predictions/{name}.parquet", predictions_frame(predictions))


def predictions_frame(predictions: Predictions) -> pd.DataFrame:
    """A flat table of ``y_true``, ``y_pred``, ``y_score`` and the sensitive columns.

    Binary: 0/1 labels and the positive-class score. Multiclass: class names, ``y_score`` the
    predicted class's probability and one ``y_score[CLASS]`` column per class. Regression: the
    target and the prediction, ``y_score`` empty (NaN).
    """
    from governance.evidence import task_of

    frame = predictions.sensitive.reset_index(drop=True).copy()
    task = task_of(predictions)
    if task == "multiclass":
        names = np.asarray(predictions.classes, dtype=object)
        truth, pred = names[predictions.y_true], names[predictions.y_pred]
    else:
        kind = "float64" if task == "regression" else "int64"
        truth, pred = np.asarray(predictions.y_true).astype(kind), np.asarray(predictions.y_pred).astype(kind)
    frame.insert(0, "y_true", truth)
    frame.insert(1, "y_pred", pred)
    score = predictions.y_score if predictions.y_score is not None else np.full(len(frame), np.nan)
    if task == "multiclass" and predictions.y_score is not None:
        for i, name in enumerate(predictions.classes):
            frame[f"y_score[{name}]"] = np.asarray(score[:, i], dtype="float64")
        score = score[np.arange(len(frame)), predictions.y_pred]
    frame.insert(2, "y_score", np.asarray(score, dtype="float64"))
    return frame


def read_predictions(source: Path | bytes, task: str | None = None) -> Predictions:
    """Inverse of :func:`predictions_frame` for a stored Parquet file (or its bytes), of any task.

    ``task`` is the task the predictions were recorded for, when known (a registry manifest's
    schema says it); otherwise the layout says it: class-probability columns or class names are
    multiclass, float targets regression, 0/1 integers binary.
    """
    frame = pd.read_parquet(io.BytesIO(source) if isinstance(source, bytes) else source)
    classes = [c[len("y_score["):-1] for c in frame.columns if c.startswith("y_score[")]
    sensitive = frame.drop(columns=["y_true", "y_pred", "y_score", *(f"y_score[{c}]" for c in classes)])
    kind = frame["y_true"].dtype.kind
    task = task or ("multiclass" if classes or kind not in "biuf" else "regression" if kind == "f" else "binary")
    if task == "regression":
        return Predictions(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(), sensitive, task="regression")
    if task == "multiclass":
        scores = frame[[f"y_score[{c}]" for c in classes]].to_numpy() if classes else None
        return Predictions(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(), sensitive, task="multiclass",
                           classes=classes or None, y_score=scores)
    score = frame["y_score"].to_numpy()
    return Predictions(
        y_true=frame["y_true"].to_numpy(),
        y_pred=frame["y_pred"].to_numpy(),
        y_score=None if np.isnan(score).all() else score,
        sensitive=sensitive,
    )
