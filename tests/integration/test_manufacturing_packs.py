"""Export packs (contents, manifest, determinism, validators), preview-vs-PDF agreement (SSIM),
order bundles behind signed expiring URLs, and the `luneo export` / `luneo bulk` commands."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

from tests.integration.demo import upload_png
from tests.integration.factories.manufacturing import (
    CARD,
    PENDANT,
    fetch,
    paid_payload,
    publish,
    run_jobs,
    snapshot,
    unzip,
)

EXPORT = "/api/v1/manufacturing/export-pack"


def _export(client, brand, sid, **opts):
    r = client.post(EXPORT, json={"snapshot_id": sid, **opts}, headers=brand.h())
    assert r.status_code in (200, 202), r.text
    return r


def _built_pack(client, brand, sid, **opts) -> tuple[dict, dict[str, bytes]]:
    first = _export(client, brand, sid, **opts)
    if first.status_code == 202:
        assert first.json()["status"] == "pending" and first.json()["job_id"].startswith("job_")
        assert run_jobs() == ["success"]
    got = client.get(f"{EXPORT}/{first.json()['job_id']}", headers=brand.h())
    assert got.status_code == 200 and got.json()["status"] == "success", got.text
    out = got.json()
    data = fetch(client, out["url"])
    assert data.status_code == 200
    assert hashlib.sha256(data.content).hexdigest() == out["sha256"] and len(data.content) == out["bytes"]
    return out, unzip(data.content)


def _check_manifest(files: dict[str, bytes], sid: str) -> dict:
    manifest = json.loads(files["manifest.json"])
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, f in listed.items():
        assert f["sha256"] == hashlib.sha256(files[name]).hexdigest() and f["bytes"] == len(files[name])
        assert f["width_mm"] > 0 and f["height_mm"] > 0
    meta = manifest["meta"]
    assert meta["snapshot_id"] == sid and len(meta["spec_hash"]) == 64
    return manifest


def test_export_pack_contents_per_method_cached_and_validated(client, brand_a, cat_a):
    pendant = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    out, files = _built_pack(client, brand_a, pendant, quantity=3, kerf_mm=0.15)
    manifest = _check_manifest(files, pendant)
    assert manifest["meta"]["quantity"] == 3 and manifest["meta"]["kerf_mm"] == 0.15
    assert (
        manifest["meta"]["production_method"] == "engrave"
        and manifest["meta"]["product"]["sku"] == "DEMO-PENDANT"
    )
    assert set(files) == {"manifest.json", "design.svg", "design.pdf", "design.png", "design.dxf"}
    png_entry = next(f for f in manifest["files"] if f["name"] == "design.png")
    assert png_entry["dpi"] == 1000
    with Image.open(io.BytesIO(files["design.png"])) as im:
        assert im.mode == "RGBA" and "srgb" in im.info and round(im.info["dpi"][0]) == 1000
        assert im.width == round(30 / 25.4 * 1000)
    assert b'width="30mm"' in files["design.svg"] and b"<text" not in files["design.svg"]
    import ezdxf
    from ezdxf import recover

    doc, auditor = recover.read(io.BytesIO(files["design.dxf"]))
    assert not auditor.has_errors and doc.dxfversion >= "AC1024"
    assert doc.units == ezdxf.units.MM and "ENGRAVE" in doc.layers
    # same snapshot + options → the same pack, answered from cache
    again = client.post(
        EXPORT, json={"snapshot_id": pendant, "quantity": 3, "kerf_mm": 0.15}, headers=brand_a.h()
    )
    assert again.status_code == 200 and again.json()["pack_id"] == out["pack_id"]
    assert again.json()["sha256"] == out["sha256"]
    assert client.get(f"{EXPORT}/{out['pack_id']}", headers=brand_a.h()).json()["sha256"] == out["sha256"]
    # CMYK product: CMYK PDF + TIFF, crop marks, no DXF
    card = snapshot(client, brand_a, cat_a["DEMO-CARD"], CARD)
    _, files = _built_pack(client, brand_a, card)
    _check_manifest(files, card)
    assert set(files) == {
        "manifest.json",
        "design.svg",
        "design.pdf",
        "design.png",
        "design-cmyk.pdf",
        "design-cmyk.tif",
    }
    with Image.open(io.BytesIO(files["design-cmyk.tif"])) as im:
        assert im.mode == "CMYK"
    assert b"/DeviceCMYK" in files["design-cmyk.pdf"] or b" k" in files["design-cmyk.pdf"]
    assert b"/TrimBox" in files["design.pdf"] and b"/BleedBox" in files["design.pdf"]
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip("qpdf not installed: PDF validation skipped")
    for name in ("design.pdf", "design-cmyk.pdf"):
        proc = subprocess.run([qpdf, "--check", "-"], input=files[name], capture_output=True)
        if proc.returncode != 0:  # older qpdf cannot read stdin
            import tempfile

            with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
                tmp.write(files[name])
                tmp.flush()
                proc = subprocess.run([qpdf, "--check", tmp.name], capture_output=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_same_snapshot_gives_byte_identical_pack_files_twice(client, brand_a, cat_a):
    from luneo.designs.models import Snapshot
    from luneo.designs.resources import BrandResources, stored_files
    from luneo.manufacturing.export import PackOptions, export_spec
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    photo = upload_png(client, brand_a, size=(1200, 1000))
    sid = snapshot(
        client, brand_a, cat_a["DEMO-MUG"], {"photo": {"asset_id": photo["id"]}, "name": {"text": "Zoé"}}
    )
    builds = []
    for _ in range(2):
        stored_files.clear()
        with get_db().transaction(write=False) as s:
            bind_tenant(s, brand_a.id)
            snap = s.get(Snapshot, sid)
            builds.append(
                export_spec(
                    snap.spec,
                    snap.spec_hash,
                    BrandResources(s),
                    PackOptions(order_id="o1"),
                    {"snapshot_id": sid},
                )
            )
    a, b = builds
    assert (
        [f.name for f in a.files] == [f.name for f in b.files] == ["design.svg", "design.pdf", "design.png"]
    )
    for fa, fb in zip(a.files, b.files, strict=True):
        assert fa.data == fb.data, fa.name
    assert a.data == b.data and a.sha256 == b.sha256


def _on_white(img: Image.Image) -> np.ndarray:
    rgba = img.convert("RGBA")
    base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    base.alpha_composite(rgba)
    return np.asarray(base.convert("RGB"))


def test_preview_png_and_production_pdf_agree_for_every_demo_product(client, brand_a, cat_a, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) not installed: cannot rasterise the PDF")
    from skimage.metrics import structural_similarity

    from luneo.catalog.seed import DEMO_PRODUCTS
    from luneo.design.writers.pdf import crop_slug_mm, write_pdf
    from luneo.design.writers.raster import write_png
    from luneo.design.writers.svg import canvas_box
    from luneo.designs.models import Snapshot
    from luneo.designs.resources import BrandResources
    from luneo.manufacturing.export import scene_for
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    photo = upload_png(client, brand_a, size=(1400, 1400))
    inputs = {
        "DEMO-PENDANT": PENDANT,
        "DEMO-CARD": CARD,
        "DEMO-MUG": {"photo": {"asset_id": photo["id"]}, "name": {"text": "Zoé"}},
        "DEMO-TSHIRT": {"photo": {"asset_id": photo["id"]}, "slogan": {"text": "Bonjour"}},
        "DEMO-SIGN": {"title": {"text": "Chez Marie"}, "subtitle": {"text": "depuis 1987"}},
        "DEMO-PHONE": {"photo": {"asset_id": photo["id"]}, "initials": {"text": "ZM"}},
    }
    assert set(inputs) == {p["sku"] for p in DEMO_PRODUCTS}
    scores = {}
    for sku, inp in inputs.items():
        sid = snapshot(client, brand_a, cat_a[sku], inp)
        with get_db().transaction(write=False) as s:
            bind_tenant(s, brand_a.id)
            snap = s.get(Snapshot, sid)
            _, scene = scene_for(snap.spec, snap.spec_hash, BrandResources(s))
        _, _, w_mm, h_mm = canvas_box(scene)
        px_per_mm = max(1, round(800 / w_mm))  # whole pixels per mm: bleed and slug land on pixel edges
        dpi = 25.4 * px_per_mm
        pdf_path = tmp_path / f"{sku}.pdf"
        pdf_path.write_bytes(write_pdf(scene, cmyk=False))
        subprocess.run(
            [pdftoppm, "-r", str(dpi), "-png", "-singlefile", str(pdf_path), str(tmp_path / sku)],
            check=True,
            capture_output=True,
        )
        with Image.open(tmp_path / f"{sku}.png") as raster:
            page = raster.convert("RGB")
        slug = round(crop_slug_mm(scene) * px_per_mm)
        w, h = round(w_mm * px_per_mm), round(h_mm * px_per_mm)
        pdf_img = page.crop((slug, slug, slug + w, slug + h))
        with Image.open(io.BytesIO(write_png(scene, w))) as preview_img:
            preview = preview_img.copy()
        if preview.size != pdf_img.size:  # a pixel of rounding between the two rasterisers
            assert abs(preview.size[1] - pdf_img.size[1]) <= 1
            preview = preview.resize(pdf_img.size, Image.Resampling.LANCZOS)
        a, b = _on_white(preview), _on_white(pdf_img)
        scores[sku] = structural_similarity(a, b, channel_axis=2, data_range=255)
    assert len(scores) == 6 and all(v >= 0.99 for v in scores.values()), scores


def test_order_bundle_signed_url_works_expires_and_is_tenant_scoped(
    client, brand_a, brand_b, cat_a, monkeypatch
):
    s1 = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    s2 = snapshot(client, brand_a, cat_a["DEMO-CARD"], CARD)
    publish("order.paid", paid_payload(brand_a, "ord_bundle", [("oi_b1", s1, 1), ("oi_b2", s2, 50)]))
    url = "/api/v1/manufacturing/bundles/ord_bundle"
    early = client.get(url, headers=brand_a.h())
    assert early.status_code == 409 and early.json()["code"] == "bundle_not_ready"
    run_jobs()
    r = client.get(url, headers=brand_a.h())
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out) == {"url", "expires_at", "sha256", "bytes"}
    got = fetch(client, out["url"])
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == out["sha256"]
    files = unzip(got.content)
    assert set(files) == {"manifest.json", "ticket.pdf", "items/oi_b1.zip", "items/oi_b2.zip"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["meta"]["order_id"] == "ord_bundle" and len(manifest["items"]) == 2
    inner = json.loads(unzip(files["items/oi_b2.zip"])["manifest.json"])
    assert inner["meta"]["quantity"] == 50 and inner["meta"]["order_item_id"] == "oi_b2"
    assert client.get(url, headers=brand_a.h()).json()["sha256"] == out["sha256"]  # deterministic
    tampered = out["url"].replace("sig=", "sig=0")
    assert fetch(client, tampered).status_code == 403
    from luneo.platform import storage

    later = time.time() + 2 * 3600
    monkeypatch.setattr(storage.time, "time", lambda: later)
    assert fetch(client, out["url"]).status_code == 403
    monkeypatch.undo()
    assert client.get(url, headers=brand_b.h()).status_code == 404
    assert client.get("/api/v1/manufacturing/bundles/ord_nope", headers=brand_a.h()).status_code == 404


def test_export_cli_writes_each_pack_and_the_bundle(client, brand_a, cat_a, tmp_path):
    from typer.testing import CliRunner

    from luneo.manufacturing.cli import app

    s1 = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    publish(
        "order.paid", paid_payload(brand_a, "ord_cli", [("oi_c1", s1, 1)])
    )  # not exported yet: CLI does it
    res = CliRunner().invoke(app, ["export", "--order", "ord_cli", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "oi_c1.zip").is_file()
    bundle = unzip((tmp_path / "out" / "ord_cli-bundle.zip").read_bytes())
    assert set(bundle) == {"manifest.json", "ticket.pdf", "items/oi_c1.zip"}
    assert bundle["items/oi_c1.zip"] == (tmp_path / "out" / "oi_c1.zip").read_bytes()
    missing = CliRunner().invoke(app, ["export", "--order", "ord_none", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2


def test_bulk_cli_reports_bad_lines_and_writes_good_packs(client, brand_a, cat_a, tmp_path):
    from typer.testing import CliRunner

    from luneo.manufacturing.cli import app

    csv_path = tmp_path / "names.csv"
    csv_path.write_text(
        "arc_text,initial\n"
        "Emma,E\n"
        "Lou,ab\n"  # line 3: two letters in a one-letter zone
        "Zoé,Z\n" + "X" * 40 + ",X\n"  # line 5: too long
        "Jean,J\n"
        "Marie,M\n",
        "utf-8",
    )
    out = tmp_path / "packs"
    res = CliRunner().invoke(
        app,
        [
            "bulk",
            "--product",
            "DEMO-PENDANT",
            "--csv",
            str(csv_path),
            "--out",
            str(out),
            "--brand",
            brand_a.slug,
        ],
    )
    assert res.exit_code == 1, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert sorted({b["line"] for b in summary["bad"]}) == [3, 5]
    assert {(b["line"], b["zone"]) for b in summary["bad"]} >= {(3, "initial"), (5, "arc_text")}
    packs = sorted(p.name for p in out.glob("*.zip"))
    assert len(packs) == 4 and [p[:4] for p in packs] == ["0002", "0004", "0006", "0007"]
    assert "lines 3, 5" in res.output
    meta = json.loads(unzip((out / packs[0]).read_bytes())["manifest.json"])["meta"]
    assert meta["bulk"] == {"csv": "names.csv", "line": 2} and meta["snapshot_id"].startswith("snap_")
    ok_csv = tmp_path / "ok.csv"
    ok_csv.write_text("arc_text,initial\nAda,A\n", "utf-8")
    res = CliRunner().invoke(
        app,
        [
            "bulk",
            "--product",
            "DEMO-PENDANT",
            "--csv",
            str(ok_csv),
            "--out",
            str(tmp_path / "ok"),
            "--brand",
            brand_a.slug,
        ],
    )
    assert res.exit_code == 0, res.output
    bad_sku = CliRunner().invoke(
        app,
        [
            "bulk",
            "--product",
            "NOPE",
            "--csv",
            str(ok_csv),
            "--out",
            str(tmp_path / "n"),
            "--brand",
            brand_a.slug,
        ],
    )
    assert bad_sku.exit_code == 2
