"""The service platform the instance, key and download steps talk to: where managed service instances and their
service keys live. :mod:`provisioner.platform.cloudfoundry` implements it over the Cloud Foundry v3 API (the Cloud
Foundry route), :mod:`provisioner.platform.servicemanager` over SAP Service Manager (the subaccount route: the same
records, kept as labels instead of annotations).

The platform is the one holder of "which route": the steps never ask it, they call the platform for what differs
(where instances live and how that is worded, what marks this tool's instances and keys, the ``xsappname`` an
update sends, what is done with an instance whose create failed, where the credentials generated with the tenant are
found).

Records are frozen; ``Mapping`` fields are read-only by type (never written after a read). Methods raise
:class:`~provisioner.errors.ApiError` on API errors, typed at the client boundary (``NotFound``, ``NameTaken``,
``Transient``, ...: :mod:`provisioner.clients.http_errors`), :class:`~provisioner.errors.StepFailed` when an
operation failed and :class:`~provisioner.errors.WaitTimeout` when a wait ran out of time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from provisioner.waits.wait import WaitSettings

if TYPE_CHECKING:
    from provisioner.playbook.load import Playbook

# A last operation is settled only when it succeeded or failed (Cloud Foundry v3 and SAP Service Manager); every
# other state (CF ``initial``, ``in progress``; Service Manager ``pending``, ``in progress``; one neither API
# documents) means it still runs, and nothing may be sent to the resource until it settles (Operation.in_progress).

#: the record kept on an instance: a SHA-256 of the parameters applied, and the xsappname they carried
HASH_RECORD = "provisioner/parameters-sha256"
XSAPPNAME_RECORD = "provisioner/xsappname"
#: the record that marks an instance or a binding as made by this tool (Service Manager labels)
MANAGED_RECORD = "provisioner/managed-by"
MANAGED_BY = "provisioner"


@dataclass(frozen=True)
class Operation:
    """The last operation on an instance or key: ``type`` (create | update | delete), ``state`` (CF: initial |
    in progress | succeeded | failed; Service Manager: pending | in progress | succeeded | failed, Peripli
    ``pkg/types/operation.go``; None when the platform reports none) and the platform's ``description``.
    ``cleanup``: Service Manager still deletes what a failed operation left (its ``deletion_scheduled`` is set:
    orphan mitigation), so the failed operation is not settled yet."""

    type: str | None = None
    state: str | None = None
    description: str | None = None
    cleanup: bool = False

    @property
    def in_progress(self) -> bool:
        """Not settled: any state but succeeded and failed (``pending`` included), or a failed one being cleaned
        up."""
        return not self.succeeded and not self.failed

    @property
    def failed(self) -> bool:
        return self.state == "failed" and not self.cleanup

    @property
    def succeeded(self) -> bool:
        return self.state in ("succeeded", None)


@dataclass(frozen=True)
class ServicePlan:
    """A service plan visible where instances are created: its ``guid``, ``name`` and ``offering`` name."""

    guid: str
    name: str
    offering: str


@dataclass(frozen=True)
class ServiceInstance:
    """A managed service instance. ``record``: what the tool keeps on the instance about the parameters it applied
    (``HASH_RECORD``, ``XSAPPNAME_RECORD``), empty when none; ``created_at`` as the platform gives it (ISO 8601)."""

    guid: str
    name: str
    plan_guid: str | None
    last_operation: Operation
    record: Mapping[str, str]
    created_at: str | None = None


@dataclass(frozen=True)
class ServiceKey:
    """A service key of an instance (no credentials: see :meth:`ServicePlatform.key_credentials`). ``record``:
    what the tool keeps on it (Service Manager labels, e.g. :data:`MANAGED_RECORD`), empty when none."""

    guid: str
    name: str
    last_operation: Operation
    created_at: str | None = None
    record: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Found:
    """An instance discovery chose (:meth:`ServicePlatform.locate_instance`), with why (for ``plan`` and ``run``)."""

    instance: ServiceInstance
    why: str


@dataclass(frozen=True)
class FoundKey:
    """A binding discovery chose (:meth:`ServicePlatform.locate_key`), with why (for ``plan`` and ``run``)."""

    key: ServiceKey
    why: str
    #: locating: the binding and the rotations of it this tool made, oldest first (empty: ``key`` alone)
    family: tuple[ServiceKey, ...] = ()


class ServicePlatform(Protocol):
    """Instances and keys on one platform. An ``operation`` is the opaque handle of an asynchronous request (None
    when the platform completed it at once), to pass to :meth:`wait_operation`."""

    def find_plan(self, offering: str, plan: str, *, space: str) -> ServicePlan | None:
        """The plan visible in ``space`` (a space guid), or None (on BTP: the subaccount lacks the entitlement)."""
        ...

    def find_instance(self, space: str, name: str) -> ServiceInstance | None:
        """The instance named ``name`` (case-sensitive) in ``space``, or None."""
        ...

    def read_instance(self, guid: str) -> ServiceInstance:
        """The instance with its last operation."""
        ...

    def list_instances(self, space: str, plan: str | None = None) -> list[ServiceInstance]:
        """Every managed instance in ``space`` (of ``plan``, a plan guid, when given), oldest first."""
        ...

    def instance_parameters(self, guid: str) -> Mapping[str, Any] | None:
        """The parameters the broker holds for the instance; None when the broker cannot return them."""
        ...

    def create_instance(self, space: str, plan: str, name: str, parameters: Mapping[str, Any],
                        record: Mapping[str, str]) -> str | None:
        """Create a managed instance of ``plan`` (a plan guid) keeping ``record`` on it → the operation.
        A taken name raises :class:`~provisioner.errors.NameTaken` (a parallel run made it: adopt it)."""
        ...

    def update_instance(self, guid: str, *, parameters: Mapping[str, Any], record: Mapping[str, str],
                        plan: str | None = None) -> str | None:
        """Update the instance's parameters and record (and its plan when given) → the operation."""
        ...

    def delete_instance(self, guid: str) -> str | None:
        """Delete the instance → the operation."""
        ...

    def find_key(self, instance: str, name: str) -> ServiceKey | None:
        """The key named ``name`` of the instance, or None."""
        ...

    def list_keys(self, instance: str) -> list[ServiceKey]:
        """Every key of the instance."""
        ...

    def create_key(self, instance: str, name: str, parameters: Mapping[str, Any] | None = None,
                   record: Mapping[str, str] | None = None) -> str | None:
        """Create a key of the instance with the binding ``parameters`` (e.g. an x509 key's), keeping ``record``
        on it (CF annotations, Service Manager labels) → the operation. A taken name raises
        :class:`~provisioner.errors.NameTaken`."""
        ...

    def read_key(self, guid: str) -> ServiceKey:
        """The key with its last operation."""
        ...

    def delete_key(self, guid: str) -> str | None:
        """Delete the key → the operation."""
        ...

    def key_credentials(self, guid: str) -> dict[str, Any]:
        """The key's credentials object (secrets: never print it)."""
        ...

    def wait_operation(self, operation: str, settings: WaitSettings, what: str) -> str | None:
        """Wait until the operation completed; → the guid of the resource it made, when the platform names it.
        Raises :class:`~provisioner.errors.StepFailed` when it failed, ``WaitTimeout`` after ``settings.timeout``."""
        ...

    def wait_key(self, operation: str, settings: WaitSettings, what: str) -> tuple[str | None, dict[str, Any] | None]:
        """:meth:`wait_operation` for a key's create → (its guid when the platform names it, its credentials when
        the wait read them: around the operation's learned end a platform may read the credentials instead of the
        operation, so that they need no read after it; None otherwise)."""
        ...

    # -- what differs between the routes: the platform decides, the steps never ask which one it is ------------

    def scope(self, space: str | None) -> str | None:
        """Where the instances live, given the space guid the space step gave (None: none yet): that space (Cloud
        Foundry; None without one), or the subaccount (Service Manager, which needs no space)."""
        ...

    def where(self, space_name: str) -> str:
        """Where the instances live, for a message: ``space NAME`` or ``the subaccount``."""
        ...

    def key_kind(self) -> str:
        """What a key is called here: ``service key`` (Cloud Foundry) or ``service binding`` (Service Manager)."""
        ...

    def marks_own(self) -> bool:
        """Whether this platform marks the instances and keys this tool makes (Service Manager: the label
        :data:`MANAGED_RECORD`), so that what lacks the mark is someone else's; Cloud Foundry keys carry no mark."""
        ...

    def foreign(self, record: Mapping[str, str]) -> bool:
        """Whether the record of an instance or key says someone else made it (only a platform that
        :meth:`marks_own` can tell; never on Cloud Foundry)."""
        ...

    def ours(self, record: Mapping[str, str]) -> bool:
        """Whether the record of an instance says this tool made it: its mark (Service Manager) or the record of
        the parameters it applied (Cloud Foundry annotations, :data:`HASH_RECORD`)."""
        ...

    def as_made(self, record: Mapping[str, str]) -> dict[str, str]:
        """The record an instance or key this tool just created carries (``record`` and, where the platform marks
        them, the mark)."""
        ...

    def update_xsappname(self, instance: ServiceInstance, current: str) -> str:
        """The ``xsappname`` an update of the instance sends: the one it has (``current``; Cloud Foundry), or the
        instance's GUID (Service Manager: SAP's page "Enabling SAP Cloud ALM API", "If you're updating an existing
        instance, replace <your-instance-name> with your instance ID (GUID)")."""
        ...

    def clear_failed(self, instance: ServiceInstance, settings: WaitSettings, what: str) -> None:
        """Before an instance whose create failed is created again: Service Manager keeps it (it is deleted and
        the delete waited for); Cloud Foundry replaces it on the create (nothing to do)."""
        ...

    def locate_instance(self, settings: Playbook) -> Found | None:
        """The instance generated with the tenant where this platform finds such credentials by plan and creator
        (Service Manager, at subaccount level: :func:`provisioner.platform.generated.locate_instance`, which raises
        StepFailed saying what it found); None where they are found by the playbook's names (Cloud Foundry)."""
        ...

    def locate_key(self, instance: ServiceInstance, settings: Playbook) -> FoundKey | None:
        """The binding generated with the tenant on ``instance``, where found by creator (Service Manager); None
        where it is found by the playbook's names (Cloud Foundry)."""
        ...


