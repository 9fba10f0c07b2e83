"""What rai creates in PostgreSQL, and how the catalog differs from it.

rai's two tables must be plain tables (not views, partitions or inheritance parents) with
exactly rai's columns, primary keys and append-only triggers; rules, row-level security
policies and any other trigger, constraint or index on them were added outside rai and are
reported as tampering: a policy or rule can hide rows from every reader, the verifier included.
rai's three secondary indexes (for listings; no read that decides and no verification uses
them) are accepted when exactly as rai creates them; with the ``amcheck`` extension, verification
also checks every index's content against its table. A missing or disabled append-only trigger, a changed trigger function, or a session that
skips triggers is a warning, as with SQLite: triggers stop accidents, detection does the rest.
"""

from __future__ import annotations

import re
from typing import Any

TABLES = ("rai_trail_events", "rai_trail_checkpoints")
COLUMNS = {
    "rai_trail_events": [("seq", "bigint", True), ("time", "text", True), ("run_id", "text", False),
                         ("actor", "text", True), ("kind", "text", True), ("body", "text", True),
                         ("prev_hash", "text", True), ("entry_hash", "text", True)],
    "rai_trail_checkpoints": [("id", "bigint", True), ("tree_size", "bigint", True), ("doc", "text", True)],
}
_PKEY = {"rai_trail_events": "seq", "rai_trail_checkpoints": "id"}
_INDEXES = {"rai_trail_events_by_run": "(run_id, seq)", "rai_trail_events_by_kind": "(kind, seq)",
                   "rai_trail_events_by_run_kind": "(run_id, kind, seq)"}
FUNCTION_SOURCE = " BEGIN RAISE EXCEPTION 'rai audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME; END "
TRIGGERS = {f"{t}_{s}" for t in TABLES for s in ("append_only", "no_truncate")}


def _expected_triggers(qualified: str, table: str) -> dict[str, str]:
    action = "EXECUTE FUNCTION rai_trail_refuse_change()"
    return {f"{table}_append_only": f"CREATE TRIGGER {table}_append_only BEFORE DELETE OR UPDATE ON {qualified} "
                                    f"FOR EACH ROW {action}",
            f"{table}_no_truncate": f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {qualified} "
                                    f"FOR EACH STATEMENT {action}"}


def catalog_problems(conn: Any) -> tuple[list[str], list[str]]:
    """(tampering, warnings): how rai's tables in the catalog differ from what rai creates."""
    problems: list[str] = []
    warnings: list[str] = []
    for table in TABLES:
        got = conn.execute(
            "SELECT c.oid, c.relkind, c.relrowsecurity, c.relforcerowsecurity, "
            "quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)", [table]).fetchone()
        if got is None:
            problems.append(f"table {table} is missing")
            continue
        oid, relkind, rls, force_rls, qualified = got
        if relkind != "r":
            problems.append(f"{table} is not a plain table (relkind {relkind!r}): reads would not see the rows rai wrote")
            continue
        if rls or force_rls:
            problems.append(f"row-level security is enabled on {table}: a policy can hide rows from every reader")
        problems += _table_problems(conn, oid, table, qualified, warnings)
    source = conn.execute("SELECT prosrc FROM pg_proc WHERE oid = to_regproc('rai_trail_refuse_change')").fetchone()
    if source is None or source[0] != FUNCTION_SOURCE:
        warnings.append("the append-only trigger function rai_trail_refuse_change was changed or removed "
                        "outside rai")
    if conn.execute("SELECT current_setting('session_replication_role')").fetchone()[0] == "replica":
        warnings.append("session_replication_role is 'replica' for rai's sessions: the append-only triggers "
                        "do not fire")
    return problems, warnings


