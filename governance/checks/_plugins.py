"""Checks from outside rai: installed packages (the ``rai.checks`` entry points) and policy files.

A plugin registers checks the way rai's own families do, with ``@register``; loading it only
imports it. Loading is all or nothing: a plugin that fails to import, registers a name that is
already taken or declares invalid stages leaves no check behind, and raises
:class:`PluginError`, one line naming the plugin and, when the failure is inside the plugin's
own code, the file and line where it happened.

This module receives the registry from :mod:`governance.checks.base` rather than importing it,
so that ``base.load_all`` can load the installed plugins without an import cycle.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from importlib import metadata
from typing import Any

from governance.errors import UserError

ENTRY_POINT_GROUP = "rai.checks"
BUILT_IN = "built-in"


class PluginError(UserError):
    """A plugin could not be loaded: it failed to import, or registered a check it may not."""


def load_guarded(registry: dict[str, Any], origins: dict[str, str], origin: str,
                 load: Callable[[], Any], where: str | None = None) -> list[str]:
    """Run ``load`` (an import); return the names it registered, each recorded as ``origin``.

    Parameters
    ----------
    registry, origins : the check registry and the origin of every name in it
    origin : how ``rai checks`` names the plugin (``plugin file ./checks.py``)
    load : imports the plugin
    where : the plugin as an error message names it (default: ``origin``)

    Raises
    ------
    PluginError
        The import raised; nothing it registered stays registered.
    """
    before, origins_before = dict(registry), dict(origins)
    try:
        load()
    except Exception as err:  # noqa: BLE001  (any failure of foreign code is the plugin's)
        registry.clear()
        registry.update(before)
        origins.clear()
        origins.update(origins_before)
        raise PluginError(f"{where or origin}: cannot load plugin: {describe_failure(err)}") from None
    added = [name for name in registry if name not in before]
    for name in added:
        origins[name] = origin
    return added


def module_origin(module: str) -> str:
    """``built-in`` for rai's own families; the defining file (or module) for anything else."""
    if module.startswith("governance."):
        return BUILT_IN
    return getattr(sys.modules.get(module), "__file__", None) or module


def describe_failure(err: BaseException) -> str:
    """``ExcType: message (file.py, line N)``: the innermost frame outside rai and the standard library."""
    if isinstance(err, SyntaxError) and err.filename and err.lineno:
        return f"{type(err).__name__}: {err.msg} ({os.path.realpath(err.filename)}, line {err.lineno})"
    text = f"{type(err).__name__}: {str(err).strip()}".rstrip(": ")
    frames = [f for f in traceback.extract_tb(err.__traceback__) if _foreign(f.filename)]
    if frames:
        return f"{text} ({os.path.realpath(frames[-1].filename)}, line {frames[-1].lineno})"
    return text


_HERE = os.path.dirname(os.path.realpath(__file__))
# rai's own loading code: a failure is never located there, but in the plugin's frames.
_LOADERS = {os.path.join(_HERE, "_plugins.py"), os.path.join(_HERE, "base.py"),
            os.path.join(os.path.dirname(_HERE), "policy", "plugins.py")}


def _foreign(filename: str) -> bool:
    """Whether a traceback frame is the plugin's code (not importlib's, not rai's loaders)."""
    if filename.startswith("<frozen") or "/importlib/" in filename:
        return False
    return os.path.realpath(filename) not in _LOADERS


def entry_points() -> list[metadata.EntryPoint]:
    """The installed ``rai.checks`` entry points, in a stable order."""
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))


def entry_point_origin(ep: metadata.EntryPoint) -> str:
    """``plugin acme-checks 1.0 (entry point acme = acme_checks.checks)``."""
    dist = getattr(ep, "dist", None)
    package = f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"
    return f"plugin {package} (entry point {ep.name} = {ep.value})"


def load_entry_points(registry: dict[str, Any], origins: dict[str, str], done: set[str]) -> None:
    """Import every installed ``rai.checks`` entry point not yet in ``done``.

    An entry point names a module (``acme_checks.checks``) whose import registers checks, or an
    object in it (``acme_checks.checks:MinRows``), which is then imported the same way.
    """
    for ep in entry_points():
        key = f"{ep.name}={ep.value}"
        if key in done:
            continue
        origin = entry_point_origin(ep)
        load_guarded(registry, origins, origin, ep.load, where=f"{ENTRY_POINT_GROUP}: {origin}")
        done.add(key)
