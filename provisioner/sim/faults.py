"""Fault injection of the simulator: latency, transient failures, slow or failing jobs, stuck or locked
entitlements (docs/simulator.md, "Faults").

`Faults` is the settings object served by `GET /_sim/faults` (its JSON shape is `Faults.as_dict()`);
`FaultInjector` holds the current settings and the one `random.Random(seed)` every random decision comes from.
The injector is used only under `State.lock`, so random numbers are drawn in request arrival order and a run
with the same seed and the same sequence of requests makes the same decisions. Nothing draws a random number
while the corresponding setting is off, so a simulator without faults behaves exactly as before.

Random draws, in this order:
- per API request (not `/_sim/`): for each matching rule of `failures`, then for the global `fail_rate`:
  one draw against the rule's `rate`; when it fires, one draw for the kind and, for `when: any` and a
  non-GET request, one for before/after. The first rule that fires decides; a 429 is always answered
  before the request is processed (rate limiters reject, they do not half-process);
- per job created: one draw against `job_failure_rate` (when it is above 0 and no `job_failures` entry names
  the job's operation);
- per `PUT .../subaccountServicePlans` that passes validation: one draw against `entitlement_lock_rate`.

The failure responses are built here too (`failure_response`), in the shape of the API the path belongs to:
CF (cloud-foundry-v3-api.md 9.2, 9.3), BTP (btp-account-apis.md 2), UAA/XSUAA (OAuth errors); 502 and 504
are the non-JSON text of a router in front of any of them. A "reset" has no response: `reset_connection`
shuts the socket down and raises a `ConnectionResetError`, which werkzeug treats as a dropped connection
(no traceback).
"""

from __future__ import annotations

import json
import random
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any, NoReturn

from werkzeug.wrappers import Response

KINDS = ("429", "500", "502", "503", "504", "reset")
FAIL_RATE_KINDS = ("429", "502", "503", "504", "reset")  # the kinds of the global `fail_rate`
WHENS = ("before", "after", "any")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Operations of the simulator's asynchronous jobs (CF `/v3/jobs` operation names, BTP jobs-management).
OPERATIONS = ("service_instance.create", "service_instance.update", "service_instance.delete",
              "service_keys.create", "service_keys.delete", "role.delete", "entitlements.assign")

RATE_LIMIT = 20000  # X-RateLimit-Limit of a CF 429 (the CC's default global limit)


class FaultsError(ValueError):
    """A faults object is not valid."""


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


@dataclass
class Rule:
    """One transient failure rule of `failures`."""

    paths: list[str] = field(default_factory=lambda: ["*"])  # fnmatch patterns of the request path
    methods: list[str] | None = None  # None: every method
    rate: float = 1.0  # probability per matching request
    kinds: list[str] = field(default_factory=lambda: list(FAIL_RATE_KINDS))
    when: str = "before"  # before: not processed; after: processed, then the response is replaced; any
    times: int | None = None  # fire at most this many more times (None: unlimited); counts down

    def matches(self, method: str, path: str) -> bool:
        return (self.times != 0 and (self.methods is None or method in self.methods)
                and any(fnmatchcase(path, p) for p in self.paths))


