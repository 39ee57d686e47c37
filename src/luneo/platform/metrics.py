"""Prometheus metrics: per-route latency histograms and counters."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_LATENCY = Histogram(
    "luneo_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS = Counter("luneo_jobs_total", "Jobs finished by actor and outcome", ["actor", "outcome"])
JOB_LATENCY = Histogram("luneo_job_duration_seconds", "Job run time by actor", ["actor"])


def render_metrics() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
