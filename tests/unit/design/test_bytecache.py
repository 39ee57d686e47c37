"""In-process caches are bounded in bytes (cachetools), evict least recently used, thread-safe."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from luneo.design.bytecache import ByteLRU

KIB = 1024


def test_filling_beyond_the_budget_keeps_total_bytes_within_it_and_evicts_lru() -> None:
    cache: ByteLRU[str, bytes] = ByteLRU(10 * KIB, len)
    for i in range(10):
        cache.put(f"k{i}", bytes(KIB))
    assert cache.currsize == 10 * KIB
    assert cache.get("k0") is not None  # k0 becomes the most recently used
    for i in range(10, 15):
        cache.put(f"k{i}", bytes(KIB))
        assert cache.currsize <= cache.maxsize == 10 * KIB
    assert cache.get("k0") is not None  # touched, so kept
    assert [cache.get(f"k{i}") for i in range(1, 6)] == [None] * 5  # least recently used: evicted
    assert all(cache.get(f"k{i}") is not None for i in range(6, 15))


def test_a_value_over_the_budget_is_returned_but_not_kept() -> None:
    cache: ByteLRU[str, bytes] = ByteLRU(4 * KIB, len)
    cache.put("small", bytes(KIB))
    assert cache.get_or_set("huge", lambda: bytes(8 * KIB)) == bytes(8 * KIB)
    assert cache.get("huge") is None
    assert cache.get("small") is not None
    assert cache.currsize == KIB


def test_get_or_set_computes_once_and_the_budget_is_read_lazily() -> None:
    budget = {"bytes": 2 * KIB}
    cache: ByteLRU[str, bytes] = ByteLRU(lambda: budget["bytes"], len)
    budget["bytes"] = 3 * KIB  # read on first use (e.g. from Settings), not at import
    calls: list[str] = []

    def load() -> bytes:
        calls.append("x")
        return bytes(KIB)

    assert cache.get_or_set("a", load) == cache.get_or_set("a", load)
    assert calls == ["x"]
    assert cache.maxsize == 3 * KIB
    cache.clear()
    assert cache.currsize == 0 and cache.get("a") is None


def test_concurrent_writers_never_exceed_the_budget() -> None:
    cache: ByteLRU[int, bytes] = ByteLRU(64 * KIB, len)

    def fill(start: int) -> int:
        for i in range(start, start + 500):
            cache.get_or_set(i, lambda i=i: bytes(KIB + i % 7))
        return cache.currsize

    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(fill, range(0, 2000, 500)))
    assert max(sizes) <= 64 * KIB
    assert cache.currsize <= 64 * KIB
