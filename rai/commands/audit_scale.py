"""``--engine``: where ``rai audit`` computes: in memory, streaming record batches, or on Spark.

``auto`` (the default) streams when the audit's options allow it (binary fairness, no policy,
no relabelling or banding of groups) or when the data is a directory or a glob, and reads the
file into memory otherwise. Every engine prints the same JSON for the same rows. The CSV
dialect (``--sep``, ``--encoding``, ``--decimal``, ``--quotechar``) and ``--na-values`` are
honoured by the memory and stream engines and refused by the Spark engine, never ignored.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click

from governance.errors import UserError
from governance.fsutil import file_sha256
from rai.options import CSV_DIALECT_PARAMETERS

ENGINES = ("auto", "memory", "stream", "spark")
#: How the files are written: the stream engine reads them as the memory engine does; Spark does not.
READING_OPTIONS = (*CSV_DIALECT_PARAMETERS, "na_values")


def engine_options(run_scaled):
    """Add ``--engine``, ``--batch-rows`` and ``--spark-master`` to an audit command.

    ``run_scaled(engine, batch_rows, spark_master, **options)`` runs the audit on the ``stream``
    or ``spark`` engine; the ``memory`` engine is the command itself, unchanged.
    """

    def decorate(command):
        @click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
                      help="memory: read the files whole; stream: record batches in bounded memory; "
                           "spark: Apache Spark aggregations; auto: stream where the options allow it.")
        @click.option("--batch-rows", "batch_rows", type=click.IntRange(min=1), default=1 << 20, show_default=True,
                      help="Rows per record batch of the stream engine (memory is bounded by it).")
        @click.option("--spark-master", "spark_master",
                      help="Spark master URL for --engine spark (default: local[*]), e.g. spark://host:7077, yarn.")
        @functools.wraps(command)
        def wrapper(*args, engine="auto", batch_rows=1 << 20, spark_master=None, **options):
            if spark_master is not None and engine != "spark":
                raise UserError("--spark-master applies to --engine spark only")
            chosen = run_scaled.choose(engine, options)
            if chosen == "memory":
                return command(*args, **options)
            from governance.csvoptions import csv_options

            dialect = csv_options("--", **{name: options.pop(name, None) for name in CSV_DIALECT_PARAMETERS})
            return run_scaled(chosen, batch_rows, spark_master, dialect=dialect, **options)

        return wrapper

    return decorate


def choose_engine(engine: str, options: dict[str, Any], understood: tuple[str, ...], defaults: dict[str, Any],
                  streams: bool) -> str:
    """The engine that runs an audit: ``engine`` unless it is ``auto`` (then ``stream`` when
    ``streams`` or every option given is one the stream engine honours, else ``memory``);
    UserError for an option the engine asked for does not honour."""
    understood = (*understood, *READING_OPTIONS)
    if engine == "spark":
        unsupported = memory_only(options, (), {}, only=READING_OPTIONS)
        if unsupported:
            raise UserError(f"--engine spark does not support {unsupported[0]}; use --engine stream or --engine memory")
    if engine != "auto":
        if engine != "memory":
            refuse_memory_only(options, understood, defaults)
        return engine
    if streams:
        return "stream"
    return "memory" if memory_only(options, understood, defaults) else "stream"


def memory_only(options: dict[str, Any], understood: tuple[str, ...], defaults: dict[str, Any],
                only: tuple[str, ...] | None = None) -> list[str]:
    """The options given that only the in-memory engine implements (``--policy``, ``--task
    multiclass``, ...): every option a scaled audit does not name in ``understood``, unless it
    is left at its default."""
    flags = {"policy_path": "--policy", "as_json": "--json", "ci_format": "--format"}
    return [flags.get(k, "--" + k.replace("_", "-")) for k, v in options.items()
            if k not in understood and (only is None or k in only) and v not in (None, (), [], False, defaults.get(k))]


def refuse_memory_only(options: dict[str, Any], understood: tuple[str, ...], defaults: dict[str, Any]) -> None:
    used = memory_only(options, understood, defaults)
    if used:
        raise UserError(f"{used[0]} runs on the in-memory engine only; use --engine memory (or leave --engine auto)")


def dataset_pattern(name: str) -> bool:
    """A directory or a glob, which only the stream and Spark engines read."""
    return Path(name).is_dir() or (any(c in name for c in "*?[") and not Path(name).exists())


def emit(result: dict[str, Any], as_json: bool, print_table) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        from rich.console import Console

        print_table(Console())


def record_scaled(workspace: Path, kind: str, datasets: list[Any], result: dict[str, Any]) -> None:
    from rai.commands.audit_common import record_audit

    inputs = {str(f): file_sha256(f) for dataset in datasets for f in dataset.files}
    run_id = record_audit(workspace, kind, inputs, result, None)
    click.echo(f"recorded audit run {run_id} (rai report {run_id})", err=True)


def progress_enabled() -> bool:
    return sys.stderr.isatty()


def fairness_printer(report):
    """The in-memory command's table printer."""
    from rai.commands.fairness_output import print_report

    return lambda console: print_report(console, report)


