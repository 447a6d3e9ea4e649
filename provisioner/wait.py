"""Polling for async operations: CF jobs, ``last_operation``, BTP entitlement jobs and assignment states.

The pause between two reads is ``ratio`` × the time waited so far, at least ``first_interval`` and at most
``max_interval`` seconds (defaults 0.1 s, 10 %, 5 s): a job that ends soon is noticed within about a tenth of
its duration, and a long one is read every 5 s at most, so the API is not flooded. After ``timeout`` seconds a
:class:`~provisioner.errors.WaitTimeout` says what was still pending and that a re-run adopts the in-flight
resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from provisioner import clock
from provisioner.errors import Interrupted, WaitTimeout

T = TypeVar("T")


@dataclass(frozen=True)
class WaitSettings:
    """Timeout and polling, in seconds (``ratio`` is a fraction of the time waited so far)."""

    timeout: float = 600.0
    first_interval: float = 0.1
    max_interval: float = 5.0
    ratio: float = 0.1

    def pause(self, waited: float) -> float:
        return min(self.max_interval, max(self.first_interval, self.ratio * waited))


def poll(read: Callable[[], T], done: Callable[[T], bool], *, settings: WaitSettings, what: str,
         describe: Callable[[T], str] | None = None) -> T:
    """Call ``read()`` until ``done(value)``; return the value.

    ``done`` may raise to stop early (for example on a FAILED job). Raises :class:`WaitTimeout` after
    ``settings.timeout`` seconds, naming ``what`` and the state still awaited (``describe(value)``), and
    :class:`~provisioner.errors.Interrupted` at once on Ctrl-C / SIGTERM (:func:`provisioner.clock.cancel`).
    """
    start = clock.monotonic()
    while True:
        value = read()
        if done(value):
            return value
        waited = clock.monotonic() - start
        if not waited < settings.timeout:  # also ends a NaN timeout
            state = describe(value) if describe else "still in progress"
            raise WaitTimeout(f"{what}: {state} after {settings.timeout:g} s; it goes on in the landscape: "
                              "re-run the playbook to adopt it (or raise the timeout with --timeout)")
        try:
            clock.sleep(min(settings.pause(waited), settings.timeout - waited))
        except Interrupted:
            state = describe(value) if describe else "still in progress"
            raise Interrupted(f"{what}: interrupted while waiting ({state}); it goes on in the landscape: re-run "
                              "the playbook to adopt it") from None