def _table_problems(conn: Any, oid: int, table: str, qualified: str, warnings: list[str]) -> list[str]:
    problems: list[str] = []
    columns = [tuple(r) for r in conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [oid])]
    if columns != COLUMNS[table]:
        problems.append(f"the columns of {table} are not as rai creates them: {columns}")
    if conn.execute("SELECT 1 FROM pg_inherits WHERE inhrelid = %s OR inhparent = %s", [oid, oid]).fetchone():
        problems.append(f"{table} takes part in table inheritance: reads of it would include other tables' rows")
    for (name,) in conn.execute("SELECT rulename FROM pg_rewrite WHERE ev_class = %s", [oid]):
        problems.append(f"rule {name} on {table} was added outside rai")
    for (name,) in conn.execute("SELECT polname FROM pg_policy WHERE polrelid = %s", [oid]):
        problems.append(f"row-level security policy {name} on {table} was added outside rai")
    constraints = {r[0]: r[1] for r in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s", [oid])}
    if constraints != {f"{table}_pkey": f"PRIMARY KEY ({_PKEY[table]})"}:
        problems.append(f"the constraints of {table} are not as rai creates them: {constraints}")
    problems += _index_problems(conn, oid, table, qualified)
    expected = _expected_triggers(qualified, table)
    for name, definition, enabled in conn.execute(
            "SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger WHERE tgrelid = %s "
            "AND NOT tgisinternal", [oid]):
        if expected.pop(name, None) != definition:
            problems.append(f"trigger {name} on {table} is not as rai creates it: {definition}")
        elif enabled not in ("O", "A"):
            warnings.append(f"append-only trigger {name} is disabled: the database was altered outside rai")
    if expected:
        warnings.append(f"append-only trigger(s) {', '.join(sorted(expected))} missing: the database was "
                        "altered outside rai")
    return problems


def _index_problems(conn: Any, oid: int, table: str, qualified: str) -> list[str]:
    allowed = {f"{table}_pkey": f"CREATE UNIQUE INDEX {table}_pkey ON {qualified} USING btree ({_PKEY[table]})"}
    if table == "rai_trail_events":
        allowed.update({name: f"CREATE INDEX {name} ON {qualified} USING btree {cols}"
                        for name, cols in _INDEXES.items()})
    problems = []
    for name, definition, usable in conn.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid AND i.indisready AND i.indislive "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s", [oid]):
        if allowed.get(name) != definition:
            problems.append(f"index {name} on {table} is not as rai creates it: {definition}")
        elif not usable:
            problems.append(f"index {name} on {table} is marked invalid")
    return problems  # a missing primary key shows in the constraints


_TUPLE = re.compile(r"heap tuple \((\d+),(\d+)\)")


def _checkable_indexes(conn: Any) -> tuple[list[str], bool]:
    """(names of the indexes on rai's tables, whether this session may check their contents)."""
    names = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t) ORDER BY c.relname",
        [list(TABLES)])]
    usable = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'amcheck') AND "
        "has_function_privilege('bt_index_check(regclass, boolean)', 'EXECUTE')").fetchone()[0]
    return names, bool(usable)


def index_problems(conn: Any, is_corruption) -> list[tuple[str, int | None, str]]:
    """Every index on rai's tables checked against its table with amcheck (when available): an
    index that leaves out a row is located at that row's seq."""
    names, usable = _checkable_indexes(conn)
    found: list[tuple[str, int | None, str]] = []
    for name in names if usable else []:
        try:
            conn.execute("SELECT bt_index_check(%s::regclass, true)", [name])
        except Exception as err:
            if not is_corruption(err):
                raise
            message = str(err).strip().splitlines()[0]
            tid = _TUPLE.search(message)
            table = "rai_trail_events" if name.startswith("rai_trail_events") else "rai_trail_checkpoints"
            seq = None
            if tid and table == "rai_trail_events":
                got = conn.execute("SELECT seq FROM rai_trail_events WHERE ctid = %s::tid",
                                   [f"({tid.group(1)},{tid.group(2)})"]).fetchone()
                seq = got[0] if got else None
            where = f"does not list entry {seq}: a read through it would not see the entry" if seq is not None \
                else "disagrees with its table"
            found.append(("schema", seq, f"index '{name}' {where} (the index was forged or damaged): {message}"))
    return found
