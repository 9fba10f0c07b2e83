"""Opening a workspace's trail (SQLite by default, PostgreSQL by URL), and verifying one that
may not even open."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from governance.errors import UserError
from governance.trail.checkpoints import Checkpoint
from governance.trail.errors import TrailIntegrityError, TrailMissing
from governance.trail.problems import VerifyReport
from governance.trail.store import Store
from governance.trail.trail import Trail, as_checkpoints
from governance.workspace import Workspace

_SQLITE_SUFFIXES = {".db", ".sqlite", ".sqlite3"}


def open_trail(workspace_or_path: Workspace | str | Path | None = None, url: str | None = None, *,
               create: bool = True, signing_key: str | Path | None = None) -> Trail:
    """Open the trail of a workspace.

    Parameters
    ----------
    workspace_or_path : a :class:`Workspace`, a workspace directory, or a SQLite file (its
        directory then holds keys, checkpoints and blobs); default: ``Workspace.at()``
    url : ``postgresql://...`` (or ``sqlite:///path``); default: the workspace's ``trail_url``,
        else SQLite in ``trail.db``
    create : create the store if missing; readers pass ``False`` so that a wrong workspace is an
        error (``TrailMissing``) rather than a new, empty trail
    signing_key : private key file that signs checkpoints (overrides ``RAI_SIGNING_KEY``)
    """
    return _open(workspace_or_path, url, create, signing_key, check_schema=True)


def _open(workspace_or_path, url: str | None, create: bool, signing_key, check_schema: bool) -> Trail:
    ws, sqlite_path = _resolve(workspace_or_path)
    url = url or (None if sqlite_path else ws.trail_url)
    return Trail(_store(ws, sqlite_path, url, create, check_schema), ws, signing_key)


def _store(ws: Workspace, sqlite_path: Path | None, url: str | None, create: bool, check_schema: bool) -> Store:
    from governance.trail.store_sqlite import SQLiteStore

    if url is None:
        return SQLiteStore(sqlite_path or ws.trail_db, create=create, check_schema=check_schema)
    if url.startswith(("postgresql://", "postgres://")):
        from governance.trail.store_postgres import PostgresStore

        return PostgresStore(url, create=create, check_schema=check_schema)
    if url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
        path = path[2:] if path.startswith("//") else path  # sqlite:///abs and sqlite:rel both work
        return SQLiteStore(Path(path), create=create, check_schema=check_schema)
    scheme = url.split(":", 1)[0]
    raise UserError(f"trail URL scheme '{scheme}:' is not supported (use postgresql://... or sqlite:///PATH)")


def _resolve(workspace_or_path) -> tuple[Workspace, Path | None]:
    """The workspace, and the SQLite file when one was named directly."""
    if isinstance(workspace_or_path, Workspace):
        return workspace_or_path, None
    if workspace_or_path is None:
        return Workspace.at(), None
    p = Path(workspace_or_path)
    if p.suffix in _SQLITE_SUFFIXES or p.is_file():
        return Workspace(p.parent), p
    return Workspace(p), None


def verify_trail(workspace_or_path: Workspace | str | Path | None = None, url: str | None = None,
                 checkpoint: str | Path | Checkpoint | Iterable | None = None,
                 blobs: bool = True) -> VerifyReport:
    """Verify a workspace's trail, also when its database is gone, damaged or altered.

    A missing database with no checkpoint anywhere is a usage mistake (``TrailMissing``); with a
    checkpoint it is a truncation to zero entries. A damaged database file is ``unreadable`` from
    entry 1; an altered schema is reported, not refused.

    Raises
    ------
    TrailUnavailable
        when the machine keeps rai from reading the trail (permissions, a read-only workspace,
        an I/O error, an unreachable server): that is not evidence of tampering (exit 3)
    """
    try:
        trail = _open(workspace_or_path, url, create=False, signing_key=None, check_schema=False)
    except (TrailMissing, TrailIntegrityError) as err:
        from governance.trail.verify import report_without_store

        ws = _resolve(workspace_or_path)[0]
        return report_without_store(ws, as_checkpoints(checkpoint), err)
    with trail:
        return trail.verify(checkpoint, blobs)
