"""Durations as people write them: a whole number and a unit, ``90s``, ``30m``, ``12h``, ``7d``, ``2w`` (the
playbook's ``rotation.grace``, ``key status --warn-age 180d`` and ``--warn-expiry 30d``). No fractions, signs,
spaces or combined units, so that a duration reads one way only; at most 5 digits (99999w)."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: the form, as a JSON Schema ``pattern`` too
PATTERN = r"^(0|[1-9][0-9]{0,4})[smhdw]$"
FORM = "a whole number of at most 5 digits and a unit s, m, h, d or w, such as 7d, 12h or 180d"


def parse_duration(text: str) -> int:
    """``7d`` → 604800 (seconds). Raises :class:`ValueError` (its message says the form) for anything else."""
    if not isinstance(text, str) or not re.fullmatch(PATTERN, text):
        raise ValueError(f"not a duration: use {FORM}")
    return int(text[:-1]) * UNITS[text[-1]]


def format_age(seconds: float) -> str:
    """A duration for a table: ``213d``, ``5h``, ``12m``, ``40s`` (the largest whole unit, rounded down; days for
    anything of a day or more; ``0s`` for a negative one, such as a clock that runs behind)."""
    seconds = max(0, int(seconds))
    for unit in ("d", "h", "m"):
        if seconds >= UNITS[unit]:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"
