"""Running one hostile case: the real ``rai`` entry point under a deadline, and what it must print.

Every case asserts the same contract: a user mistake is exit 2 and exactly one line on stderr; a
blocked gate or a mismatch is exit 1; nothing ever prints a traceback, and nothing runs past its
deadline. In-process runs use an alarm (the C code rai calls returns to Python often enough);
cases that could hang in a way an alarm cannot interrupt run in a child process instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

DEADLINE_SECONDS = 60
# What a terminal would obey: ESC (CSI, OSC), the one-byte CSI, BEL, and direction overrides.
TERMINAL_CONTROLS = ("\x1b", "\x9b", "\x07", "\u202e", "\r")


class Overrun(Exception):
    """A case ran past its deadline."""


@contextmanager
def deadline(seconds: int = DEADLINE_SECONDS) -> Iterator[None]:
    """Raise :class:`Overrun` in the block if it runs longer than ``seconds``."""

    def expire(signum, frame):
        raise Overrun(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(rai: Callable[..., tuple[int, str, str]], *args: str, seconds: int = DEADLINE_SECONDS) -> tuple[int, str, str]:
    """``rai(*args)`` (the in-process CLI fixture) under a deadline; never a traceback."""
    with deadline(seconds):
        code, out, err = rai(*args)
    assert "Traceback" not in out + err, err
    return code, out, err


def run_process(args: list[str], cwd: Path, seconds: int = DEADLINE_SECONDS,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m rai ARGS`` in a child process, killed after ``seconds``; never a traceback."""
    done = subprocess.run([sys.executable, "-m", "rai", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=seconds, env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def one_clean_line(err: str, *needles: str) -> str:
    """The single line of ``err`` (a user error), which must contain every needle."""
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not any(c in lines[0] for c in TERMINAL_CONTROLS), repr(lines[0])
    return lines[0]


def assert_no_terminal_controls(*texts: str) -> None:
    """None of ``texts`` holds a character a terminal would act on."""
    for text in texts:
        found = sorted({c for c in TERMINAL_CONTROLS if c in text})
        assert not found, (found, text[:400])


#: Settings that would point a trail command at another trail or key than the case's own.
TRAIL_ENVIRONMENT = ("RAI_SIGNING_KEY", "RAI_TRAIL_URL", "RAI_WORKSPACE")


@contextmanager
def trail_case(monkeypatch, seconds: int = DEADLINE_SECONDS) -> Iterator[None]:
    """A trail case: none of the user's trail settings, and a deadline."""
    for name in TRAIL_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    with deadline(seconds):
        yield
