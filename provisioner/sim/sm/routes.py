"""Route table of Service Manager (`sm_url` = `<url>/sm`); each handler gets `(ctx, backend, **url arguments)`."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule

from provisioner.sim.sm import cascade
from provisioner.sim.sm import handlers as h

PREFIX = "/sm/v1"

ROUTES: list[tuple[str, str, Callable[..., object]]] = [
    ("GET", "/service_offerings", h.list_offerings),
    ("GET", "/service_plans", h.list_plans),
    ("GET", "/service_instances", h.list_instances),
    ("POST", "/service_instances", h.create_instance),
    ("GET", "/service_instances/<instance_id>", h.get_instance),
    ("PATCH", "/service_instances/<instance_id>", h.update_instance),
    ("DELETE", "/service_instances/<instance_id>", cascade.delete_instance),  # cascade=true, else plain
    ("GET", "/service_instances/<instance_id>/parameters", h.instance_parameters),
    ("GET", "/service_bindings", h.list_bindings),
    ("POST", "/service_bindings", h.create_binding),
    ("GET", "/service_bindings/<binding_id>", h.get_binding),
    ("DELETE", "/service_bindings/<binding_id>", h.delete_binding),
    ("GET", "/<any(service_instances,service_bindings):resource_type>/<resource_id>/operations/<operation_id>",
     h.get_operation),
]


def rules() -> list[Rule]:
    """The routes; each endpoint is ``("sm", handler)``: the app calls ``handler(ctx, sm=backend, **args)``."""
    return [Rule(PREFIX + path, endpoint=("sm", handler), methods=[method]) for method, path, handler in ROUTES]
