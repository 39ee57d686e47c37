"""Asset uploads through the API: safety checks, content addressing, listing, deletion."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.unit.catalog import images

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def _upload(client, brand, data, name="f.png", kind=None, ctype="image/png"):
    return client.post(
        f"{API}/assets",
        headers=brand.h(),
        data={"kind": kind} if kind else None,
        files={"file": (name, data, ctype)},
    )


def test_png_upload_answers_asset_and_serves_bytes(client, brand_a):
    r = _upload(client, brand_a, images.png(30, 20))
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["id"].startswith("ast_") and a["content_type"] == "image/png" and a["kind"] == "upload"
    assert (a["width_px"], a["height_px"]) == (30, 20) and a["original_filename"] == "f.png"
    body = client.get(a["url"]).content
    assert len(body) == a["bytes"] and Image.open(io.BytesIO(body)).size == (30, 20)
    import hashlib

    assert hashlib.sha256(body).hexdigest() == a["sha256"]
    assert client.get(f"{API}/assets/{a['id']}", headers=brand_a.h()).json()["sha256"] == a["sha256"]


def test_jpeg_exif_rotation_swaps_dimensions(client, brand_a):
    r = _upload(client, brand_a, images.jpeg_with_orientation(40, 20, 6), "p.jpg", ctype="image/jpeg")
    assert r.status_code == 201, r.text
    assert (r.json()["width_px"], r.json()["height_px"]) == (20, 40)
    assert Image.open(io.BytesIO(client.get(r.json()["url"]).content)).size == (20, 40)


def test_same_file_twice_is_same_asset(client, brand_a, brand_b):
    one = _upload(client, brand_a, images.png(5, 5)).json()
    two = _upload(client, brand_a, images.png(5, 5), "other-name.png").json()
    assert one["id"] == two["id"]
    other_brand = _upload(client, brand_b, images.png(5, 5)).json()
    assert other_brand["id"] != one["id"] and other_brand["sha256"] == one["sha256"]
    # B deleting its copy leaves A's bytes in place (shared content-addressed blob)
    assert client.delete(f"{API}/assets/{other_brand['id']}", headers=brand_b.h()).status_code == 204
    assert client.get(one["url"]).status_code == 200


@pytest.mark.parametrize(
    "maker,status,code",
    [
        (images.lying_png, 422, "image_corrupt"),
        (images.giant_header_png, 422, "decompression_bomb"),
        (lambda: b"this is text, not a picture\n" * 20, 415, "unsupported_media_type"),
        (
            lambda: b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            415,
            "unsupported_media_type",
        ),
    ],
)
def test_bad_uploads_are_refused_and_write_nothing(client, brand_a, settings, maker, status, code):
    r = _upload(client, brand_a, maker())
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert client.get(f"{API}/assets", headers=brand_a.h()).json()["data"] == []
    storage = settings.storage_dir
    assert not storage.exists() or not any(p.is_file() for p in storage.rglob("*"))


def test_compressed_huge_image_refused(client, brand_a):
    r = _upload(client, brand_a, images.zip_bomb_png(8_000))
    assert r.status_code == 422 and r.json()["code"] in ("image_too_large", "decompression_bomb")


def test_oversized_body_is_413(client, brand_a, settings):
    r = _upload(client, brand_a, b"\x89PNG\r\n\x1a\n" + b"\x00" * (settings.max_body_bytes + 10))
    assert r.status_code == 413 and r.json()["code"] in ("payload_too_large", "file_too_large")


def test_missing_file_field_is_422(client, brand_a):
    r = client.post(f"{API}/assets", headers=brand_a.h(), data={"kind": "upload"})
    assert r.status_code == 422


def test_glb_model_upload_and_kinds(client, brand_a):
    r = _upload(client, brand_a, images.glb(), "m.glb", kind="model", ctype="model/gltf-binary")
    assert r.status_code == 201 and r.json()["content_type"] == "model/gltf-binary"
    assert r.json()["width_px"] is None
    assert _upload(client, brand_a, images.png(), kind="model").status_code == 415
    assert _upload(client, brand_a, images.glb(), "m.glb").status_code == 415  # kind=upload wants an image
    assert _upload(client, brand_a, images.png(), kind="derived").status_code == 422  # not a client kind
    glb_id = r.json()["id"]
    p = client.post(
        f"{API}/products",
        headers=brand_a.h(),
        json={
            "sku": "GLB",
            "name": "Custom",
            "width_mm": 50,
            "height_mm": 50,
            "model3d": {"kind": "glb", "asset_id": glb_id, "print_material": "label"},
        },
    )
    assert p.status_code == 201, p.text
    d = client.get(f"{API}/products/{p.json()['id']}/definition", headers=brand_a.h()).json()
    assert d["model3d"] == {
        "kind": "glb",
        "shape": None,
        "asset_sha256": r.json()["sha256"],
        "print_material": "label",
    }
    assert client.delete(f"{API}/assets/{glb_id}", headers=brand_a.h()).status_code == 409


def test_list_assets_paginates_and_filters(client, brand_a):
    ids = {_upload(client, brand_a, images.png(4 + i, 4)).json()["id"] for i in range(3)}
    mock = _upload(client, brand_a, images.png(50, 50), kind="mockup").json()["id"]
    seen, cursor = [], None
    while True:
        page = client.get(
            f"{API}/assets?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=brand_a.h()
        ).json()
        seen += [a["id"] for a in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(seen) == ids | {mock} and len(seen) == 4
    only = client.get(f"{API}/assets?kind=mockup", headers=brand_a.h()).json()["data"]
    assert [a["id"] for a in only] == [mock]
