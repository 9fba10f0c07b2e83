"""One owner each for hashing a file, writing one atomically and durably (governance.fsutil), and
for the time and the acting user (governance.provenance)."""

import datetime as dt
import hashlib
import os
import re
import stat

import pytest

from governance import fsutil, provenance
from governance.trail import open_trail
from governance.trail.errors import TrailUnavailable
from governance.trail.files import write_atomic as trail_write_atomic


@pytest.mark.parametrize("size", [0, 1, 1 << 20, 3 * (1 << 20) + 7])
def test_a_file_hash_is_the_sha256_of_its_bytes(tmp_path, size):
    data = os.urandom(size)
    (tmp_path / "f").write_bytes(data)
    assert fsutil.file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()
    assert fsutil.file_sha256(str(tmp_path / "f")) == hashlib.sha256(data).hexdigest()


def test_an_atomic_write_replaces_the_file_with_its_mode_and_flushes_the_directory(tmp_path, monkeypatch):
    flushed = []
    real = fsutil.fsync_dir
    monkeypatch.setattr(fsutil, "fsync_dir", lambda d: (flushed.append(d), real(d)))
    target = tmp_path / "cp.json"
    target.write_bytes(b"old")
    old_umask = os.umask(0o077)
    try:
        fsutil.write_atomic(target, b"new", mode=0o644)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o644  # whatever the umask
    assert flushed == [tmp_path] and os.listdir(tmp_path) == ["cp.json"]
    fsutil.write_atomic(target, b"private", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "key.pem"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        fsutil.write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["key.pem"]
    with pytest.raises(TrailUnavailable, match="key.pem"):  # the trail says it in its own terms (exit 3)
        trail_write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["key.pem"]


def test_times_are_utc_in_their_forms():
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    now, seconds, stamp, today = (provenance.utc_now(), provenance.utc_now_seconds(), provenance.utc_stamp(),
                                  provenance.utc_today())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", now)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", seconds)
    assert re.fullmatch(r"\d{8}T\d{6}Z", stamp) and re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", provenance.new_run_id())
    parsed = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
    assert before <= parsed <= dt.datetime.now(dt.UTC) and today in (before.date(), dt.datetime.now(dt.UTC).date())


@pytest.mark.parametrize("user", [KeyError("no such uid"), OSError("no login"), ""])
def test_the_actor_falls_back_to_the_uid(monkeypatch, tmp_path, user):
    def getuser():
        if isinstance(user, Exception):
            raise user
        return user

    monkeypatch.setattr(provenance.getpass, "getuser", getuser)
    assert provenance.current_actor() == f"uid:{os.getuid()}"
    with open_trail(tmp_path / "ws") as trail:  # the trail records the same actor by default
        assert trail.append("note.added").actor == f"uid:{os.getuid()}"


def test_the_actor_is_the_os_user(monkeypatch, tmp_path):
    monkeypatch.setattr(provenance.getpass, "getuser", lambda: "alice")
    assert provenance.current_actor() == "alice"
    with open_trail(tmp_path / "ws") as trail:  # the trail records the same actor by default
        assert trail.append("note.added").actor == "alice"
