"""Tables of ``rai audit fairness``: one layout per task, the minimum group size on every one.

Tables fit the terminal without splitting a word (:mod:`rai.commands.termtable`); groups whose
values carry numbers (age bands, counts) are listed in numeric order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.report.readable import in_numeric_order
from governance.textsafe import markup
from rai.commands.termtable import TermTable, print_table

if TYPE_CHECKING:  # rich is imported when a table is printed: --json output does not pay for it
    from rich.console import Console

BINARY_RATES = ("selection_rate", "accuracy", "tpr", "fpr")
REGRESSION_VALUES = ("mean_prediction", "mean_target", "mae", "rmse")


def print_report(console: Console, report: Any) -> None:
    """The per-group table(s), then the disparity metrics and the excluded groups."""
    rows = in_numeric_order(report.group_dicts(), lambda row: row["group"])
    if report.task == "multiclass":
        _groups(console, report, rows, ("accuracy",))
        _classes(console, report, rows)
    elif report.task == "regression":
        _groups(console, report, rows, REGRESSION_VALUES)
    else:
        _groups(console, report, rows, BINARY_RATES)
    _metrics(console, report)


def _groups(console: Console, report: Any, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    # Column names and group values come from the file: shown literally, never as markup or escapes.
    title = f"Groups by {markup(', '.join(report.sensitive_features))}"
    if report.task == "binary" and report.favorable == "negative":
        title += " (selection: the favourable label, the negative one)"
    table = TermTable(title=title, keys=len(report.sensitive_features))
    for name in report.sensitive_features:
        table.add_column(markup(name))
    for name in ("count", *columns, "excluded"):
        table.add_column(name, numeric=True)
    for row in rows:
        table.add_row(*map(markup, map(str, row["group"].values())), str(row["count"]),
                      *(_number(row[name]) for name in columns), "[yellow]yes[/]" if row["excluded"] else "")
    overall = report.overall
    table.add_section()
    table.add_row(*(["[bold]overall[/]"] + [""] * (len(report.sensitive_features) - 1)),
                  str(overall["count"]), *(_number(overall[name]) for name in columns), "")
    print_table(console, table)


def _classes(console: Console, report: Any, rows: list[dict[str, Any]]) -> None:
    """Multiclass: selection rate, TPR and FPR of each class (one vs rest), one row per group and class."""
    table = TermTable(title="One-vs-rest rates by class", keys=len(report.sensitive_features))
    for name in report.sensitive_features:
        table.add_column(markup(name))
    table.add_column("class")
    for name in ("selection_rate", "tpr", "fpr"):
        table.add_column(name, numeric=True)
    for row in rows:
        if table.rows:
            table.add_section()
        for i, cell in enumerate(row["classes"]):
            chosen = report.favorable_class is not None and cell["class"] == report.favorable_class
            key = list(map(str, row["group"].values())) if i == 0 else [""] * len(row["group"])
            table.add_row(*map(markup, key), markup(str(cell["class"])) + (" (favourable)" if chosen else ""),
                          *(_number(cell[r]) for r in ("selection_rate", "tpr", "fpr")))
    print_table(console, table)


def _metrics(console: Console, report: Any) -> None:
    worst = getattr(report, "worst_class", None)
    metrics = TermTable(title="Fairness metrics", keys=1, caption=f"groups under {report.min_group_size} rows left out")
    metrics.add_column("metric")
    metrics.add_column("value", numeric=True)
    if worst is not None:
        metrics.add_column("class" if report.favorable_class is not None else "worst class")
    for name, value in report.metrics.items():
        extra = [] if worst is None else [markup("" if worst.get(name) is None else str(worst[name]))]
        metrics.add_row(name, _number(value), *extra)
    print_table(console, metrics)
    if report.excluded:
        console.print(f"[yellow]{len(report.excluded)} group(s) under {report.min_group_size} rows "
                      "excluded from the metrics[/]")
    if len(report.included) < 2:
        console.print("[bold yellow]fewer than 2 groups remain: the metrics compare nothing[/]")


def _number(value, digits: int = 4) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"
