"""BTP account APIs client: Accounts and Entitlements services, authenticated with a Cloud Management (``cis``)
service key. On :mod:`provisioner.clients.http`.

Implements the BTP Cloud Management APIs of docs/sap-facts.md §7: the ``cis`` key and its token (password grant when
the key's ``grant_type`` is ``user_token``, client credentials otherwise; §7.1), ``GET /entitlements/v1/assignments``,
``PUT /entitlements/v1/subaccountServicePlans`` (202 + ``Location: /jobs-management/v1/jobs/{id}/status``), the job
status endpoint, ``GET /accounts/v1/subaccounts[/{guid}]`` (§7.2) and the subaccount's Service Manager credentials
(``/accounts/v2/subaccounts/{guid}/serviceManagerBindings``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from provisioner.clients.answers import btp as answers
from provisioner.clients.atonce import at_once
from provisioner.clients.fleetshare import FleetShare, Lookup, Once
from provisioner.clients.http import HttpClient, RequestStats, SessionPool
from provisioner.clients.uaa import shared_token_source
from provisioner.errors import ApiError, BadInput, NameTaken, NotFound, StepFailed, clipped
from provisioner.secret import Secret

if TYPE_CHECKING:
    import requests

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
#: a fix for each error code of the BTP entitlements service a person can act on (docs/sap-facts.md §7.3), added to
#: the error where it is answered
BTP_HINTS = {
    30015: "the global account lacks this service plan: ask SAP or the global account administrator to add it to "
           "the global account's entitlements",
    30009: "the global account's quota for this plan is used up: free it in another subaccount or raise the "
           "global account's quota",
    12003: "the plan takes the other of enable/amount than sent; check service.amount and the plan's category",
    30001: "several plans share this name: the entitlement needs the plan's unique identifier",
    30004: "another entitlement change holds the lock; it was retried; re-run in a few minutes",
    11006: "the BTP rate limit was hit and retries ran out; re-run later or lower --parallel",
}
ENABLE_CATEGORIES = frozenset({"ELASTIC_SERVICE", "ELASTIC_LIMITED", "APPLICATION"})
REQUIRED_CIS_FIELDS = ("uaa.clientid", "uaa.clientsecret", "uaa.url", "endpoints.accounts_service_url",
                       "endpoints.entitlements_service_url")


def validate_cis_key(key: dict[str, Any], source: str) -> None:
    """Raise :class:`BadInput` unless the ``cis`` key has the fields crossplane's client requires."""
    for dotted in REQUIRED_CIS_FIELDS:
        node: Any = key
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, str) or not node:
            raise BadInput(f"{source}: the Cloud Management (cis) service key has no {dotted}; "
                           "use the key of a cis instance of plan central")


