"""How ``rai audit drift`` prints its report: the per-column table, the verdict, the estimates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.display import format_value
from governance.metrics.drift import DriftReport
from governance.textsafe import markup

if TYPE_CHECKING:  # rich is imported when a table is printed: --json output does not pay for it
    from rich.console import Console


def print_report(console: Console, report: DriftReport, prediction: dict[str, Any] | None,
                 names: tuple[str, str]) -> None:
    """The per-column table, the dataset verdict, the prediction row and the skipped columns."""
    from rai.commands.termtable import TermTable, print_table

    table = TermTable(title=f"Drift of {markup(names[1])} against {markup(names[0])}", keys=1)
    table.add_column("column")
    for name in ("type", "method", "statistic", "threshold", "drifted"):
        table.add_column(name, numeric=name in ("statistic", "threshold"))
    rows = report.columns + ([prediction] if prediction else [])
    for i, row in enumerate(rows):
        if prediction and i == len(report.columns):
            table.add_section()
        p_value = ("~" if row.get("approximate") else "") + ("p=" if row["statistic_kind"] == "p_value" else "")
        table.add_row(markup(row["column"]), row["type"], row["method"],
                      p_value + format_value(row["statistic"]), format_value(row["threshold"]),
                      "[bold red]yes[/]" if row["drifted"] else "no")
    print_table(console, table)
    console.print("[dim]p-values drift below their threshold, distances at or above it[/]")
    for row in rows:  # an estimate is never shown as if it were exact
        if row.get("approximate"):
            note = row["approximate"]
            certain = "" if note["verdict_certain"] else "; its bounds straddle the threshold: counted as drifted"
            console.print(f"[yellow]~ {markup(row['column'])}: estimated from a {note['bins']}-bin histogram "
                          f"(more distinct values than counted), error at most {note['error_bound']:.2g}{certain}[/]",
                          highlight=False)
    verdict = "[bold red]detected[/]" if report.dataset_drift else "[green]not detected[/]"
    compared = "compared columns" if report.skipped else "columns"
    console.print(f"Dataset drift {verdict}: {report.n_drifted} of {len(report.columns)} {compared} drifted "
                  f"({report.drifted_share:.1%}, threshold {report.drift_share_threshold:.1%})")
    if report.skipped:  # never hidden: a column not compared cannot have drifted as far as this says
        n = len(report.skipped)
        console.print(f"[bold yellow]{n} column{'s' if n > 1 else ''} not compared:[/] "
                      f"{markup(report.skipped_text())}", highlight=False)


