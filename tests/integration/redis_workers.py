"""Shared set-up for tests that run real worker processes against Redis."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import AMQP_URL, PG_URL, REDIS_URL

# Fast failure detection so a killed worker's job is recovered within seconds.
FAST_RECOVERY = {
    "LUNEO_JOB_HEARTBEAT_TIMEOUT_S": "1.0",
    "LUNEO_JOB_MAINTENANCE_CHANCE": "1000000",
    "LUNEO_JOB_SWEEP_INTERVAL_S": "0.3",
    "LUNEO_JOB_PENDING_GRACE_S": "5",
    "LUNEO_JOB_PROCESSING_GRACE_S": "1",
    "LUNEO_JOB_LEASE_S": "1.5",
    "LUNEO_JOB_LEASE_RENEW_S": "0.3",
    "LUNEO_WORKER_METRICS_PORT": "0",
    "LUNEO_LOG_JSON": "false",
}


@contextmanager
def isolated_backends(tmp_path: Path, sqlite_name: str, broker: str = "redis") -> Iterator[dict[str, str]]:
    """Environment for this test's processes: a private Redis namespace, a private job queue
    (on RabbitMQ when `broker == "rabbitmq"`, else on Redis) and a private database (a fresh
    PostgreSQL schema when `LUNEO_TEST_DATABASE_URL` is set, else a SQLite file); everything is
    removed afterwards."""
    import redis

    assert REDIS_URL
    namespace = "luneotest_" + secrets.token_hex(6)
    values = {
        "LUNEO_REDIS_URL": REDIS_URL,
        "LUNEO_JOB_REDIS_NAMESPACE": namespace,
        "LUNEO_JOB_QUEUE_NAME": namespace,  # unique per test: parallel runs share no queue
        **FAST_RECOVERY,
    }
    if broker == "rabbitmq":
        assert AMQP_URL
        values["LUNEO_BROKER_URL"] = AMQP_URL
    schema = admin = None
    if PG_URL:
        from luneo.platform.config import Settings

        schema = "t_" + secrets.token_hex(6)
        admin = sa.create_engine(Settings(database_url=PG_URL).resolved_database_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        values["LUNEO_DATABASE_URL"] = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        # Some suites create this schema's tables with `create_all` as the login (no migration
        # grants them to the row-level-security role): no role switch.
        values["LUNEO_DATABASE_ROLE"] = ""
    else:
        values["LUNEO_DATABASE_URL"] = f"sqlite:///{tmp_path / sqlite_name}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield values
    finally:
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)
        client.close()
        if broker == "rabbitmq":
            _delete_rabbitmq_queues(namespace)
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _delete_rabbitmq_queues(queue_name: str) -> None:
    """Drop the test's queue and its delay/dead-letter queues (Dramatiq's `.DQ`/`.XQ`)."""
    import pika

    assert AMQP_URL
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = conn.channel()
        for name in (queue_name, f"{queue_name}.DQ", f"{queue_name}.XQ"):
            channel.queue_delete(name)
    finally:
        conn.close()


class WorkerProcess:
    """A worker started as `python <script> worker` with `env`, its output appended to `log`."""

    def __init__(self, script: str, env: dict[str, str], log: Path) -> None:
        self.out = open(log, "ab")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            [sys.executable, script, "worker"],
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )

    def kill9(self) -> None:
        """Die the hard way (no cleanup, no ack): what a crashed machine does."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.out.close()


@contextmanager
def dramatiq_producer(env: dict[str, str], monkeypatch: Any) -> Iterator[Any]:
    """This process as a producer: migrated database, storage and a Dramatiq runtime, all from `env`."""
    from luneo.platform import config, database, jobs, migrate
    from luneo.platform.jobs_dramatiq import DramatiqRuntime
    from luneo.platform.storage import set_storage

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    config.get_settings.cache_clear()
    jobs.get_job_settings.cache_clear()
    migrate.upgrade(url=config.get_settings().resolved_database_url)
    db = database.Database(config.get_settings())
    database.set_db(db)
    set_storage(None)
    rt = DramatiqRuntime(db, job_settings=jobs.get_job_settings())
    jobs.set_runtime(rt)
    try:
        yield rt
    finally:
        jobs.set_runtime(None)
        rt.broker.close()
        database.set_db(None)
        set_storage(None)
        config.get_settings.cache_clear()
        jobs.get_job_settings.cache_clear()
