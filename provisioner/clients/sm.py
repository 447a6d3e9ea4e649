"""SAP Service Manager client (the subaccount route): offerings, plans, instances, bindings and operations of one
subaccount, on :mod:`provisioner.clients.http`.

Implements the Service Manager REST API v1 of docs/sap-facts.md ("Service Manager"; SAP's ``btp-service-manager``
swagger and the Peripli specification ``api.md``):

- token: ``POST {url}/oauth/token`` client credentials with the SM credentials' ``clientid``/``clientsecret``
  (``url`` is the subaccount zone's XSUAA; ``sm_url`` the API);
- lists ``GET /v1/{service_offerings|service_plans|service_instances|service_bindings}`` →
  ``{"token": <next page>, "num_items", "items": [...]}``, every page read (``max_items``, ``token``), filtered by
  ``fieldQuery`` (``name eq 'x' and service_plan_id eq '…'``) and ``labelQuery``;
- ``POST``/``PATCH``/``DELETE`` with ``?async=true``: 201/200 (done) or 202 + ``Location:
  /v1/{kind}/{id}/operations/{op}``, waited on with :func:`provisioner.waits.waitfor.wait_for` until ``state`` is
  ``succeeded`` (``failed`` raises :class:`~provisioner.errors.StepFailed` with the operation's description;
  ``pending`` and ``in progress``, the other states of Peripli's ``pkg/types/operation.go``, are waited for; any
  other state fails naming it);
- 409 (the name is taken in the subaccount: :class:`~provisioner.errors.NameTaken`): the step re-reads and adopts;
  422 (a concurrent operation is in progress on the resource): the write waits and is sent again (:meth:`ServiceManager.
  write`); 429: the HTTP layer honours ``Retry-After`` (an HTTP date) for reads, and a write is re-read by the step;
- ``GET /v1/service_instances/{id}/parameters`` only where the offering has ``instances_retrievable``.

Errors are :class:`~provisioner.errors.ApiError` with the SM error word as ``title`` and its ``description``.
Credentials (``credentials`` of a binding, the client secret) are never logged or printed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from provisioner import clock
from provisioner.clients.answers import sm as answers
from provisioner.clients.budget import TokenBucket
from provisioner.clients.fleetshare import FleetShare
from provisioner.clients.http import HttpClient, Pages, RequestStats, SessionPool
from provisioner.clients.uaa import OAuthTokenSource
from provisioner.errors import ApiError, BadInput, NotFound, StepFailed
from provisioner.secret import Secret
from provisioner.waits.wait import WaitSettings
from provisioner.waits.waitfor import Learned, plan, wait_for

REQUIRED_SM_FIELDS = ("clientid", "clientsecret", "url", "sm_url")
PAGE_SIZE = 100
#: how often a write refused with 422 (a concurrent operation) is sent again, after waiting for that operation
CONCURRENT_RETRIES = 8
#: the states of an operation still running (Peripli ``pkg/types/operation.go``)
OPERATION_PENDING = ("pending", "in progress")


def quote(value: str) -> str:
    """A string literal for a ``fieldQuery``/``labelQuery`` (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def sm_credentials(key: Mapping[str, Any], source: str) -> dict[str, str]:
    """The four fields a client needs from an SM binding (``serviceManagerBindings``, a ``service-manager`` key of
    plan ``subaccount-admin``, with or without a ``{"credentials": …}`` wrapper). Raises :class:`BadInput` naming
    the missing field (never a value)."""
    creds = key.get("credentials") if isinstance(key.get("credentials"), Mapping) else key
    assert isinstance(creds, Mapping)
    missing = [f for f in REQUIRED_SM_FIELDS if not isinstance(creds.get(f), str) or not creds.get(f)]
    if missing:
        raise BadInput(f"{source}: the Service Manager credentials have no {', '.join(missing)}; use a "
                       "serviceManagerBindings binding or a key of a service-manager instance of plan "
                       "subaccount-admin")
    return {f: str(creds[f]) for f in REQUIRED_SM_FIELDS}


def concurrent(exc: BaseException) -> bool:
    """Whether a write was refused because another operation on the resource is in progress (422)."""
    return isinstance(exc, ApiError) and exc.status == 422 and (
        "Concurrent" in (exc.title or "") or "in progress" in exc.detail.lower())


@dataclass(frozen=True)
class Written:
    """A write's answer: the resource (the body of a 200/201, else None) and the operation's ``Location`` (202;
    None when the write completed at once)."""

    resource: Mapping[str, Any] | None
    operation: str | None


class ServiceManager:
    """A client for one subaccount's Service Manager. ``credentials``: ``clientid``, ``clientsecret`` (secret),
    ``url`` (token endpoint base) and ``sm_url`` (see :func:`sm_credentials`)."""

    def __init__(self, credentials: Mapping[str, str], *, pool: SessionPool | None = None,
                 stats: RequestStats | None = None, share: FleetShare | None = None):
        self.stats = stats if stats is not None else RequestStats()
        self.pool = pool
        #: what the runs of a run context share (the instance-create budget); None: no budget
        self.share = share
        self.token_source = OAuthTokenSource(credentials["url"], credentials["clientid"],
                                             Secret(credentials["clientsecret"]), grant="client_credentials",
                                             what="Service Manager XSUAA", pool=pool, stats=self.stats)
        self.http = HttpClient(credentials["sm_url"], what="SAP Service Manager", token_source=self.token_source,
                               pool=pool, stats=self.stats)
        #: how long a write refused by a concurrent operation waits for it (seconds); see :meth:`write`
        self.concurrent_wait = WaitSettings(timeout=600)

    # -- reads ------------------------------------------------------------------------------------------------

    def pages(self, kind: str, *, field_query: str | None = None,
              label_query: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item of ``GET /v1/{kind}`` (kind: ``service_offerings`` | ``service_plans`` | ``service_instances``
        | ``service_bindings``, these two with ``attach_last_operations=true``), following ``token`` page by
        page; :class:`~provisioner.errors.PageLoop` for a token read before in this list, or past
        ``http.max_pages`` pages."""
        params: dict[str, Any] = {"max_items": PAGE_SIZE}
        if kind in ("service_instances", "service_bindings"):
            params["attach_last_operations"] = "true"  # each item's last_operation (in progress, failed, ...)
        if field_query:
            params["fieldQuery"] = field_query
        if label_query:
            params["labelQuery"] = label_query
        seen = Pages(f"SAP Service Manager: GET /v1/{kind}", self.http.pool.settings.max_pages)
        while True:
            body = answers.page(self.http.request("GET", f"/v1/{kind}", params=params), kind)
            yield from body.get("items") or []
            token = body.get("token")
            if not token or not body.get("items"):
                return
            seen.next(f"page token {token}")
            params = {**params, "token": token}

    def get(self, kind: str, ident: str) -> dict[str, Any] | None:
        """``GET /v1/{kind}/{id}`` (a binding's answer holds its ``credentials``), or None on 404."""
        try:
            return answers.resource(self.http.request("GET", f"/v1/{kind}/{ident}"), kind)
        except NotFound:
            return None

    def offering(self, catalog_name: str) -> dict[str, Any] | None:
        """The offering ``fieldQuery=catalog_name eq '…'`` (``instances_retrievable`` tells whether instance
        parameters can be read), or None."""
        return next(self.pages("service_offerings", field_query=f"catalog_name eq {quote(catalog_name)}"), None)

    def plan(self, offering_id: str, catalog_name: str) -> dict[str, Any] | None:
        """The plan ``catalog_name`` of the offering, or None (the subaccount is not entitled to it)."""
        query = f"catalog_name eq {quote(catalog_name)} and service_offering_id eq {quote(offering_id)}"
        return next(self.pages("service_plans", field_query=query), None)

    def instances(self, *, name: str | None = None, plan_id: str | None = None,
                  label_query: str | None = None) -> list[dict[str, Any]]:
        """Instances by name and/or plan id (every page); the subaccount's CF instances are listed too
        (``context.platform`` ``cloudfoundry``)."""
        terms = ([f"name eq {quote(name)}"] if name else []) + \
            ([f"service_plan_id eq {quote(plan_id)}"] if plan_id else [])
        return list(self.pages("service_instances", field_query=" and ".join(terms) or None,
                               label_query=label_query))

    def bindings(self, instance_id: str, *, name: str | None = None) -> list[dict[str, Any]]:
        """Bindings of the instance (and with ``name``); list items carry no credentials on a real SM."""
        query = f"service_instance_id eq {quote(instance_id)}" + (f" and name eq {quote(name)}" if name else "")
        return list(self.pages("service_bindings", field_query=query))

    def instance_parameters(self, instance_id: str) -> dict[str, Any] | None:
        """``GET /v1/service_instances/{id}/parameters``; None when the offering does not return them (400, 404
        or 501 with the SM error, as for offerings without ``instances_retrievable``)."""
        try:
            return answers.parameters(self.http.request("GET", f"/v1/service_instances/{instance_id}/parameters"))
        except ApiError as exc:
            if exc.status in (400, 404, 409, 422, 501):
                return None
            raise

    # -- writes -----------------------------------------------------------------------------------------------

    def write(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Written:
        """``method path?async=true`` → :class:`Written`. A 422 (an operation on the resource is in progress) is
        waited out and the write sent again (up to 8 times, pausing as :mod:`provisioner.waits.wait` does, at most
        ``concurrent_wait.timeout`` seconds); other errors raise :class:`ApiError`."""
        settings, start, tries = self.concurrent_wait, clock.monotonic(), 0
        while True:
            try:
                resp = self.http.request(method, path, params={"async": "true"},
                                         json=dict(body) if body is not None else None, expect=(200, 201, 202, 204))
            except ApiError as exc:
                waited = clock.monotonic() - start
                tries += 1
                if not concurrent(exc) or tries >= CONCURRENT_RETRIES or not waited < settings.timeout:
                    raise
                clock.sleep(min(settings.pause(waited), settings.timeout - waited))
                continue
            location = resp.headers.get("Location") if resp.status_code == 202 else None
            if resp.status_code == 202 and not location:
                raise StepFailed(f"SAP Service Manager: {method} {path} answered 202 without a Location")
            kind = path.split("/")[2] if path.count("/") >= 2 else ""
            resource = answers.written(resp, kind) if resp.status_code in (200, 201) and resp.content.strip() else None
            return Written(resource, location)

    def create(self, kind: str, body: Mapping[str, Any]) -> Written:
        """``POST /v1/{kind}?async=true``; a taken name raises :class:`~provisioner.errors.NameTaken` (409). An instance
        create first takes a token from the fleet's budget for this Service Manager
        (:mod:`provisioner.clients.budget`)."""
        if kind == "service_instances" and self.share is not None:
            self.create_budget().take()
        return self.write("POST", f"/v1/{kind}", body)

    def create_budget(self) -> TokenBucket:
        """The instance-create budget shared by the runs of the fleet that talk to this Service Manager URL
        (``HttpSettings.sm_creates_per_minute`` a minute)."""
        assert self.share is not None
        rate = self.http.pool.settings.sm_creates_per_minute
        return self.share.sm_creates.once(self.http.base_url.lower(), lambda: TokenBucket(rate))

    def update(self, kind: str, ident: str, body: Mapping[str, Any]) -> Written:
        """``PATCH /v1/{kind}/{id}?async=true``."""
        return self.write("PATCH", f"/v1/{kind}/{ident}", body)

    def delete(self, kind: str, ident: str) -> Written:
        """``DELETE /v1/{kind}/{id}?async=true`` (a resource already gone: done)."""
        try:
            return self.write("DELETE", f"/v1/{kind}/{ident}")
        except NotFound:  # 404 or 410
            return Written(None, None)

    def operation(self, location: str) -> dict[str, Any]:
        """``GET /v1/{kind}/{id}/operations/{op}`` → ``{"id", "type", "state", "description", "resource_id",
        "errors", ...}``."""
        return answers.operation(self.http.request("GET", location))

    def wait(self, location: str, settings: WaitSettings, what: str) -> str | None:
        """Wait (:func:`provisioner.waits.waitfor.wait_for`) on the operation while ``pending`` or ``in progress``
        until ``succeeded`` → its ``resource_id`` (else the id in the Location). Raises :class:`StepFailed` with the
        description when it failed, :class:`~provisioner.waits.waitfor.UnexpectedState` on another state,
        ``WaitTimeout`` after ``settings.timeout`` s."""

        def refresh() -> tuple[dict[str, Any], str]:
            op = self.operation(location)
            if op.get("state") == "failed":
                errors = op.get("errors")
                first = errors[0] if isinstance(errors, list) and errors else errors
                detail = op.get("description") or (first.get("description") if isinstance(first, dict) else None)
                kind = str(op.get("type") or "operation").lower()
                raise StepFailed(f"{what}: {kind} failed: {detail or 'no detail'}")
            return op, str(op.get("state"))

        host = urlsplit(self.http.base_url).netloc
        resource = next((p for p in location.split("/") if p.startswith("service_")), "operation")
        learned: Learned[dict[str, Any]] | None = plan(
            settings, lambda o: f"{host} sm {resource} {str(o.get('type') or '').lower()}")
        op = wait_for(refresh, OPERATION_PENDING, ("succeeded",), settings.timeout, settings.gaps, what=what,
                      describe=lambda o: f"operation {o.get('type')} is {o.get('state')}", learned=learned,
                      origin=settings.origin)
        if op.get("resource_id"):
            return str(op["resource_id"])
        parts = location.rstrip("/").split("/")
        return parts[-3] if len(parts) >= 3 and parts[-2] == "operations" else None
