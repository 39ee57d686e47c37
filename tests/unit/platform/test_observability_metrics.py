"""Workers expose their metrics on their own port (`start_metrics_server`)."""

from __future__ import annotations

import httpx
import pytest

from luneo.platform import metrics


def test_worker_metrics_server_serves_job_metrics_and_stops() -> None:
    metrics.JOBS_SUCCEEDED.labels("obs_metrics_server").inc()
    server = metrics.start_metrics_server(0, addr="127.0.0.1")
    url = f"http://127.0.0.1:{server.port}/metrics"
    try:
        body = httpx.get(url, timeout=5).text
        assert 'luneo_jobs_succeeded_total{actor="obs_metrics_server"} 1.0' in body
        assert "luneo_job_queue_latency_seconds" in body and "luneo_job_duration_seconds" in body
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
