"""Text output of ``rai trail`` commands (kept apart so the command module stays short)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO

import click

from governance.trail import Event, VerifyReport

_MAX_LISTED = 20
CSV_COLUMNS = ["seq", "time", "run_id", "actor", "kind", "subjects", "payload", "prev_hash", "entry_hash"]


def print_report(report: VerifyReport) -> None:
    """Human summary of a verification: one verdict line, then the problems (first first)."""
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.ok:
        latest = report.latest_checkpoint
        click.echo(f"trail intact: {report.size} entries, {report.checkpoints_verified} checkpoint(s) verified, "
                   f"{report.blobs_checked} blob(s) checked")
        if latest is not None:
            click.echo(f"  latest checkpoint: {latest.tree_size} entries at {latest.time}, key {latest.key_id[:16]}…")
            if latest.tree_size < report.size:
                click.echo(f"  entries {latest.tree_size + 1}..{report.size} are not yet covered by a checkpoint")
        else:
            click.echo("  no checkpoint yet: run `rai trail checkpoint` so that truncation can be detected")
        click.echo(f"  head {report.head_hash or '-'}\n  root {report.root_hash}")
        return
    first = report.first
    click.echo(f"TAMPERED: {first}")
    for problem in report.problems[1:_MAX_LISTED]:
        click.echo(f"  also {problem}")
    if len(report.problems) > _MAX_LISTED:
        click.echo(f"  ... and {len(report.problems) - _MAX_LISTED} more (use --json for all)")


def event_line(event: Event) -> str:
    summary = json.dumps(event.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if len(summary) > 80:
        summary = summary[:79] + "…"
    return f"{event.seq:>6}  {event.time[:19]}Z  {event.kind:<20} {event.run_id or '-':<20} {event.actor:<12} {summary}"


def write_events(events: Iterable[Event], fmt: str, out: IO[str]) -> int:
    """Write events as JSON lines or CSV; return how many were written."""
    n = 0
    if fmt == "jsonl":
        for event in events:
            out.write(json.dumps(event.to_dict(), sort_keys=True, ensure_ascii=False) + "\n")
            n += 1
        return n
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for event in events:
        row = event.to_dict()
        for column in ("subjects", "payload"):
            row[column] = json.dumps(row[column], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        writer.writerow(row)
        n += 1
    return n
