"""Runtime settings served by `GET /_sim/config` and changed by `PATCH /_sim/config`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _seconds(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v >= 0


def _date(v: Any) -> bool:
    try:
        dt.date.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return len(v) == 10


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "job_seconds": _seconds,
    "token_seconds": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "instances_retrievable": lambda v: isinstance(v, bool),
    "central_reads_environments": lambda v: isinstance(v, bool),
    "instance_secret_cutoff": _date,
    "x509_backdate_days": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3650,
}


@dataclass
class Config:
    job_seconds: float = 1.0  # duration of asynchronous jobs, seconds
    token_seconds: int = 1199  # lifetime of access tokens issued from now on, seconds
    instances_retrievable: bool = True  # False switches GET .../parameters off for every offering
    # False: GET /provisioning/v1/environments refuses the global account's central cis token (403 11003), as
    # SAP's scope list suggests (the scope is documented for the local plan; unconfirmed either way)
    central_reads_environments: bool = True
    # XSUAA: from this day (YYYY-MM-DD) new bindings and keys are never instance-secret ("Starting with January,
    # 19, 2026, the instance-secret credential type isn't supported anymore for new bindings and service keys")
    instance_secret_cutoff: str = "2026-01-19"
    # x509 certificates start this many days before they are issued (a 7-day certificate issued with 8 here has
    # expired): a key whose certificate ran out, without waiting for it
    x509_backdate_days: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"job_seconds": self.job_seconds, "token_seconds": self.token_seconds,
                "instances_retrievable": self.instances_retrievable,
                "central_reads_environments": self.central_reads_environments,
                "instance_secret_cutoff": self.instance_secret_cutoff,
                "x509_backdate_days": self.x509_backdate_days}

    def update(self, changes: dict[str, Any]) -> str | None:
        """Apply `changes` all or nothing; the problem (for a 400) or None."""
        for name, value in changes.items():
            if name not in _CHECKS or not _CHECKS[name](value):
                return f"invalid configuration value: {name}={value!r}"
        for name, value in changes.items():
            setattr(self, name, value)
        return None
