"""Signing in where a run's steps go: Cloud Foundry (its login source) with BTP beside it, or SAP Service Manager of
the subaccount (:func:`provisioner.engine.eras.platform_for`), and what that sign-in changes itself.

On the subaccount route without ``btp.sm_key`` the Service Manager credentials are the subaccount's
``serviceManagerBindings`` binding ``btp.sm_binding`` (default ``provisioner``; Accounts service v2, SAP's API
"Accounts" ``/accounts/v2/subaccounts/{guid}/serviceManagerBindings``). A run creates it when missing and says so
as a step of its own, :data:`BINDING_STEP` (``created``); a plan on a subaccount where the tool never ran reads
what it can without it (the entitlement, a key file already there), shows the binding as a planned ``create`` and
skips the steps that read Service Manager (:data:`READS_PLATFORM`), saying why. An existing binding adds no step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar, cast

from provisioner import clock
from provisioner.clients.atonce import StepStats
from provisioner.clients.btp import Btp
from provisioner.clients.cf import CloudFoundry
from provisioner.clients.http import RequestStats
from provisioner.engine.context import RunContext
from provisioner.engine.credentials import service_manager, sign_in_beside, sign_in_cf, sm_binding, sm_client
from provisioner.engine.eras import platform_for
from provisioner.engine.stepretry import retrying
from provisioner.errors import BadInput, StepFailed
from provisioner.keys.keyfile import parse_key_text
from provisioner.platform import ServicePlatform
from provisioner.platform.cloudfoundry import CloudFoundryPlatform
from provisioner.platform.servicemanager import ServiceManagerPlatform
from provisioner.playbook.load import Playbook, text_of
from provisioner.steps.base import PLAN_WORDS, RUN_WORDS, Action

#: the step a run reports when it created the Service Manager binding (a plan: when it would)
BINDING_STEP = "sm-binding"
#: the steps that read the service platform: skipped in a plan that cannot reach it yet
READS_PLATFORM = ("instance", "key", "download")
S = TypeVar("S")


def load_cis_key(pb: Playbook) -> dict[str, Any]:
    """The cis service key from ``btp.cis_key`` ({file}, {env} or {vcap}); any of the three key formats."""
    ref = pb.btp.cis_key
    if ref is None:
        raise BadInput(f"{pb.source}: btp.cis_key: required here (the entitlement step, or the Service Manager "
                       "credentials without btp.sm_key); add it")
    return parse_key_text(ref.resolve().reveal(), ref.file or f"{ref.where} ({ref.describe()})")


def btp_client(pb: Playbook, ctx: RunContext, stats: RequestStats) -> Btp:
    """The BTP accounts and entitlements client from the playbook's cis key."""
    cis = load_cis_key(pb)
    assert pb.btp.cis_key is not None  # load_cis_key checked it
    return Btp(cis, source=pb.btp.cis_key.where, username=text_of(pb.btp.username),
               password=pb.btp.password.resolve() if pb.btp.password else None, pool=ctx.pool, stats=stats,
               share=ctx.share)


def connect(pb: Playbook, ctx: RunContext, stats: RequestStats, *, need_btp: bool) -> tuple[CloudFoundry, Btp | None]:
    """Sign in to CF (from the playbook's login source) and, if needed, build the BTP client from the cis key (on a
    first run signed in beside CF: :func:`provisioner.engine.credentials.sign_in_beside`)."""
    btp = btp_client(pb, ctx, stats) if need_btp else None
    return sign_in_beside(lambda: sign_in_cf(pb, ctx, stats), btp, pb), btp


@dataclass(frozen=True)
class BindingChange:
    """The Service Manager binding a run created (``word`` ``created``) or a plan would create (``create``), as
    the :data:`BINDING_STEP` step: why, its wall time (seconds) and the requests it took."""

    word: str
    reason: str
    seconds: float
    requests: int


