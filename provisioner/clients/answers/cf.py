"""What the tool reads from the Cloud Foundry v3 API (Cloud Controller; docs/sap-facts.md §8): the root document,
list pages and the resources in them (organizations, spaces, roles with their users, service plans, service
instances, service credential bindings), ``/details`` (a key's credentials, :mod:`.keys`), ``/parameters`` and jobs.

Each function reads one answer with :func:`provisioner.clients.answers.read` and returns it as parsed (a ``dict``), or
raises :class:`~provisioner.errors.MalformedAnswer`. Shapes: the CF v3 API reference (``v3-apidocs.cloudfoundry.org``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints

from provisioner.clients.answers import Answer, Id, Name, Text, Url, malformed, read, read_object
from provisioner.clients.answers.keys import KeyCredentials

if TYPE_CHECKING:
    import requests

#: a link to a resource: the last path segment is its GUID
ResourceUrl = Annotated[str, StringConstraints(max_length=4096, pattern=r"^[^?#\s]*/[A-Za-z0-9][A-Za-z0-9._~:-]*/?$")]


class Link(Answer):
    href: Url | None = None


class RootLinks(Answer):
    uaa: Link | None = None
    login: Link | None = None


class Root(Answer):
    """``GET /``: ``links.uaa.href`` (else ``links.login.href``) is the UAA."""

    links: RootLinks | None = None


class Pagination(Answer):
    next: Link | None = None


class Guided(Answer):
    """A resource of a list the tool reads by its GUID and name."""

    guid: Id
    name: Name | None = None


class User(Answer):
    username: Name | None = None


class Included(Answer):
    users: list[User] | None = None


class Relationship(Answer):
    class Data(Answer):
        guid: Id | None = None

    data: Data | None = None


class Relationships(Answer):
    service_plan: Relationship | None = None
    space: Relationship | None = None


class LastOperation(Answer):
    type: Name | None = None
    state: Name | None = None
    description: Text | None = None


class Metadata(Answer):
    annotations: dict[str, Text | None] | None = None
    labels: dict[str, Text | None] | None = None


class Instance(Guided):
    """A service instance: name, plan and space, the tool's annotations, last operation, creation time."""

    last_operation: LastOperation | None = None
    relationships: Relationships | None = None
    metadata: Metadata | None = None
    created_at: Name | None = None


class Binding(Guided):
    """A service credential binding (a service key): name, last operation, creation time, the tool's annotations."""

    last_operation: LastOperation | None = None
    created_at: Name | None = None
    metadata: Metadata | None = None


def _page(item: type[Answer]) -> type[Answer]:
    class Page(Answer):
        resources: list[item] | None = None  # type: ignore[valid-type]
        included: Included | None = None
        pagination: Pagination | None = None

    return Page


class OAuth2Configuration(Answer):
    credential_types: list[Name] | None = Field(None, alias="credential-types")


class XsSecurity(Answer):
    xsappname: Name | None = None
    authorities: list[Name] | None = None
    oauth2_configuration: OAuth2Configuration | None = Field(None, alias="oauth2-configuration")


class Parameters(Answer):
    """A managed instance's parameters as the broker returns them: the ``xs-security`` keys the tool manages
    (``xsappname``, ``authorities``, ``oauth2-configuration.credential-types``) typed, the rest any JSON."""

    xs_security: XsSecurity | None = Field(None, alias="xs-security")


class Details(Answer):
    """``GET /v3/service_credential_bindings/:guid/details``: the key's ``credentials``."""

    credentials: KeyCredentials


class JobError(Answer):
    detail: Text | None = None
    title: Name | None = None
    code: int | None = None


class JobLink(Answer):
    href: ResourceUrl | None = None


class Job(Answer):
    """``GET /v3/jobs/:guid``: state (PROCESSING, POLLING, COMPLETE, FAILED), operation, errors, links to what it
    made."""

    state: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    operation: Name | None = None
    errors: list[JobError] | None = None
    links: dict[str, JobLink | None] | None = None


#: the list pages the client reads, by path: what their resources are
PAGES: dict[str, tuple[str, type[Answer]]] = {
    "/v3/organizations": ("organization list", _page(Guided)),
    "/v3/spaces": ("space list", _page(Guided)),
    "/v3/roles": ("role list", _page(Answer)),
    "/v3/service_plans": ("service plan list", _page(Guided)),
    "/v3/service_instances": ("service instance list", _page(Instance)),
    "/v3/service_credential_bindings": ("service key list", _page(Binding)),
}
_ANY_PAGE = ("list", _page(Answer))


def root(resp: requests.Response) -> dict[str, Any]:
    """``GET /`` (the CF API root document); its UAA link (``links.uaa.href``, ``links.login.href``) an https URL
    (http to loopback), else a malformed answer: a server's answer is never bad input."""
    from provisioner.clients.http_guards import url_problem

    body = read_object(resp, Root, "CF root document")
    links = body.get("links") or {}
    for name in ("uaa", "login"):
        href = (links.get(name) or {}).get("href")
        if href and url_problem(str(href)) is not None:
            raise malformed(resp, "CF root document", f"links.{name}.href: not an https:// URL")
    return body


def page(resp: requests.Response, path: str) -> dict[str, Any]:
    """A page of the list at ``path`` (``/v3/organizations``, ...): ``resources``, ``included``, ``pagination``."""
    what, model = PAGES.get(path.split("?", 1)[0].rstrip("/"), _ANY_PAGE)
    return read_object(resp, model, what)


def space(resp: requests.Response) -> dict[str, Any]:
    """A space (``POST /v3/spaces``)."""
    return read_object(resp, Guided, "space")


def instance(resp: requests.Response) -> dict[str, Any]:
    """``GET /v3/service_instances/:guid``."""
    return read_object(resp, Instance, "service instance")


def binding(resp: requests.Response) -> dict[str, Any]:
    """``GET /v3/service_credential_bindings/:guid``."""
    return read_object(resp, Binding, "service key")


def details(resp: requests.Response) -> dict[str, Any]:
    """``GET /v3/service_credential_bindings/:guid/details`` → the ``credentials`` object."""
    credentials = read(resp, Details, "service key's details")["credentials"]
    assert isinstance(credentials, dict)
    return credentials


def parameters(resp: requests.Response) -> dict[str, Any]:
    """``GET /v3/service_instances/:guid/parameters``: a JSON object (:class:`Parameters`)."""
    return read_object(resp, Parameters, "instance parameters")


def job(resp: requests.Response) -> dict[str, Any]:
    """``GET /v3/jobs/:guid``."""
    return read_object(resp, Job, "job")
