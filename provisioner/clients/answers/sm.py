"""What the tool reads from SAP Service Manager (REST API v1; docs/sap-facts.md "Service Manager"): list pages of
offerings, plans, instances and bindings, a resource by id (a binding with its ``credentials``, :mod:`.keys`), an
instance's parameters, the answer of a write, and operations.

Each function reads one answer and returns it as parsed, or raises :class:`~provisioner.errors.MalformedAnswer`.
Shapes: SAP's ``btp-service-manager`` swagger and the Peripli specification (``api.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import StringConstraints, TypeAdapter

from provisioner.clients.answers import LAZY, Answer, Id, Name, Text, check, read_object
from provisioner.clients.answers.cf import Parameters
from provisioner.clients.answers.keys import KeyCredentials

if TYPE_CHECKING:
    import requests


class Resource(Answer):
    """What every Service Manager resource has: its ``id`` (put into URLs) and names."""

    id: Id
    name: Name | None = None
    catalog_name: Name | None = None


class Offering(Resource):
    instances_retrievable: bool | None = None


class Context(Answer):
    platform: Name | None = None


class LastOperation(Answer):
    type: Name | None = None
    state: Name | None = None
    description: Text | None = None


class Labelled(Resource):
    """An instance or binding: labels (``{"key": ["value", ...]}``), context, last operation, creation time."""

    labels: dict[str, list[Text] | Text] | None = None
    context: Context | None = None
    last_operation: LastOperation | None = None
    created_at: Name | None = None


class Instance(Labelled):
    service_plan_id: Name | None = None


class Binding(Labelled):
    service_instance_id: Name | None = None
    credentials: KeyCredentials | None = None


def _page(item: type[Answer]) -> type[Answer]:
    class Page(Answer):
        items: list[item] | None = None  # type: ignore[valid-type]
        token: Annotated[str, StringConstraints(max_length=4096)] | None = None
        num_items: int | None = None

    return Page


class OperationError(Answer):
    error: Name | None = None
    description: Text | None = None


class Operation(Answer):
    """``GET /v1/{kind}/{id}/operations/{op}``: ``state`` (in progress, succeeded, failed, ...), ``type``,
    ``description``, ``errors`` and the ``resource_id`` it made."""

    state: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    type: Name | None = None
    description: Text | None = None
    errors: list[OperationError] | OperationError | None = None
    resource_id: Id | None = None


#: the lists the client reads: what their items are
KINDS: dict[str, tuple[str, type[Answer], type[Answer]]] = {
    "service_offerings": ("service offering list", _page(Offering), Offering),
    "service_plans": ("service plan list", _page(Resource), Resource),
    "service_instances": ("service instance list", _page(Instance), Instance),
    "service_bindings": ("service binding list", _page(Binding), Binding),
}
_OBJECT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any], config=LAZY)


def page(resp: requests.Response, kind: str) -> dict[str, Any]:
    """A page of ``GET /v1/{kind}``: ``items``, ``token`` (of the next page), ``num_items``."""
    what, model, _ = KINDS[kind]
    return read_object(resp, model, what)


def resource(resp: requests.Response, kind: str) -> dict[str, Any]:
    """``GET /v1/{kind}/{id}`` (a binding's answer holds its ``credentials``)."""
    what, _, model = KINDS[kind]
    return read_object(resp, model, what.removesuffix(" list"))


def written(resp: requests.Response, kind: str) -> dict[str, Any]:
    """The body of a write's 200/201: a JSON object; when it names an ``id``, the resource, as :func:`resource`
    reads it (a delete answers ``{}``)."""
    found = read_object(resp, _OBJECT, "answer")
    if "id" in found and kind in KINDS:
        what, _, model = KINDS[kind]
        check(resp, found, model, what.removesuffix(" list"))
    return found


def parameters(resp: requests.Response) -> dict[str, Any]:
    """``GET /v1/service_instances/{id}/parameters``: a JSON object (as CF's, :class:`~.cf.Parameters`)."""
    return read_object(resp, Parameters, "instance parameters")


def operation(resp: requests.Response) -> dict[str, Any]:
    """An operation."""
    return read_object(resp, Operation, "operation")
