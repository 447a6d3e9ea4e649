"""Cloud Foundry v3 API client (Cloud Controller), on :mod:`provisioner.clients.http`.

Implements the Cloud Foundry v3 endpoints listed in docs/sap-facts.md §8: ``GET /`` (discovery of the UAA),
organizations, spaces, roles, service offerings and plans, managed service instances (with ``/parameters``),
service credential bindings of type ``key`` (with ``/details``) and jobs. Lists follow ``pagination.next.href``.
Resources are the API's JSON objects (``dict``). Errors raise :class:`~provisioner.errors.ApiError`."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from provisioner.clients.answers import cf as answers
from provisioner.clients.fleetshare import FleetShare, Once
from provisioner.clients.http import HttpClient, Pages, RequestStats, SessionPool
from provisioner.clients.uaa import shared_token_source
from provisioner.errors import ApiError, Forbidden, NotFound, ProvisionerError, StepFailed, Unauthorized, clipped
from provisioner.secret import Secret
from provisioner.waits.wait import WaitSettings
from provisioner.waits.waitfor import plan, wait_for

NOT_A_CF_API = ("this is not a Cloud Foundry API root: set cf.api to the API endpoint of the subaccount's CF "
                "environment, e.g. https://api.cf.eu10.hana.ondemand.com (no path)")
CF_CLIENT_ID = "cf"  # the cf CLI's public UAA client, with an empty secret
PARAMS_NOT_SUPPORTED = 120004  # CF-ServiceFetchInstanceParametersNotSupported
JOB_PENDING = ("PROCESSING", "POLLING")  # a CF v3 job still running (its states: these, COMPLETE, FAILED)


class CloudFoundry:
    """A CF v3 client for one API endpoint, authenticated through the UAA that ``GET /`` names."""

    def __init__(self, api_url: str, *, pool: SessionPool | None = None, stats: RequestStats | None = None,
                 share: FleetShare | None = None):
        self.api_url, self.pool, self.share = api_url.rstrip("/"), pool, share  # share: FleetShare (None: none)
        self.stats = stats if stats is not None else RequestStats()
        self.http = HttpClient(self.api_url, what="CF API", pool=pool, stats=self.stats)
        #: lookups asked once per client (one run): steps running side by side share them
        self._once: Once[str] = Once()

    # -- authentication ---------------------------------------------------------------------------------------

    def uaa_url(self) -> str:
        """The UAA origin from ``GET /`` (``links.uaa.href``, else ``links.login.href``); asked once per API
        endpoint among the runs sharing ``share`` (a fleet)."""
        if self.share is None:
            return self._discover_uaa()
        return self.share.cf_uaa.once(self.api_url.lower(), self._discover_uaa)

    def _discover_uaa(self) -> str:
        try:
            body = answers.root(self.http.request("GET", "/", auth=False))
        except (Unauthorized, Forbidden, NotFound) as exc:  # another service answers there
            raise exc.with_hint(NOT_A_CF_API) from None
        links = body.get("links") or {}
        for name in ("uaa", "login"):
            href = (links.get(name) or {}).get("href")
            if href:
                return str(href)
        raise StepFailed(f"CF API {self.api_url}: GET / names no UAA (links.uaa); {NOT_A_CF_API}")

    def login_password(self, username: str, password: Secret, *, uaa_url: str | None = None,
                       client_id: str = CF_CLIENT_ID, client_secret: Secret | None = None,
                       origin: str | None = None, source: str = "cf.username / cf.password") -> None:
        """Sign in with the password grant (as ``cf auth`` does with ``CF_USERNAME``/``CF_PASSWORD``; ``origin``
        as ``cf auth --origin``). Raises :class:`~provisioner.errors.StepFailed` naming the user when refused."""
        user_is = f"the CF user {clipped(username)}" + (f" at origin {clipped(origin)}" if origin else "") + \
            f" ({source})"
        # the cf CLI's public client (no secret) is never the refused one: a 401 is about the user
        client_is = user_is if client_secret is None else f"the CF client {clipped(client_id)}"
        self.http.token_source = shared_token_source(
            uaa_url or self.uaa_url(), client_id, client_secret or Secret(""), grant="password",
            what="CF UAA", username=username, password=password, origin=origin, user_is=user_is,
            client_is=client_is, pool=self.pool, stats=self.stats, share=self.share)
        self.http.token_source.token()

    def login_client(self, client_id: str, client_secret: Secret, *, uaa_url: str | None = None,
                     source: str = "cf.client_id / cf.client_secret") -> None:
        """Sign in with the client-credentials grant (a technical user / CI client)."""
        self.http.token_source = shared_token_source(
            uaa_url or self.uaa_url(), client_id, client_secret, grant="client_credentials", what="CF UAA",
            client_is=f"the CF client {clipped(client_id)} ({source})", pool=self.pool, stats=self.stats,
            share=self.share)
        self.http.token_source.token()

    def use_token_source(self, source: Any) -> None:
        """Authenticate with any token source (``token()`` / ``refresh()``), e.g. the cf CLI's login."""
        self.http.token_source = source

    # -- generic ----------------------------------------------------------------------------------------------

    def pages(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every page (``resources``, ``included``, ``pagination``) of a list, following
        ``pagination.next.href``; each page read as :func:`provisioner.clients.answers.cf.page` says."""
        first = self.http.request("GET", path, params=params)
        seen = Pages(f"CF API: GET {path}", self.http.pool.settings.max_pages, first.url)
        body = answers.page(first, path)
        while True:
            yield body
            nxt = ((body.get("pagination") or {}).get("next") or {}).get("href")
            if not nxt:
                return
            seen.next(nxt)
            body = answers.page(self.http.request("GET", nxt), path)

    def list(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every resource of a paginated list."""
        for page in self.pages(path, params):
            yield from page.get("resources") or []

    def first(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        """The first resource of a filtered list, or None when the list is empty."""
        return next(self.list(path, params), None)

    def get(self, path: str, read: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """``GET path`` → the JSON object, read by ``read`` (a function of :mod:`provisioner.clients.answers.cf`).
        Raises
        :class:`ApiError` (e.g. 404 CF-ResourceNotFound; :class:`~provisioner.errors.MalformedAnswer`)."""
        return read(self.http.request("GET", path))

    def job(self, url: str) -> dict[str, Any]:
        """``GET /v3/jobs/:guid`` (the absolute ``Location`` of a 202) → the job object."""
        return answers.job(self.http.request("GET", url))

    def wait_job(self, url: str, settings: WaitSettings, what: str,
                 near: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
        """Wait (:func:`provisioner.waits.waitfor.wait_for`) on ``GET /v3/jobs/:guid`` while PROCESSING or POLLING
        until COMPLETE; raise :class:`StepFailed` with the job's error on FAILED. ``near(the job as last read)``: the
        read around the job's learned end instead, returning a job object too."""
        latest: list[dict[str, Any]] = []

        def refresh(job: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
            job = job if job is not None else self.job(url)
            latest[:] = [job]
            if job.get("state") == "FAILED":
                detail = (job.get("errors") or [{}])[0].get("detail") or "no detail"
                raise StepFailed(f"{what}: job {job.get('operation', '')} failed: {detail}")
            return job, str(job.get("state"))

        host = urlsplit(self.http.base_url).netloc
        learned = plan(settings, lambda j: f"{host} cf {j.get('operation', '')}",
                       (lambda: refresh(near(latest[-1]))) if near is not None else None)
        return wait_for(refresh, JOB_PENDING, ("COMPLETE",), settings.timeout, settings.gaps, what=what,
                        describe=lambda j: f"job {j.get('operation', '')} is {j.get('state')}", learned=learned,
                        origin=settings.origin)

    @staticmethod
    def job_resource_guid(job: dict[str, Any], link: str) -> str | None:
        """The guid of the resource a job links to (``links.service_instances`` or
        ``links.service_credential_binding``), or None when the link is absent."""
        href = ((job.get("links") or {}).get(link) or {}).get("href")
        return href.rstrip("/").rsplit("/", 1)[-1] if href else None

    @staticmethod
    def job_location(resp: Any) -> str:
        """The job URL of a 202 (its ``Location`` header); :class:`StepFailed` when it is missing."""
        loc = resp.headers.get("Location")
        if not loc:
            raise StepFailed(f"{resp.request.method} {resp.url}: 202 without a Location job URL")
        return str(loc)

    # -- orgs, spaces, roles ----------------------------------------------------------------------------------

    def find_org(self, name: str) -> dict[str, Any] | None:
        """``GET /v3/organizations?names=`` → the org, or None when it does not exist or is not visible."""
        return self.first("/v3/organizations", {"names": name})

    def org(self, name: str) -> dict[str, Any] | None:
        """:meth:`find_org`, asked once for this client (the space and the entitlement steps, running side by side,
        share the one ``GET /v3/organizations?names=``; a failed lookup is asked again)."""
        return self._once.once(name, lambda: self.find_org(name))

    def org_early(self, name: str) -> None:
        """:meth:`org` now, before the steps that share it run side by side (its request then counts for neither,
        whichever starts first); a failure is left to them: they ask again and report it."""
        try:
            self.org(name)
        except ProvisionerError:
            pass

    def find_org_and_space(self, org_name: str, space_name: str) -> tuple[dict[str, Any] | None,
                                                                          dict[str, Any] | None]:
        """The org by name (``GET /v3/organizations?names=``), then its space by name within that org's GUID
        (``GET /v3/spaces?names=&organization_guids=``): two bounded answers, whatever the number of orgs with a
        space of that name. ``(None, None)`` when the org does not exist or is not visible; ``(org, None)`` when
        the space does not exist."""
        org = self.org(org_name)
        if org is None:
            return None, None
        return org, self.find_space(org["guid"], space_name)

    def find_space(self, org_guid: str, name: str) -> dict[str, Any] | None:
        """``GET /v3/spaces?names=&organization_guids=`` → the space, or None."""
        return self.first("/v3/spaces", {"names": name, "organization_guids": org_guid})

    def create_space(self, org_guid: str, name: str) -> dict[str, Any]:
        """``POST /v3/spaces`` (201) → the space. A taken name raises :class:`~provisioner.errors.NameTaken` (422)."""
        body = {"name": name, "relationships": {"organization": {"data": {"guid": org_guid}}}}
        return answers.space(self.http.request("POST", "/v3/spaces", json=body, expect=(201,)))

    def space_role_usernames(self, space_guid: str, role_type: str) -> set[str]:
        """Lower-cased usernames holding ``role_type`` in the space (``GET /v3/roles?include=user``)."""
        params = {"space_guids": space_guid, "types": role_type, "include": "user", "per_page": "5000"}
        return {user["username"].lower() for page in self.pages("/v3/roles", params)
                for user in (page.get("included") or {}).get("users") or [] if user.get("username")}

    def create_space_role(self, space_guid: str, role_type: str, username: str, origin: str | None) -> None:
        """``POST /v3/roles`` by username; an existing role (422) counts as success."""
        user: dict[str, str] = {"username": username}
        if origin:
            user["origin"] = origin
        body = {"type": role_type, "relationships": {"user": {"data": user},
                                                     "space": {"data": {"guid": space_guid}}}}
        try:
            self.http.request("POST", "/v3/roles", json=body, expect=(201,))
        except ApiError as exc:
            if exc.status == 422 and "already has" in exc.detail:
                return
            raise

    # -- service offerings, plans, instances ------------------------------------------------------------------

    def find_plan(self, offering: str, plan: str, *, space_guid: str | None = None,
                  org_guid: str | None = None) -> dict[str, Any] | None:
        """The plan ``plan`` of ``offering`` visible in the space (or org); None when it is not: on BTP a plan is in
        an org's marketplace only when the subaccount has the entitlement."""
        params = {"names": plan, "service_offering_names": offering}
        if space_guid:
            params["space_guids"] = space_guid
        if org_guid:
            params["organization_guids"] = org_guid
        return self.first("/v3/service_plans", params)

    def find_instance(self, space_guid: str, name: str) -> dict[str, Any] | None:
        """``GET /v3/service_instances?names=&space_guids=`` (names are case-sensitive) → the instance, or None."""
        return self.first("/v3/service_instances", {"names": name, "space_guids": space_guid})

    def get_instance(self, guid: str) -> dict[str, Any]:
        """``GET /v3/service_instances/:guid`` → the instance, with ``last_operation``."""
        return self.get(f"/v3/service_instances/{guid}", answers.instance)

    def instance_parameters(self, guid: str) -> dict[str, Any] | None:
        """The broker's parameters of the instance, or None when the broker cannot return them (120004)."""
        try:
            return self.get(f"/v3/service_instances/{guid}/parameters", answers.parameters)
        except ApiError as exc:
            if exc.code == PARAMS_NOT_SUPPORTED or exc.title == "CF-ServiceFetchInstanceParametersNotSupported":
                return None
            raise

    def create_instance(self, space_guid: str, plan_guid: str, name: str, parameters: dict[str, Any],
                        annotations: dict[str, str]) -> str:
        """``POST /v3/service_instances`` (managed) → the job URL of the 202."""
        body = {"type": "managed", "name": name, "parameters": parameters,
                "metadata": {"annotations": annotations},
                "relationships": {"space": {"data": {"guid": space_guid}},
                                  "service_plan": {"data": {"guid": plan_guid}}}}
        resp = self.http.request("POST", "/v3/service_instances", json=body, expect=(202,))
        return self.job_location(resp)

    def update_instance(self, guid: str, body: dict[str, Any]) -> str | None:
        """``PATCH /v3/service_instances/:guid`` → the job URL (202), or None when applied at once (200)."""
        resp = self.http.request("PATCH", f"/v3/service_instances/{guid}", json=body, expect=(200, 202))
        return self.job_location(resp) if resp.status_code == 202 else None

    # -- service keys (service credential bindings of type key) -----------------------------------------------

    def find_key(self, instance_guid: str, name: str) -> dict[str, Any] | None:
        """``GET /v3/service_credential_bindings?names=&service_instance_guids=&type=key`` → the key, or None."""
        return self.first("/v3/service_credential_bindings",
                          {"names": name, "service_instance_guids": instance_guid, "type": "key"})

    def list_keys(self, instance_guid: str) -> builtins.list[dict[str, Any]]:
        """Every service key (binding of type ``key``) of the instance."""
        return list(self.list("/v3/service_credential_bindings",
                              {"service_instance_guids": instance_guid, "type": "key"}))

    def get_key(self, guid: str) -> dict[str, Any]:
        """``GET /v3/service_credential_bindings/:guid`` → the key, with ``last_operation`` (no credentials)."""
        return self.get(f"/v3/service_credential_bindings/{guid}", answers.binding)

    def create_key(self, instance_guid: str, name: str, parameters: dict[str, Any] | None = None,
                   annotations: dict[str, str] | None = None) -> str | None:
        """``POST /v3/service_credential_bindings`` type key (``parameters``, ``annotations``) → job URL or None."""
        body = {"type": "key", "name": name, "relationships": {"service_instance": {"data": {"guid": instance_guid}}},
                **({"parameters": parameters} if parameters else {}), "metadata": {"annotations": annotations or {}}}
        resp = self.http.request("POST", "/v3/service_credential_bindings", json=body, expect=(201, 202))
        return self.job_location(resp) if resp.status_code == 202 else None

    def key_credentials(self, guid: str) -> dict[str, Any]:
        """The key's credentials object from ``GET /v3/service_credential_bindings/:guid/details``."""
        return self.get(f"/v3/service_credential_bindings/{guid}/details", answers.details)

    def delete_key(self, guid: str) -> str | None:
        """``DELETE /v3/service_credential_bindings/:guid`` → the job URL (202), or None (204)."""
        resp = self.http.request("DELETE", f"/v3/service_credential_bindings/{guid}", expect=(202, 204))
        return self.job_location(resp) if resp.status_code == 202 else None
