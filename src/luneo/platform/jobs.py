"""Background jobs: the `jobs` row is the source of truth, the queue only carries its id.

Domains register actors with `@actor(name, time_limit_s=…, max_retries=…)`; each actor is a
function `fn(ctx: JobContext) -> dict | None`. `enqueue(session, actor, key, payload)` is
idempotent on `key` and hands the job to the runtime only after the caller's transaction
commits. Two runtimes share one claim/run/retry path (`execute`):

- in-process worker threads (embedded default, `jobs_runtime.InProcessRuntime`);
- Dramatiq workers on a Redis broker when `LUNEO_REDIS_URL` is set (`jobs_dramatiq`).

A job is claimed with one conditional UPDATE (pending and due → processing), so two workers
never run it twice; failures retry with exponential backoff (2 s × 2^(attempt-1) by default;
I/O failures get a longer, capped schedule of ~15 min, `is_transient`; an actor's `fail_fast_on`
errors fail at once), and an actor's `on_failure` hook runs once its job is finally `failed`;
dispatch happens on the outermost commit only (a savepoint's release is not a commit);
the sweeper gives back work left `processing` by a dead worker or `pending` with no message
in flight, so a killed worker loses nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from luneo.platform.clock import utcnow
from luneo.platform.context import current_request_id, request_id_var
from luneo.platform.database import Database
from luneo.platform.models import Job
from luneo.platform.tenancy import bind_system, bind_tenant

log = structlog.get_logger("luneo.jobs")

JobFn = Callable[["JobContext"], "dict[str, Any] | None"]
F = TypeVar("F", bound=Callable[..., Any])

PENDING, PROCESSING, SUCCESS, FAILED = "pending", "processing", "success", "failed"
_MAX_ERROR_CHARS = 4000


class JobSettings(BaseSettings):
    """Tuning of the job runtime (`LUNEO_JOB_*`); the defaults suit production."""

    model_config = SettingsConfigDict(env_prefix="LUNEO_JOB_", env_file=".env", extra="ignore")

    # A Dramatiq worker whose heartbeat is older than this is dead: its unacked messages are
    # requeued by the broker and its `processing` rows are given back by the sweeper.
    heartbeat_timeout_s: float = 15.0
    dead_message_ttl_s: float = 7 * 86400.0
    # Out of a million broker commands, how many run queue maintenance (dead-worker requeue).
    maintenance_chance: int = 10_000
    redis_namespace: str = "luneo"
    queue_name: str = "luneo_jobs"
    # A `pending` row due for this long with no run is re-dispatched by the sweeper.
    pending_grace_s: float = 30.0
    # A `processing` row is given back this long after its deadline (time limit) passed.
    processing_grace_s: float = 10.0
    # Finished rows older than this are deleted by the periodic `cleanup` actor (failed: ×4).
    keep_finished_days: float = 7.0
    cleanup_every_s: float = 3600.0


@lru_cache(maxsize=1)
def get_job_settings() -> JobSettings:
    """The process-wide job settings (tests may call `get_job_settings.cache_clear()`)."""
    return JobSettings()


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class FailedJob:
    """What an actor's `on_failure` hook receives once its job is finally `failed`."""

    job_id: str
    key: str
    actor: str
    payload: dict[str, Any]
    brand_id: str | None
    attempts: int
    error: str


FailureHook = Callable[[Database, FailedJob], None]


@dataclass(frozen=True)
class ActorSpec:
    """A registered actor and its execution policy.

    Failures are classified (`is_transient`): an I/O failure (storage, network, database
    connection) retries up to `io_max_attempts` times with a capped exponential backoff that
    outlasts a minutes-long outage (~15 min in total by default); a deterministic one
    (`PermanentJobError`, or one of the actor's `fail_fast_on` types such as `ValueError`)
    fails at once; anything else retries `max_retries` times with `backoff_s`.
    """

    name: str
    fn: JobFn
    time_limit_s: float
    max_retries: int
    backoff_base_s: float
    on_failure: FailureHook | None = None
    io_max_attempts: int = 9
    io_backoff_base_s: float = 5.0
    io_backoff_cap_s: float = 300.0
    # Exceptions a retry cannot fix for this actor (besides PermanentJobError): fail at once.
    fail_fast_on: tuple[type[BaseException], ...] = ()

    def backoff_s(self, attempt: int) -> float:
        """Delay before the retry that follows failed attempt number `attempt` (1-based)."""
        return float(self.backoff_base_s * (2 ** max(0, attempt - 1)))

    def io_backoff_s(self, attempt: int) -> float:
        """Delay before the retry that follows I/O-failed attempt number `attempt` (1-based):
        5 s doubling, capped at 5 min — 5+10+20+40+80+160+300+300 s ≈ 15 min over 9 attempts."""
        return float(min(self.io_backoff_cap_s, self.io_backoff_base_s * (2 ** max(0, attempt - 1))))


