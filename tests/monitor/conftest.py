"""Fixtures of the monitoring tests: policies of monitor rules, prediction-log windows written directly.

The TensorFlow tests reuse the pipeline tests' small Adult project (``adult_rows``, ``SPEC``);
the others register the serving tests' fixture model, which needs no TensorFlow, and write its
prediction log with :class:`lifecycle.predlog.PredictionLog`, as a server would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pipeline.conftest import adult_rows  # noqa: F401  (the session fixture: 3,000 + 1,000 Adult rows)

from governance.workspace import Workspace

HEADER = """\
policy: live-{how}
version: "1"
owner: test suite
fail_on: high
on_missing_labels: {how}
rules:
"""


def monitor_policy(path: Path, rules: str, how: str = "skip") -> Path:
    """A policy file of ``rules`` (YAML list items) with ``on_missing_labels: how``."""
    path.write_text(HEADER.format(how=how) + rules)
    return path


def write_log(ws: Workspace, entry: Any, records: list[dict[str, Any]]) -> None:
    """Commit ``records`` (decisions of ``entry``'s model: inputs, score, label, ...) as one log segment."""
    from lifecycle.predlog import PredictionLog, encode_record

    model = {"name": entry.name, "version": entry.version, "model_sha256": entry.body["model_sha256"]}
    log = PredictionLog(ws, model, {"log_inputs": True})
    log.start()
    try:
        for i, record in enumerate(records):
            line = {"request_id": f"req-{i:05d}", "row": 0, "time": f"2025-03-01T10:{i // 60:02d}:{i % 60:02d}.000000Z",
                    "model": entry.name, "version": entry.version, "model_sha256": entry.body["model_sha256"],
                    "flags": [], **record}
            log.append([encode_record(line)])
    finally:
        log.stop()


@pytest.fixture
def fresh_ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")
