"""Cloud Foundry v3 API (Cloud Controller) of the simulator: `/`, `/v3`, `/v3/info` and the resources the
provisioner uses.

Reference: ../shared/reference/cloud-foundry-v3-api.md
- 1.1-1.3 discovery (`GET /`, `GET /v3`, `GET /v3/info`, no authentication);
- 3 organizations and spaces (`POST /v3/spaces`);
- 4 roles (`POST /v3/roles`, `GET /v3/roles?include=user`, `DELETE /v3/roles/:guid`);
- 5 service offerings and plans (plans tied to a BTP entitlement are visible only to the orgs of
  subaccounts where that plan is assigned with entityState OK);
- 6 service instances (async create/update/delete, `/parameters`);
- 7 jobs;
- 8 service credential bindings of type key (async create/delete, `/details`);
- 9 pagination, error envelope, guids and timestamps.

Every `/v3/...` endpoint except `/v3` and `/v3/info` requires `Authorization: bearer <token from /uaa>`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from provisioner.sim.server import (
    Ctx,
    ListQuery,
    SimError,
    accepted,
    cf_error,
    cf_forbidden,
    cf_not_found,
    cf_unprocessable,
    json_response,
    list_query,
    paginate,
)
from provisioner.sim.state import (
    ORG_ROLE_TYPES,
    SPACE_ROLE_TYPES,
    Instance,
    Job,
    Key,
    Offering,
    Org,
    Plan,
    Role,
    Space,
    iso_now,
    new_guid,
    stable_guid,
)

QUOTA_GUID = stable_guid("quota", "default")
NOT_IN_ORG = ("Users cannot be assigned roles in a space if they do not have a role in that space's "
              "organization.")
INVALID_PLAN = ("Invalid service plan. Ensure that the service plan exists, is available, and you have "
                "access to it.")
_NAMES = ("created_at", "updated_at", "name")


def rules() -> list[Rule]:
    r = Rule
    return [
        r("/", endpoint=global_root, methods=["GET"]),
        r("/v3", endpoint=v3_root, methods=["GET"]),
        r("/v3/info", endpoint=v3_info, methods=["GET"]),
        r("/v3/organizations", endpoint=list_orgs, methods=["GET"]),
        r("/v3/organizations/<guid>", endpoint=get_org, methods=["GET"]),
        r("/v3/spaces", endpoint=list_spaces, methods=["GET"]),
        r("/v3/spaces", endpoint=create_space, methods=["POST"]),
        r("/v3/spaces/<guid>", endpoint=get_space, methods=["GET"]),
        r("/v3/roles", endpoint=list_roles, methods=["GET"]),
        r("/v3/roles", endpoint=create_role, methods=["POST"]),
        r("/v3/roles/<guid>", endpoint=get_role, methods=["GET"]),
        r("/v3/roles/<guid>", endpoint=delete_role, methods=["DELETE"]),
        r("/v3/service_offerings", endpoint=list_offerings, methods=["GET"]),
        r("/v3/service_offerings/<guid>", endpoint=get_offering, methods=["GET"]),
        r("/v3/service_plans", endpoint=list_plans, methods=["GET"]),
        r("/v3/service_plans/<guid>", endpoint=get_plan, methods=["GET"]),
        r("/v3/service_instances", endpoint=list_instances, methods=["GET"]),
        r("/v3/service_instances", endpoint=create_instance, methods=["POST"]),
        r("/v3/service_instances/<guid>", endpoint=get_instance, methods=["GET"]),
        r("/v3/service_instances/<guid>", endpoint=update_instance, methods=["PATCH"]),
        r("/v3/service_instances/<guid>", endpoint=delete_instance, methods=["DELETE"]),
        r("/v3/service_instances/<guid>/parameters", endpoint=instance_parameters, methods=["GET"]),
        r("/v3/service_credential_bindings", endpoint=list_keys, methods=["GET"]),
        r("/v3/service_credential_bindings", endpoint=create_key, methods=["POST"]),
        r("/v3/service_credential_bindings/<guid>", endpoint=get_key, methods=["GET"]),
        r("/v3/service_credential_bindings/<guid>", endpoint=delete_key, methods=["DELETE"]),
        r("/v3/service_credential_bindings/<guid>/details", endpoint=key_details, methods=["GET"]),
        r("/v3/service_credential_bindings/<guid>/parameters", endpoint=key_parameters, methods=["GET"]),
        r("/v3/jobs/<guid>", endpoint=get_job, methods=["GET"]),
    ]


# --------------------------------------------------------------------------------------------------
# Authentication, permissions, small helpers
# --------------------------------------------------------------------------------------------------


@dataclass
class Actor:
    guid: str
    admin: bool


def authenticated(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Require a valid CF UAA token (401) with the read or write scope (403); pass the Actor on."""

    @functools.wraps(handler)
    def wrapper(ctx: Ctx, **kwargs: Any) -> Response:
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
        return handler(ctx, Actor(claims.get("user_id") or claims["client_id"], admin), **kwargs)

    return wrapper


def _readable_orgs(ctx: Ctx, actor: Actor) -> set[str]:
    return set(ctx.state.orgs) if actor.admin else ctx.state.readable_org_guids(actor.guid)


def _readable_spaces(ctx: Ctx, actor: Actor) -> set[str]:
    return set(ctx.state.spaces) if actor.admin else ctx.state.readable_space_guids(actor.guid)


def _is_org_manager(ctx: Ctx, actor: Actor, org_guid: str) -> bool:
    return actor.admin or "organization_manager" in ctx.state.org_role_types(actor.guid, org_guid)


def _is_space_developer(ctx: Ctx, actor: Actor, space_guid: str) -> bool:
    return actor.admin or "space_developer" in ctx.state.space_role_types(actor.guid, space_guid)


