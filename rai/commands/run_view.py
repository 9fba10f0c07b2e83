"""How ``rai run`` looks: rich progress bars while it runs and a summary table at the end."""

from __future__ import annotations

import functools
import os
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from governance.textsafe import markup
from lifecycle.pipeline import Reporter
from rai.commands.termtable import TermTable, print_table

_STATUS_STYLE = {"passed": "green", "blocked": "bold red", "failed": "bold red", "awaiting_approval": "yellow"}
# Headline numbers of a stage line, for every task (binary, multiclass, regression).
_HEADLINE = ("train_rows", "test_rows", "unlabelled_rows", "epsilon", "train_accuracy", "train_mae", "accuracy", "roc_auc", "macro_f1",
             "mae", "r2", "deploy", "size_bytes", "version", "variant")


class RichReporter(Reporter):
    """Progress bars for stages and training epochs, one line per finished stage."""

    def __init__(self, console: Console, stages: int):
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self.stages_task = self.progress.add_task("pipeline", total=stages)
        self.epoch_task: Any = None

    def __enter__(self) -> RichReporter:
        if self.console.is_terminal:  # bars only on a terminal; logs and CI get the stage lines alone
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def stage_started(self, stage: str) -> None:
        self.progress.update(self.stages_task, description=f"stage {stage}")

    def epoch(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        if self.epoch_task is None:
            self.epoch_task = self.progress.add_task("training", total=epochs)
        loss = logs.get("loss")
        label = f"epoch loss {loss:.4f}" if loss is not None else "training"
        self.progress.update(self.epoch_task, completed=epoch, description=label)

    def stage_finished(self, stage: str, status: str, metrics: dict[str, Any]) -> None:
        if self.epoch_task is not None:
            self.progress.remove_task(self.epoch_task)
            self.epoch_task = None
        self.progress.advance(self.stages_task)
        mark = "[green]✓[/]" if status == "passed" else "[red]✗[/]"
        style = _STATUS_STYLE.get(status, "")
        self.console.print(f"{mark} {markup(stage):<9} [{style}]{markup(status)}[/] {markup(_headline(metrics))}")


def _headline(metrics: dict[str, Any]) -> str:
    parts = []
    for key in _HEADLINE:
        value = metrics.get(key)
        if value is not None:
            parts.append(f"{key}={value:.4f}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    """The final table, the blocking reasons and where the trail, evidence and registry entry are.

    Names, messages and paths come from the spec, the policy and the data: every one is shown
    through :func:`~governance.textsafe.markup`, literally.
    """
    table = Table(title=markup(f"run {summary['run_id']}: {summary['decision']}"),
                  title_style=_STATUS_STYLE.get(summary["decision"], ""))
    for column in ("stage", "gate", "metrics", "findings"):
        table.add_column(column)
    for entry in summary["stages"]:
        table.add_row(markup(entry["stage"]), f"[{_STATUS_STYLE.get(entry['status'], '')}]{markup(entry['status'])}[/]",
                      markup(_headline(entry.get("metrics") or {})), markup(_counts(entry.get("findings") or [])))
    console.print(table)
    if summary.get("variants"):
        print_table(console, _variants_table(summary["variants"]))
    if summary.get("privacy"):
        p = summary["privacy"]
        console.print(markup(f"privacy: DP-SGD epsilon={_num(p.get('epsilon'))} delta={p.get('delta')} "
                             f"noise_multiplier={_num(p.get('noise_multiplier'))} ({p.get('accountant')})"))
    for entry in summary["stages"]:
        for f in entry.get("findings") or []:
            if f["status"] in ("warning", "waived"):
                where = f" ({f['subject']})" if f.get("subject") else ""
                text = f"{f['status']} {f['rule_id']}{where}: {f['message']}"
                console.print(f"[yellow]![/] {markup(text)}", highlight=False)
    bullet = "[red]•[/]" if summary["decision"] != "passed" else "•"
    for reason in summary.get("reasons") or []:
        console.print(f"{bullet} {markup(reason)}", highlight=False)
    _locations(console, summary)


def _variants_table(variants: list[dict[str, Any]]) -> TermTable:
    """Each LiteRT variant in its task's terms: accuracy and selection-rate gaps, or MAE and error gaps."""
    regression = all(v.get("accuracy") is None for v in variants) and any(
        (v.get("performance") or {}).get("mae") is not None for v in variants)
    quality, gap = ("mae", ".mae_difference") if regression else ("accuracy", ".demographic_parity_difference")
    table = TermTable(title="LiteRT variants", keys=1)
    table.add_column("mode")
    for column in ("size", quality, "latency ms"):
        table.add_column(column, numeric=True)
    for column in ("MAE gap" if regression else "parity gap", "gate", "deployed"):
        table.add_column(column)
    for v in variants:
        value = (v.get("performance") or {}).get("mae") if regression else v.get("accuracy")
        gaps = ", ".join(f"{k.split('.')[0]}={_num(x, 3)}" for k, x in (v.get("group_gaps") or {}).items()
                         if k.endswith(gap))
        table.add_row(markup(v["mode"]), f"{v.get('size_bytes') or 0:,} B", markup(_num(value)),
                      markup(_num(v.get("latency_ms"))), markup(gaps or "-"), markup(v.get("decision") or "-"),
                      "yes" if v.get("deployed") else "")
    return table


def _counts(findings: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["status"]] = counts.get(f["status"], 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "-"


def _num(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, float) else ("-" if value is None else str(value))


def _locations(console: Console, summary: dict[str, Any]) -> None:
    print_ = functools.partial(console.print, highlight=False, soft_wrap=True)

    def say(text: str) -> None:
        print_(markup(text))  # paths and names, shown literally

    run_id = summary["run_id"]
    ws = "" if os.path.normpath(summary["workspace"]) == ".rai" else f" --workspace {_rel(summary['workspace'])}"
    say(f"trail:    {_rel(summary['trail'])}  (run {run_id}; `rai trail show --run {run_id}{ws}`)")
    say(f"evidence: {_rel(summary['evidence'])}  and blobs in {_rel(os.path.join(summary['workspace'], 'blobs'))}")
    deployed = summary.get("deployed")
    if deployed:
        say(f"registry: {_rel(deployed['manifest'])}  ({deployed['name']} v{deployed['version']}, `rai serve {deployed['name']}{ws}`)")
    elif summary["decision"] == "awaiting_approval":
        say(f"next:     `rai approve {run_id} --role ROLE --decision approve{ws}`, "
            f"then `rai run --resume {run_id}{ws}`")


def _rel(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("../..") else relative
