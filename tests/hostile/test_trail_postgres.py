"""Forged PostgreSQL catalogs: what an administrator can add to rai's tables to hide entries.

A partial index whose predicate is erased from ``pg_index`` (a superuser's catalog edit), a row-
level security policy that hides the newest entry from every reader (the verifier included), a
rule that swallows appends, a view shadowing the table through ``search_path``, an inheriting
table holding forged rows, extra triggers, constraints and columns. Readers never read through an
index, opening refuses an altered catalog, and ``rai trail verify`` reports each (exit 1).
"""

from __future__ import annotations

import os

import pytest
from trail.hostile import build_history, verify_json
from trail.pgserver import find_bin_dir, running_server

from governance.trail import TrailIntegrityError, approvals_for, open_trail
from governance.workspace import Workspace

from .rai_case import one_clean_line, run, trail_case

psycopg = pytest.importorskip("psycopg")
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server():
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI is set but PostgreSQL server binaries (initdb, pg_ctl) were not found", pytrace=False)
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    with running_server(bin_dir) as s:
        yield s


@pytest.fixture(autouse=True)
def _deadline(monkeypatch):
    with trail_case(monkeypatch, 120):
        yield


@pytest.fixture
def pg(server, tmp_path):
    """A workspace whose trail lives in a fresh database, filled by build_history; (ws, admin connection)."""
    with server.database() as url:
        ws = Workspace(tmp_path / "ws")
        ws.ensure()
        (ws.root / "trail.url").write_text(url + "\n")
        build_history(ws)
        with psycopg.connect(url, autocommit=True) as admin:
            yield ws, admin, url


def test_an_index_whose_predicate_was_erased_from_the_catalog_fools_no_reader(pg, rai):
    ws, admin, url = pg
    admin.execute("DROP INDEX rai_trail_events_by_run_kind")
    admin.execute("CREATE INDEX rai_trail_events_by_run_kind ON rai_trail_events (run_id, kind, seq) WHERE seq <> 2")
    admin.execute("UPDATE pg_index SET indpred = NULL WHERE indexrelid = 'rai_trail_events_by_run_kind'::regclass")
    with psycopg.connect(url, autocommit=True) as planner_trusting:  # the attack works on a plain session
        planner_trusting.execute("SET enable_seqscan = off")
        assert planner_trusting.execute("SELECT seq FROM rai_trail_events WHERE run_id = 'r1' AND "
                                        "kind = 'approval.recorded' ORDER BY seq").fetchall() == [(9,)]
    with open_trail(ws, create=False) as t:  # rai's readers scan the table
        assert [a["decision"] for a in approvals_for(t, "r1")] == ["reject", "approve"]
        assert [e.seq for e in t.events(run_id="r1", kind="approval.recorded")] == [2, 9]
    admin.execute("CREATE EXTENSION amcheck")  # with amcheck, verify finds the index and locates the entry
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and (report["first_problem"]["kind"], report["first_problem"]["seq"]) == ("schema", 2)


def _hide_newest_by_policy(admin):
    admin.execute("ALTER TABLE rai_trail_events ENABLE ROW LEVEL SECURITY")
    admin.execute("ALTER TABLE rai_trail_events FORCE ROW LEVEL SECURITY")
    admin.execute("CREATE POLICY hide_newest ON rai_trail_events USING (seq <> 10)")


def _rule_swallowing_rejections(admin):
    admin.execute("CREATE RULE drop_rejections AS ON INSERT TO rai_trail_events "
                  "WHERE NEW.body LIKE '%reject%' DO INSTEAD NOTHING")


def _view_shadowing_the_table(admin):
    admin.execute("CREATE SCHEMA shadow")
    admin.execute("CREATE VIEW shadow.rai_trail_events AS SELECT * FROM public.rai_trail_events WHERE seq <> 2")
    admin.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = shadow, public', "
                  "current_database()); END $$")


def _inheriting_table(admin):
    admin.execute("CREATE TABLE rai_trail_events_more () INHERITS (rai_trail_events)")


def _extra_trigger(admin):
    admin.execute("CREATE FUNCTION quiet() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
    admin.execute("CREATE TRIGGER rai_trail_events_quiet BEFORE INSERT ON rai_trail_events "
                  "FOR EACH ROW EXECUTE FUNCTION quiet()")


def _visible_partial_index(admin):
    admin.execute("DROP INDEX rai_trail_events_by_run")
    admin.execute("CREATE INDEX rai_trail_events_by_run ON rai_trail_events (run_id, seq) WHERE seq <> 2")


def _check_constraint(admin):
    admin.execute("ALTER TABLE rai_trail_events ADD CONSTRAINT no_rejections CHECK (body NOT LIKE '%reject%') NOT VALID")


def _extra_column(admin):
    admin.execute("ALTER TABLE rai_trail_events ADD COLUMN hidden boolean DEFAULT false")


def _primary_key_dropped(admin):
    admin.execute("ALTER TABLE rai_trail_events DROP CONSTRAINT rai_trail_events_pkey")


CATALOG_FORGERIES = [
    (_hide_newest_by_policy, "row-level security"),
    (_rule_swallowing_rejections, "rule drop_rejections"),
    (_view_shadowing_the_table, "not a plain table"),
    (_inheriting_table, "inheritance"),
    (_extra_trigger, "trigger rai_trail_events_quiet"),
    (_visible_partial_index, "index rai_trail_events_by_run"),
    (_check_constraint, "constraints of rai_trail_events"),
    (_extra_column, "columns of rai_trail_events"),
    (_primary_key_dropped, "constraints of rai_trail_events"),
]


@pytest.mark.parametrize("forge, needle", CATALOG_FORGERIES, ids=[f[0].__name__.strip("_") for f in CATALOG_FORGERIES])
def test_catalog_changes_rai_does_not_make_are_tampering(pg, rai, forge, needle):
    ws, admin, _ = pg
    forge(admin)
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and any(p["kind"] == "schema" and needle in p["message"] for p in report["problems"]), report
    code, out, err = run(rai, "trail", "show", "--workspace", str(ws.root))
    assert code == 1 and out == ""
    one_clean_line(err, "the database was altered outside rai", "rai trail verify")
    with pytest.raises(TrailIntegrityError, match="altered outside rai"):
        open_trail(ws)  # writers refuse too: nothing is appended to an altered trail


def test_rows_outside_the_chain_and_duplicate_seqs_are_located(pg, rai):
    ws, admin, _ = pg
    admin.execute("ALTER TABLE rai_trail_events DISABLE TRIGGER USER")
    admin.execute("INSERT INTO rai_trail_events SELECT 0, time, 'ghost', actor, kind, body, prev_hash, entry_hash "
                  "FROM rai_trail_events WHERE seq = 1")
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and (report["first_problem"]["kind"], report["first_problem"]["seq"]) == ("inserted", 0)
    admin.execute("DELETE FROM rai_trail_events WHERE seq = 0")
    admin.execute("ALTER TABLE rai_trail_events DROP CONSTRAINT rai_trail_events_pkey")
    admin.execute("INSERT INTO rai_trail_events SELECT * FROM rai_trail_events WHERE seq = 5")
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    located = [(p["kind"], p["seq"]) for p in report["problems"]]
    assert code == 1 and ("inserted", 5) in located, located


def test_a_lost_server_is_not_tampering(pg, server, rai):
    ws, admin, url = pg
    (ws.root / "trail.url").write_text(url.replace(f"port={server.port}", "port=1") + "\n")
    code, out, err = run(rai, "trail", "verify", "--workspace", str(ws.root))
    assert code == 3 and out == ""
    one_clean_line(err, "cannot use PostgreSQL")
