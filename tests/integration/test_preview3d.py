"""Shopper 3D previews (`POST /renders/preview3d`): GLB (Khronos validator) + USDZ (usd-core),
cached by spec_hash (a second call renders nothing), not metered, rate-limited per shopper and per
IP, 409 for a product without a 3D model, 404 for another shopper's or brand's spec."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.integration.demo import seed_catalog

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR_SCRIPT = ROOT / "tools" / "validate_gltf.mjs"
VALIDATOR_PKG = ROOT / "tools" / "node" / "node_modules" / "gltf-validator"
SHOPPER = "shopper-token-preview3d-01"
OTHER_SHOPPER = "shopper-token-preview3d-02"
ROUTE = "/api/v1/renders/preview3d"


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def pk(brand, token: str = SHOPPER) -> dict[str, str]:
    return brand.h("pk", **{"X-Shopper-Token": token})


def photo(size: tuple[int, int] = (800, 600), color: str = "#3366cc") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def shopper_spec(client, brand, product_id: str, inputs: dict[str, Any], token: str = SHOPPER) -> str:
    r = client.post(
        "/api/v1/specs", json={"product_id": product_id, "inputs": inputs}, headers=pk(brand, token)
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["spec_hash"])


def pendant(name: str) -> dict[str, Any]:
    return {"arc_text": {"text": name, "font": "fnt_serif"}, "initial": {"text": name[0].upper()}}


def misses() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("luneo_preview3d_requests_total", {"cache": "miss"}) or 0.0


def fetch_file(client, url: str) -> tuple[bytes, dict[str, str]]:
    parts = urlsplit(url)
    r = client.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 200, r.text
    return r.content, dict(r.headers)


def validate_glb(path: Path) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not VALIDATOR_PKG.exists():
        pytest.skip("Khronos gltf-validator not installed (need node and `npm ci --prefix tools/node`)")
    proc = subprocess.run(
        [node, str(VALIDATOR_SCRIPT), str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def usd_errors(path: Path) -> list[str]:
    from pxr import Usd, UsdValidation

    stage = Usd.Stage.Open(str(path))
    validators = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    return [
        f"{e.GetName()}: {e.GetMessage()}"
        for e in UsdValidation.ValidationContext(validators).Validate(stage)
    ]


def ledger_rows(brand_id: str) -> int:
    from luneo.credits.public import CreditTransaction
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return int(s.execute(sa.select(sa.func.count()).select_from(CreditTransaction)).scalar_one())


def test_shopper_gets_valid_glb_and_usdz_cached_and_unmetered(client, brand_a, cat_a, tmp_path):
    upload = client.post(
        "/api/v1/widget/uploads", headers=pk(brand_a), files={"file": ("me.png", photo(), "image/png")}
    )
    assert upload.status_code in (200, 201), upload.text
    inputs = {"photo": {"kind": "image", "asset_id": upload.json()["asset_id"]}, "name": {"text": "Léa"}}
    spec_hash = shopper_spec(client, brand_a, cat_a["DEMO-MUG"], inputs)
    ledger_before, misses_before = ledger_rows(brand_a.id), misses()

    r = client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cached"] is False and body["quality"] == "preview" and body["spec_hash"] == spec_hash
    assert body["glb"]["content_type"] == "model/gltf-binary"
    assert body["usdz"]["content_type"] == "model/vnd.usdz+zip"
    assert body["poster"]["render_id"].startswith("rnd_") and body["poster"]["status_url"]
    assert misses() == misses_before + 1

    glb, headers = fetch_file(client, body["glb"]["url"])
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-type"] == "model/gltf-binary" and len(glb) == body["glb"]["bytes"]
    path = tmp_path / "mug.glb"
    path.write_bytes(glb)
    report = validate_glb(path)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]
    from luneo.design.writers.gltf import unpack_glb

    doc, binary = unpack_glb(glb)
    prim = doc["meshes"][0]["primitives"][0]
    assert "NORMAL" in prim["attributes"]
    tex = next(m for m in doc["materials"] if m["name"] == "print")["pbrMetallicRoughness"][
        "baseColorTexture"
    ]
    image = doc["images"][doc["textures"][tex["index"]]["source"]]
    view = doc["bufferViews"][image["bufferView"]]
    with Image.open(io.BytesIO(binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]])) as im:
        assert im.format == "JPEG" and max(im.size) == body["texture_px"] == 1024

    usdz, headers = fetch_file(client, body["usdz"]["url"])
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    upath = tmp_path / "mug.usdz"
    upath.write_bytes(usdz)
    with zipfile.ZipFile(io.BytesIO(usdz)) as zf:
        names = zf.namelist()
        assert names[0].endswith(".usdc") and "textures/design.jpg" in names
        for info in zf.infolist():  # USDZ: stored, 64-byte aligned data, no clock in the bytes
            assert info.compress_type == zipfile.ZIP_STORED and info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)) % 64 == 0
    from pxr import Usd, UsdShade

    stage = Usd.Stage.Open(str(upath))
    assert stage is not None and usd_errors(upath) == []
    files = [
        UsdShade.Shader(p).GetInput("file").Get().path
        for p in stage.Traverse()
        if p.IsA(UsdShade.Shader) and UsdShade.Shader(p).GetInput("file")
    ]
    assert files == ["textures/design.jpg"]

    again = client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a))
    assert again.status_code == 200 and again.json()["cached"] is True
    assert again.json()["glb"]["sha256"] == body["glb"]["sha256"]
    assert misses() == misses_before + 1  # the second call rendered nothing
    assert ledger_rows(brand_a.id) == ledger_before  # not metered: no credit transaction at all

    status = client.get(f"/api/v1/renders/{body['render_id']}/status", headers=pk(brand_a))
    assert status.status_code == 200 and status.json()["spec_hash"] == spec_hash
    assert set(status.json()["outputs"]) == {"glb", "usdz"}
    image = client.get(f"/api/v1/renders/{body['render_id']}/preview", headers=pk(brand_a))
    assert image.status_code == 409 and image.json()["code"] == "render_not_an_image"


@pytest.mark.parametrize("sku", ["DEMO-PENDANT", "DEMO-PHONE", "DEMO-CARD"])
def test_every_3d_demo_product_previews(client, brand_a, cat_a, sku, tmp_path):
    photo_id = ""
    if sku == "DEMO-PHONE":
        up = client.post(
            "/api/v1/widget/uploads",
            headers=pk(brand_a),
            files={"file": ("me.png", photo((1300, 2600)), "image/png")},
        )
        assert up.status_code in (200, 201), up.text
        photo_id = up.json()["asset_id"]
    inputs = {
        "DEMO-PENDANT": pendant("Emma"),
        "DEMO-PHONE": {"photo": {"kind": "image", "asset_id": photo_id}, "initials": {"text": "AB"}},
        "DEMO-CARD": {"name": {"text": "Ada Lovelace"}, "title": {"text": "Engineer"}},
    }[sku]
    spec_hash = shopper_spec(client, brand_a, cat_a[sku], inputs)
    r = client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a))
    assert r.status_code == 200, r.text
    glb, _ = fetch_file(client, r.json()["glb"]["url"])
    path = tmp_path / "model.glb"
    path.write_bytes(glb)
    assert validate_glb(path)["issues"]["numErrors"] == 0
    usdz, _ = fetch_file(client, r.json()["usdz"]["url"])
    upath = tmp_path / "model.usdz"
    upath.write_bytes(usdz)
    assert usd_errors(upath) == []


def test_product_without_3d_model_is_409(client, brand_a, cat_a):
    spec_hash = shopper_spec(client, brand_a, cat_a["DEMO-TSHIRT"], {"slogan": {"text": "Bonjour"}})
    before = misses()
    r = client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "no_3d_model" and r.json()["product_id"] == cat_a["DEMO-TSHIRT"]
    assert misses() == before


def test_other_shoppers_and_other_brands_specs_are_404(client, brand_a, brand_b, cat_a):
    seed_catalog(brand_b)
    spec_hash = shopper_spec(client, brand_a, cat_a["DEMO-PENDANT"], pendant("Zoé"))
    ghost = "0" * 64
    for headers in (pk(brand_b), brand_b.h("sk"), pk(brand_a, OTHER_SHOPPER)):
        r = client.post(ROUTE, json={"spec_hash": spec_hash}, headers=headers)
        r_ghost = client.post(ROUTE, json={"spec_hash": ghost}, headers=headers)
        assert r.status_code == r_ghost.status_code == 404, r.text
        assert r.json()["code"] == r_ghost.json()["code"] == "not_found"
    # once rendered for brand A, the cache still answers nobody else
    assert client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a)).status_code == 200
    assert client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_b)).status_code == 404
    r = client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a, OTHER_SHOPPER))
    assert r.status_code == 404
    assert client.post(ROUTE, json={"spec_hash": spec_hash}, headers=brand_a.h("pk")).status_code == 422


def test_renders_are_rate_limited_per_shopper_and_per_ip(client, brand_a, cat_a, monkeypatch):
    from luneo.rendering.service import get_render_settings

    monkeypatch.setattr(get_render_settings(), "preview3d_shopper", "2/minute")
    monkeypatch.setattr(get_render_settings(), "preview3d_ip", "3/minute")
    specs = [shopper_spec(client, brand_a, cat_a["DEMO-PENDANT"], pendant(n)) for n in ("Ana", "Bob", "Cy")]
    codes = [client.post(ROUTE, json={"spec_hash": h}, headers=pk(brand_a)).status_code for h in specs]
    assert codes == [200, 200, 429]
    over = client.post(ROUTE, json={"spec_hash": specs[2]}, headers=pk(brand_a))
    assert over.json()["code"] == "rate_limited" and int(over.headers["retry-after"]) >= 1
    # a cache hit renders nothing and is never refused
    assert client.post(ROUTE, json={"spec_hash": specs[0]}, headers=pk(brand_a)).status_code == 200
    # another shopper token from the same IP: its own shopper budget, but the IP's is nearly spent
    other = [
        shopper_spec(client, brand_a, cat_a["DEMO-PENDANT"], pendant(n), OTHER_SHOPPER) for n in ("Di", "Ed")
    ]
    codes = [
        client.post(ROUTE, json={"spec_hash": h}, headers=pk(brand_a, OTHER_SHOPPER)).status_code
        for h in other
    ]
    assert codes == [200, 429]


def test_product_with_an_uploaded_glb_previews_in_3d(client, brand_a, tmp_path):
    from tests.unit.design.test_models3d import _uploaded_glb

    up = client.post(
        "/api/v1/assets",
        headers=brand_a.h(),
        data={"kind": "model"},
        files={"file": ("m.glb", _uploaded_glb(), "model/gltf-binary")},
    )
    assert up.status_code == 201, up.text
    product = client.post(
        "/api/v1/products",
        headers=brand_a.h(),
        json={
            "sku": "GLB-3D",
            "name": "Uploaded model",
            "width_mm": 80,
            "height_mm": 50,
            "model3d": {"kind": "glb", "asset_id": up.json()["id"], "print_material": "print"},
        },
    )
    assert product.status_code == 201, product.text
    spec_hash = shopper_spec(client, brand_a, product.json()["id"], {})
    r = client.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a))
    assert r.status_code == 200, r.text
    glb, _ = fetch_file(client, r.json()["glb"]["url"])
    path = tmp_path / "uploaded.glb"
    path.write_bytes(glb)
    assert validate_glb(path)["issues"]["numErrors"] == 0
    from luneo.design.writers.gltf import unpack_glb

    doc, _ = unpack_glb(glb)
    assert {m["name"] for m in doc["materials"]} >= {"print", "label"}  # the model's other material kept
    usdz, _ = fetch_file(client, r.json()["usdz"]["url"])
    upath = tmp_path / "uploaded.usdz"
    upath.write_bytes(usdz)
    assert usd_errors(upath) == []
    with zipfile.ZipFile(io.BytesIO(usdz)) as zf:
        assert {"textures/design.jpg", "textures/label.png"} <= set(zf.namelist())


def test_render_limits_are_shared_through_redis(settings, brand_a, monkeypatch):
    """With Redis configured, every process counts against the same per-shopper budget."""
    import redis

    from tests.conftest import REDIS_URL

    if not REDIS_URL:
        pytest.skip("Redis not configured (set LUNEO_TEST_REDIS_URL)")
    import uuid

    from fastapi.testclient import TestClient

    from luneo.app import create_app
    from luneo.platform import config
    from luneo.rendering import preview3d
    from luneo.rendering.service import get_render_settings

    monkeypatch.setattr(preview3d, "redis_url", lambda: REDIS_URL)  # the counters only (jobs stay local)
    monkeypatch.setattr(get_render_settings(), "preview3d_shopper", "2/minute")
    monkeypatch.setattr(get_render_settings(), "preview3d_ip", "100000/minute")
    cat = seed_catalog(brand_a)
    token = f"shopper-redis-{uuid.uuid4().hex[:16]}"  # a fresh counter in the shared Redis
    codes = []
    for names in (("Ana", "Bob"), ("Cy",)):  # two applications: two processes' worth of state
        with TestClient(create_app(config.get_settings(), start_workers=False)) as c:
            for name in names:
                spec_hash = shopper_spec(c, brand_a, cat["DEMO-PENDANT"], pendant(name), token)
                codes.append(
                    c.post(ROUTE, json={"spec_hash": spec_hash}, headers=pk(brand_a, token)).status_code
                )
    assert codes == [200, 200, 429]
    assert redis.Redis.from_url(REDIS_URL).keys("*preview3d*"), "the counters live in Redis"
