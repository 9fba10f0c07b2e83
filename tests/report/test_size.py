"""A report of a full-size run stays small: one HTML file well under 2 MB (timing: benchmarks/)."""

from __future__ import annotations

from governance.report import build_report, render_report
from governance.trail import open_trail

from .synthetic import PASSED_RUN, build_workspace


def test_heavy_run_html_is_under_two_megabytes(tmp_path):
    with open_trail(build_workspace(tmp_path / "ws", heavy=True), create=False) as trail:
        doc = build_report(trail, PASSED_RUN).to_dict()
    gates = [g for g in doc["gates"] if g["stage"] == "optimize"]
    assert len(gates) == 3 and all(len(g["findings"]) == 5 for g in gates)
    assert sum(len(f["evidence"].get("groups", [])) for f in doc["gates"][2]["findings"]) >= 120
    html = render_report(doc, "html")
    assert len(html.encode("utf-8")) < 2_000_000
    assert html.count("<svg") >= 15  # a chart per fairness finding, variants included
