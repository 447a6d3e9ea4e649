"""The checks of a fleet's playbooks taken together, before anything runs (``run``, ``plan``, ``validate``).

Kept apart from :mod:`provisioner.fleet` (which runs tenants and so loads the HTTP stack and the steps) so that
``provisioner validate`` loads only what reading playbooks needs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from provisioner.errors import BadInput

if TYPE_CHECKING:
    from provisioner.playbook import Playbook


def check_fleet(playbooks: list[Playbook]) -> None:
    """The mistakes only the whole fleet shows, before anything runs: the same tenant twice (two rows for one
    tenant, racing each other), and two tenants writing the same download path (they would race, and ``--force``
    would make them overwrite each other's key). Raises :class:`BadInput` naming both playbooks."""
    tenants: dict[str, Playbook] = {}
    paths: dict[str, Playbook] = {}
    for pb in playbooks:
        first = tenants.setdefault(pb.tenant.subdomain, pb)
        if first is not pb:
            raise BadInput(f"{pb.source}: tenant {pb.tenant.subdomain} is given twice (also in {first.source}); "
                           "keep one of them")
        path = os.path.abspath(os.path.expanduser(pb.download_path))
        first = paths.setdefault(path, pb)
        if first is not pb:
            raise BadInput(f"{pb.source}: steps.download.path of tenant {pb.tenant.subdomain} is also that of "
                           f"tenant {first.tenant.subdomain} ({first.source}); give each tenant its own file, "
                           "e.g. keys/{tenant}.json")
