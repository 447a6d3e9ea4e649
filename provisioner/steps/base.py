"""What every step shares: the run environment, the change a step computes, the typed results earlier steps hand
to later ones, and the two step protocols (changes and verifications).

Data flows only forward and only as frozen values: the runner gives each step an :class:`Upstream` mapping from
an earlier step's name to :class:`Done` (its output, after it ran or needed nothing) or :class:`Planned` (its
change, in ``plan``, where nothing is applied). A later step learns from ``Planned`` that a resource it needs will
be created, for example the instance "(in the new space)".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from provisioner.keys.keyfile import Check
from provisioner.waits.jobtimes import JobTimes
from provisioner.waits.wait import WaitSettings

if TYPE_CHECKING:
    from provisioner.clients.btp import Btp
    from provisioner.clients.cf import CloudFoundry
    from provisioner.clients.http import RequestStats, SessionPool
    from provisioner.platform import ServicePlatform
    from provisioner.playbook.load import Playbook


class Action(Enum):
    """What a step does: create or update a resource, wait for an operation already running, or nothing."""

    CREATE = "create"
    UPDATE = "update"
    WAIT = "wait"
    NONE = "none"


#: the word a run reports per action, and the word a plan reports
RUN_WORDS = {Action.CREATE: "created", Action.UPDATE: "updated", Action.WAIT: "waited", Action.NONE: "unchanged"}
PLAN_WORDS = {Action.CREATE: "create", Action.UPDATE: "update", Action.WAIT: "wait", Action.NONE: "no change"}
#: the actions that change the landscape (a plan with any of them exits 2); a wait is not one
CHANGING = (Action.CREATE, Action.UPDATE)


@dataclass(frozen=True)
class Change:
    """What a step would do: ``action`` and one reason per difference found."""

    action: Action
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, action: Action, *reasons: str) -> Change:
        return cls(action, tuple(reasons))


@dataclass(frozen=True)
class Output:
    """Base of every step's output. ``notes``: what the apply adds to the step's reasons (e.g. that it adopted a
    resource a parallel run created); ``recheck``: the runner reads and compares the step once more (the state
    was adopted, not made by this apply, and may still differ from the playbook)."""

    notes: tuple[str, ...] = field(default=(), kw_only=True)
    recheck: bool = field(default=False, kw_only=True)


Out = TypeVar("Out", bound=Output)
Obs = TypeVar("Obs")


@dataclass(frozen=True)
class Done(Generic[Out]):
    """An earlier step ran (or needed nothing): its output."""

    output: Out


@dataclass(frozen=True)
class Planned:
    """An earlier step would make ``change`` (plan only: nothing was applied); ``current``: its output as things
    are now when the resource exists (an update or a wait), else None (it would be created)."""

    change: Change
    current: Output | None = None


Result = Done[Any] | Planned


@dataclass(frozen=True)
class Upstream:
    """The results of the earlier steps, by step name; immutable (:meth:`with_result` returns a new one)."""

    entries: tuple[tuple[str, Result], ...] = ()

    def get(self, name: str) -> Result | None:
        return next((r for n, r in self.entries if n == name), None)

    def __contains__(self, name: object) -> bool:
        return any(n == name for n, _ in self.entries)

    def __iter__(self) -> Iterator[str]:
        return (n for n, _ in self.entries)

    def output(self, name: str, kind: type[Out]) -> Out | None:
        """The output of step ``name`` (of type ``kind``): when it is done, or in a plan the resource as it is now
        when it exists; else None."""
        result = self.get(name)
        output = result.output if isinstance(result, Done) else result.current if result is not None else None
        return output if isinstance(output, kind) else None

    def planned(self, name: str, *actions: Action) -> Change | None:
        """The change step ``name`` would make (plan; only one of ``actions`` when given), else None."""
        result = self.get(name)
        if isinstance(result, Planned) and (not actions or result.change.action in actions):
            return result.change
        return None

    def with_result(self, name: str, result: Result) -> Upstream:
        return Upstream((*((n, r) for n, r in self.entries if n != name), (name, result)))


@dataclass(frozen=True)
class Env:
    """One run's environment: the playbook (``settings``), the API clients, the flags and the poll settings."""

    settings: Playbook
    cf: CloudFoundry | None
    btp: Btp | None
    platform: ServicePlatform
    dry_run: bool = False
    force: bool = False
    poll: WaitSettings = field(default_factory=WaitSettings)
    #: the connection pool and request counts of the run (for clients a step makes, e.g. the sign-in test)
    pool: SessionPool | None = None
    stats: RequestStats | None = None
    #: the job durations the run context learned (:class:`provisioner.waits.jobtimes.JobTimes`; None: plain waits)
    job_times: JobTimes | None = None
    #: called before the run's first write and in a plan with changes (:class:`provisioner.engine.orgcheck.OrgGuard`):
    #: None or a note for the step's reasons; raises StepFailed when writing would be wrong
    write_guard: Callable[[], str | None] | None = None
    #: the step is done again after a transient failure: read everything, assume nothing from this run (a lost
    #: request may have been applied)
    again: bool = False

    def cf_client(self) -> CloudFoundry:
        """The CF client; raises StepFailed when the run has none (the subaccount route)."""
        if self.cf is None:
            from provisioner.errors import StepFailed

            raise StepFailed("this step needs Cloud Foundry (a cf section in the playbook)")
        return self.cf

    def wait_settings(self, timeout: float) -> WaitSettings:
        """The poll settings with ``timeout`` (seconds)."""
        return WaitSettings(timeout=timeout, first_interval=self.poll.first_interval,
                            max_interval=self.poll.max_interval, ratio=self.poll.ratio,
                            times=self.poll.times or self.job_times)


