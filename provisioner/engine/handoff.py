"""The Landscape Management hand-off: which of a tenant's keys is uploaded to SAP Cloud ALM's Landscape Management
("SAP Cloud ALM Service Key", one key per tenant), and the manual steps the tool cannot do (no public API uploads,
views or deletes that key; the UI needs the role *Landscape Management Security Administrator*).

Only one key per tenant is uploaded there; API keys (for your own programs, for example the Analytics API) and
keys made for one use (a per-system binding ``<SID>_<client>_<system number>`` of one managed system) are not.
Deleting a key in BTP does not delete its copy in Landscape Management.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from provisioner.platform.generated import per_system
from provisioner.playbook.load import Playbook

if TYPE_CHECKING:
    from provisioner.engine.results import StepResult

LM_ROLE = "Landscape Management Security Administrator"
UPLOAD_STEP = ("next step (manual): upload {path} in SAP Cloud ALM > Landscape Management > SAP Cloud ALM Service "
               "Key (role " + LM_ROLE + "), replacing the key there: Landscape Management holds one key per tenant")
DELETE_OLD_STEP = ("next step (manual): delete the old key in SAP Cloud ALM > Landscape Management too (role "
                   + LM_ROLE + "): deleting it in BTP does not delete the copy uploaded there")
API_WARNING = ("warning: the Landscape Management key of {tenant} is the {purpose} key ({path}); an api key is for "
               "your own programs and is not uploaded there: list monitoring or transport-management in "
               "tenant.purposes, or set tenant.landscape_management")
NOT_FOR_UPLOAD = ("warning: {path} ({purpose} key) failed its {steps}: it is not a key for Landscape Management; "
                  "do not upload it: fix what failed and run again")
#: the steps that verify a key as Landscape Management would (a key that failed one is never handed off)
VERIFICATIONS = ("check", "test")
ONE_USE_WARNING = ("warning: the Landscape Management key of {tenant} is {key}, a per-system binding made for one "
                   "managed system (one use); it is not uploaded there: pin another key with steps.key.name")


@dataclass(frozen=True)
class KeyMark:
    """One purpose's key after a run: ``purpose``, the file ``path``, the key's ``key`` name (None when no key was
    found), ``landscape_management``: this is the tenant's one key for Landscape Management; ``new``: the run made
    the key or wrote a new one to the file (it must then be uploaded); ``instance``: the purpose's instance;
    ``credential_type`` of the key (None: not downloaded); ``scopes``: the instance's authorities the playbook
    asks for (None: the credentials are located, not made)."""

    purpose: str
    path: str
    key: str | None
    landscape_management: bool
    new: bool
    instance: str | None = None
    credential_type: str | None = None
    scopes: tuple[str, ...] | None = None


def held(pb: Playbook, done: Any) -> tuple[str | None, str | None, tuple[str, ...] | None]:
    """(instance, credential type, scopes) of a purpose's run ``done`` (its steps' outputs, an ``Upstream``)."""
    from provisioner.engine.eras import locates
    from provisioner.steps.download import DownloadOutput
    from provisioner.steps.instance import InstanceOutput

    inst = done.output("instance", InstanceOutput)
    downloaded = done.output("download", DownloadOutput)
    uaa = (downloaded.credentials.get("uaa") if downloaded is not None else None) or {}
    ctype = uaa.get("credential-type") if isinstance(uaa, dict) else None
    scopes = None if locates(pb) else tuple(a.removeprefix("$XSMASTERAPPNAME.") for a in pb.service.authorities)
    return (inst.instance.name if inst is not None else pb.instance_name), ctype, scopes


def is_one_use(key_name: str | None) -> bool:
    """Whether a key is made for one managed system (SAP automation's ``<SID>_<client>_<system number>``)."""
    return key_name is not None and per_system(key_name)


def handoff(pb: Playbook, marks: list[KeyMark], steps: list[StepResult], *, dry_run: bool
            ) -> tuple[list[dict[str, Any]], list[str]]:
    """The report's ``keys`` and ``notes`` of a run (or plan) of ``pb``: the marks as dicts and
    :func:`handoff_notes`, after :func:`verified` took the Landscape Management mark off a key that failed a
    check. ``steps``: the run's step results (``step``, ``action``)."""
    marks = verified(pb, marks, steps, dry_run=dry_run)
    return [asdict(m) for m in marks], handoff_notes(pb, marks, dry_run=dry_run) + unverified_notes(pb, steps)


def _label(pb: Playbook, purpose: str) -> str:
    """How the run names a purpose's steps: ``check`` alone, ``check[api]`` with several purposes."""
    return "" if len(pb.tenant.purposes) == 1 else f"[{purpose}]"


def _failed(pb: Playbook, purpose: str, steps: list[StepResult]) -> list[str]:
    """The verifications (check, test) of the purpose's key that failed (a run) or could not be done (a plan)."""
    names = {f"{v}{_label(pb, purpose)}": v for v in VERIFICATIONS}
    return [names[s.step] for s in steps if s.step in names and s.action in ("failed", "error")]


def verified(pb: Playbook, marks: list[KeyMark], steps: list[StepResult], *, dry_run: bool) -> list[KeyMark]:
    """The marks, the Landscape Management one unmarked when its key is not proven: a verification failed, or
    (a run) check and test did not both pass (an earlier step failed). Such a key gets no upload line."""
    out = []
    for mark in marks:
        label = _label(pb, mark.purpose)
        passed = {s.step for s in steps if s.action == "passed"}
        proven = not _failed(pb, mark.purpose, steps) and (
            dry_run or all(f"{v}{label}" in passed for v in VERIFICATIONS))
        out.append(mark if proven or not mark.landscape_management else replace(mark, landscape_management=False))
    return out


def unverified_notes(pb: Playbook, steps: list[StepResult]) -> list[str]:
    """A warning for the Landscape Management purpose's key when its check or test failed: not to be uploaded."""
    purpose = pb.landscape_management_purpose
    if purpose is None:  # only an api key: none goes to Landscape Management
        return []
    failed = _failed(pb, purpose, steps)
    if not failed:
        return []
    path = pb.for_purpose(purpose).download_path
    return [NOT_FOR_UPLOAD.format(path=path, purpose=purpose, steps=" and ".join(failed))]


def handoff_notes(pb: Playbook, marks: list[KeyMark], *, dry_run: bool) -> list[str]:
    """The warnings and manual next steps of a run (or plan) of ``pb`` whose keys are ``marks``: a warning when
    the Landscape Management key is an api or one-use key; after a run that wrote a new Landscape Management key,
    the upload step."""
    notes: list[str] = []
    for mark in marks:
        if not mark.landscape_management:
            continue
        words = {"tenant": pb.tenant.subdomain, "purpose": mark.purpose, "path": mark.path, "key": mark.key}
        if mark.purpose == "api":
            notes.append(API_WARNING.format(**words))
        if is_one_use(mark.key):
            notes.append(ONE_USE_WARNING.format(**words))
        if mark.new and not dry_run:
            notes.append(UPLOAD_STEP.format(**words))
    return notes


def replaced_notes(path: str) -> list[str]:
    """After a rotate or revoke: upload the new key (if any) and delete the old one in Landscape Management."""
    return ([UPLOAD_STEP.format(path=path)] if path else []) + [DELETE_OLD_STEP]
