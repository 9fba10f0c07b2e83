"""A plugin check end to end: lint, `rai audit --record`, the report and the dashboard's run view."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from dashboards.runview import build_view
from governance.trail import open_trail

from .test_local_plugins import CHECKS

POLICY = """\
policy: team
version: 1
owner: risk@example.org
plugins: [checks.py]
rules:
  - {id: enough-rows, check: team.min_rows, stage: evaluate, severity: high, params: {min: 500}}
  - {id: parity, check: fairness.demographic_parity_difference, stage: evaluate, severity: medium,
     params: {max: 0.5}}
"""


def test_a_plugin_rule_is_audited_recorded_reported_and_shown(tmp_path, rai):
    (tmp_path / "checks.py").write_text(CHECKS)
    (tmp_path / "policy.yaml").write_text(POLICY)
    rng = np.random.default_rng(3)
    n = 300
    pd.DataFrame({"y": rng.integers(0, 2, n), "pred": rng.integers(0, 2, n),
                  "sex": rng.choice(["F", "M"], n)}).to_csv(tmp_path / "preds.csv", index=False)
    code, out, _ = rai("policy", "lint", str(tmp_path / "policy.yaml"))
    assert code == 0, out
    workspace = str(tmp_path / "ws")
    code, out, err = rai("audit", "fairness", "--data", str(tmp_path / "preds.csv"), "--y-true", "y", "--y-pred", "pred",
                         "--sensitive", "sex", "--policy", str(tmp_path / "policy.yaml"), "--json", "--record",
                         "--workspace", workspace)
    assert code == 1, err  # 300 rows, the plugin's rule asks for 500: blocked
    findings = {f["rule_id"]: f for f in json.loads(out)["findings"]}
    assert findings["enough-rows"]["status"] == "failed" and findings["enough-rows"]["message"] == "300 rows (minimum 500)"
    assert findings["parity"]["evidence"]  # the run's sensitive features (--sensitive sex) were used
    run_id = re.search(r"recorded audit run (\S+)", err).group(1)

    code, report, _ = rai("report", run_id, "--format", "md", "--workspace", workspace)
    assert code == 0
    assert "Rule 'enough-rows' (team.min_rows, severity high) failed: 300 rows (minimum 500)." in report
    assert "| enough-rows | evaluate | team.min_rows | high | min=500 | - |" in report
    assert "| enough-rows | FAILED | high | 300 | ≥ 500 | 300 rows (minimum 500) |" in report

    with open_trail(Path(workspace)) as trail:
        view = build_view(trail, run_id)
    frame = view.findings_frame()
    row = frame[frame.rule_id == "enough-rows"].iloc[0]
    assert (row.check, row.status, row.message) == ("team.min_rows", "failed", "300 rows (minimum 500)")
