"""What the widget costs a product page, by Lighthouse's performance score (issue 13, item 15).

Shopify's rule: an app may lower a store's Lighthouse performance score by at most 10 points;
target here ≤ 3. Two pages, served by this script on their own origin (a storefront is never the
API's origin): a plain product page (photo, title, price, description, "Add to cart") and the SAME
page with the widget (`<script type="module">` + `<luneo-personalizer>` of the demo pendant),
talking to a `luneo serve --seed` started here (embedded mode, temporary data dir; the bench adds
its origin to the demo brand's allowed origins). Lighthouse 12.2.3 (npm; later versions need
Node 22) drives the system Chromium (`CHROME_PATH`, `--headless=new --no-sandbox`), performance
category only, its default mobile profile (simulated slow 4G, 4× CPU slowdown; `--preset desktop`
for the desktop one). Runs alternate plain / widget (`--runs` each, default 3); printed: median
score and the medians of LCP, TBT, CLS, FCP, Speed Index per page, and the score difference.

Lighthouse is installed on first use into a cache dir (`--lighthouse-dir`, default
`~/.cache/luneo-bench/lighthouse-12.2.3`), not into tools/node (CI does not need it).

Run: .venv/bin/python bench/bench_lighthouse.py [--runs 3] [--preset desktop]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _serve import demo_server  # noqa: E402
from _stats import free_port  # noqa: E402

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
PHOTO = ROOT / "src" / "luneo" / "catalog" / "demo_mockups" / "pendant.png"
SKU = "DEMO-PENDANT"
METRICS = {
    "LCP": ("largest-contentful-paint", "ms"),
    "TBT": ("total-blocking-time", "ms"),
    "CLS": ("cumulative-layout-shift", ""),
    "FCP": ("first-contentful-paint", "ms"),
    "SI": ("speed-index", "ms"),
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Engraved round pendant — Atelier Demo</title>
<meta name="description" content="A 30 mm gold-plated disc, laser engraved with a name and an initial.">
<style>
  body {{ margin: 0; font-family: system-ui, sans-serif; color: #1f2933; background: #fff; }}
  header {{ background: #1f3a5f; color: #fff; padding: 14px 24px; font-size: 20px; font-weight: 600; }}
  main {{ max-width: 1100px; margin: 24px auto; padding: 0 16px; display: grid; gap: 24px;
         grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }}
  img.hero {{ width: 100%; height: auto; aspect-ratio: 1; border-radius: 10px; background: #eee; }}
  h1 {{ font-size: 26px; margin: 0 0 8px; }} .price {{ font-size: 20px; margin-bottom: 12px; }}
  button.buy {{ font: inherit; font-size: 16px; padding: 12px 22px; border: 0; border-radius: 6px;
               background: #1f3a5f; color: #fff; }}
  luneo-personalizer {{ grid-column: 1 / -1; min-height: 480px; }}
</style>
{head}</head>
<body>
<header>Atelier Demo</header>
<main>
  <img class="hero" src="/product.png" width="1024" height="1024" alt="The engraved round pendant">
  <section>
    <h1>Engraved round pendant</h1>
    <div class="price">€39.00</div>
    <p>A 30 mm gold-plated disc, laser engraved: a name along the top and an initial in the
    middle. Made to order in our workshop and shipped within three days.</p>
    <button class="buy" type="button">Add to cart</button>
  </section>
  {widget}
</main>
</body></html>"""


def host_pages(api: str, key: str, product_id: str) -> dict[str, bytes]:
    """The two product pages: without and with the widget (same content otherwise)."""
    script = f'<script type="module" src="{html.escape(api)}/widget/luneo-widget.js"></script>\n'
    element = (
        f'<luneo-personalizer api-base="{html.escape(api)}" key="{html.escape(key)}" '
        f'product="{html.escape(product_id)}" locale="en"></luneo-personalizer>'
    )
    return {
        "/plain.html": PAGE.format(head="", widget="").encode(),
        "/widget.html": PAGE.format(head=script, widget=element).encode(),
    }


@contextmanager
def storefront(pages: dict[str, bytes]) -> Iterator[str]:
    """A static host on its own port: the two pages and the product photo."""
    photo = PHOTO.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            body = photo if path == "/product.png" else pages.get(path)
            if body is None:
                self.send_error(404)
                return
            kind = "image/png" if self.path.endswith(".png") else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "public, max-age=3600")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextmanager
def luneo_server() -> Iterator[tuple[str, Path]]:
    """`luneo serve --seed` on a free port with a temporary data dir → (base URL, data dir)."""
    with demo_server(prefix="luneo-bench-lh-") as served:
        yield served