def _check_fields(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise cf_unprocessable("Unknown field(s): " + ", ".join(f"'{k}'" for k in unknown))


def _relationship_guid(body: dict[str, Any], name: str) -> str | None:
    rels = body.get("relationships")
    rel = rels.get(name) if isinstance(rels, dict) else None
    data = rel.get("data") if isinstance(rel, dict) else None
    guid = data.get("guid") if isinstance(data, dict) else None
    return guid if isinstance(guid, str) else None


def _check_name(body: dict[str, Any], required: bool = True) -> str | None:
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


def _metadata(body: dict[str, Any]) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Labels and annotations of a request body; a None value means "delete this key"."""
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict):
        raise cf_unprocessable("Metadata must be an object")
    result = []
    for part in ("labels", "annotations"):
        values = metadata.get(part) or {}
        if not isinstance(values, dict) or not all(isinstance(v, str | None) for v in values.values()):
            raise cf_unprocessable(f"Metadata {part} must be an object of strings")
        result.append(values)
    return result[0], result[1]


def _merge(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    merged = dict(current)
    for k, v in changes.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def _meta(obj: Any) -> dict[str, Any]:
    return {"labels": dict(obj.labels), "annotations": dict(obj.annotations)}


def _in(value: str, wanted: list[str] | set[str] | None) -> bool:
    return wanted is None or value in wanted


def _job_location(ctx: Ctx, job: Job) -> Response:
    return accepted(f"{ctx.url}/v3/jobs/{job.guid}")


# --------------------------------------------------------------------------------------------------
# Discovery (reference 1.1-1.3)
# --------------------------------------------------------------------------------------------------


def global_root(ctx: Ctx) -> Response:
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


def v3_root(ctx: Ctx) -> Response:
    names = ("organizations", "roles", "service_credential_bindings", "service_instances",
             "service_offerings", "service_plans", "spaces", "jobs")
    links: dict[str, Any] = {"self": {"href": f"{ctx.url}/v3"}}
    links.update({n: {"href": f"{ctx.url}/v3/{n}"} for n in names})
    return json_response({"links": links})


def v3_info(ctx: Ctx) -> Response:
    return json_response({
        "build": "provisioner-sim", "cli_version": {"minimum": "", "recommended": ""}, "custom": {},
        "description": "Landscape simulator", "name": "Cloud Foundry (simulated)", "version": 0,
        "osbapi_version": "2.15", "rate_limits": {"enabled": False, "general_limit": 0,
                                                  "reset_interval_in_minutes": 0},
        "links": {"self": {"href": f"{ctx.url}/v3/info"}, "support": {"href": ""}},
    })


# --------------------------------------------------------------------------------------------------
# Organizations and spaces (reference 3)
# --------------------------------------------------------------------------------------------------


def present_org(ctx: Ctx, o: Org) -> dict[str, Any]:
    base = f"{ctx.url}/v3/organizations/{o.guid}"
    return {"guid": o.guid, "created_at": o.created_at, "updated_at": o.updated_at, "name": o.name,
            "suspended": False, "relationships": {"quota": {"data": {"guid": QUOTA_GUID}}},
            "metadata": _meta(o),
            "links": {"self": {"href": base}, "domains": {"href": f"{base}/domains"},
                      "default_domain": {"href": f"{base}/domains/default"},
                      "quota": {"href": f"{ctx.url}/v3/organization_quotas/{QUOTA_GUID}"}}}


def present_space(ctx: Ctx, s: Space) -> dict[str, Any]:
    base = f"{ctx.url}/v3/spaces/{s.guid}"
    return {"guid": s.guid, "created_at": s.created_at, "updated_at": s.updated_at, "name": s.name,
            "suspended": False,
            "relationships": {"organization": {"data": {"guid": s.org_guid}}, "quota": {"data": None}},
            "metadata": _meta(s),
            "links": {"self": {"href": base}, "features": {"href": f"{base}/features"},
                      "organization": {"href": f"{ctx.url}/v3/organizations/{s.org_guid}"},
                      "apply_manifest": {"href": f"{base}/actions/apply_manifest", "method": "POST"}}}


@authenticated
def list_orgs(ctx: Ctx, actor: Actor) -> Response:
    q = list_query(ctx, ("names", "guids", "label_selector"), _NAMES)
    names, guids, readable = q.lower_values("names"), q.values("guids"), _readable_orgs(ctx, actor)
    items = [o for o in ctx.state.orgs.values() if o.guid in readable and _in(o.name.lower(), names)
             and _in(o.guid, guids) and q.labels_match(o.labels)]
    return paginate(ctx, q, "/v3/organizations", items, lambda o: present_org(ctx, o))


@authenticated
def get_org(ctx: Ctx, actor: Actor, guid: str) -> Response:
    org = ctx.state.orgs.get(guid)
    if org is None or guid not in _readable_orgs(ctx, actor):
        raise cf_not_found("Organization not found")
    return json_response(present_org(ctx, org))


@authenticated
def list_spaces(ctx: Ctx, actor: Actor) -> Response:
    q = list_query(ctx, ("names", "guids", "organization_guids", "include", "label_selector"), _NAMES)
    include = q.values("include")
    if include is not None and set(include) - {"organization"}:
        raise cf_error(400, "CF-BadQueryParameter", 10005,
                       "The query parameter is invalid: Invalid included resource: 'include'")
    names, guids, org_guids = q.lower_values("names"), q.values("guids"), q.values("organization_guids")
    readable = _readable_spaces(ctx, actor)
    items = [s for s in ctx.state.spaces.values() if s.guid in readable and _in(s.name.lower(), names)
             and _in(s.guid, guids) and _in(s.org_guid, org_guids) and q.labels_match(s.labels)]

    def included(page: list[Space]) -> dict[str, Any]:
        orgs = {s.org_guid: ctx.state.orgs[s.org_guid] for s in page}
        return {"organizations": [present_org(ctx, o) for o in orgs.values()]}

    return paginate(ctx, q, "/v3/spaces", items, lambda s: present_space(ctx, s),
                    included if include else None)


@authenticated
def get_space(ctx: Ctx, actor: Actor, guid: str) -> Response:
    space = ctx.state.spaces.get(guid)
    if space is None or guid not in _readable_spaces(ctx, actor):
        raise cf_not_found("Space not found")
    return json_response(present_space(ctx, space))


@authenticated
def create_space(ctx: Ctx, actor: Actor) -> Response:
    body = ctx.cf_body()
    _check_fields(body, ("name", "relationships", "suspended", "metadata"))
    name = _check_name(body)
    assert name is not None
    labels, annotations = _metadata(body)
    org_guid = _relationship_guid(body, "organization")
    org = ctx.state.orgs.get(org_guid or "")
    if org is None or org.guid not in _readable_orgs(ctx, actor):
        raise cf_unprocessable("Invalid organization. Ensure the organization exists and you have access to "
                               "it.")
    if not _is_org_manager(ctx, actor, org.guid):
        raise cf_forbidden()
    if any(s.org_guid == org.guid and s.name.lower() == name.lower() for s in ctx.state.spaces.values()):
        raise cf_unprocessable("Name must be unique per organization")
    now = iso_now()
    space = Space(new_guid(), name, org.guid, now, now, ctx.state.next_seq(),
                  _merge({}, labels), _merge({}, annotations))
    ctx.state.spaces[space.guid] = space
    return json_response(present_space(ctx, space), 201)


# --------------------------------------------------------------------------------------------------
# Roles (reference 4)
# --------------------------------------------------------------------------------------------------


def present_role(ctx: Ctx, r: Role) -> dict[str, Any]:
    links = {"self": {"href": f"{ctx.url}/v3/roles/{r.guid}"},
             "user": {"href": f"{ctx.url}/v3/users/{r.user_guid}"}}
    if r.space_guid:
        links["space"] = {"href": f"{ctx.url}/v3/spaces/{r.space_guid}"}
    else:
        links["organization"] = {"href": f"{ctx.url}/v3/organizations/{r.org_guid}"}
    return {"guid": r.guid, "created_at": r.created_at, "updated_at": r.updated_at, "type": r.type,
            "relationships": {"user": {"data": {"guid": r.user_guid}},
                              "organization": {"data": {"guid": r.org_guid} if r.org_guid else None},
                              "space": {"data": {"guid": r.space_guid} if r.space_guid else None}},
            "links": links}


def _user_identity(ctx: Ctx, guid: str) -> tuple[str | None, str | None]:
    """(username, origin) of a CF user guid; (None, None) for client tokens."""
    user = ctx.state.user_by_guid(guid)
    return (user.username, user.origin) if user else (None, None)


def present_user(ctx: Ctx, guid: str) -> dict[str, Any]:
    username, origin = _user_identity(ctx, guid)
    return {"guid": guid, "created_at": "1970-01-01T00:00:00Z", "updated_at": "1970-01-01T00:00:00Z",
            "username": username, "presentation_name": username or guid, "origin": origin,
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{ctx.url}/v3/users/{guid}"}}}


def _role_org_guid(ctx: Ctx, r: Role) -> str:
    return r.org_guid or ctx.state.spaces[r.space_guid or ""].org_guid


@authenticated
def list_roles(ctx: Ctx, actor: Actor) -> Response:
    q = list_query(ctx, ("guids", "types", "space_guids", "organization_guids", "user_guids", "include"),
                   ("created_at", "updated_at"), unprocessable=True)
    include = set(q.values("include") or [])
    if include - {"user", "space", "organization"}:
        raise cf_unprocessable("Invalid included resource: " + ", ".join(sorted(include)))
    readable = _readable_orgs(ctx, actor)
    guids, types, users = q.values("guids"), q.values("types"), q.values("user_guids")
    space_guids, org_guids = q.values("space_guids"), q.values("organization_guids")
    items = [r for r in ctx.state.roles.values()
             if _role_org_guid(ctx, r) in readable and _in(r.guid, guids) and _in(r.type, types)
             and _in(r.user_guid, users)
             and (space_guids is None or r.space_guid in space_guids)
             and (org_guids is None or r.org_guid in org_guids)]

    def included(page: list[Role]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if "user" in include:
            result["users"] = [present_user(ctx, g) for g in dict.fromkeys(r.user_guid for r in page)]
        if "space" in include:
            spaces = dict.fromkeys(r.space_guid for r in page if r.space_guid)
            result["spaces"] = [present_space(ctx, ctx.state.spaces[g]) for g in spaces if g]
        if "organization" in include:
            orgs = dict.fromkeys(r.org_guid for r in page if r.org_guid)
            result["organizations"] = [present_org(ctx, ctx.state.orgs[g]) for g in orgs if g]
        return result

    return paginate(ctx, q, "/v3/roles", items, lambda r: present_role(ctx, r), included if include else None)


@authenticated
def get_role(ctx: Ctx, actor: Actor, guid: str) -> Response:
    role = ctx.state.roles.get(guid)
    if role is None or _role_org_guid(ctx, role) not in _readable_orgs(ctx, actor):
        raise cf_not_found("Role not found")
    return json_response(present_role(ctx, role))


def _resolve_role_user(ctx: Ctx, data: dict[str, Any], space_role: bool) -> str:
    """The guid of the user named in `relationships.user.data` (by guid, or by username + origin)."""
    if isinstance(data.get("guid"), str):
        guid = data["guid"]
        if ctx.state.user_by_guid(guid) is None and ctx.state.cf_client(guid) is None:
            raise cf_unprocessable("Invalid user. Ensure that the user exists and you have access to it.")
        return guid
    username, origin = data.get("username"), data.get("origin")
    if not isinstance(username, str) or not username:
        raise cf_unprocessable("Relationships User must have a guid or a username")
    users = ctx.state.users_by_name(username, origin)
    if len(users) > 1:
        origins = ", ".join(sorted(u.origin for u in users))
        raise cf_unprocessable(f"Ambiguous user. User with username '{username}' exists in the following "
                               f"origins: {origins}. Specify an origin to disambiguate.")
    if not users:
        if space_role:
            raise cf_unprocessable(NOT_IN_ORG)
        raise cf_unprocessable(f"No user exists with the username '{username}' and origin "
                               f"'{origin or 'uaa'}'.")
    return users[0].guid


@authenticated
def create_role(ctx: Ctx, actor: Actor) -> Response:
    state = ctx.state
    body = ctx.cf_body()
    _check_fields(body, ("type", "relationships"))
    type_ = body.get("type")
    if type_ not in ORG_ROLE_TYPES + SPACE_ROLE_TYPES:
        allowed = ", ".join(f"'{t}'" for t in ORG_ROLE_TYPES + SPACE_ROLE_TYPES)
        raise cf_unprocessable(f"Type must be one of the allowed types [{allowed}]")
    rels = body.get("relationships")
    user_data = ((rels or {}).get("user") or {}).get("data") if isinstance(rels, dict) else None
    if not isinstance(user_data, dict):
        raise cf_unprocessable("Relationships User can't be blank")

    if type_ in SPACE_ROLE_TYPES:
        space = state.spaces.get(_relationship_guid(body, "space") or "")
        if space is None or space.guid not in _readable_spaces(ctx, actor):
            raise cf_unprocessable("Invalid space. Ensure that the space exists and you have access to it.")
        if not (_is_org_manager(ctx, actor, space.org_guid)
                or "space_manager" in state.space_role_types(actor.guid, space.guid)):
            raise cf_forbidden()
        user_guid = _resolve_role_user(ctx, user_data, space_role=True)
        if not state.org_role_types(user_guid, space.org_guid):
            raise cf_unprocessable(NOT_IN_ORG)
        if type_ in state.space_role_types(user_guid, space.guid):
            raise cf_unprocessable(f"User '{_presentation(ctx, user_guid)}' already has '{type_}' role in "
                                   f"space '{space.name}'.")
        role = state.add_role(type_, user_guid, None, space.guid)
    else:
        org = state.orgs.get(_relationship_guid(body, "organization") or "")
        if org is None or org.guid not in _readable_orgs(ctx, actor):
            raise cf_unprocessable("Invalid organization. Ensure that the organization exists and you have "
                                   "access to it.")
        if not _is_org_manager(ctx, actor, org.guid):
            raise cf_forbidden()
        user_guid = _resolve_role_user(ctx, user_data, space_role=False)
        if type_ in state.org_role_types(user_guid, org.guid):
            raise cf_unprocessable(f"User '{_presentation(ctx, user_guid)}' already has '{type_}' role in "
                                   f"organization '{org.name}'.")
        role = state.add_role(type_, user_guid, org.guid, None)
    return json_response(present_role(ctx, role), 201)


def _presentation(ctx: Ctx, user_guid: str) -> str:
    return _user_identity(ctx, user_guid)[0] or user_guid


@authenticated
def delete_role(ctx: Ctx, actor: Actor, guid: str) -> Response:
    state = ctx.state
    role = state.roles.get(guid)
    if role is None or _role_org_guid(ctx, role) not in _readable_orgs(ctx, actor):
        raise cf_not_found("Role not found")
    org_guid = _role_org_guid(ctx, role)
    if not (_is_org_manager(ctx, actor, org_guid)
            or (role.space_guid and "space_manager" in state.space_role_types(actor.guid, role.space_guid))):
        raise cf_forbidden()
    if role.type == "organization_user" and any(
            r.user_guid == role.user_guid and r.space_guid and state.spaces[r.space_guid].org_guid == org_guid
            for r in state.roles.values()):
        raise cf_unprocessable("Cannot delete organization_user role while user has roles in spaces in that "
                               "organization.")

    def effect() -> str | None:
        state.roles.pop(role.guid, None)
        return None

    return _job_location(ctx, state.start_job(Job("cf", "role.delete", effect)))


# --------------------------------------------------------------------------------------------------
# Service offerings and plans (reference 5)
# --------------------------------------------------------------------------------------------------


def present_offering(ctx: Ctx, o: Offering) -> dict[str, Any]:
    return {"guid": o.guid, "name": o.name, "description": o.description, "available": True, "tags": o.tags,
            "requires": [], "created_at": o.created_at, "updated_at": o.created_at, "shareable": False,
            "documentation_url": None,
            "broker_catalog": {"id": o.catalog_id, "metadata": {"shareable": False},
                               "features": {"plan_updateable": o.plan_updateable, "bindable": o.bindable,
                                            "instances_retrievable": ctx.state.instances_retrievable(o),
                                            "bindings_retrievable": True, "allow_context_updates": False}},
            "relationships": {"service_broker": {"data": {"guid": o.broker_guid}}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{ctx.url}/v3/service_offerings/{o.guid}"},
                      "service_plans": {
                          "href": f"{ctx.url}/v3/service_plans?service_offering_guids={o.guid}"},
                      "service_broker": {"href": f"{ctx.url}/v3/service_brokers/{o.broker_guid}"}}}


def present_plan(ctx: Ctx, p: Plan) -> dict[str, Any]:
    o = ctx.state.offerings[p.offering_guid]
    return {"guid": p.guid, "name": p.name, "description": p.description,
            "visibility_type": p.visibility_type, "available": True, "free": True, "costs": [],
            "created_at": p.created_at, "updated_at": p.created_at,
            "maintenance_info": {},
            "broker_catalog": {"id": p.catalog_id, "metadata": {}, "maximum_polling_duration": None,
                               "features": {"plan_updateable": o.plan_updateable, "bindable": o.bindable}},
            "schemas": {"service_instance": {"create": {"parameters": {}}, "update": {"parameters": {}}},
                        "service_binding": {"create": {"parameters": {}}}},
            "relationships": {"service_offering": {"data": {"guid": o.guid}}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{ctx.url}/v3/service_plans/{p.guid}"},
                      "service_offering": {"href": f"{ctx.url}/v3/service_offerings/{o.guid}"},
                      "visibility": {"href": f"{ctx.url}/v3/service_plans/{p.guid}/visibility"}}}


def _plan_visible(ctx: Ctx, actor: Actor, plan: Plan, org_guids: set[str] | None = None) -> bool:
    """Visible to the actor; with `org_guids`, only through those orgs (space/org filters)."""
    if org_guids is None:
        if actor.admin or plan.entitlement is None:
            return True
        org_guids = _readable_orgs(ctx, actor)
    return any(ctx.state.plan_visible_in_org(plan, g) for g in org_guids)


def _filter_orgs(ctx: Ctx, actor: Actor, q: ListQuery) -> set[str] | None:
    """Orgs named by `organization_guids` and `space_guids` filters (readable ones only), or None."""
    org_guids, space_guids = q.values("organization_guids"), q.values("space_guids")
    if org_guids is None and space_guids is None:
        return None
    orgs = set(org_guids or [])
    readable_spaces = _readable_spaces(ctx, actor)
    orgs |= {ctx.state.spaces[g].org_guid for g in space_guids or [] if g in readable_spaces}
    return orgs & _readable_orgs(ctx, actor)


@authenticated
def list_offerings(ctx: Ctx, actor: Actor) -> Response:
    q = list_query(ctx, ("names", "guids", "available", "space_guids", "organization_guids",
                         "service_broker_guids", "label_selector"), _NAMES)
    names, guids, brokers = q.lower_values("names"), q.values("guids"), q.values("service_broker_guids")
    orgs = _filter_orgs(ctx, actor, q)
    items = [o for o in ctx.state.offerings.values()
             if _in(o.name.lower(), names) and _in(o.guid, guids) and _in(o.broker_guid, brokers)
             and q.args.get("available", "true") == "true" and q.labels_match({})
             and any(_plan_visible(ctx, actor, p, orgs) for p in ctx.state.plans.values()
                     if p.offering_guid == o.guid)]
    return paginate(ctx, q, "/v3/service_offerings", items, lambda o: present_offering(ctx, o))


@authenticated
def get_offering(ctx: Ctx, actor: Actor, guid: str) -> Response:
    o = ctx.state.offerings.get(guid)
    plans = [p for p in ctx.state.plans.values() if p.offering_guid == guid]
    if o is None or not any(_plan_visible(ctx, actor, p) for p in plans):
        raise cf_not_found("Service offering not found")
    return json_response(present_offering(ctx, o))


@authenticated
def list_plans(ctx: Ctx, actor: Actor) -> Response:
    q = list_query(ctx, ("names", "guids", "available", "service_offering_names", "service_offering_guids",
                         "space_guids", "organization_guids", "service_broker_guids", "include",
                         "label_selector"), _NAMES)
    include = q.values("include")
    if include is not None and set(include) - {"service_offering"}:
        raise cf_error(400, "CF-BadQueryParameter", 10005,
                       "The query parameter is invalid: Invalid included resource: 'include'")
    names, guids = q.lower_values("names"), q.values("guids")
    offering_names = q.lower_values("service_offering_names")
    offering_guids = q.values("service_offering_guids")
    brokers = q.values("service_broker_guids")
    orgs = _filter_orgs(ctx, actor, q)
    offerings = ctx.state.offerings
    items = [p for p in ctx.state.plans.values()
             if _in(p.name.lower(), names) and _in(p.guid, guids) and _in(p.offering_guid, offering_guids)
             and _in(offerings[p.offering_guid].name.lower(), offering_names)
             and _in(offerings[p.offering_guid].broker_guid, brokers)
             and q.args.get("available", "true") == "true" and q.labels_match({})
             and _plan_visible(ctx, actor, p, orgs)]

    def included(page: list[Plan]) -> dict[str, Any]:
        guids_ = dict.fromkeys(p.offering_guid for p in page)
        return {"service_offerings": [present_offering(ctx, offerings[g]) for g in guids_]}

    return paginate(ctx, q, "/v3/service_plans", items, lambda p: present_plan(ctx, p),
                    included if include else None)


@authenticated
def get_plan(ctx: Ctx, actor: Actor, guid: str) -> Response:
    plan = ctx.state.plans.get(guid)
    if plan is None or not _plan_visible(ctx, actor, plan):
        raise cf_not_found("Service plan not found")
    return json_response(present_plan(ctx, plan))


# --------------------------------------------------------------------------------------------------
# Service instances (reference 6)
# --------------------------------------------------------------------------------------------------


def _last_operation(ctx: Ctx, obj: Instance | Key) -> dict[str, Any]:
    op = obj.last_operation
    return {"type": op.type, "state": ctx.state.operation_state(obj),
            "description": op.description if not ctx.state.in_progress(obj) else None,
            "updated_at": op.updated_at, "created_at": op.created_at}


def present_instance(ctx: Ctx, i: Instance) -> dict[str, Any]:
    base = f"{ctx.url}/v3/service_instances/{i.guid}"
    return {"guid": i.guid, "created_at": i.created_at, "updated_at": i.updated_at, "name": i.name,
            "tags": list(i.tags), "type": "managed", "maintenance_info": {}, "upgrade_available": False,
            "dashboard_url": None, "last_operation": _last_operation(ctx, i),
            "relationships": {"service_plan": {"data": {"guid": i.plan_guid}},
                              "space": {"data": {"guid": i.space_guid}}},
            "metadata": _meta(i),
            "links": {"self": {"href": base},
                      "service_plan": {"href": f"{ctx.url}/v3/service_plans/{i.plan_guid}"},
                      "space": {"href": f"{ctx.url}/v3/spaces/{i.space_guid}"},
                      "parameters": {"href": f"{base}/parameters"},
                      "shared_spaces": {"href": f"{base}/relationships/shared_spaces"},
                      "service_credential_bindings": {
                          "href": f"{ctx.url}/v3/service_credential_bindings?service_instance_guids="
                                  f"{i.guid}"},
                      "service_route_bindings": {
                          "href": f"{ctx.url}/v3/service_route_bindings?service_instance_guids={i.guid}"}}}


def _readable_instance(ctx: Ctx, actor: Actor, guid: str) -> Instance:
    inst = ctx.state.instances.get(guid)
    if inst is None or inst.space_guid not in _readable_spaces(ctx, actor):
        raise cf_not_found("Service instance not found")
    return inst


def _create_failed(obj: Instance | Key) -> bool:
    """Create failed and nothing runs (a finished job stays attached to its instance or key)."""
    return ((obj.job is None or obj.job.done) and obj.last_operation.type == "create"
            and obj.last_operation.state == "failed")


def _in_progress_409(inst: Instance) -> SimError:
    return cf_error(409, "CF-AsyncServiceInstanceOperationInProgress", 60016,
                    f"An operation for service instance {inst.name} is in progress.")


def _check_parameters(body: dict[str, Any]) -> dict[str, Any] | None:
    if "parameters" not in body:
        return None
    if not isinstance(body["parameters"], dict):
        raise cf_unprocessable("Parameters must be an object")
    return body["parameters"]


def _check_tags(body: dict[str, Any]) -> list[str] | None:
    if "tags" not in body:
        return None
    tags = body["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise cf_unprocessable("Tags must be a list of strings")
    if len("".join(tags)) > 2048:
        raise cf_unprocessable("tags too_long")
    return tags


@authenticated
def list_instances(ctx: Ctx, actor: Actor) -> Response:
    q = list_query(ctx, ("names", "guids", "type", "space_guids", "organization_guids", "service_plan_guids",
                         "service_plan_names", "label_selector"), _NAMES)
    state = ctx.state
    names, guids, space_guids = q.values("names"), q.values("guids"), q.values("space_guids")
    org_guids, plan_guids = q.values("organization_guids"), q.values("service_plan_guids")
    plan_names = q.lower_values("service_plan_names")
    readable = _readable_spaces(ctx, actor)
    items = [i for i in state.instances.values()
             if i.space_guid in readable and _in(i.name, names) and _in(i.guid, guids)
             and _in(i.space_guid, space_guids) and _in(state.spaces[i.space_guid].org_guid, org_guids)
             and _in(i.plan_guid, plan_guids) and _in(state.plans[i.plan_guid].name.lower(), plan_names)
             and _in("managed", q.values("type")) and q.labels_match(i.labels)]
    return paginate(ctx, q, "/v3/service_instances", items, lambda i: present_instance(ctx, i))


@authenticated
def get_instance(ctx: Ctx, actor: Actor, guid: str) -> Response:
    return json_response(present_instance(ctx, _readable_instance(ctx, actor, guid)))


@authenticated
def create_instance(ctx: Ctx, actor: Actor) -> Response:
    state = ctx.state
    body = ctx.cf_body()
    if body.get("type") not in ("managed", "user-provided"):
        raise cf_unprocessable("Type must be one of 'managed', 'user-provided'")
    if body["type"] == "user-provided":
        raise cf_unprocessable("The landscape simulator supports only managed service instances.")
    _check_fields(body, ("type", "name", "tags", "relationships", "parameters", "metadata"))
    name = _check_name(body)
    assert name is not None
    parameters = _check_parameters(body) or {}
    tags = _check_tags(body) or []
    labels, annotations = _metadata(body)
    space = state.spaces.get(_relationship_guid(body, "space") or "")
    if space is None or space.guid not in _readable_spaces(ctx, actor):
        raise cf_unprocessable("Invalid space. Ensure that the space exists and you have access to it.")
    if not _is_space_developer(ctx, actor, space.guid):
        raise cf_forbidden()
    plan = state.plans.get(_relationship_guid(body, "service_plan") or "")
    if plan is None or not _plan_visible(ctx, actor, plan):
        raise cf_unprocessable(INVALID_PLAN)
    if not state.plan_visible_in_org(plan, space.org_guid):
        raise cf_unprocessable(
            "Invalid service plan. This could be due to a space-scoped broker which is offering the service "
            f"plan '{plan.name}' with guid '{plan.guid}' in another space or that the plan is not enabled in "
            "this organization. Ensure that the service plan is visible in your current space "
            f"'{space.name}' with guid '{space.guid}'.")
    existing = next((i for i in state.instances.values() if i.space_guid == space.guid and i.name == name),
                    None)
    if existing is not None:
        if not _create_failed(existing):
            raise cf_unprocessable(f"The service instance name is taken: {name}.")
        for key in state.keys_of(existing.guid):
            del state.keys[key.guid]
        del state.instances[existing.guid]
    job = state.create_instance(name, space.guid, plan.guid, parameters, tags, _merge({}, labels),
                                _merge({}, annotations))
    return _job_location(ctx, job)


@authenticated
def update_instance(ctx: Ctx, actor: Actor, guid: str) -> Response:
    state = ctx.state
    inst = _readable_instance(ctx, actor, guid)
    body = ctx.cf_body()
    _check_fields(body, ("name", "tags", "parameters", "relationships", "maintenance_info", "metadata"))
    if not _is_space_developer(ctx, actor, inst.space_guid):
        raise cf_forbidden()
    if _create_failed(inst):
        raise cf_error(404, "CF-ServiceInstanceNotFound", 60004,
                       f"The service instance could not be found: {inst.guid}")
    if state.in_progress(inst) and any(k != "metadata" for k in body):
        raise _in_progress_409(inst)
    name = _check_name(body, required=False)
    tags = _check_tags(body)
    parameters = _check_parameters(body)
    labels, annotations = _metadata(body)
    new_plan_guid = _relationship_guid(body, "service_plan")
    if new_plan_guid == inst.plan_guid:
        new_plan_guid = None
    if new_plan_guid is not None:
        plan = state.plans.get(new_plan_guid)
        space = state.spaces[inst.space_guid]
        if (plan is None or not _plan_visible(ctx, actor, plan)
                or not state.plan_visible_in_org(plan, space.org_guid)):
            raise cf_unprocessable(INVALID_PLAN)
        if plan.offering_guid != state.plans[inst.plan_guid].offering_guid:
            raise cf_error(400, "CF-InvalidRelation", 1002,
                           "service plan relates to a different service offering")
        if not state.offerings[plan.offering_guid].plan_updateable:
            raise cf_unprocessable("The service does not support changing plans.")
    maintenance = body.get("maintenance_info")
    if name is not None and name != inst.name and any(
            i.space_guid == inst.space_guid and i.name == name for i in state.instances.values()):
        raise cf_unprocessable(f"The service instance name is taken: {name}")

    inst.name = name if name is not None else inst.name
    inst.tags = tags if tags is not None else inst.tags
    inst.labels = _merge(inst.labels, labels)
    inst.annotations = _merge(inst.annotations, annotations)
    inst.updated_at = iso_now()
    if parameters is not None or new_plan_guid is not None or isinstance(maintenance, dict):
        return _job_location(ctx, state.update_instance(inst, parameters, new_plan_guid))
    return json_response(present_instance(ctx, inst))


@authenticated
def delete_instance(ctx: Ctx, actor: Actor, guid: str) -> Response:
    state = ctx.state
    inst = _readable_instance(ctx, actor, guid)
    if ctx.request.args.get("purge") == "true":
        if not actor.admin:
            raise cf_forbidden()
        for key in state.keys_of(inst.guid):
            del state.keys[key.guid]
        del state.instances[inst.guid]
        return Response(status=204)
    if not _is_space_developer(ctx, actor, inst.space_guid):
        raise cf_forbidden()
    if state.in_progress(inst):
        raise _in_progress_409(inst)
    return _job_location(ctx, state.delete_instance(inst))


@authenticated
def instance_parameters(ctx: Ctx, actor: Actor, guid: str) -> Response:
    state = ctx.state
    inst = _readable_instance(ctx, actor, guid)
    if not state.instances_retrievable(state.offering_of(inst)):
        raise cf_error(400, "CF-ServiceFetchInstanceParametersNotSupported", 120004,
                       "This service does not support fetching service instance parameters.")
    if state.in_progress(inst):
        raise _in_progress_409(inst)
    if _create_failed(inst):
        raise cf_not_found("Service instance not found")
    return json_response(inst.parameters)


# --------------------------------------------------------------------------------------------------
# Service credential bindings of type key (reference 8)
# --------------------------------------------------------------------------------------------------


def present_key(ctx: Ctx, k: Key) -> dict[str, Any]:
    base = f"{ctx.url}/v3/service_credential_bindings/{k.guid}"
    return {"guid": k.guid, "created_at": k.created_at, "updated_at": k.updated_at, "name": k.name,
            "type": "key",
            "last_operation": _last_operation(ctx, k), "metadata": _meta(k),
            "relationships": {"service_instance": {"data": {"guid": k.instance_guid}}},
            "links": {"self": {"href": base}, "details": {"href": f"{base}/details"},
                      "parameters": {"href": f"{base}/parameters"},
                      "service_instance": {"href": f"{ctx.url}/v3/service_instances/{k.instance_guid}"}}}


def _readable_key(ctx: Ctx, actor: Actor, guid: str) -> Key:
    key = ctx.state.keys.get(guid)
    if key is None or ctx.state.instances[key.instance_guid].space_guid not in _readable_spaces(ctx, actor):
        raise cf_not_found("Service credential binding not found")
    return key


@authenticated
def list_keys(ctx: Ctx, actor: Actor) -> Response:
    q = list_query(ctx, ("names", "guids", "type", "service_instance_guids", "service_instance_names",
                         "service_plan_guids", "service_offering_guids", "label_selector"), _NAMES)
    state = ctx.state
    names, guids, instance_guids = q.values("names"), q.values("guids"), q.values("service_instance_guids")
    instance_names, plan_guids = q.values("service_instance_names"), q.values("service_plan_guids")
    offering_guids = q.values("service_offering_guids")
    types = q.values("type")
    readable = _readable_spaces(ctx, actor)
    items = []
    for k in state.keys.values():
        inst = state.instances[k.instance_guid]
        if (inst.space_guid in readable and _in(k.name, names) and _in(k.guid, guids)
                and _in(inst.guid, instance_guids) and _in(inst.name, instance_names)
                and _in(inst.plan_guid, plan_guids)
                and _in(state.plans[inst.plan_guid].offering_guid, offering_guids)
                and _in("key", types) and q.labels_match(k.labels)):
            items.append(k)
    return paginate(ctx, q, "/v3/service_credential_bindings", items, lambda k: present_key(ctx, k))


@authenticated
def get_key(ctx: Ctx, actor: Actor, guid: str) -> Response:
    return json_response(present_key(ctx, _readable_key(ctx, actor, guid)))


@authenticated
def create_key(ctx: Ctx, actor: Actor) -> Response:
    state = ctx.state
    body = ctx.cf_body()
    _check_fields(body, ("type", "strategy", "name", "relationships", "parameters", "metadata"))
    if body.get("type") not in ("key", "app"):
        raise cf_unprocessable("Type must be 'app' or 'key'")
    if body["type"] == "app":
        raise cf_unprocessable("The landscape simulator supports only service credential bindings of type "
                               "'key'.")
    name = _check_name(body)
    assert name is not None
    parameters = _check_parameters(body) or {}
    labels, annotations = _metadata(body)
    instance_guid = _relationship_guid(body, "service_instance") or ""
    inst = state.instances.get(instance_guid)
    if inst is None or inst.space_guid not in _readable_spaces(ctx, actor):
        raise cf_unprocessable(f"The service instance could not be found: '{instance_guid}'")
    if not _is_space_developer(ctx, actor, inst.space_guid):
        raise cf_forbidden()
    if not state.offering_of(inst).bindable:
        raise cf_unprocessable("Service plan does not allow bindings.")
    if _create_failed(inst):
        raise cf_unprocessable("Service instance not found")
    if state.in_progress(inst):
        raise cf_unprocessable("There is an operation in progress for the service instance")
    existing = next((k for k in state.keys_of(inst.guid) if k.name == name), None)
    if existing is not None:
        if existing.last_operation.type == "delete":
            raise cf_unprocessable("The binding name is invalid. Key binding names must be unique. The "
                                   "service instance already has a key binding with the name "
                                   f"'{name}' that is getting deleted or its deletion failed.")
        if not _create_failed(existing):
            raise cf_unprocessable("The binding name is invalid. Key binding names must be unique. The "
                                   f"service instance already has a key binding with name '{name}'.")
        del state.keys[existing.guid]
    job = state.create_key(inst, name, parameters, _merge({}, labels), _merge({}, annotations))
    return _job_location(ctx, job)


@authenticated
def key_details(ctx: Ctx, actor: Actor, guid: str) -> Response:
    state = ctx.state
    key = _readable_key(ctx, actor, guid)
    if not _is_space_developer(ctx, actor, state.instances[key.instance_guid].space_guid):
        raise cf_not_found("Service credential binding not found")
    op, op_state = key.last_operation, state.operation_state(key)
    if op.type != "create" or op_state != "succeeded" or key.credentials is None:
        what = "Creation" if op.type == "create" else "Deletion"
        how = "failed" if op_state == "failed" else "in progress"
        raise cf_not_found(f"{what} of service key {how}")
    return json_response({"credentials": key.credentials})


@authenticated
def key_parameters(ctx: Ctx, actor: Actor, guid: str) -> Response:
    return json_response(_readable_key(ctx, actor, guid).parameters)


@authenticated
def delete_key(ctx: Ctx, actor: Actor, guid: str) -> Response:
    state = ctx.state
    key = _readable_key(ctx, actor, guid)
    inst = state.instances[key.instance_guid]
    if not _is_space_developer(ctx, actor, inst.space_guid):
        raise cf_forbidden()
    if state.in_progress(key):
        raise cf_unprocessable("There is an operation in progress for the service binding.")
    if state.in_progress(inst):
        raise cf_unprocessable("There is an operation in progress for the service instance.")
    return _job_location(ctx, state.delete_key(key))


# --------------------------------------------------------------------------------------------------
# Jobs (reference 7)
# --------------------------------------------------------------------------------------------------


@authenticated
def get_job(ctx: Ctx, actor: Actor, guid: str) -> Response:
    state = ctx.state
    job = state.jobs.get(guid)
    if job is None:
        raise cf_not_found("Job not found")
    if job.done:
        job_state = "FAILED" if job.failure else "COMPLETE"
    else:
        job_state = "PROCESSING" if state.phase(job) == 0 else "POLLING"
    errors = []
    if job.failure:
        verb = job.operation.rsplit(".", 1)[-1]
        errors = [{"code": 10009, "title": "CF-UnableToPerform",
                   "detail": f"{verb} could not be completed: {job.failure}"}]
    links: dict[str, Any] = {"self": {"href": f"{ctx.url}/v3/jobs/{job.guid}"}}
    resources: dict[str, tuple[dict[str, Any], str]] = {
        "service_instances": (state.instances, "service_instances"),
        "service_credential_binding": (state.keys, "service_credential_bindings")}
    if job.resource_type in resources:
        existing, path = resources[job.resource_type]
        if job.resource_guid in existing:
            links[job.resource_type] = {"href": f"{ctx.url}/v3/{path}/{job.resource_guid}"}
    return json_response({"guid": job.guid, "created_at": job.created_at, "updated_at": job.updated_at,
                          "operation": job.operation, "state": job_state, "errors": errors, "warnings": [],
                          "links": links})
