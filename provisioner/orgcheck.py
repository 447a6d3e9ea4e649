"""The check, before a run's first write, that the playbook's CF org is the org of its BTP subaccount's Cloud
Foundry environment.

A playbook naming the org of another subaccount than ``btp.subaccount`` would otherwise entitle one subaccount,
create the instance and key in the other tenant's org, and download the other tenant's key; the identity-zone
check would only notice after the download. The check reads the subaccount (Accounts service), the org
(``GET /v3/organizations?names=``) and the environment instances (Provisioning service ``GET
/provisioning/v1/environments``: a Cloud Foundry environment's ``platformId`` and its labels' ``"Org ID"`` are
the org GUID, docs/sap-facts.md §7.3). It runs only when a run is about to write (or a plan found changes), so a
converged re-run makes no request for it. ``btp.org_check`` (``auto`` | ``required`` | ``off``) says what a
refused token means: SAP documents the Provisioning scope for the ``local`` cis plan; whether the global
account's ``central`` key may read environments is not confirmed.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from provisioner.btp import Btp
from provisioner.cf import CloudFoundry
from provisioner.errors import ApiError, StepFailed
from provisioner.playbook import Playbook

NOT_CHECKED = "not checked that cf.org belongs to btp.subaccount"


def org_ids(environment: dict[str, Any]) -> set[str]:
    """The CF org GUIDs an environment instance names: ``platformId`` and the labels' ``"Org ID"`` (or the legacy
    ``"Org ID:"``); ``labels`` is a JSON-encoded string in SAP's answers (an object is accepted too)."""
    ids = {str(environment.get("platformId") or "").lower()}
    labels: Any = environment.get("labels")
    if isinstance(labels, str):
        try:
            labels = json.loads(labels)
        except ValueError:
            labels = None
    if isinstance(labels, dict):
        ids |= {str(labels.get(k) or "").lower() for k in ("Org ID", "Org ID:")}
    return ids - {""}


def check_org(pb: Playbook, cf: CloudFoundry, btp: Btp) -> str | None:
    """None when the org is that of the subaccount's CF environment (or it does not exist yet: the space step
    says so), a note when the check could not be made and ``btp.org_check`` is ``auto``. Raises
    :class:`StepFailed` when the org belongs to another subaccount, when the subaccount's environment is another
    org, or (``required``) when the Provisioning service refused the token or the cis key names none."""
    required = pb.btp.org_check == "required"
    if pb.cf is None:
        return None
    org_name = pb.cf.org
    org = cf.org(org_name)
    if org is None:
        return None
    subaccount = btp.find_subaccount(pb.btp.subaccount)
    try:
        environments = btp.environments()
    except ApiError as exc:
        if exc.status not in (401, 403) or required:
            raise
        return (f"{NOT_CHECKED}: the Provisioning service refused the cis key's token (HTTP {exc.status}; it "
                "may need a cis key of plan local); set btp.org_check: off to skip the check")
    if environments is None:
        if required:
            raise StepFailed(f"{pb.source}: btp.org_check is required but the cis key has no "
                             "endpoints.provisioning_service_url")
        return f"{NOT_CHECKED}: the cis key has no endpoints.provisioning_service_url"
    wanted = str(subaccount.get("guid") or "").lower()
    mine = _by_org(btp, environments).get(str(org["guid"]).lower(), [])
    theirs = {str(e.get("subaccountGUID") or "").lower() for e in mine}
    if wanted in theirs:
        return None
    where = f"{pb.source}: cf.org {org_name!r}"
    fix = "nothing was written; fix cf.org or btp.subaccount"
    if theirs:
        other = sorted(theirs)[0]
        raise StepFailed(f"{where} belongs to subaccount {other}, not to btp.subaccount {pb.btp.subaccount!r}; "
                         f"{fix}")
    own = [e for e in environments if e.get("environmentType") == "cloudfoundry"
           and str(e.get("subaccountGUID") or "").lower() == wanted]
    if own:
        names = ", ".join(sorted(_org_name(e) for e in own))
        raise StepFailed(f"{where} is not the org of subaccount {pb.btp.subaccount!r}'s Cloud Foundry environment "
                         f"({names}); {fix}")
    raise StepFailed(f"{where}: subaccount {pb.btp.subaccount!r} has no Cloud Foundry environment the "
                     f"Provisioning service lists; {fix} (or use route: subaccount)")


def _by_org(btp: Btp, environments: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The Cloud Foundry environments by the org GUIDs (lowercase) each names (:func:`org_ids`), indexed once per
    environment list the runs of a fleet share (``btp.pool``), not scanned once per tenant."""

    def index() -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for e in environments:
            if e.get("environmentType") == "cloudfoundry":
                for guid in org_ids(e):
                    found.setdefault(guid, []).append(e)
        return found

    if btp.pool is None:
        return index()
    # the list is held by the pool's share for the whole fleet run, so its id names it for that long
    return btp.pool.shared.once(("environments by org", id(environments)), index)


def _org_name(environment: dict[str, Any]) -> str:
    labels: Any = environment.get("labels")
    try:
        labels = json.loads(labels) if isinstance(labels, str) else labels
    except ValueError:
        labels = None
    name = labels.get("Org Name") or labels.get("Org Name:") if isinstance(labels, dict) else None
    return str(name or environment.get("name") or environment.get("platformId") or "?")


class OrgGuard:
    """Calls :func:`check_org` once per run, before its first write, whichever step comes first (thread-safe);
    later calls return the same note or raise the same failure. Does nothing without CF, without the BTP client
    or with ``btp.org_check: off``."""

    def __init__(self, pb: Playbook, cf: CloudFoundry | None, btp: Btp | None):
        self._args = (pb, cf, btp) if cf is not None and btp is not None and pb.btp.org_check != "off" else None
        self._lock = threading.Lock()
        self._done = False
        self._note: str | None = None
        self._failure: StepFailed | None = None

    def __call__(self) -> str | None:
        """The note to add to the step's reasons once (None: nothing to say). Raises the check's failure."""
        if self._args is None:
            return None
        with self._lock:
            if not self._done:
                try:
                    self._note = check_org(*self._args)
                except StepFailed as exc:
                    self._failure = exc
                self._done = True
                if self._failure is None:
                    return self._note
            if self._failure is not None:
                raise StepFailed(str(self._failure))
            return None
