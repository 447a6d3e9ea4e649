"""The request journal served by `GET /_sim/requests`: one entry per API request, in arrival order."""

from __future__ import annotations

from typing import Any


class Journal:
    """Entries `{"method", "path", "query", "status", "fault", "received", "handled", "answered", "jobs"}`;
    `status` is None for a reset connection. The three times are the simulator clock's `monotonic()` seconds (with
    the real clock, comparable with `time.monotonic()` in the same machine): when the request reached the
    application, when it was handled (its injected latency slept and the lock taken) and when its response was
    ready; `jobs` lists the asynchronous jobs this request started or completed (`Jobs.drain`)."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []

    def record(self, method: str, path: str, query: str, status: int | None, fault: str | None, *,
               received: float | None = None, handled: float | None = None, answered: float | None = None,
               jobs: list[dict[str, Any]] | None = None) -> None:
        self._entries.append({"method": method, "path": path, "query": query, "status": status, "fault": fault,
                              "received": received, "handled": handled, "answered": answered, "jobs": jobs or []})

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
