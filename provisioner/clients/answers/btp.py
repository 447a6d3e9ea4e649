"""What the tool reads from the BTP account APIs (docs/sap-facts.md §7): the Accounts service's subaccounts and
``serviceManagerBindings``, the Entitlements service's assignments, its ``subaccountServicePlans`` answer and job
status, and the Provisioning service's environment instances.

Each function reads one answer and returns it as parsed, or raises :class:`~provisioner.errors.MalformedAnswer`.
Shapes: SAP's Accounts, Entitlements and Provisioning service API references (api.sap.com) as the tool reads them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import StringConstraints, TypeAdapter, field_validator

from provisioner.clients.answers import LAZY, Answer, Id, Name, Text, body, check, malformed, read, read_object

if TYPE_CHECKING:
    import requests

Long = Annotated[str, StringConstraints(max_length=16384)]
_JOB_ID: TypeAdapter[Any] = TypeAdapter(Id, config=LAZY)


class Subaccount(Answer):
    guid: Id
    subdomain: Name | None = None
    displayName: Name | None = None


class Subaccounts(Answer):
    value: list[Subaccount] | None = None


class Environment(Answer):
    """An environment instance: type, subaccount, ``platformId`` (a CF org GUID) and ``labels`` (a JSON string in
    SAP's answers; an object is accepted)."""

    environmentType: Name | None = None
    subaccountGUID: Name | None = None
    platformId: Name | None = None
    name: Name | None = None
    labels: Text | dict[str, Any] | None = None

    @field_validator("labels")
    @classmethod
    def _readable(cls, labels: Any) -> Any:
        """A JSON string of labels is read later: it must not be nested too deep to read (text that is not JSON
        is tolerated: it names no org)."""
        if isinstance(labels, str):
            try:
                json.loads(labels)
            except RecursionError:
                raise ValueError("nested too deep") from None
            except ValueError:
                pass
        return labels


class Environments(Answer):
    environmentInstances: list[Environment] | None = None


class SmBinding(Answer):
    """A ``serviceManagerBindings`` binding: the Service Manager credentials (secrets: never shown)."""

    clientid: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    clientsecret: Annotated[str, StringConstraints(min_length=1, max_length=16384)]
    url: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    sm_url: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class AssignmentInfo(Answer):
    entityType: Name | None = None
    entityId: Name | None = None
    entityState: Name | None = None
    stateMessage: Text | None = None


class AssignedPlan(Answer):
    name: Name | None = None
    assignmentInfo: list[AssignmentInfo] | None = None


class AssignedService(Answer):
    name: Name | None = None
    servicePlans: list[AssignedPlan] | None = None


class EntitledPlan(Answer):
    name: Name | None = None
    category: Name | None = None
    amount: float | None = None
    uniqueIdentifier: Name | None = None


class EntitledService(Answer):
    name: Name | None = None
    servicePlans: list[EntitledPlan] | None = None


class Assignments(Answer):
    """``GET /entitlements/v1/assignments``: the global account's entitled plans and the plans assigned."""

    entitledServices: list[EntitledService] | None = None
    assignedServices: list[AssignedService] | None = None


class JobStatus(Answer):
    """``GET /jobs-management/v1/jobs/{id}/status``: ``status`` (IN_PROGRESS, COMPLETED, FAILED) and why."""

    status: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    description: Text | None = None


class AssignAnswer(Answer):
    jobId: Id | int | None = None


def subaccount(resp: requests.Response) -> dict[str, Any]:
    """``GET /accounts/v1/subaccounts/{guid}``."""
    return read_object(resp, Subaccount, "subaccount")


def subaccounts(resp: requests.Response) -> list[dict[str, Any]]:
    """``GET /accounts/v1/subaccounts`` → its ``value``."""
    return list(read(resp, Subaccounts, "subaccount list").get("value") or [])


def environments(resp: requests.Response) -> list[dict[str, Any]]:
    """``GET /provisioning/v1/environments`` → its ``environmentInstances``."""
    return list(read(resp, Environments, "environment list").get("environmentInstances") or [])


def sm_binding(resp: requests.Response) -> dict[str, Any]:
    """A ``serviceManagerBindings`` binding (``GET`` or the ``POST`` that made it)."""
    return read_object(resp, SmBinding, "Service Manager binding")


def assignments(resp: requests.Response) -> dict[str, Any]:
    """``GET /entitlements/v1/assignments``."""
    return read_object(resp, Assignments, "entitlement assignment list")


def job_status(resp: requests.Response) -> dict[str, Any]:
    """A job's status."""
    return read_object(resp, JobStatus, "job status")


def assign_job(resp: requests.Response) -> str | None:
    """The job id in the body of the ``PUT /entitlements/v1/subaccountServicePlans`` answer (``{"jobId": ...}``, a
    JSON string or the bare id as text), or None when the body names none."""
    what = "entitlement change answer"
    if not resp.content.strip():
        return None
    try:
        json.loads(resp.content)
    except (ValueError, RecursionError):
        text = resp.text.strip().strip('"')
        check(resp, text, _JOB_ID, what)
        return text
    value = body(resp, what)
    if isinstance(value, dict):
        job = check(resp, value, AssignAnswer, what).jobId
        return str(job) if job is not None else None
    if isinstance(value, str):
        return str(check(resp, value, _JOB_ID, what)) if value else None
    raise malformed(resp, what, "the answer: not an object")

