"""Preview serving over HTTP: cached `GET /renders/{id}/preview` vs a bare static-bytes endpoint,
and a cold preview end to end (POST → job → status success).

Both apps run under uvicorn (one process each) on 127.0.0.1 with a seeded demo (SQLite, local
storage, in-process job workers). The cached fetch is driven at concurrency 8 with keep-alive;
the bare app answers the same bytes from memory. Target: cached preview p95 < 5 ms.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _stats import UVICORN, demo_environment, drive_http, free_port, line, percentiles, wait_for_http

CONCURRENCY = 8
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
COLD = int(os.environ.get("BENCH_COLD", "30"))
WIDTH = 512

BARE_APP = """
from pathlib import Path
from fastapi import FastAPI, Response
DATA = Path(__file__).with_name("preview.bin").read_bytes()
app = FastAPI()
@app.get("/static")
def static() -> Response:
    return Response(content=DATA, media_type="image/png",
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})
"""


def _render(client: httpx.Client, base: str, spec_hash: str) -> tuple[str, float]:
    """POST a preview and poll its status until success; returns (render_id, seconds)."""
    t = time.perf_counter()
    r = client.post(f"{base}/api/v1/renders/preview", json={"spec_hash": spec_hash, "width": WIDTH})
    assert r.status_code in (200, 202), r.text
    rid = r.json()["render_id"]
    while r.json()["status"] != "success":
        if r.json()["status"] == "failed":
            raise RuntimeError(r.text)
        time.sleep(0.005)
        r = client.get(f"{base}/api/v1/renders/{rid}/status")
    return rid, time.perf_counter() - t


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luneo-bench-preview-"))
    env, creds = demo_environment(str(tmp / "var"), LUNEO_WORKER_THREADS="2")
    port, bare_port = free_port(), free_port()
    uv = [sys.executable, *UVICORN]
    procs = [subprocess.Popen([*uv, "--factory", "luneo.app:create_app", "--port", str(port)], env=env)]
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {creds['secret_key']}"}
    try:
        wait_for_http(f"{base}/healthz")
        with httpx.Client(headers=auth, timeout=60) as client:
            products = client.get(f"{base}/api/v1/products", params={"limit": 100}).json()["data"]
            pid = next(p["id"] for p in products if p["sku"] == "DEMO-PENDANT")

            def spec(name: str) -> str:
                r = client.post(
                    f"{base}/api/v1/specs",
                    json={
                        "product_id": pid,
                        "inputs": {
                            "arc_text": {"text": name, "font": "fnt_serif"},
                            "initial": {"text": name[0]},
                        },
                    },
                )
                assert r.status_code == 201, r.text
                return str(r.json()["spec_hash"])

            rid, _ = _render(client, base, spec("Warmup"))
            cold = [_render(client, base, spec(f"Name{i:03d}"))[1] for i in range(COLD)]
            preview = client.get(f"{base}/api/v1/renders/{rid}/preview")
            assert preview.status_code == 200
        (tmp / "preview.bin").write_bytes(preview.content)
        (tmp / "bare_app.py").write_text(BARE_APP)
        procs.append(
            subprocess.Popen([*uv, "bare_app:app", "--port", str(bare_port), "--app-dir", str(tmp)], env=env)
        )
        wait_for_http(f"http://127.0.0.1:{bare_port}/static")
        load = {"requests": REQUESTS, "concurrency": CONCURRENCY, "expect_len": len(preview.content)}
        bare, bare_wall = asyncio.run(drive_http(f"http://127.0.0.1:{bare_port}/static", {}, **load))
        ours, ours_wall = asyncio.run(drive_http(f"{base}/api/v1/renders/{rid}/preview", auth, **load))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    b, o, c = percentiles(bare), percentiles(ours), percentiles(cold)
    print(
        f"cached preview ({load['expect_len']} bytes PNG, {WIDTH} px): concurrency {CONCURRENCY}, "
        f"{REQUESTS} requests each, keep-alive, one uvicorn process each"
    )
    print(line("bare FastAPI static bytes", b, f"{REQUESTS / bare_wall:8.0f} req/s"))
    print(
        line(
            "GET /renders/{id}/preview (sk_, full stack)",
            o,
            f"{REQUESTS / ours_wall:8.0f} req/s  target p95 < 5 ms: {'OK' if o['p95'] < 5 else 'MISSED'}",
        )
    )
    print(
        f"ratio preview/bare: p50 x{o['p50'] / b['p50']:.2f}  p95 x{o['p95'] / b['p95']:.2f}  "
        f"throughput x{(REQUESTS / ours_wall) / (REQUESTS / bare_wall):.2f}"
    )
    print(line(f"cold preview POST→job→success ({COLD}, seq)", c, "(pendant, 512 px, in-process worker)"))


if __name__ == "__main__":
    main()
