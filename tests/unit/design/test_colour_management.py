"""Colour management: embedded ICC profiles honoured, CMYK through the shipped press profiles, PDF/X-4.

Test images are made here (smooth photo-like fields) and tagged with real profiles: Adobe RGB
(`data/compatibleWithAdobeRGB1998.icc`, Zlib, from Debian's icc-profiles-free) and the shipped
uncoated FOGRA29 press profile for the CMYK JPEG. The reference is LittleCMS's conversion of the
file's pixels through its own profile to CIELAB; ΔE2000 compares the decoded sRGB against it.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib
from pathlib import Path as FsPath

import numpy as np
import pytest
from PIL import Image

from luneo.design import colour
from luneo.design.scene_builder import decode_image
from luneo.design.writers.pdf import write_pdf
from luneo.design.writers.tiff import rgb_to_cmyk
from tests.unit.design.test_bleed import scene as bleed_test_scene

DATA = FsPath(__file__).parent / "data"
ADOBE_RGB = (DATA / "compatibleWithAdobeRGB1998.icc").read_bytes()

# Adobe RGB (1998) and sRGB primaries → XYZ (D65), to tell which pixels sRGB can hold at all.
_ADOBE_TO_XYZ = np.array(
    [[0.5767309, 0.1855540, 0.1881852], [0.2973769, 0.6273491, 0.0752741], [0.0270343, 0.0706872, 0.9911085]]
)
_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)

# Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1 L2 a2 b2 ΔE00 — the 34 published test pairs.
SHARMA = """
50.0000 2.6772 -79.7751 50.0000 0.0000 -82.7485 2.0425
50.0000 3.1571 -77.2803 50.0000 0.0000 -82.7485 2.8615
50.0000 2.8361 -74.0200 50.0000 0.0000 -82.7485 3.4412
50.0000 -1.3802 -84.2814 50.0000 0.0000 -82.7485 1.0000
50.0000 -1.1848 -84.8006 50.0000 0.0000 -82.7485 1.0000
50.0000 -0.9009 -85.5211 50.0000 0.0000 -82.7485 1.0000
50.0000 0.0000 0.0000 50.0000 -1.0000 2.0000 2.3669
50.0000 -1.0000 2.0000 50.0000 0.0000 0.0000 2.3669
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0009 7.1792
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0010 7.1792
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0011 7.2195
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0012 7.2195
50.0000 -0.0010 2.4900 50.0000 0.0009 -2.4900 4.8045
50.0000 -0.0010 2.4900 50.0000 0.0010 -2.4900 4.8045
50.0000 -0.0010 2.4900 50.0000 0.0011 -2.4900 4.7461
50.0000 2.5000 0.0000 50.0000 0.0000 -2.5000 4.3065
50.0000 2.5000 0.0000 73.0000 25.0000 -18.0000 27.1492
50.0000 2.5000 0.0000 61.0000 -5.0000 29.0000 22.8977
50.0000 2.5000 0.0000 56.0000 -27.0000 -3.0000 31.9030
50.0000 2.5000 0.0000 58.0000 24.0000 15.0000 19.4535
50.0000 2.5000 0.0000 50.0000 3.1736 0.5854 1.0000
50.0000 2.5000 0.0000 50.0000 3.2972 0.0000 1.0000
50.0000 2.5000 0.0000 50.0000 1.8634 0.5757 1.0000
50.0000 2.5000 0.0000 50.0000 3.2592 0.3350 1.0000
60.2574 -34.0099 36.2677 60.4626 -34.1751 39.4387 1.2644
63.0109 -31.0961 -5.8663 62.8187 -29.7946 -4.0864 1.2630
61.2901 3.7196 -5.3901 61.4292 2.2480 -4.9620 1.8731
35.0831 -44.1164 3.7933 35.0232 -40.0716 1.5901 1.8645
22.7233 20.0904 -46.6940 23.0331 14.9730 -42.5619 2.0373
36.4612 47.8580 18.3852 36.2715 50.5065 21.2231 1.4146
90.8027 -2.0831 1.4410 91.1528 -1.6435 0.0447 1.4441
90.9257 -0.5406 -0.9208 88.6381 -0.8985 -0.7239 1.5381
6.7747 -0.2908 -2.4247 5.8714 -0.0985 -2.2286 0.6377
2.0776 0.0795 -1.1350 0.9033 -0.0636 -0.5514 0.9082
"""

# A brand palette of solid colours (what shoppers pick for text and zones).
PALETTE = [
    "#c8102e",
    "#1f5f7a",
    "#f2a900",
    "#2e7d32",
    "#6a1b9a",
    "#ff7f50",
    "#808080",
    "#f5f0e6",
    "#003f87",
    "#d4a5a5",
]


def photo(seed: int, channels: int, lo: int, hi: int, n: int = 96) -> np.ndarray:
    """A smooth photo-like field (sums of sines per channel), values in lo..hi."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] / n
    planes = []
    for _ in range(channels):
        f, ph = rng.uniform(1, 4, 2), rng.uniform(0, 6.3, 2)
        v = 0.5 + 0.25 * np.sin(2 * np.pi * f[0] * xx + ph[0]) + 0.25 * np.cos(2 * np.pi * f[1] * yy + ph[1])
        planes.append(lo + (hi - lo) * v)
    return np.clip(np.rint(np.stack(planes, -1)), 0, 255).astype(np.uint8)


