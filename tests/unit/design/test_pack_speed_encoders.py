"""Fast print encoders (issue 16, item 10): same pixels, valid files, same bytes on every run.

- `pngenc.encode_png` (Up filter, deflate in parallel pieces) decodes to exactly its input, for
  every mode, across piece boundaries, whatever the number of threads;
- the print PNG holds exactly the rasteriser's pixels and its sRGB / pHYs tags;
- the PDF embeds an RGB PNG's own IDAT stream (no re-encoding) and, with alpha, a soft mask;
  rasterised by pdftoppm, the page is identical to reportlab's `drawImage` path; qpdf accepts it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path as FsPath

import numpy as np
import pytest
from PIL import Image

from luneo.design.bleed import bleed_scene
from luneo.design.writers import pdf as pdf_writer
from luneo.design.writers import pngenc, raster
from luneo.design.writers.pdf import write_pdf
from luneo.design.writers.svg import write_svg
from luneo.manufacturing.export import PackOptions, export_spec

from .production_scenes import demo_scene, image_item, make_png, text_item
from .scene_fixtures import MemoryResources, photo_bytes, three_zone_spec


def _noise(h: int, w: int, c: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = ((x * 7 + y * 3) % 256).astype(np.int16)[..., None].repeat(c, axis=2)
    return np.clip(base + rng.integers(-20, 20, size=(h, w, c)), 0, 255).astype(np.uint8)


def _decode(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as im:
        im.load()
        return im.copy()


@pytest.mark.parametrize(("mode", "channels"), [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
def test_png_encoder_is_lossless_for_every_mode(mode: str, channels: int) -> None:
    arr = _noise(37, 53, channels)
    img = Image.fromarray(arr[..., 0] if channels == 1 else arr, mode)
    out = _decode(pngenc.encode_png(img))
    assert out.mode == mode
    assert np.array_equal(np.asarray(out), np.asarray(img))


def test_png_encoder_across_pieces_is_lossless_and_thread_count_independent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arr = _noise(700, 600, 4)  # 1.68 MB of filtered rows: 7 pieces of 256 KiB
    monkeypatch.setattr(pngenc, "PIECE_BYTES", 256 * 1024)
    outs = []
    for workers in (1, 3):
        pool = ThreadPoolExecutor(workers)
        monkeypatch.setattr(pngenc, "_executor", lambda pool=pool: pool)
        outs.append(pngenc.encode_png(arr, dpi=300))
        pool.shutdown()
    assert outs[0] == outs[1]  # deterministic: pieces depend on the image only
    img = _decode(outs[0])
    assert img.mode == "RGBA" and np.array_equal(np.asarray(img), arr)
    assert round(img.info["dpi"][0]) == 300
    # the IDAT stream is one valid zlib stream (checksums included)
    idat = pngenc._png_header(outs[0])
    assert idat is not None
    raw = zlib.decompress(idat[5])
    assert len(raw) == 700 * (1 + 600 * 4)


def test_png_encoder_rejects_other_modes() -> None:
    with pytest.raises(ValueError):
        pngenc.encode_png(Image.new("CMYK", (4, 4)))
    with pytest.raises(ValueError):
        pngenc.encode_png(np.zeros((4, 4, 3), np.uint16))


def test_print_png_holds_the_rasterisers_pixels_and_tags() -> None:
    scene = demo_scene()
    png = raster.write_print_png(scene, 150)
    assert png == raster.write_print_png(scene, 150)
    w, h = raster.print_size_px(scene, 150)
    expected = raster.rasterise(write_svg(bleed_scene(scene)), w, h)
    img = _decode(png)
    assert img.mode == "RGBA" and img.size == (w, h)
    assert np.array_equal(np.asarray(img), np.asarray(expected))
    assert round(img.info["dpi"][0]) == 150
    assert b"sRGB" in png[:200] and b"gAMA" in png[:200] and b"cHRM" in png[:200]


def _pdftoppm(data: bytes, tmp_path: FsPath, name: str, dpi: int = 72) -> np.ndarray:
    assert shutil.which("pdftoppm"), (
        "pdftoppm is needed (scripts/install-test-tools.sh installs poppler-utils)"
    )
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(data)
    out = tmp_path / name
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(src), str(out)], check=True)
    with Image.open(out.with_suffix(".png")) as im:
        return np.asarray(im.convert("RGB"))


def _qpdf_ok(data: bytes, tmp_path: FsPath) -> None:
    assert shutil.which("qpdf"), "qpdf is needed (scripts/install-test-tools.sh installs it)"
    p = tmp_path / "check.pdf"
    p.write_bytes(data)
    subprocess.run(["qpdf", "--check", str(p)], check=True, capture_output=True)


def _rgb_scene():  # type: ignore[no-untyped-def]
    photo = image_item()
    rgb_png = make_png(160, 100, alpha=False)
    from dataclasses import replace

    rgb = replace(photo, zone_key="logo", png=rgb_png, width_px=160, height_px=100, x_mm=10.0, y_mm=20.0)
    return demo_scene(items=(text_item(), rgb, photo))


def test_pdf_embeds_the_rgb_pngs_own_stream_and_renders_as_drawimage(
    tmp_path: FsPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = _rgb_scene()
    fast = write_pdf(scene, cmyk=False)
    assert fast == write_pdf(scene, cmyk=False)
    rgb_item = next(i for i in scene.items if getattr(i, "zone_key", "") == "logo")
    head = pngenc._png_header(rgb_item.png)
    assert head is not None
    assert head[5] in fast  # the PNG's deflated pixels, as they are: no re-encoding
    assert b"/SMask" in fast  # the other photo has alpha
    _qpdf_ok(fast, tmp_path)
    monkeypatch.setattr(pdf_writer, "draw_png", lambda *a, **k: False)  # reportlab's drawImage path
    slow = write_pdf(scene, cmyk=False)
    assert slow != fast
    for dpi in (36, 100):
        assert np.array_equal(
            _pdftoppm(fast, tmp_path, f"fast{dpi}", dpi), _pdftoppm(slow, tmp_path, f"slow{dpi}", dpi)
        )


def test_laser_and_cmyk_pdfs_stay_valid(tmp_path: FsPath) -> None:
    scene = _rgb_scene()
    for data in (write_pdf(scene, laser=True), write_pdf(scene, cmyk=True)):
        _qpdf_ok(data, tmp_path)


def test_export_pack_is_byte_deterministic_and_pdf_renders_as_before(
    tmp_path: FsPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo product through the real scene builder (JPEG upload → cropped RGB PNG item)."""
    res = MemoryResources()
    spec = three_zone_spec(res, text="Zoé", bleed_mm=3, photo=photo_bytes(640, 480))
    doc = spec.model_dump(mode="json")
    opts = PackOptions(order_id="ord_1", order_item_id="item_1")
    a = export_spec(doc, "sha256:" + "cd" * 32, res, opts)
    b = export_spec(doc, "sha256:" + "cd" * 32, res, opts)
    assert a.data == b.data
    files = {f.name: f.data for f in a.files}
    photo = next(i for i in a.scene.items if getattr(i, "zone_key", "") == "photo")
    head = pngenc._png_header(photo.png)  # type: ignore[union-attr]
    assert head is not None and head[3] == 2  # an RGB item: embedded as it is
    assert head[5] in files["design.pdf"]
    _qpdf_ok(files["design.pdf"], tmp_path)
    monkeypatch.setattr(pdf_writer, "draw_png", lambda *a, **k: False)
    before = write_pdf(a.scene, cmyk=False)
    assert np.array_equal(
        _pdftoppm(files["design.pdf"], tmp_path, "pack", 60), _pdftoppm(before, tmp_path, "before", 60)
    )
    dpi = spec.product.output_dpi
    w, h = raster.print_size_px(a.scene, dpi)
    expected = raster.rasterise(write_svg(bleed_scene(a.scene)), w, h)
    assert np.array_equal(np.asarray(_decode(files["design.png"])), np.asarray(expected))


def test_export_specs_on_the_process_pool_matches_export_spec() -> None:
    """Several items at once (process pool): the same packs, in order, as one call per item."""
    from luneo.manufacturing.export import PackJob, export_specs

    res = MemoryResources()
    jobs = [
        PackJob(
            three_zone_spec(res, text=name, photo=photo_bytes(320 + 40 * i, 240)).model_dump(mode="json"),
            "sha256:" + f"{i:02d}" * 32,
            PackOptions(order_id="ord_1", order_item_id=f"item_{i}"),
            {"snapshot_id": f"snp_{i}"},
        )
        for i, name in enumerate(["Zoé", "Lucas", "Emma"])
    ]
    pooled = export_specs(jobs, res, workers=2)
    serial = [export_spec(j.spec_doc, j.spec_hash, res, j.options, j.meta) for j in jobs]
    assert [p.data for p in pooled] == [p.data for p in serial]
    assert [p.manifest for p in pooled] == [p.manifest for p in serial]
    assert export_specs(jobs, res, workers=1)[2].data == serial[2].data
