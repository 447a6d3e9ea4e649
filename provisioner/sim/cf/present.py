"""The JSON representations of CF resources (cloud-foundry-v3-api.md sections 3-8), with absolute links."""

from __future__ import annotations

from typing import Any

from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.model import Instance, Key, Offering, Org, Plan, Role, Space
from provisioner.sim.core.ids import stable_guid

QUOTA_GUID = stable_guid("quota", "default")


def _meta(obj: Org | Space | Instance | Key) -> dict[str, Any]:
    return {"labels": dict(obj.labels), "annotations": dict(obj.annotations)}


def org(url: str, o: Org) -> dict[str, Any]:
    base = f"{url}/v3/organizations/{o.guid}"
    return {"guid": o.guid, "created_at": o.created_at, "updated_at": o.updated_at, "name": o.name,
            "suspended": False, "relationships": {"quota": {"data": {"guid": QUOTA_GUID}}},
            "metadata": _meta(o),
            "links": {"self": {"href": base}, "domains": {"href": f"{base}/domains"},
                      "default_domain": {"href": f"{base}/domains/default"},
                      "quota": {"href": f"{url}/v3/organization_quotas/{QUOTA_GUID}"}}}


def space(url: str, s: Space) -> dict[str, Any]:
    base = f"{url}/v3/spaces/{s.guid}"
    return {"guid": s.guid, "created_at": s.created_at, "updated_at": s.updated_at, "name": s.name,
            "suspended": False,
            "relationships": {"organization": {"data": {"guid": s.org_guid}}, "quota": {"data": None}},
            "metadata": _meta(s),
            "links": {"self": {"href": base}, "features": {"href": f"{base}/features"},
                      "organization": {"href": f"{url}/v3/organizations/{s.org_guid}"},
                      "apply_manifest": {"href": f"{base}/actions/apply_manifest", "method": "POST"}}}


def role(url: str, r: Role) -> dict[str, Any]:
    links = {"self": {"href": f"{url}/v3/roles/{r.guid}"}, "user": {"href": f"{url}/v3/users/{r.user_guid}"}}
    if r.space_guid:
        links["space"] = {"href": f"{url}/v3/spaces/{r.space_guid}"}
    else:
        links["organization"] = {"href": f"{url}/v3/organizations/{r.org_guid}"}
    return {"guid": r.guid, "created_at": r.created_at, "updated_at": r.updated_at, "type": r.type,
            "relationships": {"user": {"data": {"guid": r.user_guid}},
                              "organization": {"data": {"guid": r.org_guid} if r.org_guid else None},
                              "space": {"data": {"guid": r.space_guid} if r.space_guid else None}},
            "links": links}


def user(url: str, cf: CfBackend, guid: str) -> dict[str, Any]:
    found = cf.identity.user_by_guid(guid)
    username, origin = (found.username, found.origin) if found else (None, None)  # None: a client
    return {"guid": guid, "created_at": "1970-01-01T00:00:00Z", "updated_at": "1970-01-01T00:00:00Z",
            "username": username, "presentation_name": username or guid, "origin": origin,
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{url}/v3/users/{guid}"}}}


def offering(url: str, cf: CfBackend, o: Offering) -> dict[str, Any]:
    return {"guid": o.guid, "name": o.name, "description": o.description, "available": True, "tags": o.tags,
            "requires": [], "created_at": o.created_at, "updated_at": o.created_at, "shareable": False,
            "documentation_url": None,
            "broker_catalog": {"id": o.catalog_id, "metadata": {"shareable": False},
                               "features": {"plan_updateable": o.plan_updateable, "bindable": o.bindable,
                                            "instances_retrievable": cf.instances_retrievable(o),
                                            "bindings_retrievable": True, "allow_context_updates": False}},
            "relationships": {"service_broker": {"data": {"guid": o.broker_guid}}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{url}/v3/service_offerings/{o.guid}"},
                      "service_plans": {"href": f"{url}/v3/service_plans?service_offering_guids={o.guid}"},
                      "service_broker": {"href": f"{url}/v3/service_brokers/{o.broker_guid}"}}}


def plan(url: str, cf: CfBackend, p: Plan) -> dict[str, Any]:
    o = cf.offerings[p.offering_guid]
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
            "links": {"self": {"href": f"{url}/v3/service_plans/{p.guid}"},
                      "service_offering": {"href": f"{url}/v3/service_offerings/{o.guid}"},
                      "visibility": {"href": f"{url}/v3/service_plans/{p.guid}/visibility"}}}


def last_operation(cf: CfBackend, obj: Instance | Key) -> dict[str, Any]:
    op = obj.last_operation
    return {"type": op.type, "state": cf.operation_state(obj),
            "description": op.description if not cf.in_progress(obj) else None,
            "updated_at": op.updated_at, "created_at": op.created_at}


def instance(url: str, cf: CfBackend, i: Instance) -> dict[str, Any]:
    base = f"{url}/v3/service_instances/{i.guid}"
    return {"guid": i.guid, "created_at": i.created_at, "updated_at": i.updated_at, "name": i.name,
            "tags": list(i.tags), "type": "managed", "maintenance_info": {}, "upgrade_available": False,
            "dashboard_url": None, "last_operation": last_operation(cf, i),
            "relationships": {"service_plan": {"data": {"guid": i.plan_guid}},
                              "space": {"data": {"guid": i.space_guid}}},
            "metadata": _meta(i),
            "links": {"self": {"href": base},
                      "service_plan": {"href": f"{url}/v3/service_plans/{i.plan_guid}"},
                      "space": {"href": f"{url}/v3/spaces/{i.space_guid}"},
                      "parameters": {"href": f"{base}/parameters"},
                      "shared_spaces": {"href": f"{base}/relationships/shared_spaces"},
                      "service_credential_bindings": {
                          "href": f"{url}/v3/service_credential_bindings?service_instance_guids={i.guid}"},
                      "service_route_bindings": {
                          "href": f"{url}/v3/service_route_bindings?service_instance_guids={i.guid}"}}}


def key(url: str, cf: CfBackend, k: Key) -> dict[str, Any]:
    base = f"{url}/v3/service_credential_bindings/{k.guid}"
    return {"guid": k.guid, "created_at": k.created_at, "updated_at": k.updated_at, "name": k.name,
            "type": "key", "last_operation": last_operation(cf, k), "metadata": _meta(k),
            "relationships": {"service_instance": {"data": {"guid": k.instance_guid}}},
            "links": {"self": {"href": base}, "details": {"href": f"{base}/details"},
                      "parameters": {"href": f"{base}/parameters"},
                      "service_instance": {"href": f"{url}/v3/service_instances/{k.instance_guid}"}}}
