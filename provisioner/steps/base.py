"""What every step shares: the run context, the change a step computes, and the step protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from provisioner.wait import WaitSettings

if TYPE_CHECKING:
    from provisioner.btp import Btp
    from provisioner.cf import CloudFoundry
    from provisioner.playbook import Playbook

CREATE, UPDATE, NONE = "create", "update", "none"
PAST = {CREATE: "created", UPDATE: "updated", NONE: "unchanged"}


@dataclass
class Change:
    """What a step would do: ``action`` (create | update | none) and one reason per difference found."""

    action: str
    reasons: list[str]


@dataclass
class Context:
    """Shared by the steps of one run: the playbook, the API clients, flags, and the ``facts`` steps learn
    (``org``, ``space``, ``subaccount``, ``plan``, ``instance``, ``key``, ``key_created``)."""

    playbook: Playbook
    cf: CloudFoundry
    btp: Btp | None
    dry_run: bool = False
    force: bool = False
    poll: WaitSettings = field(default_factory=WaitSettings)
    facts: dict[str, Any] = field(default_factory=dict)
    # steps that will create a resource in this plan, so later steps know it does not exist yet
    pending: set[str] = field(default_factory=set)

    def wait_settings(self, timeout: float) -> WaitSettings:
        return WaitSettings(timeout=timeout, first_interval=self.poll.first_interval,
                            max_interval=self.poll.max_interval, ratio=self.poll.ratio)


class Step:
    """A step: ``read(ctx)`` → observed state; ``compare(ctx, observed)`` → :class:`Change`;
    ``apply(ctx, observed, change)`` makes the change. ``read`` and ``compare`` never write."""

    name = "step"

    def __init__(self, locate: bool = False):
        #: only find what exists (credentials generated with the tenant): never create or update
        self.locate = locate

    def read(self, ctx: Context) -> Any:
        raise NotImplementedError

    def compare(self, ctx: Context, observed: Any) -> Change:
        raise NotImplementedError

    def apply(self, ctx: Context, observed: Any, change: Change) -> None:
        raise NotImplementedError
