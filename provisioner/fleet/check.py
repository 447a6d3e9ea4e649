"""The checks of a fleet's playbooks taken together, before anything runs (``run``, ``plan``, ``validate``).

Kept apart from :mod:`provisioner.fleet.tenants` (which runs tenants and so loads the HTTP stack and the steps) so that
``provisioner validate`` loads only what reading playbooks needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provisioner.errors import BadInput
from provisioner.fleet.outpaths import Identity, identity, key_paths

if TYPE_CHECKING:
    from provisioner.playbook.load import Playbook


def check_fleet(playbooks: list[Playbook]) -> None:
    """The mistakes only the whole fleet shows, before anything runs: the same tenant twice (two rows for one
    tenant, racing each other), and two tenants (or two purposes) writing the same key file (they would race, and
    ``--force`` would make them overwrite each other's key), compared as files (:func:`provisioner.fleet.outpaths.
    identity`: symbolic links followed), not as spelled. Raises :class:`BadInput` naming both playbooks."""
    tenants: dict[str, Playbook] = {}
    paths: dict[Identity, Playbook] = {}
    for pb in playbooks:
        first = tenants.setdefault(pb.tenant.subdomain, pb)
        if first is not pb:
            raise BadInput(f"{pb.source}: tenant {pb.tenant.subdomain} is given twice (also in {first.source}); "
                           "keep one of them")
        for path in {identity(path): path for path in key_paths(pb)}:  # one playbook's purposes: its own check
            first = paths.setdefault(path, pb)
            if first is not pb:
                raise BadInput(f"{pb.source}: steps.download.path of tenant {pb.tenant.subdomain} is also that of "
                               f"tenant {first.tenant.subdomain} ({first.source}); give each tenant "
                               "its own file, e.g. keys/{tenant}.json")
        if len({identity(path) for path in key_paths(pb)}) < len(pb.tenant.purposes):
            raise BadInput(f"{pb.source}: tenant.purposes of tenant {pb.tenant.subdomain}: two purposes' key paths "
                           "are one file (a symbolic link?); give each purpose its own file")
