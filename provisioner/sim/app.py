"""The simulator's WSGI application: wires the API packages (cf, uaa, btp, sm) and core together, serves the admin
endpoints `/_sim/...`, and runs every API request through fault injection and the journal.

Every API request (any path outside `/_sim/`) goes through the fault injector: its latency is slept on the
clock outside the lock, then, under the lock, due jobs complete, the injector decides on a transient failure,
and the request is handled unless the failure comes "before" it; an injected failure replaces the response (or,
for a "reset", closes the connection without one). The journal records every API request with the injected
fault, if any. One re-entrant lock serialises all requests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from provisioner.sim.aging import age_keys
from provisioner.sim.broker.brokers import Zone
from provisioner.sim.btp import routes as btp_routes
from provisioner.sim.btp.backend import BtpBackend
from provisioner.sim.btp.model import EnvironmentOrg
from provisioner.sim.cf import routes as cf_routes
from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.model import Instance as CfInstance
from provisioner.sim.core.clock import Clock
from provisioner.sim.core.config import Config
from provisioner.sim.core.errors import cf_unknown_error, failure_response, route_not_found
from provisioner.sim.core.faults import FaultInjector, FaultsError
from provisioner.sim.core.http import Ctx, SimError, json_response
from provisioner.sim.core.identity import Identity
from provisioner.sim.core.jobs import Jobs
from provisioner.sim.core.journal import Journal
from provisioner.sim.core.serving import reset_connection
from provisioner.sim.core.tokens import Tokens
from provisioner.sim.keyclients import cf_dump, sm_dump, wire_key_clients
from provisioner.sim.landscape import load_landscape
from provisioner.sim.sm import routes as sm_routes
from provisioner.sim.sm.backend import SmBackend
from provisioner.sim.sm.load import set_base_url as sm_set_base_url
from provisioner.sim.sm.model import PlatformBinding, PlatformInstance
from provisioner.sim.uaa import routes as uaa_routes
from provisioner.sim.uaa.backend import GlobalZone, UaaBackend

log = logging.getLogger("provisioner.sim")



@lru_cache(maxsize=1)
def url_map() -> Map:
    """The routes of every API and of ``/_sim/``, compiled once per process (the endpoints name the API and the
    handler; each app binds them to its own backends)."""
    return Map([
        Rule("/_sim/requests", endpoint=("admin", "_admin_requests"), methods=["GET", "DELETE"]),
        Rule("/_sim/config", endpoint=("admin", "_admin_config"), methods=["GET", "PATCH"]),
        Rule("/_sim/state", endpoint=("admin", "_admin_state"), methods=["GET"]),
        Rule("/_sim/faults", endpoint=("admin", "_admin_faults"), methods=["GET", "PATCH", "DELETE"]),
        Rule("/_sim/tokens/expire", endpoint=("admin", "_admin_expire_tokens"), methods=["POST"]),
        Rule("/_sim/age", endpoint=("admin", "_admin_age"), methods=["POST"]),
        *cf_routes.rules(), *uaa_routes.rules(), *btp_routes.rules(), *sm_routes.rules(),
    ], strict_slashes=False, merge_slashes=False)

class SimApp:
    """The simulated landscape and its HTTP interface. Raises LandscapeError / FaultsError for invalid input."""

    def __init__(self, landscape: str | Path | dict[str, Any] | None, config: Config, clock: Clock,
                 faults: dict[str, Any] | None) -> None:
        self.lock = threading.RLock()
        self.config = config
        self.clock = clock
        self.url = ""
        self.mtls_url = ""
        self.journal = Journal()
        self.tokens = Tokens(config)
        self.faults = FaultInjector()
        self.jobs = Jobs(clock, config, self.faults)
        self.identity = Identity()
        self.btp = BtpBackend(self.jobs, self.faults, config)
        self.cf = CfBackend(self.identity, self.jobs, config)
        self.uaa = UaaBackend(self.identity, self.tokens)
        self.sm = SmBackend(self.jobs, config)
        self.sm.next_seq = self.cf.next_seq  # one order of creation over CF and Service Manager
        self.sm.next_app_index = self.cf.next_app_index  # one XSUAA: application indexes never repeat
        self._wire_sm()  # before loading: instances of the landscape take the subaccount's context
        load_landscape(landscape, self.identity, self.btp, self.cf, self.sm)
        self.faults.replace(faults)
        self._wire()
        self.url_map = url_map()
        self.backends: dict[str, object] = {"cf": self.cf, "uaa": self.uaa, "btp": self.btp, "sm": self.sm}

    def _wire(self) -> None:
        """The dependencies between the APIs, as lookups (the API packages never import each other)."""
        cf, btp, uaa = self.cf, self.btp, self.uaa
        cf.assigned_ok = btp.assigned_ok
        cf.zone_of = btp.zone_of
        btp.environment_orgs = lambda: [EnvironmentOrg(o.guid, o.name, o.subaccount_guid)
                                        for o in cf.orgs.values() if o.subaccount_guid]

        def global_zone() -> GlobalZone:
            ga = btp.ga
            return GlobalZone(ga.subdomain, ga.zone_id, ga.cis.clientid, ga.cis.clientsecret, ga.cis.grant_type,
                              ga.cis.xsappname)

        def subaccount_zone(subdomain: str) -> Zone | None:
            sub = btp.subaccount_by_subdomain(subdomain)
            return btp.zone_of(sub.guid) if sub else None

        uaa.global_zone = global_zone
        uaa.subaccount_zone = subaccount_zone

        wire_key_clients(uaa, cf, self.sm, btp)

    def _wire_sm(self) -> None:
        """Service Manager sees the subaccounts (BTP), the entitlements (BTP) and the instances and keys of each
        subaccount's Cloud Foundry environment (CF, read-only); the Accounts service hands out its access
        bindings."""
        cf, btp, sm = self.cf, self.btp, self.sm
        sm.assigned_ok = btp.assigned_ok
        sm.zone_of = btp.zone_of

        def subaccount_context(guid: str) -> dict[str, Any] | None:
            sub = btp.subaccounts.get(guid)
            return None if sub is None else {
                "region": f"cf-{sub.region}", "zone_id": sub.tenant_id, "subdomain": sub.subdomain,
                "license_type": "SAPDEV", "subaccount_id": sub.guid, "global_account_id": btp.ga.guid}

        def cf_instances(guid: str) -> list[CfInstance]:
            return [i for i in cf.instances.values()
                    if cf.orgs[cf.spaces[i.space_guid].org_guid].subaccount_guid == guid]

        def platform_instances(guid: str) -> list[PlatformInstance]:
            out = []
            for i in cf_instances(guid):
                space = cf.spaces[i.space_guid]
                org = cf.orgs[space.org_guid]
                state = cf.operation_state(i)
                context = {"platform": "cloudfoundry", "organization_guid": org.guid, "organization_name": org.name,
                           "space_guid": space.guid, "space_name": space.name, "instance_name": i.name}
                out.append(PlatformInstance(i.guid, i.name, guid, i.plan_guid, i.parameters, context, i.created_at,
                                            i.updated_at, i.seq, i.last_operation.type,
                                            "in progress" if state == "initial" else state,
                                            i.last_operation.description or ""))
            return out

        def platform_bindings(guid: str) -> list[PlatformBinding]:
            ids = {i.guid for i in cf_instances(guid)}
            return [PlatformBinding(k.guid, k.name, k.instance_guid, k.created_at, k.updated_at, k.seq,
                                    k.last_operation.type != "create" or cf.operation_state(k) == "succeeded")
                    for k in cf.keys.values() if k.instance_guid in ids]

        def delete_access(guid: str, name: str) -> bool:
            found = sm.access_binding(guid, name)
            if found is not None:
                sm.delete_access_binding(found)
            return found is not None

        sm.subaccount_context = subaccount_context
        sm.platform_instances = platform_instances
        sm.platform_bindings = platform_bindings
        btp.sm_bindings = lambda guid: [sm.access_credentials(a) for a in sm.access_bindings(guid)]
        btp.sm_binding_create = lambda guid, name: sm.access_credentials(sm.create_access_binding(guid, name))
        btp.sm_binding_delete = delete_access

    def set_url(self, url: str, mtls_url: str = "") -> None:
        """Called once the server listens (`https://HOST:PORT`, or `http://`), with the URL of its mTLS port (the
        `certurl` of x509 credentials)."""
        with self.lock:
            self.url, self.mtls_url = url, mtls_url
            self.cf.cert_url = self.sm.cert_url = mtls_url
            self.cf.set_base_url(url)
            sm_set_base_url(self.sm, url)

    def info(self) -> dict[str, Any]:
        """`{"url", "cf_api", "cf_username", "cf_password", "cis_key", "cis_local_keys": {subdomain: key}}`
        (docs/simulator.md)."""
        with self.lock:
            users = self.identity.users_by_name(self.identity.default_user)
            user = users[0] if users else None
            return {"url": self.url, "cf_api": self.url, "cf_username": user.username if user else "",
                    "cf_password": (user.password or "") if user else "",
                    "cis_key": self.btp.cis_service_key(self.url),
                    "cis_local_keys": {s.subdomain: self.btp.local_cis_key(self.url, s)
                                       for s in self.btp.subaccounts.values()}}

    # ---- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        ctx = Ctx(request, self.url, self.tokens)
        if request.path.startswith("/_sim/"):  # admin: no faults, not journalled
            with self.lock:
                self.jobs.tick()
                self.jobs.drain()  # the journal lists the jobs of API requests only
                admin_response = self._dispatch(ctx)
            return admin_response(environ, start_response)

        received = self.clock.monotonic()
        with self.lock:
            delay = self.faults.latency(request.path)
        if delay > 0:
            self.clock.sleep(delay)
        with self.lock:
            handled = self.clock.monotonic()
            self.jobs.tick()
            if self.faults.tokens_expire(handled):
                self.tokens.revoke()
            fault = self.faults.decide(request.method, request.path)
            response: Response | None = None
            if fault is None or fault.when == "after":
                response = self._dispatch(ctx)
            if fault is not None:
                ctx.fault = fault.kind
                response = None if fault.kind == "reset" else failure_response(
                    fault.kind, request.path, self.faults.settings.retry_after)
            self.journal.record(request.method, request.path, request.query_string.decode("latin-1"),
                                response.status_code if response is not None else None, ctx.fault,
                                received=received, handled=handled, answered=self.clock.monotonic(),
                                jobs=self.jobs.drain())
        if response is None:
            reset_connection(environ)  # raises: werkzeug drops the connection quietly
        return response(environ, start_response)

    def _dispatch(self, ctx: Ctx) -> Response:
        request = ctx.request
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            (api, handler), args = adapter.match()
            if api == "admin":
                response: Response = getattr(self, handler)(ctx, **args)
            else:
                response = handler(ctx, **{api: self.backends[api]}, **args)
            return response
        except SimError as exc:
            return exc.response
        except (NotFound, MethodNotAllowed):
            return route_not_found(request.path)
        except HTTPException as exc:
            return json_response({"error": exc.name}, exc.code or 500)
        except Exception:
            log.exception("internal error handling %s %s", request.method, request.path)
            return cf_unknown_error().response

    # ---- admin endpoints (/_sim/) ----------------------------------------------------------------

    def _admin_requests(self, ctx: Ctx) -> Response:
        if ctx.request.method == "DELETE":
            self.journal.clear()
            return Response(status=204)
        return json_response(self.journal.entries())

    def _admin_config(self, ctx: Ctx) -> Response:
        if ctx.request.method == "PATCH":
            body = ctx.json_body("{}")
            if not isinstance(body, dict):
                return json_response({"error": "the body must be a JSON object"}, 400)
            problem = self.config.update(body)
            if problem:
                return json_response({"error": problem}, 400)
        return json_response(self.config.as_dict())

    def _admin_state(self, ctx: Ctx) -> Response:
        """The mutable state without secrets."""
        cf = cf_dump(self.cf)
        return json_response({"config": self.config.as_dict(), "subaccounts": self.btp.dump_subaccounts(), **cf,
                              "assignments": self.btp.dump_assignments(), **sm_dump(self.sm)})

    def _admin_faults(self, ctx: Ctx) -> Response:
        """GET the faults object; PATCH merges a JSON merge patch into it; DELETE clears it (no faults)."""
        if ctx.request.method == "DELETE":
            self.faults.replace(None)
        elif ctx.request.method == "PATCH":
            try:
                self.faults.patch(ctx.json_body("{}"))
            except FaultsError as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response(self.faults.as_dict())

    def _admin_expire_tokens(self, ctx: Ctx) -> Response:
        """Every access token issued so far becomes invalid; refresh tokens keep working."""
        self.tokens.revoke()
        return Response(status=204)

    def _admin_age(self, ctx: Ctx) -> Response:
        """Move the keys' creation times back (:mod:`provisioner.sim.aging`): ``{"days": N, "names": [...]}``."""
        aged, problem = age_keys(ctx.json_body("{}"), self.cf.keys, self.sm.bindings)
        return json_response({"error": problem}, 400) if problem else json_response({"aged": aged})
