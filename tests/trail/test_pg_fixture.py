"""The PostgreSQL fixture's contract: skip locally without the server binaries, fail in CI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()


def _run_postgres_test(tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ.update(env, RAI_TEST_PG_BIN=str(tmp_path / "no-postgres-here"))
    test = f"{HERE.parent / 'test_postgres.py'}::test_postgres_reader_does_not_create_tables"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--rootdir", str(HERE.parents[2]), test], capture_output=True, text=True,
                          cwd=HERE.parents[2], env=environ, timeout=120)


@pytest.mark.parametrize("ci, expected_code, expected_text", [
    (None, 0, "1 skipped"),
    ("true", 1, "CI is set but PostgreSQL server binaries"),
])
def test_missing_server_binaries(tmp_path, ci, expected_code, expected_text):
    proc = _run_postgres_test(tmp_path, **({"CI": ci} if ci else {}))
    assert proc.returncode == expected_code, proc.stdout + proc.stderr
    assert expected_text in proc.stdout
