"""``rai policy test``: run a policy's test cases (fixture evidence, expected findings and decision)."""

from __future__ import annotations

import json
import sys

import click

from governance.textsafe import printable
from rai.cioutput import ci_format_option, emit
from rai.options import json_option


@click.command("test")
@click.argument("paths", nargs=-1, required=True)
@json_option
@ci_format_option
def test(paths: tuple[str, ...], as_json: bool, ci_format: str | None) -> None:
    """Run the policy tests in PATHS (policy-test.yaml files, or directories searched for them).

    Exits 0 when every case holds, 1 when one does not (with what differed), 2 when a test file,
    its policy or a fixture cannot be used.
    """
    from governance.policytest import find_test_files, run_test_file

    files = [f for path in paths for f in find_test_files(path)]
    results = [r for f in files for r in run_test_file(f)]  # a LocatedError stops here: exit 2
    failed = [r for r in results if not r.passed]
    code = 1 if failed else 0
    if ci_format:
        from governance.report.ci import CIResult

        emit(ci_format, [CIResult(name=r.name, status="passed" if r.passed else "failed", group="policy test",
                                  message="; ".join(r.mismatches) or f"holds (decision {r.decision})",
                                  blocks=not r.passed, file=r.file, line=r.line, col=r.col,
                                  properties={"stage": r.stage}) for r in results], code)
    elif as_json:
        click.echo(json.dumps({"passed": not failed, "cases": [
            {"file": r.file, "line": r.line, "name": r.name, "stage": r.stage, "passed": r.passed,
             "decision": r.decision, "mismatches": r.mismatches} for r in results]}, indent=2))
    else:
        _print_text(files, results)
    sys.exit(code)


def _print_text(files, results) -> None:
    for file in files:
        click.echo(printable(str(file)))
        for r in (r for r in results if r.file == str(file)):
            click.echo(printable(f"  {'PASS' if r.passed else 'FAIL'}  {r.name} ({r.stage}, line {r.line})"))
            for line in r.mismatches:  # quotes the policy's ids and messages: shown, never obeyed
                click.echo(printable(f"        {line}"))
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results)} case(s): {len(results) - failed} passed, {failed} failed")
