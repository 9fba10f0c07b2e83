"""The layer contract holds, and the policy tooling runs without loading TensorFlow."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "tf_keras", "keras", "tensorflow_privacy", "ai_edge_litert")


def test_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def heavy_modules_after(code: str, cwd: Path) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the TensorFlow-family modules it loaded."""
    script = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import sys
        print(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])


def test_policy_modules_and_every_check_load_without_tensorflow(tmp_path):
    code = """
        import governance.policy.loader, governance.policy.jsonschema, rai.commands.policy, rai.commands.checks
        from governance.checks.base import load_all
        load_all()
    """
    assert heavy_modules_after(code, tmp_path) == []


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["policy", "lint", "p.yaml"], ["policy", "schema"], ["checks", "--json"]],
    ids=lambda argv: " ".join(argv),
)
def test_commands_run_without_tensorflow(tmp_path, argv):
    (tmp_path / "p.yaml").write_text(
        "policy: p\nversion: '1'\nowner: o\nrules:\n"
        "  - {id: fair, check: fairness.demographic_parity_difference, stage: evaluate, severity: high,"
        " params: {sensitive_features: [sex]}}\n"
    )
    code = f"""
        from rai.cli import main
        try:
            main({argv!r})
        except SystemExit as exit_:
            assert exit_.code in (0, None), exit_.code
    """
    assert heavy_modules_after(code, tmp_path) == []


def import_cycles(packages: tuple[str, ...]) -> list[list[str]]:
    """Cycles of module imports inside ``packages`` (Tarjan's strongly connected components)."""
    import grimp

    graph = grimp.build_graph(*packages)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) & graph.modules for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle_remains():
    assert import_cycles(("governance", "lifecycle", "dashboards", "rai")) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic import b\n")
    (package / "b.py").write_text("from cyclic import c\n")
    (package / "c.py").write_text("import cyclic.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles(("cyclic",)) == [["cyclic.a", "cyclic.b", "cyclic.c"]]
