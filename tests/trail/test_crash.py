"""A writer killed with SIGKILL at random moments never damages the trail or loses an acknowledged append."""

import random
import select
import sqlite3
import subprocess
import sys
import time

import pytest

from governance.trail import open_trail, verify_trail

from .writers import ENDLESS, acknowledged

KILLS = 60


def _run_and_kill(target: str, rng: random.Random) -> list[str]:
    proc = subprocess.Popen([sys.executable, "-c", ENDLESS, target], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        lines: list[str] = []
        deadline = time.monotonic() + rng.uniform(0.0, 0.25)
        while (left := deadline - time.monotonic()) > 0:  # keep reading so the pipe never fills
            if select.select([proc.stdout], [], [], left)[0]:
                lines.append(proc.stdout.readline())
        proc.kill()  # SIGKILL: no cleanup, no flush, possibly mid-commit or mid-checkpoint
        proc.wait()
        lines.extend(proc.stdout.readlines())
        return lines
    finally:
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.slow
def test_sigkill_at_random_points(ws):
    rng = random.Random(20240501)
    acks: dict[int, str] = {}
    for _ in range(KILLS):
        got = acknowledged(_run_and_kill(str(ws.root), rng))
        assert not any(acks.get(seq, h) != h for seq, h in got.items())
        acks.update(got)
    conn = sqlite3.connect(ws.trail_db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    report = verify_trail(ws)
    assert report.ok, [str(p) for p in report.problems]
    with open_trail(ws, create=False) as t:
        stored = {e.seq: e.entry_hash for e in t.iter_events()}
    assert len(acks) > KILLS  # the writers really did get work done between kills
    missing = {seq for seq, h in acks.items() if stored.get(seq) != h}
    assert not missing, f"acknowledged appends lost: {sorted(missing)[:10]}"
    assert report.checkpoints_verified > 0
