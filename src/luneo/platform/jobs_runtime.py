"""The embedded job runtime (`make run`, tests): Dramatiq's `StubBroker` + `dramatiq.Worker`
in this process, with the same actor, middleware (`TimeLimit` enforces time limits), claim
path and housekeeping scheduler as the scale-out workers (`jobs_dramatiq`).
"""

from __future__ import annotations

from queue import Queue
from typing import Any

from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from luneo.platform import jobs
from luneo.platform.database import Database
from luneo.platform.jobs_dramatiq import DramatiqRuntime, build_broker, new_worker_id

__all__ = ["InProcessRuntime", "new_worker_id"]


class InProcessRuntime(DramatiqRuntime):
    """Worker threads + the housekeeping scheduler inside the current process."""

    kind = "local"
    worker_timeout_ms = 50  # how often delayed messages are checked (a dict lookup, cheap)

    def __init__(
        self, db: Database, *, threads: int = 2, sweep_interval_s: float = 15.0, worker_id: str | None = None
    ) -> None:
        cfg = jobs.get_job_settings()
        super().__init__(db, job_settings=cfg, worker_id=worker_id, broker=build_broker(None, cfg))
        self.threads = max(1, int(threads))
        self.sweep_interval_s = max(0.05, float(sweep_interval_s))

    def start(self) -> None:
        """Start the worker threads and the scheduler (whose first sweep runs at once)."""
        if self._worker is None:
            self.start_worker(self.threads, sweep_interval_s=self.sweep_interval_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop taking work and wait for running jobs (unfinished rows are swept later)."""
        super().stop(timeout_s)

    def _queues(self) -> list[Queue[Any]]:
        assert isinstance(self.broker, StubBroker)
        names = (self.cfg.queue_name, dq_name(self.cfg.queue_name))
        return [self.broker.queues[n] for n in names if n in self.broker.queues]

    def pending_count(self) -> int:
        """Messages sent and not yet finished (queued, delayed or running)."""
        return sum(int(q.unfinished_tasks) for q in self._queues())

    def idle(self) -> bool:
        """No queued, delayed or running job (tests, graceful shutdown)."""
        return self.pending_count() == 0
