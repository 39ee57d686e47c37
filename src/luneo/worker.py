"""`luneo worker`: runs the job actors of every domain.

With a broker (`LUNEO_BROKER_URL`: `amqp://…` RabbitMQ or `redis://…`; default
`LUNEO_REDIS_URL`) it is a Dramatiq worker (`dramatiq.Worker`) plus the housekeeping
scheduler; without, it runs the embedded runtime (StubBroker) in the foreground (useful when the
app runs with `LUNEO_RUN_WORKER_IN_PROCESS=false`; it picks work up through the sweeper).
Job metrics are served on `LUNEO_WORKER_METRICS_PORT` (`/metrics`; 0 = off; with
`--processes N` the supervisor serves every child's metrics, multiprocess mode).

`--processes N` is a small supervisor (spawn N children, forward SIGTERM, wait): Dramatiq's
own CLI supervisor imports actors from a module path and would bypass our settings, runtime
and sweeper set-up, so it is not used.

`python -m luneo.worker --threads 4 --processes 2` works without the CLI.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import threading
from typing import Any

import structlog

from luneo import domains
from luneo.platform import jobs
from luneo.platform.config import Settings, get_settings
from luneo.platform.database import Database, get_db

log = structlog.get_logger("luneo.worker")

#: Every module that registers job actors (from the domain registry, `luneo.domains`).
TASK_MODULES: list[str] = domains.module_names("tasks")


def import_task_modules(modules: list[str] | None = None) -> list[str]:
    """Import the task modules (registering their actors and subscribers); returns their names.

    By default every domain's models, event subscribers and actors (`luneo.domains`).
    """
    if modules is None:
        domains.load_domain_modules()
        return list(TASK_MODULES)
    domains.import_modules(modules)
    return list(modules)


def run_worker(
    *,
    threads: int | None = None,
    processes: int = 1,
    stop_event: threading.Event | None = None,
    db: Database | None = None,
    settings: Settings | None = None,
    task_modules: list[str] | None = None,
    serve_metrics: bool = True,
) -> None:
    """Run job workers until SIGINT/SIGTERM (or `stop_event` is set).

    `threads` defaults to `LUNEO_WORKER_THREADS`; `processes > 1` forks that many worker
    processes (each with `threads` threads) and supervises them.
    """
    if processes > 1:
        metrics = _start_metrics(get_settings()) if serve_metrics else None
        try:
            _run_processes(threads=threads, processes=processes, task_modules=task_modules)
        finally:
            if metrics is not None:
                metrics.stop()
        return
    import_task_modules(task_modules)
    db = db or get_db()
    settings = settings or db.settings
    threads = threads or settings.worker_threads
    stop = stop_event or threading.Event()
    _install_signal_handlers(stop)
    metrics = _start_metrics(settings) if serve_metrics else None
    runtime: Any
    from luneo.platform.jobs_dramatiq import broker_url

    if broker_url(settings):
        from luneo.platform.jobs_dramatiq import DramatiqRuntime

        runtime = DramatiqRuntime(db, settings)
        jobs.set_runtime(runtime)
        runtime.start_worker(threads, sweep_interval_s=settings.job_sweep_interval_s)
    else:
        from luneo.platform.jobs_runtime import InProcessRuntime

        runtime = InProcessRuntime(db, threads=threads, sweep_interval_s=settings.job_sweep_interval_s)
        jobs.set_runtime(runtime)
        runtime.start()
    log.info("worker_running", actors=sorted(jobs.registered_actors()), worker_id=runtime.worker_id)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("worker_stopping", worker_id=runtime.worker_id)
        runtime.stop(30.0)
        jobs.set_runtime(None)
        if metrics is not None:
            metrics.stop()


def _start_metrics(settings: Settings) -> Any:
    """Serve `/metrics` on `LUNEO_WORKER_METRICS_PORT` (None when 0 or the port is taken:
    metrics are not worth refusing to run jobs)."""
    if not settings.worker_metrics_port:
        return None
    from luneo.platform.metrics import start_metrics_server

    try:
        server = start_metrics_server(settings.worker_metrics_port)
    except OSError as exc:
        log.error("worker_metrics_unavailable", port=settings.worker_metrics_port, error=str(exc))
        return None
    log.info("worker_metrics_serving", port=server.port)
    return server


def _install_signal_handlers(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _child(threads: int | None, task_modules: list[str] | None) -> None:
    get_settings.cache_clear()
    run_worker(threads=threads, processes=1, task_modules=task_modules, serve_metrics=False)


def _run_processes(*, threads: int | None, processes: int, task_modules: list[str] | None) -> None:
    ctx = multiprocessing.get_context("spawn")
    children = [
        ctx.Process(target=_child, args=(threads, task_modules), name=f"luneo-worker-{i}")
        for i in range(processes)
    ]
    for child in children:
        child.start()
    stop = threading.Event()
    _install_signal_handlers(stop)
    try:
        while not stop.wait(1.0):
            if all(not c.is_alive() for c in children):
                break
    finally:
        for c in children:
            if c.is_alive():
                c.terminate()  # SIGTERM: graceful stop in the child
        for c in children:
            c.join(60)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="luneo-worker", description=__doc__)
    parser.add_argument("--threads", type=int, default=None, help="worker threads per process")
    parser.add_argument("--processes", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        from luneo.platform.logging import configure_logging

        configure_logging(settings.log_level, settings.log_json)
    except ImportError:
        pass
    run_worker(threads=args.threads, processes=args.processes)


if __name__ == "__main__":
    main()
