"""Every dashboard page, run with ``streamlit.testing`` on seeded workspaces.

The seeded workspace (see ``workspaces.py``) holds a passing DP-SGD run with LiteRT variants, a
run blocked at its evaluate gate, a run awaiting approval, and a monitor batch that drifted.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from governance.trail import open_trail

from .conftest import APP, plain
from .workspaces import AWAITING_RUN, BLOCKED_RUN, MONITOR_RUN, PASSED_RUN, tamper

PAGES = ["overview", "run", "trail", "policies", "models", "reports", "approvals"]
TITLES = {"overview": "rai audit dashboard", "run": "Run", "trail": "Audit trail", "policies": "Policies",
          "models": "Models", "reports": "Reports", "approvals": "Approvals"}


def tab(at: AppTest, label: str):
    return next(t for t in at.tabs if t.label == label)


def chart_data(container) -> list:
    """The datasets of each Vega-Lite chart in ``container``, as DataFrames (one list per chart)."""
    return [[pa.ipc.open_stream(ds.data.data).read_all().to_pandas() for ds in chart.proto.datasets]
            for chart in container.get("vega_lite_chart")]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_seeded_workspace(open_page, seeded, page):
    at = open_page(page, seeded)
    assert at.title[0].value == TITLES[page]
    # The Run page opens on the newest run, the blocked monitor batch: its decision is an error box.
    assert [e.value for e in at.error] == (["Decision: **blocked**"] if page == "run" else [])


def test_navigation_opens_every_page(monkeypatch, seeded):
    monkeypatch.setenv("RAI_WORKSPACE", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert at.title[0].value == "rai audit dashboard" and not at.exception
    for page in PAGES[1:]:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception and at.title[0].value == TITLES[page]


def test_overview_lists_every_run_with_its_decision_and_an_intact_badge(open_page, seeded):
    at = open_page("overview", seeded)
    assert at.success[0].value.startswith("Trail intact: 36 events")
    runs = at.dataframe[0].value.set_index("run_id")
    assert runs["decision"].to_dict() == {MONITOR_RUN: "blocked", AWAITING_RUN: "awaiting_approval",
                                          BLOCKED_RUN: "blocked", PASSED_RUN: "passed"}
    assert runs.loc[BLOCKED_RUN, "blocked_at"] == "evaluate" and runs.loc[MONITOR_RUN, "kind"] == "monitor"
    assert runs.loc[PASSED_RUN, ["model", "policy", "actor"]].tolist() == ["adult-income", "eu-ai-act-high-risk 1.0",
                                                                           "alice"]
    assert runs.loc[PASSED_RUN, "open"] == f"run?run={PASSED_RUN}"
    assert {m.label: m.value for m in at.metric} == {"Runs": "4", "Passed": "1", "Blocked": "2",
                                                     "Awaiting approval": "1", "Failed": "0"}
    at.multiselect[1].set_value(["blocked"]).run()
    assert set(at.dataframe[0].value["run_id"]) == {BLOCKED_RUN, MONITOR_RUN}


def test_a_tampered_trail_shows_the_red_badge_naming_the_edited_entry(open_page, workspace):
    seq = tamper(workspace, BLOCKED_RUN, "run.finished", '"decision":"blocked"', '"decision":"passed"')
    for page in ("overview", "trail"):
        at = open_page(page, workspace)
        assert not at.success
        assert "Trail TAMPERED" in at.error[0].value and f"entry {seq}: edited" in plain(at.error[0].value)
    problems = at.dataframe[0].value
    assert (problems["kind"] == "edited").any() and seq in set(problems["seq"])


def test_run_page_of_the_passing_dp_run(open_page, seeded):
    at = open_page("run", seeded, run=PASSED_RUN)
    assert PASSED_RUN.replace("-", "\\-") in at.header[0].value
    assert at.success[0].value == "Decision: **passed**"
    findings = tab(at, "Findings").dataframe[0].value
    assert len(findings) == 18 and set(findings["status"]) == {"passed", "warning", "waived", "failed"}
    stages = tab(at, "Timeline").dataframe[0].value
    completed = stages[stages["kind"] == "stage.completed"]["stage"].tolist()
    assert completed == ["ingest", "train", "evaluate", "optimize", "deploy"]
    assert stages["kind"].tolist()[-2:] == ["run.finished", "model.deployed"]
    gates = tab(at, "Gates").dataframe[0].value
    assert gates[gates["subject"] == "dynamic_range"][["decision", "binding"]].values.tolist() == [["blocked", False]]


def test_run_page_privacy_budget_against_the_policy_limit(open_page, seeded):
    privacy = tab(open_page("run", seeded, run=PASSED_RUN), "Privacy")
    assert {m.label: m.value for m in privacy.metric} == {"ε spent": "1.182", "δ": "1e-05", "Noise multiplier": "1.1",
                                                          "ε limit (policy)": "8"}
    progress = privacy.get("progress")[0].proto
    assert progress.value == 14 and "15% of the policy's privacy budget" in progress.text


def test_run_page_litert_variants_beside_the_parent(open_page, seeded):
    table = tab(open_page("run", seeded, run=PASSED_RUN), "LiteRT variants").dataframe[0].value.set_index("model")
    assert list(table.index) == ["parent (Keras)", "int8", "dynamic_range"]
    assert table.loc["int8", "size_ratio"] == pytest.approx(17408 / 61440)
    assert table.loc["dynamic_range", "accuracy_change"] == pytest.approx(0.8188 - 0.8312)
    assert table.loc["int8", "gate"] == "passed" and table.loc["dynamic_range", "gate"] == "blocked"


def test_run_page_blocked_run_explains_why_with_per_group_evidence(open_page, seeded):
    at = open_page("run", seeded, run=BLOCKED_RUN)
    assert at.error[0].value == "Decision: **blocked** at evaluate"
    assert "equal-opportunity-sex (fairness.equal_opportunity_difference)" in at.text[0].value
    findings = tab(at, "Findings")
    # The evidence shown first is the blocking finding's.
    assert "equal opportunity difference 0.2547 > max 0.15" in findings.text[0].value
    per_group = findings.dataframe[1].value.set_index("group")
    assert per_group.loc["sex=Female", "tpr"] == pytest.approx(270 / 590)
    fairness = tab(at, "Fairness")
    assert "**failed**" in fairness.markdown[0].value and len(fairness.dataframe) == 3
    assert list(fairness.dataframe[0].value["group"]) == ["sex=Male", "sex=Female"]


def test_run_page_fairness_tab_charts_group_sizes_in_numeric_band_order(open_page, seeded):
    fairness = tab(open_page("run", seeded, run=MONITOR_RUN), "Fairness")
    assert "live\\-group\\-size** (data\\.group\\_size)" in fairness.markdown[0].value
    assert "observed 12 against 30" in fairness.markdown[0].value  # a rule the recorded policy lacks: as recorded
    bands = ["age_band=<25", "age_band=25-44", "age_band=45-64", "age_band=65+"]  # recorded as text: 25-44 first
    assert fairness.dataframe[0].value["group"].tolist() == bands
    (bars, minimum), = chart_data(fairness)  # one chart: the sizes and the rule's minimum
    assert bars["group"].tolist() == bands and bars["count"].tolist() == [1248, 2210, 1530, 12]
    assert bars["too_small"].tolist() == [False, False, False, True] and minimum["minimum"].tolist() == [30]


def test_run_page_fairness_tab_charts_rates_in_recorded_order(open_page, seeded):
    fairness = tab(open_page("run", seeded, run=PASSED_RUN), "Fairness")
    assert "observed 0\\.07081 against ≤ 0\\.15" in fairness.markdown[0].value
    (rates,) = chart_data(fairness)[0]
    assert not rates.empty and set(rates["rate"]) == {"selection_rate", "tpr", "fpr"}
    assert rates["group"].tolist()[:2] == ["sex=Male", "sex=Female"]


def test_thresholds_read_as_bounds_on_the_run_page(open_page, seeded):
    findings = tab(open_page("run", seeded, run=PASSED_RUN), "Findings").dataframe[0].value.set_index("rule_id")
    assert findings.loc["accuracy", "threshold"] == "≥ 0.8"  # recorded as {"min": 0.8}
    assert findings.loc["equal-opportunity-sex", "threshold"] == "≤ 0.15"  # recorded as 0.15
    assert findings.loc["privacy-budget", "threshold"] == "≤ 8"


def test_monitor_runs_name_the_policy_they_were_gated_with(open_page, seeded):
    overview = open_page("overview", seeded).dataframe[0].value.set_index("run_id")
    assert overview.loc[MONITOR_RUN, "policy"] == "eu-ai-act-high-risk 1.0"
    run = open_page("run", seeded, run=MONITOR_RUN)
    assert "policy eu\\-ai\\-act\\-high\\-risk 1\\.0" in run.caption[0].value


def test_a_monitor_policy_known_only_by_its_hash_is_named_by_it(seeded):
    from report.synthetic_data import POLICY

    from dashboards.queries import monitored_policy, policy_label

    model = {"name": "adult-income", "version": 3}
    with open_trail(seeded, create=False) as t:
        assert monitored_policy(t, MONITOR_RUN, model)["name"] == "eu-ai-act-high-risk"
        unknown = monitored_policy(t, MONITOR_RUN, model, registering={})  # no run registered that model
    assert unknown == {"sha256": POLICY["sha256"]} and policy_label(unknown) == f"sha256 {POLICY['sha256'][:12]}…"


def test_run_page_finding_filters(open_page, seeded):
    at = open_page("run", seeded, run=PASSED_RUN)
    findings = tab(at, "Findings")
    findings.multiselect[0].set_value(["warning"]).run()
    assert tab(at, "Findings").dataframe[0].value["rule_id"].tolist() == ["demographic-parity-sex"]
    tab(at, "Findings").multiselect[0].set_value([]).run()
    tab(at, "Findings").text_input[0].set_value("int8").run()
    assert set(tab(at, "Findings").dataframe[0].value["subject"]) == {"int8"}


def test_run_page_drift_per_column(open_page, seeded):
    drift = tab(open_page("run", seeded, run=MONITOR_RUN), "Drift")
    table = drift.dataframe[0].value
    assert len(table) == 12 and table["drifted"].sum() == 4
    assert "live\\-drift at monitor: **failed**" in drift.markdown[0].value
    assert tab(open_page("run", seeded, run=PASSED_RUN), "Drift").dataframe[0].value["drifted"].sum() == 1


def test_run_page_unknown_run_falls_back_to_the_newest(open_page, seeded):
    at = open_page("run", seeded, run="no-such-run")
    assert "no\\-such\\-run" in at.warning[0].value and at.selectbox[0].value == MONITOR_RUN


def test_trail_page_pages_and_filters_the_log(open_page, seeded):
    at = open_page("trail", seeded)
    log = at.dataframe[0].value
    assert log["seq"].tolist() == list(range(36, 0, -1))
    at.selectbox[0].set_value(25).run()
    assert at.dataframe[0].value["seq"].tolist() == list(range(36, 11, -1))
    at.number_input[0].set_value(2).run()
    assert at.dataframe[0].value["seq"].tolist() == list(range(11, 0, -1))
    at.text_input[0].set_value(BLOCKED_RUN).run()
    at.multiselect[0].set_value(["gate.decided"]).run()
    log = at.dataframe[0].value
    assert set(log["run_id"]) == {BLOCKED_RUN} and set(log["kind"]) == {"gate.decided"} and len(log) == 3
    assert {m.label: m.value for m in at.metric}["Not yet checkpointed"] == "0"


def test_trail_page_inclusion_proof_of_a_selected_event(open_page, seeded):
    at = open_page("trail", seeded)
    at.number_input[1].set_value(7)
    at.button[0].click().run()
    assert "Entry 7 is in the trail signed by the checkpoint of size 36" in at.success[-1].value
    assert json.loads(at.json[-1].value)["seq"] == 7


def test_trail_page_proof_of_an_edited_entry_does_not_check(open_page, workspace):
    seq = tamper(workspace, PASSED_RUN, "approval.recorded", "Reviewed", "Ignored")
    at = open_page("trail", workspace)
    at.number_input[1].set_value(seq)
    at.button[0].click().run()
    assert "The proof does not check" in at.error[-1].value and "content does not match" in at.error[-1].value


def test_models_page_verifies_manifests_and_shows_what_is_deployed(open_page, seeded):
    at = open_page("models", seeded)
    assert "every manifest signature" in at.success[0].value
    assert at.dataframe[0].value[["name", "version", "run_id"]].values.tolist() == [["adult-income", "3", PASSED_RUN]]
    entry = at.dataframe[1].value.iloc[0]
    assert entry["signature"] == "valid" and entry["problems"] == ""


@pytest.mark.parametrize("edit, problem", [
    ("manifest", "manifest signature does not match its content"),
    ("model", "model.tflite: sha256 differs from the manifest"),
])
def test_models_page_flags_an_edited_registry_entry(open_page, workspace, edit, problem):
    entry = workspace / "registry" / "adult-income" / "3"
    if edit == "manifest":
        document = json.loads((entry / "manifest.json").read_text())
        document["manifest"]["run_id"] = BLOCKED_RUN
        (entry / "manifest.json").write_text(json.dumps(document))
    else:
        (entry / "model.tflite").write_bytes(b"another model")
    at = open_page("models", workspace)
    assert "1 of 1 registry entries fail verification" in at.error[0].value
    row = at.dataframe[1].value.iloc[0]
    assert row["signature"] == "INVALID" and problem in row["problems"]


VALID_POLICY = """policy: p
version: '1'
owner: o
rules:
  - {id: fair, check: fairness.demographic_parity_difference, stage: evaluate, severity: high,
     params: {sensitive_features: [sex]}}
