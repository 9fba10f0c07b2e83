"""Rich tables of ``rai audit fairness``: one layout per task, the minimum group size on every one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.textsafe import markup

if TYPE_CHECKING:  # rich is imported when a table is printed: --json output does not pay for it
    from rich.console import Console

BINARY_RATES = ("selection_rate", "accuracy", "tpr", "fpr")
REGRESSION_VALUES = ("mean_prediction", "mean_target", "mae", "rmse")


def print_report(console: Console, report: Any) -> None:
    """The per-group table(s), then the disparity metrics and the excluded groups."""
    if report.task == "multiclass":
        _groups(console, report, ("accuracy",), "accuracy")
        _classes(console, report)
    elif report.task == "regression":
        _groups(console, report, REGRESSION_VALUES, None)
    else:
        _groups(console, report, BINARY_RATES, None)
    _metrics(console, report)


def _groups(console: Console, report: Any, columns: tuple[str, ...], overall_key: str | None) -> None:
    from rich.table import Table

    # Column names and group values come from the file: shown literally, never as markup or escapes.
    title = f"Groups by {markup(', '.join(report.sensitive_features))}"
    if report.task == "binary" and report.favorable == "negative":
        title += " (selection: the favourable label, the negative one)"
    # Regression has six numbers per group: without edge padding they fit 80 columns.
    table = Table(title=title, title_justify="left", pad_edge=report.task != "regression")
    rows = report.group_dicts()
    _feature_columns(table, report.sensitive_features, rows, first_width=len("overall"))
    for name in ("count", *columns, "excluded"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for row in rows:
        table.add_row(*map(markup, map(str, row["group"].values())), str(row["count"]),
                      *(_number(row[name]) for name in columns), "[yellow]yes[/]" if row["excluded"] else "")
    overall = report.overall
    table.add_section()
    table.add_row(*(["[bold]overall[/]"] + [""] * (len(report.sensitive_features) - 1)),
                  str(overall["count"]), *(_number(overall[name]) for name in columns), "")
    console.print(table)


def _classes(console: Console, report: Any) -> None:
    """Multiclass: selection rate, TPR and FPR of each class (one vs rest), one row per group and class."""
    from rich.table import Table

    table = Table(title="One-vs-rest rates by class", title_justify="left")
    rows = report.group_dicts()
    _feature_columns(table, report.sensitive_features, rows)
    labels = [str(c) for c in report.classes]
    table.add_column("class", overflow="fold", min_width=min(max(map(len, labels)), _WIDE))
    for name in ("selection_rate", "tpr", "fpr"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for row in rows:
        for i, cell in enumerate(row["classes"]):
            chosen = report.favorable_class is not None and cell["class"] == report.favorable_class
            key = list(map(str, row["group"].values())) if i == 0 else [""] * len(row["group"])
            table.add_row(*map(markup, key), markup(str(cell["class"])) + (" (favourable)" if chosen else ""),
                          *(_number(cell[r]) for r in ("selection_rate", "tpr", "fpr")))
        table.add_section()
    console.print(table)


_WIDE = 24  # group values longer than this fold rather than push the numbers off the screen


def _feature_columns(table: Any, features: list[str], rows: list[dict[str, Any]], first_width: int = 0) -> None:
    for j, name in enumerate(features):
        longest = max([len(str(row["group"][name])) for row in rows] + [len(name), first_width if j == 0 else 0])
        table.add_column(markup(name), overflow="fold", min_width=min(longest, _WIDE))


def _metrics(console: Console, report: Any) -> None:
    from rich.table import Table

    worst = getattr(report, "worst_class", None)
    metrics = Table(title="Fairness metrics", title_justify="left", caption_justify="left",
                    caption=f"groups under {report.min_group_size} rows left out")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    if worst is not None:
        metrics.add_column("class" if report.favorable_class is not None else "worst class")
    for name, value in report.metrics.items():
        extra = [] if worst is None else [markup("" if worst.get(name) is None else str(worst[name]))]
        metrics.add_row(name, _number(value), *extra)
    console.print(metrics)
    if report.excluded:
        console.print(f"[yellow]{len(report.excluded)} group(s) under {report.min_group_size} rows "
                      "excluded from the metrics[/]")
    if len(report.included) < 2:
        console.print("[bold yellow]fewer than 2 groups remain: the metrics compare nothing[/]")


def _number(value, digits: int = 4) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"
