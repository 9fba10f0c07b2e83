"""The malformed-policy corpus: each file gets its exact one-line message, exit 2, no traceback.

Every ``malformed/*.yaml`` (except ``_*.yaml`` helpers used as ``extends`` bases) starts with
``# expect: LINE``: the one line ``rai policy lint`` must print for it, run from that directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import LocatedError
from governance.policy.loader import load_policy

MALFORMED = Path(__file__).parent / "malformed"
CASES = sorted(p for p in MALFORMED.glob("*.yaml") if not p.name.startswith("_"))
PREFIX = b"# expect: "


def expected_line(case: Path) -> str:
    first = case.read_bytes().split(b"\n", 1)[0]
    assert first.startswith(PREFIX), f"{case.name} lacks its '# expect:' line"
    return first[len(PREFIX) :].decode("utf-8")


def test_the_corpus_is_large():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_lint_prints_the_expected_line(case, rai, monkeypatch):
    monkeypatch.chdir(MALFORMED)
    code, out, err = rai("policy", "lint", case.name)
    assert code == 2
    assert out.splitlines() == [expected_line(case)]
    assert "Traceback" not in out + err


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_load_policy_raises_the_same_line(case, monkeypatch):
    monkeypatch.chdir(MALFORMED)
    with pytest.raises(LocatedError) as info:
        load_policy(case.name)
    assert str(info.value) == expected_line(case)


def test_a_file_over_one_mebibyte_is_refused_unread(tmp_path, rai, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("big.yaml").write_text("policy: big\ndescription: " + "x" * (1 << 20) + "\n")
    size = Path("big.yaml").stat().st_size
    code, out, err = rai("policy", "lint", "big.yaml")
    assert code == 2
    assert out.splitlines() == [f"big.yaml:1:1: file is {size} bytes; the limit is 1 MiB (1048576 bytes)"]


def test_a_missing_file_is_one_line(tmp_path, rai, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = rai("policy", "lint", "absent.yaml")
    assert code == 2
    assert out.splitlines() == ["absent.yaml: cannot read file: No such file or directory"]


def test_lint_reports_every_problem_of_a_file_one_per_line(tmp_path, rai, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("many.yaml").write_text(
        "policy: p\nversion: '1'\nowner: o\nfail_on: hihg\nrules:\n"
        "  - id: a\n    check: fairness.demographic_parity_difference\n    stage: train\n"
        "    severity: high\n    params: {sensitive_features: [sex], max: 2}\n"
        "  - id: a\n    check: nope.nothing\n    stage: evaluate\n    severity: low\n"
    )
    code, out, _ = rai("policy", "lint", "many.yaml")
    assert code == 2
    assert out.splitlines() == [
        "many.yaml:4:10: fail_on: must be one of low, medium, high, critical, got 'hihg'",
        "many.yaml:8:12: rules[0].stage: check 'fairness.demographic_parity_difference' does not run at"
        " stage 'train' (runs at: evaluate, optimize, monitor)",
        "many.yaml:10:46: rules[0].params.max: must be a number in [0, 1], got 2",
        "many.yaml:11:9: rules[1].id: duplicate rule id 'a' (first used by rules[0] on line 6)",
        "many.yaml:12:12: rules[1].check: unknown check 'nope.nothing' (see `rai checks`)",
    ]