def _jpeg(a: np.ndarray, mode: str, icc: bytes) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, mode).save(buf, "JPEG", quality=95, icc_profile=icc)
    return buf.getvalue()


def test_ciede2000_matches_sharma_2005_pairs() -> None:
    rows = np.array([[float(v) for v in line.split()] for line in SHARMA.strip().splitlines()])
    assert rows.shape == (34, 7)
    np.testing.assert_allclose(colour.delta_e2000(rows[:, :3], rows[:, 3:6]), rows[:, 6], atol=5e-5)
    np.testing.assert_allclose(colour.delta_e2000(rows[:, 3:6], rows[:, :3]), rows[:, 6], atol=5e-5)


def test_adobe_rgb_photo_is_converted_with_its_profile() -> None:
    a = photo(1, 3, 20, 235)
    data = _jpeg(a, "RGB", ADOBE_RGB)
    with Image.open(io.BytesIO(data)) as raw:
        pixels = raw.convert("RGB")
    reference = colour.to_lab(pixels, ADOBE_RGB, "RGB")
    before = colour.delta_e2000(reference, colour.to_lab(pixels))  # profile ignored: numbers read as sRGB
    after = colour.delta_e2000(reference, colour.to_lab(decode_image(data)))
    # Pixels sRGB can hold at all (the rest is clipped whatever one does).
    lin = (np.asarray(pixels) / 255.0) ** 2.19921875
    srgb_lin = lin @ _ADOBE_TO_XYZ.T @ np.linalg.inv(_SRGB_TO_XYZ).T
    in_gamut = ((srgb_lin > -0.002) & (srgb_lin < 1.002)).all(-1)
    assert in_gamut.mean() > 0.7
    assert before.mean() > 3.0  # the defect: ~4.6 mean
    assert after.mean() < 1.5, after.mean()
    assert after[in_gamut].max() < 5.0, after[in_gamut].max()


def test_cmyk_jpeg_is_converted_with_its_embedded_profile() -> None:
    k = photo(2, 4, 0, 200)
    k[..., 3] //= 2
    embedded = colour.cmyk_profile_bytes("uncoated")  # not the default (coated): proves the tag is read
    data = _jpeg(k, "CMYK", embedded)
    with Image.open(io.BytesIO(data)) as raw:
        raw.load()
        reference = colour.to_lab(raw, embedded, "CMYK")
        naive = raw.convert("RGB")
    before = colour.delta_e2000(reference, colour.to_lab(naive))
    after = colour.delta_e2000(reference, colour.to_lab(decode_image(data)))
    assert before.mean() > 5.0
    assert after.mean() < 1.5, after.mean()
    assert after.max() < 5.0, after.max()


def test_untagged_and_srgb_images_are_unchanged() -> None:
    a = photo(3, 3, 0, 255)
    buf = io.BytesIO()
    Image.fromarray(a, "RGB").save(buf, "PNG")
    assert np.array_equal(np.asarray(decode_image(buf.getvalue())), a)
    from PIL import ImageCms

    srgb_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = io.BytesIO()
    Image.fromarray(a, "RGB").save(tagged, "PNG", icc_profile=srgb_icc)
    assert np.array_equal(np.asarray(decode_image(tagged.getvalue())), a)


def test_alpha_survives_conversion() -> None:
    a = photo(4, 4, 0, 255)
    img = Image.fromarray(a, "RGBA")
    img.info["icc_profile"] = ADOBE_RGB
    out = colour.to_srgb(img)
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[..., 3], a[..., 3])


def _palette_de(convert: object, profile: str) -> np.ndarray:
    rgb = [tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in PALETTE]
    img = Image.new("RGB", (len(rgb), 1))
    img.putdata(rgb)
    want = colour.to_lab(img)
    cmyk = Image.new("CMYK", (len(rgb), 1))
    cmyk.putdata([tuple(round(v * 255) for v in convert(*(c / 255 for c in px))) for px in rgb])  # type: ignore[operator]
    printed = colour.to_lab(cmyk, colour.cmyk_profile_bytes(profile), "CMYK")
    return colour.delta_e2000(want, printed)


@pytest.mark.parametrize(("profile", "bound"), [("coated", 3.0), ("uncoated", 8.0)])
def test_palette_through_the_output_profile(profile: str, bound: float) -> None:
    """ΔE2000 between each palette colour and how the press prints its CMYK (measured 7.1 → 2.2
    coated; 9.9 → 7.4 uncoated, whose smaller gamut cannot hold the saturated purple and red)."""
    before = _palette_de(rgb_to_cmyk, profile)
    after = _palette_de(lambda r, g, b: colour.srgb_to_cmyk(r, g, b, profile), profile)
    assert after.mean() < before.mean(), (before.mean(), after.mean())
    assert after.mean() < bound, after


# ---------------------------------------------------------------- CMYK PDF = PDF/X-4


