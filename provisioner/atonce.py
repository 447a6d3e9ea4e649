"""Requests sent at once within one step, and counted for it.

- :class:`StepStats` counts requests per step as well as per run: a request is counted for the step whose thread
  (or a helper thread started with :func:`in_step`, e.g. by :func:`at_once`) sent it.
- :func:`at_once` runs independent reads side by side (one round trip instead of several).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from provisioner.http import RequestStats

T = TypeVar("T")


class _Counter:
    """A thread-safe request count of one step."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1


_current: contextvars.ContextVar[_Counter | None] = contextvars.ContextVar("provisioner_step_counter", default=None)


@dataclass
class StepStats(RequestStats):
    """:class:`~provisioner.http.RequestStats` of a run that also counts each request for the step that sent it
    (see :meth:`counting`)."""

    def count(self, method: str, url: str = "") -> None:
        super().count(method, url)
        counter = _current.get()
        if counter is not None:
            counter.add()

    @staticmethod
    @contextmanager
    def counting() -> Iterator[_Counter]:
        """Count the requests this thread sends inside the block (and those of helpers started with
        :func:`in_step`) → the counter (``.value``: requests so far)."""
        counter = _Counter()
        token = _current.set(counter)
        try:
            yield counter
        finally:
            _current.reset(token)


def in_step(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` bound to the calling thread's step, for a helper thread (its requests count for that step)."""
    context = contextvars.copy_context()

    def run(*args: object) -> T:
        return context.copy().run(fn, *args)

    return run


def at_once(*reads: Callable[[], Any]) -> list[Any]:
    """Call the ``reads`` (independent, each a read of its own) side by side → their values in the given order.
    The first exception (in the given order) propagates once every read has ended. The first read runs on the
    calling thread, each other one on a thread of its own (one thread fewer than reads, no pool: a fleet calls
    this for every tenant several times)."""
    if len(reads) < 2:
        return [read() for read in reads]
    values: list[Any] = [None] * len(reads)
    errors: list[BaseException | None] = [None] * len(reads)

    def run(i: int) -> None:
        try:
            values[i] = reads[i]()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below, as a pool's future would
            errors[i] = exc

    helpers = [threading.Thread(target=in_step(run), args=(i,), name=f"read-{i}") for i in range(1, len(reads))]
    for t in helpers:
        t.start()
    try:
        contextvars.copy_context().run(run, 0)
    finally:
        for t in helpers:
            t.join()
    for exc in errors:
        if exc is not None:
            raise exc
    return values
