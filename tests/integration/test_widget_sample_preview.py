"""Issue 13 §2/§15: the widget config carries the ready preview of the brand's sample design, so
the first image shows right after the config (no preview round trip), and it is exactly the
render the widget's own first preview request gives (same spec, same options, same bytes)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.test_rendering import run_jobs

API = "/api/v1"
SHOPPER = "shopper-sample-preview-0123456789"


@pytest.fixture(autouse=True)
def fresh(settings, monkeypatch):
    from luneo.platform.storage import set_storage
    from luneo.widget import service

    set_storage(None)
    service.config_cache.clear()
    monkeypatch.setattr(service, "SAMPLE_RECHECK_S", 0.0, raising=False)  # no wait for the re-check in tests
    yield
    service.config_cache.clear()
    set_storage(None)


def _config(client, brand, product_id: str) -> dict[str, Any]:
    r = client.get(f"{API}/widget/config/{product_id}", headers=brand.h("pk"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _widget_first_preview(client, brand, cfg: dict[str, Any], db) -> tuple[str, str]:
    """What the widget does on load before the shopper types: upload the sample photo as the
    shopper's, send each zone's sample, ask the spec and the 720 px PNG preview (mockup when the
    product has one). → (spec_hash, render_id)."""
    h = brand.h("pk", **{"X-Shopper-Token": SHOPPER})
    inputs: dict[str, Any] = {}
    for z in cfg["zones"]:
        sample = z["sample"] or {}
        if z["kind"] == "text" and sample.get("text"):
            inputs[z["key"]] = {"kind": "text", "text": sample["text"]}
        if z["kind"] == "image" and sample.get("photo_url"):
            photo = client.get(sample["photo_url"]).content
            up = client.post(f"{API}/widget/uploads", headers=h, files={"file": ("sample.jpg", photo)})
            assert up.status_code == 201, up.text
            inputs[z["key"]] = {"kind": "image", "asset_id": up.json()["asset_id"], "fit": "cover"}
        if z["kind"] == "colour":
            colors = z["rules"].get("allowed_colors") or cfg["product"]["palette"]
            inputs[z["key"]] = {"kind": "colour", "color": z["default_color"] or colors[0]}
    body = {"product_id": cfg["product"]["id"], "inputs": inputs}
    spec = client.post(f"{API}/specs", json=body, headers=h)
    assert spec.status_code in (200, 201), spec.text
    mockup = cfg["product"]["mockup_px"] is not None
    pr = client.post(
        f"{API}/renders/preview",
        json={"spec_hash": spec.json()["spec_hash"], "width": 720, "format": "png", "mockup": mockup},
        headers=h,
    )
    assert pr.status_code in (200, 202), pr.text
    run_jobs(db)
    return str(spec.json()["spec_hash"]), str(pr.json()["render_id"])


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("sku", ["DEMO-PHONE", "DEMO-PENDANT"])
def test_config_carries_the_sample_preview_once_rendered(client, brand_a, cat_a, db, sku):
    pid = cat_a[sku]
    assert _config(client, brand_a, pid)["sample_preview"] is None  # not rendered yet: no URL
    spec_hash, render_id = _widget_first_preview(client, brand_a, _config(client, brand_a, pid), db)

    cfg = _config(client, brand_a, pid)
    sample = cfg["sample_preview"]
    assert sample is not None
    assert sample["spec_hash"] == spec_hash and sample["render_id"] == render_id
    img = client.get(_path(sample["url"]))  # an <img src>: no credential
    assert img.status_code == 200, img.text
    assert img.headers["content-type"] == "image/png"
    assert "immutable" in img.headers["cache-control"]
    h = brand_a.h("pk", **{"X-Shopper-Token": SHOPPER})
    shown = client.get(f"{API}/renders/{render_id}/preview", headers=h)
    assert shown.status_code == 200
    assert hashlib.sha256(img.content).hexdigest() == hashlib.sha256(shown.content).hexdigest()
    import io

    from PIL import Image

    with Image.open(io.BytesIO(img.content)) as im:
        assert [im.width, im.height] == [sample["width_px"], sample["height_px"]]
        assert im.width == 720
    # the same URL all day (the browser and a CDN keep the file)
    from luneo.widget import service

    service.config_cache.clear()
    assert _config(client, brand_a, pid)["sample_preview"]["url"] == sample["url"]


def test_sample_preview_is_brand_scoped(client, brand_a, brand_b, cat_a, db):
    pid = cat_a["DEMO-PENDANT"]
    _widget_first_preview(client, brand_a, _config(client, brand_a, pid), db)
    assert _config(client, brand_a, pid)["sample_preview"] is not None
    other = client.get(f"{API}/widget/config/{pid}", headers=brand_b.h("pk"))
    assert other.status_code == 404
    assert "sample_preview" not in other.text


def test_a_changed_sample_drops_the_old_preview_until_the_new_one_is_rendered(client, brand_a, cat_a, db):
    pid = cat_a["DEMO-PENDANT"]
    _widget_first_preview(client, brand_a, _config(client, brand_a, pid), db)
    before = _config(client, brand_a, pid)["sample_preview"]
    assert before is not None
    zones = client.get(f"{API}/products/{pid}", headers=brand_a.h()).json()["zones"]
    text_zone = next(z for z in zones if z["kind"] == "text" and (z.get("sample") or {}).get("text"))
    r = client.patch(
        f"{API}/products/{pid}/zones/{text_zone['id']}", json={"sample": {"text": "Noa"}}, headers=brand_a.h()
    )
    assert r.status_code == 200, r.text
    cfg = _config(client, brand_a, pid)
    assert cfg["sample_preview"] is None  # the old image is not this sample's any more
    spec_hash, _render_id = _widget_first_preview(client, brand_a, cfg, db)
    after = _config(client, brand_a, pid)["sample_preview"]
    assert after is not None and after["spec_hash"] == spec_hash != before["spec_hash"]


def test_a_product_whose_sample_photo_is_elsewhere_gets_no_sample_preview(client, brand_a, cat_a, db):
    pid = cat_a["DEMO-PHONE"]
    _widget_first_preview(client, brand_a, _config(client, brand_a, pid), db)
    assert _config(client, brand_a, pid)["sample_preview"] is not None
    zones = client.get(f"{API}/products/{pid}", headers=brand_a.h()).json()["zones"]
    photo = next(z for z in zones if z["kind"] == "image")
    r = client.patch(
        f"{API}/products/{pid}/zones/{photo['id']}",
        json={"sample": {"photo_url": "https://cdn.example/photo.jpg"}},
        headers=brand_a.h(),
    )
    assert r.status_code == 200, r.text
    assert _config(client, brand_a, pid)["sample_preview"] is None  # never fetched by the server
