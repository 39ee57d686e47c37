"""The job runtime on Dramatiq: RabbitMQ, Redis, or the in-process StubBroker.

`build_broker(url)` picks the broker from `LUNEO_BROKER_URL` (default `LUNEO_REDIS_URL`):
`amqp://…` → `RabbitmqBroker`, `redis://…` → `RedisBroker`, none → `StubBroker` (the embedded
mode, `jobs_runtime.InProcessRuntime`). Every broker gets Dramatiq's default middleware
(`AgeLimit`, `TimeLimit` — the actor's time limit travels as the message's `time_limit` —,
`ShutdownNotifications`, `Callbacks`, `Pipelines`, `Retries`), `CurrentMessage`, and the job
observability middleware (`job_observability`: metrics per actor, request-id propagation).

Consuming is `dramatiq.Worker`. Each Luneo actor has a Dramatiq actor of the same name (per-actor
metrics for free; also `message.options["luneo_actor"]`) whose message carries `{job_id}`; the
job row decides what runs and when. A failed attempt the row says to retry raises
`dramatiq.Retry(delay=backoff)` and Dramatiq's `Retries` middleware re-enqueues the message
(`retry_when` accepts only that: the transient-I/O vs deterministic decision and the attempt
budget live on the row, which records every attempt and error). `CurrentMessage` tells the
shared actor function which actor a message is for.

Liveness is the row's lease (`jobs_leases`), not the broker: a broker that loses its state
(Redis restarted) delays messages at worst, the sweeper re-sends them, and the claim fences
duplicates.

Still hand-written, on purpose: the job row + claim/finish fencing, dispatch after the
outermost commit, the sweeper and leases (no broker knows whether the row it protects is being
worked on), and `on_failure` hooks (they also run for jobs failed by the sweeper or cancelled by
an operator, where no Dramatiq message fails, so `Callbacks` cannot carry them).

Periodic housekeeping (the sweeper, then the periodic actors) runs on an APScheduler
`BackgroundScheduler` in every worker; the job key per time window makes N workers run each
period's job once.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import dramatiq
import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from dramatiq.broker import Broker
from dramatiq.errors import Retry
from dramatiq.middleware import CurrentMessage, Middleware, default_middleware

from luneo.platform import jobs
from luneo.platform.config import Settings
from luneo.platform.database import Database

log = structlog.get_logger("luneo.jobs.dramatiq")

DRAMATIQ_ACTOR = "luneo_job"  # for a job whose actor name Dramatiq cannot take as is
LUNEO_ACTOR_OPTION = "luneo_actor"
_ACTOR_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9._-]*")


class JobFailed(Exception):
    """Raised by the Dramatiq actor once its job is `failed` for good, so the message fails too
    (metrics count it failed and dead); an expected error (`throws`): never retried, logged at
    info (the job's own `job_failed` line has the details)."""


def retry_when(retries: int, exc: BaseException) -> bool:
    """`Retries` re-enqueues a message only when the job row asked for it (`dramatiq.Retry`);
    any other escaping error (a finish write lost in a database outage) is the lease's."""
    return isinstance(exc, Retry)


def broker_url(settings: Settings) -> str | None:
    """The job broker's URL: `LUNEO_BROKER_URL`, else `LUNEO_REDIS_URL`, else None (embedded)."""
    return settings.broker_url or settings.redis_url


def broker_middleware() -> list[Middleware]:
    """Dramatiq's default middleware, `CurrentMessage`, and ours (metrics, request ids)."""
    from luneo.platform.job_observability import JobMetrics, RequestIdPropagation

    middleware: list[Middleware] = [m() for m in default_middleware]
    return [*middleware, CurrentMessage(), JobMetrics(), RequestIdPropagation()]


def build_broker(url: str | None, cfg: jobs.JobSettings | None = None) -> Broker:
    """A broker for `url` (`amqp://`, `redis://`; None → an in-process `StubBroker`)."""
    cfg = cfg or jobs.get_job_settings()
    middleware = broker_middleware()
    if url is None:
        from dramatiq.brokers.stub import StubBroker

        return StubBroker(middleware=middleware)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=middleware)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(
            url=url,
            middleware=middleware,
            namespace=cfg.redis_namespace,
            heartbeat_timeout=int(cfg.heartbeat_timeout_s * 1000),
            dead_message_ttl=int(cfg.dead_message_ttl_s * 1000),
            maintenance_chance=cfg.maintenance_chance,
        )
    raise ValueError(f"unsupported job broker URL {url.split('://')[0]}:// (use amqp:// or redis://)")