def _qdf(pdf: bytes, tmp_path: FsPath) -> bytes:
    assert shutil.which("qpdf"), "qpdf is needed (scripts/install-test-tools.sh installs it)"
    src, out = tmp_path / "in.pdf", tmp_path / "q.pdf"
    src.write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(src)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(src), str(out)], check=True)
    return out.read_bytes()


@pytest.mark.parametrize("profile", ["coated", "uncoated"])
def test_cmyk_pdf_is_pdfx4(profile: str, tmp_path: FsPath) -> None:
    s = bleed_test_scene(crop_marks=True, color_mode="cmyk")
    s = type(s)(**{**{f: getattr(s, f) for f in s.__dataclass_fields__}, "cmyk_profile": profile})
    pdf = write_pdf(s)
    assert pdf.startswith(b"%PDF-1.6")
    q = _qdf(pdf, tmp_path)
    assert b"/GTS_PDFXVersion (PDF/X-4)" in q
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in q
    assert re.search(rb"/OutputIntents \[\s*<<[^]]*/S /GTS_PDFX", q)
    ident = colour.OUTPUT_CONDITIONS[profile][0].encode()
    assert b"/OutputConditionIdentifier (" + ident + b")" in q
    assert b"/TrimBox" in q and b"/BleedBox" in q
    assert b"/Trapped /False" in q
    # The DestOutputProfile is the shipped profile, byte for byte.
    m = re.search(rb"/DestOutputProfile (\d+) 0 R", pdf)
    assert m
    raw = _stream(pdf, int(m.group(1)))
    assert raw == colour.cmyk_profile_bytes(profile)
    # No RGB left: no DeviceRGB, no rg/RG operators in any content stream.
    assert b"DeviceRGB" not in q and b"CalRGB" not in q
    for body in re.findall(rb"stream\n(.*?)endstream", q, re.S):
        assert not re.search(rb"(^|\s)[\d.]+ [\d.]+ [\d.]+ (rg|RG)(\s|$)", body)
    assert re.search(rb"/ColorSpace /DeviceCMYK", q)


def _stream(pdf: bytes, num: int) -> bytes:
    m = re.search(rb"\n%d 0 obj\s*<<(.*?)>>\s*stream\r?\n" % num, pdf, re.S)
    assert m, f"object {num} not found"
    length = int(re.search(rb"/Length (\d+)", m.group(1)).group(1))  # type: ignore[union-attr]
    data = pdf[m.end() : m.end() + length]
    return zlib.decompress(data) if b"FlateDecode" in m.group(1) else data


def test_profiles_differ_per_product_and_are_not_the_naive_formula() -> None:
    coated = colour.srgb_to_cmyk(0.78, 0.06, 0.18, "coated")
    uncoated = colour.srgb_to_cmyk(0.78, 0.06, 0.18, "uncoated")
    assert coated != uncoated
    naive = rgb_to_cmyk(0.78, 0.06, 0.18)
    assert max(abs(a - b) for a, b in zip(coated, naive, strict=True)) > 0.05
    # Neutral grey gets all four inks (grey balance), not K alone as the formula does.
    c, m, y, k = colour.srgb_to_cmyk(0.5, 0.5, 0.5, "coated")
    assert c > 0.05 and m > 0.05 and y > 0.05 and k > 0.05


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError):
        colour.cmyk_profile_bytes("glossy")


def test_cmyk_tiff_is_separated_through_the_products_profile() -> None:
    from luneo.design.writers.tiff import write_cmyk_tiff

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 40, 60)).save(buf, "PNG")
    tifs = {p: write_cmyk_tiff(buf.getvalue(), 300, p) for p in ("coated", "uncoated")}
    for p, tif in tifs.items():
        with Image.open(io.BytesIO(tif)) as im:
            assert im.info["icc_profile"] == colour.cmyk_profile_bytes(p)
    assert tifs["coated"] != tifs["uncoated"]


def test_cmyk_profile_is_a_product_setting() -> None:
    from luneo.catalog.convert import product_def
    from luneo.catalog.models import Product
    from luneo.catalog.schemas import ProductIn

    fields = dict(
        id="prd_x",
        sku="SKU-1",
        name="Card",
        width_mm=85.0,
        height_mm=55.0,
        shape="rect",
        corner_radius_mm=0.0,
        production_method="print",
        bleed_mm=3.0,
        crop_marks=True,
        color_mode="cmyk",
        output_dpi=300,
        min_image_dpi=150,
        min_stroke_mm=0.0,
        background_color="#ffffff",
        palette=[],
        mockup=None,
        model3d=None,
    )
    assert product_def(Product(**fields, cmyk_profile="uncoated"), [], {}).cmyk_profile == "uncoated"
    assert product_def(Product(**fields), [], {}).cmyk_profile == "coated"  # rows from before the column
    assert ProductIn.model_fields["cmyk_profile"].default == "coated"
    with pytest.raises(ValueError):
        ProductIn.model_validate(
            {"sku": "S", "name": "N", "width_mm": 10, "height_mm": 10, "cmyk_profile": "gloss"}
        )
