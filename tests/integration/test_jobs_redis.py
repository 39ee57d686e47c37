"""The Dramatiq job runtime with workers as separate processes, on both brokers: Redis and
RabbitMQ (`broker` fixture).

Needs `LUNEO_TEST_REDIS_URL` (e.g. redis://127.0.0.1:6379/0) and `LUNEO_TEST_AMQP_URL` (e.g.
amqp://guest:guest@127.0.0.1:5672/%2F); uses PostgreSQL (a throw-away schema) when
`LUNEO_TEST_DATABASE_URL` is set, else a SQLite file. Each test gets its own queue and Redis key
namespace, deleted afterwards.

This file doubles as the worker script: `python test_jobs_redis.py worker` registers the
test actors and runs `luneo.worker.run_worker`.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from luneo.platform import jobs

REDIS_URL = os.environ.get("LUNEO_TEST_REDIS_URL")
PG_URL = os.environ.get("LUNEO_TEST_DATABASE_URL")


# -- actors shared by the test process (to enqueue) and the worker processes (to run)


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


@jobs.actor("redis_test_sleepy", time_limit_s=20, max_retries=3, backoff_base_s=0.1)
def sleepy(ctx: jobs.JobContext) -> dict[str, Any]:
    _append(ctx.payload["log"], f"start {os.getpid()} {ctx.attempt}")
    end = time.monotonic() + float(ctx.payload["sleep_s"])
    while time.monotonic() < end:
        time.sleep(0.02)
    _append(ctx.payload["log"], f"done {os.getpid()} {ctx.attempt}")
    return {"pid": os.getpid()}


@jobs.actor("redis_test_flaky", time_limit_s=20, max_retries=3, backoff_base_s=0.1)
def flaky(ctx: jobs.JobContext) -> dict[str, Any]:
    _append(ctx.payload["log"], f"try {ctx.attempt}")
    if ctx.attempt < 2:
        raise RuntimeError("first attempt fails")
    return {"attempt": ctx.attempt}


@jobs.actor("redis_test_slow", time_limit_s=0.5, max_retries=0)
def slow(ctx: jobs.JobContext) -> None:
    end = time.monotonic() + 15
    while time.monotonic() < end:
        time.sleep(0.02)
    _append(ctx.payload["log"], "slow finished")


@jobs.actor("redis_test_finish_lost", time_limit_s=120, max_retries=3, backoff_base_s=0.1)
def finish_lost(ctx: jobs.JobContext) -> dict[str, Any]:
    """Its first attempt's finish write fails (a database outage on a live worker)."""
    _append(ctx.payload["log"], f"run {ctx.attempt}")
    return {"attempt": ctx.attempt}


def _fail_first_finish_write() -> None:
    """In the worker process: the finish write of `redis_test_finish_lost`'s first attempt
    raises what a database outage raises; the worker itself stays alive and heart-beating."""
    import sqlalchemy.exc

    real = jobs._finish_success

    def finish(db: Any, ctx: jobs.JobContext, *args: Any, **kwargs: Any) -> str:
        if ctx.actor == "redis_test_finish_lost" and ctx.attempt == 1:
            raise sqlalchemy.exc.OperationalError("UPDATE jobs", {}, ConnectionError("database is down"))
        return real(db, ctx, *args, **kwargs)

    jobs._finish_success = finish  # type: ignore[assignment]


def _worker_main() -> None:
    from luneo.worker import run_worker

    _fail_first_finish_write()

    run_worker(threads=1, task_modules=[])


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    _worker_main()
    sys.exit(0)


# -- fixtures

pytestmark = pytest.mark.redis


@pytest.fixture
def env(tmp_path: Path, broker: str) -> Iterator[dict[str, str]]:
    """Environment for worker processes and settings for this process: the broker (Redis or
    RabbitMQ, `broker` fixture), a private queue and Redis namespace, and a private database."""
    from tests.integration.redis_workers import isolated_backends  # lazy: this file is also a worker script

    with isolated_backends(tmp_path, "jobs.db", broker) as values:
        values.update(
            {
                "LUNEO_DATA_DIR": str(tmp_path),
            }
        )
        yield values