_actors: dict[str, ActorSpec] = {}
_actors_lock = threading.Lock()


def actor(
    name: str,
    *,
    time_limit_s: float = 300.0,
    max_retries: int = 3,
    backoff_base_s: float = 2.0,
    on_failure: FailureHook | None = None,
    io_max_attempts: int = 9,
    fail_fast_on: tuple[type[BaseException], ...] = (),
) -> Callable[[F], F]:
    """Register `fn(ctx: JobContext) -> dict | None` as the job actor `name`.

    `on_failure(db, FailedJob)` runs once the job is finally `failed` (after its last attempt,
    a deterministic error, or a lost last attempt given back by the sweeper), in its own
    transactions: a failing hook is logged and never undoes the job's state."""
    if time_limit_s <= 0 or max_retries < 0 or backoff_base_s < 0 or io_max_attempts < 1:
        raise ValueError("time_limit_s must be > 0, max_retries and backoff_base_s >= 0")

    def register(fn: F) -> F:
        spec = ActorSpec(
            name,
            fn,
            float(time_limit_s),
            int(max_retries),
            float(backoff_base_s),
            on_failure,
            max(int(io_max_attempts), int(max_retries) + 1),
            fail_fast_on=tuple(fail_fast_on),
        )
        with _actors_lock:
            old = _actors.get(name)
            if old is not None and _qualname(old.fn) != _qualname(fn):
                raise ValueError(f"job actor {name!r} is already registered by {_qualname(old.fn)}")
            _actors[name] = spec
        return fn

    return register


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def get_actor(name: str) -> ActorSpec:
    """The registered actor `name` (LookupError if none)."""
    try:
        return _actors[name]
    except KeyError:
        raise LookupError(f"no job actor named {name!r} is registered") from None


def registered_actors() -> dict[str, ActorSpec]:
    return dict(_actors)


# --------------------------------------------------------------------------- context


@dataclass
class JobContext:
    """What an actor receives: the job's identity, payload, attempt and a database handle."""

    job_id: str
    key: str
    actor: str
    payload: dict[str, Any]
    brand_id: str | None
    attempt: int
    max_attempts: int
    request_id: str | None
    db: Database
    worker_id: str

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    def progress(self, fraction: float) -> None:
        """Record progress (0..1) on the job row."""
        value = min(1.0, max(0.0, float(fraction)))
        with self.db.transaction() as s:
            bind_system(s)
            s.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status == PROCESSING, Job.worker_id == self.worker_id)
                .values(progress=value)
                .execution_options(synchronize_session=False)
            )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction, bound to the job's brand (or system work if none)."""
        with self.db.transaction(write=write) as s:
            if self.brand_id:
                bind_tenant(s, self.brand_id)
            else:
                bind_system(s)
            yield s


# --------------------------------------------------------------------------- runtime seam


class Runtime(Protocol):
    """What runs jobs: accepts dispatches; tells whether another worker is still alive."""

    worker_id: str

    def dispatch(self, job_id: str, delay_s: float = 0.0, time_limit_s: float | None = None) -> None: ...

    def is_worker_alive(self, worker_id: str) -> bool | None:
        """True/False when known; None when this runtime cannot tell."""


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def set_runtime(runtime: Runtime | None) -> None:
    """Install the process-wide runtime (done by the start functions and the worker)."""
    global _runtime
    with _runtime_lock:
        _runtime = runtime


def get_runtime() -> Runtime | None:
    """The process-wide runtime; with Redis configured and none installed, a Dramatiq producer."""
    global _runtime
    if _runtime is not None:
        return _runtime
    from luneo.platform.config import get_settings

    if not get_settings().redis_url:
        return None
    with _runtime_lock:
        if _runtime is None:
            from luneo.platform.database import get_db
            from luneo.platform.jobs_dramatiq import DramatiqRuntime

            _runtime = DramatiqRuntime(get_db())
        return _runtime


