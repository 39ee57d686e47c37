"""Prefixed ids sort by creation, also within one millisecond (cursor pagination relies on it)."""

from __future__ import annotations

import threading

from luneo.platform.ids import new_id


def test_ids_made_in_the_same_millisecond_sort_in_creation_order():
    made = [new_id("ctx") for _ in range(5000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_ids_from_several_threads_are_unique():
    out: list[list[str]] = [[] for _ in range(4)]

    def make(bucket: list[str]) -> None:
        bucket.extend(new_id("job") for _ in range(2000))

    threads = [threading.Thread(target=make, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for b in out for i in b]
    assert len(set(every)) == len(every)
    for bucket in out:
        assert bucket == sorted(bucket)
