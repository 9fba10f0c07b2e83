"""A run gated by confidence-aware rules, recorded through the public API (``rai.start_run``).

Men and women with known confusion counts (tp, fp, tn, fn): men (30, 10, 50, 10), women
(28, 10, 52, 10), so FNR 10/40 and 10/38 and selection rates 40/100 and 38/100. Three
``fairness.group_metric`` rules at 95%:

* ``fnr-gap``: FNR difference at most 0.1: the bootstrap interval of the difference straddles
  0.1, so the finding is **inconclusive** (and blocks, as the rule's failure would);
* ``fnr-ceiling``: largest FNR at most 0.05: every Wilson interval lies above 0.05: **failed**;
* ``selection-floor``: smallest selection rate at least 0.2: every interval clears it: **passed**.
"""

from __future__ import annotations

from pathlib import Path

from checks.cases import confusion_predictions

import rai
from governance.trail import open_trail

COUNTS = {("Male",): (30, 10, 50, 10), ("Female",): (28, 10, 52, 10)}
# (successes, trials) of each group's rate, for the Wilson oracle: FNR is fn / (tp + fn).
FNR = {"sex=Female": (10, 38), "sex=Male": (10, 40)}
SELECTION = {"sex=Female": (38, 100), "sex=Male": (40, 100)}
POLICY = """\
policy: confidence-aware
version: "1"
owner: qa
fail_on: medium
rules:
  - {id: fnr-gap, check: fairness.group_metric, stage: evaluate, severity: high,
     params: {sensitive_features: [sex], metric: fnr, aggregate: difference, max: 0.1, confidence: 0.95}}
  - {id: fnr-ceiling, check: fairness.group_metric, stage: evaluate, severity: medium,
     params: {sensitive_features: [sex], metric: fnr, aggregate: max, max: 0.05, confidence: 0.95}}
  - {id: selection-floor, check: fairness.group_metric, stage: evaluate, severity: medium,
     params: {sensitive_features: [sex], metric: selection_rate, aggregate: min, min: 0.2, confidence: 0.95}}
"""


def add_confidence_run(workspace: Path) -> str:
    """Record the run in ``workspace`` (created if missing); its run id."""
    policy = workspace.parent / "confidence-policy.yaml"
    policy.write_text(POLICY)
    with rai.start_run("confidence-aware", policy=str(policy), workspace=workspace) as run:
        run.gate("evaluate", predictions=confusion_predictions(COUNTS), raise_on_block=False)
    with open_trail(workspace, create=False) as trail:
        return list(trail.runs())[-1]
