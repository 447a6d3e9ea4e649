"""State and rules of the simulated BTP account APIs: the global account with its entitlements and `cis` key,
subaccounts (each with a `cis` key of plan `local`), entitlement assignments and their jobs-management jobs
(btp-account-apis.md sections 1-4).

The CF API's orgs are read through `environment_orgs`, a callable the wiring module (app.py) sets.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from provisioner.sim.broker.brokers import Zone
from provisioner.sim.btp.model import (
    UNLIMITED_AMOUNT,
    Assignment,
    CisKey,
    Entitlement,
    EnvironmentOrg,
    GlobalAccount,
    Subaccount,
)
from provisioner.sim.core.config import Config
from provisioner.sim.core.faults import FaultInjector
from provisioner.sim.core.ids import epoch_ms
from provisioner.sim.core.jobs import Job, Jobs
from provisioner.sim.core.schema import Locator, Path_
from provisioner.sim.core.tokens import zone_key

FIRST_JOB_NUMBER = 53873673
#: the application of `cis` keys of plan `local`, and their scopes (SAP's page "SAP Cloud Management Service -
#: Service Plans": the environments and subscriptions of the subaccount that owns the instance)
LOCAL_XSAPPNAME = "cis-local!b4"
LOCAL_SCOPES = ("subaccount.entitlement.read", "subaccount.environment.read", "subaccount.environment.create",
                "subaccount.environment.delete", "subaccount.application.subscription.read",
                "subaccount.application.subscription.update", "job.read")


def _no_service_manager(subaccount_guid: str, name: str) -> dict[str, Any]:
    raise RuntimeError("no Service Manager is wired")


class BtpBackend:
    """Everything the BTP APIs serve. Callers hold the simulator's lock."""

    def __init__(self, jobs: Jobs, faults: FaultInjector, config: Config | None = None) -> None:
        self.jobs = jobs
        self.faults = faults
        self.config = config if config is not None else Config()
        self.global_account: GlobalAccount | None = None
        self.subaccounts: dict[str, Subaccount] = {}
        self.assignments: list[Assignment] = []
        self.jobs_by_number: dict[int, Job] = {}
        self.environment_orgs: Callable[[], list[EnvironmentOrg]] = list
        # Service Manager access bindings of a subaccount (Service Manager holds them; app.py wires them):
        self.sm_bindings: Callable[[str], list[dict[str, Any]]] = lambda subaccount_guid: []
        self.sm_binding_create: Callable[[str, str], dict[str, Any]] = _no_service_manager
        self.sm_binding_delete: Callable[[str, str], bool] = lambda subaccount_guid, name: False
        self._next_job = FIRST_JOB_NUMBER

    @property
    def ga(self) -> GlobalAccount:
        assert self.global_account is not None, "the landscape has no global account"
        return self.global_account

    # ---- zones ---------------------------------------------------------------------------------

    def subaccount_by_subdomain(self, subdomain: str) -> Subaccount | None:
        return next((s for s in self.subaccounts.values() if s.subdomain == subdomain), None)

    def zone_of(self, subaccount_guid: str | None) -> Zone | None:
        """The XSUAA zone of a subaccount (for the broker), or None."""
        sub = self.subaccounts.get(subaccount_guid or "")
        return Zone(sub.subdomain, sub.tenant_id, sub.guid) if sub else None

    # ---- entitlements --------------------------------------------------------------------------

    def entitlement(self, service: str, plan: str) -> list[Entitlement]:
        return [e for e in self.ga.entitlements if e.service == service and e.plan == plan]

    def assignment(self, subaccount_guid: str, service: str, plan: str) -> Assignment | None:
        return next((a for a in self.assignments if a.subaccount_guid == subaccount_guid
                     and a.service == service and a.plan == plan), None)

    def assignment_state(self, a: Assignment) -> str:
        """STARTED / PROCESSING while its job runs, else OK or PROCESSING_FAILED."""
        if a.job is not None and a.job.running:
            return "STARTED" if self.jobs.phase(a.job) == 0 else "PROCESSING"
        return a.state

    def assigned_ok(self, subaccount_guid: str, service: str, plan: str) -> bool:
        """Whether the plan is assigned to the subaccount with entityState OK (and not being removed)."""
        a = self.assignment(subaccount_guid, service, plan)
        return a is not None and not a.removing and self.assignment_state(a) == "OK"

    def assigned_amount(self, service: str, plan: str, exclude_subaccount: str | None = None) -> int:
        return sum(a.amount for a in self.assignments if a.service == service and a.plan == plan
                   and a.subaccount_guid != exclude_subaccount)

    def remaining(self, e: Entitlement) -> int:
        return e.amount if e.unlimited else max(0, e.amount - self.assigned_amount(e.service, e.plan))

    def start_assignment(self, changes: list[tuple[str, Entitlement, int]]) -> Job:
        """Start one job (re)assigning `(subaccount guid, entitlement, amount)` triples (amount 0 unassigns)."""
        job = Job("entitlements.assign", lambda: self._finish(job), lambda failure: self._fail(job, failure),
                  hold=lambda: self.faults.entitlements_stuck)
        self._next_job += 1
        job.number = self._next_job - 1
        self.jobs_by_number[job.number] = job
        self.jobs.start(job)
        for sub_guid, ent, amount in changes:
            self._assign(job, sub_guid, ent, amount)
        return job

    def _assign(self, job: Job, subaccount_guid: str, ent: Entitlement, amount: int) -> None:
        now = epoch_ms()
        current = self.assignment(subaccount_guid, ent.service, ent.plan)
        if current is None:
            if amount == 0:
                return
            current = Assignment(subaccount_guid, ent.service, ent.plan, amount, now, now)
            self.assignments.append(current)
        elif current.amount == amount and current.state == "OK" and current.job is None:
            return  # nothing changes: the assignment stays OK
        current.amount = amount if amount else current.amount
        current.removing = amount == 0
        current.modified_ms = now
        current.job = job

    def _finish(self, job: Job) -> None:
        for a in list(self.assignments):
            if a.job is not job:
                continue
            a.job = None
            a.modified_ms = epoch_ms()
            if a.removing:
                self.assignments.remove(a)
            else:
                a.state = "OK"
                a.state_message = "Succeeded to update assignment of service plan."

    def _fail(self, job: Job, failure: str) -> None:
        for a in self.assignments:
            if a.job is job:
                a.job = None
                a.removing = False
                a.modified_ms = epoch_ms()
                a.state = "PROCESSING_FAILED"
                a.state_message = failure

    # ---- views ---------------------------------------------------------------------------------

    def cis_service_key(self, url: str) -> dict[str, Any]:
        """The `cis` service key (btp-account-apis.md section 1.2) pointing at the simulator at `url`."""
        ga = self.ga
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
                "apiurl": zone_url, "clientid": ga.cis.clientid, "clientsecret": ga.cis.clientsecret,
                "credential-type": "binding-secret", "identityzone": ga.subdomain, "identityzoneid": ga.zone_id,
                "sburl": zone_url, "subaccountid": ga.zone_id, "tenantid": ga.zone_id, "tenantmode": "shared",
                "uaadomain": url.split("://", 1)[-1], "url": zone_url,
                "verificationkey": zone_key(ga.zone_id).public_pem,
                "xsappname": ga.cis.xsappname, "xsmasterappname": ga.cis.xsappname, "zoneid": ga.zone_id,
            },
        }

    def local_client(self, sub: Subaccount) -> tuple[str, str]:
        """(client id, secret) of the subaccount's `cis` key of plan `local` (the secret is derived from the
        global account's, so it changes with each simulator process)."""
        secret = hashlib.sha256(f"{self.ga.cis.clientsecret}:{sub.guid}".encode()).hexdigest()[:32]
        return f"sb-sim-cis-local-{sub.guid[:8]}!b1002|{LOCAL_XSAPPNAME}", secret

    def local_client_scopes(self, subdomain: str, clientid: str, clientsecret: str) -> list[str] | None:
        """The scopes of a local cis key's client of the subaccount zone `subdomain`, or None."""
        sub = self.subaccount_by_subdomain(subdomain)
        if sub is None:
            return None
        cid, secret = self.local_client(sub)
        if clientid != cid or not secrets.compare_digest(clientsecret, secret):
            return None
        return [f"{LOCAL_XSAPPNAME}.{s}" for s in LOCAL_SCOPES]

    def local_cis_key(self, url: str, sub: Subaccount) -> dict[str, Any]:
        """The `cis` key of plan `local` of a subaccount: the same endpoints, the subaccount's XSUAA zone."""
        key = self.cis_service_key(url)
        clientid, secret = self.local_client(sub)
        zone_url = f"{url}/xsuaa/{sub.subdomain}"
        key.update({"grant_type": "client_credentials", "sap.cloud.service": "com.sap.core.commercial.service.local"})
        key["uaa"].update({"apiurl": zone_url, "clientid": clientid, "clientsecret": secret,
                           "identityzone": sub.subdomain, "identityzoneid": sub.tenant_id, "sburl": zone_url,
                           "subaccountid": sub.guid, "tenantid": sub.tenant_id, "url": zone_url,
                           "verificationkey": zone_key(sub.tenant_id).public_pem, "xsappname": LOCAL_XSAPPNAME,
                           "xsmasterappname": LOCAL_XSAPPNAME, "zoneid": sub.tenant_id})
        return key

    def dump_subaccounts(self) -> list[dict[str, Any]]:
        return [{"guid": s.guid, "subdomain": s.subdomain, "provisioned": s.provisioned}
                for s in self.subaccounts.values()]

    def dump_assignments(self) -> list[dict[str, Any]]:
        return [{"subaccount_guid": a.subaccount_guid, "service": a.service, "plan": a.plan, "amount": a.amount,
                 "entity_state": self.assignment_state(a)} for a in self.assignments]

    # ---- landscape -----------------------------------------------------------------------------

    def load_global_account(self, ga: dict[str, Any]) -> None:
        """`global_account` of a schema-valid landscape."""
        guid = ga["guid"]
        ents = []
        for e in ga.get("entitlements") or []:
            service, plan = e["service"], e["plan"]
            unlimited = bool(e.get("unlimited"))
            ents.append(Entitlement(service, plan, str(e.get("category", "SERVICE")),
                                    UNLIMITED_AMOUNT if unlimited else int(e.get("amount", 1)), unlimited,
                                    e.get("service_display_name", service), e.get("plan_display_name", plan),
                                    e.get("description", ""), e.get("unique_identifier", f"{service}-{plan}".lower())))
        cis = ga.get("cis_key") or {}
        xsappname = cis.get("xsappname", "cis-central!b14")
        key = CisKey(cis.get("clientid") or f"sb-sim-cis-{guid[:8]}!b1001|{xsappname}",
                     cis.get("clientsecret") or secrets.token_urlsafe(24),
                     cis.get("grant_type", "client_credentials"), cis.get("plan", "central"), xsappname)
        self.global_account = GlobalAccount(guid, ga["display_name"], ga["subdomain"], ga.get("zone_id") or guid,
                                            ents, key)

    def load_subaccount(self, sa: dict[str, Any], path: Path_, loc: Locator) -> Subaccount:
        """One entry of `subaccounts` (without its `cf_org`); unknown entitlements raise LandscapeError."""
        guid = sa["guid"]
        created = int(sa.get("created_ms") or epoch_ms())
        sub = Subaccount(guid, sa["display_name"], sa["subdomain"], sa.get("region", "eu10"),
                         sa.get("description", ""), sa.get("tenant_id") or guid,
                         {k: list(v) for k, v in (sa.get("labels") or {}).items()},
                         sa.get("used_for_production", "UNSET"), bool(sa.get("beta_enabled", False)),
                         created, created, sa.get("provisioned"))
        self.subaccounts[guid] = sub
        for i, a in enumerate(sa.get("assignments") or []):
            service, plan = a["service"], a["plan"]
            ents = self.entitlement(service, plan)
            if not ents:
                raise loc.error(path + ("assignments", i), f"the global account has no entitlement {service}/"
                                f"{plan}; add it to global_account.entitlements or fix the names")
            amount = 1 if ents[0].enable_type else int(a.get("amount", 1))
            state = a.get("state", "OK")
            message = a.get("state_message") or ("Succeeded to update assignment of service plan."
                                                 if state == "OK" else "Failed to update assignment.")
            self.assignments.append(Assignment(guid, service, plan, amount, created, created, state, message))
        return sub
