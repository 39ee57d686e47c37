"""End-to-end fixtures: one live `luneo serve` and one headless system Chromium for the whole
session, shared by every e2e module (each test opens its own page / browser context)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live server's data dir (its `demo-credentials.json` holds the demo brand's keys)."""
    return tmp_path_factory.mktemp("e2e") / "var"


@pytest.fixture(scope="session")
def live_server(live_data_dir: Path) -> Iterator[str]:
    data = live_data_dir
    port = _free_port()
    env = {
        **os.environ,
        "LUNEO_DATA_DIR": str(data),
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # every e2e shopper is 127.0.0.1, each new page uploads the sample photo as its own
        "LUNEO_RATE_LIMIT_UPLOAD_IP": "1000/minute",
        "LUNEO_RATE_LIMIT_KEY": "10000/minute",
        "LUNEO_RATE_LIMIT_IP": "10000/minute",
        # webhook endpoints of the e2e tests are local receivers (development only)
        "LUNEO_WEBHOOKS_ALLOW_PRIVATE": "true",
    }
    for var in ("LUNEO_DATABASE_URL", "LUNEO_REDIS_URL", "LUNEO_STORAGE_URL"):
        env.pop(var, None)
    log = open(data.parent / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "luneo.cli", "serve", "--seed", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("server did not start: " + (data.parent / "server.log").read_text()[-2000:])
    yield base
    proc.terminate()
    proc.wait(15)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (bash scripts/install-test-tools.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def owner(browser: Any, live_server: str, live_data_dir: Path) -> Any:
    """The demo owner signed in through the form once (again when the cookies near expiry) for
    every dashboard test that is not about signing in (tests/e2e/dashboard.py `OwnerSession`)."""
    from .dashboard import OwnerSession

    return OwnerSession(browser, live_server, live_data_dir)
