"""CF v3 organizations, spaces (cloud-foundry-v3-api.md 3) and roles (4)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.cf import filters, present
from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.handlers import (
    Actor,
    authenticated,
    cf_body,
    check_fields,
    is_org_manager,
    job_location,
    merge,
    metadata,
    readable_orgs,
    readable_spaces,
    relationship_guid,
    required_name,
)
from provisioner.sim.cf.model import ORG_ROLE_TYPES, SPACE_ROLE_TYPES, Role, Space
from provisioner.sim.core.errors import cf_bad_query, cf_forbidden, cf_not_found, cf_unprocessable
from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.core.ids import iso_now, new_guid
from provisioner.sim.core.listing import list_query, paginate, select

NOT_IN_ORG = ("Users cannot be assigned roles in a space if they do not have a role in that space's "
              "organization.")


# ---- organizations and spaces --------------------------------------------------------------------


@authenticated
def list_orgs(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    q = list_query(ctx, filters.ORGS, filters.NAMES)
    readable = readable_orgs(cf, actor)
    names = q.values("names")
    orgs = cf.having("orgs", None if names is None else [n.lower() for n in names])
    items = select(q, (o for o in orgs if o.guid in readable), filters.ORGS, cf)
    return paginate(ctx, q, "/v3/organizations", items, lambda o: present.org(ctx.url, o))


@authenticated
def get_org(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    org = cf.orgs.get(guid)
    if org is None or guid not in readable_orgs(cf, actor):
        raise cf_not_found("Organization not found")
    return json_response(present.org(ctx.url, org))


@authenticated
def list_spaces(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    q = list_query(ctx, filters.SPACES, filters.NAMES)
    include = q.values("include")
    if include is not None and set(include) - {"organization"}:
        raise cf_bad_query("Invalid included resource: 'include'")
    readable = readable_spaces(cf, actor)
    spaces = cf.having("spaces", q.values("organization_guids"))
    items = select(q, (s for s in spaces if s.guid in readable), filters.SPACES, cf)

    def included(page: list[Space]) -> dict[str, Any]:
        orgs = {s.org_guid: cf.orgs[s.org_guid] for s in page}
        return {"organizations": [present.org(ctx.url, o) for o in orgs.values()]}

    return paginate(ctx, q, "/v3/spaces", items, lambda s: present.space(ctx.url, s), included if include else None)


@authenticated
def get_space(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    space = cf.spaces.get(guid)
    if space is None or guid not in readable_spaces(cf, actor):
        raise cf_not_found("Space not found")
    return json_response(present.space(ctx.url, space))


@authenticated
def create_space(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    body = cf_body(ctx)
    check_fields(body, ("name", "relationships", "suspended", "metadata"))
    name = required_name(body)
    labels, annotations = metadata(body)
    org = cf.orgs.get(relationship_guid(body, "organization") or "")
    if org is None or org.guid not in readable_orgs(cf, actor):
        raise cf_unprocessable("Invalid organization. Ensure the organization exists and you have access to it.")
    if not is_org_manager(cf, actor, org.guid):
        raise cf_forbidden()
    if any(s.org_guid == org.guid and s.name.lower() == name.lower() for s in cf.spaces.values()):
        raise cf_unprocessable("Name must be unique per organization")
    now = iso_now()
    space = Space(new_guid(), name, org.guid, now, now, cf.next_seq(), merge({}, labels), merge({}, annotations))
    cf.spaces[space.guid] = space
    return json_response(present.space(ctx.url, space), 201)


# ---- roles ---------------------------------------------------------------------------------------


@authenticated
def list_roles(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    q = list_query(ctx, filters.ROLES, ("created_at", "updated_at"), unprocessable=True)
    include = set(q.values("include") or [])
    if include - {"user", "space", "organization"}:
        raise cf_unprocessable("Invalid included resource: " + ", ".join(sorted(include)))
    readable = readable_orgs(cf, actor)
    roles = cf.having("roles", q.values("space_guids"))
    items = select(q, (r for r in roles if cf.role_org_guid(r) in readable), filters.ROLES, cf)

    def included(page: list[Role]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if "user" in include:
            result["users"] = [present.user(ctx.url, cf, g) for g in dict.fromkeys(r.user_guid for r in page)]
        if "space" in include:
            spaces = dict.fromkeys(r.space_guid for r in page if r.space_guid)
            result["spaces"] = [present.space(ctx.url, cf.spaces[g]) for g in spaces if g]
        if "organization" in include:
            orgs = dict.fromkeys(r.org_guid for r in page if r.org_guid)
            result["organizations"] = [present.org(ctx.url, cf.orgs[g]) for g in orgs if g]
        return result

    return paginate(ctx, q, "/v3/roles", items, lambda r: present.role(ctx.url, r), included if include else None)


@authenticated
def get_role(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    role = cf.roles.get(guid)
    if role is None or cf.role_org_guid(role) not in readable_orgs(cf, actor):
        raise cf_not_found("Role not found")
    return json_response(present.role(ctx.url, role))


def _resolve_role_user(cf: CfBackend, data: dict[str, Any], space_role: bool) -> str:
    """The guid of the user named in `relationships.user.data` (by guid, or by username + origin)."""
    guid = data.get("guid")
    if isinstance(guid, str):
        if cf.identity.user_by_guid(guid) is None and cf.identity.cf_client(guid) is None:
            raise cf_unprocessable("Invalid user. Ensure that the user exists and you have access to it.")
        return guid
    username, origin = data.get("username"), data.get("origin")
    if not isinstance(username, str) or not username:
        raise cf_unprocessable("Relationships User must have a guid or a username")
    users = cf.identity.users_by_name(username, origin)
    if len(users) > 1:
        origins = ", ".join(sorted(u.origin for u in users))
        raise cf_unprocessable(f"Ambiguous user. User with username '{username}' exists in the following "
                               f"origins: {origins}. Specify an origin to disambiguate.")
    if not users:
        if space_role:
            raise cf_unprocessable(NOT_IN_ORG)
        raise cf_unprocessable(f"No user exists with the username '{username}' and origin '{origin or 'uaa'}'.")
    return users[0].guid


def _presentation(cf: CfBackend, user_guid: str) -> str:
    user = cf.identity.user_by_guid(user_guid)
    return user.username if user else user_guid


@authenticated
def create_role(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    body = cf_body(ctx)
    check_fields(body, ("type", "relationships"))
    type_ = body.get("type")
    if type_ not in ORG_ROLE_TYPES + SPACE_ROLE_TYPES:
        allowed = ", ".join(f"'{t}'" for t in ORG_ROLE_TYPES + SPACE_ROLE_TYPES)
        raise cf_unprocessable(f"Type must be one of the allowed types [{allowed}]")
    rels = body.get("relationships")
    user_data = ((rels or {}).get("user") or {}).get("data") if isinstance(rels, dict) else None
    if not isinstance(user_data, dict):
        raise cf_unprocessable("Relationships User can't be blank")
    if type_ in SPACE_ROLE_TYPES:
        space = cf.spaces.get(relationship_guid(body, "space") or "")
        if space is None or space.guid not in readable_spaces(cf, actor):
            raise cf_unprocessable("Invalid space. Ensure that the space exists and you have access to it.")
        if not (is_org_manager(cf, actor, space.org_guid)
                or "space_manager" in cf.space_role_types(actor.guid, space.guid)):
            raise cf_forbidden()
        user_guid = _resolve_role_user(cf, user_data, space_role=True)
        if not cf.org_role_types(user_guid, space.org_guid):
            raise cf_unprocessable(NOT_IN_ORG)
        if type_ in cf.space_role_types(user_guid, space.guid):
            raise cf_unprocessable(f"User '{_presentation(cf, user_guid)}' already has '{type_}' role in "
                                   f"space '{space.name}'.")
        role = cf.add_role(type_, user_guid, None, space.guid)
    else:
        org = cf.orgs.get(relationship_guid(body, "organization") or "")
        if org is None or org.guid not in readable_orgs(cf, actor):
            raise cf_unprocessable("Invalid organization. Ensure that the organization exists and you have "
                                   "access to it.")
        if not is_org_manager(cf, actor, org.guid):
            raise cf_forbidden()
        user_guid = _resolve_role_user(cf, user_data, space_role=False)
        if type_ in cf.org_role_types(user_guid, org.guid):
            raise cf_unprocessable(f"User '{_presentation(cf, user_guid)}' already has '{type_}' role in "
                                   f"organization '{org.name}'.")
        role = cf.add_role(type_, user_guid, org.guid, None)
    return json_response(present.role(ctx.url, role), 201)


@authenticated
def delete_role(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    role = cf.roles.get(guid)
    if role is None or cf.role_org_guid(role) not in readable_orgs(cf, actor):
        raise cf_not_found("Role not found")
    org_guid = cf.role_org_guid(role)
    if not (is_org_manager(cf, actor, org_guid)
            or (role.space_guid and "space_manager" in cf.space_role_types(actor.guid, role.space_guid))):
        raise cf_forbidden()
    if role.type == "organization_user" and any(
            r.user_guid == role.user_guid and r.space_guid and cf.spaces[r.space_guid].org_guid == org_guid
            for r in cf.roles.values()):
        raise cf_unprocessable("Cannot delete organization_user role while user has roles in spaces in that "
                               "organization.")
    return job_location(ctx, cf.delete_role(role))
