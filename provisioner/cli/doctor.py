"""``provisioner doctor``: checks that every credential source of a playbook resolves and that the identities
have the roles SAP's setup guide for the SAP Cloud ALM API requires (Global Account Administrator, Org Manager,
Space Developer), without changing anything. Reads only: ``GET /``, token requests, ``GET /v3/organizations``,
``/v3/spaces``, ``/v3/roles``, ``GET /accounts/v1/subaccounts``, ``/entitlements/v1/assignments`` and (the org
check of the Cloud Foundry route) ``/provisioning/v1/environments``.

Each finding is ``pass``, ``warn`` (a check that could not be made: a run stops on it, as on the org check without
a key that may read environments; or the playbook skips it, ``btp.org_check: off``) or ``FAIL``. The exit code
(:func:`diagnose`): 0 when nothing failed and no warning stops a run, 2 when a failure is bad input (a playbook,
key file or secret the user must fix), 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from provisioner.clients.http import RequestStats
from provisioner.clients.uaa import claims
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, ApiError, BadInput, ProvisionerError
from provisioner.keys.keyfile import Check, check_key, read_key_file
from provisioner.playbook.load import Playbook, text_of

if TYPE_CHECKING:
    from provisioner.engine.context import RunContext

CIS_SCOPES = ("global-account.entitlement.subaccount.update", "global-account.subaccount.read", "job.read")


@dataclass(frozen=True)
class Finding(Check):
    """A doctor's check; ``warning``: it could not be made (with ``passed`` False a run stops on it; True: the
    playbook skips it on purpose); ``bad_input``: it failed on something the user must fix in a file."""

    warning: bool = False
    bad_input: bool = False


def word(check: Check) -> str:
    """``pass``, ``warn`` or ``FAIL``: how a finding is printed."""
    return "warn" if getattr(check, "warning", False) else "pass" if check.passed else "FAIL"


class _Report(Protocol):
    """How a check reports its finding (``diagnose``'s ``report``): returns ``passed``."""

    def __call__(self, name: str, passed: bool, message: str, *, warning: bool = False,
                 error: BaseException | None = None) -> bool: ...


def diagnose(pb: Playbook, say: Callable[[Finding], None]) -> int:
    """Run every check, reporting each through ``say`` (a :class:`Finding`) → the exit code: 0 nothing failed and
    no warning stops a run, 2 a failure is bad input, 1 otherwise."""
    from provisioner.clients.btp import Btp, find_assignment
    from provisioner.engine.credentials import sign_in_cf
    from provisioner.engine.runner import load_cis_key, pool_for

    findings: list[Finding] = []

    def report(name: str, passed: bool, message: str, *, warning: bool = False,
               error: BaseException | None = None) -> bool:
        findings.append(Finding(name, passed, message, warning, isinstance(error, BadInput)))
        say(findings[-1])
        return passed

    for ref in pb.secrets():
        try:
            ref.resolve(public=True)  # checked here; registered where used
            report(f"secret {ref.where.rsplit(': ', 1)[-1]}", True, f"{ref.describe()} resolves")
        except BadInput as exc:
            report(f"secret {ref.where.rsplit(': ', 1)[-1]}", False, str(exc), error=exc)
    ctx, stats = pool_for(pb), RequestStats()
    cf = None
    try:
        if pb.cf is None:  # the subaccount route: no Cloud Foundry
            raise _NoCf
        cf = sign_in_cf(pb, ctx, stats)
        source = cf.http.token_source
        assert source is not None  # sign_in_cf sets it
        token = claims(source.token())
        who = token.get("user_name") or token.get("client_id") or "?"
        report("CF sign-in", True, f"{pb.cf_settings.login} login to {cf.api_url} as {who}")
    except _NoCf:
        pass
    except (ProvisionerError, BadInput) as exc:
        report("CF sign-in", False, str(exc), error=exc)
        cf = None
    if cf is not None:
        _cf_roles(pb, cf, token, report)
    btp = None
    try:
        btp = Btp(load_cis_key(pb), source=pb.btp.cis_key.where if pb.btp.cis_key else "", stats=stats,
                  username=text_of(pb.btp.username), pool=ctx.pool, share=ctx.share,
                  password=pb.btp.password.resolve() if pb.btp.password else None)
        scopes = claims(btp.token_source.token()).get("scope") or []
        missing = [s for s in CIS_SCOPES if not any(x.endswith("." + s) or x == s for x in scopes)]
        report("BTP sign-in (cis key)", not missing,
               "token has the Global Account Administrator scopes" if not missing else
               "token lacks " + ", ".join(missing) + ": use a cis key of plan central of a Global Account "
               "Administrator")
        sub = btp.find_subaccount(pb.btp.subaccount)
        report("subaccount", True, f"{sub.get('subdomain')} ({sub.get('guid')})")
        body = btp.assignments(sub["guid"], pb.service.offering, pb.service.plan)
        assigned = find_assignment(body, pb.service.offering, pb.service.plan, sub["guid"].lower())
        report("entitlement", True, f"{pb.service.offering}/{pb.service.plan} "
               + (f"assigned ({assigned.get('entityState')})" if assigned else "not assigned yet (a run assigns it)"))
    except (ProvisionerError, BadInput) as exc:
        report("BTP (cis key)", False, str(exc), error=exc)
    if cf is not None:
        _org_check(pb, cf, btp, report, ctx, stats)
    if pb.route_name == "subaccount":
        _service_manager(pb, btp, ctx, stats, report)
    key = Path(pb.download_path)
    if key.exists():
        try:
            for c in check_key(read_key_file(key), pb.tenant.subdomain, pb.accepted_credential_types):
                report(f"key file: {c.name}", c.passed, c.message)
        except BadInput as exc:
            report("key file", False, str(exc), error=exc)
    if any(not f.passed and f.bad_input for f in findings):
        return EXIT_BAD_INPUT
    return EXIT_OK if all(f.passed for f in findings) else EXIT_FAILED


def _org_check(pb: Playbook, cf: Any, btp: Any, report: _Report, ctx: RunContext, stats: RequestStats) -> None:
    """Whether cf.org is the org of the subaccount's Cloud Foundry environment (:mod:`provisioner.engine.orgcheck`): a
    warning when it cannot be checked (a run stops there too) or the playbook says ``btp.org_check: off``."""
    from provisioner.engine.orgcheck import OrgNotChecked, check_org

    name = "org of the subaccount"
    if pb.btp.org_check == "off":
        report(name, True, "not checked: btp.org_check is off in the playbook", warning=True)
        return
    if btp is None and pb.btp.environments_key is None:
        report(name, False, "not checked: the cis key could not be used (above); a run stops before its first "
               "write until it is checked", warning=True)
        return
    try:
        check_org(pb, cf, btp, ctx=ctx, stats=stats)
    except OrgNotChecked as exc:
        report(name, False, f"not checked: {exc}", warning=True)
        return
    except (ProvisionerError, BadInput) as exc:
        report(name, False, str(exc), error=exc)
        return
    report(name, True, "cf.org is the org of the subaccount's Cloud Foundry environment")


def _service_manager(pb: Playbook, btp: Any, ctx: RunContext, stats: RequestStats, report: _Report) -> None:
    """The subaccount route: Service Manager credentials (never created here), sign-in and the plan's visibility."""
    from provisioner.engine.credentials import service_manager
    from provisioner.platform.servicemanager import ServiceManagerPlatform

    try:
        platform = ServiceManagerPlatform(service_manager(pb, btp if pb.btp.sm_key is None else None, ctx, stats,
                                                          create=False))
        plan = platform.find_plan(pb.service.offering, pb.service.plan, space="")
        source = "btp.sm_key" if pb.btp.sm_key is not None else f"serviceManagerBindings {pb.btp.sm_binding}"
        report("Service Manager", True, f"signed in with {source}; {pb.service.offering}/{pb.service.plan} "
               + ("visible" if plan else "not visible yet (the entitlement step assigns it)"))
    except (ProvisionerError, BadInput) as exc:
        report("Service Manager", False, str(exc), error=exc)


class _NoCf(Exception):
    """The playbook has no cf section: the CF checks do not apply."""


def _cf_roles(pb: Playbook, cf: Any, token: dict[str, Any], report: _Report) -> None:
    admin = "cloud_controller.admin" in (token.get("scope") or [])
    user_guid = token.get("user_id") or token.get("client_id")
    try:
        org = cf.find_org(pb.cf_settings.org)
        if not report("CF org", org is not None, f"{pb.cf_settings.org} " + ("visible" if org else
                      "not found or not visible: the user needs a role in it (Org Manager)")):
            return
        if admin:
            report("Org Manager", True, "the identity is a CF admin")
            return
        roles = list(cf.list("/v3/roles", {"types": "organization_manager", "organization_guids": org["guid"],
                                           "user_guids": user_guid}))
        report("Org Manager", bool(roles), f"in org {pb.cf_settings.org}" if roles else
               f"missing in org {pb.cf_settings.org}: needed to create the space and give roles; ask an org manager")
        space = cf.find_space(org["guid"], pb.space_name)
        if space is not None:
            devs = cf.space_role_usernames(space["guid"], "space_developer")
            wanted = list(pb.space_developers) or [token.get("user_name") or ""]
            missing = [u for u in wanted if u.lower() not in devs]
            report("Space Developer", not missing, f"in space {pb.space_name}: " +
                   (", ".join(wanted) if not missing else "missing for " + ", ".join(missing) + " (a run gives it)"))
    except ApiError as exc:
        report("CF roles", False, str(exc))
