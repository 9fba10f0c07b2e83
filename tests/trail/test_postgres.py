"""The PostgreSQL store against a real server (started by the ``pg_server`` fixture)."""

import psycopg
import pytest

from governance.trail import TrailMissing, open_trail
from governance.trail.errors import TrailUnavailable
from governance.trail.store_postgres import redact

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_trail(ws, pg_url):
    t = open_trail(ws, url=pg_url)
    yield t
    t.close()


def test_same_api_on_postgres(pg_trail):
    first = pg_trail.append("run.started", run_id="r1", actor="alice", payload={"x": 1.5, "name": "Zoë"})
    pg_trail.append("stage.completed", run_id="r1", payload={"stage": "train"})
    pg_trail.append("run.started", run_id="r2")
    assert first.seq == 1 and pg_trail.events()[0] == first
    assert pg_trail.runs() == ["r1", "r2"] and pg_trail.count(run_id="r1") == 2
    assert [e.seq for e in pg_trail.events(kind="run.started")] == [1, 3]
    assert pg_trail.events(since="2999-01-01") == []
    cp = pg_trail.checkpoint()
    assert cp.tree_size == 3 and pg_trail.verify().ok
    assert pg_trail.prove(2)["entry"]["seq"] == 2


def test_postgres_refuses_update_delete_truncate(pg_trail, pg_url):
    pg_trail.append("run.started", run_id="r1")
    pg_trail.checkpoint()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for sql in ("UPDATE rai_trail_events SET actor = 'mallory'", "DELETE FROM rai_trail_events",
                    "TRUNCATE rai_trail_events", "DELETE FROM rai_trail_checkpoints"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(sql)


def test_postgres_tampering_is_detected(pg_trail, pg_url):
    for i in range(6):
        pg_trail.append("stage.completed", run_id="r1", payload={"i": i})
    pg_trail.checkpoint()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE rai_trail_events DISABLE TRIGGER USER")
        conn.execute("UPDATE rai_trail_events SET body = replace(body, '\"i\":2', '\"i\":9') WHERE seq = 3")
        conn.execute("DELETE FROM rai_trail_events WHERE seq = 5")
    report = pg_trail.verify()
    assert [(p.kind, p.seq) for p in report.problems][:2] == [("edited", 3), ("missing", 5)]
    assert any("trigger" in w for w in report.warnings)


def test_postgres_reader_does_not_create_tables(ws, pg_url):
    with pytest.raises(TrailMissing, match="rai_trail_events does not exist"):
        open_trail(ws, url=pg_url, create=False)


def test_unreachable_postgres_is_one_clean_error(ws, pg_server):
    url = f"postgresql://rai:secret@/nosuchdb?host={pg_server.base}&port={pg_server.port}"
    with pytest.raises(TrailUnavailable) as err:
        open_trail(ws, url=url)
    assert "secret" not in str(err.value) and "nosuchdb" in str(err.value)


def test_trail_url_comes_from_the_workspace(ws, pg_url, monkeypatch):
    ws.ensure()
    (ws.root / "trail.url").write_text(pg_url + "\n")
    with open_trail(ws) as t:
        t.append("run.started", run_id="r1")
        assert t.location == redact(pg_url)
    assert not ws.trail_db.exists()
    monkeypatch.setenv("RAI_TRAIL_URL", pg_url)
    with open_trail(ws) as t:
        assert t.count() == 1


def test_redact_hides_passwords():
    assert redact("postgresql://u:pw@host/db") == "postgresql://u@host/db"
    assert redact("postgresql://host/db?password=pw&x=1") == "postgresql://host/db?password=***&x=1"
