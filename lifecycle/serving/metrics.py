"""Prometheus metrics of the server (``GET /metrics``, text exposition format).

``rai_http_requests_total`` and ``rai_http_request_duration_seconds`` (histogram) by endpoint,
status, model and version; ``rai_decisions_total`` by label; ``rai_input_flags_total`` by
column and kind; ``rai_http_rejected_total`` for connections closed before a request reached
the app (malformed HTTP, headers too slow or too large); ``rai_model_verified`` (1 while the
entry verifies); ``rai_prediction_log_records_total``.

With several worker processes the values are shared through files in
``PROMETHEUS_MULTIPROC_DIR`` (set by the server before the workers start), so any worker
answers for all of them.
"""

from __future__ import annotations

import os
from typing import Any

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The server's metrics for one model (``name``, ``version``)."""

    def __init__(self, name: str, version: int):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

        disable_created_metrics()  # the *_created series only repeat the start time
        self.model = (name, str(version))
        self.registry = CollectorRegistry(auto_describe=True)
        per_request = ["endpoint", "status", "model", "version"]
        self._requests = Counter("rai_http_requests_total", "HTTP requests answered by the app",
                                 per_request, registry=self.registry)
        self._latency = Histogram("rai_http_request_duration_seconds", "Time from request to response in the app",
                                  per_request, buckets=BUCKETS, registry=self.registry)
        self._decisions = Counter("rai_decisions_total", "Rows scored and logged", ["model", "version", "label"],
                                  registry=self.registry)
        self._flags = Counter("rai_input_flags_total", "Flags raised on scored rows",
                              ["model", "version", "column", "kind"], registry=self.registry)
        self._rejected = Counter("rai_http_rejected_total", "Connections closed before reaching the app",
                                 ["reason"], registry=self.registry)
        self._verified = Gauge("rai_model_verified", "1 while the served registry entry verifies",
                               ["model", "version"], registry=self.registry, multiprocess_mode="min")
        self._logged = Counter("rai_prediction_log_records_total", "Decisions written to the prediction log",
                               ["model", "version"], registry=self.registry)
        self._children: dict[tuple[str, int], Any] = {}
        self._positive, self._negative = self._decisions.labels(*self.model, "1"), self._decisions.labels(*self.model, "0")
        self._logged_child = self._logged.labels(*self.model)
        self.verified(True)

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        child = self._children.get((endpoint, status))
        if child is None:
            labels = (endpoint, str(status), *self.model)
            child = self._children[(endpoint, status)] = (self._requests.labels(*labels), self._latency.labels(*labels))
        child[0].inc()
        child[1].observe(seconds)

    def decided(self, labels: list[bool], flags: list[list[str]], logged: bool) -> None:
        """Count a request's decisions (and the flags raised on its rows)."""
        positives = sum(labels)
        if positives:
            self._positive.inc(positives)
        if len(labels) - positives:
            self._negative.inc(len(labels) - positives)
        if logged:
            self._logged_child.inc(len(labels))
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

        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
