"""provisioner: onboard SAP Cloud ALM tenants to the SAP Cloud ALM API on SAP BTP from YAML playbooks.

The library API (README, "Use from Python")::

    playbooks = provisioner.load_playbook("playbook.yaml")   # list[Playbook], one per tenant
    results = provisioner.plan(playbooks)                    # list[RunResult], read only
    results = provisioner.run(playbooks)                     # converge
    provisioner.Simulator().start()                          # a local landscape (tests, demos)

The import is kept light: ``import provisioner`` loads no HTTP stack, no pydantic and no simulator; they load
when first used (:func:`__getattr__` for the classes). Logging goes to the ``provisioner`` logger, which has a
:class:`logging.NullHandler` from the first module that logs on (:mod:`provisioner.clients.http`; an application
configures handlers).
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from typing import TYPE_CHECKING, Any

from provisioner.errors import BadInput, ProvisionerError

if TYPE_CHECKING:
    from provisioner.engine.runner import RunResult, StepResult
    from provisioner.playbook.load import Playbook
    from provisioner.sim.simulator import Simulator

__version__ = "0.1.0"
__all__ = ["BadInput", "Playbook", "ProvisionerError", "RunResult", "Simulator", "StepResult", "__version__",
           "load_playbook", "plan", "run"]


def load_playbook(path: str | PathLike[str]) -> list[Playbook]:
    """Load and validate a playbook file: one :class:`Playbook` per tenant (a playbook with ``tenants:`` gives
    several). Reads no secret and calls no API. Raises :class:`BadInput` (``FILE:LINE:COL: message``) for a
    playbook that is not valid, and for a file that cannot be read."""
    from pathlib import Path

    from provisioner.playbook.load import load_all

    return load_all(Path(path))


def run(playbooks: str | PathLike[str] | Playbook | Iterable[Playbook], *, force: bool = False, parallel: int = 4,
        max_in_flight: int | None = None) -> list[RunResult]:
    """Converge every tenant (as ``provisioner run``): each step reads, compares and writes only what differs.

    ``playbooks``: a playbook path, a :class:`Playbook` or several; ``force`` replaces a local key file that
    differs (the old one kept as ``.bak``); ``parallel`` tenants run at once with at most ``max_in_flight``
    requests in flight per API host (None: a cap that adapts to each host, see :mod:`provisioner.clients.inflight`).
    Returns one :class:`RunResult` per tenant, in order: ``result.ok``, and per step (``result.steps``) ``action``
    (created, updated, waited, unchanged, passed, failed, skipped),
    ``reasons``, ``seconds`` (wall time) and ``error``. API and step failures are recorded in the results, never
    raised; :class:`BadInput` is raised before anything runs for a bad playbook, an unset secret variable, or two
    tenants with one key file."""
    return _fleet(playbooks, dry_run=False, force=force, parallel=parallel, max_in_flight=max_in_flight)


def plan(playbooks: str | PathLike[str] | Playbook | Iterable[Playbook], *, parallel: int = 4,
         max_in_flight: int | None = None) -> list[RunResult]:
    """What :func:`run` would do, reading only (as ``provisioner plan``). Step actions are plan words: create,
    update, wait, no change, passed, failed, skip, error; ``result.has_changes`` says whether anything would be
    created or updated. Raises :class:`BadInput` as :func:`run` does."""
    return _fleet(playbooks, dry_run=True, force=False, parallel=parallel, max_in_flight=max_in_flight)


def _fleet(playbooks: str | PathLike[str] | Playbook | Iterable[Playbook], *, dry_run: bool, force: bool,
           parallel: int, max_in_flight: int | None) -> list[RunResult]:
    from provisioner.engine.runner import resolve_secrets
    from provisioner.fleet.check import check_fleet
    from provisioner.fleet.tenants import run_many
    from provisioner.playbook.load import Playbook

    if isinstance(playbooks, str | PathLike):
        pbs = load_playbook(playbooks)
    elif isinstance(playbooks, Playbook):
        pbs = [playbooks]
    else:
        pbs = list(playbooks)
    check_fleet(pbs)
    for pb in pbs:
        resolve_secrets(pb)
    return run_many(pbs, parallel=parallel, dry_run=dry_run, force=force, max_in_flight_per_host=max_in_flight)


_LAZY = {"Playbook": "provisioner.playbook.load", "RunResult": "provisioner.engine.runner",
         "StepResult": "provisioner.engine.runner"}


def __getattr__(name: str) -> Any:
    """The classes of the API, imported when first used (the simulator only on ``provisioner.Simulator``)."""
    import importlib

    if name == "Simulator":
        return importlib.import_module("provisioner.sim").Simulator
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'provisioner' has no attribute {name!r}")
