"""The request journal served by `GET /_sim/requests`: one entry per API request, in arrival order."""

from __future__ import annotations

from typing import Any


class Journal:
    """Entries `{"method", "path", "query", "status", "fault"}`; `status` is None for a reset connection."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []

    def record(self, method: str, path: str, query: str, status: int | None, fault: str | None) -> None:
        self._entries.append({"method": method, "path": path, "query": query, "status": status, "fault": fault})

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
