"""The scale-out job runtime: Dramatiq on a Redis broker.

One Dramatiq actor, `luneo_job`, carries `{job_id}`; the job row decides what runs and when.
Dramatiq's own retries are off (`max_retries=0`): retries are rows set back to pending with
a delayed message. Time limits use Dramatiq's TimeLimit middleware (per-message `time_limit`).

A worker that dies stops heart-beating: after `LUNEO_JOB_HEARTBEAT_TIMEOUT_S` the broker's
queue maintenance requeues its unacked messages, and every worker's sweeper (which also
reads the Luneo liveness key `"<namespace>:luneo:worker:<id>"`) gives its `processing`
rows back. Whichever message arrives first claims the row; duplicates find it claimed.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import dramatiq
import redis
import structlog
from dramatiq.brokers.redis import RedisBroker

from luneo.platform import jobs
from luneo.platform.config import Settings
from luneo.platform.database import Database
from luneo.platform.jobs_runtime import new_worker_id

log = structlog.get_logger("luneo.jobs.dramatiq")

DRAMATIQ_ACTOR = "luneo_job"


class DramatiqRuntime:
    """Producer everywhere (`dispatch`); a consuming worker when `start_worker` is called."""

    def __init__(
        self,
        db: Database,
        settings: Settings | None = None,
        job_settings: jobs.JobSettings | None = None,
        *,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or db.settings
        self.cfg = job_settings or jobs.get_job_settings()
        if not self.settings.redis_url:
            raise ValueError("DramatiqRuntime needs LUNEO_REDIS_URL")
        self.worker_id = worker_id or new_worker_id("dq")
        self.broker = RedisBroker(
            url=self.settings.redis_url,
            namespace=self.cfg.redis_namespace,
            heartbeat_timeout=int(self.cfg.heartbeat_timeout_s * 1000),
            dead_message_ttl=int(self.cfg.dead_message_ttl_s * 1000),
            maintenance_chance=self.cfg.maintenance_chance,
        )
        self.redis: redis.Redis = self.broker.client
        self.actor: dramatiq.Actor[[str, int], None] = dramatiq.Actor(
            self._run,
            broker=self.broker,
            actor_name=DRAMATIQ_ACTOR,
            queue_name=self.cfg.queue_name,
            priority=0,
            options={"max_retries": 0},
        )
        self._worker: dramatiq.Worker | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- Runtime protocol
    def dispatch(self, job_id: str, delay_s: float = 0.0, time_limit_s: float | None = None) -> None:
        """Send `{job_id}` to the queue (delayed by `delay_s`), with the actor's time limit."""
        self._send(job_id, delay_s, time_limit_s, 0)

    def _send(self, job_id: str, delay_s: float, time_limit_s: float | None, misses: int) -> None:
        options: dict[str, Any] = {}
        if time_limit_s is not None:
            options["time_limit"] = int(time_limit_s * 1000)
        kwargs = {"misses": misses} if misses else {}
        message = self.actor.message_with_options(args=(job_id,), kwargs=kwargs, **options)
        delay_ms = int(delay_s * 1000)
        self.broker.enqueue(message, delay=delay_ms if delay_ms > 0 else None)

    def _liveness_key(self, worker_id: str) -> str:
        return f"{self.cfg.redis_namespace}:luneo:worker:{worker_id}"

    def is_worker_alive(self, worker_id: str) -> bool | None:
        """Whether a Dramatiq worker still heart-beats (None for ids of other runtimes)."""
        if worker_id == self.worker_id and self._worker is not None:
            return True
        if not worker_id.startswith("dq:"):
            return None
        try:
            return bool(self.redis.exists(self._liveness_key(worker_id)))
        except redis.RedisError:
            return None  # cannot tell: never steal work on a Redis hiccup

    # -- worker side
    def _run(self, job_id: str, misses: int = 0) -> None:
        outcome = jobs.execute(
            self.db, job_id, worker_id=self.worker_id, watchdog=False, is_worker_alive=self.is_worker_alive
        )
        if outcome != "missing":
            return
        # The row is not visible (yet): defer with a growing delay rather than drop, a few
        # times; then leave it to the sweeper (a committed row is re-dispatched by it).
        if misses < jobs.MAX_INVISIBLE_RETRIES:
            delay_s = min(30.0, 0.5 * (2**misses))
            log.warning("job_message_deferred", job_id=job_id, misses=misses + 1, retry_in_s=delay_s)
            try:
                self._send(job_id, delay_s, None, misses + 1)
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
        """Start consuming (Dramatiq worker threads), heart-beating, and the sweeper loop."""
        self._heartbeat()
        self._stop.clear()
        hb = threading.Thread(target=self._heartbeat_loop, name="luneo-job-heartbeat", daemon=True)
        hb.start()
        self.broker.emit_after("process_boot")
        self._worker = dramatiq.Worker(self.broker, worker_threads=max(1, threads), worker_timeout=500)
        self._worker.start()
        interval = sweep_interval_s if sweep_interval_s is not None else self.settings.job_sweep_interval_s
        sweeper = threading.Thread(
            target=self._sweep_loop, args=(interval,), name="luneo-job-sweeper", daemon=True
        )
        sweeper.start()
        self._threads = [hb, sweeper]
        log.info(
            "job_runtime_started",
            mode="dramatiq",
            threads=threads,
            worker_id=self.worker_id,
            queue=self.cfg.queue_name,
        )

    def _heartbeat(self) -> None:
        ttl_ms = max(100, int(self.cfg.heartbeat_timeout_s * 1000))
        self.redis.set(self._liveness_key(self.worker_id), "1", px=ttl_ms)

    def _heartbeat_loop(self) -> None:
        every = max(0.05, self.cfg.heartbeat_timeout_s / 3)
        while not self._stop.wait(every):
            try:
                self._heartbeat()
            except redis.RedisError:
                log.warning("job_heartbeat_failed", worker_id=self.worker_id)

    def _sweep_loop(self, interval_s: float) -> None:
        while True:
            jobs.tick(self.db, is_worker_alive=self.is_worker_alive)
            if self._stop.wait(max(0.05, interval_s)):
                return

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop consuming (running jobs finish, prefetched messages are requeued)."""
        self._stop.set()
        if self._worker is not None:
            self._worker.stop(timeout=int(timeout_s * 1000))
            self._worker = None
        for t in self._threads:
            t.join(timeout_s)
        self._threads = []
        with contextlib.suppress(redis.RedisError):
            self.redis.delete(self._liveness_key(self.worker_id))
        self.broker.close()
        log.info("job_runtime_stopped", mode="dramatiq", worker_id=self.worker_id)
