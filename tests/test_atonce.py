"""Reads sent at once (no HTTP): values in the given order, the first exception in that order once every read
ended, and reads at once inside reads at once, from many threads, on the process's shared helper threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from provisioner.clients.atonce import at_once


def test_values_come_in_the_given_order_and_the_first_error_waits_for_every_read():
    second_may_end = threading.Event()
    ended: list[str] = []

    def first() -> str:
        raise LookupError("first")

    def second() -> str:
        assert second_may_end.wait(30)
        ended.append("second")
        raise ValueError("second")

    def third() -> str:
        second_may_end.set()
        return "third"

    assert at_once(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]
    with pytest.raises(LookupError):
        at_once(first, second, third)
    assert ended == ["second"]


def test_reads_at_once_inside_reads_at_once_from_many_threads_all_end():
    def inner(i: int) -> int:
        return sum(at_once(*(lambda j=j: i * j for j in range(3))))

    def outer(i: int) -> list[int]:
        return at_once(*(lambda k=k: inner(i + k) for k in range(3)))

    with ThreadPoolExecutor(max_workers=64) as pool:
        got = list(pool.map(outer, range(200)))
    assert got == [[3 * (i + k) for k in range(3)] for i in range(200)]
