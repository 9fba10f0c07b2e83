"""Many writers at once: seq and chain stay contiguous, nothing acknowledged is lost."""

import subprocess
import sys

import pytest

from governance.trail import open_trail

from .writers import APPENDER, acknowledged

WRITERS, APPENDS = 8, 500


def run_writers(target: str, url: str | None, writers: int = WRITERS, appends: int = APPENDS,
                checkpoint_every: int = 0) -> dict[int, str]:
    """Start the writers, release them together, and collect every acknowledged append."""
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, target, url or "", str(w), str(appends),
                               str(checkpoint_every)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(writers)]
    for p in procs:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
    for p in procs:  # release them all at once
        p.stdin.write("go\n")
        p.stdin.flush()
    acks: dict[int, str] = {}
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        got = acknowledged(out.splitlines(keepends=True))
        assert len(got) == appends and not set(got) & set(acks)  # no seq handed out twice
        acks.update(got)
    return acks


def check_contiguous(trail, acks: dict[int, str], writers: int, appends: int) -> None:
    total = writers * appends
    events = trail.events()
    assert [e.seq for e in events] == list(range(1, total + 1))
    assert {e.seq: e.entry_hash for e in events} == acks
    for w in range(writers):  # each writer's own events kept their order
        assert [e.payload["i"] for e in trail.events(run_id=f"writer-{w}")] == list(range(appends))
    trail.checkpoint()
    report = trail.verify()
    assert report.ok and report.size == total, [str(p) for p in report.problems]


@pytest.mark.slow
def test_eight_sqlite_writers(ws):
    acks = run_writers(str(ws.root), None, checkpoint_every=100)
    with open_trail(ws) as t:
        check_contiguous(t, acks, WRITERS, APPENDS)
        assert t.store.integrity_check() == "ok"
        assert t.verify().checkpoints_verified >= WRITERS * APPENDS // 100


def test_a_few_sqlite_writers(ws):
    # The quick variant of the test above, run in every test session.
    acks = run_writers(str(ws.root), None, writers=3, appends=20, checkpoint_every=5)
    with open_trail(ws) as t:
        check_contiguous(t, acks, 3, 20)


@pytest.mark.slow
@pytest.mark.postgres
def test_eight_postgres_writers(ws, pg_url):
    acks = run_writers(str(ws.root), pg_url, checkpoint_every=100)
    with open_trail(ws, url=pg_url) as t:
        check_contiguous(t, acks, WRITERS, APPENDS)
