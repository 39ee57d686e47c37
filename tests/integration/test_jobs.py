"""Job runtime: idempotent enqueue, dispatch after commit, retries, time limits, sweeper, claims.

Runs on SQLite (a file in a temp dir) and, when `LUNEO_TEST_DATABASE_URL` is set, on
PostgreSQL in a throw-away schema.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import luneo.tenancy.models  # noqa: F401  (brands table for foreign keys)
from luneo.platform import jobs
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.context import current_request_id, request_id_var
from luneo.platform.database import Base, Database
from luneo.platform.jobs_runtime import InProcessRuntime
from luneo.platform.models import Job
from luneo.platform.tenancy import bind_system

PG_URL = os.environ.get("LUNEO_TEST_DATABASE_URL")


def make_database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        db = Database(Settings(data_dir=tmp_path, database_url=None, redis_url=None))
        Base.metadata.create_all(db.engine)
        yield db
        db.dispose()
        return
    if not PG_URL:
        pytest.skip("LUNEO_TEST_DATABASE_URL is not set: PostgreSQL variant skipped")
    schema = "t_" + secrets.token_hex(6)
    admin = sa.create_engine(Settings(database_url=PG_URL).resolved_database_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    # The tables are created here by the login itself, not by the migrations that grant
    # them to the row-level-security role: no role switch for this database.
    db = Database(Settings(data_dir=tmp_path, database_url=url, redis_url=None, database_role=""))
    try:
        Base.metadata.create_all(db.engine)
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    yield from make_database(request.param, tmp_path)


@pytest.fixture
def runtime(db: Database) -> Iterator[InProcessRuntime]:
    rt = InProcessRuntime(db, threads=2, sweep_interval_s=0.2)
    jobs.set_runtime(rt)
    rt.start()
    yield rt
    rt.stop(5)
    jobs.set_runtime(None)


def wait_for(
    db: Database, job_id: str, statuses: tuple[str, ...] = ("success", "failed"), timeout: float = 20.0
) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        with db.transaction(write=False) as s:
            bind_system(s)
            job = s.get(Job, job_id)
            assert job is not None
            if job.status in statuses:
                return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} (error={job.error})")
        time.sleep(0.02)


def get_job(db: Database, job_id: str) -> Job:
    with db.transaction(write=False) as s:
        bind_system(s)
        job = s.get(Job, job_id)
        assert job is not None
        return job


def enqueue(db: Database, actor_name: str, key: str, payload: dict[str, Any] | None = None, **kw: Any) -> Job:
    with db.transaction() as s:
        bind_system(s)
        return jobs.enqueue(s, actor_name, key, payload or {}, **kw)


# -- test actors (registered once at import; state kept per test key)
CALLS: dict[str, list[dict[str, Any]]] = {}
CALLS_LOCK = threading.Lock()


def record(ctx: jobs.JobContext) -> None:
    with CALLS_LOCK:
        CALLS.setdefault(ctx.key, []).append(
            {
                "attempt": ctx.attempt,
                "at": time.monotonic(),
                "request_id": ctx.request_id,
                "ctx_request_id": current_request_id(),
                "thread": threading.get_ident(),
            }
        )


@jobs.actor("test_echo", time_limit_s=30, max_retries=3, backoff_base_s=0.05)
def echo(ctx: jobs.JobContext) -> dict[str, Any]:
    record(ctx)
    ctx.progress(0.5)
    time.sleep(float(ctx.payload.get("sleep_s", 0)))
    return {"echo": ctx.payload.get("value"), "attempt": ctx.attempt}


@jobs.actor("test_flaky", time_limit_s=30, max_retries=3, backoff_base_s=0.05)
def flaky(ctx: jobs.JobContext) -> dict[str, Any]:
    record(ctx)
    calls = len(CALLS[ctx.key])
    if calls <= int(ctx.payload["fail_times"]):
        raise RuntimeError(f"boom {calls}")
    return {"ok": True}


@jobs.actor("test_slow", time_limit_s=0.3, max_retries=0)
def slow(ctx: jobs.JobContext) -> None:
    record(ctx)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        time.sleep(0.01)
    with CALLS_LOCK:
        CALLS[ctx.key].append({"finished": True})


@jobs.actor("test_default_backoff", time_limit_s=30, max_retries=3)
def always_fails(ctx: jobs.JobContext) -> None:
    raise ValueError("nope")


def key() -> str:
    return "k_" + secrets.token_hex(6)


# -- tests


def test_enqueue_is_idempotent_on_key_and_runs_once(db: Database, runtime: InProcessRuntime) -> None:
    k = key()
    token = request_id_var.set("req_test_123")
    try:
        first = enqueue(db, "test_echo", k, {"value": 1})
    finally:
        request_id_var.reset(token)
    second = enqueue(db, "test_echo", k, {"value": 2})
    assert second.id == first.id
    done = wait_for(db, first.id)
    third = enqueue(db, "test_echo", k, {"value": 3})
    assert third.id == first.id and third.status == "success"
    time.sleep(0.3)  # let any (wrong) second dispatch run before counting
    assert done.status == "success"
    assert done.result == {"echo": 1, "attempt": 1}
    assert done.progress == 1.0 and done.duration_ms is not None and done.finished_at is not None
    assert done.request_id == "req_test_123"
    assert len(CALLS[k]) == 1
    assert CALLS[k][0]["request_id"] == "req_test_123"
    assert CALLS[k][0]["ctx_request_id"] == "req_test_123"  # carried into the job's context var
    with db.transaction() as s:
        bind_system(s)
        assert s.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.key == k)) == 1


def test_dispatch_happens_only_after_commit(db: Database) -> None:
    seen: list[str] = []

    class Recorder:
        worker_id = "rec"

        def dispatch(
            self,
            job_id: str,
            delay_s: float = 0.0,
            time_limit_s: float | None = None,
            actor: str | None = None,
        ) -> None:
            seen.append(job_id)

    jobs.set_runtime(Recorder())
    try:
        with db.transaction() as s:
            bind_system(s)
            job = jobs.enqueue(s, "test_echo", key(), {})
            assert seen == []  # not before commit
        assert seen == [job.id]
        with pytest.raises(RuntimeError), db.transaction() as s:
            bind_system(s)
            rolled = jobs.enqueue(s, "test_echo", key(), {})
            raise RuntimeError("abort")
        assert rolled.id not in seen
        with db.transaction() as s:
            bind_system(s)
            assert s.get(Job, rolled.id) is None
        # A later commit on a session that rolled back does not resurrect the dispatch.
        with db.transaction() as s:
            bind_system(s)
        assert seen == [job.id]
    finally:
        jobs.set_runtime(None)


def test_unknown_actor_is_rejected(db: Database) -> None:
    with pytest.raises(LookupError), db.transaction() as s:
        bind_system(s)
        jobs.enqueue(s, "no_such_actor", key(), {})


def test_retries_with_backoff_then_success(db: Database, runtime: InProcessRuntime) -> None:
    k = key()
    job = enqueue(db, "test_flaky", k, {"fail_times": 2})
    done = wait_for(db, job.id)
    assert done.status == "success"
    assert done.attempts == 3
    assert done.error is None
    calls = CALLS[k]
    assert [c["attempt"] for c in calls] == [1, 2, 3]
    # Backoff 0.05 s × 2^(attempt-1): each retry waits at least its delay.
    assert calls[1]["at"] - calls[0]["at"] >= 0.05
    assert calls[2]["at"] - calls[1]["at"] >= 0.10


def test_fails_after_max_retries(db: Database, runtime: InProcessRuntime) -> None:
    k = key()
    job = enqueue(db, "test_flaky", k, {"fail_times": 99})
    done = wait_for(db, job.id)
    assert done.status == "failed"
    assert done.attempts == 4 == done.max_attempts  # 1 run + max_retries=3
    assert done.error == "RuntimeError: boom 4"
    assert done.finished_at is not None
    time.sleep(0.3)
    assert len(CALLS[k]) == 4


def test_failed_job_reruns_only_with_retry_failed(db: Database, runtime: InProcessRuntime) -> None:
    k = key()
    job = enqueue(db, "test_flaky", k, {"fail_times": 4})
    assert wait_for(db, job.id).status == "failed"
    again = enqueue(db, "test_flaky", k, {"fail_times": 4})
    assert again.status == "failed"
    again = enqueue(db, "test_flaky", k, retry_failed=True)
    assert again.id == job.id and again.status == "pending" and again.attempts == 0
    done = wait_for(db, job.id)
    assert done.status == "success" and done.attempts == 1  # 5th call overall succeeds
    assert len(CALLS[k]) == 5


def test_backoff_schedule_is_two_seconds_doubling(db: Database) -> None:
    job = enqueue(db, "test_default_backoff", key())
    expected = [2, 4, 8]
    for attempt, delay in enumerate(expected, start=1):
        assert jobs.execute(db, job.id, worker_id="w1") == "retry"
        row = get_job(db, job.id)
        assert row.status == "pending" and row.attempts == attempt
        assert row.next_run_at is not None
        assert row.next_run_at - row.updated_at == timedelta(seconds=delay)
        assert row.error == "ValueError: nope"
        assert jobs.execute(db, job.id, worker_id="w1") == "not_due"
        with db.transaction() as s:  # fast-forward the clock for the next attempt
            bind_system(s)
            s.execute(sa.update(Job).where(Job.id == job.id).values(next_run_at=utcnow()))
    assert jobs.execute(db, job.id, worker_id="w1") == "failed"
    assert get_job(db, job.id).status == "failed"


def test_time_limit_interrupts_the_job(db: Database, runtime: InProcessRuntime) -> None:
    k = key()
    job = enqueue(db, "test_slow", k)
    done = wait_for(db, job.id)
    assert done.status == "failed"
    assert done.error is not None and "time limit" in done.error
    assert done.attempts == 1
    assert not any(c.get("finished") for c in CALLS[k])


def test_sweeper_recovers_a_stuck_processing_row(db: Database) -> None:
    k = key()
    job = enqueue(db, "test_echo", k, {"value": "swept"})  # no runtime: stays pending
    past = utcnow() - timedelta(hours=1)
    with db.transaction() as s:
        bind_system(s)
        s.execute(
            sa.update(Job)
            .where(Job.id == job.id)
            .values(
                status="processing",
                attempts=1,
                worker_id="dead-worker",
                started_at=past,
                deadline_at=past + timedelta(seconds=30),
            )
        )
    assert jobs.execute(db, job.id, worker_id="w2") == "skipped"  # still claimed by the dead one
    rt = InProcessRuntime(db, threads=1, sweep_interval_s=60)
    jobs.set_runtime(rt)
    try:
        assert jobs.sweep(db) == 1
        row = get_job(db, job.id)
        assert row.status == "pending" and row.error is not None and "deadline" in row.error
        assert rt.pending_count() == 1  # re-dispatched
        rt.start()
        done = wait_for(db, job.id)
        assert done.status == "success" and done.attempts == 2
        assert done.result == {"echo": "swept", "attempt": 2}
        assert jobs.sweep(db) == 0
    finally:
        rt.stop(5)
        jobs.set_runtime(None)


def test_sweeper_redispatches_pending_rows_with_no_message(db: Database) -> None:
    job = enqueue(db, "test_echo", key())  # no runtime installed: the message is "lost"
    cfg = jobs.JobSettings(pending_grace_s=0.0)
    seen: list[str] = []

    class Recorder:
        worker_id = "rec"

        def dispatch(
            self,
            job_id: str,
            delay_s: float = 0.0,
            time_limit_s: float | None = None,
            actor: str | None = None,
        ) -> None:
            seen.append(job_id)

    jobs.set_runtime(Recorder())
    try:
        assert jobs.sweep(db, settings=jobs.JobSettings()) == 0  # within the grace period
        time.sleep(0.01)
        assert jobs.sweep(db, settings=cfg) == 1
        assert seen == [job.id]
    finally:
        jobs.set_runtime(None)


def test_sweeper_gives_back_rows_whose_lease_expired_and_fails_exhausted_ones(db: Database) -> None:
    live = enqueue(db, "test_echo", key())
    exhausted = enqueue(db, "test_echo", key())
    renewed = enqueue(db, "test_echo", key())
    future = utcnow() + timedelta(minutes=5)
    expired = utcnow() - timedelta(seconds=1)
    with db.transaction() as s:
        bind_system(s)
        for job_id, attempts, lease in (
            (live.id, 1, expired),
            (exhausted.id, 4, expired),
            (renewed.id, 1, future),
        ):
            s.execute(
                sa.update(Job)
                .where(Job.id == job_id)
                .values(
                    status="processing",
                    attempts=attempts,
                    worker_id="dq:dead",
                    deadline_at=future,
                    lease_expires_at=lease,
                )
            )

    assert jobs.sweep(db) == 2  # deadline far away, but nobody renews these leases
    assert get_job(db, live.id).status == "pending"
    failed = get_job(db, exhausted.id)
    assert failed.status == "failed" and failed.error is not None and "worker lost" in failed.error
    assert get_job(db, renewed.id).status == "processing"  # a live run renews its lease


def test_a_running_job_renews_its_lease_and_a_lost_finish_is_given_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items 3–4: liveness is the row's lease. While a job runs, its lease is renewed (the
    sweeper leaves it alone past its first lease); once its finish write failed (database
    outage on a live worker), nobody renews it and the sweeper gives it back within the lease."""
    import sqlalchemy.exc

    monkeypatch.setenv("LUNEO_JOB_LEASE_S", "0.4")
    monkeypatch.setenv("LUNEO_JOB_LEASE_RENEW_S", "0.05")
    jobs.get_job_settings.cache_clear()
    k = key()
    job = enqueue(db, "test_echo", k, {"sleep_s": 1.0})
    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.append(jobs.execute(db, job.id, worker_id="w1")))
    try:
        runner.start()
        time.sleep(0.7)  # past the first lease: renewed meanwhile
        assert jobs.sweep(db) == 0
        runner.join(10)
        assert outcome == ["success"]

        lost = enqueue(db, "test_echo", key(), {"value": "again"})
        real = jobs._finish_success

        def outage(*args: Any, **kwargs: Any) -> str:
            raise sqlalchemy.exc.OperationalError("UPDATE jobs", {}, ConnectionError("database is down"))

        monkeypatch.setattr(jobs, "_finish_success", outage)
        with pytest.raises(sqlalchemy.exc.OperationalError):
            jobs.execute(db, lost.id, worker_id="w1")
        monkeypatch.setattr(jobs, "_finish_success", real)
        assert get_job(db, lost.id).status == "processing"
        assert jobs.sweep(db) == 0  # lease still valid
        time.sleep(0.6)
        assert jobs.sweep(db) == 1
        row = get_job(db, lost.id)
        assert row.status == "pending" and "lease expired" in (row.error or "")
        assert jobs.execute(db, lost.id, worker_id="w2") == "success"
        assert get_job(db, lost.id).attempts == 2
    finally:
        jobs.get_job_settings.cache_clear()


