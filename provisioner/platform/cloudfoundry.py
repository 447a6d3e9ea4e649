"""The service platform over the Cloud Foundry v3 API (:mod:`provisioner.clients.cf`): managed service instances
(``/v3/service_instances``, ``/parameters``) and service keys (service credential bindings of type ``key``, with
``/details``); asynchronous requests are CF jobs (``GET /v3/jobs/:guid``). The record kept on an instance is a pair
of metadata annotations (``provisioner/parameters-sha256``, ``provisioner/xsappname``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner.clients.cf import CloudFoundry
from provisioner.errors import NotFound
from provisioner.platform import HASH_RECORD, Found, FoundKey, Operation, ServiceInstance, ServiceKey, ServicePlan
from provisioner.playbook.load import Playbook
from provisioner.waits.wait import WaitSettings

#: the resource link a job names, by what it made
_JOB_LINKS = ("service_instances", "service_credential_binding")


def _operation(resource: Mapping[str, Any]) -> Operation:
    op = resource.get("last_operation") or {}
    return Operation(op.get("type"), op.get("state"), op.get("description"))


def _instance(body: Mapping[str, Any]) -> ServiceInstance:
    plan = ((body.get("relationships") or {}).get("service_plan") or {}).get("data") or {}
    notes = (body.get("metadata") or {}).get("annotations") or {}
    return ServiceInstance(body["guid"], body.get("name", ""), plan.get("guid"), _operation(body),
                           {str(k): str(v) for k, v in notes.items() if v is not None}, body.get("created_at"))


def _key(body: Mapping[str, Any]) -> ServiceKey:
    notes = (body.get("metadata") or {}).get("annotations") or {}
    return ServiceKey(body["guid"], body.get("name", ""), _operation(body), body.get("created_at"),
                      {str(k): str(v) for k, v in notes.items() if v is not None})


class CloudFoundryPlatform:
    """:class:`~provisioner.platform.ServicePlatform` on a signed-in :class:`CloudFoundry` client. A space is a
    space guid; an operation is a job URL."""

    def __init__(self, cf: CloudFoundry):
        self.cf = cf

    def find_plan(self, offering: str, plan: str, *, space: str) -> ServicePlan | None:
        """``GET /v3/service_plans?names=&service_offering_names=&space_guids=``."""
        found = self.cf.find_plan(offering, plan, space_guid=space)
        return ServicePlan(found["guid"], found.get("name", plan), offering) if found else None

    def find_instance(self, space: str, name: str) -> ServiceInstance | None:
        """``GET /v3/service_instances?names=&space_guids=``."""
        found = self.cf.find_instance(space, name)
        return _instance(found) if found else None

    def read_instance(self, guid: str) -> ServiceInstance:
        """``GET /v3/service_instances/:guid``."""
        return _instance(self.cf.get_instance(guid))

    def list_instances(self, space: str, plan: str | None = None) -> list[ServiceInstance]:
        """``GET /v3/service_instances?space_guids=&type=managed[&service_plan_guids=]`` (every page)."""
        query = {"space_guids": space, "type": "managed", **({"service_plan_guids": plan} if plan else {})}
        return [_instance(i) for i in self.cf.list("/v3/service_instances", query)]

    def instance_parameters(self, guid: str) -> Mapping[str, Any] | None:
        """``GET /v3/service_instances/:guid/parameters``; None on CF-ServiceFetchInstanceParametersNotSupported."""
        return self.cf.instance_parameters(guid)

    def create_instance(self, space: str, plan: str, name: str, parameters: Mapping[str, Any],
                        record: Mapping[str, str]) -> str | None:
        """``POST /v3/service_instances`` (type managed, the record as annotations) → the job URL."""
        return self.cf.create_instance(space, plan, name, dict(parameters), dict(record))

    def update_instance(self, guid: str, *, parameters: Mapping[str, Any], record: Mapping[str, str],
                        plan: str | None = None) -> str | None:
        """``PATCH /v3/service_instances/:guid`` → the job URL (202), or None (200)."""
        body: dict[str, Any] = {"parameters": dict(parameters), "metadata": {"annotations": dict(record)}}
        if plan is not None:
            body["relationships"] = {"service_plan": {"data": {"guid": plan}}}
        return self.cf.update_instance(guid, body)

    def delete_instance(self, guid: str) -> str | None:
        """``DELETE /v3/service_instances/:guid`` → the job URL (202), or None (204)."""
        resp = self.cf.http.request("DELETE", f"/v3/service_instances/{guid}", expect=(202, 204))
        return self.cf.job_location(resp) if resp.status_code == 202 else None

    def find_key(self, instance: str, name: str) -> ServiceKey | None:
        """``GET /v3/service_credential_bindings?names=&service_instance_guids=&type=key``."""
        found = self.cf.find_key(instance, name)
        return _key(found) if found else None

    def list_keys(self, instance: str) -> list[ServiceKey]:
        """``GET /v3/service_credential_bindings?service_instance_guids=&type=key`` (every page)."""
        return [_key(k) for k in self.cf.list_keys(instance)]

    def create_key(self, instance: str, name: str, parameters: Mapping[str, Any] | None = None,
                   record: Mapping[str, str] | None = None) -> str | None:
        """``POST /v3/service_credential_bindings`` type key (with ``parameters`` when given; ``record`` as
        annotations) → the job URL (202), or None (201)."""
        return self.cf.create_key(instance, name, dict(parameters) if parameters else None, dict(record or {}))

    def read_key(self, guid: str) -> ServiceKey:
        """``GET /v3/service_credential_bindings/:guid``."""
        return _key(self.cf.get_key(guid))

    def delete_key(self, guid: str) -> str | None:
        """``DELETE /v3/service_credential_bindings/:guid`` → the job URL (202), or None (204)."""
        return self.cf.delete_key(guid)

    def key_credentials(self, guid: str) -> dict[str, Any]:
        """``GET /v3/service_credential_bindings/:guid/details`` → its ``credentials`` object."""
        return self.cf.key_credentials(guid)

    def wait_operation(self, operation: str, settings: WaitSettings, what: str) -> str | None:
        """Poll ``GET /v3/jobs/:guid`` until COMPLETE → the guid of the instance or key the job links to."""
        job = self.cf.wait_job(operation, settings, what)
        for link in _JOB_LINKS:
            guid = self.cf.job_resource_guid(job, link)
            if guid:
                return guid
        return None

    def wait_key(self, operation: str, settings: WaitSettings, what: str) -> tuple[str | None, dict[str, Any] | None]:
        """:meth:`wait_operation` for a key's create; around the job's learned end the reads ask the key's
        ``/details`` instead (``GET /v3/service_credential_bindings/:guid/details``, the guid from the job's links;
        a 404 "in progress" until the key is ready; an empty credentials object from an older Cloud Controller is
        not ready either): → (the key's guid, its credentials when a read of
        ``/details`` saw the key ready, else None). A failed job is told by the job reads after that burst."""
        credentials: list[dict[str, Any]] = []

        def read_details(job: dict[str, Any]) -> dict[str, Any]:
            guid = self.cf.job_resource_guid(job, "service_credential_binding")
            if guid is None:
                return self.cf.job(operation)
            try:
                found = self.cf.key_credentials(guid)
            except NotFound:
                return job  # not ready yet (or not readable: the job reads after the burst tell)
            if not found:  # Cloud Controllers without the create_succeeded guard answer 200 with the precursor's {}
                return job
            credentials.append(found)
            return {**job, "state": "COMPLETE"}

        job = self.cf.wait_job(operation, settings, what, near=read_details)
        guid = self.cf.job_resource_guid(job, "service_credential_binding")
        return guid, (credentials[0] if credentials and guid is not None else None)

    # -- the Cloud Foundry route: what differs from Service Manager -------------------------------------------

    def scope(self, space: str | None) -> str | None:
        """The space: instances live in one."""
        return space

    def where(self, space_name: str) -> str:
        return f"space {space_name}"

    def key_kind(self) -> str:
        return "service key"

    def marks_own(self) -> bool:
        """No mark on keys: the playbook's names tell which are this tool's."""
        return False

    def foreign(self, record: Mapping[str, str]) -> bool:
        """Never told: an instance or key of the playbook's name is taken as the playbook's."""
        return False

    def ours(self, record: Mapping[str, str]) -> bool:
        """The instance carries the record of the parameters this tool applied (an annotation)."""
        return HASH_RECORD in record

    def as_made(self, record: Mapping[str, str]) -> dict[str, str]:
        return dict(record)

    def update_xsappname(self, instance: ServiceInstance, current: str) -> str:
        """The one the instance has."""
        return current

    def clear_failed(self, instance: ServiceInstance, settings: WaitSettings, what: str) -> None:
        """Nothing: Cloud Foundry replaces an instance whose create failed when it is created again."""

    def locate_instance(self, settings: Playbook) -> Found | None:
        """None: the generated credentials are found by the playbook's names, in the space."""
        return None

    def locate_key(self, instance: ServiceInstance, settings: Playbook) -> FoundKey | None:
        """None: found by the playbook's names."""
        return None
