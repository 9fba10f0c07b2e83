"""Settings of ``rai serve``: one validated object, built by the CLI, passed to every worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Environment variable carrying the settings (JSON) to worker processes.
SETTINGS_ENV = "RAI_SERVE_SETTINGS"


class ServeSettings(BaseModel):
    """What to serve and how; every limit bounds a resource a client could otherwise hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: int | None = Field(None, ge=1)
    registry: Path
    workspace: Path
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    threads: int = Field(4, ge=1, le=256)
    unseen: Literal["flag", "missing", "reject"] = "flag"
    log_inputs: bool = True
    prediction_log: bool = True
    recheck_seconds: float = Field(30.0, gt=0, le=86400)
    max_body_bytes: int = Field(8 << 20, ge=1024, le=1 << 30)
    max_rows: int = Field(10_000, ge=1, le=1_000_000)
    timeout: float = Field(10.0, gt=0, le=3600)  # for the request's head, and again for its body
    keep_alive: float = Field(5.0, gt=0, le=3600)
    graceful_timeout: float = Field(10.0, gt=0, le=3600)
    segment_records: int = Field(100_000, ge=1)
    segment_seconds: float = Field(600.0, gt=0)
    sync_seconds: float = Field(1.0, gt=0, le=60)

    def to_env(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_env(cls, text: str) -> ServeSettings:
        return cls.model_validate(json.loads(text))
