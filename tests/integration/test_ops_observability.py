"""Observability of a deployed API: `/metrics` totals are right under `luneo serve --workers 2`
(prometheus-client multiprocess mode), and Sentry events carry the caller's brand, user and the
design's spec_hash (captured in memory, no network)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from tests.integration.demo import seed_catalog

METRICS_TOKEN = "metrics-token-for-tests"
HITS = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def two_worker_api(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[str, Path]]:
    """`luneo serve --workers 2` on a free port with a fresh (migrated) SQLite data dir."""
    data = tmp_path_factory.mktemp("serve2") / "var"
    data.mkdir()
    shutil.copy(sqlite_template, data / "luneo.db")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUNEO_", "PROMETHEUS_"))}
    env.update(
        LUNEO_DATA_DIR=str(data),
        LUNEO_ENV="test",
        LUNEO_LOG_LEVEL="WARNING",
        LUNEO_METRICS_TOKEN=METRICS_TOKEN,
        LUNEO_RATE_LIMIT_IP="1000000/minute",
        LUNEO_RUN_WORKER_IN_PROCESS="false",
    )
    argv = [sys.executable, "-c", "from luneo.cli import app; app()", "serve", "--port", str(port)]
    log = (data / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*argv, "--workers", "2", "--no-migrate", "--no-seed"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (data / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "luneo serve --workers 2 did not start"
            time.sleep(0.2)
        yield base, data
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _count(exposition: str, route: str) -> float:
    pattern = re.compile(r"^luneo_http_request_duration_seconds_count\{([^}]*)\} ([0-9.e+]+)$", re.MULTILINE)
    total = 0.0
    for labels, value in pattern.findall(exposition):
        if f'route="{route}"' in labels and 'method="GET"' in labels and 'status="200"' in labels:
            total += float(value)
    return total


def test_metrics_sum_over_api_processes(two_worker_api: tuple[str, Path]) -> None:
    base, data = two_worker_api
    for _ in range(HITS):  # a new connection each time: both processes answer some
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
    assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    for _ in range(8):  # whichever process answers, the same total
        r = httpx.get(f"{base}/metrics", headers=auth, timeout=10)
        assert r.status_code == 200
        assert _count(r.text, "/readyz") == HITS
    # Both processes wrote samples into the multiprocess directory under the data dir.
    files = list((data / "prometheus").glob("api-*/histogram_*.db"))
    assert len({f.stem.rsplit("_", 1)[1] for f in files}) >= 2, files


# --- Sentry context -------------------------------------------------------------------------


class CaptureTransport(Transport):
    """Keeps events in memory instead of sending them."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def sentry_events() -> Iterator[list[dict[str, Any]]]:
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    transport = CaptureTransport()
    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1",
        transport=transport,
        auto_enabling_integrations=False,
        integrations=[StarletteIntegration(), FastApiIntegration()],
    )
    try:
        yield transport.events
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


def test_sentry_events_carry_brand_user_and_spec_hash(
    sentry_events: list[dict[str, Any]], client: Any, brand_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    products = seed_catalog(brand_a)
    from luneo.designs import service

    def store_fails(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("spec storage exploded")

    monkeypatch.setattr(service, "store_spec", store_fails)
    body = {
        "product_id": products["DEMO-PENDANT"],
        "inputs": {"arc_text": {"text": "Emma", "font": "fnt_serif"}, "initial": {"text": "E"}},
    }
    r = client.post("/api/v1/specs", json=body, headers=brand_a.h())
    assert r.status_code == 500
    sentry_sdk.flush()
    events = [e for e in sentry_events if "spec storage exploded" in str(e.get("exception"))]
    assert events, sentry_events
    event = events[0]
    assert event["tags"]["brand_id"] == brand_a.id
    assert event["user"]["id"] == brand_a.owner_id
    assert re.fullmatch(r"[0-9a-f]{64}", event["tags"]["spec_hash"])
