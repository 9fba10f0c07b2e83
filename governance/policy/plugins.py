"""Checks defined in a policy's own Python file: ``plugins: [./checks.py]``.

**A plugin file is code, and loading the policy runs it** (``rai policy lint`` included), with
the rights of whoever runs rai: list only files you would run yourself. The file is read once,
as a regular file of at most 1 MiB; the bytes that are hashed are the bytes that run, and the
hash goes into the policy's SHA-256, so the trail records which code gated a run.

A file is one module: it imports what it needs by absolute name (``from governance.checks.base
import Check, register``), never relative to itself. Larger plugins are packages installed with
a ``rai.checks`` entry point. The same file loads once per process, however many policies list it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import types
from dataclasses import dataclass

from governance.checks._plugins import PluginError
from governance.checks.base import load_plugin
from governance.smallfile import read_file_bytes


@dataclass(frozen=True)
class PluginFile:
    """A loaded plugin file: as the policy wrote it, where it is, its hash and its checks."""

    file: str
    path: str
    sha256: str
    checks: tuple[str, ...]

    def record(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "sha256": self.sha256}


_LOADED: dict[str, PluginFile] = {}  # real path -> the file as it was loaded
_CHECK_FILES: dict[str, str] = {}  # check name -> real path of the file that registered it


def load_plugin_file(ref: str, shown: str) -> PluginFile:
    """Load the plugin file ``ref`` (as the policy writes it), found at ``shown``.

    Raises
    ------
    PluginError
        The file cannot be read, changed since this process loaded it, or fails to load.
    """
    real = os.path.realpath(shown)
    raw = read_file_bytes(shown, shown)  # UnreadableFile (a UserError) says why it cannot be read
    digest = hashlib.sha256(raw).hexdigest()
    done = _LOADED.get(real)
    if done is not None:
        if done.sha256 != digest:
            raise PluginError(f"plugin file {shown} changed since this process loaded it; run rai again")
        return PluginFile(ref, real, digest, done.checks)
    name = f"rai_policy_plugin_{hashlib.sha256(real.encode()).hexdigest()[:16]}"

    def run_module() -> None:
        module = types.ModuleType(name)
        module.__file__ = real
        sys.modules[name] = module
        try:
            exec(compile(raw, shown, "exec"), module.__dict__)  # noqa: S102  (documented: plugins are code)
        except BaseException:
            del sys.modules[name]
            raise

    checks = load_plugin(f"plugin file {ref}", run_module, where=f"plugin file {shown}")
    loaded = PluginFile(ref, real, digest, tuple(checks))
    _LOADED[real] = loaded
    for check in checks:
        _CHECK_FILES[check] = real
    return loaded


def file_of(check: str) -> str | None:
    """The real path of the plugin file that registered ``check``; None for other checks."""
    return _CHECK_FILES.get(check)


def shown_path(ref: str, policy_shown: str) -> str:
    """``ref`` as a path a user can open: relative to the policy file as given, or absolute."""
    return os.path.normpath(os.path.join(os.path.dirname(policy_shown), ref))


__all__ = ["PluginError", "PluginFile", "file_of", "load_plugin_file", "shown_path"]
