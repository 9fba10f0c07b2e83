"""Prometheus metrics of the server (``GET /metrics``, text exposition format).

``rai_http_requests_total`` and ``rai_http_request_duration_seconds`` (histogram) by endpoint,
status, model and version; ``rai_decisions_total`` by label (0/1 of a binary model, the class
of a multiclass one; a regression model's decisions have no label); ``rai_input_flags_total`` by
column and kind; ``rai_http_rejected_total`` for connections closed before a request reached
the app (malformed HTTP, headers or body too slow, headers too large); ``rai_model_verified``
(1 while the entry verifies); ``rai_prediction_log_records_total``.

Per-request counts are plain integers under one lock, turned into metric families when scraped:
a prometheus-client counter or histogram costs several times more per update, on every request.
With several worker processes the values must be shared through files in
``PROMETHEUS_MULTIPROC_DIR`` (set by the server before the workers start), so there every
update goes to prometheus-client's multi-process values and any worker answers for all.
"""

from __future__ import annotations

import bisect
import collections
import os
import threading
from typing import Any

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PER_REQUEST = ("endpoint", "status", "model", "version")


class Metrics:
    """The server's metrics for one model (``name``, ``version``).

    ``labels`` are the decision labels counted in ``rai_decisions_total`` (None: decisions are
    counted without a label, as a regression model's are).
    """

    def __init__(self, name: str, version: int, labels: tuple[object, ...] | None = (0, 1)):
        from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics

        disable_created_metrics()  # the *_created series only repeat the start time
        self.model = (name, str(version))
        self.shared = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry(auto_describe=True)
        self._flags = Counter("rai_input_flags_total", "Flags raised on scored rows",
                              ["model", "version", "column", "kind"], registry=self.registry)
        self._rejected = Counter("rai_http_rejected_total", "Connections closed before reaching the app",
                                 ["reason"], registry=self.registry)
        self._verified = Gauge("rai_model_verified", "1 while the served registry entry verifies",
                               ["model", "version"], registry=self.registry, multiprocess_mode="min")
        self._lock = threading.Lock()
        # (endpoint, status) -> [count, sum of seconds, observations per bucket ..., beyond the last]
        self._requests: dict[tuple[str, int], list[float]] = {}
        self.labels = labels
        self._decided: dict[object, int] = dict.fromkeys(labels if labels is not None else [None], 0)
        self._logged = 0
        self._shared_metrics = _SharedMetrics(self.registry, self.model, labels) if self.shared else None
        if not self.shared:
            self.registry.register(_Tally(self))
        self.verified(True)

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        if self._shared_metrics is not None:
            self._shared_metrics.observe((endpoint, str(status), *self.model), seconds)
            return
        with self._lock:
            tally = self._requests.get((endpoint, status))
            if tally is None:
                tally = self._requests[(endpoint, status)] = [0, 0.0] + [0] * (len(BUCKETS) + 1)
            tally[0] += 1
            tally[1] += seconds
            tally[2 + bisect.bisect_left(BUCKETS, seconds)] += 1

    def decided(self, labels: list[object], rows: int, flags: list[list[str]], logged: bool) -> None:
        """Count a request's ``rows`` decisions by their ``labels`` (none for regression), and the
        flags raised on its rows."""
        if self._shared_metrics is not None:
            self._shared_metrics.decided(labels, rows, logged)
        else:
            with self._lock:
                decided = self._decided
                if labels:
                    for label in labels:
                        decided[label] += 1
                else:
                    decided[None] += rows
                self._logged += rows if logged else 0
        for row in flags:
            for flag in row:
                column, _, kind = flag.rpartition(":")
                self._flags.labels(*self.model, column, kind).inc()

    def rejected(self, reason: str) -> None:
        self._rejected.labels(reason).inc()

    def verified(self, ok: bool) -> None:
        self._verified.labels(*self.model).set(1 if ok else 0)

    def render(self) -> bytes:
        """The exposition text (all workers' values in multi-process mode)."""
        from prometheus_client import CollectorRegistry, generate_latest

        if self.shared:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def snapshot(self) -> tuple[dict[tuple[str, int], list[float]], dict[object, int], int]:
        """Copies of the per-request tallies (for the collector)."""
        with self._lock:
            return {k: list(v) for k, v in self._requests.items()}, dict(self._decided), self._logged


class _Tally:
    """Collector turning :class:`Metrics`' tallies into metric families at scrape time."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        requests, decided, logged = self.metrics.snapshot()
        model = list(self.metrics.model)
        counts = CounterMetricFamily("rai_http_requests", "HTTP requests answered by the app", labels=PER_REQUEST)
        latency = HistogramMetricFamily("rai_http_request_duration_seconds", "Time from request to response in the app",
                                        labels=PER_REQUEST)
        for (endpoint, status), tally in sorted(requests.items()):
            labels = [endpoint, str(status), *model]
            counts.add_metric(labels, tally[0])
            cumulative, buckets = 0, []
            for bound, observed in zip((*map(str, BUCKETS), "+Inf"), tally[2:], strict=True):
                cumulative += observed
                buckets.append((bound, cumulative))
            latency.add_metric(labels, buckets, tally[1])
        by_label = self.metrics.labels is not None
        decisions = CounterMetricFamily("rai_decisions", "Rows scored and logged",
                                        labels=["model", "version", "label"] if by_label else ["model", "version"])
        for label, value in decided.items():
            decisions.add_metric([*model, str(label)] if by_label else model, value)
        records = CounterMetricFamily("rai_prediction_log_records", "Decisions written to the prediction log",
                                      labels=["model", "version"])
        records.add_metric(model, logged)
        yield from (counts, latency, decisions, records)


class _SharedMetrics:
    """The same per-request metrics as prometheus-client objects (multi-process mode)."""

    def __init__(self, registry: Any, model: tuple[str, str], labels: tuple[object, ...] | None):
        from prometheus_client import Counter, Histogram

        self.requests = Counter("rai_http_requests_total", "HTTP requests answered by the app", PER_REQUEST,
                                registry=registry)
        self.latency = Histogram("rai_http_request_duration_seconds", "Time from request to response in the app",
                                 PER_REQUEST, buckets=BUCKETS, registry=registry)
        decisions = Counter("rai_decisions_total", "Rows scored and logged",
                            ["model", "version", "label"] if labels is not None else ["model", "version"],
                            registry=registry)
        # One child per label, made now: every label is exported (at 0) before its first decision.
        self.decisions = ({label: decisions.labels(*model, str(label)) for label in labels} if labels is not None
                          else {None: decisions.labels(*model)})
        self.logged = Counter("rai_prediction_log_records_total", "Decisions written to the prediction log",
                              ["model", "version"], registry=registry).labels(*model)

    def observe(self, labels: tuple[str, ...], seconds: float) -> None:
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def decided(self, labels: list[object], rows: int, logged: bool) -> None:
        if labels:
            for label, count in collections.Counter(labels).items():
                self.decisions[label].inc(count)
        else:
            self.decisions[None].inc(rows)
        if logged:
            self.logged.inc(rows)
