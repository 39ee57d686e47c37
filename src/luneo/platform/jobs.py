"""Background jobs: the `jobs` row is the source of truth, the queue only carries its id.

Domains register actors with `@actor(name, time_limit_s=…, max_retries=…)`; each actor is a
function `fn(ctx: JobContext) -> dict | None`. `enqueue(session, actor, key, payload)` is
idempotent on `key` and hands the job to the runtime only after the caller's OUTERMOST
transaction commits (transactional outbox: a savepoint's release is not a commit). The runtime
is Dramatiq (`jobs_dramatiq`): RabbitMQ or Redis workers (`LUNEO_BROKER_URL`, default
`LUNEO_REDIS_URL`), or its StubBroker in this process (embedded, `jobs_runtime`); all share one
claim/run/retry path, `execute`.

A job is claimed with one conditional UPDATE (pending and due → processing), so two workers
never run it twice; while it runs, its worker renews the row's lease (`jobs_leases`) and
Dramatiq's `TimeLimit` interrupts it at its time limit. Failures retry with exponential backoff
(2 s × 2^(attempt-1) by default; I/O failures get a longer, capped schedule of ~15 min,
`is_transient`; an actor's `fail_fast_on` errors fail at once) — the row records each attempt
and Dramatiq's `Retries` re-sends the message —, and an actor's `on_failure` hook runs once
its job is finally `failed` (also when the sweeper fails it or an operator cancels it). The
sweeper gives back work left `processing` with an expired lease or past its deadline, and
`pending` rows with no message in flight, so a killed worker or a lost message loses nothing.

Hand-written, because they are ours: the row, claim/finish fencing, the outbox, leases and the
sweeper, the retry policy (which the row must record), and failure hooks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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

from luneo.platform import jobs_leases as leases
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

    # Liveness of a running job: its worker renews `jobs.lease_expires_at` every
    # `lease_renew_s`; a `processing` row whose lease expired is given back (jobs_leases).
    lease_s: float = 40.0
    lease_renew_s: float = 10.0
    # Redis broker only: a Dramatiq consumer whose heartbeat is older than this is dead and
    # its unacked messages are requeued (the row itself is protected by its lease).
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
    """What runs jobs: accepts dispatches (liveness is the row's lease, not the runtime's)."""

    worker_id: str

    def dispatch(
        self, job_id: str, delay_s: float = 0.0, time_limit_s: float | None = None, actor: str | None = None
    ) -> None: ...


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
    from luneo.platform.jobs_dramatiq import broker_url

    if not broker_url(get_settings()):
        return None
    with _runtime_lock:
        if _runtime is None:
            from luneo.platform.database import get_db
            from luneo.platform.jobs_dramatiq import DramatiqRuntime

            _runtime = DramatiqRuntime(get_db())
        return _runtime


def _dispatch(job_id: str, delay_s: float, actor_name: str) -> None:
    runtime = get_runtime()
    if runtime is None:
        log.info("job_dispatch_deferred", job_id=job_id, reason="no runtime; the sweeper will pick it up")
        return
    try:
        spec = _actors.get(actor_name)
        time_limit_s = spec.time_limit_s if spec is not None else None
        runtime.dispatch(job_id, max(0.0, delay_s), time_limit_s, actor=actor_name)
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

_Pending = dict[str, tuple[float, str, "SessionTransaction | None"]]


def _schedule_after_commit(session: Session, job_id: str, delay_s: float, actor_name: str) -> None:
    pending: _Pending = session.info.setdefault(_TO_DISPATCH, {})
    pending[job_id] = (delay_s, actor_name, session.get_nested_transaction())


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint was released, not the transaction committed: nothing is visible yet.
        released: set[int] = session.info.setdefault(_RELEASED, set())
        released.add(id(session.get_nested_transaction()))
        return
    session.info.pop(_RELEASED, None)
    pending: _Pending | None = session.info.pop(_TO_DISPATCH, None)
    for job_id, (delay_s, actor_name, _) in (pending or {}).items():
        _dispatch(job_id, delay_s, actor_name)


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
        for job_id, (delay_s, actor_name, owner) in list(pending.items()):
            if owner is not transaction:
                continue
            if kept:
                pending[job_id] = (delay_s, actor_name, outer)
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
    _schedule_after_commit(session, job.id, delay_s, spec.name)
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
        _schedule_after_commit(session, job.id, delay_s, spec.name)
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


def _timeout_exceptions() -> tuple[type[BaseException], ...]:
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    return (TimeLimitExceeded,)


@contextmanager
def _system_tx(db: Database) -> Iterator[Session]:
    with db.transaction() as s:
        bind_system(s)
        yield s


def _not_due_delay(job: Job, now: datetime) -> float | None:
    if job.next_run_at is not None and job.next_run_at > now:
        return (job.next_run_at - now).total_seconds()
    return None


def _claim(db: Database, job_id: str, worker_id: str) -> tuple[str, Job | None, ActorSpec | None]:
    now = utcnow()
    lost: list[FailedJob] = []
    try:
        return _claim_in(db, job_id, worker_id, now, lost)
    finally:
        for failed in lost:
            _run_failure_hook(db, failed)


def _claim_in(
    db: Database,
    job_id: str,
    worker_id: str,
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
        lease_expired = (
            job.status == PROCESSING and job.lease_expires_at is not None and job.lease_expires_at < now
        )
        # No live run renews this row's lease: give the row back, then claim it.
        if lease_expired and _release_lost(
            s, job, now, reason="worker lost (lease expired)", redispatch=False, failed=lost
        ):
            job = s.get(Job, job_id, populate_existing=True)
            assert job is not None
        if job.status != PENDING:
            return "skipped", job, spec
        delay = _not_due_delay(job, now)
        if delay is not None:
            _schedule_after_commit(s, job.id, delay, spec.name)
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
                lease_expires_at=now + timedelta(seconds=get_job_settings().lease_s),
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
    values: dict[str, Any] = {
        "error": f"{reason} (attempt {job.attempts})",
        "updated_at": now,
        "lease_expires_at": None,
    }
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
        if redispatch and not out_of_attempts:
            _schedule_after_commit(s, job.id, 0.0, job.actor)
        if out_of_attempts and failed is not None:
            failed.append(_failed_job(job, values["error"]))
    return done


def execute(
    db: Database,
    job_id: str,
    *,
    worker_id: str,
    watchdog: bool = True,
    retry_by_broker: bool = False,
) -> str:
    """Claim and run one job. Returns `success`, `retry`, `failed`, or why it did not run
    (`skipped` — not pending / claimed elsewhere, `not_due`, `missing`, `unknown_actor`).

    Time limits are enforced by Dramatiq's `TimeLimit` middleware around the message that
    calls this (`TimeLimitExceeded` is recorded as a failure); `watchdog` is accepted for older
    callers and ignored. While the job runs its lease is renewed (`jobs_leases`).

    A failed attempt that will be retried sets the row back to pending until its backoff ends;
    with `retry_by_broker` (the Dramatiq runtime) it then raises `dramatiq.Retry(delay=…)` so
    Dramatiq's `Retries` middleware re-enqueues the message, else it dispatches again itself.
    """
    outcome, job, spec = _claim(db, job_id, worker_id)
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
    lease = leases.keeper.hold(db, job.id, worker_id, attempt)
    lease.__enter__()
    try:
        try:
            result = _as_result(spec.fn(ctx))
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
        return _finish_failure(
            db,
            ctx,
            spec,
            error,
            started,
            permanent=permanent,
            transient=transient,
            retry_by_broker=retry_by_broker,
        )
    finally:
        # A finish write that failed leaves the row `processing`: no longer renewed, its lease
        # expires and the job is given back within `lease_s`, not at its deadline.
        lease.__exit__(None, None, None)
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
    retry_by_broker: bool = False,
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
        if claimed and retry and not retry_by_broker:
            _schedule_after_commit(s, ctx.job_id, delay, spec.name)
    jlog = log.bind(job_id=ctx.job_id, actor=ctx.actor, request_id=ctx.request_id, attempt=ctx.attempt)
    if not claimed:
        return "skipped"
    if retry:
        jlog.warning("job_retry_scheduled", retry_in_s=delay, error=error, transient=transient)
        if retry_by_broker:
            from dramatiq.errors import Retry

            # Dramatiq's Retries middleware re-enqueues this message after `delay` (the row,
            # committed above, already says pending until then: the sweeper is the backstop).
            raise Retry(error, delay=max(1, int(delay * 1000)))
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


class JobNotCancellable(ValueError):
    """`cancel` of a job that is missing or already finished."""


def cancel(db: Database, job_id: str, reason: str = "cancelled by operator") -> Job:
    """Fail a pending or processing job now (a running attempt's finish is fenced off), then
    run its actor's `on_failure` hook, as after a final failure. Returns the updated row."""
    now = utcnow()
    with _system_tx(db) as s:
        job = s.get(Job, job_id)
        if job is None:
            raise JobNotCancellable(f"no job {job_id}")
        if job.status not in (PENDING, PROCESSING):
            raise JobNotCancellable(
                f"job {job_id} is {job.status}: only pending or processing jobs are cancelled"
            )
        job.status, job.error, job.finished_at, job.updated_at = FAILED, reason, now, now
        job.lease_expires_at = None
        s.flush()
        failed = _failed_job(job, reason)
        s.expunge(job)
    log.warning("job_cancelled", job_id=job_id, actor=failed.actor, reason=reason)
    _run_failure_hook(db, failed)
    return job


# --------------------------------------------------------------------------- sweeper


def sweep(db: Database, *, settings: JobSettings | None = None, limit: int = 500) -> int:
    """Re-dispatch lost work; returns how many rows it gave back.

    - `processing` rows whose lease expired (no live run renews it) or past `deadline_at`
      (+ grace);
    - `pending` rows due for longer than the grace period with no run (lost message).
    """
    cfg = settings or get_job_settings()
    now = utcnow()
    swept: list[str] = []
    lost: list[FailedJob] = []
    with _system_tx(db) as s:
        overdue_before = now - timedelta(seconds=cfg.processing_grace_s)
        processing = (
            s.execute(
                select(Job)
                .where(
                    Job.status == PROCESSING,
                    sa.or_(
                        Job.deadline_at.is_(None),
                        Job.deadline_at < overdue_before,
                        Job.lease_expires_at < now,
                    ),
                )
                .order_by(Job.deadline_at)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        for job in processing:
            overdue = job.deadline_at is None or job.deadline_at < overdue_before
            reason = "deadline passed" if overdue else "worker lost (lease expired)"
            if _release_lost(s, job, now, reason=reason, failed=lost):
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
                _schedule_after_commit(s, job_id, 0.0, actor_name)
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


def periodic_actors() -> dict[str, float]:
    """Registered periodic actors and their periods in seconds (the scheduler's jobs)."""
    return {p.actor_name: p.every_s for p in _periodic.values()}


def enqueue_periodic(db: Database, names: Iterable[str] | None = None) -> int:
    """Enqueue the current period's run of every periodic actor (or of `names`); idempotent per
    period: the job key names the time window, so N workers' schedulers create one job."""
    now = utcnow().timestamp()
    created = 0
    wanted = set(names) if names is not None else None
    for p in list(_periodic.values()):
        if p.actor_name not in _actors or (wanted is not None and p.actor_name not in wanted):
            continue
        key = f"periodic:{p.actor_name}:{int(now // p.every_s)}"
        with _system_tx(db) as s:
            job = enqueue(s, p.actor_name, key, p.payload)
            created += int(job.attempts == 0 and job.status == PENDING)
    return created


def sweep_logged(db: Database) -> int:
    """`sweep` for a scheduler: a failure (database down) is logged, never raised."""
    try:
        return sweep(db)
    except Exception:
        log.exception("job_sweep_failed")
        return 0


def enqueue_periodic_logged(db: Database, names: Iterable[str] | None = None) -> int:
    """`enqueue_periodic` for a scheduler: a failure is logged, never raised."""
    try:
        return enqueue_periodic(db, names)
    except Exception:
        log.exception("job_periodic_failed", actors=list(names) if names is not None else None)
        return 0


def tick(db: Database) -> int:
    """One round of housekeeping (never raises): sweep, then enqueue due periodic actors."""
    swept = sweep_logged(db)
    enqueue_periodic_logged(db)
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
    from luneo.platform.jobs_dramatiq import broker_url

    settings = db.settings
    if broker_url(settings):
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
