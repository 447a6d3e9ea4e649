"""JSON Schema validation of the landscape and faults objects (schemas in `provisioner/sim/data/`), with
one-line errors `FILE:LINE:COLUMN: key: problem; fix` (`SOURCE: key: problem; fix` without line marks).

`marks` maps a path tuple (keys and list indexes) to its `(line, column)`, as `provisioner.playbook.yamlpos.parse_yaml`
returns them; an error is located at the deepest marked path above it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

Path_ = tuple[str | int, ...]
Marks = Mapping[Path_, tuple[int, int]]

_TYPES = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
          "integer": "a whole number", "boolean": "true or false", "null": "nothing"}


@cache
def schema(name: str) -> dict[str, Any]:
    """A schema shipped in `provisioner/sim/data/` (e.g. "landscape.schema.json")."""
    loaded: dict[str, Any] = json.loads(resources.files("provisioner.sim").joinpath("data", name).read_text("utf-8"))
    return loaded


def plain(value: Any) -> Any:
    """`value` with YAML dates turned into ISO strings (what the schemas and the simulator expect)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def read_yaml(path: Path, what: str, error: type[ValueError]) -> tuple[Any, Marks]:
    """The data (None for an empty file) and marks of a YAML or JSON file, parsed by
    `provisioner.playbook.yamlpos.parse_yaml` (positions, tags and alias limits as for playbooks); raises `error` for a
    file that cannot be read or parsed."""
    from provisioner.errors import BadInput
    from provisioner.playbook.yamlpos import parse_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise error(f"{path}: cannot read the {what} file ({reason}); check the path") from None
    if not text.strip():
        return None, {}
    try:
        return parse_yaml(text, str(path))
    except BadInput as exc:  # one line: FILE:LINE:COLUMN: problem; fix
        raise error(str(exc)) from None


def dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def location(source: str, marks: Marks | None, path: Path_) -> str:
    """`FILE:LINE:COLUMN` of the deepest marked path above `path`, or just `source` without marks."""
    if not marks:
        return source
    p = tuple(path)
    while p not in marks and p:
        p = p[:-1]
    line, col = marks.get(p, (1, 1))
    return f"{source}:{line}:{col}"


def problem(name: str, data: Any, source: str, marks: Marks | None = None) -> str | None:
    """The most relevant violation of schema `name` by `data` as one line, or None when `data` is valid."""
    validator = Draft202012Validator(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    err = best_match(validator.iter_errors(data))
    return None if err is None else _line(err, source, marks)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _line(err: ValidationError, source: str, marks: Marks | None) -> str:
    path: Path_ = tuple(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = next((k for k in err.instance if k not in allowed), "?")
        near = difflib.get_close_matches(str(extra), allowed, n=1)
        hint = f"did you mean '{near[0]}'?" if near else "allowed: " + ", ".join(allowed)
        key_path = path + (extra,)
        return f"{location(source, marks, key_path)}: {dotted(key_path)}: unknown key; {hint}"
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{location(source, marks, path)}: {dotted(path + (missing,))}: required key is missing; add it"
    if "propertyNames" in err.schema_path and isinstance(err.instance, str):
        path = path + (err.instance,)  # a bad key: point at the key itself
    where, key, value = location(source, marks, path), dotted(path), err.instance
    fix = err.schema.get("description", "") if isinstance(err.schema, dict) else ""
    if err.validator == "type":
        types = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        want = [str(w) for w in types if w != "null"] or ["null"]  # null only ever means "take the default"
        got = "nothing (an empty value)" if value is None else _show(value)
        wanted = " or ".join(_TYPES.get(w, w) for w in want)
        return f"{where}: {key}: expected {wanted}, got {got}; {fix or 'fix the value'}"
    if err.validator == "enum":
        choices = list(dict.fromkeys(str(v) for v in err.validator_value if v is not None))
        near = difflib.get_close_matches(str(value), choices, n=1)
        return (f"{where}: {key}: {_show(value)} is not one of {', '.join(choices)}; "
                f"{f'did you mean {near[0]!r}?' if near else 'use one of them'}")
    limit = err.validator_value
    if err.validator == "minimum":
        return f"{where}: {key}: {_show(value)} is below the minimum {limit}; use {limit} or more"
    if err.validator == "maximum":
        return f"{where}: {key}: {_show(value)} is over the maximum {limit}; use {limit} or less"
    if err.validator in ("minLength", "minItems", "minProperties"):
        return f"{where}: {key}: is empty; give a value"
    if err.validator == "format" and limit == "date":
        return f"{where}: {key}: {_show(value)} is not a date; write YYYY-MM-DD, e.g. 2023-05-31"
    if err.validator == "pattern":
        return f"{where}: {key}: {_show(value)} is not valid here; {fix or 'fix the value'}"
    return f"{where}: {key}: {' '.join(err.message.split())[:200]}; {fix or 'fix the value'}"


class LandscapeError(ValueError):
    """The landscape is not valid; the message is `FILE:LINE:COLUMN: key: problem; fix`."""


@dataclass(frozen=True)
class Locator:
    """Names a place of a landscape in error messages: `where(path)` is `FILE:LINE:COLUMN: key`."""

    source: str
    marks: Marks | None = None

    def where(self, path: Path_) -> str:
        return f"{location(self.source, self.marks, path)}: {dotted(path)}"

    def error(self, path: Path_, message: str) -> LandscapeError:
        return LandscapeError(f"{self.where(path)}: {message}")
