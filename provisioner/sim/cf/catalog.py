"""CF v3 service offerings and plans (cloud-foundry-v3-api.md 5). Plans tied to a BTP entitlement are visible
only to the orgs of subaccounts where that plan is assigned with entityState OK."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.cf import filters, present
from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.handlers import Actor, authenticated, readable_orgs, readable_spaces
from provisioner.sim.cf.model import Plan
from provisioner.sim.core.errors import cf_bad_query, cf_not_found
from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.core.listing import ListQuery, list_query, paginate, select


def plan_visible(cf: CfBackend, actor: Actor, plan: Plan, org_guids: set[str] | None = None) -> bool:
    """Visible to the actor; with `org_guids`, only through those orgs (space/org filters)."""
    if org_guids is None:
        if actor.admin or plan.entitlement is None:
            return True
        org_guids = readable_orgs(cf, actor)
    return any(cf.plan_visible_in_org(plan, g) for g in org_guids)


def _filter_orgs(cf: CfBackend, actor: Actor, q: ListQuery) -> set[str] | None:
    """Orgs named by `organization_guids` and `space_guids` filters (readable ones only), or None."""
    org_guids, space_guids = q.values("organization_guids"), q.values("space_guids")
    if org_guids is None and space_guids is None:
        return None
    orgs = set(org_guids or [])
    spaces = readable_spaces(cf, actor)
    orgs |= {cf.spaces[g].org_guid for g in space_guids or [] if g in spaces}
    return orgs & readable_orgs(cf, actor)


@authenticated
def list_offerings(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    q = list_query(ctx, filters.OFFERINGS, filters.NAMES)
    orgs = _filter_orgs(cf, actor, q)
    visible = [o for o in cf.offerings.values()
               if any(plan_visible(cf, actor, p, orgs) for p in cf.plans.values() if p.offering_guid == o.guid)]
    items = select(q, visible, filters.OFFERINGS, cf)
    return paginate(ctx, q, "/v3/service_offerings", items, lambda o: present.offering(ctx.url, cf, o))


@authenticated
def get_offering(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    o = cf.offerings.get(guid)
    plans = [p for p in cf.plans.values() if p.offering_guid == guid]
    if o is None or not any(plan_visible(cf, actor, p) for p in plans):
        raise cf_not_found("Service offering not found")
    return json_response(present.offering(ctx.url, cf, o))


@authenticated
def list_plans(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    q = list_query(ctx, filters.PLANS, filters.NAMES)
    include = q.values("include")
    if include is not None and set(include) - {"service_offering"}:
        raise cf_bad_query("Invalid included resource: 'include'")
    orgs = _filter_orgs(cf, actor, q)
    items = select(q, (p for p in cf.plans.values() if plan_visible(cf, actor, p, orgs)), filters.PLANS, cf)

    def included(page: list[Plan]) -> dict[str, Any]:
        guids = dict.fromkeys(p.offering_guid for p in page)
        return {"service_offerings": [present.offering(ctx.url, cf, cf.offerings[g]) for g in guids]}

    return paginate(ctx, q, "/v3/service_plans", items, lambda p: present.plan(ctx.url, cf, p),
                    included if include else None)


@authenticated
def get_plan(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    plan = cf.plans.get(guid)
    if plan is None or not plan_visible(cf, actor, plan):
        raise cf_not_found("Service plan not found")
    return json_response(present.plan(ctx.url, cf, plan))
