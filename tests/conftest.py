"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rai.cli import main


@pytest.fixture
def rai(capsys) -> Callable[..., tuple[int, str, str]]:
    """``rai(*args) -> (exit code, stdout, stderr)`` through the real entry point, in-process."""

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
