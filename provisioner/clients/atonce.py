"""Requests sent at once within one step, and counted for it.

- :class:`StepStats` counts requests per step as well as per run: a request is counted for the step whose thread
  (or a helper thread started with :func:`provisioner.threads.in_step`, e.g. by :func:`at_once`) sent it.
- :func:`at_once` runs independent reads side by side (one round trip instead of several).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from provisioner.clients.http import RequestStats
from provisioner.threads import helpers, in_step

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
    """:class:`~provisioner.clients.http.RequestStats` of a run that also counts each request for the step that sent it
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
        :func:`provisioner.threads.in_step`) → the counter (``.value``: requests so far)."""
        counter = _Counter()
        token = _current.set(counter)
        try:
            yield counter
        finally:
            _current.reset(token)


def at_once(*reads: Callable[[], Any]) -> list[Any]:
    """Call the ``reads`` (independent, each a read of its own) side by side → their values in the given order.
    The first exception (in the given order) propagates once every read has ended. The first read runs on the
    calling thread, the others on the process's helper threads (:func:`provisioner.threads.helpers`: no pool is
    started per call; a fleet calls this several times a tenant)."""
    if len(reads) < 2:
        return [read() for read in reads]
    others = [helpers().submit(in_step(read)) for read in reads[1:]]
    try:
        first = contextvars.copy_context().run(reads[0])
    finally:
        wait(others)
    return [first, *(f.result() for f in others)]