def allow_origin(api: str, data: Path, origin: str) -> tuple[str, str]:
    """Add the storefront's origin to the demo brand (as its owner) → (pk key, product id)."""
    creds = json.loads((data / "demo-credentials.json").read_text())
    with httpx.Client(base_url=api, timeout=30) as c:
        token = c.post("/api/v1/auth/login", json=creds["owner"]).raise_for_status().json()["access_token"]
        owner = {"Authorization": f"Bearer {token}"}
        brand = c.get("/api/v1/brand", headers=owner).raise_for_status().json()
        origins = [*brand["allowed_origins"], origin]
        c.patch("/api/v1/brand", headers=owner, json={"allowed_origins": origins}).raise_for_status()
        sk = {"Authorization": f"Bearer {creds['secret_key']}"}
        products = c.get("/api/v1/products", headers=sk, params={"limit": 100}).raise_for_status().json()
    [product_id] = [p["id"] for p in products["data"] if p["sku"] == SKU]
    return str(creds["publishable_key"]), str(product_id)


def check_widget_renders(url: str) -> None:
    """The widget page really shows the widget's preview on the storefront's origin (else the
    comparison would measure a broken widget)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROME, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function(
            "() => { const r = document.querySelector('luneo-personalizer').shadowRoot;"
            " const i = r && r.querySelector('img[part=preview-image]');"
            " return !!i && !i.hidden && i.complete && i.naturalWidth > 0; }",
            timeout=60_000,
        )
        browser.close()


def lighthouse_bin(cache: Path) -> Path:
    """The Lighthouse CLI, installed once into `cache` with npm."""
    binary = cache / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"installing {LIGHTHOUSE} into {cache} …", flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache), LIGHTHOUSE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return binary


def run_lighthouse(binary: Path, url: str, preset: str | None) -> dict[str, float]:
    """One Lighthouse run (performance only) → score (0–100) and the metrics."""
    with tempfile.TemporaryDirectory(prefix="luneo-lh-run-") as tmp:
        out = Path(tmp) / "report.json"
        argv = [
            str(binary),
            url,
            "--only-categories=performance",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            *([f"--preset={preset}"] if preset else []),
        ]
        env = {**os.environ, "CHROME_PATH": CHROME, "TMPDIR": tmp}
        subprocess.run(argv, check=True, env=env, timeout=300)
        report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise SystemExit(f"lighthouse: {report['runtimeError']}")
    result = {"score": float(report["categories"]["performance"]["score"]) * 100}
    for name, (audit, _) in METRICS.items():
        result[name] = float(report["audits"][audit]["numericValue"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--preset", choices=["desktop", "perf"], default=None)
    parser.add_argument(
        "--lighthouse-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "luneo-bench"
        / "lighthouse-12.2.3",
    )
    args = parser.parse_args()
    binary = lighthouse_bin(args.lighthouse_dir)
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "widget": []}
    pages: dict[str, bytes] = {}  # filled once the storefront's origin is allowed
    with luneo_server() as (api, data), storefront(pages) as host:
        key, product_id = allow_origin(api, data, host)
        pages.update(host_pages(api, key, product_id))
        check_widget_renders(f"{host}/widget.html")
        for page in ("plain", "widget"):  # warm-up: fonts, caches, the first render
            run_lighthouse(binary, f"{host}/{page}.html", args.preset)
        for i in range(args.runs):
            for page in ("plain", "widget"):
                r = run_lighthouse(binary, f"{host}/{page}.html", args.preset)
                runs[page].append(r)
                print(
                    f"  run {i + 1} {page:<6} score {r['score']:5.1f}  LCP {r['LCP']:6.0f} ms  "
                    f"TBT {r['TBT']:5.0f} ms  CLS {r['CLS']:.3f}",
                    flush=True,
                )
    profile = args.preset or "mobile (default: simulated slow 4G, 4× CPU slowdown)"
    print(f"\nLighthouse 12.2.3, system Chromium, {profile}; medians of {args.runs} runs each")
    med: dict[str, dict[str, float]] = {
        page: {k: statistics.median(r[k] for r in rs) for k in ("score", *METRICS)}
        for page, rs in runs.items()
    }
    for page, m in med.items():
        metrics = "  ".join(
            f"{name} {m[name]:.3f}" if unit == "" else f"{name} {m[name]:.0f} {unit}"
            for name, (_, unit) in METRICS.items()
        )
        print(f"{page + ' page':<12} performance {m['score']:5.1f}   {metrics}")
    diff = med["plain"]["score"] - med["widget"]["score"]
    verdict = "within" if diff <= 3 else ("within Shopify's 10 but above" if diff <= 10 else "ABOVE")
    print(f"widget cost: {diff:+.1f} points ({verdict} the ≤ 3 target; Shopify's limit is 10)")


if __name__ == "__main__":
    main()
