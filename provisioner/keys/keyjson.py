"""The one strict JSON reader for service key files, and the key forms it recognises.

Strict means what Landscape Management's upload ("The service key in the TXT file is in valid JSON format") and
every other JSON reader agree on: no duplicate names (readers disagree on which value counts), no ``NaN`` or
``Infinity``, no number out of the float range, no integer of more than :data:`MAX_DIGITS` digits, nothing after
the JSON value, no byte order mark (BOM) unless a caller says it tolerates one, never two. Every refusal is a
:class:`~provisioner.errors.BadInput` of one line ``SOURCE:LINE:COLUMN: what is wrong; how to fix it``.

Key forms (:func:`parse_key`): the bare credentials object (the BTP cockpit's download, what Landscape Management
takes), ``{"credentials": {...}}`` (CF v3 ``GET /v3/service_credential_bindings/:guid/details``, and a Service
Manager binding, which has more fields beside ``credentials``) and the text ``cf service-key`` prints (header lines
such as "Getting key ... as ...", then the JSON).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioner.errors import BadInput

MAX_DIGITS = 100
BOM = "\ufeff"
BARE, WRAPPED, CLI_TEXT = "bare", "credentials", "cf service-key"
_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
_EXPECTED = "expected the service key's JSON (the cockpit's download or `cf service-key` output)"


_PLAIN = re.compile(r"[A-Za-z0-9._-]*\Z")


def shown(value: Any, limit: int = 40) -> str:
    """What a file holds, safe to echo: ``repr`` of a plain string (letters, digits, ``.``, ``_``, ``-``; names,
    zones, types) or of a number, cut to ``limit`` characters plus ``...``; any other string, object or array is
    described, never shown (it might be a secret)."""
    if isinstance(value, str) and not _PLAIN.match(value):
        return f"a string of {len(value)} characters"
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _name(name: str) -> str:
    return name if _PLAIN.match(name) and 0 < len(name) <= 40 else f"(a name of {len(name)} characters)"


class _Refused(ValueError):
    """Raised by the decoder hooks; :func:`_locate` finds where, as the hooks are not told."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise _Refused(name)
        seen.add(name)
    return dict(pairs)


def _constant(name: str) -> Any:
    raise _Refused(name)


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(text)
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= MAX_DIGITS else math.inf
    if not math.isfinite(value):
        raise _Refused(text)
    return value


_STRICT = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int, parse_float=_float)


class _Num(str):
    """A number's text, kept as text by the locating pass (no conversion, no digit limit)."""


class _Const(str):
    """``NaN``, ``Infinity`` or ``-Infinity`` as the locating pass saw it."""


_LENIENT = json.JSONDecoder(parse_int=_Num, parse_float=_Num, parse_constant=_Const)


def _skip(s: str, idx: int) -> int:
    """The index of the first character at or after ``idx`` that is not JSON whitespace."""
    while idx < len(s) and s[idx] in " \t\n\r":
        idx += 1
    return idx


def _join(path: str, part: str) -> str:
    return f"{path}.{_name(part)}" if path else _name(part)


def _where(path: str) -> str:
    return (path if len(path) <= 80 else path[:80] + "...") + ": " if path else ""


def _scalar_problem(value: Any, path: str) -> str | None:
    where = _where(path)
    if isinstance(value, _Const):
        return f"{where}{value} is not valid JSON; write a number or a string"
    if isinstance(value, _Num):
        digits = len(value.lstrip("-"))
        if digits > MAX_DIGITS and value.lstrip("-").isdigit():
            return f"{where}a number of {digits} digits (at most {MAX_DIGITS}); a service key holds no such number"
        if len(value) > MAX_DIGITS or not math.isfinite(float(value)):
            return f"{where}a number out of range; a service key holds no such number"
    return None


def _walk(s: str, idx: int, path: str, line_of: Callable[[int], int]) -> tuple[int, tuple[int, str] | None]:
    """Re-read the value at ``idx`` as the strict decoder did (objects are checked once complete, scalars where
    they stand); return its end and the first problem found, as (position, text)."""
    idx = _skip(s, idx)
    if s[idx] == "{":
        seen: dict[str, int] = {}
        duplicate: tuple[int, str] | None = None
        idx = _skip(s, idx + 1)
        while s[idx] != "}":
            name, end = _LENIENT.raw_decode(s, idx)
            if name in seen and duplicate is None:
                duplicate = (idx, f"{_where(_join(path, name))}duplicate name (first at line "
                                  f"{line_of(seen[name])}); keep one of them")
            seen.setdefault(name, idx)
            idx = _skip(s, end) + 1  # past ':'
            idx, found = _walk(s, idx, _join(path, name), line_of)
            if found:
                return idx, found
            idx = _skip(s, idx)
            if s[idx] == ",":
                idx = _skip(s, idx + 1)
        return idx + 1, duplicate
    if s[idx] == "[":
        i = 0
        idx = _skip(s, idx + 1)
        while s[idx] != "]":
            idx, found = _walk(s, idx, f"{path}[{i}]", line_of)
            if found:
                return idx, found
            idx = _skip(s, idx)
            if s[idx] == ",":
                idx = _skip(s, idx + 1)
            i += 1
        return idx + 1, None
    value, end = _LENIENT.raw_decode(s, idx)
    problem = _scalar_problem(value, path)
    return end, (idx, problem) if problem else None