def new_worker_id(kind: str) -> str:
    """A worker id unique per runtime instance: host, pid and a random suffix."""
    import os
    import secrets
    import socket

    return f"{kind}:{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class DramatiqRuntime:
    """Producer everywhere (`dispatch`); a consuming worker once `start_worker` is called."""

    kind = "dq"
    worker_timeout_ms = 500

    def __init__(
        self,
        db: Database,
        settings: Settings | None = None,
        job_settings: jobs.JobSettings | None = None,
        *,
        worker_id: str | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or db.settings
        self.cfg = job_settings or jobs.get_job_settings()
        if broker is None:
            url = broker_url(self.settings)
            if url is None:
                raise ValueError("DramatiqRuntime needs LUNEO_BROKER_URL or LUNEO_REDIS_URL")
            broker = build_broker(url, self.cfg)
        self.broker = broker
        self.worker_id = worker_id or new_worker_id(self.kind)
        self._actors: dict[str, dramatiq.Actor[..., None]] = {}
        self._actors_lock = threading.Lock()
        self.actor_for(DRAMATIQ_ACTOR)
        self._worker: dramatiq.Worker | None = None
        self._scheduler: BackgroundScheduler | None = None

    def actor_for(self, name: str | None) -> dramatiq.Actor[..., None]:
        """The Dramatiq actor for the Luneo actor `name` (declared on first use)."""
        name = name if name and _ACTOR_NAME.fullmatch(name) else DRAMATIQ_ACTOR
        with self._actors_lock:
            found = self._actors.get(name)
            if found is None:
                found = dramatiq.Actor(
                    self._run,
                    broker=self.broker,
                    actor_name=name,
                    queue_name=self.cfg.queue_name,
                    priority=0,
                    options={"retry_when": retry_when, "throws": (JobFailed,)},
                )
                self._actors[name] = found
            return found

    # -- Runtime protocol
    def dispatch(
        self, job_id: str, delay_s: float = 0.0, time_limit_s: float | None = None, actor: str | None = None
    ) -> None:
        """Send `{job_id}` to the queue (delayed by `delay_s`), with the actor's time limit."""
        self._send(job_id, delay_s, time_limit_s, 0, actor)

    def _send(
        self, job_id: str, delay_s: float, time_limit_s: float | None, misses: int, actor: str | None = None
    ) -> None:
        options: dict[str, Any] = {}
        if time_limit_s is not None:
            options["time_limit"] = int(time_limit_s * 1000)
        if actor:
            options[LUNEO_ACTOR_OPTION] = actor
        kwargs = {"misses": misses} if misses else {}
        message = self.actor_for(actor).message_with_options(args=(job_id,), kwargs=kwargs, **options)
        delay_ms = int(delay_s * 1000)
        self.broker.enqueue(message, delay=delay_ms if delay_ms > 0 else None)

    # -- worker side
    def _run(self, job_id: str, misses: int = 0) -> None:
        outcome = jobs.execute(self.db, job_id, worker_id=self.worker_id, retry_by_broker=True)
        if outcome == jobs.FAILED:
            raise JobFailed(f"job {job_id} failed")
        if outcome != "missing":
            return
        current = CurrentMessage.get_current_message()
        actor = current.options.get(LUNEO_ACTOR_OPTION) if current is not None else None
        # The row is not visible (yet): defer with a growing delay rather than drop, a few
        # times; then leave it to the sweeper (a committed row is re-dispatched by it).
        if misses < jobs.MAX_INVISIBLE_RETRIES:
            delay_s = min(30.0, 0.5 * (2**misses))
            log.warning("job_message_deferred", job_id=job_id, misses=misses + 1, retry_in_s=delay_s)
            try:
                self._send(job_id, delay_s, None, misses + 1, actor)
                return
            except Exception:
                log.exception("job_message_defer_failed", job_id=job_id)
        log.warning(
            "job_message_dropped",
            job_id=job_id,
            misses=misses,
            reason="job row not visible; the sweeper re-dispatches it if it exists",
        )

    def start_worker(self, threads: int = 2, *, sweep_interval_s: float | None = None) -> None:
        """Start consuming (Dramatiq worker threads) and the housekeeping scheduler."""
        for name in jobs.registered_actors():
            self.actor_for(name)  # so messages of every registered actor find theirs
        self.broker.emit_after("process_boot")
        self._worker = dramatiq.Worker(
            self.broker, worker_threads=max(1, threads), worker_timeout=self.worker_timeout_ms
        )
        self._worker.start()
        interval = sweep_interval_s if sweep_interval_s is not None else self.settings.job_sweep_interval_s
        self._scheduler = housekeeping_scheduler(self.db, interval)
        self._scheduler.start()
        log.info(
            "job_runtime_started",
            broker=type(self.broker).__name__,
            threads=threads,
            worker_id=self.worker_id,
            queue=self.cfg.queue_name,
        )

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop consuming (running jobs finish, prefetched messages are requeued)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if self._worker is not None:
            self._worker.stop(timeout=int(timeout_s * 1000))
            self._worker = None
        self.broker.close()
        log.info("job_runtime_stopped", broker=type(self.broker).__name__, worker_id=self.worker_id)


def housekeeping_scheduler(db: Database, sweep_interval_s: float) -> BackgroundScheduler:
    """An APScheduler scheduler that sweeps lost work every `sweep_interval_s` (first run at
    once) and enqueues each periodic actor's run once per its period."""
    from datetime import UTC, datetime

    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
    now = datetime.now(UTC)
    scheduler.add_job(
        jobs.sweep_logged,
        "interval",
        args=(db,),
        seconds=max(0.05, sweep_interval_s),
        next_run_time=now,
        id="luneo:sweep",
    )
    for name, every_s in jobs.periodic_actors().items():
        # Checked at least every sweep interval so a new period's job starts promptly.
        scheduler.add_job(
            jobs.enqueue_periodic_logged,
            "interval",
            args=(db, (name,)),
            seconds=max(0.05, min(every_s, sweep_interval_s)),
            next_run_time=now,
            id=f"luneo:periodic:{name}",
        )
    return scheduler
