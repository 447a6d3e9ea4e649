"""``POST /_sim/age``: make keys (Service Manager bindings, Cloud Foundry service keys) look older, so that a test
or a demo sees a key of 200 days without waiting 200 days. Their ``created_at`` and ``updated_at`` move back by
``days``; only the keys named in ``names`` when given. Nothing else changes (credentials, tokens and x509
certificates keep their times)."""

from __future__ import annotations

import datetime as dt
from typing import Any

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _earlier(stamp: str, days: float) -> str:
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (when - dt.timedelta(days=days)).strftime(FORMAT)


def age_keys(body: Any, cf_keys: dict[str, Any], sm_bindings: dict[str, Any]) -> tuple[int, str | None]:
    """Age the keys per ``body`` ``{"days": N, "names": [...]}`` → (how many were aged, a problem or None)."""
    if not isinstance(body, dict):
        return 0, "the body must be a JSON object"
    days, names = body.get("days"), body.get("names")
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 <= days <= 36500:
        return 0, "days: a number of days from 0 to 36500"
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        return 0, "names: a list of key or binding names"
    aged = 0
    for key in [*cf_keys.values(), *sm_bindings.values()]:
        if names is None or key.name in names:
            key.created_at, key.updated_at = _earlier(key.created_at, days), _earlier(key.updated_at, days)
            aged += 1
    return aged, None
