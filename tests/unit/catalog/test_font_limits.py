"""WOFF/WOFF2 uploads are refused by their declared sizes before anything is inflated, and a
compressed stream that inflates beyond what it declares is stopped without being held."""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import brotli
import pytest

from luneo.catalog import fonts
from luneo.design.fonts import font_bytes
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import Problem, problem_from


def _base128(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def woff2_bomb(declared: int = 1 << 30, real: int = 64 << 20) -> bytes:
    """One `name` table (null transform) declaring `declared` bytes; its brotli stream holds
    `real` zero bytes in about 100 bytes."""
    stream = brotli.compress(b"\0" * real, quality=9)
    directory = bytes([5]) + _base128(declared)  # known tag 5 = name, transform version 0
    total_sfnt = 12 + 16 + ((declared + 3) & ~3)
    length = 48 + len(directory) + len(stream)
    header = struct.pack(
        ">4sLLHHLLHHLLLLL",
        b"wOF2",
        0x00010000,
        length,
        1,
        0,
        min(total_sfnt, 0xFFFFFFFF),
        len(stream),
        1,
        0,
        0,
        0,
        0,
        0,
        0,
    )
    return header + directory + stream


def woff_bomb(declared: int = 1 << 30, real: int = 64 << 20) -> bytes:
    """One zlib-compressed `name` table declaring `declared` bytes, inflating to `real`."""
    comp = zlib.compress(b"\0" * real, 9)
    offset = 44 + 20
    length = offset + len(comp)
    total_sfnt = 12 + 16 + ((declared + 3) & ~3)
    header = struct.pack(
        ">4sLLHHLHHLLLLL", b"wOFF", 0x00010000, length, 1, 0, min(total_sfnt, 0xFFFFFFFF), 1, 0, 0, 0, 0, 0, 0
    )
    entry = struct.pack(">4sLLLL", b"name", offset, len(comp), declared, 0)
    return header + entry + comp


def _refused(data: bytes) -> tuple[Problem, int]:
    tracemalloc.start()
    try:
        with pytest.raises(DomainError) as exc:
            fonts.check_font(data, max_bytes=25 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return problem_from(exc.value), peak


def test_tiny_woff2_declaring_a_gibibyte_is_refused_before_inflating():
    data = woff2_bomb()
    assert len(data) < 2048
    problem, peak = _refused(data)
    assert problem.code == "font_too_large" and problem.status in (413, 422)
    assert peak < 8 << 20


def test_woff2_stream_inflating_beyond_its_declared_size_is_stopped():
    data = woff2_bomb(declared=1 << 20)  # declares 1 MiB (allowed), inflates to 64 MiB
    problem, peak = _refused(data)
    assert problem.code in ("font_invalid", "font_too_large")
    assert peak < 16 << 20


def test_woff_declaring_a_gibibyte_is_refused_before_inflating():
    problem, peak = _refused(woff_bomb())
    assert problem.code == "font_too_large"
    assert peak < 8 << 20


def test_woff_table_inflating_beyond_its_declared_size_is_stopped():
    problem, peak = _refused(woff_bomb(declared=1 << 20))
    assert problem.code in ("font_invalid", "font_too_large")
    assert peak < 16 << 20


@pytest.mark.parametrize("flavor", ["woff", "woff2"])
def test_real_web_fonts_still_pass(flavor):
    import io

    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_bytes("fnt_mono")))
    font.flavor = flavor
    buf = io.BytesIO()
    font.save(buf)
    checked = fonts.check_font(buf.getvalue(), max_bytes=25 << 20)
    assert checked.source_format == flavor and checked.format == "ttf"
