"""Job leases: liveness of a running job, kept on its row in the database.

A claim sets `jobs.lease_expires_at = now + LUNEO_JOB_LEASE_S`; while the job runs, one
daemon thread per process renews the lease of every job this process is running, every
`LUNEO_JOB_LEASE_RENEW_S`. A row still `processing` after its lease expired belongs to no
live run (the worker died, or lost the row when its finish write failed in a database
outage): the sweeper, or the next claim of that job, gives it back, fenced by attempt.

Liveness does not depend on Redis: a Redis restart that loses every key never makes a live
worker's job look abandoned. Leases compare the clocks of different machines: keep them in
sync (NTP) well within `lease_s - lease_renew_s`. A run that could not renew for a whole lease
(a database outage longer than ~30 s) may be given back while it still runs; its finish is
then fenced off (it no longer owns the row) and logged as `job_lease_lost`.

Hand-written because it is ours: the row is the source of truth, and no broker can tell whether
the row it protects is still being worked on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import update

from luneo.platform.clock import utcnow
from luneo.platform.database import Database
from luneo.platform.models import Job
from luneo.platform.tenancy import bind_system

log = structlog.get_logger("luneo.jobs.leases")


@dataclass(frozen=True)
class _Held:
    db: Database
    job_id: str
    worker_id: str
    attempt: int


class LeaseKeeper:
    """Renews the leases of the jobs this process runs (one thread, started on first use)."""

    def __init__(self) -> None:
        self._held: dict[int, _Held] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._seq = 0

    @contextmanager
    def hold(self, db: Database, job_id: str, worker_id: str, attempt: int) -> Iterator[None]:
        """Keep renewing the lease of this run of `job_id` until the block exits."""
        with self._lock:
            self._seq += 1
            token = self._seq
            self._held[token] = _Held(db, job_id, worker_id, attempt)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="luneo-job-leases", daemon=True)
                self._thread.start()
            self._wake.notify()  # re-read the settings: the renew interval may have changed
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(token, None)

    def _loop(self) -> None:
        from luneo.platform.jobs import get_job_settings

        while True:
            cfg = get_job_settings()
            with self._lock:
                self._wake.wait(max(0.05, cfg.lease_renew_s))
                held = list(self._held.values())
            for h in held:
                renew(h.db, h.job_id, h.worker_id, h.attempt, cfg.lease_s)


def renew(db: Database, job_id: str, worker_id: str, attempt: int, lease_s: float) -> bool:
    """Push the lease of this run forward; False if the run no longer owns the row (or the
    database is unreachable: then the lease runs out and the job is given back later)."""
    try:
        with db.transaction() as s:
            bind_system(s)
            res = s.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.status == "processing",
                    Job.worker_id == worker_id,
                    Job.attempts == attempt,
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
                .execution_options(synchronize_session=False)
            )
    except Exception:
        log.warning("job_lease_renew_failed", job_id=job_id, worker_id=worker_id, exc_info=True)
        return False
    owned: bool = res.rowcount == 1  # type: ignore[attr-defined]
    if not owned:
        log.warning("job_lease_lost", job_id=job_id, worker_id=worker_id, attempt=attempt)
    return owned


keeper = LeaseKeeper()
