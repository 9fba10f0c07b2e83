"""rai: Responsible-AI governance for your own ML code.

Policies, audits, gates and the tamper-evident trail from Python; the ``rai`` command is a thin
layer over the same functions. Importing ``rai`` loads neither TensorFlow nor Streamlit: names are
resolved on first use (PEP 562), and only :mod:`rai.keras` and model optimization need TensorFlow.

>>> import rai
>>> policy = rai.load_policy("policy.yaml")                          # doctest: +SKIP
>>> result = rai.audit(policy, "evaluate", predictions=rai.Predictions(y, y_hat, sex))  # doctest: +SKIP
>>> with rai.start_run("credit-scoring", policy=policy) as run:      # doctest: +SKIP
...     run.gate("evaluate", predictions=rai.Predictions(y, y_hat, sex))
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module defining it
_EXPORTS: dict[str, str] = {
    # policies and audits
    "load_policy": "governance.api",
    "audit": "governance.api",
    "fairness_report": "governance.api",
    "drift_report": "governance.api",
    "read_table": "governance.api",
    # evidence
    "Predictions": "governance.evidence",
    "Evidence": "governance.evidence",
    # results
    "GateResult": "governance.findings",
    "Finding": "governance.findings",
    "Status": "governance.vocabulary",
    "Severity": "governance.vocabulary",
    "Decision": "governance.vocabulary",
    "STAGES": "governance.vocabulary",
    # runs in your own code
    "start_run": "lifecycle.session",
    "Run": "lifecycle.session",
    # the trail
    "open_trail": "governance.api",
    "verify_trail": "governance.api",
    # errors
    "UserError": "governance.errors",
    "PolicyError": "governance.errors",
    "GateBlocked": "governance.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name == "keras":  # the submodule that needs TensorFlow, imported on first use
        return importlib.import_module("rai.keras")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return __all__