class Btp:
    """Clients for the Accounts and Entitlements services of one global account.

    ``cis_key`` is the service key (credentials object). ``username``/``password`` are needed when the key's
    ``grant_type`` is ``user_token`` (password grant).
    """

    def __init__(self, cis_key: dict[str, Any], *, source: str, username: str | None = None,
                 password: Secret | None = None, pool: SessionPool | None = None,
                 stats: RequestStats | None = None, share: FleetShare | None = None):
        validate_cis_key(cis_key, source)
        uaa = cis_key["uaa"]
        endpoints = cis_key["endpoints"]
        self.stats = stats if stats is not None else RequestStats()
        self.pool = pool
        #: what the runs of a run context share (:class:`FleetShare`); None: nothing shared, each list read anew
        self.share = share
        if cis_key.get("grant_type") == "user_token":
            if not username or password is None:
                raise BadInput(f"{source}: the cis key's grant_type is user_token (password grant); "
                               "set btp.username and btp.password in the playbook")
            grant = "password"
        else:
            grant = "client_credentials"
        self.token_source = shared_token_source(uaa["url"], uaa["clientid"], Secret(uaa["clientsecret"]),
                                             grant=grant, what="BTP XSUAA (cis key)", username=username,
                                             password=password, client_is=f"the cis key's client ({source})",
                                             user_is=f"the BTP user {clipped(username or '')} "
                                                     "(btp.username / btp.password)",
                                             pool=pool, stats=self.stats, share=share)
        self.accounts = HttpClient(endpoints["accounts_service_url"], what="BTP accounts service",
                                   token_source=self.token_source, pool=pool, stats=self.stats)
        self.entitlements = HttpClient(endpoints["entitlements_service_url"], what="BTP entitlements service",
                                       token_source=self.token_source, pool=pool, stats=self.stats)
        provisioning = endpoints.get("provisioning_service_url")
        self._once: Once[str] = Once()  # subaccounts read by GUID, once for this client
        #: the Provisioning service's URL (optional in the key; its client is made when first needed)
        self.provisioning_url = provisioning if isinstance(provisioning, str) and provisioning else None

    # -- accounts ---------------------------------------------------------------------------------------------

    def find_subaccount(self, ident: str) -> dict[str, Any]:
        """The subaccount with GUID ``ident``, or else with subdomain (or display name) ``ident``.

        ``GET /accounts/v1/subaccounts/{guid}`` or ``GET /accounts/v1/subaccounts`` filtered client-side (the API
        has no server-side filter by subdomain), each read once for this client. Raises :class:`StepFailed` when
        none or several match.
        """
        if GUID_RE.match(ident):
            guid = ident.lower()

            def read() -> dict[str, Any]:
                try:
                    return answers.subaccount(self.accounts.request("GET", f"/accounts/v1/subaccounts/{guid}"))
                except NotFound:
                    raise StepFailed(f"subaccount {ident} not found in the global account of the cis key") from None

            # the run's org check (in whichever step writes first) and its entitlement step both ask, side by side
            return self._once.once(guid, read)
        subs = self.subaccounts()
        found = [s for s in subs if str(s.get("subdomain", "")).lower() == ident.lower()]
        if not found:
            found = [s for s in subs if s.get("displayName") == ident]
        if len(found) != 1:
            subdomains = sorted(clipped(str(s.get("subdomain")), 40) for s in subs)
            names = ", ".join(subdomains[:10]) + (f", … ({len(subdomains)} in all)" if len(subdomains) > 10 else "")
            raise StepFailed(f"subaccount {clipped(ident)}: {len(found)} subaccounts match by subdomain or name "
                             f"(subdomains here: {names or 'none'}); give its GUID")
        return found[0]

    def sign_in_and_list(self, ident: str, *, environments: bool = False) -> None:
        """Sign in (the cis token), then side by side: when ``ident`` is not a GUID, list the subaccounts into the
        pool's shared list that :meth:`find_subaccount` reads, and with ``environments`` read the environment
        instances (:meth:`environments`, for the org check before the first write): early work a first run asks
        for beside the CF sign-in. A refused environment read is left to the check, which asks again."""
        self.token_source.token()
        if self.share is None:
            return
        reads: list[Callable[[], object]] = [self.subaccounts] if not GUID_RE.match(ident) else []
        if environments:
            reads.append(self._environments_or_none)
        at_once(*reads)

    def _environments_or_none(self) -> list[dict[str, Any]] | None:
        try:
            return self.environments()
        except ApiError:
            return None

    def subaccounts(self) -> list[dict[str, Any]]:
        """Every subaccount the cis key sees (``GET /accounts/v1/subaccounts`` → ``value``), listed once per
        accounts service and credentials among the runs sharing the pool (a fleet: one list, not one per tenant)."""

        def fetch() -> list[dict[str, Any]]:
            return answers.subaccounts(self.accounts.request("GET", "/accounts/v1/subaccounts"))

        if self.share is None:
            return fetch()
        return self.share.subaccounts.once(Lookup(self.accounts.base_url, self.token_source), fetch)

    def environments(self) -> list[dict[str, Any]] | None:
        """The environment instances the cis key's token sees (``GET /provisioning/v1/environments`` →
        ``environmentInstances``: ``environmentType``, ``subaccountGUID``, ``platformId`` = the CF org GUID,
        ``labels`` a JSON string with ``"Org ID"``), read once per provisioning service and credentials among the runs
        sharing the pool. None when the key names no ``endpoints.provisioning_service_url``. Raises
        :class:`ApiError` (401/403 when the token may not read environments: SAP documents the scope for the
        ``local`` cis plan; whether a ``central`` token is accepted is not confirmed, docs/sap-facts.md)."""
        if self.provisioning_url is None:
            return None
        client = HttpClient(self.provisioning_url, what="BTP provisioning service", token_source=self.token_source,
                            pool=self.pool, stats=self.stats)

        def fetch() -> list[dict[str, Any]]:
            return answers.environments(client.request("GET", "/provisioning/v1/environments"))

        if self.share is None:
            return fetch()
        return self.share.environments.once(self.environments_lookup(), fetch)

    def environments_lookup(self) -> Lookup:
        """The key of :meth:`environments` in the share (the provisioning service's URL and this sign-in)."""
        return Lookup(str(self.provisioning_url).rstrip("/"), self.token_source)

    # -- Service Manager credentials (Accounts service v2) --------------------------------------------------------

    def sm_binding(self, subaccount_guid: str, name: str, *, create: bool = True) -> dict[str, Any] | None:
        """The Service Manager credentials of the subaccount's ``serviceManagerBindings`` binding ``name``
        (``clientid``, ``clientsecret``, ``url``, ``sm_url``; secrets: never print them), created when missing.
        ``GET`` then, on 404, ``POST /accounts/v2/subaccounts/{guid}/serviceManagerBindings`` ``{"name": name}``
        (scope ``global-account.subaccount.update``: the cis key of a global account administrator). A 409 on the
        create (a parallel run made it) reads it again. Without ``create``: None when missing."""
        path = f"/accounts/v2/subaccounts/{subaccount_guid}/serviceManagerBindings"
        try:
            return answers.sm_binding(self.accounts.request("GET", f"{path}/{name}"))
        except NotFound:
            pass
        return self.create_sm_binding(subaccount_guid, name)[0] if create else None

    def create_sm_binding(self, subaccount_guid: str, name: str) -> tuple[dict[str, Any], bool]:
        """``POST /accounts/v2/subaccounts/{guid}/serviceManagerBindings`` ``{"name": name}`` → (the binding's
        credentials, True); on a 409 (a parallel run made it) its ``GET`` → (the credentials, False)."""
        path = f"/accounts/v2/subaccounts/{subaccount_guid}/serviceManagerBindings"
        try:
            made = self.accounts.request("POST", path, json={"name": name}, expect=(200, 201))
            return answers.sm_binding(made), True
        except NameTaken:
            pass
        return answers.sm_binding(self.accounts.request("GET", f"{path}/{name}")), False

    # -- entitlements -----------------------------------------------------------------------------------------

    def _entitled(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to the entitlements service; an error with a code of :data:`BTP_HINTS` carries its fix."""
        try:
            return self.entitlements.request(method, path, **kwargs)
        except ApiError as exc:
            if exc.hint is None and isinstance(exc.code, int) and exc.code in BTP_HINTS:
                raise exc.with_hint(BTP_HINTS[exc.code]) from None
            raise

    def assignments(self, subaccount_guid: str, service: str, plan: str) -> dict[str, Any]:
        """``GET /entitlements/v1/assignments?subaccountGUID=&serviceName=&planName=`` (204 → empty lists)."""
        resp = self._entitled(
            "GET", "/entitlements/v1/assignments",
            params={"subaccountGUID": subaccount_guid, "serviceName": service, "planName": plan},
            expect=(200, 204))
        if resp.status_code == 204 or not resp.content:
            return {"entitledServices": [], "assignedServices": []}
        return answers.assignments(resp)

    def assign(self, subaccount_guid: str, service: str, plan: str, *, enable: bool | None = None,
               amount: float | None = None, unique_id: str | None = None) -> str | None:
        """``PUT /entitlements/v1/subaccountServicePlans`` → the job status path (``Location``, else the body's
        ``jobId``), or None when the answer names no job."""
        info: dict[str, Any] = {"subaccountGUID": subaccount_guid}
        if enable is not None:
            info["enable"] = enable
        if amount is not None:
            info["amount"] = amount
        item: dict[str, Any] = {"serviceName": service, "servicePlanName": plan, "assignmentInfo": [info]}
        if unique_id:
            item["servicePlanUniqueIdentifier"] = unique_id
        resp = self._entitled("PUT", "/entitlements/v1/subaccountServicePlans",
                                         json={"subaccountServicePlans": [item]}, expect=(200, 202))
        if resp.headers.get("Location"):
            return resp.headers["Location"]
        job = answers.assign_job(resp)
        return f"/jobs-management/v1/jobs/{job}/status" if job else None

    def job_status(self, location: str) -> dict[str, Any]:
        """``GET /jobs-management/v1/jobs/{id}/status`` → ``{"status": IN_PROGRESS|COMPLETED|FAILED, ...}``."""
        return answers.job_status(self._entitled("GET", location))


def find_assignment(body: dict[str, Any], service: str, plan: str, subaccount_guid: str) -> dict[str, Any] | None:
    """The ``assignmentInfo`` entry of the plan for the subaccount in an ``/assignments`` answer, or None."""
    for svc in body.get("assignedServices") or []:
        if svc.get("name") != service:
            continue
        for p in svc.get("servicePlans") or []:
            if p.get("name") != plan:
                continue
            for a in p.get("assignmentInfo") or []:
                if a.get("entityType") == "SUBACCOUNT" and str(a.get("entityId", "")).lower() == subaccount_guid:
                    return dict(a)
    return None


def find_entitled_plan(body: dict[str, Any], service: str, plan: str) -> dict[str, Any] | None:
    """The global account's entitled plan (``entitledServices[].servicePlans[]``) or None."""
    for svc in body.get("entitledServices") or []:
        if svc.get("name") != service:
            continue
        for p in svc.get("servicePlans") or []:
            if p.get("name") == plan:
                return dict(p)
    return None


def uses_enable(plan: dict[str, Any]) -> bool:
    """True when the plan is assigned with ``enable`` (no numeric quota), as terraform-provider-btp decides:
    category ELASTIC_SERVICE, ELASTIC_LIMITED or APPLICATION, or no amount at all."""
    return plan.get("category") in ENABLE_CATEGORIES or not plan.get("amount")
