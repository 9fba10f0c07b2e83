"""Text output of ``rai trail`` commands (kept apart so the command module stays short).

Everything printed from the trail is data someone else wrote (actors, run ids, payloads,
checkpoint file names): it goes through :func:`governance.textsafe.printable`, so that an ANSI or
OSC sequence, a forged line or a direction override in a value is seen, not obeyed. JSON output
escapes the same characters (``\\u009b``), which JSON readers decode back to the exact value.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import click

from governance.errors import UserError
from governance.fsutil import fsync_dir
from governance.textsafe import printable
from governance.trail import Event, VerifyReport

_MAX_LISTED = 20
CSV_COLUMNS = ["seq", "time", "run_id", "actor", "kind", "subjects", "payload", "prev_hash", "entry_hash"]


def json_text(data: Any, indent: int | None = 2) -> str:
    """JSON (keys sorted, UTF-8) in which no character that could steer a terminal is left raw."""
    text = json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False)
    unsafe = {c: f"\\u{ord(c):04x}" for c in set(text) if c not in "\n " and printable(c) != c}
    return text.translate(str.maketrans(unsafe)) if unsafe else text


def print_report(report: VerifyReport) -> None:
    """Human summary of a verification: one verdict line, then the problems (first first)."""
    for warning in report.warnings:
        click.echo(f"warning: {printable(warning)}", err=True)
    if report.ok:
        latest = report.latest_checkpoint
        click.echo(f"trail intact: {report.size} entries, {report.checkpoints_verified} checkpoint(s) verified, "
                   f"{report.blobs_checked} blob(s) checked")
        if latest is not None:
            click.echo(f"  latest checkpoint: {latest.tree_size} entries at {printable(latest.time)}, "
                       f"key {latest.key_id[:16]}…")
            if latest.tree_size < report.size:
                click.echo(f"  entries {latest.tree_size + 1}..{report.size} are not yet covered by a checkpoint")
        else:
            click.echo("  no checkpoint yet: run `rai trail checkpoint` so that truncation can be detected")
        click.echo(f"  head {report.head_hash or '-'}\n  root {report.root_hash}")
        return
    click.echo(f"TAMPERED: {printable(report.first)}")
    for problem in report.problems[1:_MAX_LISTED]:
        click.echo(f"  also {printable(problem)}")
    if len(report.problems) > _MAX_LISTED:
        click.echo(f"  ... and {len(report.problems) - _MAX_LISTED} more (use --json for all)")


def event_line(event: Event) -> str:
    summary = json.dumps(event.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if len(summary) > 80:
        summary = summary[:79] + "…"
    t = printable
    return (f"{event.seq:>6}  {t(event.time[:19])}Z  {t(event.kind):<20} {t(event.run_id or '-'):<20} "
            f"{t(event.actor):<12} {t(summary)}")


def write_events(events: Iterable[Event], fmt: str, out: IO[str]) -> int:
    """Write events as JSON lines or CSV; return how many were written.

    CSV fields are written exactly, except on a terminal, where they are shown escaped.
    """
    n = 0
    if fmt == "jsonl":
        for event in events:
            out.write(json_text(event.to_dict(), indent=None) + "\n")
            n += 1
        return n
    shown = printable if _is_terminal(out) else str
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for event in events:
        row = event.to_dict()
        for column in ("subjects", "payload"):
            row[column] = json.dumps(row[column], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        writer.writerow({k: (shown(v) if isinstance(v, str) else v) for k, v in row.items()})
        n += 1
    return n


def _is_terminal(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def write_output(path: Path, write) -> Any:
    """Call ``write(file)`` on a new file that replaces ``path`` only when complete; return its result.

    A path that cannot be written is one :class:`UserError` line naming it (exit 2), and leaves
    no partial file; a path that is not a regular file (``/dev/stdout``, a FIFO) is written directly.
    """
    try:
        direct = path.exists() and not path.is_file()
    except (OSError, ValueError) as err:
        raise _cannot_write(path, err) from None
    target = path if direct else path.with_name(f".{path.name}.{os.getpid()}.tmp")
    done = False
    try:
        with target.open("w", encoding="utf-8", newline="") as f:
            result = write(f)
            if not direct:  # durable before it replaces anything, as fsutil.write_atomic
                f.flush()
                os.fsync(f.fileno())
        if not direct:
            os.replace(target, path)
            fsync_dir(path.parent)
        done = True
    except OSError as err:
        raise _cannot_write(path, err) from None
    finally:
        if not direct and not done:
            _remove(target)
    return result


def _cannot_write(path: Path, err: Exception) -> UserError:
    reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    return UserError(f"{printable(path)}: cannot write: {reason}")


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # the original error is the one to report
