"""CF v3 list queries (cloud-foundry-v3-api.md 9.1): validation of the query string, filters described by a
table, label selectors, ordering and pagination with absolute links."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from werkzeug.wrappers import Response

from provisioner.sim.core.errors import cf_bad_query, cf_unprocessable
from provisioner.sim.core.http import Ctx, SimError, json_response

_LABEL_REQUIREMENT = re.compile(
    r"^\s*(?P<not>!)?\s*(?P<key>[A-Za-z0-9./_-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?\s*$")

Matcher = Callable[[dict[str, str]], bool]


def _matcher(negate: bool, key: str, op: str | None, value: str | None, values: str | None,
             set_op: str | None) -> Matcher:
    """One requirement of a label selector: `!key`, `key=value`, `key!=value`, `key in (...)`, or `key`."""
    if negate:
        return lambda labels: key not in labels
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    if set_op:
        wanted = {v.strip() for v in (values or "").split(",")}
        inside = set_op == "in"
        return lambda labels: (labels.get(key) in wanted) == inside
    return lambda labels: key in labels


def _label_matchers(selector: str) -> list[Matcher]:
    matchers: list[Matcher] = []
    for part in re.split(r",(?![^(]*\))", selector):
        m = _LABEL_REQUIREMENT.match(part)
        if not m or (m["not"] and (m["op"] or m["set"])):
            raise cf_bad_query("Invalid label_selector value")
        matchers.append(_matcher(bool(m["not"]), m["key"], m["op"], m["value"], m["values"], m["set"]))
    return matchers


@dataclass(frozen=True)
class Filter:
    """One query parameter of a list endpoint. With `value` (`(context, item) -> value`), an item passes
    when its value is one of the parameter's comma-separated values (`lower`: compared lowercased; `whole`:
    the parameter is compared as one value). Without `value` the parameter is accepted but filters nothing
    here (`include`; `label_selector`, which `select` applies to the item's `labels`)."""

    param: str
    value: Callable[[Any, Any], Any] | None = None
    lower: bool = False
    whole: bool = False


@dataclass
class ListQuery:
    """A validated CF list query: filters, paging and ordering."""

    args: dict[str, str]
    page: int
    per_page: int
    order_by: str

    def values(self, name: str) -> list[str] | None:
        """The comma-separated values of a parameter, or None when it is absent."""
        return None if name not in self.args else self.args[name].split(",")

    def labels_match(self, labels: dict[str, str]) -> bool:
        selector = self.args.get("label_selector")
        return selector is None or all(match(labels) for match in _label_matchers(selector))


def list_query(ctx: Ctx, filters: Sequence[Filter], order_by: Iterable[str] = ("created_at", "updated_at"),
               unprocessable: bool = False) -> ListQuery:
    """Validate the query string of a CF list endpoint (400 CF-BadQueryParameter, or 422 for roles)."""
    fail = cf_unprocessable if unprocessable else cf_bad_query
    allowed = ["page", "per_page", "order_by", *(f.param for f in filters)]
    args = {k: ctx.request.args.get(k, "") for k in ctx.request.args}
    unknown = [k for k in args if k not in allowed]
    if unknown:
        listed = ", ".join(f"'{k}'" for k in unknown)
        valid = ", ".join(f"'{k}'" for k in allowed)
        raise fail(f"Unknown query parameter(s): {listed}. Valid parameters are: {valid}")
    page = _positive_int(args.get("page", "1"), "Page", fail)
    per_page = _positive_int(args.get("per_page", "50"), "Per page", fail)
    if per_page > 5000:
        raise fail("Per page must be between 1 and 5000")
    orders = list(order_by)
    order = args.get("order_by", "created_at")
    if order.lstrip("+-") not in orders:
        raise fail("Order by can only be: " + ", ".join(f"'{o}'" for o in orders))
    if "label_selector" in args:
        _label_matchers(args["label_selector"])
    return ListQuery(args, page, per_page, order)


def select(q: ListQuery, items: Iterable[Any], filters: Sequence[Filter], context: Any) -> list[Any]:
    """The items passing every filter of `filters` present in the query, and its label selector."""
    wanted: list[tuple[Filter, set[str]]] = []
    for f in filters:
        if f.value is None or f.param not in q.args:
            continue
        raw = [q.args[f.param]] if f.whole else q.values(f.param) or []
        wanted.append((f, {v.lower() for v in raw} if f.lower else set(raw)))

    def passes(item: Any) -> bool:
        for f, values in wanted:
            assert f.value is not None
            value = f.value(context, item)
            if (value.lower() if f.lower and isinstance(value, str) else value) not in values:
                return False
        return q.labels_match(getattr(item, "labels", {}))

    return [item for item in items if passes(item)]


def _positive_int(value: str, what: str, fail: Callable[[str], SimError]) -> int:
    if not value.isdigit() or int(value) < 1:
        raise fail(f"{what} must be a positive integer")
    return int(value)


def paginate(ctx: Ctx, q: ListQuery, path: str, items: list[Any], present: Callable[[Any], dict[str, Any]],
             included: Callable[[list[Any]], dict[str, Any]] | None = None) -> Response:
    """A CF list response: sort, cut one page, and link first/last/next/previous with absolute hrefs.
    Items have `seq` (creation order) and the attributes ordered by."""
    field_name = q.order_by.lstrip("+-")

    def sort_key(o: Any) -> tuple[Any, int]:  # created_at ties within a second: creation order decides
        return ("" if field_name == "created_at" else getattr(o, field_name, ""), o.seq)

    items = sorted(items, key=sort_key, reverse=q.order_by.startswith("-"))
    total = len(items)
    total_pages = max(1, math.ceil(total / q.per_page))
    start = (q.page - 1) * q.per_page
    page_items = items[start:start + q.per_page]

    def href(page: int) -> dict[str, str]:
        params = {k: v for k, v in q.args.items() if k not in ("page", "per_page")}
        params.update(page=str(page), per_page=str(q.per_page))
        query = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(params.items()))
        return {"href": f"{ctx.url}{path}?{query}"}

    body: dict[str, Any] = {
        "pagination": {
            "total_results": total, "total_pages": total_pages,
            "first": href(1), "last": href(total_pages),
            "next": href(q.page + 1) if q.page < total_pages else None,
            "previous": href(q.page - 1) if q.page > 1 else None,
        },
        "resources": [present(o) for o in page_items],
    }
    if included is not None:
        body["included"] = included(page_items)
    return json_response(body)
