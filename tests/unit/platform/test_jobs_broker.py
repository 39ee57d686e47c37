"""Broker selection and the Dramatiq middleware of the job runtime (no broker server needed:
Dramatiq's brokers connect on first use)."""

from __future__ import annotations

import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import Retry
from dramatiq.middleware import AgeLimit, Callbacks, CurrentMessage, Retries, TimeLimit

from luneo.platform import jobs
from luneo.platform.config import Settings
from luneo.platform.jobs_dramatiq import broker_url, build_broker, retry_when


def test_broker_url_prefers_luneo_broker_url_then_redis() -> None:
    assert broker_url(Settings(broker_url=None, redis_url=None)) is None
    assert broker_url(Settings(broker_url=None, redis_url="redis://r:6379/0")) == "redis://r:6379/0"
    both = Settings(broker_url="amqp://guest:guest@mq:5672/%2F", redis_url="redis://r:6379/0")
    assert broker_url(both) == "amqp://guest:guest@mq:5672/%2F"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("amqp://guest:guest@127.0.0.1:5672/%2F", RabbitmqBroker),
        ("redis://127.0.0.1:6379/0", RedisBroker),
        (None, StubBroker),
    ],
)
def test_build_broker_picks_the_broker_and_dramatiqs_middleware(url: str | None, kind: type) -> None:
    broker = build_broker(url, jobs.JobSettings())
    try:
        assert isinstance(broker, kind)
        present = {type(m) for m in broker.middleware}
        assert {AgeLimit, TimeLimit, Callbacks, Retries, CurrentMessage} <= present
    finally:
        broker.close()


def test_build_broker_refuses_an_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported job broker"):
        build_broker("kafka://somewhere", jobs.JobSettings())


def test_retries_resend_only_what_the_job_row_asked_for() -> None:
    assert retry_when(0, Retry("attempt 1 failed", delay=2000))
    assert not retry_when(0, RuntimeError("finish write lost: the lease gives the job back"))


def test_housekeeping_runs_on_apscheduler_with_one_job_per_periodic_actor() -> None:
    from luneo.platform.jobs_dramatiq import housekeeping_scheduler

    scheduler = housekeeping_scheduler(db=None, sweep_interval_s=15.0)  # type: ignore[arg-type]
    ids = {job.id for job in scheduler.get_jobs()}
    assert "luneo:sweep" in ids
    assert {f"luneo:periodic:{name}" for name in jobs.periodic_actors()} <= ids
    assert "luneo:periodic:cleanup" in ids  # registered by the jobs module itself


def test_every_broker_carries_the_job_observability_middleware() -> None:
    from luneo.platform.job_observability import JobMetrics, RequestIdPropagation

    broker = build_broker(None, jobs.JobSettings())
    present = {type(m) for m in broker.middleware}
    assert {JobMetrics, RequestIdPropagation} <= present


def test_a_job_failed_for_good_fails_its_message_without_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The message of a finally failed job fails too (metrics count it failed and dead), and
    Dramatiq's Retries never re-sends it (`throws`)."""
    from dramatiq import Worker

    from luneo.platform.jobs_dramatiq import DramatiqRuntime, JobFailed

    broker = build_broker(None, jobs.JobSettings())
    runtime = DramatiqRuntime(db=None, settings=Settings(), broker=broker)  # type: ignore[arg-type]
    actor = runtime.actor_for("unit_test_failing")
    assert actor.actor_name == "unit_test_failing"
    assert actor.options["throws"] == (JobFailed,)
    calls: list[str] = []

    def execute(db: object, job_id: str, **kw: object) -> str:
        calls.append(job_id)
        return jobs.FAILED

    monkeypatch.setattr(jobs, "execute", execute)
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        runtime.dispatch("job_unit", actor="unit_test_failing")
        broker.join(runtime.cfg.queue_name, fail_fast=False)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    assert calls == ["job_unit"]  # not retried
    (dead,) = broker.dead_letters
    assert dead.actor_name == "unit_test_failing" and dead.options["luneo_actor"] == "unit_test_failing"
