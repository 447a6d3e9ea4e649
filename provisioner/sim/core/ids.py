"""Identifiers and timestamps of simulated resources."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

_GUID_NAMESPACE = uuid.UUID("9a1f3b52-6c0e-4d8a-b7e1-2f4c5d6e7a8b")


def new_guid() -> str:
    """A random guid (UUID 4, lowercase text)."""
    return str(uuid.uuid4())


def stable_guid(*parts: str) -> str:
    """A guid derived from names, so that landscapes without explicit guids are reproducible."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "/".join(parts)))


def iso_now() -> str:
    """The wall-clock time as a CF timestamp (`2026-01-31T12:00:00Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms() -> int:
    """The wall-clock time in milliseconds since the epoch (BTP dates)."""
    return int(time.time() * 1000)
