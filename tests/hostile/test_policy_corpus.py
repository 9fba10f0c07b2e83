"""Hostile policies: each is refused with its one exact line and exit code 2, by every command.

The same file goes through ``rai policy lint`` (the line on stdout), ``rai audit fairness
--policy`` and ``rai run --policy`` (``error: `` and the line on stderr). Never a traceback,
never a pass, never a hang: every case runs under a deadline, and cases that involve a FIFO or
``/dev/zero`` run in a child process, since a regression there would block in a system call
(or fill memory) where an alarm cannot stop it.

Fixtures live in ``policies/``; the special files (a FIFO, a symlink to ``/dev/zero``, two
symlinks to each other, a chain of 21 policies each extending the next) are made in a copy of
that directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .rai_case import run, run_process

POLICIES = Path(__file__).parent / "policies"
SPEC = """\
name: hostile
data: {train: data.csv, test: data.csv, target: Y, positive_label: 1, sensitive_features: [sex]}
model: {hidden_units: [4], epochs: 1}
policy: %s
deploy: {model_name: hostile}
"""
MUST_BE_0_1 = "must be a number in [0, 1]"
FINITE_0_1 = "must be a finite number in [0, 1]"
NOT_A_POLICY = "is not a policy file (no top-level 'policy' key)"
TOO_LARGE = "is too large (the largest number is 1.8e308)"
INT_53 = "must be an integer of at most 9007199254740991 (2**53 - 1)"
DATE = "must be an ISO date (YYYY-MM-DD)"

# (policy file, the one line every command prints, exit code)
CASES = [
    # numbers: non-finite, wrong type, out of range, too large
    ("params-min-nan.yaml", f"9:37: rules[0].params.min: {FINITE_0_1}, got nan", 2),
    ("params-min-nan-capitals.yaml", f"9:37: rules[0].params.min: {FINITE_0_1}, got nan", 2),
    ("params-max-inf.yaml", f"9:37: rules[0].params.max: {FINITE_0_1}, got inf", 2),
    ("params-min-minus-inf.yaml", f"9:37: rules[0].params.min: {FINITE_0_1}, got -inf", 2),
    ("params-min-string.yaml", f"9:37: rules[0].params.min: {MUST_BE_0_1}, got '0.8'; write it without quotes", 2),
    ("params-min-bool.yaml", f"9:37: rules[0].params.min: {MUST_BE_0_1}, got true", 2),
    ("params-min-out-of-range.yaml", f"9:37: rules[0].params.min: {MUST_BE_0_1}, got 1.5", 2),
    ("params-max-negative.yaml", f"9:37: rules[0].params.max: {MUST_BE_0_1}, got -0.1", 2),
    ("params-epsilon-inf.yaml", "9:27: rules[0].params.max_epsilon: must be a finite number > 0, got inf", 2),
    ("params-epsilon-1e999.yaml", "9:27: rules[0].params.max_epsilon: must be a finite number > 0, got inf", 2),
    ("params-epsilon-long-float.yaml", "9:27: rules[0].params.max_epsilon: must be a finite number > 0, got inf", 2),
    ("params-epsilon-huge-int.yaml", f"9:27: rules[0].params.max_epsilon: integer of 5000 digits {TOO_LARGE}", 2),
    ("params-epsilon-string.yaml",
     "9:27: rules[0].params.max_epsilon: must be a number > 0, got '3'; write it without quotes", 2),
    ("params-delta-nan.yaml", "9:41: rules[0].params.max_delta: must be a finite number in (0, 1), got nan", 2),
    ("params-group-size-true.yaml", "9:57: rules[0].params.min_group_size: must be an integer >= 1, got true", 2),
    ("params-group-size-float.yaml", "9:57: rules[0].params.min_group_size: must be an integer >= 1, got 30.0", 2),
    ("params-group-size-exponent.yaml",
     "9:57: rules[0].params.min_group_size: must be an integer >= 1, got 1000.0", 2),
    ("params-group-size-string.yaml",
     "9:57: rules[0].params.min_group_size: must be an integer >= 1, got '30'; write it without quotes", 2),
    ("params-group-size-5000-digits.yaml", f"9:57: rules[0].params.min_group_size: integer of 5000 digits {TOO_LARGE}", 2),
    ("params-group-size-hex-huge.yaml", f"9:57: rules[0].params.min_group_size: integer of 400 digits {TOO_LARGE}", 2),
    ("params-group-size-100-digits.yaml",
     f"9:57: rules[0].params.min_group_size: {INT_53}, got an integer of 100 digits", 2),
    ("params-group-size-2-pow-53.yaml", f"9:57: rules[0].params.min_group_size: {INT_53}, got 9007199254740992", 2),
    ("params-max-false.yaml", f"9:46: rules[0].params.max: {MUST_BE_0_1}, got false", 2),
    ("params-max-nan.yaml", f"9:46: rules[0].params.max: {FINITE_0_1}, got nan", 2),
    ("params-group-metric-nan.yaml", f"9:59: rules[0].params.min: {FINITE_0_1}, got nan", 2),
    ("params-feature-number.yaml",
     "9:35: rules[0].params.sensitive_features[0]: must be a string, got 1; put it in quotes", 2),
    ("params-approvals-bool.yaml", "9:44: rules[0].params.min_approvals: must be an integer >= 1, got true", 2),
    ("params-min-count-negative.yaml", "9:52: rules[0].params.min_count: must be an integer >= 1, got -1", 2),
    ("params-missing-share-inf.yaml", f"9:25: rules[0].params.max_share: {FINITE_0_1}, got inf", 2),
    ("params-minority-share-nan.yaml",
     "9:34: rules[0].params.min_minority_share: must be a finite number in (0, 0.5], got nan", 2),
    ("params-drift-share-inf.yaml", "9:27: rules[0].params.drift_share: must be a finite number in (0, 1], got inf", 2),
    ("params-stattest-threshold-nan.yaml",
     "9:50: rules[0].params.stattest_threshold: must be a finite number > 0, got nan", 2),
    ("params-accuracy-drop-string.yaml",
     f"9:19: rules[0].params.max: {MUST_BE_0_1}, got '0.01'; write it without quotes", 2),
    ("params-latency-ratio-inf.yaml", "9:19: rules[0].params.max: must be a finite number > 0, got inf", 2),
    ("params-size-ratio-1e999.yaml", "9:19: rules[0].params.max: must be a finite number > 0, got -inf", 2),
    # thresholds against a baseline model
    ("params-rescore-without-relative-to.yaml",
     "9:13: rules[0].params: rescore needs relative_to (champion or {version: N}): it re-scores that model", 2),
    ("params-rescore-string.yaml", "9:84: rules[0].params.rescore: must be true or false, got 'yes'", 2),
    ("params-max-decrease-negative.yaml", "9:69: rules[0].params.max_decrease: must be a number >= 0, got -0.05", 2),
    ("params-max-increase-nan.yaml", "9:69: rules[0].params.max_increase: must be a finite number >= 0, got nan", 2),
    ("params-max-decrease-percent.yaml", "9:13: rules[0].params: max_decrease: must be a number in [0, 1] for "
     "accuracy, whose values lie in [0, 1], got 5", 2),
    ("params-max-relative-change-string.yaml",
     "9:76: rules[0].params.max_relative_change: must be a number >= 0, got '0.1'; write it without quotes", 2),
    ("params-relative-to-version-typo.yaml",
     "9:45: rules[0].params.relative_to: unknown key 'verison' in {version: N}; did you mean 'version'?", 2),
    # text that is no text: escapes giving what a file may not contain
    ("text-policy-surrogate.yaml", "1:9: policy: lone surrogate U+DC80 is not allowed in YAML", 2),
    ("text-key-surrogate.yaml", "4:1: lone surrogate U+D83D is not allowed in YAML", 2),
    ("text-description-escape.yaml", "4:14: description: control character U+001B is not allowed in YAML", 2),
    ("text-feature-nul.yaml",
     "9:35: rules[0].params.sensitive_features[0]: control character U+0000 is not allowed in YAML", 2),
    # extends: hostile names and files that are no policies
    ("extends-too-long.yaml", "4:10: extends: must have at most 1024 characters, got a text of 5005 characters", 2),
    ("extends-nul.yaml", "4:10: extends: control character U+0000 is not allowed in YAML", 2),
    ("extends-escape-char.yaml", "4:10: extends: control character U+001B is not allowed in YAML", 2),
    ("extends-lone-surrogate.yaml", "4:10: extends: lone surrogate U+D800 is not allowed in YAML", 2),
    ("extends-empty.yaml", "4:10: extends: must not be empty", 2),
    ("extends-name-too-long-for-the-file-system.yaml",
     f"4:10: extends: cannot read base policy '{'b' * 300}.yaml': File name too long", 2),
    ("extends-directory.yaml", "4:10: extends: cannot read base policy '..': it is a directory, not a regular file", 2),
    ("extends-etc-passwd.yaml", f"4:10: extends: base policy '{'../' * 24}etc/passwd' {NOT_A_POLICY}", 2),
    ("extends-secret-mapping.yaml", f"4:10: extends: base policy 'not-a-policy-secret.yaml' {NOT_A_POLICY}", 2),
    ("extends-secret-text.yaml", f"4:10: extends: base policy 'not-a-policy-secret.txt' {NOT_A_POLICY}", 2),
    ("extends-binary.yaml", f"4:10: extends: base policy 'not-a-policy-binary.bin' {NOT_A_POLICY}", 2),
    ("extends-fifo.yaml",
     "4:10: extends: cannot read base policy 'fifo.yaml': it is a FIFO (named pipe), not a regular file", 2),
    ("extends-dev-zero.yaml",
     "4:10: extends: cannot read base policy 'dev-zero.yaml': it is a character device, not a regular file", 2),
    ("extends-chain-too-long.yaml", "chain/p15.yaml:4:10: extends: extends chain is longer than 16 files", 2),
    ("extends-symlink-loop.yaml",
     "4:10: extends: cannot read base policy 'loop-a.yaml': Too many levels of symbolic links", 2),
    ("extends-proc-environ.yaml", f"4:10: extends: base policy '{'../' * 24}proc/self/environ' {NOT_A_POLICY}", 2),
    # the policy file itself is no regular file
    ("fifo.yaml", "fifo.yaml: cannot read file: it is a FIFO (named pipe), not a regular file", 2),
    ("dev-zero.yaml", "dev-zero.yaml: cannot read file: it is a character device, not a regular file", 2),
    ("chain", "chain: cannot read file: it is a directory, not a regular file", 2),
    ("loop-a.yaml", "loop-a.yaml: cannot read file: Too many levels of symbolic links", 2),
    # waivers
    ("waiver-blank-reason.yaml", "11:23: waivers[0].reason: must not be blank, got '   '", 2),
    ("waiver-tab-approver.yaml", "11:49: waivers[0].approved_by: must not be blank, got '\\t'", 2),
    ("waiver-datetime-expiry.yaml", f"11:75: waivers[0].expires: {DATE}, got '2030-06-30T23:59:59'", 2),
    ("waiver-datetime-space-expiry.yaml",
     f"11:75: waivers[0].expires: {DATE}, got '2030-06-30 12:00:00+02:00'", 2),
    ("waiver-bool-expiry.yaml", f"11:75: waivers[0].expires: {DATE}, got true", 2),
]
# Content of the files hostile policies extend: none of it may ever be printed.
SECRETS = ("SECRET", "hunter2", "root:", "ELF")


def expected_line(name: str, line: str) -> str:
    """Lines that start with a position belong to the file itself; the others name their own file."""
    return f"{name}:{line}" if line[0].isdigit() else line


def commands(policy: str) -> dict[str, tuple[str, ...]]:
    return {
        "lint": ("policy", "lint", policy),
        "audit": ("audit", "fairness", "--data", "data.csv", "--y-true", "Y", "--y-pred", "pred",
                  "--sensitive", "sex", "--policy", policy),
        "run": ("run", "pipeline.yaml", "--policy", policy, "--workspace", "ws"),
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A copy of ``policies/`` with the special files, a data file and a pipeline spec."""
    root = tmp_path_factory.mktemp("hostile") / "policies"
    shutil.copytree(POLICIES, root)
    os.mkfifo(root / "fifo.yaml")
    (root / "dev-zero.yaml").symlink_to("/dev/zero")
    (root / "loop-a.yaml").symlink_to("loop-b.yaml")
    (root / "loop-b.yaml").symlink_to("loop-a.yaml")
    (root / "chain").mkdir()
    for i in range(1, 21):
        (root / "chain" / f"p{i}.yaml").write_text(f"policy: p{i}\nversion: '1'\nowner: o\nextends: p{i + 1}.yaml\n")
    (root / "chain" / "p21.yaml").write_text("policy: end\nversion: '1'\nowner: o\n")
    rows = ["Y,pred,sex"] + [f"{i % 2},{i % 3 == 0:d},{'MF'[i % 2]}" for i in range(80)]
    (root / "data.csv").write_text("\n".join(rows) + "\n")
    (root / "pipeline.yaml").write_text(SPEC % "params-min-nan.yaml")
    return root


def test_the_corpus_covers_every_fixture():
    named = {name for name, _, _ in CASES}
    fixtures = {p.name for p in POLICIES.glob("*.yaml") if not p.name.startswith("not-a-policy")}
    assert fixtures - named == set()
    assert len(CASES) >= 60


def needs_a_child_process(name: str) -> bool:
    return "fifo" in name or "dev-zero" in name


@pytest.mark.parametrize("command", ["lint", "audit", "run"])
@pytest.mark.parametrize("name, line, exit_code", CASES, ids=[c[0] for c in CASES])
def test_refused_with_one_line(corpus, rai, monkeypatch, name, line, exit_code, command):
    monkeypatch.chdir(corpus)
    args = commands(name)[command]
    if needs_a_child_process(name):  # an alarm cannot interrupt a blocked open() or read()
        done = run_process(list(args), corpus)
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        code, out, err = run(rai, *args)
    expected = expected_line(name, line)
    assert code == exit_code, out + err
    if command == "lint":
        assert (out.splitlines(), err) == ([expected], "")
    else:
        assert (out, err) == ("", f"error: {expected}\n")
    assert "Traceback" not in out + err and "passed" not in out + err
    assert not any(secret in out + err for secret in SECRETS)
