"""Opaque prefixed identifiers: `prd_…`, `spec_…`, `snap_…`, `ord_…` (time-ordered, URL-safe).

Monotonic within a process, as ULID's monotonic mode: an id made in the same millisecond as the
previous one (or after the clock stepped back) takes the previous random part plus one, so ids
sort in creation order and cursor pagination never reorders rows written in one millisecond.
Hand-written (20 lines) rather than a ULID package because our ids are lowercase Crockford
base32 behind a prefix, which those packages do not produce.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase
_RANDOM_BITS = 80
_lock = threading.Lock()
_last_ms = 0
_last_rnd = 0


def _forget_after_fork() -> None:
    """A forked child must not continue its parent's sequence (both would make the same ids)."""
    global _last_ms, _last_rnd
    _last_ms, _last_rnd = 0, 0


os.register_at_fork(after_in_child=_forget_after_fork)


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """A new id: prefix + 10 chars of millisecond time + 16 random chars (sortable by creation)."""
    global _last_ms, _last_rnd
    with _lock:
        ms = int(time.time() * 1000)
        if ms <= _last_ms:
            ms, rnd = _last_ms, _last_rnd + 1
            if rnd >> _RANDOM_BITS:  # 2^80 ids in one millisecond: borrow the next one
                ms, rnd = ms + 1, 0
        else:
            rnd = int.from_bytes(os.urandom(_RANDOM_BITS // 8), "big")
        _last_ms, _last_rnd = ms, rnd
    return f"{prefix}_{_b32(ms, 10)}{_b32(rnd, 16)}"