class ScaledFairness:
    """``rai audit fairness`` on the stream or Spark engine."""

    understood = ("data", "y_true", "y_pred", "sensitive", "y_score", "pos_label", "min_group_size", "as_json",
                  "record", "workspace")
    defaults = {"task": "binary"}

    def choose(self, engine: str, options: dict[str, Any]) -> str:
        return choose_engine(engine, options, self.understood, self.defaults, dataset_pattern(options["data"]))

    def __call__(self, engine: str, batch_rows: int, spark_master: str | None, *, data, y_true, y_pred, sensitive,
                 y_score=None, pos_label=None, min_group_size=30, as_json=False, record=False, workspace=None,
                 dialect=None, na_values=(), **_memory_only) -> None:
        from governance.stream import open_dataset
        from rai.options import split_columns

        features = split_columns(sensitive, "--sensitive")
        dataset = open_dataset(data, dialect, na_values)
        if engine == "spark":
            from governance.engines import spark, spark_audit

            frame = spark.read(spark.session(spark_master), dataset)
            report = _spark_errors(lambda: spark_audit.fairness(
                frame, y_true, y_pred, features, y_score=y_score, pos_label=pos_label,
                min_group_size=min_group_size, where=dataset.name))
        else:
            from governance.engines.local import stream_fairness

            try:
                report = stream_fairness(dataset, y_true, y_pred, features, y_score=y_score, pos_label=pos_label,
                                         min_group_size=min_group_size, batch_rows=batch_rows,
                                         progress=progress_enabled())
            except UserError as err:
                if "task" in _memory_only and str(err).endswith("a binary audit needs two"):  # as in memory
                    raise UserError(f"{err}; other targets need --task multiclass or --task regression") from None
                raise
        result = report.to_dict()
        emit(result, as_json, fairness_printer(report))
        if record:
            record_scaled(workspace, "fairness", [dataset], result)


def _spark_errors(compute):
    """Spark's failures while computing (a malformed CSV row, a lost executor) as one line."""
    try:
        return compute()
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001  (Py4J and Spark raise many types)
        if type(err).__module__.startswith(("pyspark", "py4j")):
            text = (str(err).strip() or type(err).__name__).splitlines()[0][:300]
            raise UserError(f"Spark could not complete the audit: {text}") from None
        raise


run_scaled_fairness = ScaledFairness()


class ScaledDrift:
    """``rai audit drift`` on the stream or Spark engine."""

    understood = ("reference", "current", "columns", "stattest", "threshold", "drift_share", "prediction",
                  "as_json", "record", "workspace")
    defaults: dict[str, Any] = {}

    def choose(self, engine: str, options: dict[str, Any]) -> str:
        pattern = dataset_pattern(options["reference"]) or dataset_pattern(options["current"])
        chosen = choose_engine(engine, options, self.understood, self.defaults, pattern)
        if engine == "auto" and chosen == "stream" and not pattern and (
                _has_nested(options["reference"]) or _has_nested(options["current"])):
            return "memory"  # the in-memory engine names such columns as skipped; streaming refuses them
        return chosen

    def __call__(self, engine: str, batch_rows: int, spark_master: str | None, *, reference, current, columns=None,
                 stattest=None, threshold=None, drift_share=0.5, prediction=None, as_json=False, record=False,
                 workspace=None, dialect=None, na_values=(), **_memory_only) -> None:
        from governance.findings import jsonable
        from governance.metrics.drift import DriftOptions
        from governance.stream import open_dataset
        from rai.commands.drift_output import print_report
        from rai.options import split_columns

        wanted = split_columns(columns) if columns else None
        options = DriftOptions(wanted, stattest, threshold, None, drift_share)
        datasets = [open_dataset(reference, dialect, na_values), open_dataset(current, dialect, na_values)]
        names = (datasets[0].name, datasets[1].name)
        if wanted is not None:  # as the in-memory command reads them: the reference first
            for dataset in datasets:
                dataset.require(list(dict.fromkeys(wanted + ([prediction] if prediction else []))))
        if engine == "spark":
            from governance.engines import spark, spark_audit
            from governance.engines.columns import pandas_dtypes

            session = spark.session(spark_master)
            frames = [spark.read(session, d) for d in datasets]
            dtypes = tuple(pandas_dtypes(d.arrow_schema) if d.arrow_schema is not None else {} for d in datasets)
            report, row = _spark_errors(lambda: spark_audit.drift(*frames, options, names=names, prediction=prediction,
                                                                  dtypes=dtypes))
        else:
            from governance.engines.local import stream_drift

            report, row = stream_drift(*datasets, options, prediction=prediction, batch_rows=batch_rows,
                                       progress=progress_enabled())
        result = report.to_dict()
        if row is not None:
            result["prediction"] = row
        result = jsonable(result)
        emit(result, as_json, lambda console: print_report(console, report, result.get("prediction"), names))
        if record:
            record_scaled(workspace, "drift", datasets, result)


run_scaled_drift = ScaledDrift()


def _has_nested(path: str) -> bool:
    """Whether a single Parquet file has a list, struct or map column (its schema only is read)."""
    from governance.io import PARQUET_SUFFIXES

    if not str(path).lower().endswith(PARQUET_SUFFIXES):
        return False
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
    except Exception:  # unreadable: the engine that reads it says why, in one line
        return False
    return any(pa.types.is_nested(f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in schema)
