"""The brand's word lists (`settings.blocked_words` / `settings.allowed_words`), cached per process.

Every validate, spec and snapshot check needs them, and they change rarely, so they are kept
for `WORD_LISTS_TTL_S` seconds per brand (`cachetools.TTLCache`) instead of a brand-row read per
request. A change to a brand row in this process forgets its lists at once and again after the
commit (so a request that read the old row in between does not keep it); other processes see
the change within the TTL — the credential store's pattern.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from luneo.platform.tenancy import session_brand
from luneo.tenancy.public import Brand, brand_word_lists

WORD_LISTS_TTL_S = 2.0  # how long another process's word-list change may take to show here
WordLists = tuple[tuple[str, ...], tuple[str, ...]]  # (blocked, allowed)


class BrandWordLists:
    """(blocked, allowed) word lists by brand, read through the session's tenant guard."""

    def __init__(self, ttl_s: float = WORD_LISTS_TTL_S, timer: Callable[[], float] = time.monotonic) -> None:
        self._lists: TTLCache[str, WordLists] = TTLCache(10_000, ttl_s, timer)
        self._lock = threading.Lock()

    def get(self, session: Session) -> WordLists:
        """The lists of the session's brand (a session bound to no brand: read, never cached)."""
        brand_id = session_brand(session)
        if brand_id is None:
            return brand_word_lists(session)
        with self._lock:
            found = self._lists.get(brand_id)
        if found is None:
            found = brand_word_lists(session)
            with self._lock:
                self._lists[brand_id] = found
        return found

    def forget(self, brand_id: str) -> None:
        with self._lock:
            self._lists.pop(brand_id, None)

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()


word_lists = BrandWordLists()
_CHANGED = "_designs_changed_brands"


@event.listens_for(Brand, "after_update")
@event.listens_for(Brand, "after_delete")
def _brand_changed(_mapper: Any, _connection: Any, brand: Any) -> None:
    session = object_session(brand)
    if session is not None:
        session.info.setdefault(_CHANGED, set()).add(brand.id)
    word_lists.forget(brand.id)


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    """Forget again once the change is visible, so no request in between re-caches the old lists."""
    for brand_id in session.info.pop(_CHANGED, ()):
        word_lists.forget(brand_id)


@event.listens_for(Session, "after_rollback")
def _drop_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
