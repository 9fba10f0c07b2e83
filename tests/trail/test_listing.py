"""What the dashboard and key rotation need, as public Trail methods: ``listing`` (the one read
allowed to use the database's indexes) and the signing key (``signer``, ``reload_signer``)."""

import re
from pathlib import Path

import pytest

from governance.trail import open_trail
from governance.trail.chain import Row
from governance.trail.schema_sqlite import INDEXES
from governance.trail.signing import load_signer

from .conftest import raw_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def history(trail):
    trail.append("run.started", run_id="a")
    trail.append("run.started", run_id="b")
    trail.append("gate.decided", run_id="a", payload={"decision": "passed"})
    trail.append("approval.recorded", run_id="a", payload={"role": "risk", "decision": "reject"})
    trail.append("gate.decided", run_id="b", payload={"decision": "blocked"})
    return trail


@pytest.mark.parametrize("filters", [{}, {"run_id": "a"}, {"kind": "gate.decided"},
                                     {"kind": ["gate.decided", "run.started"]}, {"run_id": "a", "kind": "gate.decided"},
                                     {"run_id": "nobody"}])
def test_a_listing_filters_as_events_do_and_returns_stored_rows(history, filters):
    rows = list(history.listing(**filters))
    assert all(isinstance(r, Row) for r in rows)
    assert [r.seq for r in rows] == [e.seq for e in history.events(**filters)]


def test_a_listing_filters_by_time(history):
    later = history.events()[2].time
    assert [r.seq for r in history.listing(since=later)] == [3, 4, 5]
    assert list(history.listing(since="2999-01-01")) == []


def test_only_a_listing_goes_through_the_indexes(history):
    # A forged partial index that leaves out the rejection (its stored text restored by hand):
    # the listing, which trusts indexes, misses it; every read that decides still sees it, and
    # verification reports the forgery at that entry.
    with raw_db(history.workspace) as db:
        for statement in INDEXES:
            name, plain = statement.split()[5], statement.replace("IF NOT EXISTS ", "")
            db.execute(f"DROP INDEX {name}")
            db.execute(f"{plain} WHERE seq != 4")
            db.execute("PRAGMA writable_schema = ON")
            db.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (plain, name))
            db.execute("PRAGMA writable_schema = OFF")
    with open_trail(history.workspace) as t:
        assert [r.seq for r in t.listing(run_id="a")] == [1, 3]
        assert [e.seq for e in t.events(run_id="a")] == [1, 3, 4]
        assert [e.seq for e in t.events(run_id="a", checked=True)] == [1, 3, 4]
        first = t.verify().first
        assert (first.kind, first.seq) == ("schema", 4)


def test_the_signer_is_the_workspace_key_and_reloads_after_a_rotation(ws):
    with open_trail(ws) as t:
        assert t.signing_key_path is None
        first = t.signer()
        assert t.signer() is first and first.key_id == load_signer(ws.keys / "signing.pem").key_id
        old_id, new_id, cp = t.rotate_key()
        assert (old_id, new_id) == (first.key_id, t.signer().key_id) and cp.key_id == new_id
        assert t.reload_signer().key_id == new_id == load_signer(ws.keys / "signing.pem").key_id


def test_a_signing_key_given_by_path_is_the_signer_and_is_not_rotated_here(ws, tmp_path):
    from governance.errors import UserError
    from governance.trail.signing import write_new_key

    key = write_new_key(tmp_path / "mine.pem")
    with open_trail(ws, signing_key=key.path) as t:
        assert t.signing_key_path == key.path and t.signer().key_id == key.key_id
        with pytest.raises(UserError, match="the signing key is given by path"):
            t.rotate_key()


def test_nothing_outside_the_trail_touches_its_private_state_and_no_page_reads_its_store():
    private = re.compile(r"\b(?!self\b)\w+\._(signer|signing_key|format)\b")
    offenders = []
    for path in sorted([*ROOT.glob("governance/**/*.py"), *ROOT.glob("lifecycle/**/*.py"),
                        *ROOT.glob("dashboards/**/*.py"), *ROOT.glob("rai/**/*.py")]):
        text, where = path.read_text(encoding="utf-8"), path.relative_to(ROOT)
        if private.search(text):
            offenders.append(str(where))
        if where.parts[0] == "dashboards" and re.search(r"\.store\.\w+", text):
            offenders.append(f"{where} (reads trail.store)")
    assert offenders == []

