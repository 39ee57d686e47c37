"""Dramatiq middleware for job observability: metrics per Luneo actor, and the request id (plus
job id and brand) carried from the producer into the worker's logs and Sentry events.

Add both to every broker (`broker.add_middleware(JobMetrics())`, `RequestIdPropagation()`),
after Dramatiq's defaults. Metric names are in `luneo.platform.metrics`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import dramatiq
import sentry_sdk
import structlog
from dramatiq.broker import Broker, MessageProxy
from dramatiq.message import Message

from luneo.platform import metrics
from luneo.platform.context import current_request_id, request_id_var

#: Message option naming the Luneo actor when the Dramatiq actor's name differs.
LUNEO_ACTOR_OPTION = "luneo_actor"
# Set when a worker moves a delayed message (retry backoff, ETA) from the delay queue to its
# queue: that re-enqueue is not a new job, and its wait starts at the ETA, not at the send.
_DELAYED_ETA = "luneo_delayed_eta"
_READY_AT = "luneo_ready_at"


def actor_label(message: Message[Any] | MessageProxy) -> str:
    """The Luneo actor a message runs (the `luneo_actor` option, else the Dramatiq actor)."""
    return str(message.options.get(LUNEO_ACTOR_OPTION) or message.actor_name)


def job_id_of(message: Message[Any] | MessageProxy) -> str | None:
    """The job row id a message carries (`job_id` keyword, or a first argument `job_…`)."""
    job_id = message.kwargs.get("job_id")
    if job_id is None and message.args and isinstance(message.args[0], str):
        job_id = message.args[0] if message.args[0].startswith("job_") else None
    return str(job_id) if job_id is not None else None


class JobMetrics(dramatiq.Middleware):
    """Counts enqueued, started, succeeded, failed, retried and dead messages per Luneo actor,
    with attempt duration and queue latency (start − enqueue, or − ETA for delayed ones)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._started: dict[str, float] = {}

    @property
    def actor_options(self) -> set[str]:
        return {LUNEO_ACTOR_OPTION}

    # -- producer side
    def before_delay_message(self, broker: Broker, message: MessageProxy) -> None:
        message.options[_DELAYED_ETA] = message.options.get("eta")

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int | None) -> None:
        eta = message.options.pop(_DELAYED_ETA, None)
        if eta is not None:  # moved from the delay queue: ready now, not a new job
            message.options[_READY_AT] = eta
            self._local.kind = None
        else:
            message.options.pop(_READY_AT, None)
            self._local.kind = "retried" if message.options.get("retries") else "enqueued"

    def after_enqueue(self, broker: Broker, message: Message[Any], delay: int | None) -> None:
        kind = getattr(self._local, "kind", None)
        self._local.kind = None
        if kind == "enqueued":
            metrics.JOBS_ENQUEUED.labels(actor_label(message)).inc()
        elif kind == "retried":
            metrics.JOBS_RETRIED.labels(actor_label(message)).inc()

    # -- worker side
    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        if getattr(message, "failed", False):
            return
        actor = actor_label(message)
        now_ms = time.time() * 1000
        ready_ms = message.options.get(_READY_AT) or message.message_timestamp
        metrics.JOB_QUEUE_LATENCY.labels(actor).observe(max(0.0, (now_ms - ready_ms) / 1000))
        metrics.JOBS_STARTED.labels(actor).inc()
        metrics.JOBS_IN_PROGRESS.labels(actor).inc()
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        start = self._started.pop(message.message_id, None)
        if start is None:
            return
        actor = actor_label(message)
        metrics.JOBS_IN_PROGRESS.labels(actor).dec()
        metrics.JOB_DURATION.labels(actor).observe(time.perf_counter() - start)
        (metrics.JOBS_FAILED if exception is not None else metrics.JOBS_SUCCEEDED).labels(actor).inc()

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        start = self._started.pop(message.message_id, None)
        if start is not None:
            metrics.JOBS_IN_PROGRESS.labels(actor_label(message)).dec()

    def after_nack(self, broker: Broker, message: MessageProxy) -> None:
        metrics.JOBS_DEAD.labels(actor_label(message)).inc()


class RequestIdPropagation(dramatiq.Middleware):
    """Producer: the current request id goes into `message.options["request_id"]`. Worker: the
    request id and job id are bound into structlog's context (and `current_request_id()`, so
    outgoing calls carry it) while the message runs, then cleared; with Sentry on, the message
    runs in its own scope tagged with the actor, job, request and brand ids."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int | None) -> None:
        rid = current_request_id()
        if rid and "request_id" not in message.options:
            message.options["request_id"] = rid

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        self._restore()  # a previous message's context never leaks (e.g. a skipped hook)
        rid = message.options.get("request_id")
        job_id = job_id_of(message)
        bound = {k: v for k, v in (("request_id", rid), ("job_id", job_id)) if v is not None}
        self._local.tokens = structlog.contextvars.bind_contextvars(**bound)
        self._local.rid_token = request_id_var.set(rid)
        self._local.sentry = None
        if sentry_sdk.is_initialized():
            cm = sentry_sdk.isolation_scope()
            scope = cm.__enter__()
            self._local.sentry = cm
            scope.set_tag("job_actor", actor_label(message))
            brand_id = message.options.get("brand_id") or message.kwargs.get("brand_id")
            for key, value in (("job_id", job_id), ("request_id", rid), ("brand_id", brand_id)):
                if value is not None:
                    scope.set_tag(key, str(value))

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self._restore()

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self._restore()

    def _restore(self) -> None:
        tokens = getattr(self._local, "tokens", None)
        if tokens is not None:
            structlog.contextvars.reset_contextvars(**tokens)
            request_id_var.reset(self._local.rid_token)
            self._local.tokens = None
        cm = getattr(self._local, "sentry", None)
        if cm is not None:
            self._local.sentry = None
            with contextlib.suppress(Exception):
                cm.__exit__(None, None, None)