def first_run(settings: Playbook) -> bool:
    """Whether this looks like the tenant's first run: no key file at the download path yet (a re-run finds the
    file the first run wrote). Decides only which reads are sent early, side by side, never what is done."""
    from provisioner import safefile
    from provisioner.errors import ProvisionerError

    try:
        return not safefile.expand(settings.download_path).exists()
    except (OSError, ValueError, ProvisionerError):
        return False


class Step(Generic[Obs, Out]):
    """A change step. ``read(env, upstream)`` → observation (may call APIs, never writes);
    ``compare(settings, observation, upstream)`` → :class:`Change`, a pure function (it may raise
    :class:`~provisioner.errors.StepFailed` when the state cannot be converged); ``apply(env, observation, change,
    upstream)`` makes the change and returns the output; ``current(observation)`` is the output when the change
    is :attr:`Action.NONE`; ``reread(env, upstream, observation, output)`` the state after a wait."""

    name = "step"
    #: the steps whose results this one reads (:class:`Upstream`): it starts once they are done; the others run
    #: beside it
    needs: tuple[str, ...] = ()

    def __init__(self, locate: bool = False):
        #: only find what exists (credentials generated with the tenant): never create or update
        self.locate = locate

    def read(self, env: Env, upstream: Upstream) -> Obs:
        raise NotImplementedError

    def compare(self, settings: Playbook, observation: Obs, upstream: Upstream) -> Change:
        raise NotImplementedError

    def apply(self, env: Env, observation: Obs, change: Change, upstream: Upstream) -> Out:
        raise NotImplementedError

    def current(self, observation: Obs) -> Out | None:
        raise NotImplementedError

    def reread(self, env: Env, upstream: Upstream, observation: Obs, output: Out) -> Obs:
        """The state after an apply that waited or adopted (``output.recheck``, :attr:`Action.WAIT`), to compare
        once more: by default :meth:`read` again; a step whose ``output`` already holds what it waited for reads
        only the rest."""
        return self.read(env, upstream)


@dataclass(frozen=True)
class Verification:
    """A verification's outcome: ``passed`` when every check passed; ``checks`` in the order they ran."""

    passed: bool
    checks: tuple[Check, ...]

    @classmethod
    def of(cls, checks: list[Check]) -> Verification:
        return cls(all(c.passed for c in checks), tuple(checks))

    @property
    def summary(self) -> str:
        """``N/M passed: names`` or the failed checks with their messages (never a secret)."""
        failed = [c for c in self.checks if not c.passed]
        if failed:
            return "; ".join(f"{c.name}: FAILED ({c.message})" for c in failed)
        return f"{len(self.checks)}/{len(self.checks)} passed: " + ", ".join(c.name for c in self.checks)


class VerifyStep:
    """A verification: ``verify(env, upstream)`` → :class:`Verification`, or None when it cannot be done yet (in
    ``plan``: what it needs is not there); ``later(settings)`` says what a run will verify then. Never writes."""

    name = "verify"
    #: the steps it needs done first (see :attr:`Step.needs`)
    needs: tuple[str, ...] = ()
    #: on a re-run it may also verify at the start, beside the other steps; that result stands when every step it
    #: needs then changed nothing (else it verifies again after them)
    ahead: bool = False

    def verify(self, env: Env, upstream: Upstream) -> Verification | None:
        raise NotImplementedError

    def later(self, settings: Playbook) -> str:
        raise NotImplementedError