Settled = TypeVar("Settled", ServiceInstance, ServiceKey)


def settle(read: Callable[[str], Settled], guid: str, settings: WaitSettings, what: str) -> Settled:
    """Wait (:func:`provisioner.waits.waitfor.wait_for`) on ``read(guid)`` (an instance or a key) while its last
    operation is in progress (:attr:`LastOperation.in_progress`) until it succeeded; → the record. Raises
    :class:`~provisioner.errors.StepFailed` with the operation's description when it failed, and
    :class:`~provisioner.errors.WaitTimeout` after ``settings.timeout`` seconds."""
    from provisioner.errors import StepFailed
    from provisioner.waits.waitfor import wait_for

    def refresh() -> tuple[Settled, str]:
        record = read(guid)
        op = record.last_operation
        if op.failed:
            raise StepFailed(f"{what}: {op.type} failed: {op.description or 'no detail'}")
        return record, "succeeded" if op.succeeded else "in progress"

    return wait_for(refresh, ("in progress",), ("succeeded",), settings.timeout, settings.gaps, what=what,
                    describe=lambda r: f"last_operation {r.last_operation.type} is {r.last_operation.state}",
                    origin=settings.origin)


def settle_instance(platform: ServicePlatform, guid: str, settings: WaitSettings, what: str) -> ServiceInstance:
    """:func:`settle` for an instance."""
    return settle(platform.read_instance, guid, settings, what)


def settle_key(platform: ServicePlatform, guid: str, settings: WaitSettings, what: str) -> ServiceKey:
    """:func:`settle` for a key."""
    return settle(platform.read_key, guid, settings, what)