def _dispatch(job_id: str, delay_s: float, time_limit_s: float | None) -> None:
    runtime = get_runtime()
    if runtime is None:
        log.info("job_dispatch_deferred", job_id=job_id, reason="no runtime; the sweeper will pick it up")
        return
    try:
        runtime.dispatch(job_id, max(0.0, delay_s), time_limit_s)
    except Exception:
        # The row stays pending; the sweeper re-dispatches it after the grace period.
        log.exception("job_dispatch_failed", job_id=job_id)


# --------------------------------------------------------------------------- enqueue
#
# Transactional outbox: the job row is written in the caller's transaction; its id is handed
# to the runtime only when the OUTERMOST transaction commits. SQLAlchemy fires `after_commit`
# on a savepoint's release too (`begin_nested()` — every enqueue, email, pack creation uses
# one), so dispatches are tagged with the innermost savepoint open when they were scheduled:
# a released savepoint hands them to its parent, a rolled-back one drops them, and only the
# root commit sends them. Anything lost in between (a crash after commit) is the sweeper's.

_TO_DISPATCH = "luneo_jobs_to_dispatch"
_RELEASED = "luneo_jobs_released_savepoints"

_Pending = dict[str, tuple[float, "float | None", "SessionTransaction | None"]]


def _schedule_after_commit(session: Session, job_id: str, delay_s: float, time_limit_s: float | None) -> None:
    pending: _Pending = session.info.setdefault(_TO_DISPATCH, {})
    pending[job_id] = (delay_s, time_limit_s, session.get_nested_transaction())


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint was released, not the transaction committed: nothing is visible yet.
        released: set[int] = session.info.setdefault(_RELEASED, set())
        released.add(id(session.get_nested_transaction()))
        return
    session.info.pop(_RELEASED, None)
    pending: _Pending | None = session.info.pop(_TO_DISPATCH, None)
    for job_id, (delay_s, time_limit_s, _) in (pending or {}).items():
        _dispatch(job_id, delay_s, time_limit_s)


def _enclosing_savepoint(transaction: SessionTransaction) -> SessionTransaction | None:
    parent = transaction.parent
    while parent is not None and not parent.nested:
        parent = parent.parent
    return parent


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        released: set[int] = session.info.get(_RELEASED, set())
        kept = id(transaction) in released
        released.discard(id(transaction))
        pending: _Pending | None = session.info.get(_TO_DISPATCH)
        if not pending:
            return
        outer = _enclosing_savepoint(transaction)
        for job_id, (delay_s, time_limit_s, owner) in list(pending.items()):
            if owner is not transaction:
                continue
            if kept:
                pending[job_id] = (delay_s, time_limit_s, outer)
            else:
                del pending[job_id]
                log.info("job_dispatch_dropped", job_id=job_id, reason="savepoint rolled back")
        return
    # After a commit the list was already consumed; what is left belongs to a rollback.
    if transaction.parent is None:
        session.info.pop(_TO_DISPATCH, None)
        session.info.pop(_RELEASED, None)


