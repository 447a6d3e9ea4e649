"""Service Manager label operations on an instance (``PATCH /v1/service_instances/:id`` with ``labels``)."""

from __future__ import annotations

from typing import Any

from provisioner.sim.core.errors import sm_error
from provisioner.sim.sm.model import Labels


def label_changes(inst_labels: Labels, changes: Any) -> Labels:
    """The labels after a PATCH's label operations (``add``/``add_values``, ``remove``/``remove_values``), as SAP
    Service Manager applies them; a malformed operation is a 400 ``BadRequest``."""
    if not isinstance(changes, list):
        raise sm_error(400, "BadRequest", "labels must be a list of label operations")
    labels = {k: list(v) for k, v in inst_labels.items()}
    for c in changes:
        op, key, values = (c.get("op"), c.get("key"), c.get("values") or []) if isinstance(c, dict) else (None,) * 3
        if not isinstance(key, str) or not isinstance(values, list) or key == "subaccount_id":
            raise sm_error(400, "BadRequest", f"invalid label operation {c!r}")
        if op in ("add", "add_values"):
            labels.setdefault(key, [])
            labels[key] += [v for v in values if v not in labels[key]]
        elif op in ("remove", "remove_values"):
            if op == "remove" and not values:
                labels.pop(key, None)
            elif key in labels:
                labels[key] = [v for v in labels[key] if v not in values]
                if not labels[key]:
                    del labels[key]
        else:
            raise sm_error(400, "BadRequest", f"unknown label operation {op!r}; use add or remove")
    return labels
