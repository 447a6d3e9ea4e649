"""The SAP Cloud ALM API instance name rule (SAP Cloud ALM guide *Enabling SAP Cloud ALM API*, "Maintain an
Instance"; docs/sap-facts.md §4.3).

At most 32 characters; letters, digits 0-9, periods and hyphens; underscores instead of spaces.
"""

from __future__ import annotations

import re

MAX_INSTANCE_NAME = 32
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_INVALID_CHAR = re.compile(r"[^A-Za-z0-9._-]")


def instance_name_problem(name: str) -> str | None:
    """None when ``name`` is valid, else a short reason (e.g. ``"has 33 characters (at most 32)"``)."""
    if _VALID.fullmatch(name):  # not match: "$" also matches before a final newline
        return None
    if not name:
        return "is empty"
    problems = []
    if len(name) > MAX_INSTANCE_NAME:
        problems.append(f"has {len(name)} characters (at most {MAX_INSTANCE_NAME})")
    if re.search(r"\s", name):
        problems.append("contains spaces (use underscores)")
    bad = sorted({c for c in _INVALID_CHAR.findall(name) if not c.isspace()})
    if bad:
        problems.append("contains " + " ".join(repr(c) for c in bad)
                        + " (only letters, digits, '.', '-' and '_' are allowed)")
    return "; ".join(problems)


def suggest_instance_name(name: str) -> str:
    """A valid name close to ``name``: whitespace runs become ``_``, other invalid characters are dropped, and the
    result is cut to 32 characters; ``cloudalm-api`` if nothing is left. A valid name is returned as it is."""
    if instance_name_problem(name) is None:
        return name
    fixed = re.sub(r"\s+", "_", name.strip())
    fixed = _INVALID_CHAR.sub("", fixed)[:MAX_INSTANCE_NAME].rstrip("_")
    return fixed or "cloudalm-api"
