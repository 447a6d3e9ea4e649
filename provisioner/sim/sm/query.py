"""Service Manager list queries (Peripli specification api.md, "Filtering Parameters" and "Paging Parameters").

- `fieldQuery` / `labelQuery`: predicates joined by `and`; `field op literal` with `eq`, `ne`, `en`, `gt`, `lt`,
  `ge`, `le`, or `field in|notin (literal, ...)`; string literals in single quotes (`''` is a quote), `true`,
  `false` and integers bare. A field compares with the item's top-level field of that name; a label is true when
  it exists and one of its values matches (`ne`/`notin`: exists and none matches; `en`: matches or is missing).
  A query that cannot be parsed, or names a field the resource does not have, answers 400 `InvalidFieldQuery`
  (`InvalidLabelQuery`).
- Paging: items in creation order; `max_items` (default 50; 0 answers only `num_items`; negative or not a
  number: 400); `token` is the opaque position after the last item of the previous page (base64 of its
  sequence number, as Peripli's); `num_items` counts the filtered list; `token` and a `Link: <...>; rel="next"`
  header appear only when more items follow.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from provisioner.sim.core.errors import sm_error
from provisioner.sim.core.http import Ctx, SimError, json_response

DEFAULT_MAX_ITEMS = 50
_OPS = ("eq", "ne", "en", "gt", "lt", "ge", "le", "in", "notin")
_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|(\()|(\))|(,)|([^\s(),']+))")


@dataclass(frozen=True)
class Predicate:
    name: str
    op: str
    values: tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise ValueError(f"unexpected text at {pos}")
            break
        pos = m.end()
        if m.group(1) is not None:
            out.append(("lit", m.group(1).replace("''", "'")))
        elif m.group(2):
            out.append(("(", "("))
        elif m.group(3):
            out.append((")", ")"))
        elif m.group(4):
            out.append((",", ","))
        else:
            out.append(("word", m.group(5)))
    return out


def _literal(kind: str, value: Any) -> Any:
    if kind == "lit":
        return value
    if kind == "word" and value in ("true", "false"):
        return value == "true"
    if kind == "word" and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    raise ValueError(f"{value!r} is not a literal")


def parse(text: str) -> list[Predicate]:
    """The predicates of a query (ValueError when it cannot be parsed)."""
    tokens = _tokens(text)
    predicates: list[Predicate] = []
    i = 0
    while True:
        if i + 1 >= len(tokens):
            raise ValueError("incomplete predicate")
        (k1, name), (k2, op) = tokens[i], tokens[i + 1]
        if k1 != "word" or k2 != "word" or op not in _OPS:
            raise ValueError(f"expected 'name operator value' at {name!r}")
        i += 2
        if op in ("in", "notin"):
            if i >= len(tokens) or tokens[i][0] != "(":
                raise ValueError("expected '(' after in")
            i += 1
            values = []
            while i < len(tokens) and tokens[i][0] != ")":
                values.append(_literal(*tokens[i]))
                i += 1
                if i < len(tokens) and tokens[i][0] == ",":
                    i += 1
            if i >= len(tokens) or not values:
                raise ValueError("expected values and ')'")
            i += 1
        else:
            if i >= len(tokens):
                raise ValueError("missing value")
            values = [_literal(*tokens[i])]
            i += 1
        predicates.append(Predicate(name, op, tuple(values)))
        if i == len(tokens):
            return predicates
        if tokens[i] != ("word", "and"):
            raise ValueError("predicates are joined by 'and'")
        i += 1
        if i == len(tokens):
            raise ValueError("nothing after 'and'")


def _compare(op: str, value: Any, literals: tuple[Any, ...]) -> bool:
    if isinstance(value, bool):  # SAP's own example quotes booleans: usable eq 'true'
        literals = tuple(lit == "true" if lit in ("true", "false") else lit for lit in literals)
    if op in ("eq", "in"):
        return value in literals
    if op == "en":
        return value is None or value in literals
    if op in ("ne", "notin"):
        return value not in literals
    try:
        return bool({"gt": value > literals[0], "lt": value < literals[0], "ge": value >= literals[0],
                     "le": value <= literals[0]}[op])
    except TypeError:
        return False


def field_matches(item: dict[str, Any], predicates: Sequence[Predicate]) -> bool:
    return all(_compare(p.op, item.get(p.name), p.values) for p in predicates)


def label_matches(labels: dict[str, list[str]], predicates: Sequence[Predicate]) -> bool:
    for p in predicates:
        values = labels.get(p.name)
        if values is None:
            if p.op == "en":
                continue
            return False
        hit = any(v in p.values for v in values)
        if (p.op in ("ne", "notin") and hit) or (p.op not in ("ne", "notin") and not hit):
            return False
    return True


def _bad(kind: str, text: str, why: str) -> SimError:
    return sm_error(400, f"Invalid{kind}Query", f"Invalid {kind.lower()} query {text!r}: {why}")


def filtered(ctx: Ctx, items: Sequence[Any], present: Callable[[Any], dict[str, Any]],
             labels: Callable[[Any], dict[str, list[str]]]) -> list[tuple[Any, dict[str, Any]]]:
    """`(item, presented)` pairs passing `fieldQuery` and `labelQuery`; 400 for a bad query."""
    args = ctx.request.args
    fields: list[Predicate] = []
    wanted_labels: list[Predicate] = []
    for kind, param, target in (("Field", "fieldQuery", fields), ("Label", "labelQuery", wanted_labels)):
        text = args.get(param)
        if text is None:
            continue
        try:
            target.extend(parse(text))
        except (ValueError, IndexError) as exc:
            raise _bad(kind, text, str(exc)) from None
    pairs = [(item, present(item)) for item in items]
    if pairs and fields:
        known = set().union(*(d.keys() for _, d in pairs))
        unknown = [p.name for p in fields if p.name not in known]
        if unknown:
            raise _bad("Field", args["fieldQuery"], f"unsupported field query key: {unknown[0]}")
    return [(i, d) for i, d in pairs if field_matches(d, fields) and label_matches(labels(i), wanted_labels)]


def _decode(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    return int(text) if text.isdigit() else None


def _encode(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode("ascii")).decode("ascii").rstrip("=")


def page(ctx: Ctx, path: str, pairs: list[tuple[Any, dict[str, Any]]], seq: Callable[[Any], int]) -> Response:
    """One page of `pairs` (already filtered, each with its presented dict) in creation order."""
    args = ctx.request.args
    raw = args.get("max_items", str(DEFAULT_MAX_ITEMS))
    if not re.fullmatch(r"\d+", raw):
        raise sm_error(400, "BadRequest", f"max_items should be a non-negative number, got {raw!r}")
    max_items = int(raw)
    ordered = sorted(pairs, key=lambda p: seq(p[0]))
    if max_items == 0:
        return json_response({"num_items": len(ordered)})
    token = args.get("token", "")
    after = 0
    if token:
        decoded = _decode(token)
        if decoded is None:
            raise sm_error(400, "BadRequest", "Invalid token provided.")
        after = decoded
    rest = [p for p in ordered if seq(p[0]) > after]
    shown = rest[:max_items]
    body: dict[str, Any] = {"num_items": len(ordered), "items": [d for _, d in shown]}
    headers: dict[str, str] = {}
    if len(rest) > max_items:
        body = {"token": _encode(seq(shown[-1][0])), **body}
        query = {k: v for k, v in args.items() if k != "token"}
        query["token"] = body["token"]
        headers["Link"] = f'<{ctx.url}{path}?{urlencode(query)}>; rel="next"'
    return json_response(body, headers=headers)
