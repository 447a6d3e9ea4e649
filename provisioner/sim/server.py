"""The simulator HTTP server: `Simulator`, WSGI dispatch, request journal, `/_sim/` admin endpoints, and the
helpers the API modules share (JSON responses, CF and BTP error envelopes, CF pagination, JWTs).

Every API request (any path outside `/_sim/`) goes through the fault injector (faults.py): its latency is
slept outside the state lock, then, under the lock, due jobs complete, the injector decides on a transient
failure, and the request is handled unless the failure comes "before" it; an injected failure replaces the
response (or, for a "reset", closes the connection without one). The journal records every API request
with the injected fault, if any.

Contract: docs/simulator.md. Error envelopes and pagination follow the references in ../shared/reference/:
CF v3 errors and pagination (cloud-foundry-v3-api.md sections 9.1 and 9.2), BTP errors
(btp-account-apis.md section 2, "Errors for all CIS services"), UAA/XSUAA OAuth errors
(cloud-foundry-v3-api.md section 2.3).
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import jwt
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from provisioner.sim.faults import FaultsError, failure_response, reset_connection
from provisioner.sim.state import Config, State, load_landscape, new_guid

log = logging.getLogger("provisioner.sim")

# A random HS256 signing secret per process: tokens never survive a restart of the simulator.
_SIGNING_SECRET = secrets.token_bytes(32)


# --------------------------------------------------------------------------------------------------
# Responses and errors
# --------------------------------------------------------------------------------------------------


class SimError(Exception):
    """Raised by handlers to answer with an error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


def accepted(location: str) -> Response:
    """202 with an empty body and a Location header (CF async operations)."""
    return Response(b"", status=202, headers={"Location": location})


def cf_error(status: int, title: str, code: int, detail: str,
             headers: dict[str, str] | None = None) -> SimError:
    body = {"errors": [{"detail": detail, "title": title, "code": code}]}
    return SimError(json_response(body, status, headers))


def cf_unprocessable(detail: str) -> SimError:
    return cf_error(422, "CF-UnprocessableEntity", 10008, detail)


def cf_not_found(detail: str) -> SimError:
    return cf_error(404, "CF-ResourceNotFound", 10010, detail)


def cf_forbidden() -> SimError:
    return cf_error(403, "CF-NotAuthorized", 10003, "You are not authorized to perform the requested action")


def cf_bad_query(detail: str) -> SimError:
    return cf_error(400, "CF-BadQueryParameter", 10005, f"The query parameter is invalid: {detail}")


def btp_error(ctx: Ctx, status: int, code: int, message: str) -> SimError:
    body = {"error": {"code": code, "message": message, "target": ctx.request.path,
                      "correlationID": new_guid()}}
    return SimError(json_response(body, status))


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> SimError:
    all_headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})}
    return SimError(json_response({"error": error, "error_description": description}, status, all_headers))


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------


def mint_token(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, _SIGNING_SECRET, algorithm="HS256")


