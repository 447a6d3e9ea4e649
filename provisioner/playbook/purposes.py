"""One playbook per purpose (``tenant.purposes``): each purpose's key comes from its own instance with exactly its
authorities (least privilege: the scopes of an XSUAA token are the instance's ``authorities``, not the key's), its
own key and file, and its credential type.

- Instance: ``steps.purposes.<purpose>.instance``, else ``steps.instance.name`` for the first purpose listed
  without one and ``<steps.instance.name>-<purpose>`` (``-transport`` for transport-management) for the others.
- Authorities: ``service.authorities`` (the two ``imp-cdm-feature-*`` of transport management and monitoring), and
  for ``api`` exactly ``$XSMASTERAPPNAME.<scope>`` of each of ``steps.purposes.api.scopes``, which its key's token
  must then carry (``calm-api.<area>.<read|write>``, SAP's "API Scopes"; SAP's LeanIX guide: "create a new API
  instance and do not update an existing instance").
- Credential type: ``steps.purposes.<purpose>.credential_type``, else ``service.credential_type``. The Landscape
  Management key (never ``api``) cannot be ``x509``: the upload checks ``uaa.clientsecret``.
"""

from __future__ import annotations

from typing import Any

# (the playbook's types are not imported: playbook_model imports this module; ``Playbook`` below is a
# provisioner.playbook.model.Playbook, ``Purpose`` one of its purpose names)
Playbook = Any
Purpose = str

SUFFIX = {"monitoring": "monitoring", "transport-management": "transport", "api": "api"}
MASTER = "$XSMASTERAPPNAME."


def purpose_instance(pb: Playbook, purpose: Purpose) -> str:
    """The instance of ``purpose``'s key (see the module)."""
    own = pb.steps.purposes.get(purpose)
    if own is not None and own.instance is not None:
        return str(own.instance)
    base = pb.steps.instance.name
    unpinned = [p for p in pb.tenant.purposes if (pb.steps.purposes.get(p) is None
                                                 or pb.steps.purposes[p].instance is None)]
    return base if unpinned and unpinned[0] == purpose else f"{base}-{SUFFIX[purpose]}"


def for_purpose(pb: Playbook, purpose: Purpose) -> Playbook:
    """:meth:`Playbook.for_purpose`."""
    own = pb.steps.purposes.get(purpose)

    def fill(text: str) -> str:
        return text.replace("{purpose}", purpose).replace("{tenant}", pb.tenant.subdomain)

    steps: dict[str, Any] = {}
    instance = purpose_instance(pb, purpose)
    if instance != pb.steps.instance.name:
        steps["instance"] = pb.steps.instance.model_copy(update={"name": instance})
    key = own.key if own is not None and own.key is not None else fill(pb.steps.key.name)
    if key != pb.steps.key.name:
        steps["key"] = pb.steps.key.model_copy(update={"name": key})
    path = own.path if own is not None and own.path is not None else fill(pb.steps.download.path)
    if path != pb.steps.download.path:
        steps["download"] = pb.steps.download.model_copy(update={"path": fill(path)})
    service: dict[str, Any] = {}
    if own is not None and own.credential_type is not None:
        service["credential_type"] = own.credential_type
    if purpose == "api" and own is not None and own.scopes:
        service["authorities"] = tuple(MASTER + s for s in own.scopes)
        service["required_scopes"] = tuple(own.scopes)
    if not steps and not service and pb.tenant.purposes == (purpose,):
        return pb
    tenant = pb.tenant.model_copy(update={"purposes": (purpose,), "landscape_management": None})
    return pb.model_copy(update={"tenant": tenant, "steps": pb.steps.model_copy(update=steps),
                                 "service": pb.service.model_copy(update=service)})


def purpose_problems(pb: Playbook) -> None:
    """Raise ValueError (one line with its fix) for purposes that would share a key, a file or an instance, an
    api purpose without scopes, scopes on another purpose, or an x509 Landscape Management key."""
    listed = pb.tenant.purposes
    for name, own in pb.steps.purposes.items():
        if own.scopes is not None and name != "api":
            raise ValueError(f"steps.purposes.{name}.scopes: only the api purpose takes scopes ({name} uses "
                             "service.authorities); remove them")
    api = pb.steps.purposes.get("api")
    if "api" in listed and (api is None or not api.scopes):
        raise ValueError("tenant.purposes lists api: list the SAP Cloud ALM API scopes its programs need in "
                         "steps.purposes.api.scopes, e.g. [calm-api.projects.read]; the api instance gets exactly "
                         "these authorities (least privilege)")
    lm = pb.landscape_management_purpose
    if lm is not None and lm in listed:
        own = pb.steps.purposes.get(lm)
        ctype = (own.credential_type if own is not None else None) or pb.service.credential_type
        if ctype == "x509":
            raise ValueError(f"the Landscape Management key (purpose {lm}) would be x509, and Landscape "
                             "Management takes binding-secret or instance-secret (its upload checks "
                             f"uaa.clientsecret; an x509 key has a certificate instead): set "
                             f"steps.purposes.{lm}.credential_type: binding-secret, or x509 on another purpose")
    if len(listed) < 2:
        return
    for p in listed:
        name = purpose_instance(pb, p)
        if len(name) > 32:
            raise ValueError(f"the instance of purpose {p} would be {name}, longer than 32 characters: set "
                             f"steps.purposes.{p}.instance, or a shorter steps.instance.name")
    parts = [pb.for_purpose(p) for p in listed]
    keys = [(p.instance_name, p.key_name) for p in parts]
    paths = [p.download_path for p in parts]
    if len(set(keys)) < len(keys) or len(set(paths)) < len(paths):
        raise ValueError("tenant.purposes lists several purposes, each needs its own key and file: put "
                         "'{purpose}' in steps.key.name and steps.download.path, or set "
                         "steps.purposes.<purpose>.instance / .key / .path")
    instances = [p.instance_name for p in parts]
    for i, name in enumerate(instances):
        if name in instances[:i]:
            first = listed[instances.index(name)]
            raise ValueError(f"purposes {first} and {listed[i]} share instance {name}: each purpose needs its own "
                             "instance with exactly its authorities (least privilege); set "
                             f"steps.purposes.{listed[i]}.instance")
