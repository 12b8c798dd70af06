"""Prometheus metrics of one service process (``GET /metrics``), on a registry of its own.

Contract: HTTP requests by route template, method and status, with latency histograms; model calls,
prompt and generated tokens and model seconds, counted per call as jobs run (:class:`MeteredBackend`);
jobs by state and the queue depth read from the database at scrape time, so every replica reports the
same shared figures; campaign jobs finished by outcome with their durations. Routes are the templates
(``/v1/jobs/{job_id}``), never raw paths, so label sets stay bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from backends import ChatMessage, Completion, GenerationParams, LLMBackend
from backends.base import WrappedBackend

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600)


class _JobStates(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self._counts()
        jobs = GaugeMetricFamily(
            "brandforge_jobs", "Campaign jobs in the database, by state.", labels=["state"]
        )
        for state, n in sorted(counts.items()):
            jobs.add_metric([state], n)
        yield jobs
        yield GaugeMetricFamily(
            "brandforge_queue_depth", "Jobs queued and not yet started.", value=counts.get("queued", 0)
        )


class Metrics:
    """The process's metrics (see the module docstring)."""

    def __init__(self, job_counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "brandforge_http_requests", "HTTP requests answered.", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "brandforge_http_request_seconds",
            "HTTP request latency.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.model_calls = Counter("brandforge_model_calls", "Model calls made by jobs.", registry=r)
        self.prompt_tokens = Counter(
            "brandforge_prompt_tokens", "Prompt tokens sent to the model.", registry=r
        )
        self.completion_tokens = Counter(
            "brandforge_completion_tokens", "Tokens the model generated.", registry=r
        )
        self.model_seconds = Counter("brandforge_model_seconds", "Seconds spent in model calls.", registry=r)
        self.jobs_finished = Counter(
            "brandforge_jobs_finished",
            "Campaign jobs this process ended, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "brandforge_job_seconds", "Campaign job run time.", buckets=JOB_BUCKETS, registry=r
        )
        self.checks = Counter(
            "brandforge_checks", "Texts checked by POST /v1/check, by verdict.", ["verdict"], registry=r
        )
        r.register(_JobStates(job_counts))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MeteredBackend(WrappedBackend):
    """Counts each call's tokens and time into :class:`Metrics`, and checks ``should_stop`` first."""

    def __init__(self, inner: LLMBackend, metrics: Metrics, should_stop: Callable[[], None]) -> None:
        super().__init__(inner)
        self.metrics = metrics
        self.should_stop = should_stop

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        self.should_stop()
        started = time.perf_counter()
        completion = self.inner.complete(messages, json_schema=json_schema, params=params)
        self.metrics.model_calls.inc()
        self.metrics.prompt_tokens.inc(completion.prompt_tokens)
        self.metrics.completion_tokens.inc(completion.completion_tokens)
        self.metrics.model_seconds.inc(time.perf_counter() - started)
        return completion