@dataclass
class Faults:
    """Everything `/_sim/faults` serves and changes; the defaults inject nothing."""

    seed: int = 0
    latency: float = 0.0  # seconds added to every API request
    latency_by_path: dict[str, float] = field(default_factory=dict)  # pattern → seconds (first match wins)
    fail_rate: float = 0.0  # global rule: all API paths, FAIL_RATE_KINDS, before/after at random for writes
    failures: list[Rule] = field(default_factory=list)
    retry_after: int = 1  # Retry-After seconds of injected 429s
    job_seconds_by_operation: dict[str, float] = field(default_factory=dict)  # overrides config.job_seconds
    job_failures: dict[str, str] = field(default_factory=dict)  # operation → failure description
    job_failure_rate: float = 0.0  # every job fails with this probability
    entitlements_stuck: bool = False  # entitlement jobs never complete (assignments stay PROCESSING)
    entitlement_lock_rate: float = 0.0  # PUT subaccountServicePlans answers 400 30004 at this rate

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        """Validate a faults object (missing keys take their defaults, null resets a key)."""
        if not isinstance(data, dict):
            raise FaultsError("the faults object must be a JSON/YAML mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultsError(f"unknown faults key(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        d = {k: v for k, v in data.items() if v is not None}
        out = cls()
        if "seed" in d:
            out.seed = _integer(d["seed"], "seed", minimum=None)
        if "latency" in d:
            out.latency = _number(d["latency"], "latency")
        if "latency_by_path" in d:
            out.latency_by_path = {_pattern(k, "latency_by_path"): _number(v, f"latency_by_path[{k!r}]")
                                   for k, v in _mapping(d["latency_by_path"], "latency_by_path").items()}
        if "fail_rate" in d:
            out.fail_rate = _rate(d["fail_rate"], "fail_rate")
        if "failures" in d:
            if not isinstance(d["failures"], list):
                raise FaultsError("failures must be a list of rules")
            out.failures = [_rule(r, f"failures[{i}]") for i, r in enumerate(d["failures"])]
        if "retry_after" in d:
            out.retry_after = _integer(d["retry_after"], "retry_after")
        if "job_seconds_by_operation" in d:
            out.job_seconds_by_operation = {
                _operation(k, "job_seconds_by_operation"): _number(v, f"job_seconds_by_operation[{k!r}]")
                for k, v in _mapping(d["job_seconds_by_operation"], "job_seconds_by_operation").items()}
        if "job_failures" in d:
            failures = {}
            for k, v in _mapping(d["job_failures"], "job_failures").items():
                if not isinstance(v, str) or not v:
                    raise FaultsError(f"job_failures[{k!r}] must be a non-empty failure description")
                failures[_operation(k, "job_failures")] = v
            out.job_failures = failures
        if "job_failure_rate" in d:
            out.job_failure_rate = _rate(d["job_failure_rate"], "job_failure_rate")
        if "entitlements_stuck" in d:
            if not isinstance(d["entitlements_stuck"], bool):
                raise FaultsError("entitlements_stuck must be true or false")
            out.entitlements_stuck = d["entitlements_stuck"]
        if "entitlement_lock_rate" in d:
            out.entitlement_lock_rate = _rate(d["entitlement_lock_rate"], "entitlement_lock_rate")
        return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _number(v: Any, where: str) -> float:
    if not _is_number(v) or v < 0:
        raise FaultsError(f"{where} must be a number of seconds >= 0")
    return float(v)


def _integer(v: Any, where: str, minimum: int | None = 0) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or (minimum is not None and v < minimum):
        raise FaultsError(f"{where} must be an integer" + (f" >= {minimum}" if minimum is not None else ""))
    return v


def _rate(v: Any, where: str) -> float:
    if not _is_number(v) or not 0 <= v <= 1:
        raise FaultsError(f"{where} must be a fraction between 0 and 1")
    return float(v)


def _mapping(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise FaultsError(f"{where} must be a mapping")
    return v


def _pattern(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v.startswith(("/", "*")):
        raise FaultsError(f"{where}: path patterns start with '/' or '*' (got {v!r})")
    return v


def _operation(v: Any, where: str) -> str:
    if v not in OPERATIONS:
        raise FaultsError(f"{where}: unknown job operation {v!r}; known: {', '.join(OPERATIONS)}")
    return str(v)


def _rule(r: Any, where: str) -> Rule:
    if not isinstance(r, dict):
        raise FaultsError(f"{where} must be a mapping")
    known = {f.name for f in fields(Rule)}
    unknown = sorted(set(r) - known)
    if unknown:
        raise FaultsError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    rule = Rule()
    if r.get("paths") is not None:
        paths = r["paths"]
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not paths:
            raise FaultsError(f"{where}.paths must be a non-empty list of path patterns")
        rule.paths = [_pattern(p, f"{where}.paths") for p in paths]
    if r.get("methods") is not None:
        methods = r["methods"]
        if isinstance(methods, str):
            methods = [methods]
        if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
            raise FaultsError(f"{where}.methods must be a non-empty list of HTTP methods")
        rule.methods = [m.upper() for m in methods]
    if r.get("rate") is not None:
        rule.rate = _rate(r["rate"], f"{where}.rate")
    if r.get("kinds") is not None:
        kinds = r["kinds"]
        if isinstance(kinds, str | int):
            kinds = [kinds]
        if not isinstance(kinds, list) or not kinds or not all(str(k) in KINDS for k in kinds):
            raise FaultsError(f"{where}.kinds must be a non-empty list of {', '.join(KINDS)}")
        rule.kinds = [str(k) for k in kinds]
    if r.get("when") is not None:
        if r["when"] not in WHENS:
            raise FaultsError(f"{where}.when must be one of {', '.join(WHENS)}")
        rule.when = r["when"]
    if r.get("times") is not None:
        rule.times = _integer(r["times"], f"{where}.times")
    return rule


# --------------------------------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # one of KINDS, or "lock" (entitlement lock, decided by the entitlements handler)
    when: str  # "before" or "after"


class FaultInjector:
    """The current fault settings and their random generator. Call only while holding `State.lock`."""

    def __init__(self, settings: Faults | None = None) -> None:
        self.settings = settings or Faults()
        self.rng = random.Random(self.settings.seed)

    def as_dict(self) -> dict[str, Any]:
        return self.settings.as_dict()

    def replace(self, data: dict[str, Any] | None) -> None:
        """Set all settings (None or {}: no faults) and restart the random generator from the seed."""
        self.settings = Faults.from_dict(data or {})
        self.rng = random.Random(self.settings.seed)

    def patch(self, changes: dict[str, Any]) -> None:
        """Merge `changes` (RFC 7386); the generator restarts only when `changes` names a seed."""
        if not isinstance(changes, dict):
            raise FaultsError("the body must be a JSON object")
        self.settings = Faults.from_dict(merge_patch(self.as_dict(), changes))
        if "seed" in changes:
            self.rng = random.Random(self.settings.seed)

    # ---- per request ---------------------------------------------------------------------------

    def latency(self, path: str) -> float:
        for pattern, seconds in self.settings.latency_by_path.items():
            if fnmatchcase(path, pattern):
                return seconds
        return self.settings.latency

    def decide(self, method: str, path: str) -> Fault | None:
        """The transient failure of one API request, or None."""
        s = self.settings
        rules = list(s.failures)
        if s.fail_rate > 0:
            rules.append(Rule(rate=s.fail_rate, kinds=list(FAIL_RATE_KINDS), when="any"))
        for rule in rules:
            if not rule.matches(method, path) or self.rng.random() >= rule.rate:
                continue
            kind = self.rng.choice(rule.kinds)
            when = rule.when
            if when == "any":
                when = "before" if method in SAFE_METHODS else self.rng.choice(("before", "after"))
            if kind == "429":
                when = "before"
            if rule.times is not None:
                rule.times -= 1
            return Fault(kind, when)
        return None

    def entitlement_locked(self) -> bool:
        rate = self.settings.entitlement_lock_rate
        return rate > 0 and self.rng.random() < rate

    # ---- jobs ----------------------------------------------------------------------------------

    def job_seconds(self, operation: str, default: float) -> float:
        return self.settings.job_seconds_by_operation.get(operation, default)

    def job_failure(self, operation: str) -> str | None:
        """Decided when the job is created: the failure description, or None."""
        s = self.settings
        if operation in s.job_failures:
            return s.job_failures[operation]
        if s.job_failure_rate > 0 and self.rng.random() < s.job_failure_rate:
            return f"Service broker error: injected failure of {operation} (job_failure_rate)"
        return None

    @property
    def entitlements_stuck(self) -> bool:
        return self.settings.entitlements_stuck


# --------------------------------------------------------------------------------------------------
# Failure responses
# --------------------------------------------------------------------------------------------------


_STATUS_TEXT = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                504: "Gateway Timeout"}
_ROUTER_502 = "502 Bad Gateway: Registered endpoint failed to handle the request.\n"
_ROUTER_504 = ("<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n"
               "</body></html>\n")


def _api_of(path: str) -> str:
    if path.startswith("/btp/"):
        return "btp"
    if path.startswith(("/uaa/", "/xsuaa/", "/alm/")) or path in ("/uaa", "/xsuaa", "/alm"):
        return "oauth"
    return "cf"


def _json(body: Any, status: int, headers: dict[str, str] | None = None,
          content_type: str = "application/json") -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type=content_type)


def failure_response(kind: str, path: str, retry_after: int) -> Response:
    """The response of an injected failure `kind` (not "reset") for a request to `path`."""
    api = _api_of(path)
    if kind == "502":
        return Response(_ROUTER_502, status=502, content_type="text/plain; charset=utf-8",
                        headers={"X-Cf-Routererror": "endpoint_failure"})
    if kind == "504":
        return Response(_ROUTER_504, status=504, content_type="text/html")
    status = int(kind)
    if kind == "429":
        headers = {"Retry-After": str(retry_after)}
        if api == "cf":  # reference 9.3: JSON body, but Content-Type text/plain
            headers.update({"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(int(time.time()) + retry_after)})
            body = {"errors": [{"detail": "Rate Limit Exceeded", "title": "CF-RateLimitExceeded", "code": 10013}]}
            return _json(body, 429, headers, "text/plain; charset=utf-8")
        if api == "btp":
            return _json(_btp_body(path, 11006, "Request rate limit exceeded.",
                                   [{"code": 11007, "message": "Request rate limit exceeded."}]), 429, headers)
        return _json({"error": "too_many_requests", "error_description": "Rate limit exceeded"}, 429, headers)
    if api == "cf":
        if kind == "503":
            body = {"errors": [{"detail": "Database connection failure", "title": "CF-ServiceUnavailable",
                                "code": 10015}]}
        else:
            body = {"errors": [{"detail": "An unknown error occurred.", "title": "UnknownError", "code": 10001}]}
        return _json(body, status)
    if api == "btp":
        return _json(_btp_body(path, 10000, _STATUS_TEXT[status]), status)
    error = "temporarily_unavailable" if kind == "503" else "server_error"
    return _json({"error": error, "error_description": _STATUS_TEXT[status]}, status)


def _btp_body(path: str, code: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "target": path, "correlationID": str(uuid.uuid4())}
    if details:
        error["details"] = details
    return {"error": error}


def reset_connection(environ: dict[str, Any]) -> NoReturn:
    """Close the client's connection without any HTTP response, then raise ConnectionResetError.

    werkzeug's request handler treats a ConnectionError from the application as a dropped connection: it
    writes nothing and logs nothing. The client sees the connection closed before a status line
    (`http.client.RemoteDisconnected`, a `ConnectionResetError`; requests raises `ConnectionError`).
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("connection reset by the landscape simulator (injected fault)")
