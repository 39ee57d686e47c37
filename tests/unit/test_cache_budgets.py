"""Every in-process cache of large values is bounded in bytes; operators set the budgets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from luneo.design import glyph_cache, scene_builder, spec
from luneo.design.bytecache import MIB, ByteLRU
from luneo.designs import resources
from luneo.platform.config import get_settings
from luneo.rendering import service as rendering

KIB = 1024


@pytest.fixture
def budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LUNEO_RESOURCE_CACHE_MB", "1")
    monkeypatch.setenv("LUNEO_PREVIEW_CACHE_MB", "2")
    get_settings.cache_clear()
    resources.stored_files.clear()
    rendering.preview_cache.clear()
    yield
    get_settings.cache_clear()
    resources.stored_files.clear()
    rendering.preview_cache.clear()


class FakeStorage:
    def __init__(self) -> None:
        self.reads: list[str] = []

    def get(self, key: str) -> bytes:
        self.reads.append(key)
        return bytes(300 * KIB)


def test_stored_files_stay_within_resource_cache_mb(budgets: None, monkeypatch: Any) -> None:
    storage = FakeStorage()
    monkeypatch.setattr(resources, "get_storage", lambda: storage)
    for i in range(10):  # 10 x 300 KiB through a 1 MiB budget
        assert len(resources._stored_bytes(f"k{i}")) == 300 * KIB
        assert resources.stored_files.currsize <= 1 * MIB
    assert resources.stored_files.maxsize == 1 * MIB
    resources._stored_bytes("k9")  # recent: served from memory
    resources._stored_bytes("k0")  # least recently used: evicted, read again
    assert storage.reads == [*(f"k{i}" for i in range(10)), "k0"]


def test_previews_stay_within_preview_cache_mb(budgets: None) -> None:
    cache = rendering.preview_cache
    for i in range(40):  # 40 x 200 KiB through a 2 MiB budget
        cache.put("brd_a", f"rnd_{i}", {"sha256": str(i)}, bytes(200 * KIB))
        assert cache.currsize <= 2 * MIB
    assert cache.get("brd_a", "rnd_0") is None
    assert cache.get("brd_a", "rnd_39") is not None
    assert cache.get("brd_b", "rnd_39") is None  # the brand is part of the key
    cache.put("brd_a", "big", {}, bytes(MIB))  # over 1/8 of the budget: not kept
    assert cache.get("brd_a", "big") is None


def test_core_caches_of_large_values_are_bounded_in_bytes() -> None:
    assert isinstance(glyph_cache.brand_fonts, ByteLRU)
    assert glyph_cache.brand_fonts.maxsize == glyph_cache.BRAND_FONT_CACHE_BYTES
    assert isinstance(scene_builder.image_items, ByteLRU)
    assert scene_builder.image_items.maxsize == scene_builder.IMAGE_ITEM_CACHE_BYTES
    assert isinstance(spec.product_canonical_cache, ByteLRU)


def test_brand_font_handles_are_weighed_by_their_bytes() -> None:
    from luneo.design.fonts import BUNDLED_FONTS, font_bytes

    data = font_bytes(next(iter(BUNDLED_FONTS))) + b"\0" * 4  # same font, another sha: a "brand" font
    glyph_cache.brand_fonts.clear()
    handle = glyph_cache.data_handle(data)
    assert glyph_cache.data_handle(data) is handle
    assert glyph_cache.brand_fonts.currsize == 4 * len(data)
