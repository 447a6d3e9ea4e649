"""The error envelopes of the simulated APIs, built once and used by handlers and fault injection alike.

- CF v3 (cloud-foundry-v3-api.md 9.2, 9.3): `{"errors": [{"detail", "title", "code"}]}`;
- BTP (btp-account-apis.md 2, "Errors for all CIS services"): `{"error": {"code", "message", "target",
  "correlationID", "details"?}}`;
- OAuth (UAA, XSUAA, Cloud ALM placeholder; cloud-foundry-v3-api.md 2.3): `{"error", "error_description"}`;
- SAP Service Manager (`/sm/...`; Peripli specification api.md "Errors"): `{"error": "<OneWord>", "description"}`;
- a router's non-JSON 502/504 in front of any of them.

`api_of(path)` tells which API a path belongs to (docs/simulator.md, "URL layout").
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.core.http import SimError, json_response
from provisioner.sim.core.ids import new_guid

RATE_LIMIT = 20000  # X-RateLimit-Limit of a CF 429 (the CC's default global limit)
_STATUS_TEXT = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                504: "Gateway Timeout"}
_ROUTER_502 = "502 Bad Gateway: Registered endpoint failed to handle the request.\n"
_ROUTER_504 = ("<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n"
               "</body></html>\n")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def api_of(path: str) -> str:
    """"btp" (`/btp/...`), "sm" (`/sm/...`), "oauth" (`/uaa`, `/xsuaa`, `/alm`, `/_sim`) or "cf" (everything
    else)."""
    if path.startswith("/btp/"):
        return "btp"
    if path.startswith("/sm/"):
        return "sm"
    if path.startswith(("/uaa", "/xsuaa", "/alm", "/_sim")):
        return "oauth"
    return "cf"


# ---- CF v3 ---------------------------------------------------------------------------------------


def cf_error(status: int, title: str, code: int, detail: str, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> SimError:
    body = {"errors": [{"detail": detail, "title": title, "code": code}]}
    return SimError(json_response(body, status, headers, content_type))


def cf_unprocessable(detail: str) -> SimError:
    return cf_error(422, "CF-UnprocessableEntity", 10008, detail)


def cf_not_found(detail: str) -> SimError:
    return cf_error(404, "CF-ResourceNotFound", 10010, detail)


def cf_forbidden() -> SimError:
    return cf_error(403, "CF-NotAuthorized", 10003, "You are not authorized to perform the requested action")


def cf_bad_query(detail: str) -> SimError:
    return cf_error(400, "CF-BadQueryParameter", 10005, f"The query parameter is invalid: {detail}")


def cf_unknown_error() -> SimError:
    return cf_error(500, "UnknownError", 10001, "An unknown error occurred.")


# ---- BTP -----------------------------------------------------------------------------------------


def btp_error(path: str, status: int, code: int, message: str, details: list[dict[str, Any]] | None = None,
              headers: dict[str, str] | None = None) -> SimError:
    error: dict[str, Any] = {"code": code, "message": message, "target": path, "correlationID": new_guid()}
    if details:
        error["details"] = details
    return SimError(json_response({"error": error}, status, headers))


# ---- Service Manager -----------------------------------------------------------------------------

# The 429 description of SAP's page "Rate Limiting" (btp-service-manager rate-limiting-97be679.md); the error
# word is the one Peripli's rate limiter sends (api/filters/rate_limiter_filter.go).
SM_RATE_LIMITED = ("The allowed request limit of 600 responses has been reached. Please try again later.Check the "
                   "'Retry-After' header value to see how long you need to wait.")
SM_CONCURRENT = "Another concurrent operation in progress for this resource"


def sm_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> SimError:
    return SimError(json_response({"error": error, "description": description}, status, headers))


def http_date(seconds_from_now: float) -> str:
    """An HTTP date (RFC 9110, `Sun, 06 Nov 1994 08:49:37 GMT`) `seconds_from_now` seconds ahead."""
    return formatdate(time.time() + seconds_from_now, usegmt=True)


# ---- OAuth ---------------------------------------------------------------------------------------


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None,
                no_store: bool = True) -> SimError:
    all_headers = {**(_NO_STORE if no_store else {}), **(headers or {})}
    return SimError(json_response({"error": error, "error_description": description}, status, all_headers))


# ---- by path -------------------------------------------------------------------------------------


def route_not_found(path: str) -> Response:
    """The 404 of a path no route serves, in the shape of the API it belongs to."""
    api = api_of(path)
    if api == "btp":
        return btp_error(path, 404, 11000, "Requested route not found").response
    if api == "sm":
        return sm_error(404, "NotFound", "could not find such route").response
    if api == "oauth":
        return oauth_error(404, "not_found", "Not found", no_store=False).response
    return cf_error(404, "CF-NotFound", 10000, "Unknown request").response


def _unprocessable(api: str, path: str) -> SimError:
    """An injected 422: for Service Manager the concurrent operation of Peripli's scheduler; elsewhere the API's
    own "operation in progress" refusal."""
    if api == "sm":
        return sm_error(422, "ConcurrentOperationInProgress", SM_CONCURRENT)
    if api == "cf":
        return cf_unprocessable("There is an operation in progress for the service instance.")
    if api == "btp":
        return btp_error(path, 422, 11000, "Unprocessable entity")
    return oauth_error(422, "invalid_request", "Unprocessable entity", no_store=False)


def failure_response(kind: str, path: str, retry_after: int) -> Response:
    """The response of an injected failure `kind` ("422", "429", "500", "502", "503", "504") for `path`
    (docs/simulator.md, "Faults"); `retry_after` is the `Retry-After` of a 429, seconds."""
    api = api_of(path)
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
            return cf_error(429, "CF-RateLimitExceeded", 10013, "Rate Limit Exceeded", headers,
                            "text/plain; charset=utf-8").response
        if api == "sm":  # SAP's page "Rate Limiting": Retry-After is an HTTP date
            return sm_error(429, "BadRequest", SM_RATE_LIMITED, {"Retry-After": http_date(retry_after)}).response
        if api == "btp":
            message = "Request rate limit exceeded."
            return btp_error(path, 429, 11006, message, [{"code": 11007, "message": message}], headers).response
        return oauth_error(429, "too_many_requests", "Rate limit exceeded", headers, no_store=False).response
    if kind == "422":
        return _unprocessable(api, path).response
    if api == "cf":
        if kind == "503":
            return cf_error(503, "CF-ServiceUnavailable", 10015, "Database connection failure").response
        return cf_error(status, "UnknownError", 10001, "An unknown error occurred.").response
    if api == "btp":
        return btp_error(path, status, 10000, _STATUS_TEXT[status]).response
    if api == "sm":
        return sm_error(status, _STATUS_TEXT[status].replace(" ", ""), _STATUS_TEXT[status]).response
    error = "temporarily_unavailable" if kind == "503" else "server_error"
    return oauth_error(status, error, _STATUS_TEXT[status], no_store=False).response
