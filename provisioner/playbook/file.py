"""The playbook file as a whole: a :class:`~provisioner.playbook.model.Playbook` that may also list ``tenants``.
Used only to generate the JSON Schema (:mod:`provisioner.playbook.schema`); the loader merges each tenant over the
rest and builds one :class:`Playbook` per tenant."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from provisioner.playbook.model import Playbook


class PlaybookFile(Playbook):
    """Onboards one SAP Cloud ALM tenant to the SAP Cloud ALM API. Defaults carry the Cloud ALM specifics;
    relative paths are relative to the current directory. Secrets are never inline: give {env: NAME} or
    {file: PATH}. Any string may use ${NAME} to take an environment variable."""

    tenants: Annotated[list[dict[str, Any]], Field(min_length=1)] | None = Field(default=None, description=(
        "Several tenants sharing the settings above: each item holds the keys that differ (tenant, "
        "btp.subaccount, cf.org, steps.download.path, ...), merged over the rest of the playbook. '{tenant}' in "
        "steps.download.path becomes the tenant's subdomain."))
