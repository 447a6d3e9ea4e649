"""Route table of the CF v3 API; each handler gets `(ctx, backend, **url arguments)`."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule

from provisioner.sim.cf import catalog, orgs, services
from provisioner.sim.cf import handlers as h

ROUTES: list[tuple[str, str, Callable[..., object]]] = [
    ("GET", "/", h.global_root),
    ("GET", "/v3", h.v3_root),
    ("GET", "/v3/info", h.v3_info),
    ("GET", "/v3/organizations", orgs.list_orgs),
    ("GET", "/v3/organizations/<guid>", orgs.get_org),
    ("GET", "/v3/spaces", orgs.list_spaces),
    ("POST", "/v3/spaces", orgs.create_space),
    ("GET", "/v3/spaces/<guid>", orgs.get_space),
    ("GET", "/v3/roles", orgs.list_roles),
    ("POST", "/v3/roles", orgs.create_role),
    ("GET", "/v3/roles/<guid>", orgs.get_role),
    ("DELETE", "/v3/roles/<guid>", orgs.delete_role),
    ("GET", "/v3/service_offerings", catalog.list_offerings),
    ("GET", "/v3/service_offerings/<guid>", catalog.get_offering),
    ("GET", "/v3/service_plans", catalog.list_plans),
    ("GET", "/v3/service_plans/<guid>", catalog.get_plan),
    ("GET", "/v3/service_instances", services.list_instances),
    ("POST", "/v3/service_instances", services.create_instance),
    ("GET", "/v3/service_instances/<guid>", services.get_instance),
    ("PATCH", "/v3/service_instances/<guid>", services.update_instance),
    ("DELETE", "/v3/service_instances/<guid>", services.delete_instance),
    ("GET", "/v3/service_instances/<guid>/parameters", services.instance_parameters),
    ("GET", "/v3/service_credential_bindings", services.list_keys),
    ("POST", "/v3/service_credential_bindings", services.create_key),
    ("GET", "/v3/service_credential_bindings/<guid>", services.get_key),
    ("DELETE", "/v3/service_credential_bindings/<guid>", services.delete_key),
    ("GET", "/v3/service_credential_bindings/<guid>/details", services.key_details),
    ("GET", "/v3/service_credential_bindings/<guid>/parameters", services.key_parameters),
    ("GET", "/v3/jobs/<guid>", h.get_job),
]


def rules() -> list[Rule]:
    """The routes; each endpoint is ``("cf", handler)``: the app calls ``handler(ctx, cf=backend, **args)``."""
    return [Rule(path, endpoint=("cf", handler), methods=[method]) for method, path, handler in ROUTES]
