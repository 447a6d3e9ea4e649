"""CF v3 request handling shared by the resource handlers (authentication, permissions, body checks), and the
discovery and job endpoints.

Reference: cloud-foundry-v3-api.md 1.1-1.3 (discovery: `GET /`, `GET /v3`, `GET /v3/info`, no authentication),
7 (jobs), 9 (errors). Every other `/v3/...` endpoint requires `Authorization: bearer <token from /uaa>`; the
resource handlers are in orgs.py (orgs, spaces, roles), catalog.py (offerings, plans) and services.py
(service instances and keys).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.core.errors import cf_error, cf_forbidden, cf_not_found, cf_unprocessable
from provisioner.sim.core.http import Ctx, accepted, json_response
from provisioner.sim.core.jobs import Job


@dataclass
class Actor:
    guid: str  # user guid, or client id for client tokens
    admin: bool  # cloud_controller.admin


def authenticated(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Require a valid CF UAA token (401) with the read or write scope (403); call `handler(ctx, cf, actor, ...)`."""

    @functools.wraps(handler)
    def wrapper(ctx: Ctx, cf: CfBackend, **kwargs: Any) -> Response:
        value = ctx.bearer()
        if value is None:
            raise cf_error(401, "CF-NotAuthenticated", 10002, "Authentication error")
        claims = ctx.access_claims(value)
        if claims is None or claims.get("zid") != "uaa" or "cloud_controller" not in claims.get("aud", []):
            raise cf_error(401, "CF-InvalidAuthToken", 1000, "Invalid Auth Token")
        scopes = claims.get("scope", [])
        admin = "cloud_controller.admin" in scopes
        needed = "cloud_controller.read" if ctx.request.method == "GET" else "cloud_controller.write"
        if not admin and needed not in scopes:
            raise cf_forbidden()
        return handler(ctx, cf, Actor(claims.get("user_id") or claims["client_id"], admin), **kwargs)

    return wrapper


# ---- permissions ---------------------------------------------------------------------------------


def readable_orgs(cf: CfBackend, actor: Actor) -> set[str]:
    return set(cf.orgs) if actor.admin else cf.readable_org_guids(actor.guid)


def readable_spaces(cf: CfBackend, actor: Actor) -> set[str]:
    return set(cf.spaces) if actor.admin else cf.readable_space_guids(actor.guid)


def is_org_manager(cf: CfBackend, actor: Actor, org_guid: str) -> bool:
    return actor.admin or "organization_manager" in cf.org_role_types(actor.guid, org_guid)


def is_space_developer(cf: CfBackend, actor: Actor, space_guid: str) -> bool:
    return actor.admin or "space_developer" in cf.space_role_types(actor.guid, space_guid)


# ---- request bodies ------------------------------------------------------------------------------


def cf_body(ctx: Ctx) -> dict[str, Any]:
    """The JSON object body of a CF request (400 CF-MessageParseError otherwise)."""
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise cf_error(400, "CF-MessageParseError", 1001, "Request invalid due to parse error: invalid request body")
    return body


