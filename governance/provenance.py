"""Where and when a record comes from: run ids, the time, the acting user, tool versions, the
code revision, the policy.

One owner for these facts: the trail, the pipeline, ``rai.start_run`` runs, recorded audits,
reports and registry entries all take them from here.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import platform
import secrets
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the trail's times: RFC 3339, UTC, microseconds

# Distributions whose versions explain a run's numbers.
_VERSIONED = ("rai", "tensorflow", "tf-keras", "tensorflow-privacy", "ai-edge-litert", "numpy", "pandas",
              "dp-accounting", "pydantic")


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus 6 random hex digits, e.g. ``20250131T093000Z-a1b2c3``."""
    return utc_stamp() + "-" + secrets.token_hex(3)


def utc_now() -> str:
    """The current time as RFC 3339 UTC with microseconds, e.g. ``2025-01-31T09:30:00.123456Z``.

    One fixed width, so that comparing the text compares the instants (the trail's times).
    """
    return dt.datetime.now(dt.UTC).strftime(UTC_FORMAT)


def utc_now_seconds() -> str:
    """The current time as RFC 3339 UTC to the second, e.g. ``2025-01-31T09:30:00Z`` (documents)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_stamp() -> str:
    """The current UTC time to the second in a name's compact, sortable form: ``20250131T093000Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def utc_today() -> dt.date:
    """Today's date in UTC, whatever the host's time zone (waivers expire by it)."""
    return dt.datetime.now(dt.UTC).date()


def current_actor() -> str:
    """The OS user running rai (``uid:N`` when the system cannot name the user)."""
    try:
        return getpass.getuser() or f"uid:{os.getuid()}"
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def versions() -> dict[str, str | None]:
    """Python, platform and the versions of the packages that produce the run's numbers."""
    out: dict[str, str | None] = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def code_revision(directory: Path) -> str | None:
    """``git rev-parse HEAD`` of the repository holding ``directory`` (``+dirty`` if modified), or None."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def policy_payload(policy: Any) -> dict[str, Any]:
    """Identity and full content of a policy (rules with parameters, waivers) for ``run.started``."""
    data = policy.model_dump(mode="json", exclude={"extends"})
    return {**data, "name": policy.policy, "sha256": policy.sha256, "source": policy_source(policy)}


def policy_source(policy: Any) -> str | None:
    """The policy file as an absolute path, so that ``--resume`` and ``monitor`` find it from anywhere."""
    return str(Path(policy.source).resolve()) if policy.source else None
