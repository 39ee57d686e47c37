"""Job metrics and request-id propagation as Dramatiq middleware, on a StubBroker + Worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import structlog
from dramatiq.brokers.stub import StubBroker
from prometheus_client import REGISTRY

from luneo.platform.context import current_request_id, request_id_var
from luneo.platform.job_observability import JobMetrics, RequestIdPropagation

QUEUE = "obs_test"


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    stub = StubBroker()
    stub.add_middleware(JobMetrics())
    stub.add_middleware(RequestIdPropagation())
    stub.emit_after("process_boot")
    yield stub
    stub.flush_all()
    stub.close()


def _run(broker: StubBroker) -> None:
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join(QUEUE, timeout=10_000, fail_fast=False)
        worker.join()
    finally:
        worker.stop()


def _value(name: str, actor: str) -> float:
    return REGISTRY.get_sample_value(name, {"actor": actor}) or 0.0


def _snapshot(actor: str) -> dict[str, float]:
    names = [
        "luneo_jobs_enqueued_total",
        "luneo_jobs_started_total",
        "luneo_jobs_succeeded_total",
        "luneo_jobs_failed_total",
        "luneo_jobs_retried_total",
        "luneo_jobs_dead_total",
        "luneo_job_duration_seconds_count",
        "luneo_job_queue_latency_seconds_count",
    ]
    return {n: _value(n, actor) for n in names}


def _delta(before: dict[str, float], actor: str) -> dict[str, float]:
    after = _snapshot(actor)
    return {k.removeprefix("luneo_"): after[k] - before[k] for k in after}


def test_success_is_counted_per_luneo_actor_with_durations(broker: StubBroker) -> None:
    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="obs_ok_dramatiq")
    def ok(job_id: str) -> None:
        return None

    before = _snapshot("export_pack")
    plain_before = _snapshot("obs_ok_dramatiq")
    ok.send_with_options(args=("job_1",), luneo_actor="export_pack")
    ok.send_with_options(args=("job_2",), luneo_actor="export_pack")
    ok.send("job_3")  # no luneo_actor: the Dramatiq actor's name
    _run(broker)
    d = _delta(before, "export_pack")
    assert d["jobs_enqueued_total"] == 2
    assert d["jobs_started_total"] == 2
    assert d["jobs_succeeded_total"] == 2
    assert d["jobs_failed_total"] == 0 and d["jobs_retried_total"] == 0 and d["jobs_dead_total"] == 0
    assert d["job_duration_seconds_count"] == 2
    assert d["job_queue_latency_seconds_count"] == 2
    assert _delta(plain_before, "obs_ok_dramatiq")["jobs_succeeded_total"] == 1
    assert REGISTRY.get_sample_value("luneo_jobs_in_progress", {"actor": "export_pack"}) == 0


def test_failures_retries_and_dead_letters(broker: StubBroker) -> None:
    @dramatiq.actor(
        broker=broker, queue_name=QUEUE, actor_name="obs_fail", max_retries=2, min_backoff=1, max_backoff=5
    )
    def fail(job_id: str) -> None:
        raise RuntimeError("boom")

    before = _snapshot("obs_fail")
    fail.send("job_9")
    _run(broker)
    d = _delta(before, "obs_fail")
    # One message, three attempts: the first two are retried, the last is given up.
    assert d["jobs_enqueued_total"] == 1
    assert d["jobs_started_total"] == 3
    assert d["jobs_failed_total"] == 3
    assert d["jobs_retried_total"] == 2
    assert d["jobs_dead_total"] == 1
    assert d["jobs_succeeded_total"] == 0
    assert d["job_duration_seconds_count"] == 3
    assert d["job_queue_latency_seconds_count"] == 3


def test_request_id_flows_from_producer_into_job_logs_and_is_cleared(broker: StubBroker) -> None:
    seen: list[dict[str, Any]] = []

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="obs_ctx")
    def ctx(job_id: str) -> None:
        seen.append({**structlog.contextvars.get_contextvars(), "var": current_request_id()})

    token = request_id_var.set("req_abc123")
    try:
        message = ctx.send("job_42")
    finally:
        request_id_var.reset(token)
    assert message.options["request_id"] == "req_abc123"
    ctx.send("job_43")  # sent outside any request: no request id
    _run(broker)
    assert seen[0] == {"request_id": "req_abc123", "job_id": "job_42", "var": "req_abc123"}
    # Same worker thread, next message: nothing left over from the previous one.
    assert seen[1] == {"job_id": "job_43", "var": None}


def test_request_id_survives_retries(broker: StubBroker) -> None:
    seen: list[str | None] = []

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="obs_retry_ctx", max_retries=1, min_backoff=1)
    def flaky(job_id: str) -> None:
        seen.append(current_request_id())
        if len(seen) == 1:
            raise RuntimeError("first attempt fails")

    token = request_id_var.set("req_retry")
    try:
        flaky.send(job_id="job_7")
    finally:
        request_id_var.reset(token)
    _run(broker)
    assert seen == ["req_retry", "req_retry"]
