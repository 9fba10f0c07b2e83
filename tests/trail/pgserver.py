"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl in a temporary directory.

The server listens only on a Unix socket inside its own directory (no TCP, so nothing clashes
with other servers), trusts local connections and runs with fsync off (these tests check
concurrency and tamper detection, not PostgreSQL's own durability). As root, the server runs as
the ``postgres`` user (or ``nobody``) via ``runuser``, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN_ENV = "RAI_TEST_PG_BIN"  # optional: a directory holding initdb and pg_ctl


def find_bin_dir() -> Path | None:
    """Directory with ``initdb`` and ``pg_ctl``: $RAI_TEST_PG_BIN (only it, when set), Debian's
    layout, or PATH."""
    if os.environ.get(BIN_ENV):
        given = Path(os.environ[BIN_ENV])
        return given if (given / "initdb").is_file() and (given / "pg_ctl").is_file() else None
    candidates = []
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(debian, key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0,
                         reverse=True)
    on_path = shutil.which("initdb")
    candidates.append(str(Path(on_path).parent) if on_path else "")
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


@dataclass
class PgServer:
    bin_dir: Path
    base: Path
    port: int
    user: str = "rai"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.base}&port={self.port}"

    @contextmanager
    def database(self):
        """A fresh, empty database for one test; yields its URL and drops it afterwards."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            yield self.url(name)
        finally:
            with psycopg.connect(self.url(), autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", _server_user(), "--", *cmd]


def _server_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root but there is no 'postgres' or 'nobody' user to run PostgreSQL as")


@contextmanager
def running_server(bin_dir: Path):
    """Start a server; yield a :class:`PgServer`; stop it and remove its files."""
    # /tmp: short enough for a Unix socket path, and reachable by the server's user when we are root.
    base = Path(tempfile.mkdtemp(prefix="rai-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(_server_user())
        os.chown(base, entry.pw_uid, entry.pw_gid)
    data, log, port = base / "data", base / "server.log", _free_port()
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    try:
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "rai", "--auth=trust",
                                        "--encoding=UTF8", "--no-sync"]), **run)
        options = (f"-c listen_addresses='' -c unix_socket_directories='{base}' -p {port} "
                   "-c fsync=off -c max_connections=60")
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                                        "-t", "60", "-o", options, "start"]), **run)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        detail = getattr(err, "stderr", "") or ""
        if log.exists():
            detail += log.read_text(errors="replace")[-2000:]
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL from {bin_dir}: {err}\n{detail}") from None
    try:
        yield PgServer(bin_dir, base, port)
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                        "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
