"""``rai policy test``: cases of fixture evidence with their expected findings and decision."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "policies" / "tests"
FIXTURES = SHIPPED / "fixtures"
HEAD = f"""\
policy: {ROOT / "policies" / "default.yaml"}
cases:
"""
CASE = """\
  - name: unequal-opportunity
    stage: evaluate
    evidence:
      predictions: {{file: {file}, y_true: y, y_pred: pred, y_score: score, sensitive: [sex]}}
    expect:
      decision: {decision}
      findings: {{{findings}}}
"""


def write(tmp_path: Path, text: str) -> Path:
    shutil.copy(FIXTURES / "unequal-opportunity.csv", tmp_path / "preds.csv")
    path = tmp_path / "policy-test.yaml"
    path.write_text(text)
    return path


def case(file="preds.csv", decision="blocked", findings="equal-opportunity: failed"):
    return HEAD + CASE.format(file=file, decision=decision, findings=findings)


def test_the_shipped_packs_pass_their_tests(rai):
    code, out, err = rai("policy", "test", str(SHIPPED))
    assert code == 0, out + err
    total = int(out.splitlines()[-1].split()[0])
    assert total >= 20 and out.splitlines()[-1] == f"{total} case(s): {total} passed, 0 failed"
    packs = {p.stem for p in (ROOT / "policies").glob("*.yaml")}
    assert all((SHIPPED / pack / "policy-test.yaml").is_file() for pack in packs)  # every pack has its tests


def test_a_case_that_holds(tmp_path, rai):
    path = write(tmp_path, case())
    code, out, _ = rai("policy", "test", str(path))
    assert code == 0 and "  PASS  unequal-opportunity (evaluate, line 3)" in out.splitlines()


def test_a_mismatch_exits_1_with_what_differed(tmp_path, rai):
    path = write(tmp_path, case(decision="passed", findings="equal-opportunity: passed, accuracy-floor: failed"))
    code, out, _ = rai("policy", "test", str(path))
    assert code == 1
    assert out.splitlines()[1:4] == [
        "  FAIL  unequal-opportunity (evaluate, line 3)",
        "        decision: expected passed, got blocked (blocking: equal-opportunity)",
        "        equal-opportunity: expected passed, got failed: equal opportunity difference 0.35 > max 0.15 across "
        "2 groups of sex (tpr 0.6 (sex=F) to 0.95 (sex=M)); every group has at least 30 rows",
    ]
    assert out.splitlines()[4].startswith("        accuracy-floor: expected failed, got passed: accuracy 0.8375")
    assert out.splitlines()[-1] == "1 case(s): 0 passed, 1 failed"


def test_json_output(tmp_path, rai):
    path = write(tmp_path, case(findings="equal-opportunity: warning"))
    code, out, _ = rai("policy", "test", str(path), "--json")
    (result,) = json.loads(out)["cases"]
    assert code == 1 and result["passed"] is False and result["decision"] == "blocked"
    assert result["mismatches"][0].startswith("equal-opportunity: expected warning, got failed")


@pytest.mark.parametrize("text, line", [
    (case(file="absent.csv"),
     "{path}:6:27: cases[0].evidence.predictions.file: fixture 'absent.csv' does not exist (looked for {dir}/absent.csv)"),
    (case(findings="equal-oportunity: failed"),
     "{path}:9:18: cases[0].expect.findings.equal-oportunity: the policy has no rule 'equal-oportunity'; "
     "did you mean 'equal-opportunity'?"),
    (case().replace("stage: evaluate", "stage: evaluation"),
     "{path}:4:12: cases[0].stage: must be one of ingest, train, evaluate, optimize, deploy, monitor, got 'evaluation'"),
    (case().replace("decision: blocked", "decision: block"),
     "{path}:8:17: cases[0].expect.decision: must be one of passed, blocked, got 'block'"),
    (case().replace("y_pred: pred", "y_pred: preds"),
     "{path}:6:20: cases[0].evidence.predictions: {dir}/preds.csv: no column 'preds' (columns: y, pred, score, "
     "sex; did you mean 'pred'?)"),
    (case().replace(str(ROOT / "policies" / "default.yaml"), "rai:defualt"),
     "{path}:1:9: policy: the policy does not load: rai:defualt: unknown pack 'rai:defualt'; did you mean "
     "'rai:default'? (packs: rai:default, rai:eu-ai-act-high-risk)"),
    (HEAD + "  []\n", "{path}:3:3: cases: must have at least 1 item, got 0"),
], ids=["missing-fixture", "unknown-rule", "unknown-stage", "bad-decision", "unknown-column", "unknown-pack", "no-cases"])
def test_a_test_file_that_cannot_be_used_is_one_located_line_and_exit_2(tmp_path, rai, text, line):
    path = write(tmp_path, text)
    code, out, err = rai("policy", "test", str(path))
    assert code == 2 and out == ""
    assert err == "error: " + line.format(path=path, dir=tmp_path) + "\n"


def test_a_directory_without_tests(tmp_path, rai):
    code, _, err = rai("policy", "test", str(tmp_path))
    assert code == 2 and err == f"error: {tmp_path}: no policy-test.yaml under it (a policy's tests live in files of that name)\n"