def check_fields(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise cf_unprocessable("Unknown field(s): " + ", ".join(f"'{k}'" for k in unknown))


def relationship_guid(body: dict[str, Any], name: str) -> str | None:
    rels = body.get("relationships")
    rel = rels.get(name) if isinstance(rels, dict) else None
    data = rel.get("data") if isinstance(rel, dict) else None
    guid = data.get("guid") if isinstance(data, dict) else None
    return guid if isinstance(guid, str) else None


def check_name(body: dict[str, Any], required: bool = True) -> str | None:
    if "name" not in body and not required:
        return None
    name = body.get("name")
    if not isinstance(name, str):
        raise cf_unprocessable("Name must be a string" if name is not None else "Name can't be blank")
    if not name:
        raise cf_unprocessable("Name can't be blank")
    if len(name) > 255:
        raise cf_unprocessable("Name is too long (maximum is 255 characters)")
    return name


def required_name(body: dict[str, Any]) -> str:
    name = check_name(body)
    assert name is not None
    return name


def metadata(body: dict[str, Any]) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Labels and annotations of a request body; a None value means "delete this key"."""
    meta = body.get("metadata", {})
    if not isinstance(meta, dict):
        raise cf_unprocessable("Metadata must be an object")
    result = []
    for part in ("labels", "annotations"):
        values = meta.get(part) or {}
        if not isinstance(values, dict) or not all(isinstance(v, str | None) for v in values.values()):
            raise cf_unprocessable(f"Metadata {part} must be an object of strings")
        result.append(values)
    return result[0], result[1]


def merge(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    merged = dict(current)
    for k, v in changes.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def job_location(ctx: Ctx, job: Job) -> Response:
    return accepted(f"{ctx.url}/v3/jobs/{job.guid}")


# ---- discovery (reference 1.1-1.3) ---------------------------------------------------------------


def global_root(ctx: Ctx, cf: CfBackend) -> Response:
    url = ctx.url
    return json_response({"links": {
        "self": {"href": url},
        "cloud_controller_v2": None,
        "cloud_controller_v3": {"href": f"{url}/v3", "meta": {"version": "3.180.0"}},
        "network_policy_v0": None, "network_policy_v1": None,
        "login": {"href": f"{url}/uaa"},
        "uaa": {"href": f"{url}/uaa"},
        "credhub": None, "routing": None, "logging": None, "log_cache": None, "log_stream": None,
        "app_ssh": None,
    }})


def v3_root(ctx: Ctx, cf: CfBackend) -> Response:
    names = ("organizations", "roles", "service_credential_bindings", "service_instances",
             "service_offerings", "service_plans", "spaces", "jobs")
    links: dict[str, Any] = {"self": {"href": f"{ctx.url}/v3"}}
    links.update({n: {"href": f"{ctx.url}/v3/{n}"} for n in names})
    return json_response({"links": links})


def v3_info(ctx: Ctx, cf: CfBackend) -> Response:
    return json_response({
        "build": "provisioner-sim", "cli_version": {"minimum": "", "recommended": ""}, "custom": {},
        "description": "Landscape simulator", "name": "Cloud Foundry (simulated)", "version": 0,
        "osbapi_version": "2.15", "rate_limits": {"enabled": False, "general_limit": 0,
                                                  "reset_interval_in_minutes": 0},
        "links": {"self": {"href": f"{ctx.url}/v3/info"}, "support": {"href": ""}},
    })


# ---- jobs (reference 7) --------------------------------------------------------------------------

_JOB_RESOURCES = {"service_instances": "service_instances",
                  "service_credential_binding": "service_credential_bindings"}


@authenticated
def get_job(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    job = cf.jobs_by_guid.get(guid)
    if job is None:
        raise cf_not_found("Job not found")
    if job.done:
        job_state = "FAILED" if job.failure else "COMPLETE"
    else:
        job_state = "PROCESSING" if cf.jobs.phase(job) == 0 else "POLLING"
    errors = []
    if job.failure:
        verb = job.operation.rsplit(".", 1)[-1]
        errors = [{"code": 10009, "title": "CF-UnableToPerform",
                   "detail": f"{verb} could not be completed: {job.failure}"}]
    links: dict[str, Any] = {"self": {"href": f"{ctx.url}/v3/jobs/{job.guid}"}}
    existing: dict[str, dict[str, Any]] = {"service_instances": cf.instances, "service_credential_binding": cf.keys}
    if job.resource_type in _JOB_RESOURCES and job.resource_guid in existing[job.resource_type]:
        links[job.resource_type] = {"href": f"{ctx.url}/v3/{_JOB_RESOURCES[job.resource_type]}/{job.resource_guid}"}
    return json_response({"guid": job.guid, "created_at": job.created_at, "updated_at": job.updated_at,
                          "operation": job.operation, "state": job_state, "errors": errors, "warnings": [],
                          "links": links})
