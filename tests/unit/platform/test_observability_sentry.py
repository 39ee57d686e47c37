"""Sentry context in workers: a failing job's event carries the actor, job, request and brand ids
(captured by an in-memory transport, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import sentry_sdk
from dramatiq.brokers.stub import StubBroker
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from luneo.platform.context import request_id_var
from luneo.platform.job_observability import JobMetrics, RequestIdPropagation


class CaptureTransport(Transport):
    """Keeps events in memory instead of sending them."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def sentry_events() -> Iterator[list[dict[str, Any]]]:
    transport = CaptureTransport()
    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1", transport=transport, auto_enabling_integrations=False
    )
    try:
        yield transport.events
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)  # no client again


def test_failing_job_event_carries_job_context(sentry_events: list[dict[str, Any]]) -> None:
    broker = StubBroker()
    broker.add_middleware(JobMetrics())
    broker.add_middleware(RequestIdPropagation())
    broker.emit_after("process_boot")

    @dramatiq.actor(broker=broker, queue_name="obs_sentry", actor_name="obs_sentry_fail", max_retries=0)
    def fail(job_id: str) -> None:
        raise RuntimeError("export failed")

    @dramatiq.actor(broker=broker, queue_name="obs_sentry", actor_name="obs_sentry_ok")
    def ok() -> None:
        sentry_sdk.capture_message("after the failing job")

    token = request_id_var.set("req_sentry1")
    try:
        fail.send_with_options(args=("job_s1",), luneo_actor="export_pack", brand_id="brd_1")
    finally:
        request_id_var.reset(token)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join("obs_sentry", fail_fast=False)
        ok.send()
        broker.join("obs_sentry", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    sentry_sdk.flush()
    failed = [e for e in sentry_events if "export failed" in str(e.get("exception") or e.get("logentry"))]
    assert failed, sentry_events
    tags = failed[0]["tags"]
    assert tags["job_actor"] == "export_pack"
    assert tags["job_id"] == "job_s1"
    assert tags["request_id"] == "req_sentry1"
    assert tags["brand_id"] == "brd_1"
    # The next message on the same thread does not inherit them.
    later = [
        e
        for e in sentry_events
        if e.get("message") == "after the failing job"
        or (e.get("logentry") or {}).get("message") == "after the failing job"
    ]
    assert (
        later
        and "job_id" not in later[0].get("tags", {})
        and later[0]["tags"]["job_actor"] == "obs_sentry_ok"
    )


def test_error_log_of_a_job_that_does_not_raise_reaches_sentry_with_its_tags(
    sentry_events: list[dict[str, Any]],
) -> None:
    import structlog

    from luneo.platform.logging import configure_logging

    configure_logging("WARNING", json_logs=True)
    broker = StubBroker()
    broker.add_middleware(RequestIdPropagation())
    broker.emit_after("process_boot")

    @dramatiq.actor(broker=broker, queue_name="obs_sentry_log", actor_name="obs_sentry_log")
    def quietly_fails(job_id: str) -> None:
        structlog.get_logger("luneo.jobs").error("job_failed", job_id=job_id, error="S3 unreachable")

    quietly_fails.send_with_options(args=("job_q1",), brand_id="brd_q")
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join("obs_sentry_log", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    sentry_sdk.flush()
    events = [e for e in sentry_events if e.get("tags", {}).get("log_event") == "job_failed"]
    assert events, sentry_events
    assert events[0]["tags"]["job_id"] == "job_q1" and events[0]["tags"]["brand_id"] == "brd_q"
    assert events[0]["contexts"]["log"]["error"] == "S3 unreachable"