def enqueue(
    session: Session,
    actor_name: str,
    key: str,
    payload: dict[str, Any] | None = None,
    *,
    brand_id: str | None = None,
    delay_s: float = 0.0,
    retry_failed: bool = False,
) -> Job:
    """Create the job `key` (or return the existing one) and dispatch it after commit.

    Same key ⇒ the existing row and no second run, unless that row is `failed` and
    `retry_failed=True` (then it is reset to pending with fresh attempts).
    """
    spec = get_actor(actor_name)
    existing = _find_by_key(session, key)
    if existing is not None:
        return _reuse(session, existing, spec, actor_name, retry_failed, delay_s)
    now = utcnow()
    job = Job(
        key=key,
        actor=actor_name,
        brand_id=brand_id,
        payload=jsonable(payload or {}),
        status=PENDING,
        attempts=0,
        max_attempts=spec.max_retries + 1,
        progress=0.0,
        next_run_at=now + timedelta(seconds=max(0.0, delay_s)),
        request_id=current_request_id(),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # Another transaction created the same key concurrently.
        raced = _find_by_key(session, key)
        if raced is None:
            raise
        return _reuse(session, raced, spec, actor_name, retry_failed, delay_s)
    _schedule_after_commit(session, job.id, delay_s, spec.time_limit_s)
    log.info("job_enqueued", job_id=job.id, actor=actor_name, key=key, brand_id=brand_id, delay_s=delay_s)
    return job


def _find_by_key(session: Session, key: str) -> Job | None:
    return session.execute(select(Job).where(Job.key == key)).scalar_one_or_none()


def _reuse(
    session: Session, job: Job, spec: ActorSpec, actor_name: str, retry_failed: bool, delay_s: float
) -> Job:
    if job.actor != actor_name:
        raise ValueError(f"job key {job.key!r} already belongs to actor {job.actor!r}")
    if job.status == FAILED and retry_failed:
        job.status = PENDING
        job.attempts = 0
        job.max_attempts = spec.max_retries + 1
        job.error = None
        job.result = None
        job.progress = 0.0
        job.finished_at = None
        job.worker_id = None
        job.next_run_at = utcnow() + timedelta(seconds=max(0.0, delay_s))
        job.request_id = current_request_id() or job.request_id
        session.flush()
        _schedule_after_commit(session, job.id, delay_s, spec.time_limit_s)
        log.info("job_requeued", job_id=job.id, actor=actor_name, key=job.key)
    return job


def jsonable(value: Any) -> Any:
    """`value` as plain JSON types (non-JSON values become strings)."""
    return json.loads(json.dumps(value, default=str))


# --------------------------------------------------------------------------- execution


class PermanentJobError(Exception):
    """Raise from an actor when retrying cannot help: the job fails at once."""


# How many times a Dramatiq worker defers a message whose job row it cannot see yet
# (replication lag, a producer still committing) before dropping it to the sweeper.
MAX_INVISIBLE_RETRIES = 5


def _transient_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [OSError, TimeoutError, ConnectionError]
    try:
        import httpx

        types.append(httpx.TransportError)
    except ImportError:  # pragma: no cover - httpx is a dependency
        pass
    try:
        from botocore.exceptions import BotoCoreError

        types.append(BotoCoreError)
    except ImportError:  # botocore comes with the S3 extra only
        pass
    from sqlalchemy.exc import DisconnectionError, OperationalError

    types += [OperationalError, DisconnectionError]
    try:
        import redis

        types += [redis.ConnectionError, redis.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return tuple(types)


def is_transient(exc: BaseException) -> bool:
    """An I/O failure a retry after a pause can fix: storage, network, a database or Redis
    connection (also when wrapped: the `__cause__` chain is followed)."""
    transient = _transient_types()
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, transient):
            return True
        if _is_transient_client_error(cur):
            return True
        cur = cur.__cause__
    return False


def _is_transient_client_error(exc: BaseException) -> bool:
    try:
        from botocore.exceptions import ClientError
    except ImportError:
        return False
    if not isinstance(exc, ClientError):
        return False
    err = exc.response.get("Error", {}) or {}
    status = int((exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode") or 0)
    code = str(err.get("Code") or "")
    # A missing bucket is an operator's fix away: retry through the outage window too.
    return (
        status >= 500 or status == 429 or code in {"SlowDown", "RequestTimeout", "NoSuchBucket", "Throttling"}
    )


class JobTimeLimitExceeded(BaseException):
    """Raised asynchronously in a worker thread whose job ran past its time limit."""


def _timeout_exceptions() -> tuple[type[BaseException], ...]:
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    return (JobTimeLimitExceeded, TimeLimitExceeded)


@contextmanager
def _system_tx(db: Database) -> Iterator[Session]:
    with db.transaction() as s:
        bind_system(s)
        yield s


def _not_due_delay(job: Job, now: datetime) -> float | None:
    if job.next_run_at is not None and job.next_run_at > now:
        return (job.next_run_at - now).total_seconds()
    return None


def _claim(
    db: Database, job_id: str, worker_id: str, is_alive: Callable[[str], bool | None] | None
) -> tuple[str, Job | None, ActorSpec | None]:
    now = utcnow()
    lost: list[FailedJob] = []
    try:
        return _claim_in(db, job_id, worker_id, is_alive, now, lost)
    finally:
        for failed in lost:
            _run_failure_hook(db, failed)


def _claim_in(
    db: Database,
    job_id: str,
    worker_id: str,
    is_alive: Callable[[str], bool | None] | None,
    now: datetime,
    lost: list[FailedJob],
) -> tuple[str, Job | None, ActorSpec | None]:
    with _system_tx(db) as s:
        job = s.get(Job, job_id)
        if job is None:
            return "missing", None, None
        spec = _actors.get(job.actor)
        if spec is None:
            log.warning("job_unknown_actor", job_id=job_id, actor=job.actor)
            return "unknown_actor", job, None
        owner_dead = (
            job.status == PROCESSING
            and job.worker_id
            and job.worker_id != worker_id
            and is_alive is not None
            and is_alive(job.worker_id) is False
        )
        # The owner's heartbeat is gone: it died mid-run. Give the row back, then claim it.
        if owner_dead and _release_lost(s, job, now, reason="worker lost", redispatch=False, failed=lost):
            job = s.get(Job, job_id, populate_existing=True)
            assert job is not None
        if job.status != PENDING:
            return "skipped", job, spec
        delay = _not_due_delay(job, now)
        if delay is not None:
            _schedule_after_commit(s, job.id, delay, spec.time_limit_s)
            return "not_due", job, spec
        res = s.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.status == PENDING,
                sa.or_(Job.next_run_at.is_(None), Job.next_run_at <= now),
            )
            .values(
                status=PROCESSING,
                attempts=Job.attempts + 1,
                started_at=now,
                finished_at=None,
                deadline_at=now + timedelta(seconds=spec.time_limit_s),
                worker_id=worker_id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return "skipped", job, spec
        job = s.get(Job, job_id, populate_existing=True)
        assert job is not None
        return "claimed", job, spec


def _release_lost(
    s: Session,
    job: Job,
    now: datetime,
    *,
    reason: str,
    redispatch: bool = True,
    failed: list[FailedJob] | None = None,
) -> bool:
    """Give a `processing` row back (pending, or failed when out of attempts — then appended
    to `failed`, for the caller to run the actor's failure hook after its commit)."""
    out_of_attempts = job.attempts >= job.max_attempts
    values: dict[str, Any] = {"error": f"{reason} (attempt {job.attempts})", "updated_at": now}
    if out_of_attempts:
        values.update(status=FAILED, finished_at=now)
    else:
        values.update(status=PENDING, next_run_at=now)
    res = s.execute(
        update(Job)
        .where(
            Job.id == job.id,
            Job.status == PROCESSING,
            Job.attempts == job.attempts,
            Job.worker_id == job.worker_id if job.worker_id is not None else Job.worker_id.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    done: bool = res.rowcount == 1  # type: ignore[attr-defined]
    if done:
        log.warning(
            "job_recovered",
            job_id=job.id,
            actor=job.actor,
            worker_id=job.worker_id,
            reason=reason,
            status=values["status"],
            attempt=job.attempts,
        )
        spec = _actors.get(job.actor)
        if redispatch and not out_of_attempts:
            _schedule_after_commit(s, job.id, 0.0, spec.time_limit_s if spec else None)
        if out_of_attempts and failed is not None:
            failed.append(_failed_job(job, values["error"]))
    return done


class _Watchdog:
    """Interrupts the job's thread at its time limit; records the timeout if it stays stuck."""

    def __init__(self, on_stuck: Callable[[], object], limit_s: float) -> None:
        self._thread_id = threading.get_ident()
        self._on_stuck = on_stuck
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.fired = False
        self._timer = threading.Timer(limit_s, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            self._done.set()
        self._timer.cancel()

    def _fire(self) -> None:
        from dramatiq.threading import raise_thread_exception

        with self._lock:
            if self._done.is_set():
                return
            self.fired = True
            raise_thread_exception(self._thread_id, JobTimeLimitExceeded)
        # A thread blocked in a system call cannot be interrupted: record the timeout anyway.
        if not self._done.wait(2.0):
            self._on_stuck()


def execute(
    db: Database,
    job_id: str,
    *,
    worker_id: str,
    watchdog: bool = True,
    is_worker_alive: Callable[[str], bool | None] | None = None,
) -> str:
    """Claim and run one job. Returns `success`, `retry`, `failed`, or why it did not run
    (`skipped` — not pending / claimed elsewhere, `not_due`, `missing`, `unknown_actor`).

    `watchdog=True` enforces the actor's time limit with an in-process watchdog; the Dramatiq
    runtime passes False and relies on its TimeLimit middleware (same exception handling).
    """
    outcome, job, spec = _claim(db, job_id, worker_id, is_worker_alive)
    if outcome == "missing":
        # Never silently: a message for a row this worker cannot see (rolled back, or not
        # committed/replicated yet). The runtime decides whether to defer it.
        log.warning("job_row_not_visible", job_id=job_id, worker_id=worker_id)
    elif outcome != "claimed":
        log.info(
            "job_message_skipped",
            job_id=job_id,
            worker_id=worker_id,
            outcome=outcome,
            status=job.status if job is not None else None,
        )
    if outcome != "claimed":
        return outcome
    assert job is not None and spec is not None
    attempt = job.attempts
    ctx = JobContext(
        job_id=job.id,
        key=job.key,
        actor=job.actor,
        payload=dict(job.payload or {}),
        brand_id=job.brand_id,
        attempt=attempt,
        max_attempts=job.max_attempts,
        request_id=job.request_id,
        db=db,
        worker_id=worker_id,
    )
    jlog = log.bind(
        job_id=job.id, actor=job.actor, request_id=job.request_id, attempt=attempt, worker_id=worker_id
    )
    token = request_id_var.set(job.request_id)
    jlog.info("job_started")
    started = time.monotonic()
    timeouts = _timeout_exceptions()
    error: str | None = None
    permanent = False
    transient = False
    result: dict[str, Any] | None = None
    try:
        guard = (
            _Watchdog(
                lambda: _finish_failure(
                    db,
                    ctx,
                    spec,
                    f"time limit of {spec.time_limit_s:g}s exceeded (worker thread unresponsive)",
                    started,
                ),
                spec.time_limit_s,
            )
            if watchdog
            else None
        )
        try:
            try:
                if guard is not None:
                    guard.start()
                value = spec.fn(ctx)
            finally:
                if guard is not None:
                    guard.cancel()
            result = _as_result(value)
        except timeouts:
            error = f"time limit of {spec.time_limit_s:g}s exceeded"
            jlog.warning("job_time_limit_exceeded", time_limit_s=spec.time_limit_s)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS]
            transient = is_transient(exc)
            permanent = isinstance(exc, PermanentJobError) or (
                not transient and isinstance(exc, spec.fail_fast_on)
            )
            jlog.warning(
                "job_attempt_failed", error=error, permanent=permanent, transient=transient, exc_info=True
            )
        if error is None:
            return _finish_success(db, ctx, result, started, jlog)
        return _finish_failure(db, ctx, spec, error, started, permanent=permanent, transient=transient)
    finally:
        request_id_var.reset(token)


def _as_result(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        value = {"value": value}
    result: dict[str, Any] = jsonable(value)
    return result


def _fence(ctx: JobContext) -> list[sa.ColumnElement[bool]]:
    """Only the claim that ran the job may finish it (the sweeper may have taken it back)."""
    return [
        Job.id == ctx.job_id,
        Job.status == PROCESSING,
        Job.worker_id == ctx.worker_id,
        Job.attempts == ctx.attempt,
    ]


def _finish_success(
    db: Database, ctx: JobContext, result: dict[str, Any] | None, started: float, jlog: Any
) -> str:
    now = utcnow()
    duration_ms = round((time.monotonic() - started) * 1000.0, 3)
    with _system_tx(db) as s:
        res = s.execute(
            update(Job)
            .where(*_fence(ctx))
            .values(
                status=SUCCESS,
                result=result,
                finished_at=now,
                duration_ms=duration_ms,
                progress=1.0,
                error=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        jlog.warning("job_finished_after_losing_claim", duration_ms=duration_ms)
        return "skipped"
    jlog.info("job_succeeded", duration_ms=duration_ms)
    return SUCCESS


def _finish_failure(
    db: Database,
    ctx: JobContext,
    spec: ActorSpec,
    error: str,
    started: float,
    *,
    permanent: bool = False,
    transient: bool = False,
) -> str:
    now = utcnow()
    duration_ms = round((time.monotonic() - started) * 1000.0, 3)
    max_attempts = max(ctx.max_attempts, spec.io_max_attempts) if transient else ctx.max_attempts
    retry = ctx.attempt < max_attempts and not permanent
    values: dict[str, Any] = {"error": error, "duration_ms": duration_ms, "updated_at": now}
    delay = spec.io_backoff_s(ctx.attempt) if transient else spec.backoff_s(ctx.attempt)
    if retry:
        values.update(status=PENDING, next_run_at=now + timedelta(seconds=delay))
        if max_attempts != ctx.max_attempts:
            values["max_attempts"] = max_attempts  # the row tells the truth about the budget
    else:
        values.update(status=FAILED, finished_at=now)
    with _system_tx(db) as s:
        res = s.execute(
            update(Job).where(*_fence(ctx)).values(**values).execution_options(synchronize_session=False)
        )
        claimed = res.rowcount == 1  # type: ignore[attr-defined]
        if claimed and retry:
            _schedule_after_commit(s, ctx.job_id, delay, spec.time_limit_s)
    jlog = log.bind(job_id=ctx.job_id, actor=ctx.actor, request_id=ctx.request_id, attempt=ctx.attempt)
    if not claimed:
        return "skipped"
    if retry:
        jlog.warning("job_retry_scheduled", retry_in_s=delay, error=error, transient=transient)
        return "retry"
    jlog.error("job_failed", error=error, attempts=ctx.attempt)
    _run_failure_hook(
        db,
        FailedJob(ctx.job_id, ctx.key, ctx.actor, dict(ctx.payload), ctx.brand_id, ctx.attempt, error),
    )
    return FAILED


def _run_failure_hook(db: Database, failed: FailedJob) -> None:
    """The actor's `on_failure` hook, after the job's failure is committed; never raises."""
    spec = _actors.get(failed.actor)
    if spec is None or spec.on_failure is None:
        return
    try:
        spec.on_failure(db, failed)
    except Exception:
        log.exception("job_failure_hook_failed", job_id=failed.job_id, actor=failed.actor)


def _failed_job(job: Job, error: str) -> FailedJob:
    return FailedJob(
        job.id, job.key, job.actor, dict(job.payload or {}), job.brand_id, int(job.attempts or 0), error
    )


# --------------------------------------------------------------------------- sweeper


def sweep(
    db: Database,
    *,
    is_worker_alive: Callable[[str], bool | None] | None = None,
    settings: JobSettings | None = None,
    limit: int = 500,
) -> int:
    """Re-dispatch lost work; returns how many rows it gave back.

    - `processing` rows past `deadline_at` (+ grace), or whose worker is known dead;
    - `pending` rows due for longer than the grace period with no run (lost message).
    """
    cfg = settings or get_job_settings()
    now = utcnow()
    swept: list[str] = []
    lost: list[FailedJob] = []
    with _system_tx(db) as s:
        processing = (
            s.execute(select(Job).where(Job.status == PROCESSING).order_by(Job.deadline_at).limit(limit))
            .scalars()
            .all()
        )
        overdue_before = now - timedelta(seconds=cfg.processing_grace_s)
        for job in processing:
            overdue = job.deadline_at is None or job.deadline_at < overdue_before
            dead = (
                not overdue
                and is_worker_alive is not None
                and job.worker_id is not None
                and is_worker_alive(job.worker_id) is False
            )
            if (overdue or dead) and _release_lost(
                s, job, now, reason="deadline passed" if overdue else "worker lost", failed=lost
            ):
                swept.append(job.id)
        cutoff = now - timedelta(seconds=cfg.pending_grace_s)
        stale = s.execute(
            select(Job.id, Job.actor)
            .where(
                Job.status == PENDING,
                sa.or_(Job.next_run_at.is_(None), Job.next_run_at <= cutoff),
                Job.updated_at <= cutoff,
            )
            .order_by(Job.next_run_at)
            .limit(limit)
        ).all()
        for job_id, actor_name in stale:
            res = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == PENDING, Job.updated_at <= cutoff)
                .values(updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1:  # type: ignore[attr-defined]
                spec = _actors.get(actor_name)
                _schedule_after_commit(s, job_id, 0.0, spec.time_limit_s if spec else None)
                swept.append(job_id)
    if swept:
        log.info("jobs_swept", count=len(swept), job_ids=swept[:20])
    for failed in lost:
        _run_failure_hook(db, failed)
    return len(swept)


# --------------------------------------------------------------------------- periodic work


@dataclass
class _Periodic:
    actor_name: str
    every_s: float
    payload: dict[str, Any] = field(default_factory=dict)


_periodic: dict[str, _Periodic] = {}
_cleanup_hooks: dict[str, Callable[[Database], int]] = {}


def register_periodic(actor_name: str, every_s: float, payload: dict[str, Any] | None = None) -> None:
    """Run the actor `actor_name` every `every_s` seconds (once per period across all workers)."""
    if every_s <= 0:
        raise ValueError("every_s must be > 0")
    _periodic[actor_name] = _Periodic(actor_name, float(every_s), dict(payload or {}))


def register_cleanup(name: str, fn: Callable[[Database], int]) -> None:
    """Add a hook to the periodic `cleanup` actor: `fn(db) -> rows removed`."""
    _cleanup_hooks[name] = fn


def enqueue_periodic(db: Database) -> int:
    """Enqueue the current period's run of every periodic actor (idempotent per period)."""
    now = utcnow().timestamp()
    created = 0
    for p in list(_periodic.values()):
        if p.actor_name not in _actors:
            continue
        key = f"periodic:{p.actor_name}:{int(now // p.every_s)}"
        with _system_tx(db) as s:
            job = enqueue(s, p.actor_name, key, p.payload)
            created += int(job.attempts == 0 and job.status == PENDING)
    return created


def tick(db: Database, *, is_worker_alive: Callable[[str], bool | None] | None = None) -> int:
    """One round of housekeeping: sweep, then enqueue due periodic actors."""
    swept = 0
    try:
        swept = sweep(db, is_worker_alive=is_worker_alive)
    except Exception:
        log.exception("job_sweep_failed")
    try:
        enqueue_periodic(db)
    except Exception:
        log.exception("job_periodic_failed")
    return swept


@actor("cleanup", time_limit_s=600, max_retries=1)
def cleanup(ctx: JobContext) -> dict[str, Any]:
    """Periodic housekeeping: delete old finished job rows, then run the domains' hooks."""
    cfg = get_job_settings()
    now = utcnow()
    removed: dict[str, int] = {}
    with _system_tx(ctx.db) as s:
        res = s.execute(
            sa.delete(Job)
            .where(
                sa.or_(
                    sa.and_(
                        Job.status == SUCCESS, Job.finished_at < now - timedelta(days=cfg.keep_finished_days)
                    ),
                    sa.and_(
                        Job.status == FAILED,
                        Job.finished_at < now - timedelta(days=4 * cfg.keep_finished_days),
                    ),
                ),
                Job.id != ctx.job_id,
            )
            .execution_options(synchronize_session=False)
        )
        removed["jobs"] = int(res.rowcount)  # type: ignore[attr-defined]
    for name, hook in list(_cleanup_hooks.items()):
        try:
            removed[name] = int(hook(ctx.db))
        except Exception:
            log.exception("cleanup_hook_failed", hook=name)
            removed[name] = -1
    return {"removed": removed}


register_periodic("cleanup", get_job_settings().cleanup_every_s)


# --------------------------------------------------------------------------- app hooks


def start_in_process_runtime(db: Database) -> Runtime | None:
    """Called by the app at startup. With Redis: installs a Dramatiq producer (workers run
    elsewhere, `luneo worker`). Without: starts `LUNEO_WORKER_THREADS` worker threads plus the
    sweeper in this process, unless `LUNEO_RUN_WORKER_IN_PROCESS=false`."""
    settings = db.settings
    if settings.redis_url:
        from luneo.platform.jobs_dramatiq import DramatiqRuntime

        producer = DramatiqRuntime(db)
        set_runtime(producer)
        return producer
    if not settings.run_worker_in_process:
        set_runtime(None)
        return None
    from luneo.platform.jobs_runtime import InProcessRuntime

    runtime = InProcessRuntime(
        db, threads=settings.worker_threads, sweep_interval_s=settings.job_sweep_interval_s
    )
    runtime.start()
    set_runtime(runtime)
    return runtime


def stop_in_process_runtime(timeout_s: float = 10.0) -> None:
    """Called by the app at shutdown: stops worker threads (waits up to `timeout_s`)."""
    global _runtime
    with _runtime_lock:
        runtime, _runtime = _runtime, None
    stop = getattr(runtime, "stop", None)
    if callable(stop):
        stop(timeout_s)
