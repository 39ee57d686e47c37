"""A thread-safe LRU cache bounded by the total size of its values (bytes), on `cachetools`.

Large values (stored files, fonts, decoded images, previews) are cached by what they weigh, not by
how many there are: 256 files of 25 MiB would be 6.4 GiB in a cache bounded by count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MIB = 1024 * 1024


class ByteLRU(Generic[K, V]):
    """LRU of at most `max_bytes` (an int, or a callable read on first use, e.g. from Settings),
    each value weighing `sizeof(value)`. A value heavier than the whole budget is not kept."""

    def __init__(self, max_bytes: int | Callable[[], int], sizeof: Callable[[V], int]) -> None:
        self._max_bytes = max_bytes
        self._sizeof = sizeof
        self._lock = threading.Lock()
        self._cache: LRUCache[K, V] | None = None

    def _store(self) -> LRUCache[K, V]:
        if self._cache is None:
            budget = self._max_bytes() if callable(self._max_bytes) else self._max_bytes
            self._cache = LRUCache(maxsize=max(1, budget), getsizeof=self._sizeof)
        return self._cache

    @property
    def maxsize(self) -> int:
        with self._lock:
            return int(self._store().maxsize)

    @property
    def currsize(self) -> int:
        with self._lock:
            return int(self._store().currsize)

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._store().get(key)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            store = self._store()
            try:
                store[key] = value
            except ValueError:  # heavier than the whole budget: serve it, do not keep it
                store.pop(key, None)

    def get_or_set(self, key: K, load: Callable[[], V]) -> V:
        """The cached value, else `load()` (run outside the lock), cached if it fits."""
        hit = self.get(key)
        if hit is not None:
            return hit
        value = load()
        self.put(key, value)
        return value

    def clear(self) -> None:
        """Forget everything; the budget is read again on next use."""
        with self._lock:
            self._cache = None