def _position(s: str, pos: int) -> tuple[int, int]:
    line = s.count("\n", 0, pos) + 1
    return line, pos - (s.rfind("\n", 0, pos) + 1) + 1


def _locate(s: str, start: int) -> tuple[int, str]:
    try:
        _, found = _walk(s, start, "", lambda pos: _position(s, pos)[0])
    except (RecursionError, ValueError, IndexError, StopIteration):
        found = None
    return found or (start, f"not valid JSON; {_EXPECTED}")


def loads_strict(text: str, source: str, *, start: int = 0, what: str = "JSON") -> Any:
    """Parse the one JSON value of ``text[start:]`` (whitespace around it allowed); positions in errors count from
    the start of ``text``. Raises :class:`BadInput` ``SOURCE:LINE:COL: ...`` for every refusal listed above; a BOM
    is refused here (callers that tolerate one strip it first)."""
    if text.startswith(BOM, start):
        raise BadInput(f"{source}:1:1: the {what} starts with a byte order mark (BOM); save it as UTF-8 without BOM")
    idx = _skip(text, start)
    try:
        value, end = _STRICT.raw_decode(text, idx)
    except RecursionError:
        raise BadInput(f"{source}:1:1: the JSON nests too deeply; {_EXPECTED}") from None
    except _Refused:
        pos, problem = _locate(text, idx)
        line, col = _position(text, pos)
        raise BadInput(f"{source}:{line}:{col}: {problem}") from None
    except json.JSONDecodeError as exc:
        line, col = _position(text, exc.pos)
        msg = re.sub(r"( starting)? at$", "", exc.msg)  # json's "Unterminated string starting at", ...
        raise BadInput(f"{source}:{line}:{col}: not valid JSON ({msg}); {_EXPECTED}") from None
    rest = _skip(text, end)
    if rest < len(text):
        line, col = _position(text, rest)
        raise BadInput(f"{source}:{line}:{col}: more data after the JSON value; keep one JSON object per file")
    return value


@dataclass(frozen=True)
class ParsedKey:
    """A key file's credentials (the bare object), the ``form`` it came in (:data:`BARE`, :data:`WRAPPED` or
    :data:`CLI_TEXT`) and whether the text began with one BOM."""

    creds: dict[str, Any]
    form: str
    bom: bool

    @property
    def landscape_ready(self) -> bool:
        """True when the text is what Landscape Management takes: the bare object, no BOM."""
        return self.form == BARE and not self.bom


def parse_key(text: str, source: str) -> ParsedKey:
    """Parse a key in any of the three forms with :func:`loads_strict`; one leading BOM is tolerated (Windows
    editors write one) and reported in ``bom``, two never. Raises :class:`BadInput`."""
    if text.startswith(BOM + BOM):
        raise BadInput(f"{source}:1:1: the file starts with two byte order marks (BOM); save it as UTF-8 "
                       "without BOM")
    bom = text.startswith(BOM)
    body = text[1:] if bom else text
    if not body.strip():
        raise BadInput(f"{source}:1:1: the key is empty; {_EXPECTED}")
    start, form = 0, BARE
    if not body.lstrip().startswith("{"):
        try:
            other = loads_strict(body, source)
        except BadInput:
            pass
        else:  # JSON, but an array, a string, ...
            raise BadInput(f"{source}:1:1: the key is a JSON {_KINDS.get(type(other), 'value')}, expected an "
                           "object; use the service key's JSON as downloaded")
        match = re.search(r"^[ \t]*\{", body, re.MULTILINE)  # `cf service-key`: header lines, then the JSON
        if match is None:
            raise BadInput(f"{source}:1:1: no JSON object found; {_EXPECTED}")
        start, form = match.start(), CLI_TEXT
    value = loads_strict(body, source, start=start)
    creds = value.get("credentials")
    if isinstance(creds, dict) and "uaa" not in value:
        return ParsedKey(creds, WRAPPED if form == BARE else form, bom)
    return ParsedKey(value, form, bom)
