"""The embedded job runtime: worker threads pulling job ids from a local delay queue.

Same claim/run/retry path as the Dramatiq workers (`jobs.execute`), same table, same time
limits (enforced by the in-process watchdog) and the same sweeper, run every
`LUNEO_JOB_SWEEP_INTERVAL_S`.
"""

from __future__ import annotations

import heapq
import itertools
import os
import secrets
import socket
import threading
import time

import structlog

from luneo.platform import jobs
from luneo.platform.database import Database

log = structlog.get_logger("luneo.jobs.runtime")


def new_worker_id(kind: str) -> str:
    """A worker id unique per runtime instance: host, pid and a random suffix."""
    return f"{kind}:{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class InProcessRuntime:
    """Worker threads + a sweeper thread inside the current process."""

    def __init__(
        self, db: Database, *, threads: int = 2, sweep_interval_s: float = 15.0, worker_id: str | None = None
    ) -> None:
        self.db = db
        self.threads = max(1, int(threads))
        self.sweep_interval_s = max(0.05, float(sweep_interval_s))
        self.worker_id = worker_id or new_worker_id("local")
        self._heap: list[tuple[float, int, str]] = []
        self._queued: dict[str, float] = {}  # job id → earliest due time (monotonic)
        self._running: set[str] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []

    # -- Runtime protocol
    def dispatch(self, job_id: str, delay_s: float = 0.0, time_limit_s: float | None = None) -> None:
        """Queue a job id to run after `delay_s` seconds."""
        due = time.monotonic() + max(0.0, delay_s)
        with self._cond:
            current = self._queued.get(job_id)
            if current is not None and current <= due:
                return
            self._queued[job_id] = due
            heapq.heappush(self._heap, (due, next(self._seq), job_id))
            self._cond.notify()

    def is_worker_alive(self, worker_id: str) -> bool | None:
        # Only this process's own threads are known; anything else is unknowable here.
        if worker_id == self.worker_id:
            return True
        return None

    # -- lifecycle
    def start(self) -> None:
        """Start the worker threads and the sweeper (whose first round runs at once)."""
        with self._cond:
            if self._threads:
                return
            self._stopping = False
        for i in range(self.threads):
            t = threading.Thread(target=self._work, name=f"luneo-job-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        sweeper = threading.Thread(target=self._sweep_loop, name="luneo-job-sweeper", daemon=True)
        sweeper.start()
        self._threads.append(sweeper)
        log.info("job_runtime_started", mode="in_process", threads=self.threads, worker_id=self.worker_id)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop taking work and wait for running jobs (unfinished rows are swept later)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        log.info("job_runtime_stopped", mode="in_process", worker_id=self.worker_id)

    def pending_count(self) -> int:
        with self._cond:
            return len(self._queued)

    def idle(self) -> bool:
        """No queued and no running job (tests, graceful shutdown)."""
        with self._cond:
            return not self._queued and not self._running

    # -- threads
    def _next(self) -> str | None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                while self._heap and self._queued.get(self._heap[0][2]) != self._heap[0][0]:
                    heapq.heappop(self._heap)  # superseded by an earlier dispatch
                if self._heap and self._heap[0][0] <= now:
                    _, _, job_id = heapq.heappop(self._heap)
                    del self._queued[job_id]
                    self._running.add(job_id)
                    return job_id
                timeout = (self._heap[0][0] - now) if self._heap else None
                self._cond.wait(timeout)
            return None

    def _work(self) -> None:
        while True:
            job_id = self._next()
            if job_id is None:
                return
            try:
                jobs.execute(self.db, job_id, worker_id=self.worker_id, watchdog=True)
            except BaseException:
                log.exception("job_runtime_error", job_id=job_id)
            finally:
                with self._cond:
                    self._running.discard(job_id)
                    self._cond.notify_all()

    def _sweep_loop(self) -> None:
        while True:
            jobs.tick(self.db, is_worker_alive=self.is_worker_alive)
            with self._cond:
                if self._stopping:
                    return
                self._cond.wait(self.sweep_interval_s)
                if self._stopping:
                    return
