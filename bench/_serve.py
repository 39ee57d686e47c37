"""One `luneo serve --seed` for the browser benches and screenshot scripts (embedded mode: SQLite,
local files, in-process jobs, as `make run`), on a free port with a temporary data dir."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _stats import free_port


@contextmanager
def demo_server(
    extra_env: dict[str, str] | None = None, prefix: str = "luneo-bench-"
) -> Iterator[tuple[str, Path]]:
    """Start the demo server and wait for `/healthz` → (base URL, data dir); stopped on exit.

    Every `LUNEO_*` variable of the caller's environment is dropped (no PostgreSQL, Redis or S3),
    then `extra_env` is applied (e.g. raised rate limits)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        data = Path(tmp) / "var"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUNEO_")}
        env |= {"LUNEO_DATA_DIR": str(data), "LUNEO_LOG_LEVEL": "WARNING", "LUNEO_PUBLIC_BASE_URL": base}
        env |= extra_env or {}
        argv = [sys.executable, "-m", "luneo.cli", "serve", "--seed", "--port", str(port)]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 120
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit("luneo serve did not start")
                time.sleep(0.3)
            yield base, data
        finally:
            proc.terminate()
            proc.wait(15)
