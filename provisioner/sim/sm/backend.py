"""State and rules of the simulated Service Manager: the broker catalog (the same offerings and plans as the CF
marketplace), instances and bindings made through Service Manager, their asynchronous operations (core jobs; the
broker in broker/brokers.py acts when they complete), and the subaccounts' Service Manager access bindings.

Instances and keys of a subaccount's Cloud Foundry environment are listed too, read-only, through lookups the
wiring module (app.py) sets: `platform_instances(subaccount guid)` and `platform_bindings(subaccount guid)`. The
other lookups: `assigned_ok(subaccount guid, service, plan)` (a plan tied to an entitlement is visible only while
assigned), `zone_of(subaccount guid)` (XSUAA zone of new credentials), `subaccount_context(subaccount guid)` (the
`context` fields of the subaccount), `next_app_index()` and `next_seq()` (shared with CF: one XSUAA, one order).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any

from provisioner.sim.broker import brokers
from provisioner.sim.broker.brokers import Zone
from provisioner.sim.broker.xsuaa import Refused
from provisioner.sim.core.config import Config
from provisioner.sim.core.ids import epoch_ms, iso_now, new_guid, stable_guid
from provisioner.sim.core.jobs import Job, Jobs
from provisioner.sim.sm.model import (
    AccessBinding,
    Binding,
    CatalogOffering,
    CatalogPlan,
    Instance,
    Labels,
    Operation,
    PlatformBinding,
    PlatformInstance,
)

INSTANCES = "/v1/service_instances"
BINDINGS = "/v1/service_bindings"
SM_XSAPPNAME = "service-manager!b1"
SM_SCOPES = [f"{SM_XSAPPNAME}.subaccount.service_instance.read", f"{SM_XSAPPNAME}.subaccount.service_instance.manage",
             f"{SM_XSAPPNAME}.subaccount.service_binding.read", f"{SM_XSAPPNAME}.subaccount.service_binding.manage",
             f"{SM_XSAPPNAME}.subaccount.service_offering.read", f"{SM_XSAPPNAME}.subaccount.service_plan.read"]
CF_PLATFORM_ID = "cloudfoundry-platform"


class SmBackend:
    """Everything Service Manager serves. Callers hold the simulator's lock."""

    def __init__(self, jobs: Jobs, config: Config) -> None:
        self.jobs = jobs
        self.config = config
        self.base_url = ""
        self.cert_url = ""  # the mTLS port's URL (certurl of x509 credentials)
        self.offerings: dict[str, CatalogOffering] = {}
        self.plans: dict[str, CatalogPlan] = {}
        self.instances: dict[str, Instance] = {}
        self.bindings: dict[str, Binding] = {}
        self.access: list[AccessBinding] = []
        self.operations: dict[str, tuple[str, Operation]] = {}  # id → (subaccount guid, operation)
        self.assigned_ok: Callable[[str, str, str], bool] = lambda sub, service, plan: False
        self.zone_of: Callable[[str | None], Zone | None] = lambda sub: None
        self.subaccount_context: Callable[[str], dict[str, Any] | None] = lambda sub: None
        self.platform_instances: Callable[[str], list[PlatformInstance]] = lambda sub: []
        self.platform_bindings: Callable[[str], list[PlatformBinding]] = lambda sub: []
        self.next_app_index: Callable[[], int] = _counter(5001)
        self.next_seq: Callable[[], int] = _counter(1)

    # ---- catalog -------------------------------------------------------------------------------

    def plan_visible(self, plan: CatalogPlan, subaccount_guid: str) -> bool:
        return plan.entitlement is None or self.assigned_ok(subaccount_guid, *plan.entitlement)

    def visible_plans(self, subaccount_guid: str) -> list[CatalogPlan]:
        return [p for p in self.plans.values() if self.plan_visible(p, subaccount_guid)]

    def visible_offerings(self, subaccount_guid: str) -> list[CatalogOffering]:
        ids = {p.offering_id for p in self.visible_plans(subaccount_guid)}
        return [o for o in self.offerings.values() if o.id in ids]

    def plan_by_platform_guid(self, guid: str) -> CatalogPlan | None:
        return next((p for p in self.plans.values() if p.platform_guid == guid), None)

    def offering_of(self, inst: Instance) -> CatalogOffering:
        return self.offerings[self.plans[inst.plan_id].offering_id]

    def instances_retrievable(self, inst: Instance) -> bool:
        """Whether the broker returns instance parameters (`/_sim/config` can switch it off everywhere)."""
        return self.offering_of(inst).instances_retrievable and self.config.instances_retrievable

    # ---- what a subaccount sees ----------------------------------------------------------------

    def instances_of(self, subaccount_guid: str) -> list[Instance]:
        """Instances made through Service Manager, then views of the CF environment's instances."""
        own = [i for i in self.instances.values() if i.subaccount_guid == subaccount_guid]
        return own + [v for v in map(self._platform_view, self.platform_instances(subaccount_guid)) if v]

    def instance(self, subaccount_guid: str, instance_id: str) -> Instance | None:
        return next((i for i in self.instances_of(subaccount_guid) if i.id == instance_id), None)

    def bindings_of(self, subaccount_guid: str) -> list[Binding]:
        own = [b for b in self.bindings.values() if self.instances[b.instance_id].subaccount_guid == subaccount_guid]
        cf = {i.id: i for i in self.platform_instances(subaccount_guid)}
        views = [Binding(b.id, b.name, b.instance_id, {}, {}, {**cf[b.instance_id].context,
                                                               "service_instance_id": b.instance_id},
                         b.created_at, b.updated_at, b.seq, ready=b.ready)
                 for b in self.platform_bindings(subaccount_guid) if b.instance_id in cf]
        return own + views

    def binding(self, subaccount_guid: str, binding_id: str) -> Binding | None:
        return next((b for b in self.bindings_of(subaccount_guid) if b.id == binding_id), None)

    def _platform_view(self, p: PlatformInstance) -> Instance | None:
        plan = self.plan_by_platform_guid(p.plan_guid)
        if plan is None:
            return None
        op = Operation(stable_guid("cf-operation", p.id, p.operation_type, p.created_at), p.operation_type, p.id,
                       INSTANCES, p.created_at, p.updated_at, p.operation_state, p.operation_description)
        done = p.operation_state == "succeeded"
        ready = done or p.operation_type != "create"
        return Instance(p.id, p.name, p.subaccount_guid, plan.id, p.parameters, {}, p.context, p.created_at,
                        p.updated_at, p.seq, 0, "", platform_id=CF_PLATFORM_ID, ready=ready, usable=ready,
                        last_operation=op)

    # ---- instances -----------------------------------------------------------------------------

    def context(self, subaccount_guid: str, name: str) -> dict[str, Any]:
        """The `context` of an instance made through Service Manager (as SAP's recorded responses show it)."""
        sub = self.subaccount_context(subaccount_guid) or {"subaccount_id": subaccount_guid}
        return {"origin": "sapcp", "env_type": "sapcp", "platform": "sapcp", **sub, "instance_name": name,
                "crm_customer_id": ""}

    def add_instance(self, subaccount_guid: str, name: str, plan: CatalogPlan, parameters: dict[str, Any],
                     labels: Labels, created_by: str | None, created_at: str | None = None,
                     guid: str | None = None) -> Instance:
        """A new instance record, not ready: `start_create` provisions it; a landscape's instance is marked ready
        with `parameters` as applied. Service Manager adds the label `subaccount_id`."""
        now = created_at or iso_now()
        inst = Instance(guid or new_guid(), name, subaccount_guid, plan.id, parameters,
                        {**labels, "subaccount_id": [subaccount_guid]}, self.context(subaccount_guid, name),
                        now, now, self.next_seq(), self.next_app_index(), secrets.token_urlsafe(24),
                        created_by=created_by, updated_by=created_by, ready=False, usable=False)
        self.instances[inst.id] = inst
        return inst

    def start_create(self, inst: Instance, parameters: dict[str, Any]) -> Operation:
        """The create operation: when it completes the broker checks `parameters` and the instance is ready and
        usable, or the operation fails with the broker's description."""
        inst.parameters = {}

        def effect() -> str | None:
            failure = brokers.validate_parameters(self.offering_of(inst).broker, parameters, inst.name)
            if failure is None:
                inst.parameters = parameters
                inst.ready = inst.usable = True
            return failure

        return self._operate(inst, INSTANCES, "create", "sm.service_instance.create", effect)

    def start_update(self, inst: Instance, parameters: dict[str, Any] | None, plan_id: str | None) -> Operation:
        """The update operation: new `parameters` (None: unchanged) and plan, applied when the broker accepts."""
        def effect() -> str | None:
            new = inst.parameters if parameters is None else parameters
            failure = brokers.validate_parameters(self.offering_of(inst).broker, new, inst.name)
            if failure is None:
                inst.parameters = new
                inst.plan_id = plan_id or inst.plan_id
            return failure

        return self._operate(inst, INSTANCES, "update", "sm.service_instance.update", effect)

    def start_delete_instance(self, inst: Instance) -> Operation:
        """Delete an instance without bindings (the handler refuses one that has any)."""
        def effect() -> str | None:
            self.instances.pop(inst.id, None)
            return None

        return self._operate(inst, INSTANCES, "delete", "sm.service_instance.delete", effect)

    # ---- bindings ------------------------------------------------------------------------------

    def add_binding(self, inst: Instance, name: str, parameters: dict[str, Any], labels: Labels,
                    created_by: str | None, created_at: str | None = None, guid: str | None = None) -> Binding:
        """A new binding record, not ready (`start_bind` gives it credentials)."""
        now = created_at or iso_now()
        b = Binding(guid or new_guid(), name, inst.id, parameters, {**labels, "subaccount_id": [inst.subaccount_guid]},
                    {**inst.context, "service_instance_id": inst.id}, now, now, self.next_seq(),
                    created_by=created_by, updated_by=created_by, ready=False)
        self.bindings[b.id] = b
        return b

    def credentials(self, inst: Instance, binding: Binding) -> dict[str, Any]:
        """The broker's credentials of a new binding (Cloud ALM: an XSUAA client of the subaccount's zone), as
        XSUAA issued them the day the binding was made; raises Refused."""
        issuing = brokers.Issuing(self.base_url, self.cert_url, today=dt.date.fromisoformat(binding.created_at[:10]),
                                  cutoff=self.config.instance_secret_cutoff,
                                  backdate_days=self.config.x509_backdate_days)
        return brokers.credentials(self.offering_of(inst).broker, issuing, inst, binding.id,
                                   self.zone_of(inst.subaccount_guid), binding.parameters)

    def start_bind(self, inst: Instance, b: Binding) -> Operation:
        def effect() -> str | None:
            try:
                b.credentials = self.credentials(inst, b)
            except Refused as exc:
                return str(exc)
            b.ready = True
            return None

        return self._operate(b, BINDINGS, "create", "sm.service_binding.create", effect)

    def start_unbind(self, b: Binding) -> Operation:
        def effect() -> str | None:
            self.bindings.pop(b.id, None)
            return None

        return self._operate(b, BINDINGS, "delete", "sm.service_binding.delete", effect)

    # ---- operations ----------------------------------------------------------------------------

    def running(self, obj: Instance | Binding) -> bool:
        """Whether an operation of the instance or binding is in progress (a change now answers 422)."""
        op = obj.last_operation
        return op is not None and op.current_state() in ("in progress", "pending")

    def _operate(self, obj: Instance | Binding, resource_type: str, type_: str, name: str,
                 effect: Callable[[], str | None]) -> Operation:
        now = iso_now()
        op = Operation(new_guid(), type_, obj.id, resource_type, now, now)

        def finish(failure: str | None) -> str | None:
            op.state = "failed" if failure else "succeeded"
            op.description = failure or f"{type_.capitalize()} of {resource_type[4:-1].replace('_', ' ')} succeeded"
            op.updated_at = obj.updated_at = iso_now()
            return failure

        op.job = self.jobs.start(Job(name, lambda: finish(effect()), finish))
        obj.last_operation = op
        sub = obj.subaccount_guid if isinstance(obj, Instance) else self.instances[obj.instance_id].subaccount_guid
        self.operations[op.id] = (sub, op)
        return op

    # ---- access bindings (Accounts service v2 serviceManagerBindings) --------------------------

    def access_bindings(self, subaccount_guid: str) -> list[AccessBinding]:
        return [a for a in self.access if a.subaccount_guid == subaccount_guid]

    def access_binding(self, subaccount_guid: str, name: str) -> AccessBinding | None:
        return next((a for a in self.access_bindings(subaccount_guid) if a.name == name), None)

    def create_access_binding(self, subaccount_guid: str, name: str) -> AccessBinding:
        index = self.next_app_index()
        xsappname = f"na-{new_guid()}!a{index}"
        a = AccessBinding(subaccount_guid, name, f"sb-{xsappname}|{SM_XSAPPNAME}", secrets.token_urlsafe(24),
                          xsappname, epoch_ms())
        self.access.append(a)
        return a

    def delete_access_binding(self, a: AccessBinding) -> None:
        self.access.remove(a)

    def access_client(self, clientid: str) -> AccessBinding | None:
        return next((a for a in self.access if a.clientid == clientid), None)

    def access_credentials(self, a: AccessBinding) -> dict[str, Any]:
        """The binding as the Accounts service returns it (basic credentials type)."""
        zone = self.zone_of(a.subaccount_guid)
        return {"name": a.name, "clientid": a.clientid, "clientsecret": a.clientsecret,
                "url": f"{self.base_url}/xsuaa/{zone.subdomain if zone else ''}", "sm_url": f"{self.base_url}/sm",
                "xsappname": a.xsappname, "creationDate": iso_from_ms(a.created_ms)}


def _counter(start: int) -> Callable[[], int]:
    state = [start - 1]

    def nxt() -> int:
        state[0] += 1
        return state[0]

    return nxt


def iso_from_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
