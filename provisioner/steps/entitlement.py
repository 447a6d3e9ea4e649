"""Step 2, entitlement: assign the service plan (SAP Cloud ALM API ``standard``) to the subaccount.

Reads ``GET /entitlements/v1/assignments`` for the subaccount; when the plan is not assigned (or its last
assignment failed), ``PUT /entitlements/v1/subaccountServicePlans`` with ``enable`` or ``amount`` according to the
plan's category (flipping once on error 12003), then waits for the job to be COMPLETED and the assignment's
``entityState`` to be OK. Seed 003 "Configure Entitlements"; ../shared/reference/btp-account-apis.md §2, §6, §7.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioner.btp import find_assignment, find_entitled_plan, uses_enable
from provisioner.errors import ApiError, StepFailed
from provisioner.steps.base import CREATE, NONE, UPDATE, Change, Context, Step
from provisioner.wait import poll

PENDING_STATES = ("STARTED", "PROCESSING")


@dataclass
class Observed:
    subaccount: dict[str, Any] | None
    assignment: dict[str, Any] | None
    entitled: dict[str, Any] | None
    in_marketplace: bool = False


class EntitlementStep(Step):
    """On BTP a plan is in an org's marketplace only when the subaccount has the entitlement, so a plan visible in
    the org (``GET /v3/service_plans?organization_guids=``) proves the assignment without calling BTP at all; only
    otherwise are the BTP entitlements read."""

    name = "entitlement"

    def read(self, ctx: Context) -> Observed:
        pb = ctx.playbook
        org = ctx.facts.get("org")
        if org is not None:
            plan = ctx.cf.find_plan(pb.service.offering, pb.service.plan, org_guid=org["guid"])
            if plan is not None:
                ctx.facts["plan"] = plan
                return Observed(None, None, None, in_marketplace=True)
        assert ctx.btp is not None
        sub = ctx.facts.get("subaccount") or ctx.btp.find_subaccount(pb.btp.subaccount)
        ctx.facts["subaccount"] = sub
        body = ctx.btp.assignments(sub["guid"], pb.service.offering, pb.service.plan)
        return Observed(sub, find_assignment(body, pb.service.offering, pb.service.plan, sub["guid"].lower()),
                        find_entitled_plan(body, pb.service.offering, pb.service.plan))

    def compare(self, ctx: Context, observed: Observed) -> Change:
        s = ctx.playbook.service
        if observed.in_marketplace:
            return Change(NONE, [f"plan {s.offering}/{s.plan} is in the org's marketplace: the subaccount has the "
                                 "entitlement"])
        assert observed.subaccount is not None
        what = f"plan {s.offering}/{s.plan} for subaccount {observed.subaccount.get('subdomain')}"
        a = observed.assignment
        if a is not None and a.get("entityState") == "OK":
            return Change(NONE, [f"{what} is already assigned"])
        if a is not None and a.get("entityState") in PENDING_STATES:
            return Change(UPDATE, [f"{what} is being assigned ({a['entityState']}); wait for it"])
        if observed.entitled is None:
            raise StepFailed(f"the global account has no entitlement for {s.offering}/{s.plan} (BTP 30015); "
                             "ask SAP (or the global account administrator) to add it to the global account")
        ctx.pending.add("entitlement")
        if a is not None:
            return Change(UPDATE, [f"{what}: the last assignment failed ({a.get('stateMessage')}); assign again"])
        return Change(CREATE, [f"assign {what}"])

    def apply(self, ctx: Context, observed: Observed, change: Change) -> None:
        pb = ctx.playbook
        assert ctx.btp is not None and observed.subaccount is not None
        guid = observed.subaccount["guid"]
        settings = ctx.wait_settings(pb.timeouts.entitlement)
        pending = observed.assignment is not None and observed.assignment.get("entityState") in PENDING_STATES
        if not pending:
            plan = observed.entitled or {}
            location = self._assign(ctx, guid, uses_enable(plan), plan.get("uniqueIdentifier"))
            if location:
                def job_done(job: dict[str, Any]) -> bool:
                    if job.get("status") == "FAILED":
                        raise StepFailed(f"entitlement job failed: {job.get('description') or 'no description'}")
                    return job.get("status") == "COMPLETED"

                poll(lambda: ctx.btp.job_status(location), job_done, settings=settings,
                     what=f"entitlement of {pb.service.offering}/{pb.service.plan}",
                     describe=lambda j: f"job is {j.get('status')}")

        def state_ok(a: dict[str, Any] | None) -> bool:
            if a is not None and a.get("entityState") == "PROCESSING_FAILED":
                raise StepFailed(f"entitlement of {pb.service.offering}/{pb.service.plan} failed: "
                                 f"{a.get('stateMessage') or 'no message'}")
            return a is not None and a.get("entityState") == "OK"

        def read_assignment() -> dict[str, Any] | None:
            body = ctx.btp.assignments(guid, pb.service.offering, pb.service.plan)
            return find_assignment(body, pb.service.offering, pb.service.plan, guid.lower())

        poll(read_assignment, state_ok, settings=settings,
             what=f"entitlement of {pb.service.offering}/{pb.service.plan}",
             describe=lambda a: f"assignment is {(a or {}).get('entityState', 'missing')}")
        ctx.pending.discard("entitlement")

    def _assign(self, ctx: Context, guid: str, enable: bool, unique_id: str | None) -> str | None:
        """PUT with ``enable`` or ``amount``; on 12003 (enable/amount mismatch) the other one, once; on 30004
        (another change holds the entitlement lock) again with backoff until the step's timeout (tenacity)."""
        from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential, wait_random

        s = ctx.playbook.service
        assert ctx.btp is not None

        def put(enable: bool) -> str | None:
            if enable:
                return ctx.btp.assign(guid, s.offering, s.plan, enable=True, unique_id=unique_id)
            return ctx.btp.assign(guid, s.offering, s.plan, amount=s.amount, unique_id=unique_id)

        def put_either() -> str | None:
            try:
                return put(enable)
            except ApiError as exc:
                if exc.code != 12003:
                    raise
                return put(not enable)

        locked = retry_if_exception(lambda exc: isinstance(exc, ApiError) and exc.code == 30004)
        wait = wait_exponential(multiplier=0.5, max=10) + wait_random(0, 0.5)
        for attempt in Retrying(retry=locked, stop=stop_after_delay(ctx.playbook.timeouts.entitlement), wait=wait,
                                reraise=True):
            with attempt:
                return put_either()
        raise AssertionError("unreachable")