@pytest.fixture
def producer(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import luneo.tenancy.models  # noqa: F401
    from luneo.platform.config import Settings
    from luneo.platform.database import Base, Database
    from luneo.platform.jobs_dramatiq import DramatiqRuntime

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    db = Database(Settings())
    Base.metadata.create_all(db.engine)
    rt = DramatiqRuntime(db, job_settings=jobs.JobSettings())
    jobs.set_runtime(rt)
    try:
        yield rt
    finally:
        jobs.set_runtime(None)
        rt.broker.close()
        db.dispose()


def _worker(env: dict[str, str], log: Path) -> Any:
    """A worker process running this file's actors."""
    from tests.integration.redis_workers import WorkerProcess

    return WorkerProcess(__file__, env, log)


@pytest.fixture
def workers(tmp_path: Path, env: dict[str, str]) -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for w in started:
        w.stop()


def start_worker(workers: list[Any], env: dict[str, str], tmp_path: Path) -> Any:
    w = _worker(env, tmp_path / f"worker{len(workers)}.log")
    workers.append(w)
    return w


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_until(predicate: Any, what: str, timeout: float = 25.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def job_row(db: Any, job_id: str) -> Any:
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        return s.get(Job, job_id)


def enqueue(db: Any, actor_name: str, payload: dict[str, Any]) -> str:
    from luneo.platform.tenancy import bind_system

    with db.transaction() as s:
        bind_system(s)
        job = jobs.enqueue(s, actor_name, "k_" + secrets.token_hex(6), payload)
        return job.id


# -- tests


def test_worker_runs_jobs_retries_and_enforces_time_limits(
    producer: Any, workers: list[Any], env: dict[str, str], tmp_path: Path
) -> None:
    db = producer.db
    start_worker(workers, env, tmp_path)
    log = tmp_path / "effects.log"
    ok = enqueue(db, "redis_test_sleepy", {"log": str(log), "sleep_s": 0})
    retried = enqueue(db, "redis_test_flaky", {"log": str(tmp_path / "flaky.log")})
    timed_out = enqueue(db, "redis_test_slow", {"log": str(tmp_path / "slow.log")})

    def finished() -> bool:
        return all(job_row(db, j).status in ("success", "failed") for j in (ok, retried, timed_out))

    wait_until(finished, "three jobs to finish")
    assert job_row(db, ok).status == "success"
    row = job_row(db, retried)
    assert (row.status, row.attempts, row.result) == ("success", 2, {"attempt": 2})
    assert lines(tmp_path / "flaky.log") == ["try 1", "try 2"]
    row = job_row(db, timed_out)
    assert row.status == "failed" and "time limit" in (row.error or "")
    assert lines(tmp_path / "slow.log") == []  # interrupted, never reached the end


def test_killed_worker_loses_nothing_and_job_succeeds_once(
    producer: Any, workers: list[Any], env: dict[str, str], tmp_path: Path
) -> None:
    db = producer.db
    log = tmp_path / "effects.log"
    first = start_worker(workers, env, tmp_path)
    job_id = enqueue(db, "redis_test_sleepy", {"log": str(log), "sleep_s": 1.5})
    wait_until(lambda: any(x.startswith("start") for x in lines(log)), "the first worker to start the job")
    row = job_row(db, job_id)
    assert row.status == "processing" and row.attempts == 1
    first.kill9()  # mid-run: its message is unacked, its row stays `processing`
    start_worker(workers, env, tmp_path)
    wait_until(lambda: job_row(db, job_id).status in ("success", "failed"), "the job to finish")
    time.sleep(0.5)  # give a (wrong) duplicate run the chance to show up
    row = job_row(db, job_id)
    assert row.status == "success"
    assert row.attempts == 2
    effects = lines(log)
    assert len([x for x in effects if x.startswith("start")]) == 2
    done = [x for x in effects if x.startswith("done")]
    assert len(done) == 1, effects
    assert done[0].split()[1] != str(first.proc.pid)
    assert row.result == {"pid": int(done[0].split()[1])}


def test_lost_redis_state_never_runs_a_live_workers_job_twice(
    producer: Any, workers: list[Any], env: dict[str, str], tmp_path: Path
) -> None:
    """Item 3: Redis restarting (every key of the namespace lost, for a second and a half)
    makes no live worker look dead: its job is not given to the other worker meanwhile."""
    import redis

    db = producer.db
    log = tmp_path / "effects.log"
    start_worker(workers, env, tmp_path)
    start_worker(workers, env, tmp_path)
    job_id = enqueue(db, "redis_test_sleepy", {"log": str(log), "sleep_s": 3})
    wait_until(lambda: any(x.startswith("start") for x in lines(log)), "a worker to start the job")
    client = redis.Redis.from_url(env["LUNEO_REDIS_URL"])
    namespace = env["LUNEO_JOB_REDIS_NAMESPACE"]
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        keys = list(client.scan_iter(f"{namespace}:*"))
        if keys:
            client.delete(*keys)
        time.sleep(0.05)
    client.close()
    wait_until(lambda: job_row(db, job_id).status in ("success", "failed"), "the job to finish")
    time.sleep(1.0)  # give a (wrong) second run the chance to show up
    row = job_row(db, job_id)
    effects = lines(log)
    assert (row.status, row.attempts) == ("success", 1), effects
    assert len([x for x in effects if x.startswith("start")]) == 1, effects
    assert all(w.proc.poll() is None for w in workers)


def test_job_whose_finish_write_failed_on_a_live_worker_is_rerun_within_its_lease(
    producer: Any, workers: list[Any], env: dict[str, str], tmp_path: Path
) -> None:
    """Item 4: the worker stays alive (its liveness is fine) but the row of its job stays
    `processing` after the finish write failed; the lease it no longer renews expires and the
    job runs again within seconds (lease 1.5 s here), not at its 120 s deadline."""
    db = producer.db
    log = tmp_path / "effects.log"
    start_worker(workers, env, tmp_path)
    job_id = enqueue(db, "redis_test_finish_lost", {"log": str(log)})
    wait_until(lambda: job_row(db, job_id).status == "success", "the job to run again", timeout=15)
    row = job_row(db, job_id)
    assert row.attempts == 2 and row.result == {"attempt": 2}
    assert lines(log) == ["run 1", "run 2"]
    assert workers[0].proc.poll() is None
