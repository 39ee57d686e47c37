"""Webhooks test fixtures: a local receiver on 127.0.0.1, private targets allowed (local
development mode), an injectable clock / jitter / resolver, and a job runner that runs the due —
or, with `force`, the scheduled — `deliver_webhook` jobs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select, update


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP receiver: records every request and answers from `script` (then `default`)."""

    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    default: tuple[int, dict[str, str], bytes] = (200, {}, b'{"ok":true}')
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks"

    def answer(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        self.script.extend([(status, headers or {}, body)] * times)

    def next_answer(self) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def types(self) -> list[str]:
        return [r.json["type"] for r in self.requests]


def _start(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            status, headers, out = receiver.next_answer()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((receiver.host, 0), Handler)
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(autouse=True)
def _allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers live on 127.0.0.1: the local-development switch (before `settings`)."""
    monkeypatch.setenv("LUNEO_WEBHOOKS_ALLOW_PRIVATE", "true")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = _start(r)
    yield r
    server.shutdown()
    server.server_close()


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = _start(r)
    yield r
    server.shutdown()
    server.server_close()


class Clock:
    """A settable UTC clock for the delivery schedule."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Iterator[Clock]:
    from luneo.webhooks import service

    c = Clock()
    previous = service.configure(clock=c, jitter=lambda d: d)
    yield c
    service.set_config(previous)


def run_webhook_jobs(db: Any, *, force: bool = False, rounds: int = 20) -> list[str]:
    """Run pending `deliver_webhook` jobs (with `force`, also those scheduled later), repeatedly
    while new ones appear; returns the outcomes in order."""
    from luneo.platform import jobs
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system
    from luneo.webhooks.service import DELIVER_ACTOR

    outcomes: list[str] = []
    done: set[str] = set()
    for _ in range(rounds):
        with db.transaction() as s:
            bind_system(s)
            if force:
                s.execute(
                    update(Job)
                    .where(Job.actor == DELIVER_ACTOR, Job.status == "pending")
                    .values(next_run_at=datetime.now(UTC) - timedelta(seconds=1))
                    .execution_options(synchronize_session=False)
                )
            ids = [
                j.id
                for j in s.execute(
                    select(Job)
                    .where(Job.actor == DELIVER_ACTOR, Job.status == "pending")
                    .order_by(Job.created_at, Job.id)
                ).scalars()
                if j.id not in done
            ]
        if not ids:
            break
        for job_id in ids:
            done.add(job_id)
            outcomes.append(jobs.execute(db, job_id, worker_id="test", watchdog=False))
    return outcomes


def webhook_jobs(db: Any) -> list[Any]:
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system
    from luneo.webhooks.service import DELIVER_ACTOR

    with db.transaction(write=False) as s:
        bind_system(s)
        return list(
            s.execute(select(Job).where(Job.actor == DELIVER_ACTOR).order_by(Job.created_at)).scalars()
        )


def rows(db: Any, model: Any, **where: Any) -> list[Any]:
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        stmt = select(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return list(s.execute(stmt.order_by(model.id)).scalars())


def create_endpoint(
    client: Any, brand: Any, url: str, types: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"url": url, "event_types": types or ["order.created", "order.paid"], **extra}
    r = client.post("/api/v1/webhook-endpoints", json=body, headers=brand.h())
    assert r.status_code == 201, r.text
    return r.json()
