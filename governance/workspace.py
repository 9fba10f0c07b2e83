"""The workspace: where rai keeps its state (default ``.rai/`` under the current directory).

Layout::

    .rai/
      trail.db             SQLite audit trail (unless a PostgreSQL URL is configured)
      trail.url            optional: a ``postgresql://`` URL selecting a PostgreSQL trail
      keys/                Ed25519 signing keys (PKCS8, mode 0600)
      checkpoints/         signed trail checkpoints (JSON)
      blobs/sha256/ab/...  content-addressed evidence (tables, reports, model files)
      runs/RUN_ID/         per-run artifacts (models, LiteRT variants, evidence)
      registry/            default model registry (versioned, signed manifests)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace; directories are created on demand, not on construction."""

    root: Path

    @classmethod
    def at(cls, path: str | Path | None = None) -> Workspace:
        return cls(Path(path or os.environ.get("RAI_WORKSPACE") or ".rai"))

    @property
    def trail_db(self) -> Path:
        return self.root / "trail.db"

    @property
    def trail_url(self) -> str | None:
        """PostgreSQL URL from ``RAI_TRAIL_URL`` or ``trail.url``, else ``None`` (SQLite)."""
        env = os.environ.get("RAI_TRAIL_URL")
        if env:
            return env
        f = self.root / "trail.url"
        return f.read_text().strip() if f.is_file() else None

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def registry(self) -> Path:
        return self.root / "registry"

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def ensure(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        return self
