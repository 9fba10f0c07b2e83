"""Check families. Importing this package registers every check.

Each family is a module of this package (``fairness.py``, ``drift.py``, ...) whose checks
register themselves with :func:`governance.checks.base.register`; the modules are discovered
(:func:`governance.checks.base.load_all`), so adding a family means adding a file, nothing else.
"""

from governance.checks.base import load_all as _load_all

_load_all()