def test_concurrent_claim_runs_once(db: Database) -> None:
    k = key()
    job = enqueue(db, "test_echo", k, {"sleep_s": 0.2})
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        outcomes.append(jobs.execute(db, job.id, worker_id=name))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["skipped", "success"]
    assert len(CALLS[k]) == 1
    assert get_job(db, job.id).attempts == 1


def test_periodic_actor_enqueued_once_per_period(db: Database) -> None:
    calls: list[int] = []

    @jobs.actor("test_periodic_tick", time_limit_s=5, max_retries=0)
    def periodic_tick(ctx: jobs.JobContext) -> None:
        calls.append(1)

    jobs.register_periodic("test_periodic_tick", 3600)
    try:
        jobs.enqueue_periodic(db)
        jobs.enqueue_periodic(db)
        with db.transaction() as s:
            bind_system(s)
            rows = s.scalars(sa.select(Job).where(Job.actor == "test_periodic_tick")).all()
            assert len(rows) == 1 and rows[0].key.startswith("periodic:test_periodic_tick:")
            cleanup_rows = s.scalars(sa.select(Job).where(Job.actor == "cleanup")).all()
            assert len(cleanup_rows) == 1
    finally:
        jobs._periodic.pop("test_periodic_tick", None)


def test_cleanup_deletes_old_finished_jobs_and_runs_hooks(db: Database) -> None:
    old = enqueue(db, "test_echo", key())
    recent = enqueue(db, "test_echo", key())
    with db.transaction() as s:
        bind_system(s)
        s.execute(
            sa.update(Job)
            .where(Job.id == old.id)
            .values(status="success", finished_at=utcnow() - timedelta(days=30))
        )
        s.execute(sa.update(Job).where(Job.id == recent.id).values(status="success", finished_at=utcnow()))
    hook_calls: list[Database] = []

    def hook(d: Database) -> int:
        hook_calls.append(d)
        return 7

    jobs.register_cleanup("test_hook", hook)
    try:
        cleanup_job = enqueue(db, "cleanup", key())
        assert jobs.execute(db, cleanup_job.id, worker_id="w") == "success"
        row = get_job(db, cleanup_job.id)
        removed = row.result["removed"]  # other domains register their own hooks too
        assert removed["jobs"] == 1 and removed["test_hook"] == 7
        assert hook_calls == [db]
        with db.transaction() as s:
            bind_system(s)
            assert s.get(Job, old.id) is None and s.get(Job, recent.id) is not None
    finally:
        jobs._cleanup_hooks.pop("test_hook", None)


def test_start_and_stop_in_process_runtime(tmp_path: Path) -> None:
    db = Database(
        Settings(
            data_dir=tmp_path, database_url=None, redis_url=None, worker_threads=1, job_sweep_interval_s=0.1
        )
    )
    Base.metadata.create_all(db.engine)
    rt = jobs.start_in_process_runtime(db)
    try:
        assert isinstance(rt, InProcessRuntime) and jobs.get_runtime() is rt
        job = enqueue(db, "test_echo", key(), {"value": "app"})
        assert wait_for(db, job.id).result == {"echo": "app", "attempt": 1}
    finally:
        jobs.stop_in_process_runtime()
    assert jobs._runtime is None
    db.dispose()
