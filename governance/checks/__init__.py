"""Check families. Importing this package registers every check.

Each family is a module of this package (``fairness.py``, ``drift.py``, ...) whose checks
register themselves with :func:`governance.checks.base.register`; the modules are discovered,
so adding a family means adding a file, nothing else.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from governance.checks import base  # noqa: F401

for _module in sorted(_pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _module.name != "base" and not _module.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_module.name}")
