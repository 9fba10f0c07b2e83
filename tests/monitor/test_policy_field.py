"""The policy's ``on_missing_labels``: default, inheritance, hash, and bad values (one located line, exit 2)."""

from __future__ import annotations

import pytest

from governance.policy.loader import load_policy

BASE = """\
policy: base
version: "1"
owner: test suite
{setting}rules:
  - {{id: parity, check: fairness.demographic_parity_difference, stage: monitor, severity: high,
     params: {{sensitive_features: [sex], max: 0.2}}}}
"""


def _write(tmp_path, name: str, setting: str = "") -> str:
    path = tmp_path / name
    path.write_text(BASE.format(setting=setting))
    return str(path)


def test_the_default_is_skip_and_an_explicit_skip_keeps_the_policy_hash(tmp_path):
    plain = load_policy(_write(tmp_path, "plain.yaml"))
    explicit = load_policy(_write(tmp_path, "skip.yaml", "on_missing_labels: skip\n"))
    warn = load_policy(_write(tmp_path, "warn.yaml", "on_missing_labels: warn\n"))
    assert plain.on_missing_labels == explicit.on_missing_labels == "skip" and warn.on_missing_labels == "warn"
    # Policies written before the setting existed keep their recorded hash; another setting is another policy.
    assert plain.sha256 == explicit.sha256 != warn.sha256


def test_a_child_inherits_the_base_setting_unless_it_sets_its_own(tmp_path):
    _write(tmp_path, "base.yaml", "on_missing_labels: block\n")
    (tmp_path / "child.yaml").write_text("policy: child\nversion: 1\nowner: qa\nextends: base.yaml\n")
    (tmp_path / "own.yaml").write_text("policy: own\nversion: 1\nowner: qa\nextends: base.yaml\non_missing_labels: warn\n")
    assert load_policy(tmp_path / "child.yaml").on_missing_labels == "block"
    assert load_policy(tmp_path / "own.yaml").on_missing_labels == "warn"


BAD = [
    ("a typo", "on_missing_labels: blok\n", "4:20: on_missing_labels: must be one of skip, warn, block, got 'blok'"),
    ("upper case", "on_missing_labels: SKIP\n", "4:20: on_missing_labels: must be one of skip, warn, block, got 'SKIP'"),
    ("a boolean", "on_missing_labels: false\n", "4:20: on_missing_labels: must be one of skip, warn, block, got false"),
    ("a list", "on_missing_labels: [skip]\n", "4:20: on_missing_labels: must be one of skip, warn, block, got a list"),
    ("empty", "on_missing_labels:\n", "on_missing_labels: must be one of skip, warn, block, got null"),
    ("misspelt key", "on_missing_label: warn\n", "4:1: on_missing_label: unknown key 'on_missing_label'; did you mean "
     "'on_missing_labels'?"),
]


@pytest.mark.parametrize("case, setting, message", BAD, ids=[b[0] for b in BAD])
def test_policy_lint_refuses_a_bad_value_in_one_located_line(tmp_path, rai, case, setting, message):
    path = _write(tmp_path, "policy.yaml", setting)
    code, out, err = rai("policy", "lint", path)
    assert code == 2
    lines = (out + err).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(path) and message in lines[0], lines


def test_monitor_refuses_a_policy_with_a_bad_value_before_recording_anything(tmp_path, rai):
    from serve.harness import register_demo, training_frame

    from governance.trail import open_trail
    from governance.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    register_demo(ws)
    training_frame().drop(columns=["Y"]).to_csv(tmp_path / "live.csv", index=False)
    path = _write(tmp_path, "policy.yaml", "on_missing_labels: ask\n")
    with open_trail(ws) as trail:
        before = len(trail.events())
    for args in ((str(tmp_path / "live.csv"),), ("--log",)):
        code, out, err = rai("monitor", *args, "--model", "demo", "--policy", path, "--workspace", str(ws.root))
        assert (code, out) == (2, "")
        assert err == f"error: {path}:4:20: on_missing_labels: must be one of skip, warn, block, got 'ask'\n"
    with open_trail(ws) as trail:
        assert len(trail.events()) == before
