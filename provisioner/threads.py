"""Helper threads shared by the whole process: the steps of a tenant's graph (:mod:`provisioner.engine.stepgraph`), the
reads sent at once (:mod:`provisioner.clients.atonce`), the early sign-in beside the CF one
(:mod:`provisioner.engine.credentials`).

A fleet used to start (and end) a small thread pool for each of these, several per tenant: about 0.1 ms of CPU and
two thread switches a thread. :func:`helpers` keeps the threads instead: a task is handed to an idle helper thread
or, when none is idle, to a new one; it never waits for a busy one (so a task that waits for another task cannot
deadlock), up to :data:`MOST` threads. Idle helpers end when the process does.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

#: the most helper threads at once (a fleet at --parallel 64 uses a few hundred)
MOST = 4096

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def helpers() -> ThreadPoolExecutor:
    """The process's helper threads (made on first use). ``submit`` starts a task at once, on an idle helper or a
    new one (``ThreadPoolExecutor`` reuses an idle thread before it starts one); never shut it down."""
    global _pool
    if _pool is not None:
        return _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MOST, thread_name_prefix="helper")
        return _pool


def in_step(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` bound to the calling thread's step, for a helper thread (its requests count for that step)."""
    context = contextvars.copy_context()

    def run(*args: object) -> T:
        return context.copy().run(fn, *args)

    return run
