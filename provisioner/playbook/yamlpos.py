"""YAML with positions: one document parsed into plain Python data plus the ``(line, column)`` of every value.

Used for playbooks and the simulator's landscape files. Every problem is a :class:`~provisioner.errors.BadInput`
of one line ``SOURCE:LINE:COLUMN: ...``: YAML syntax errors, characters YAML forbids, duplicate keys, merge keys
(``<<``), tags other than the plain scalar/list/mapping ones, expansion beyond :data:`MAX_NODES` nodes (alias
bombs), nesting deeper than :data:`MAX_DEPTH` levels, impossible dates, ``.nan``/``.inf``, several documents in
one file and an empty file. Dates become ``YYYY-MM-DD`` strings and timestamps their text as written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import yaml

from provisioner.errors import BadInput

MAX_NODES = 10_000
MAX_DEPTH = 64
_SCALAR_TAGS = ("str", "int", "float", "bool", "null", "timestamp")

Path_ = tuple[str | int, ...]
"""A path into the data: mapping keys and list indexes, e.g. ``("steps", "instance", "name")``."""

Marks = Mapping[Path_, tuple[int, int]]
"""``(line, column)`` (both from 1) of the value, or for mapping entries of the key, at each path."""


class _Loader(yaml.SafeLoader):
    pass


_FAST_LOADER = getattr(yaml, "CSafeLoader", _Loader)  # libyaml when present: the same nodes, ten times faster


def _compose(text: str) -> list[yaml.Node]:
    """The documents' nodes, by libyaml when present; on any error the pure-Python loader composes again, so that
    errors (and their positions) are the same with and without libyaml."""
    try:
        return list(yaml.compose_all(text, Loader=_FAST_LOADER))
    except Exception:  # noqa: BLE001 - any libyaml error: the Python loader raises the one this module reports
        return list(yaml.compose_all(text, Loader=_Loader))


def cut(value: object, limit: int = 60) -> str:
    """``repr`` of a value from a file, cut to ``limit`` characters with "…" (always one line, never a whole huge
    value)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def show(value: Any, limit: int = 60) -> str:
    """``repr`` of a value from the playbook, cut to ``limit`` characters (always one line)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def dotted(path: Path_) -> str:
    """A path as the user reads it: ``steps.space.developers[0]``; ``(top level)`` for the empty path."""
    out = ""
    for p in path:
        if not isinstance(p, int) and (not (p.isprintable() and p.strip()) or len(p) > 60):
            p = cut(p)  # keep the message on one line, and short
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def location(source: str, marks: Marks, path: Path_) -> str:
    """``SOURCE:LINE:COLUMN`` of ``path``, else of its nearest parent that has a position (``1:1`` at worst)."""
    p = tuple(path)
    while p not in marks and p:
        p = p[:-1]
    line, col = marks.get(p, (1, 1))
    return f"{source}:{line}:{col}"


def _to_python(node: yaml.Node, source: str, path: Path_, marks: dict[Path_, tuple[int, int]],
               budget: list[int]) -> Any:
    """Build plain Python data from a composed YAML node, recording ``(line, column)`` of every value by path."""
    budget[0] -= 1
    if budget[0] < 0:
        raise BadInput(f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: the YAML expands to "
                       f"more than {MAX_NODES} nodes (anchors/aliases?); write the values out")
    if len(path) > MAX_DEPTH:
        raise BadInput(f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: the YAML nests more "
                       f"than {MAX_DEPTH} levels deep (a recursive alias?); a playbook is a few levels deep")
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    where = f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: {dotted(path)}"
    allowed = ("map",) if isinstance(node, yaml.MappingNode) else ("seq",) if isinstance(node, yaml.SequenceNode) \
        else _SCALAR_TAGS
    if not node.tag.startswith("tag:yaml.org,2002:") or node.tag.rsplit(":", 1)[-1] not in allowed:
        raise BadInput(f"{where}: the YAML tag {cut(node.tag.replace('tag:yaml.org,2002:', '!!'))} is not supported; "
                       "remove the tag")
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, source, path, marks, budget)
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, source, path + (i,), marks, budget) for i, v in enumerate(node.value)]
    try:
        value = _Loader("").construct_object(node)
    except Exception as exc:  # noqa: BLE001 - PyYAML raises ValueError, KeyError, AttributeError, ...
        kind = node.tag.rsplit(":", 1)[-1]
        if kind == "timestamp":
            reason = f" ({exc})" if isinstance(exc, ValueError) else ""
            raise BadInput(f"{where}: {cut(node.value)} is not a real date{reason}; write YYYY-MM-DD, e.g. "
                           "2023-05-31") from None
        raise BadInput(f"{where}: {cut(node.value)} is not a valid {kind}; fix the value (quote it if it is text)")\
            from None
    if isinstance(value, dt.datetime):
        return str(node.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):  # .nan, .inf
        raise BadInput(f"{where}: {cut(node.value)} is not a finite number; write a number, e.g. 600")
    return value


def _mapping(node: yaml.MappingNode, source: str, path: Path_, marks: dict[Path_, tuple[int, int]],
             budget: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        where = f"{source}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise BadInput(f"{where}: merge keys (<<) are not supported; write the keys out")
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise BadInput(f"{where}: {dotted(path)}: a key here is a list or mapping; keys must be plain strings")
        if key in out:
            first = marks.get(path + (key,), (0, 0))[0]
            raise BadInput(f"{where}: {dotted(path + (key,))}: duplicate key (first at line {first}); "
                           "keep one of them")
        marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        out[key] = _to_python(value_node, source, path + (key,), marks, budget)
        marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    return out


def parse_yaml(text: str, source: str) -> tuple[Any, dict[Path_, tuple[int, int]]]:
    """Parse one YAML document; return the data (dicts, lists, str, int, float, bool, None) and a map of paths to
    ``(line, column)``. Raises :class:`BadInput` (one line, ``SOURCE:LINE:COLUMN``) for any problem."""
    try:
        nodes = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(exc.problem or exc.context).split())
        raise BadInput(f"{source}:{line}:{col}: YAML syntax error: {problem}; "
                       "fix the indentation or quoting there") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise BadInput(f"{source}:{line}:{col}: the character {char!r} is not allowed in YAML; remove it") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{source}:1:1: YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise BadInput(f"{source}:1:1: the YAML nests too deeply; a playbook is a few levels deep") from None
    if not nodes or nodes[0] is None:
        raise BadInput(f"{source}:1:1: the playbook is empty; write its keys (version: 1, tenant:, btp:, cf:, "
                       "steps:; see `provisioner schema playbook`)")
    if len(nodes) > 1:
        mark = getattr(nodes[1], "start_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise BadInput(f"{source}:{line}:{col}: a second YAML document starts here (after ---); keep one playbook "
                       "per file")
    marks: dict[Path_, tuple[int, int]] = {}
    return _to_python(nodes[0], source, (), marks, [MAX_NODES]), marks
