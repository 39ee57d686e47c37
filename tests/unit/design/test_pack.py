"""Production packs and order bundles: manifest, hashes, deterministic ZIP bytes; CMYK TIFF."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from PIL import Image

from luneo.design import colour
from luneo.design.pack import MANIFEST_NAME, PackFile, build_bundle, build_pack
from luneo.design.writers.tiff import rgb_to_cmyk, write_cmyk_tiff
from tests.unit.design.production_scenes import make_png

META = {
    "order_id": "ord_1",
    "item_id": "itm_1",
    "snapshot_id": "snap_1",
    "spec_hash": "sha256:" + "ab" * 32,
    "product": {"id": "p1", "sku": "CARD-90x50"},
    "quantity": 2,
    "production_method": "print",
}


def _files() -> list[PackFile]:
    png = make_png()
    return [
        PackFile("print.png", png, "image/png", 90.0, 50.0, 300),
        PackFile("design.pdf", b"%PDF-1.3 fake", "application/pdf", 96.0, 56.0, None),
        PackFile("cut/outline.dxf", b"0\nEOF\n", "image/vnd.dxf", 90.0, 50.0, None),
    ]


def test_manifest_lists_every_file_with_matching_hashes() -> None:
    data, manifest = build_pack(_files(), META)
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.testzip() is None
    on_disk = json.loads(zf.read(MANIFEST_NAME))
    assert on_disk == manifest
    assert manifest["meta"] == META
    names = [f["name"] for f in manifest["files"]]
    assert names == sorted(names) == ["cut/outline.dxf", "design.pdf", "print.png"]
    for entry in manifest["files"]:
        blob = zf.read(entry["name"])
        assert entry["sha256"] == hashlib.sha256(blob).hexdigest()
        assert entry["bytes"] == len(blob)
    pdf = next(f for f in manifest["files"] if f["name"] == "design.pdf")
    assert pdf == {
        "name": "design.pdf",
        "sha256": hashlib.sha256(b"%PDF-1.3 fake").hexdigest(),
        "bytes": 13,
        "media_type": "application/pdf",
        "width_mm": 96.0,
        "height_mm": 56.0,
        "dpi": None,
    }


def test_manifest_is_canonical_json() -> None:
    data, manifest = build_pack(_files(), META)
    raw = zipfile.ZipFile(io.BytesIO(data)).read(MANIFEST_NAME)
    assert raw == (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def test_zip_bytes_are_deterministic_and_normalised() -> None:
    a, _ = build_pack(_files(), META)
    b, _ = build_pack(list(reversed(_files())), dict(reversed(list(META.items()))))
    assert a == b
    zf = zipfile.ZipFile(io.BytesIO(a))
    assert zf.namelist()[0] == MANIFEST_NAME
    for info in zf.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        compressed_already = info.filename.endswith((".pdf", ".png", ".tif"))
        assert info.compress_type == (zipfile.ZIP_STORED if compressed_already else zipfile.ZIP_DEFLATED)
    changed = [*_files()[:2], PackFile("cut/outline.dxf", b"0\nEOF\n\n", "image/vnd.dxf", 90.0, 50.0, None)]
    assert build_pack(changed, META)[0] != a


@pytest.mark.parametrize("name", ["", "/abs", "../up", "a//b", "manifest.json", "a\\b"])
def test_bad_names_rejected(name: str) -> None:
    with pytest.raises(ValueError):
        build_pack([PackFile(name, b"x", "text/plain", 1, 1)], META)


def test_duplicate_names_rejected() -> None:
    f = PackFile("a.txt", b"x", "text/plain", 1, 1)
    with pytest.raises(ValueError):
        build_pack([f, f], META)


def test_bundle_contains_every_item_pack() -> None:
    p1, _ = build_pack(_files(), META)
    p2, _ = build_pack(_files()[:1], {**META, "item_id": "itm_2"})
    bundle = build_bundle([("itm_2", p2), ("itm_1", p1)], {"order_id": "ord_1"})
    assert bundle == build_bundle([("itm_1", p1), ("itm_2", p2)], {"order_id": "ord_1"})
    zf = zipfile.ZipFile(io.BytesIO(bundle))
    assert zf.namelist() == [MANIFEST_NAME, "items/itm_1.zip", "items/itm_2.zip"]
    manifest = json.loads(zf.read(MANIFEST_NAME))
    assert manifest["meta"] == {"order_id": "ord_1"}
    for entry, original in zip(manifest["items"], (p1, p2), strict=True):
        blob = zf.read(entry["path"])
        assert blob == original
        assert entry["sha256"] == hashlib.sha256(blob).hexdigest()
        inner = zipfile.ZipFile(io.BytesIO(blob))
        assert MANIFEST_NAME in inner.namelist()
    with pytest.raises(ValueError):
        build_bundle([("itm_1", p1), ("itm_1", p2)], {})


def test_cmyk_formula() -> None:
    assert rgb_to_cmyk(0, 0, 0) == (0, 0, 0, 1)
    assert rgb_to_cmyk(1, 1, 1) == (0, 0, 0, 0)
    assert rgb_to_cmyk(1, 0, 0) == (0, 1, 1, 0)
    c, m, y, k = rgb_to_cmyk(0.5, 0.5, 0.5)
    assert (c, m, y) == (0, 0, 0) and k == pytest.approx(0.5)


def test_cmyk_tiff() -> None:
    png = make_png()
    tif = write_cmyk_tiff(png, 300)
    assert tif == write_cmyk_tiff(png, 300)
    with Image.open(io.BytesIO(tif)) as im:
        assert im.format == "TIFF" and im.mode == "CMYK"
        assert im.size == (120, 80)
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)
        # red band (220, 30, 30) separated through the coated output profile, which the TIFF carries
        assert im.getpixel((5, 40)) == colour.srgb_image_to_cmyk(
            Image.new("RGB", (1, 1), (220, 30, 30)), "coated", "perceptual"
        ).getpixel((0, 0))
        assert im.info["icc_profile"] == colour.cmyk_profile_bytes("coated")
        assert im.getpixel((5, 2)) == (0, 0, 0, 0)  # transparent strip → white paper
