"""Upload safety checks (pure): type sniffing, size and pixel limits, full decode, EXIF, GLB."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
import zlib

import pytest
from PIL import Image

from luneo.catalog.assets import MAX_PIXELS, check_upload, sniff
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import problem_from
from tests.unit.catalog import images

LIMIT = 25 * 1024 * 1024


def _code(exc: pytest.ExceptionInfo[DomainError]) -> tuple[int, str]:
    answer = problem_from(exc.value)  # what the API answers for it
    return answer.status, answer.code


def test_sniff_by_magic_bytes_not_name():
    assert sniff(images.png()) == "image/png"
    assert sniff(images.jpeg_with_orientation()) == "image/jpeg"
    assert sniff(images.webp()) == "image/webp"
    assert sniff(images.glb()) == "model/gltf-binary"
    assert sniff(b"hello, I am a .png") is None
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>") is None
    assert sniff(b"GIF89a....") is None


def test_png_is_reencoded_and_hash_is_of_stored_bytes():
    out = check_upload(images.png(9, 7), kind="upload", max_bytes=LIMIT)
    assert (out.content_type, out.width_px, out.height_px) == ("image/png", 9, 7)
    assert Image.open(io.BytesIO(out.data)).size == (9, 7)
    again = check_upload(images.png(9, 7), kind="upload", max_bytes=LIMIT)
    assert hashlib.sha256(again.data).hexdigest() == hashlib.sha256(out.data).hexdigest()


def test_jpeg_exif_orientation_is_applied_and_metadata_stripped():
    out = check_upload(images.jpeg_with_orientation(40, 20, 6), kind="upload", max_bytes=LIMIT)
    assert (out.width_px, out.height_px) == (20, 40)
    img = Image.open(io.BytesIO(out.data))
    assert img.format == "JPEG" and img.size == (20, 40)
    exif = img.getexif()
    assert exif.get(0x0112) in (None, 1)
    assert b"SecretCam" not in out.data


def test_webp_accepted_and_stays_webp():
    out = check_upload(images.webp(12, 5), kind="mockup", max_bytes=LIMIT)
    assert (out.content_type, out.width_px, out.height_px) == ("image/webp", 12, 5)


def test_lying_png_header_is_corrupt():
    with pytest.raises(DomainError) as exc:
        check_upload(images.lying_png(), kind="upload", max_bytes=LIMIT)
    assert _code(exc) == (422, "image_corrupt")


def test_giant_declared_png_is_a_bomb_without_allocating():
    data = images.giant_header_png(50_000)
    assert len(data) < 200
    tracemalloc.start()
    try:
        with pytest.raises(DomainError) as exc:
            check_upload(data, kind="upload", max_bytes=LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert _code(exc) == (422, "decompression_bomb")
    assert peak < 5 * 1024 * 1024  # 2.5 GP was never allocated


def test_highly_compressed_huge_png_is_refused():
    data = images.zip_bomb_png(8_000)
    assert len(data) < 200_000 and MAX_PIXELS < 8_000 * 8_000
    with pytest.raises(DomainError) as exc:
        check_upload(data, kind="upload", max_bytes=LIMIT)
    assert _code(exc) in ((422, "image_too_large"), (422, "decompression_bomb"))


def test_text_renamed_png_and_svg_are_unsupported():
    for data in (
        b"just some text\n" * 10,
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>",
    ):
        with pytest.raises(DomainError) as exc:
            check_upload(data, kind="upload", max_bytes=LIMIT)
        assert _code(exc) == (415, "unsupported_media_type")


def test_file_too_large_before_anything_else():
    with pytest.raises(DomainError) as exc:
        check_upload(images.png(), kind="upload", max_bytes=10)
    assert _code(exc) == (413, "file_too_large")


def test_empty_file():
    with pytest.raises(DomainError) as exc:
        check_upload(b"", kind="upload", max_bytes=LIMIT)
    assert _code(exc) == (422, "empty_file")


def test_kind_must_match_type():
    with pytest.raises(DomainError) as exc:
        check_upload(images.glb(), kind="upload", max_bytes=LIMIT)
    assert _code(exc)[0] == 415
    with pytest.raises(DomainError) as exc:
        check_upload(images.png(), kind="model", max_bytes=LIMIT)
    assert _code(exc)[0] == 415


def test_glb_structure_checked():
    assert check_upload(images.glb(), kind="model", max_bytes=LIMIT).content_type == "model/gltf-binary"
    for bad in (images.glb(bad_length=True), images.glb({"no": "asset"}), b"glTF" + b"\x02\x00\x00\x00" * 2):
        with pytest.raises(DomainError) as exc:
            check_upload(bad, kind="model", max_bytes=LIMIT)
        assert _code(exc) == (422, "model_corrupt")


def test_truncated_jpeg_is_corrupt():
    data = images.jpeg_with_orientation(64, 64, 1)
    with pytest.raises(DomainError) as exc:
        check_upload(data[: len(data) // 2], kind="upload", max_bytes=LIMIT)
    assert _code(exc) == (422, "image_corrupt")


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "I;16", "LA"])
def test_honest_pngs_of_every_mode_pass(mode):
    img = Image.new(mode, (13, 7))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    out = check_upload(buf.getvalue(), kind="upload", max_bytes=LIMIT)
    assert (out.width_px, out.height_px) == (13, 7)


def test_interlaced_png_expected_size():
    from luneo.catalog.assets import _png_expected_bytes

    w, h = 13, 7
    size = _png_expected_bytes(w, h, 8, 2, 1)
    data = images.raw_png(w, h, zlib.compress(b"\x00" * size), color_type=2, interlace=1)
    out = check_upload(data, kind="upload", max_bytes=LIMIT)
    assert (out.width_px, out.height_px) == (13, 7)
    short = images.raw_png(w, h, zlib.compress(b"\x00" * (size - 5)), color_type=2, interlace=1)
    with pytest.raises(DomainError) as exc:
        check_upload(short, kind="upload", max_bytes=LIMIT)
    assert _code(exc) == (422, "image_corrupt")
