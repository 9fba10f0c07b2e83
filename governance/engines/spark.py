"""The Apache Spark engine: the audit's partial aggregates computed as Spark aggregations.

Nothing here collects rows to the driver: fairness collects one count per (group, true label,
predicted label); drift collects per column a few moments and the count of each distinct value
(at most the cap, past which it collects equal-width histogram bins instead). The reports are
then computed from these partials by the code the other engines use, so every number that is
computed exactly equals theirs (the tests hold them to 1e-12).

PySpark is an optional extra (``pip install 'rai[spark]'``) and needs a Java runtime; both are
imported or looked for only when a Spark audit runs, and their absence is one line, exit 2.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Any
from urllib.parse import urlparse

import numpy as np

from governance.errors import UserError
from governance.metrics.counted import SKETCH_BINS, Histograms, outer_range
from governance.metrics.drift import HistogramRequest
from governance.metrics.fairness_partials import FairnessCounts
from governance.metrics.partials import DEFAULT_CAP, ColumnPartial, from_value_counts, is_numeric_dtype

#: Rows of (group, label, label) counts a fairness audit accepts before calling the groups too many.
MAX_CELLS = 1_000_000
_CONNECT_TIMEOUT = 5.0


def is_spark_frame(value: Any) -> bool:
    """Whether ``value`` is a PySpark DataFrame (without importing PySpark)."""
    return any(cls.__module__.startswith("pyspark.sql") and cls.__name__ == "DataFrame" for cls in type(value).__mro__)


def session(master: str | None = None, app_name: str = "rai audit") -> Any:
    """A Spark session on ``master`` (default: an active session, else ``local[*]``).

    Raises
    ------
    UserError
        PySpark is not installed, no Java runtime is found, or a ``spark://`` master does not
        answer.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("--engine spark needs PySpark: pip install 'rai[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise UserError("--engine spark needs a Java runtime (no 'java' on PATH and JAVA_HOME unset); "
                        "install Java 17, e.g. apt-get install openjdk-17-jre-headless")
    master = master or "local[*]"
    _check_reachable(master)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false"))
    if master.startswith("local"):  # one machine: loopback only, and few shuffle partitions for its cores
        builder = (builder.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", "4"))
    try:
        spark = builder.getOrCreate()
    except Exception as err:  # noqa: BLE001  (the JVM's failures arrive as many types)
        raise UserError(f"--spark-master {master}: Spark did not start: {_first_line(err)}") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _check_reachable(master: str) -> None:
    """A ``spark://host:port`` master that refuses connections fails at once, not after retries."""
    if not master.startswith("spark://"):
        return
    for address in master[len("spark://"):].split(","):
        parsed = urlparse(f"//{address}")
        try:
            with socket.create_connection((parsed.hostname, parsed.port or 7077), timeout=_CONNECT_TIMEOUT):
                return
        except OSError as err:
            problem = err.strerror or type(err).__name__
    raise UserError(f"--spark-master {master}: cannot connect ({problem}); check the URL and that the master runs")


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]


def read(spark: Any, dataset: Any) -> Any:
    """A Spark DataFrame of a checked :class:`~governance.stream.Dataset` (local files)."""
    paths = [str(f) for f in dataset.files]
    if dataset.format == "parquet":
        return spark.read.parquet(*paths)
    sep = "\t" if ".tsv" in paths[0].lower() else ","
    text = (spark.read.option("header", "true").option("inferSchema", "false").option("sep", sep)
            .option("ignoreLeadingWhiteSpace", "true").option("mode", "FAILFAST").csv(paths))
    try:
        return typed_as_pandas(text)
    except Exception as err:  # noqa: BLE001  (Py4J and Spark raise many types)
        if not type(err).__module__.startswith(("pyspark", "py4j")):
            raise
        java = getattr(err, "java_exception", None)  # Py4J's own first line names only the call
        raise UserError(f"{dataset.name}: Spark could not read the CSV: "
                        f"{_first_line(Exception(java.getMessage())) if java is not None else _first_line(err)}") from None


# Text pandas' CSV reader takes for a number or a boolean (after leading blanks, as skipinitialspace).
_INTEGER = r"^[+-]?[0-9]+ *$"
_NUMBER = r"^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity)) *$"
_BOOLEAN = r"^(?i:true|false)$"


