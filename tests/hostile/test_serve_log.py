"""Hostile edits of the prediction log: every one is found, located, and exits 1; never a traceback.

A server logs 12 decisions in two committed segments (6 each); then one forgery is applied to
the workspace and ``rai predictions verify`` must name the problem kind, the segment, its trail
entry and, for an edited line, the line and its request id. ``rai trail verify`` must also fail
whenever a committed segment's content changed, since that content is a blob of the trail.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from serve.harness import ROW, Server, register_demo

from governance.trail import open_trail
from governance.workspace import Workspace
from lifecycle.predlog import CLOSED, OPENED, log_dir

from .rai_case import run


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> Path:
    """A pristine workspace whose log holds 12 decisions in two committed segments."""
    ws = Workspace(tmp_path_factory.mktemp("hostile-log") / "ws")
    register_demo(ws)
    for batch in range(2):
        with Server(ws) as running:
            for i in range(6):
                assert running.predict({"row": {**ROW, "age": 20 + 6 * batch + i}})[0] == 200
    return ws.root


@pytest.fixture
def ws(logged, tmp_path) -> Workspace:
    copy = tmp_path / "ws"
    shutil.copytree(logged, copy)
    return Workspace(copy)


def _closed(ws: Workspace) -> list:
    with open_trail(ws, create=False) as trail:
        return trail.events(kind=CLOSED)


def _blob(ws: Workspace, digest: str) -> Path:
    path = ws.blobs / "sha256" / digest[:2] / digest
    os.chmod(path, 0o644)
    return path


def _lines(ws: Workspace, which: int = 1) -> tuple[Path, list[bytes]]:
    path = _blob(ws, _closed(ws)[which].payload["segment_blob"])
    return path, path.read_bytes().split(b"\n")[:-1]


def _write(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def edit_score(ws):
    path, lines = _lines(ws)
    record = json.loads(lines[2])
    record["score"], record["label"] = 0.99, 1
    lines[2] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    _write(path, lines)


def drop_line(ws):
    path, lines = _lines(ws)
    _write(path, lines[:2] + lines[3:])


def append_forged_line(ws):
    path, lines = _lines(ws)
    _write(path, lines + [lines[0].replace(b'"row":0', b'"row":1')])


def swap_lines(ws):
    path, lines = _lines(ws)
    lines[2], lines[3] = lines[3], lines[2]
    _write(path, lines)


def empty_segment(ws):
    _lines(ws)[0].write_bytes(b"")


def delete_segment(ws):
    _lines(ws)[0].unlink()


def segment_of_the_other(ws):
    first, second = _closed(ws)
    _blob(ws, second.payload["segment_blob"]).write_bytes(_blob(ws, first.payload["segment_blob"]).read_bytes())


def forge_leaves_too(ws):
    """Edit a line and rewrite the leaves blob to match: the root in the trail still differs."""
    from governance.trail.merkle import leaf_hash

    edit_score(ws)
    closed = _closed(ws)[1]
    lines = _blob(ws, closed.payload["segment_blob"]).read_bytes().split(b"\n")[:-1]
    _blob(ws, closed.payload["leaves_blob"]).write_bytes(b"".join(leaf_hash(line) for line in lines))


def lose_an_open_segment(ws):
    with open_trail(ws) as trail:
        trail.append(OPENED, payload={"segment": "20300101T000000Z-9-deadbeef", "model": {"name": "demo"}})


def plant_an_open_segment(ws):
    log_dir(ws).mkdir(parents=True, exist_ok=True)
    (log_dir(ws) / "20300101T000000Z-9-cafecafe.jsonl").write_bytes(_lines(ws)[1][0] + b"\n")


FORGERIES = [
    (edit_score, "segment_edited", "from line 3 (request", True),
    (drop_line, "segment_edited", "from line 3 (request", True),
    (append_forged_line, "segment_edited", "from line 7 (request", True),
    (swap_lines, "segment_edited", "from line 3 (request", True),
    (empty_segment, "segment_edited", "no longer matches the committed Merkle root", True),
    (delete_segment, "segment_missing", "is missing", True),
    (segment_of_the_other, "segment_edited", "from line 1 (request", True),
    (forge_leaves_too, "segment_edited", "no longer matches the committed Merkle root", True),
    (lose_an_open_segment, "lost", "was never committed and its file is gone", False),
    (plant_an_open_segment, "unannounced", "an open segment no trail event announced", False),
]


@pytest.mark.parametrize("forge,kind,text,trail_fails", FORGERIES, ids=[f[0].__name__ for f in FORGERIES])
def test_a_forged_log_is_found_and_located(ws, rai, forge, kind, text, trail_fails):
    assert run(rai, "predictions", "verify", "--workspace", str(ws.root))[0] == 0
    forge(ws)
    code, out, err = run(rai, "predictions", "verify", "--workspace", str(ws.root), "--json")
    assert code == 1 and err == ""
    problems = json.loads(out)["problems"]
    assert [p["kind"] for p in problems] == [kind] and text in problems[0]["message"]
    if kind.startswith("segment"):
        second = _closed(ws)[1]
        assert (problems[0]["segment"], problems[0]["seq"]) == (second.payload["segment"], second.seq) \
            or forge is delete_segment
    code, out, _ = run(rai, "trail", "verify", "--workspace", str(ws.root))
    assert (code == 1) == trail_fails, out


def test_show_and_export_refuse_a_forged_segment(ws, rai, tmp_path):
    record = json.loads(_lines(ws)[1][0])
    edit_score(ws)
    code, _, err = run(rai, "predictions", "show", record["request_id"], "--workspace", str(ws.root))
    assert code == 1 and err.startswith("error: segment ") and "run `rai predictions verify`" in err
    code, _, err = run(rai, "predictions", "export", "-o", str(tmp_path / "out.jsonl"), "--workspace", str(ws.root))
    assert code == 1 and err.count("\n") == 1
