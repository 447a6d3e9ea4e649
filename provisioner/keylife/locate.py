"""Where a playbook's key is, found the way ``run`` finds it (:mod:`provisioner.engine.eras`): by era and discovery,
with no names needed. For ``key rotate``, ``key retire``, ``revoke``, ``key migrate`` and ``key status``.

- The playbook creates its own instance and key: the instance by its name (``steps.instance.name``), the key and
  its rotations ``NAME-YYYYMMDDhhmmss`` (on Service Manager, bindings carrying this tool's label only).
- It locates SAP's generated credentials at subaccount level (from 2023-10-16): the instance by plan and creator
  (``steps.instance.name`` pins one, spaces allowed: "SAP Cloud ALM API"), the generated binding ``binding-key-…``
  and the rotations of it this tool made (:func:`provisioner.platform.generated.locate_family`).
- It locates them in Cloud Foundry (2023-06-12 to 2023-10-15): the instance and key named in the playbook in its
  space; only the key's rotations are this tool's.

Read only: the Service Manager binding of the cis key is never created here (``run`` creates it), and the org
check (:mod:`provisioner.engine.orgcheck`) is made only for commands that write.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.clients.http import RequestStats, SessionPool
from provisioner.engine.context import RunContext
from provisioner.engine.credentials import check_key_sources
from provisioner.engine.eras import locates
from provisioner.engine.orgcheck import OrgGuard
from provisioner.engine.runner import btp_client, connect_platform, pool_for, resolve_secrets
from provisioner.errors import StepFailed
from provisioner.platform import ServiceInstance, ServiceKey, ServicePlatform
from provisioner.platform.generations import made_here
from provisioner.playbook.load import Playbook
from provisioner.steps.key import managed_keys


@dataclass(frozen=True)
class Located:
    """The connection (pool, request counts), the service platform, the playbook's instance, the keys this tool
    made (``keys``, oldest first), the others on the instance (``foreign``: SAP's generated key, per-system
    bindings, other tools' keys), whether this tool made the instance (``own_instance``), the key's generations
    (``family``: the tool's keys and a located generated key, oldest first) and why they were chosen (``why``)."""

    pool: SessionPool
    stats: RequestStats
    platform: ServicePlatform
    instance: ServiceInstance
    keys: list[ServiceKey]
    foreign: list[ServiceKey]
    own_instance: bool
    family: list[ServiceKey]
    why: str = ""
    located: bool = False


def locate(pb: Playbook, ctx: RunContext | None = None, *, writes: bool = True) -> Located:
    """Sign in and find the playbook's instance and keys (read only; see the module), through the run context
    ``ctx`` (a fleet's; default one of its own). ``writes``: the command writes afterwards, so the Cloud Foundry
    org is checked first. Raises :class:`StepFailed` when the org, the space, the instance or the key is missing
    (saying what was found), or when Service Manager cannot be read yet (no binding: run the playbook first, or
    give ``btp.sm_key``)."""
    resolve_secrets(pb)
    check_key_sources(pb)  # a bad key file or URL: bad input, before any request
    ctx, stats = ctx or pool_for(pb), RequestStats()
    pool = ctx.pool
    conn = connect_platform(pb, ctx, stats, need_btp=False, writes=writes)
    if conn.unread is not None:
        raise StepFailed(f"Service Manager of subaccount {pb.btp.subaccount} not read: no Service Manager binding "
                         f"{pb.btp.sm_binding} yet; `provisioner run` creates it (or give btp.sm_key)")
    platform, generated = conn.platform, locates(pb)
    why = (" (this tenant's credentials were generated with it: check steps.instance.name and steps.key.name)"
           if generated else "")
    found = platform.locate_instance(pb) if generated else None
    if found is not None:  # by plan and creator (Service Manager), not by the playbook's names
        inst, keys = found.instance, platform.list_keys(found.instance.guid)
        loc = platform.locate_key(inst, pb)
        family = (list(loc.family) or [loc.key]) if loc is not None else []
        own = [k for k in family if made_here(k, True)]
        return Located(pool, stats, platform, inst, own, [k for k in keys if k not in own], False, family,
                       found.why, True)
    scope, where = platform.scope(None), platform.where(pb.space_name)
    if scope is None:  # the instances live in a space (Cloud Foundry)
        assert conn.cf is not None and pb.cf is not None
        if writes:
            OrgGuard(pb, conn.cf, conn.btp, lambda: btp_client(pb, ctx, stats), ctx=ctx, stats=stats)()
        org, space = conn.cf.find_org_and_space(pb.cf.org, pb.space_name)
        if org is None:
            raise StepFailed(f"CF org {pb.cf.org!r} not found or not visible")
        if space is None:
            raise StepFailed(f"space {pb.space_name} not found in org {pb.cf.org}; run the playbook first{why}")
        scope, where = space["guid"], f"space {pb.space_name}"
    named = platform.find_instance(scope, pb.instance_name)
    if named is None:
        raise StepFailed(f"instance {pb.instance_name} not found in {where}; run the playbook first{why}")
    inst = named
    family = managed_keys(platform, inst.guid, pb.key_name)
    own = [k for k in family if not generated or k.name != pb.key_name]  # the generated key; its rotations are ours
    mine = {k.guid for k in own}
    foreign = [k for k in platform.list_keys(inst.guid) if k.guid not in mine]
    own_instance = platform.ours(inst.record) and not generated
    return Located(pool, stats, platform, inst, own, foreign, own_instance, family,
                   f"instance {inst.name!r} in {where}", generated)
