"""What the tenants of one fleet run share instead of asking again: sign-ins for identical credentials, the CF API
root document (its UAA), the subaccount list of a global account. Held by the fleet's :class:`~provisioner.clients.http.
SessionPool` (``pool.shared``), so it lives exactly as long as one fleet run.

Keys name everything that could change the answer: a token source is keyed by token endpoint, grant, client id,
user and a SHA-256 digest of the secrets (client secret, password), so different credentials never share a token;
the digest is kept in memory only, never printed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class FleetShare:
    """A thread-safe map of values made once per key: the first caller of :meth:`once` makes the value while later
    callers of the same key wait for it; a maker that raises caches nothing (the next caller tries again)."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value under ``key``, made by ``make()`` on first use; exceptions of ``make`` propagate."""
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            if key in self._values:
                value: T = self._values[key]
                return value
            value = make()
            self._values[key] = value
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


def secret_digest(*secrets: str | None) -> str:
    """A SHA-256 hex digest of the secrets (for cache keys only; never shown)."""
    h = hashlib.sha256()
    for s in secrets:
        h.update(b"\x00" if s is None else b"\x01" + s.encode("utf-8") + b"\x00")
    return h.hexdigest()