class Unreachable:
    """The service platform of a plan that cannot sign in to Service Manager yet (the binding is missing): every
    call fails with the reason; the steps that would call it are skipped (:meth:`Connection.skips`)."""

    def __init__(self, reason: str):
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        def refuse(*_args: object, **_kwargs: object) -> NoReturn:
            raise StepFailed(self.reason)

        return refuse


@dataclass(frozen=True)
class Connection:
    """What a run talks to: CF (None on the subaccount platform), BTP (None when not needed) and the service
    platform of the instance and key steps; ``binding``: the Service Manager binding this sign-in created (a
    plan: would create), else None; ``unread``: why the platform cannot be read (a plan before the binding)."""

    cf: CloudFoundry | None
    btp: Btp | None
    platform: ServicePlatform
    binding: BindingChange | None = None
    unread: str | None = None

    def skips(self, selected: Sequence[tuple[S, str | None]]) -> list[tuple[S, str | None]]:
        """``selected`` (steps with None or why they are skipped) with the steps that read the platform skipped
        when it cannot be read (:attr:`unread`)."""
        if self.unread is None:
            return list(selected)
        return [(step, skip or (self.unread if getattr(step, "name", "") in READS_PLATFORM else None))
                for step, skip in selected]


def connect_platform(pb: Playbook, ctx: RunContext, stats: RequestStats, *, need_btp: bool,
                     writes: bool = True) -> Connection:
    """Sign in where the playbook's steps go (:func:`provisioner.engine.eras.platform_for`): SAP Service Manager of the
    subaccount (its credentials from ``btp.sm_key`` or the cis key's ``serviceManagerBindings``), or Cloud Foundry
    (its login source). A missing Service Manager binding is created (the connection's ``binding`` says so);
    without ``writes`` (plan) it is not, and the connection says what a run would create and why the platform
    is not read."""
    if platform_for(pb) != "subaccount":
        cf, btp = connect(pb, ctx, stats, need_btp=need_btp)
        return Connection(cf, btp, CloudFoundryPlatform(cf))
    btp = btp_client(pb, ctx, stats) if need_btp or pb.btp.sm_key is None else None
    if pb.btp.sm_key is not None:
        return Connection(None, btp, ServiceManagerPlatform(service_manager(pb, btp, ctx, stats), pb.btp.subaccount))
    started = clock.monotonic()
    with StepStats.counting() as counter:
        binding, made = sm_binding(pb, btp, create=writes)
    name = pb.btp.sm_binding if len(pb.btp.sm_binding) <= 40 else pb.btp.sm_binding[:40] + "…"
    if binding is None:
        change = BindingChange(PLAN_WORDS[Action.CREATE], f"create Service Manager binding {name} "
                               "(serviceManagerBindings of the subaccount): a run creates it once, later runs reuse "
                               "it", clock.monotonic() - started, counter.value)
        unread = (f"not read yet: SAP Service Manager is read with binding {name}, which a run creates first (or "
                  "give btp.sm_key to plan without it)")
        return Connection(None, btp, cast(ServicePlatform, Unreachable(unread)), change, unread)
    made_now = BindingChange(RUN_WORDS[Action.CREATE], f"created Service Manager binding {name} "
                             "(serviceManagerBindings of the subaccount); later runs reuse it",
                             clock.monotonic() - started, counter.value) if made else None
    return Connection(None, btp, ServiceManagerPlatform(sm_client(pb, binding, ctx, stats), pb.btp.subaccount),
                      made_now)


def connect_retrying(pb: Playbook, ctx: RunContext, stats: RequestStats, *, need_btp: bool,
                     writes: bool = True) -> Connection:
    """:func:`connect_platform`, done again on a transient failure as a step is
    (:func:`provisioner.engine.runner.attempt_step`): sign-in is a read (and a Service Manager binding it creates is
    found by name on the next attempt)."""
    for attempt in retrying():
        with attempt:
            return connect_platform(pb, ctx, stats, need_btp=need_btp, writes=writes)
    raise AssertionError("unreachable: tenacity re-raises the last failure")
