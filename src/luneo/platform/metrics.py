"""Prometheus metrics: per-route HTTP latency, job counters and histograms, exposition.

Under `luneo serve --workers N` (N > 1) every API process writes its samples to
`PROMETHEUS_MULTIPROC_DIR` (prometheus-client multiprocess mode, set up by `luneo serve`) and
`render_metrics` aggregates all of them, so `/metrics` gives the same totals whichever process
answers. Workers expose the same metrics on their own port (`start_metrics_server`).
"""

from __future__ import annotations

import atexit
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from threading import Thread
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_LATENCY = Histogram(
    "luneo_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
JOBS_ENQUEUED = Counter("luneo_jobs_enqueued_total", "Job messages sent to the broker, by actor", ["actor"])
JOBS_STARTED = Counter("luneo_jobs_started_total", "Job attempts started by a worker, by actor", ["actor"])
JOBS_SUCCEEDED = Counter("luneo_jobs_succeeded_total", "Job attempts that succeeded, by actor", ["actor"])
JOBS_FAILED = Counter("luneo_jobs_failed_total", "Job attempts that raised, by actor", ["actor"])
JOBS_RETRIED = Counter("luneo_jobs_retried_total", "Job messages re-enqueued for another attempt", ["actor"])
JOBS_DEAD = Counter("luneo_jobs_dead_total", "Job messages given up (dead-lettered), by actor", ["actor"])
JOBS_IN_PROGRESS = Gauge(
    "luneo_jobs_in_progress", "Job attempts running now, by actor", ["actor"], multiprocess_mode="livesum"
)
JOB_DURATION = Histogram(
    "luneo_job_duration_seconds", "Job attempt run time by actor", ["actor"], buckets=_JOB_BUCKETS
)
JOB_QUEUE_LATENCY = Histogram(
    "luneo_job_queue_latency_seconds",
    "Time a job message waited in the queue (from enqueue or its ETA to start), by actor",
    ["actor"],
    buckets=_JOB_BUCKETS,
)
JOB_LATENCY = JOB_DURATION  # former name


def multiprocess_dir() -> str | None:
    """The multiprocess-mode directory, when this process writes its samples there."""
    return os.environ.get(MULTIPROC_ENV) or None


def exposition_registry() -> Any:
    """The registry to expose: all processes' samples in multiprocess mode, else this one's."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def render_metrics() -> tuple[bytes, str]:
    return generate_latest(exposition_registry()), CONTENT_TYPE_LATEST


@dataclass
class MetricsServer:
    """A running exposition server (`GET /metrics` on `port`)."""

    server: Any
    thread: Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> MetricsServer:
    """Serve this process's metrics (or, in multiprocess mode, all processes') on `port`
    (0 picks a free one). Workers call it with `LUNEO_WORKER_METRICS_PORT`."""
    server, thread = start_http_server(port, addr=addr, registry=exposition_registry())
    return MetricsServer(server, thread)


def _mark_dead_on_exit() -> None:
    """In multiprocess mode, drop this process's live gauges when it exits (counters stay)."""
    path = multiprocess_dir()
    if path is not None:
        pid = os.getpid()
        atexit.register(lambda: multiprocess.mark_process_dead(pid, path))


_mark_dead_on_exit()


def use_multiprocess_dir(data_dir: Path) -> Path | None:
    """Before `luneo serve` starts several API processes: point them all at one fresh
    multiprocess directory (`<data dir>/prometheus/api-…`, unless `PROMETHEUS_MULTIPROC_DIR`
    is already set). Returns the directory to remove once they have stopped (None if not ours)."""
    if multiprocess_dir() is not None:
        return None
    root = data_dir / "prometheus"
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="api-", dir=root))
    os.environ[MULTIPROC_ENV] = str(path)
    return path
