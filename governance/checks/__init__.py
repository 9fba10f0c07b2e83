"""Check families. Importing this package registers every check.

Each family lives in its own module; add the module to the import list below.
"""

# Families register themselves on import.
import importlib as _importlib

from governance.checks import base  # noqa: F401

for _family in ("fairness", "performance", "drift", "privacy", "accountability", "data", "optimize"):
    try:
        _importlib.import_module(f"governance.checks.{_family}")
    except ModuleNotFoundError as _err:  # a family not written yet
        if _err.name != f"governance.checks.{_family}":
            raise
