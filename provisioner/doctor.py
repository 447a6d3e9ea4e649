"""``provisioner doctor``: checks that every credential source of a playbook resolves and that the identities
have the roles SAP's setup guide for the SAP Cloud ALM API requires (Global Account Administrator, Org Manager,
Space Developer), without changing anything. Reads only: ``GET /``, token requests, ``GET /v3/organizations``,
``/v3/spaces``, ``/v3/roles``, ``GET /accounts/v1/subaccounts`` and ``/entitlements/v1/assignments``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provisioner.errors import ApiError, BadInput, ProvisionerError
from provisioner.http import RequestStats
from provisioner.keyfile import Check, check_key, read_key_file
from provisioner.playbook import Playbook, text_of
from provisioner.uaa import claims

CIS_SCOPES = ("global-account.entitlement.subaccount.update", "global-account.subaccount.read", "job.read")


def diagnose(pb: Playbook, say: Callable[[Check], None]) -> bool:
    """Run every check, reporting each through ``say``; True when all passed."""
    from provisioner.btp import Btp, find_assignment
    from provisioner.credentials import sign_in_cf
    from provisioner.runner import load_cis_key, pool_for

    ok = True

    def report(name: str, passed: bool, message: str) -> bool:
        nonlocal ok
        ok = ok and passed
        say(Check(name, passed, message))
        return passed

    for ref in pb.secrets():
        try:
            ref.resolve()
            report(f"secret {ref.where.rsplit(': ', 1)[-1]}", True, f"{ref.describe()} resolves")
        except BadInput as exc:
            report(f"secret {ref.where.rsplit(': ', 1)[-1]}", False, str(exc))
    pool, stats = pool_for(pb), RequestStats()
    cf = None
    try:
        if pb.cf is None:  # the subaccount route: no Cloud Foundry
            raise _NoCf
        cf = sign_in_cf(pb, pool, stats)
        source = cf.http.token_source
        assert source is not None  # sign_in_cf sets it
        token = claims(source.token())
        who = token.get("user_name") or token.get("client_id") or "?"
        report("CF sign-in", True, f"{pb.cf_settings.login} login to {cf.api_url} as {who}")
    except _NoCf:
        pass
    except (ProvisionerError, BadInput) as exc:
        report("CF sign-in", False, str(exc))
        cf = None
    if cf is not None:
        _cf_roles(pb, cf, token, report)
    btp = None
    try:
        btp = Btp(load_cis_key(pb), source=pb.btp.cis_key.where if pb.btp.cis_key else "", pool=pool, stats=stats,
                  username=text_of(pb.btp.username),
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
        if cf is not None and pb.btp.org_check != "off":
            _org_check(pb, cf, btp, report)
    except (ProvisionerError, BadInput) as exc:
        report("BTP (cis key)", False, str(exc))
    if pb.on_subaccount:
        _service_manager(pb, btp, pool, stats, report)
    key = Path(pb.download_path)
    if key.exists():
        try:
            for c in check_key(read_key_file(key), pb.tenant.subdomain, pb.accepted_credential_types):
                report(f"key file: {c.name}", c.passed, c.message)
        except BadInput as exc:
            report("key file", False, str(exc))
    return ok


def _org_check(pb: Playbook, cf, btp, report) -> None:
    """Whether cf.org is the org of the subaccount's Cloud Foundry environment (:mod:`provisioner.orgcheck`)."""
    from provisioner.orgcheck import check_org

    try:
        note = check_org(pb, cf, btp)
    except ProvisionerError as exc:
        report("org of the subaccount", False, str(exc))
        return
    report("org of the subaccount", True, note or "cf.org is the org of the subaccount's Cloud Foundry environment")


def _service_manager(pb: Playbook, btp, pool, stats: RequestStats, report) -> None:
    """The subaccount route: Service Manager credentials (never created here), sign-in and the plan's visibility."""
    from provisioner.credentials import service_manager
    from provisioner.platform.servicemanager import ServiceManagerPlatform

    try:
        platform = ServiceManagerPlatform(service_manager(pb, btp if pb.btp.sm_key is None else None, pool, stats,
                                                          create=False))
        plan = platform.find_plan(pb.service.offering, pb.service.plan, space="")
        source = "btp.sm_key" if pb.btp.sm_key is not None else f"serviceManagerBindings {pb.btp.sm_binding}"
        report("Service Manager", True, f"signed in with {source}; {pb.service.offering}/{pb.service.plan} "
               + ("visible" if plan else "not visible yet (the entitlement step assigns it)"))
    except (ProvisionerError, BadInput) as exc:
        report("Service Manager", False, str(exc))


class _NoCf(Exception):
    """The playbook has no cf section: the CF checks do not apply."""


def _cf_roles(pb: Playbook, cf, token: dict, report) -> None:
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