def read_token(token: str) -> dict[str, Any] | None:
    """The claims of a token this process issued and that has not expired, else None."""
    try:
        claims = jwt.decode(token, _SIGNING_SECRET, algorithms=["HS256"],
                            options={"verify_exp": False, "verify_aud": False, "verify_iat": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= time.time():
        return None
    return claims


# --------------------------------------------------------------------------------------------------
# Request context and CF list queries
# --------------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    request: Request
    state: State
    fault: str | None = None  # a fault a handler injected (e.g. "lock"), for the journal

    @property
    def url(self) -> str:
        return self.state.base_url

    def access_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired, unrevoked access token (not a refresh token), else None."""
        claims = read_token(token) if token else None
        if claims is None or claims.get("token_use") == "refresh" or claims.get("rev_sig") != self.state.rev_sig:
            return None
        return claims

    def bearer(self) -> str | None:
        """None without an Authorization header, "" when it is not a bearer token."""
        header = self.request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def cf_body(self) -> dict[str, Any]:
        """The JSON object body of a CF request (400 CF-MessageParseError otherwise)."""
        try:
            body = json.loads(self.request.get_data(as_text=True) or "null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise cf_error(400, "CF-MessageParseError", 1001,
                           "Request invalid due to parse error: invalid request body")
        return body


_LABEL_REQUIREMENT = re.compile(
    r"^\s*(?P<not>!)?\s*(?P<key>[A-Za-z0-9./_-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?\s*$")


def _label_matchers(selector: str) -> list[Callable[[dict[str, str]], bool]]:
    matchers: list[Callable[[dict[str, str]], bool]] = []
    for part in re.split(r",(?![^(]*\))", selector):
        m = _LABEL_REQUIREMENT.match(part)
        if not m or (m["not"] and (m["op"] or m["set"])):
            raise cf_bad_query("Invalid label_selector value")
        key, op, value = m["key"], m["op"], m["value"]
        if m["not"]:
            matchers.append(lambda labels, k=key: k not in labels)
        elif op in ("=", "=="):
            matchers.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif op == "!=":
            matchers.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif m["set"]:
            values = {v.strip() for v in m["values"].split(",")}
            inside = m["set"] == "in"
            matchers.append(lambda labels, k=key, vs=values, i=inside: (labels.get(k) in vs) == i)
        else:
            matchers.append(lambda labels, k=key: k in labels)
    return matchers


@dataclass
class ListQuery:
    """A validated CF list query: filters, paging and ordering (reference section 9.1)."""

    args: dict[str, str]
    page: int
    per_page: int
    order_by: str

    def values(self, name: str) -> list[str] | None:
        """The comma-separated values of a filter, or None when the filter is absent."""
        if name not in self.args:
            return None
        return [v for v in self.args[name].split(",")]

    def lower_values(self, name: str) -> set[str] | None:
        values = self.values(name)
        return None if values is None else {v.lower() for v in values}

    def labels_match(self, labels: dict[str, str]) -> bool:
        selector = self.args.get("label_selector")
        return selector is None or all(match(labels) for match in _label_matchers(selector))


def list_query(ctx: Ctx, filters: Iterable[str], order_by: Iterable[str] = ("created_at", "updated_at"),
               unprocessable: bool = False) -> ListQuery:
    """Validate the query string of a CF list endpoint (400 CF-BadQueryParameter, or 422 for roles)."""
    fail = cf_unprocessable if unprocessable else cf_bad_query
    allowed = ["page", "per_page", "order_by", *filters]
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


def _positive_int(value: str, what: str, fail: Callable[[str], SimError]) -> int:
    if not value.isdigit() or int(value) < 1:
        raise fail(f"{what} must be a positive integer")
    return int(value)


def paginate(ctx: Ctx, q: ListQuery, path: str, items: list[Any], present: Callable[[Any], dict[str, Any]],
             included: Callable[[list[Any]], dict[str, Any]] | None = None) -> Response:
    """A CF list response: sort, cut one page, and link first/last/next/previous with absolute hrefs."""
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


# --------------------------------------------------------------------------------------------------
# Service key of the global account's Cloud Management (cis) instance
# --------------------------------------------------------------------------------------------------


def cis_service_key(state: State) -> dict[str, Any]:
    """The `cis` service key (btp-account-apis.md section 1.2) pointing at this server."""
    ga = state.global_account
    assert ga is not None
    url = state.base_url
    zone_url = f"{url}/xsuaa/{ga.subdomain}"
    return {
        "endpoints": {
            "accounts_service_url": f"{url}/btp/accounts",
            "entitlements_service_url": f"{url}/btp/entitlements",
            "provisioning_service_url": f"{url}/btp/provisioning",
        },
        "grant_type": ga.cis.grant_type,
        "sap.cloud.service": "com.sap.core.commercial.service.central" if ga.cis.plan == "central"
        else "com.sap.core.commercial.service.local",
        "uaa": {
            "apiurl": zone_url,
            "clientid": ga.cis.clientid,
            "clientsecret": ga.cis.clientsecret,
            "credential-type": "binding-secret",
            "identityzone": ga.subdomain,
            "identityzoneid": ga.zone_id,
            "sburl": zone_url,
            "subaccountid": ga.zone_id,
            "tenantid": ga.zone_id,
            "tenantmode": "shared",
            "uaadomain": url.split("://", 1)[-1],
            "url": zone_url,
            "verificationkey": "(simulator: tokens are HS256-signed; there is no public key)",
            "xsappname": ga.cis.xsappname,
            "xsmasterappname": ga.cis.xsappname,
            "zoneid": ga.zone_id,
        },
    }


# --------------------------------------------------------------------------------------------------
# Admin endpoints (/_sim/)
# --------------------------------------------------------------------------------------------------


def _admin_requests(ctx: Ctx, app: SimApp) -> Response:
    if ctx.request.method == "DELETE":
        app.journal.clear()
        return Response(status=204)
    return json_response(list(app.journal))


def _admin_config(ctx: Ctx, app: SimApp) -> Response:
    config = ctx.state.config
    if ctx.request.method == "PATCH":
        try:
            body = json.loads(ctx.request.get_data(as_text=True) or "{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return json_response({"error": "the body must be a JSON object"}, 400)
        checks: dict[str, Callable[[Any], bool]] = {
            "job_seconds": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0,
            "token_seconds": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            "instances_retrievable": lambda v: isinstance(v, bool),
        }
        for name, value in body.items():
            if name not in checks or not checks[name](value):
                return json_response({"error": f"invalid configuration value: {name}={value!r}"}, 400)
        for name, value in body.items():
            setattr(config, name, value)
    return json_response(config.as_dict())


def _admin_state(ctx: Ctx, app: SimApp) -> Response:
    return json_response(ctx.state.dump())


def _admin_faults(ctx: Ctx, app: SimApp) -> Response:
    """GET the faults object; PATCH merges a JSON merge patch into it; DELETE clears it (no faults)."""
    faults = ctx.state.faults
    if ctx.request.method == "DELETE":
        faults.replace(None)
    elif ctx.request.method == "PATCH":
        try:
            body = json.loads(ctx.request.get_data(as_text=True) or "{}")
        except ValueError:
            body = None
        try:
            faults.patch(body)  # type: ignore[arg-type]
        except FaultsError as exc:
            return json_response({"error": str(exc)}, 400)
    return json_response(faults.as_dict())


def _admin_expire_tokens(ctx: Ctx, app: SimApp) -> Response:
    """Every access token issued so far becomes invalid; refresh tokens keep working."""
    ctx.state.revoke_tokens()
    return Response(status=204)


# --------------------------------------------------------------------------------------------------
# WSGI application
# --------------------------------------------------------------------------------------------------


class SimApp:
    """Routes requests to the API modules; one request at a time holds the state lock."""

    def __init__(self, state: State) -> None:
        from provisioner.sim import (
            btp_accounts,
            btp_entitlements,
            btp_provisioning,
            cf_api,
            uaa,
            xsuaa,
        )

        self.state = state
        self.journal: list[dict[str, Any]] = []
        self.sleep: Callable[[float], None] = time.sleep  # how latency is waited (tests replace it)
        rules = [
            Rule("/_sim/requests", endpoint=_admin_requests, methods=["GET", "DELETE"]),
            Rule("/_sim/config", endpoint=_admin_config, methods=["GET", "PATCH"]),
            Rule("/_sim/state", endpoint=_admin_state, methods=["GET"]),
            Rule("/_sim/faults", endpoint=_admin_faults, methods=["GET", "PATCH", "DELETE"]),
            Rule("/_sim/tokens/expire", endpoint=_admin_expire_tokens, methods=["POST"]),
        ]
        for module in (cf_api, uaa, xsuaa, btp_accounts, btp_entitlements, btp_provisioning):
            rules.extend(module.rules())
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        ctx = Ctx(request, self.state)
        if request.path.startswith("/_sim/"):  # admin: no faults, not journalled
            with self.state.lock:
                self.state.tick()
                admin_response = self._dispatch(ctx, admin=True)
            return admin_response(environ, start_response)

        injector = self.state.faults
        with self.state.lock:
            delay = injector.latency(request.path)
        if delay > 0:
            self.sleep(delay)
        with self.state.lock:
            self.state.tick()
            fault = injector.decide(request.method, request.path)
            response: Response | None = None
            if fault is None or fault.when == "after":
                response = self._dispatch(ctx, admin=False)
            if fault is not None:
                ctx.fault = fault.kind
                response = None if fault.kind == "reset" else failure_response(
                    fault.kind, request.path, injector.settings.retry_after)
            self.journal.append({"method": request.method, "path": request.path,
                                 "query": request.query_string.decode("latin-1"),
                                 "status": response.status_code if response is not None else None,
                                 "fault": ctx.fault})
        if response is None:
            reset_connection(environ)  # raises: werkzeug drops the connection quietly
        return response(environ, start_response)

    def _dispatch(self, ctx: Ctx, admin: bool) -> Response:
        request = ctx.request
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
            if admin:
                return endpoint(ctx, self)
            return endpoint(ctx, **args)
        except SimError as exc:
            return exc.response
        except (NotFound, MethodNotAllowed):
            return self._unknown(ctx)
        except HTTPException as exc:
            return json_response({"error": exc.name}, exc.code or 500)
        except Exception:
            log.exception("internal error handling %s %s", request.method, request.path)
            return cf_error(500, "UnknownError", 10001, "An unknown error occurred.").response

    def _unknown(self, ctx: Ctx) -> Response:
        path = ctx.request.path
        if path.startswith("/btp/"):
            return btp_error(ctx, 404, 11000, "Requested route not found").response
        if path.startswith(("/uaa", "/xsuaa", "/alm", "/_sim")):
            return json_response({"error": "not_found", "error_description": "Not found"}, 404)
        return cf_error(404, "CF-NotFound", 10000, "Unknown request").response


class _QuietHandler(WSGIRequestHandler):
    """No per-request log lines (they would show paths and clients on stderr)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            # One request per connection, as werkzeug's "Connection: close" says; after an injected reset no
            # header was sent, and unread request bytes must not be parsed as a next request.
            self.close_connection = True

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


# --------------------------------------------------------------------------------------------------
# Simulator
# --------------------------------------------------------------------------------------------------


class Simulator:
    """One HTTP server speaking CF v3, UAA, XSUAA and the BTP account APIs for a simulated landscape.

    `landscape` is a YAML file path, an already parsed landscape dict, or None for the built-in default.
    `faults` is a faults object (docs/simulator.md, "Faults"); None injects nothing. Raises `LandscapeError`
    or `FaultsError` (both ValueError) for invalid input.
    """

    def __init__(self, landscape: str | Path | dict[str, Any] | None = None, host: str = "127.0.0.1",
                 port: int = 0, job_seconds: float = 1.0, token_seconds: int = 1199,
                 faults: dict[str, Any] | None = None) -> None:
        self.host = host
        self.port = port
        self.state = load_landscape(landscape, Config(job_seconds=job_seconds, token_seconds=token_seconds))
        self.state.faults.replace(faults)
        self.app = SimApp(self.state)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the simulator is not started")
        return self._url

    def start(self) -> Simulator:
        """Listen and serve from a background thread; returns once the socket listens."""
        if self._server is not None:
            return self
        # Bind here so that a busy port raises OSError (werkzeug would print and sys.exit instead).
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.create_server((self.host, self.port), family=family, backlog=128) as sock:
            server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler,
                                 fd=sock.fileno())
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        self._url = f"http://{host}:{server.port}"
        with self.state.lock:
            self.state.set_base_url(self._url)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="provisioner-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def info(self) -> dict[str, Any]:
        with self.state.lock:
            users = self.state.users_by_name(self.state.default_user)
            user = users[0] if users else None
            return {
                "url": self.url,
                "cf_api": self.url,
                "cf_username": user.username if user else "",
                "cf_password": (user.password or "") if user else "",
                "cis_key": cis_service_key(self.state),
            }

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
