"""A worker killed (SIGKILL) during `render_final` loses nothing: against a real Redis broker.

Needs `LUNEO_TEST_REDIS_URL`; uses PostgreSQL (a throw-away schema) when
`LUNEO_TEST_DATABASE_URL` is set, else a SQLite file. This file doubles as the worker script:
`python test_rendering_redis.py worker` makes the pipeline's writer step slow on its first
call in the whole test (a marker file), so the first worker is deterministically mid-render
when it is killed, then runs `luneo.worker.run_worker` with every domain's actors.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def _worker_main() -> None:
    from luneo.rendering import pipeline
    from luneo.worker import run_worker

    original = pipeline.write
    marker = Path(os.environ["LUNEO_TEST_RENDER_MARKER"])

    def slow_first_write(prepared: Any, on_step: Any = None) -> Any:
        if not marker.exists():
            marker.write_text(f"started {os.getpid()}\n")
            time.sleep(120)  # killed long before this ends
        return original(prepared, on_step)

    pipeline.write = slow_first_write  # type: ignore[assignment]
    run_worker(threads=1)


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    _worker_main()
    sys.exit(0)

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

REDIS_URL = os.environ.get("LUNEO_TEST_REDIS_URL")
PG_URL = os.environ.get("LUNEO_TEST_DATABASE_URL")

pytestmark = pytest.mark.redis


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    if not REDIS_URL:
        pytest.skip(
            "LUNEO_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0): Redis render test skipped"
        )
    from tests.integration.redis_workers import isolated_backends  # lazy: this file is also a worker script

    with isolated_backends(tmp_path, "render.db") as values:
        values.update(
            {
                "LUNEO_DATA_DIR": str(tmp_path / "var"),
                "LUNEO_ENV": "test",
                "LUNEO_LOG_LEVEL": "WARNING",
                "LUNEO_ARGON2_MEMORY_KIB": "1024",
                "LUNEO_ARGON2_TIME_COST": "1",
                "LUNEO_TEST_RENDER_MARKER": str(tmp_path / "first-render.marker"),
            }
        )
        yield values


@pytest.fixture
def producer(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """This process: migrated database, storage and a Dramatiq producer, all from `env`."""
    from tests.integration.redis_workers import dramatiq_producer

    with dramatiq_producer(env, monkeypatch) as rt:
        yield rt


def _worker(env: dict[str, str], log: Path) -> Any:
    """A worker process running this file's actors."""
    from tests.integration.redis_workers import WorkerProcess

    return WorkerProcess(__file__, env, log)


@pytest.fixture
def workers(env: dict[str, str]) -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for w in started:
        w.stop()


def wait_until(predicate: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killed_worker_during_render_final_loses_nothing(
    producer: Any, workers: list[Any], env: dict[str, str], tmp_path: Path
) -> None:
    from luneo.credits import service as credits
    from luneo.credits.models import CreditTransaction
    from luneo.designs import service as designs
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.rendering import service
    from luneo.rendering.models import RenderResult
    from tests.conftest import make_brand
    from tests.integration.demo import seed_catalog

    db = producer.db
    brand = make_brand("killtest")
    pid = seed_catalog(brand)["DEMO-CARD"]
    with db.transaction() as s:
        bind_tenant(s, brand.id)
        credits.grant(s, brand.id, 50, "test-grant")
        spec_row, _ = designs.create_spec(s, pid, {"name": {"text": "Grace Hopper"}})
        snap, _ = designs.create_snapshot(s, spec_row=spec_row, actor="test", provenance={})
        before = credits.get_balance(s, brand.id)
    with db.transaction() as s:
        bind_tenant(s, brand.id)
        row, ready = service.request_final(s, snapshot_id=snap.id, actor="test")
        assert not ready
        render_id, row_id, job_id = row.render_id, row.id, row.job_id

    def render_row() -> RenderResult:
        with db.transaction(write=False) as s:
            bind_tenant(s, brand.id)
            found = s.get(RenderResult, row_id)
            assert found is not None
            return found

    def job_row() -> Job:
        with db.transaction(write=False) as s:
            bind_system(s)
            found = s.get(Job, job_id)
            assert found is not None
            return found

    marker = Path(env["LUNEO_TEST_RENDER_MARKER"])
    first = _worker(env, tmp_path / "worker0.log")
    workers.append(first)
    wait_until(marker.exists, "the first worker to be mid-render")
    assert marker.read_text().split()[1] == str(first.proc.pid)
    assert render_row().status == "processing" and job_row().status == "processing"
    first.kill9()  # mid-render: its message is unacked, both rows stay `processing`

    workers.append(_worker(env, tmp_path / "worker1.log"))
    wait_until(lambda: render_row().status in ("success", "failed"), "the render to finish")
    time.sleep(0.5)  # give a (wrong) duplicate run the chance to show up
    row_after, job = render_row(), job_row()
    assert row_after.status == "success", (row_after.error, (tmp_path / "worker1.log").read_text()[-3000:])
    assert job.status == "success" and job.attempts == 2 and row_after.attempts == 2
    assert set(row_after.outputs) == {"print", "svg", "png", "glb", "usdz"}
    with db.transaction(write=False) as s:
        bind_system(s)
        rows = s.execute(sa.select(RenderResult).where(RenderResult.render_id == render_id)).scalars().all()
        assert [r.status for r in rows] == ["success"]  # exactly one success row
        lines = s.execute(
            sa.select(CreditTransaction.type, CreditTransaction.amount).where(
                CreditTransaction.reference.like(f"%{render_id}%")
            )
        ).all()
        assert [tuple(x) for x in lines] == [("usage", -8)]  # charged once, never refunded
        bind_tenant(s, brand.id)
        assert credits.get_balance(s, brand.id) == before - 8
        assert s.get(type(snap), snap.id).assets["final_render_id"] == render_id