"""


def _start_run_with_policy(ws, path, sha):
    rules = [{"id": "fair", "check": "fairness.demographic_parity_difference", "stage": "evaluate",
              "severity": "high", "params": {"sensitive_features": ["sex"]}, "maps_to": []}]
    with open_trail(ws) as t:
        t.append("run.started", run_id="policy-run", actor="erin", payload={
            "spec": {"name": "p"}, "policy": {"name": "p", "version": "1", "sha256": sha, "source": str(path),
                                              "fail_on": "high", "owner": "o", "rules": rules, "waivers": []}})


def test_policies_page_shows_the_policy_in_use_its_rules_and_a_clean_lint(open_page, workspace, tmp_path):
    from governance.policy.loader import load_policy

    path = tmp_path / "p.yaml"
    path.write_text(VALID_POLICY)
    _start_run_with_policy(workspace, path, load_policy(path).sha256)
    at = open_page("policies", workspace)
    used = at.dataframe[0].value.set_index("policy_source")
    assert used.loc[str(path), "runs"] == 1
    assert used.loc["policies/eu-ai-act-high-risk.yaml", "runs"] == 3
    assert f"Lint: {path} is valid" in plain(at.success[0].value) and not at.warning
    assert at.dataframe[1].value[["id", "check", "stage"]].values.tolist() == [
        ["fair", "fairness.demographic_parity_difference", "evaluate"]]


def test_policies_page_reports_lint_errors_and_a_changed_file(open_page, workspace, tmp_path):
    from governance.policy.loader import load_policy

    path = tmp_path / "p.yaml"
    path.write_text(VALID_POLICY)
    _start_run_with_policy(workspace, path, load_policy(path).sha256)
    path.write_text(VALID_POLICY.replace("severity: high", "severity: low"))
    assert "hash differs from the one recorded" in open_page("policies", workspace).warning[0].value
    path.write_text(VALID_POLICY.replace("fairness.demographic_parity_difference", "fairness.nope"))
    at = open_page("policies", workspace)
    assert "Lint: 1 problem(s)" in at.error[0].value
    assert "unknown check 'fairness.nope'" in at.code[0].value
    path.unlink()
    assert "is not on this machine any more" in open_page("policies", workspace).warning[0].value


@pytest.mark.parametrize("fmt, card_fmt", [("html", "md"), ("pdf", "html"), ("json", "json"), ("md", "md")])
def test_reports_page_generates_report_and_model_card(open_page, seeded, fmt, card_fmt):
    at = open_page("reports", seeded)
    at.selectbox[0].set_value(PASSED_RUN)
    at.radio[0].set_value(fmt)
    at.radio[1].set_value(card_fmt)
    at.button[0].click().run()
    made = at.session_state["generated"]
    report, card = made["report"], made["card"]
    if fmt == "pdf":
        assert report.startswith(b"%PDF")
    elif fmt == "json":
        assert json.loads(report)["run"]["run_id"] == PASSED_RUN
    else:
        assert PASSED_RUN in report and ("<html" in report) == (fmt == "html")
    assert "adult-income" in card and made["verdict"]["decision"] == "passed"
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [f"Download report ({fmt.upper()})", f"Download model card ({card_fmt.upper()})"]
    # The verdict is read as text, not as a collapsed JSON object.
    assert not at.json and plain(at.success[0].value).startswith("PASSED: every binding gate passed")
    assert at.text[0].value.startswith("• The run recorded 5 binding gate decisions")


def test_reports_page_says_first_that_a_tampered_trail_cannot_be_trusted(open_page, workspace):
    tamper(workspace, PASSED_RUN, "approval.recorded", "Reviewed", "Ignored")
    at = open_page("reports", workspace)
    at.selectbox[0].set_value(PASSED_RUN)
    at.button[0].click().run()
    assert plain(at.error[0].value).startswith("TRAIL NOT VERIFIED: this report cannot be trusted") and not at.success
    assert "did not verify" in at.text[0].value and at.text[1].value.startswith("• As recorded (unverified): PASSED")


def test_reports_page_never_signs_a_checkpoint(open_page, workspace):
    with open_trail(workspace) as t:
        t.append("approval.recorded", run_id=AWAITING_RUN, actor="dana",
                 payload={"role": "risk-officer", "decision": "approve", "comment": ""})
    before = sorted(p.name for p in (workspace / "checkpoints").iterdir())
    at = open_page("reports", workspace)
    at.selectbox[0].set_value(AWAITING_RUN)
    at.button[0].click().run()
    assert "No signed checkpoint covers this run's events after entry 36" in at.warning[0].value
    assert at.session_state["generated"]["verdict"]["decision"] == "awaiting_approval"
    assert sorted(p.name for p in (workspace / "checkpoints").iterdir()) == before
    assert not (workspace / "runs").exists()  # nor a model-card sidecar


def test_approvals_page_lists_pending_runs_and_records_a_named_approval(open_page, workspace):
    at = open_page("approvals", workspace)
    pending = at.dataframe[0].value
    assert pending[["run_id", "waiting_for"]].values.tolist() == [[AWAITING_RUN, "risk-officer has 0 of 1 approvals"]]
    assert at.selectbox[0].value == AWAITING_RUN and at.selectbox[1].value == "risk-officer"
    at.text_input[0].set_value("Dana Risk")
    at.text_area[0].set_value("Fairness evidence reviewed.")
    at.button[0].click().run()
    with open_trail(workspace, create=False) as t:
        (event,) = t.events(kind="approval.recorded", run_id=AWAITING_RUN)
    assert (event.actor, event.payload["role"], event.payload["decision"], event.payload["comment"]) == (
        "Dana Risk", "risk-officer", "approve", "Fairness evidence reviewed.")
    assert f"Recorded as trail event #{event.seq}" in plain(at.success[0].value)
    assert at.dataframe[0].value["waiting_for"].tolist() == ["nothing: ready to resume"]
    roles = at.dataframe[1].value
    assert roles[["role", "members", "approvals", "approved_by", "signed_by"]].values.tolist() == [
        ["risk-officer", "anyone (no roles defined)", "1 of 1", "Dana Risk", ""]]
    assert at.dataframe[-1].value[["role", "decision", "actor", "signature"]].values.tolist() == [
        ["risk-officer", "approve", "Dana Risk", "unsigned"]]


def test_approvals_page_refuses_an_anonymous_decision(open_page, workspace):
    at = open_page("approvals", workspace)
    at.text_input[0].set_value("  ")
    at.radio[0].set_value("reject")
    at.button[0].click().run()
    assert "Name the person deciding" in at.error[0].value
    with open_trail(workspace, create=False) as t:
        assert t.count(kind="approval.recorded") == 1  # the synthetic run's own, nothing new
