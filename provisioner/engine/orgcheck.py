"""The check, before a run's first write on the Cloud Foundry route, that the playbook's CF org is the org of its
BTP subaccount's Cloud Foundry environment: it fails closed.

A playbook naming the org of another subaccount than ``btp.subaccount`` would otherwise entitle one subaccount,
create the instance and key in the other tenant's org, and download the other tenant's key; the identity-zone
check would only notice after the download. The check reads the subaccount (Accounts service, with the cis key;
not needed when ``btp.subaccount`` is a GUID), the org (``GET /v3/organizations?names=``) and the environment
instances (Provisioning service ``GET /provisioning/v1/environments``: a Cloud Foundry environment's
``platformId`` and its labels' ``"Org ID"`` are the org GUID, docs/sap-facts.md §7.2), with the token of
``btp.environments_key`` when given (a cis key of plan ``local`` in the subaccount: SAP documents the scope
``subaccount.environment.read`` for that plan only), else of ``btp.cis_key``. No other read SAP documents names a
subaccount's Cloud Foundry org. It runs only when a run is about to write (or a plan found changes), so a
converged re-run makes no request for it.

``btp.org_check``: ``auto`` (the default) and ``required`` both check and stop when the check cannot be made (the
token may not read environments, the key names no Provisioning service, no key at all): :class:`OrgNotChecked`,
one line naming the permission and the two ways out (``btp.environments_key``, or ``btp.org_check: off`` written
in the playbook). ``off`` skips the check, and the first step that writes says so in its reasons.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from provisioner.clients.btp import GUID_RE, Btp
from provisioner.clients.cf import CloudFoundry
from provisioner.clients.http import RequestStats
from provisioner.engine.context import RunContext
from provisioner.errors import Forbidden, StepFailed, Unauthorized
from provisioner.keys.keyfile import parse_key_text
from provisioner.playbook.load import Playbook

#: the reason a run with ``btp.org_check: off`` gives in the first step that writes
SKIPPED = "not checked that cf.org belongs to btp.subaccount (btp.org_check: off)"


class OrgNotChecked(StepFailed):
    """The org check could not be made (a permission or a key is missing): nothing is written (exit code 1)."""


def not_checked(pb: Playbook, why: str) -> OrgNotChecked:
    """The one line: what could not be checked, why, and the two ways out."""
    assert pb.cf is not None
    sub = pb.btp.subaccount
    return OrgNotChecked(
        f"{pb.source}: cannot check that cf.org {pb.cf.org!r} belongs to btp.subaccount {sub!r}: {why}; nothing was "
        f"written; give btp.environments_key (a cis key of plan local in subaccount {sub}, which has the scope "
        "subaccount.environment.read), or write btp.org_check: off in the playbook to skip the check")


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


def check_org(pb: Playbook, cf: CloudFoundry, btp: Btp | None, *, ctx: RunContext | None = None,
              stats: RequestStats | None = None) -> None:
    """Return when the org is that of the subaccount's CF environment (or does not exist yet: the space step says
    so). Raises :class:`OrgNotChecked` when the check cannot be made (``btp``: the cis key's client, None without
    one), :class:`StepFailed` when the org belongs to another subaccount or the subaccount's environment is another
    org; other API failures propagate (:class:`ApiError`)."""
    if pb.cf is None:
        return
    org_name = pb.cf.org
    org = cf.org(org_name)
    if org is None:
        return
    reader, whose = _reader(pb, btp, ctx, stats)
    if GUID_RE.match(pb.btp.subaccount):
        wanted = pb.btp.subaccount.lower()
    elif btp is not None:
        wanted = str(btp.find_subaccount(pb.btp.subaccount).get("guid") or "").lower()
    else:
        raise not_checked(pb, "btp.subaccount is a subdomain and there is no btp.cis_key to find its GUID (write "
                              "the subaccount's GUID in btp.subaccount)")
    try:
        environments = reader.environments()
    except (Unauthorized, Forbidden) as exc:
        raise not_checked(pb, f"{whose} may not read the subaccount's environments (GET /provisioning/v1/"
                              f"environments: HTTP {exc.status}; SAP documents the scope subaccount.environment.read "
                              "for cis plan local, not central)") from None
    if environments is None:
        raise not_checked(pb, f"{whose} has no endpoints.provisioning_service_url")
    mine = _by_org(reader, environments).get(str(org["guid"]).lower(), [])
    theirs = {str(e.get("subaccountGUID") or "").lower() for e in mine}
    if wanted in theirs:
        return
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


def _reader(pb: Playbook, btp: Btp | None, ctx: RunContext | None,
            stats: RequestStats | None) -> tuple[Btp, str]:
    """The client whose token reads the environments, and how to name it: ``btp.environments_key`` when given,
    else the cis key's client. Raises :class:`OrgNotChecked` when there is neither."""
    ref = pb.btp.environments_key
    if ref is not None:
        source = ref.file or f"{ref.where} ({ref.describe()})"
        key = parse_key_text(ref.resolve().reveal(), source)
        return Btp(key, source=source, pool=ctx.pool if ctx else None, stats=stats, share=ctx.share if ctx else None), \
            "the token of btp.environments_key"
    if btp is None:
        raise not_checked(pb, "the playbook has no btp.cis_key to read the subaccount's environments with")
    return btp, "the cis key's token"


def _by_org(btp: Btp, environments: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The Cloud Foundry environments by the org GUIDs (lowercase) each names (:func:`org_ids`), indexed once per
    environment list the runs of a fleet share (``btp.share``), not scanned once per tenant."""

    def index() -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for e in environments:
            if e.get("environmentType") == "cloudfoundry":
                for guid in org_ids(e):
                    found.setdefault(guid, []).append(e)
        return found

    if btp.share is None:
        return index()
    return btp.share.environments_by_org.once(btp.environments_lookup(), index)


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
    later calls raise a failure of the same kind that refers to it (the line is printed once). Does nothing
    without CF (the subaccount route). ``btp``: the cis key's client when the run has one, else ``make_btp()``
    builds it when the check needs it. With ``btp.org_check: off`` it checks nothing and returns :data:`SKIPPED`
    once, for the step's reasons."""

    def __init__(self, pb: Playbook, cf: CloudFoundry | None, btp: Btp | None,
                 make_btp: Callable[[], Btp | None] = lambda: None, *, ctx: RunContext | None = None,
                 stats: RequestStats | None = None):
        self._pb, self._cf, self._btp, self._make_btp = pb, cf, btp, make_btp
        self._ctx, self._stats = ctx, stats
        self._lock = threading.Lock()
        self._done = False
        self._failure: StepFailed | None = None

    def __call__(self) -> str | None:
        """The note to add to the step's reasons once (None: nothing to say). Raises the check's failure."""
        if self._cf is None:
            return None
        with self._lock:
            if self._done:
                if self._failure is not None:  # its line is in the step that asked first: said once
                    raise type(self._failure)("nothing was written: the check that cf.org belongs to "
                                              "btp.subaccount failed (see the first failed step)")
                return None
            if self._pb.btp.org_check == "off":
                self._done = True
                return SKIPPED
            try:
                btp = self._btp if self._btp is not None else self._make_btp() if self._pb.btp.cis_key else None
                check_org(self._pb, self._cf, btp, ctx=self._ctx, stats=self._stats)
            except StepFailed as exc:  # settled: a transient failure (ApiError) is checked again on the retry
                self._failure, self._done = exc, True
                raise
            self._done = True
            return None
