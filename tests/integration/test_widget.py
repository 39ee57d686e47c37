"""Widget endpoints: config with ETag, shopper uploads, the script and the demo page."""

from __future__ import annotations

import io

from PIL import Image

from tests.integration.demo import seed_catalog


def test_config_has_zones_rules_fonts_and_etag(client, brand_a):
    cat = seed_catalog(brand_a)
    r = client.get(f"/api/v1/widget/config/{cat['DEMO-PENDANT']}", headers=brand_a.h("pk"))
    assert r.status_code == 200, r.text
    cfg = r.json()
    assert cfg["product"]["sku"] == "DEMO-PENDANT" and cfg["product"]["has_3d"] is True
    keys = [z["key"] for z in cfg["zones"]]
    assert keys == ["arc_text", "initial"]
    assert {f["id"] for f in cfg["fonts"]} >= {"fnt_sans", "fnt_serif", "fnt_script"}
    assert r.headers["etag"] == f'"{cfg["version"]}"'
    again = client.get(
        f"/api/v1/widget/config/{cat['DEMO-PENDANT']}",
        headers={**brand_a.h("pk"), "If-None-Match": r.headers["etag"]},
    )
    assert again.status_code == 304
    assert r.headers["access-control-allow-origin"] == brand_a.origin


def test_config_hides_other_brands_and_inactive_products(client, brand_a, brand_b):
    cat = seed_catalog(brand_a)
    assert client.get(f"/api/v1/widget/config/{cat['DEMO-MUG']}", headers=brand_b.h("pk")).status_code == 404
    client.patch(f"/api/v1/products/{cat['DEMO-MUG']}", json={"status": "draft"}, headers=brand_a.h())
    assert client.get(f"/api/v1/widget/config/{cat['DEMO-MUG']}", headers=brand_a.h("pk")).status_code == 404


def test_shopper_upload_checked_like_any_upload(client, brand_a):
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), "#aa3355").save(buf, "PNG")
    r = client.post(
        "/api/v1/widget/uploads",
        files={"file": ("me.png", buf.getvalue(), "image/png")},
        headers=brand_a.h("pk", **{"X-Shopper-Token": "shopper-token-0123456789"}),
    )
    assert r.status_code == 201, r.text
    assert r.json()["width_px"] == 640 and r.json()["asset_id"].startswith("ast_")
    bad = client.post(
        "/api/v1/widget/uploads",
        files={"file": ("x.png", b"not an image at all", "image/png")},
        headers=brand_a.h("pk", **{"X-Shopper-Token": "shopper-token-0123456789"}),
    )
    assert bad.status_code in (415, 422) and bad.headers["content-type"] == "application/problem+json"


def test_script_and_demo_page(client, settings):
    js = client.get("/widget/luneo-widget.js")
    assert js.status_code == 200 and 'customElements.define("luneo-personalizer"' in js.text
    assert client.get("/demo").status_code == 404  # no demo brand in this data dir
    from luneo.platform.database import get_db
    from luneo.seed import seed_demo

    creds = seed_demo(get_db(), settings)
    page = client.get("/demo")
    assert page.status_code == 200 and creds["publishable_key"] in page.text and "DEMO" not in page.text
    assert "<luneo-personalizer" in page.text


def test_widget_scripts_load_as_modules_from_any_store(client, settings):
    """A store on another origin loads the widget with `<script type="module">`, which browsers
    fetch in CORS mode: every script the widget imports answers with `Access-Control-Allow-Origin`."""
    for path in (
        "/widget/luneo-widget.js",
        "/widget/luneo-photo.js",
        "/widget/luneo-designs.js",
        "/widget/luneo-3d.js",
    ):
        r = client.get(path, headers={"Origin": "https://shop.example.com"})
        assert r.status_code == 200, path
        assert r.headers.get("access-control-allow-origin") == "*", path


def test_widget_script_loads_on_a_store_that_a_brand_allows(client, brand_a):
    """The store of a real brand is an allowed origin: the CORS middleware must not add a second
    `Access-Control-Allow-Origin` to the script's `*` (browsers refuse two values: no widget)."""
    for path in ("/widget/luneo-widget.js", "/widget/i18n/en.json"):
        r = client.get(path, headers={"Origin": brand_a.origin})
        assert r.status_code == 200, path
        assert r.headers.get_list("access-control-allow-origin") == ["*"], path
