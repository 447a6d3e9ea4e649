"""Ctrl-C and SIGTERM for the command line.

The first signal cancels (:func:`provisioner.clock.cancel`): no new request is sent, every wait is abandoned at
once, the steps in flight end as ``failed`` with "interrupted ..." and the command prints what was done and what is
still in flight (it goes on in the landscape; a re-run adopts it), then exits 130. A request already on the wire
is not waited for: :data:`GRACE_SECONDS` after the signal the command prints what is in flight and exits 130
whatever remains. A second signal exits 130 at once.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from provisioner import clock
from provisioner.errors import EXIT_INTERRUPTED

#: seconds from the first signal to the exit, whatever is still on the wire
GRACE_SECONDS = 0.8
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Progress:
    """The steps each tenant is in, fed by the runner's ``on_start`` / ``on_step`` callbacks (thread-safe); a
    tenant's independent steps run side by side."""

    def __init__(self) -> None:
        self._current: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def start(self, result: Any, step: str) -> None:
        with self._lock:
            self._current.setdefault(result.tenant, []).append(step)

    def step(self, result: Any, step_result: Any) -> None:
        with self._lock:
            steps = self._current.get(result.tenant, [])
            if step_result.step in steps:
                steps.remove(step_result.step)
            if not steps:
                self._current.pop(result.tenant, None)

    def in_flight(self) -> list[str]:
        """``tenant step`` of every step started and not ended."""
        with self._lock:
            return [f"{tenant} {step}" for tenant, steps in sorted(self._current.items()) for step in steps]


progress = Progress()
_timer: threading.Timer | None = None


def _say(text: str) -> None:
    os.write(2, (text + "\n").encode("utf-8", "backslashreplace"))  # never the (maybe locked) sys.stderr buffer


def in_flight_line(in_flight: list[str]) -> str:
    """The one line printed on the way out: what is in flight (it goes on; a re-run adopts it)."""
    shown = ", ".join(in_flight[:10]) + (f" and {len(in_flight) - 10} more" if len(in_flight) > 10 else "")
    if not in_flight:
        return "interrupted: nothing was in flight; re-run to converge"
    return (f"interrupted: in flight: {shown} (it goes on in the landscape; re-run to converge: what is in flight "
            "is adopted)")


def _exit_now() -> None:
    _say(in_flight_line(progress.in_flight()))
    os._exit(EXIT_INTERRUPTED)


def _on_signal(signum: int, _frame: Any) -> None:
    global _timer
    if clock.cancelled():
        _say("interrupted again: exiting now")
        os._exit(EXIT_INTERRUPTED)
    clock.cancel()
    name = signal.Signals(signum).name
    _say(f"\n{name}: stopping: no new requests are sent and waits are abandoned (press Ctrl-C again to quit at "
         "once)")
    _timer = threading.Timer(GRACE_SECONDS, _exit_now)
    _timer.daemon = True
    _timer.start()


def finished() -> None:
    """The command ended on its own after a signal: the grace timer is not needed."""
    if _timer is not None:
        _timer.cancel()


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM handled as above while the block runs (in the main thread only; else as they were)."""
    clock.reset_cancel()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: list[Callable[..., Any] | int | None] = [signal.getsignal(s) for s in _SIGNALS]
    for s in _SIGNALS:
        signal.signal(s, _on_signal)
    try:
        yield
    finally:
        finished()
        for s, handler in zip(_SIGNALS, previous, strict=True):
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
