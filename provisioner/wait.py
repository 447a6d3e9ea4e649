"""Polling for async operations: CF jobs, ``last_operation``, BTP entitlement jobs and assignment states.

The interval starts at ``first_interval`` seconds and grows by ``factor`` up to ``max_interval`` seconds, so a job
that finishes quickly is noticed soon and a long one does not flood the API. After ``timeout`` seconds a
:class:`~provisioner.errors.WaitTimeout` says what was still pending and that a re-run adopts the in-flight resource.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from provisioner.errors import WaitTimeout

T = TypeVar("T")


@dataclass(frozen=True)
class WaitSettings:
    """Timeout and polling intervals, all in seconds."""

    timeout: float = 600.0
    first_interval: float = 0.1
    max_interval: float = 5.0
    factor: float = 1.5

    def intervals(self):
        interval = self.first_interval
        while True:
            yield interval
            interval = min(interval * self.factor, self.max_interval)


def poll(read: Callable[[], T], done: Callable[[T], bool], *, settings: WaitSettings, what: str,
         pending: Callable[[T], str] | None = None) -> T:
    """Call ``read()`` until ``done(value)``; return the value.

    ``done`` may raise to stop early (for example on a FAILED job). Raises :class:`WaitTimeout` after
    ``settings.timeout`` seconds, naming ``what`` and the last pending state (``pending(value)``).
    """
    deadline = time.monotonic() + settings.timeout
    for interval in settings.intervals():
        value = read()
        if done(value):
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            state = pending(value) if pending else "still in progress"
            raise WaitTimeout(f"{what}: {state} after {settings.timeout:g} s; it goes on in the landscape: "
                              "re-run the playbook to adopt it (or raise the timeout with --timeout)")
        time.sleep(min(interval, remaining))
    raise AssertionError("unreachable")