def typed_as_pandas(frame: Any) -> Any:
    """A DataFrame of CSV text with pandas' missing markers as nulls and the column types
    pandas infers: integers (floats once a value is missing), numbers, booleans, else text.

    Spark's own schema inference differs (``NA`` is text to it, dates become timestamps, and
    its ``nullValue`` takes one marker), so the types are decided here, in one aggregation.
    """
    from pandas._libs.parsers import STR_NA_VALUES  # pandas' default na_values, as read_csv uses them
    from pyspark.sql import functions as F

    markers = sorted(STR_NA_VALUES)
    names = list(frame.columns)
    if not names:
        return frame
    frame = frame.select(*(F.when(column(n).isin(markers), F.lit(None)).otherwise(column(n)).alias(n) for n in names))
    stats = []
    for i, name in enumerate(names):
        col = column(name)
        fits = F.trim(col).try_cast("long").isNotNull()
        stats += [F.count(col).alias(f"p{i}"), F.count(F.when(col.isNull(), 1)).alias(f"m{i}"),
                  F.count(F.when(col.rlike(_INTEGER) & fits, 1)).alias(f"i{i}"),
                  F.count(F.when(col.rlike(_INTEGER) & ~fits, 1)).alias(f"o{i}"),  # past int64: text to pandas
                  F.count(F.when(col.rlike(_NUMBER), 1)).alias(f"f{i}"),
                  F.count(F.when(col.rlike(_BOOLEAN), 1)).alias(f"b{i}")]
    row = frame.agg(*stats).collect()[0]
    typed = []
    for i, name in enumerate(names):
        present, col = row[f"p{i}"], F.trim(column(name))
        if present and row[f"i{i}"] == present:
            col = col.cast("double" if row[f"m{i}"] else "long")
        elif row[f"f{i}"] == present and not row[f"o{i}"]:  # all numbers, or all missing: float64 to pandas
            col = col.cast("double")
        elif present and row[f"b{i}"] == present:
            col = F.lower(col).cast("boolean")
        else:
            col = column(name)
        typed.append(col.alias(name))
    return frame.select(*typed)


def fairness_counts(frame: Any, y_true: str, y_pred: str, features: list[str], where: str) -> FairnessCounts:
    """Rows per (group, true label, predicted label) of a Spark DataFrame; missing values refused."""
    _refuse_missing(frame, [y_true, y_pred, *features], where)
    cells = frame.groupBy(*(column(c) for c in (*features, y_true, y_pred))).count().limit(MAX_CELLS + 1).collect()
    if len(cells) > MAX_CELLS:
        raise UserError(f"{where}: more than {MAX_CELLS:,} (group, label, label) combinations; "
                        "check the sensitive and label columns")
    counts = FairnessCounts(list(features))
    k = len(features)
    counts.add([tuple(row[:k]) for row in cells], [row[k] for row in cells], [row[k + 1] for row in cells],
               [row[k + 2] for row in cells])
    for key, i in (("y_true", k), ("y_pred", k + 1)):
        counts.note_labels(key, sorted({row[i] for row in cells}, key=repr))
    return counts


def _refuse_missing(frame: Any, columns: list[str], where: str) -> None:
    from pyspark.sql import functions as F

    types = dict(frame.dtypes)
    checks = []
    for name in dict.fromkeys(columns):
        missing = column(name).isNull()
        if types[name] in ("double", "float"):
            missing = missing | F.isnan(column(name))
        checks.append(F.sum(missing.cast("long")).alias(name))
    found = frame.agg(*checks).collect()[0].asDict()
    for name in dict.fromkeys(columns):
        if found[name]:
            raise UserError(f"{where}: column '{name}' has {found[name]} missing value(s); fill or drop them first")


