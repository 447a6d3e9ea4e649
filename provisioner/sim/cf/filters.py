"""The query parameters of the CF list endpoints, one table per resource (cloud-foundry-v3-api.md 9.1): order
as listed in "Valid parameters are: ..." errors; `value(cf, item)` gives what a filter compares."""

from __future__ import annotations

from provisioner.sim.core.listing import Filter

NAMES = ("created_at", "updated_at", "name")  # order_by of most lists
LABELS = Filter("label_selector")
AVAILABLE = Filter("available", lambda cf, o: "true", whole=True)  # everything simulated is available

ORGS = (Filter("names", lambda cf, o: o.name, lower=True), Filter("guids", lambda cf, o: o.guid), LABELS)

SPACES = (Filter("names", lambda cf, s: s.name, lower=True), Filter("guids", lambda cf, s: s.guid),
          Filter("organization_guids", lambda cf, s: s.org_guid), Filter("include"), LABELS)

ROLES = (Filter("guids", lambda cf, r: r.guid), Filter("types", lambda cf, r: r.type),
         Filter("space_guids", lambda cf, r: r.space_guid), Filter("organization_guids", lambda cf, r: r.org_guid),
         Filter("user_guids", lambda cf, r: r.user_guid), Filter("include"))

# space_guids / organization_guids of offerings and plans select by plan visibility (catalog.py)
OFFERINGS = (Filter("names", lambda cf, o: o.name, lower=True), Filter("guids", lambda cf, o: o.guid), AVAILABLE,
             Filter("space_guids"), Filter("organization_guids"),
             Filter("service_broker_guids", lambda cf, o: o.broker_guid), LABELS)

PLANS = (Filter("names", lambda cf, p: p.name, lower=True), Filter("guids", lambda cf, p: p.guid), AVAILABLE,
         Filter("service_offering_names", lambda cf, p: cf.offerings[p.offering_guid].name, lower=True),
         Filter("service_offering_guids", lambda cf, p: p.offering_guid),
         Filter("space_guids"), Filter("organization_guids"),
         Filter("service_broker_guids", lambda cf, p: cf.offerings[p.offering_guid].broker_guid),
         Filter("include"), LABELS)

INSTANCES = (Filter("names", lambda cf, i: i.name), Filter("guids", lambda cf, i: i.guid),
             Filter("type", lambda cf, i: "managed"), Filter("space_guids", lambda cf, i: i.space_guid),
             Filter("organization_guids", lambda cf, i: cf.spaces[i.space_guid].org_guid),
             Filter("service_plan_guids", lambda cf, i: i.plan_guid),
             Filter("service_plan_names", lambda cf, i: cf.plans[i.plan_guid].name, lower=True), LABELS)

KEYS = (Filter("names", lambda cf, k: k.name), Filter("guids", lambda cf, k: k.guid),
        Filter("type", lambda cf, k: "key"), Filter("service_instance_guids", lambda cf, k: k.instance_guid),
        Filter("service_instance_names", lambda cf, k: cf.instances[k.instance_guid].name),
        Filter("service_plan_guids", lambda cf, k: cf.instances[k.instance_guid].plan_guid),
        Filter("service_offering_guids",
               lambda cf, k: cf.plans[cf.instances[k.instance_guid].plan_guid].offering_guid), LABELS)