def column(name: str) -> Any:
    """A column by its exact name (dots and spaces included)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def spark_dtype(spark_type: str, has_missing: bool) -> str:
    """The pandas dtype name a column of this Spark type would have when read by pandas."""
    ints = {"bigint": "int64", "int": "int32", "smallint": "int16", "tinyint": "int8"}
    if spark_type in ints:
        return "float64" if has_missing else ints[spark_type]
    if spark_type in ("double", "float"):
        return "float64" if spark_type == "double" else "float32"
    if spark_type == "boolean":
        return "object" if has_missing else "bool"
    if spark_type.startswith("timestamp"):
        return "datetime64[ns]"
    return "object"


def column_partial(frame: Any, name: str, dtype: str, cap: int | None = DEFAULT_CAP,
                   rows: int | None = None) -> ColumnPartial:
    """One column's :class:`ColumnPartial`, from Spark aggregations (``rows``: the frame's, if known)."""
    from pyspark.sql import functions as F

    col = column(name)
    numeric = is_numeric_dtype(dtype)
    present = col.isNotNull() & (~F.isnan(col) & ~col.isin(float("inf"), float("-inf")) if numeric else F.lit(True))
    kept = frame.where(present)
    stats = [F.count(F.lit(1)).alias("n")]
    if numeric:
        stats += [F.min(col).alias("low"), F.max(col).alias("high"), F.avg(col).alias("mean"),
                  F.var_pop(col).alias("var")]
    elif dtype in ("object", "string", "category"):
        stats += [F.min(col).alias("low"), F.max(col).alias("high")]
    row = kept.agg(*stats).collect()[0]
    counted = kept.groupBy(col).count()
    counted = (counted.limit(cap + 1) if cap is not None else counted).collect()
    part = from_value_counts("object", frame.count() if rows is None else rows, [r[0] for r in counted], [r[1] for r in counted], cap=cap)
    part.dtype, part.present = dtype, int(row["n"])  # the counts above may stop at the cap
    if dtype in ("object", "string", "category") and row["n"]:
        part.first, part.last = row["low"], row["high"]  # only their type matters: Spark text is str
    if numeric and row["n"]:
        part.low, part.high = float(row["low"]), float(row["high"])
        part.moments = (int(row["n"]), float(row["mean"]), float(row["var"]) * int(row["n"]))
    if (numeric or dtype == "bool") and not part.overflow:
        values, counts = part.value_counts()
        keys = np.array(values, dtype=np.float64 if dtype.startswith("float") else None)
        order = np.argsort(keys, kind="stable")
        part.keys, part.counts = keys[order], np.asarray(counts)[order]
    return part


def histograms(frames: tuple[Any, Any], requests: dict[str, HistogramRequest]) -> dict[str, Histograms]:
    """The second pass of a drift audit: equal-width bins counted by Spark (numpy's assignment)."""
    out = {}
    for name, request in requests.items():
        hist = Histograms(request.low, request.high)
        offsets = []
        for bins in request.bins:
            sides = [_binned(frame, name, bins, request) for frame in frames]
            hist.counts[bins] = (sides[0][0], sides[1][0])
            if bins == SKETCH_BINS:
                offsets = (sides[0][1], sides[1][1])
        if request.offsets:
            hist.offsets = offsets
        out[name] = hist
    return out


def _binned(frame: Any, name: str, bins: int, request: HistogramRequest) -> tuple[np.ndarray, np.ndarray]:
    from pyspark.sql import functions as F

    first, last = outer_range(request.low, request.high)
    step = (last - first) / bins
    col = column(name).cast("double")

    def edge(index):  # np.linspace(first, last, bins + 1)[index], operation for operation
        return F.when(index == bins, F.lit(last)).otherwise(index.cast("double") * F.lit(step) + F.lit(first))

    index = (((col - F.lit(first)) / F.lit(last - first)) * F.lit(float(bins))).cast("long")
    index = F.when(index == bins, bins - 1).otherwise(index)
    index = F.when(col < edge(index), index - 1).otherwise(index)
    index = F.when((col >= edge(index + 1)) & (index != bins - 1), index + 1).otherwise(index)
    finite = column(name).isNotNull() & ~F.isnan(col) & ~col.isin(float("inf"), float("-inf"))
    binned = frame.where(finite).select(index.alias("bin"), (col - edge(index)).alias("offset"))
    rows = binned.groupBy("bin").agg(F.count(F.lit(1)).alias("n"), F.sum("offset").alias("offset")).collect()
    counts, offsets = np.zeros(bins, dtype=np.int64), np.zeros(bins)
    for row in rows:
        counts[row["bin"]] = row["n"]
        offsets[row["bin"]] = row["offset"]
    return counts, offsets
