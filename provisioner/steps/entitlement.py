"""Step 2, entitlement ("Configure Entitlements" in SAP's setup guide): assign the service plan (SAP Cloud ALM API
``standard``) to the subaccount. SAP BTP specific.

Reads ``GET /entitlements/v1/assignments`` for the subaccount (beside the subaccount's read when the playbook
names it by GUID); when the plan is not assigned (or its last assignment failed),
``PUT /entitlements/v1/subaccountServicePlans`` with ``enable`` or ``amount`` according to the plan's category
(flipping once on error 12003), then polls the assignment until its ``entityState`` is OK (the authoritative
state; the job, ``GET /jobs-management/v1/jobs/{id}/status``, is read only when the assignment says
PROCESSING_FAILED: a failure of this job, or of the assignment before it); around the learned end of such waits
the reads look for the plan in the org's marketplace (``GET /v3/service_plans?organization_guids=``) instead,
which proves the assignment and names the plan the instance step needs. An assignment already in progress is
waited for (:attr:`Action.WAIT`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from provisioner import clock
from provisioner.clients.atonce import at_once
from provisioner.clients.btp import GUID_RE, find_assignment, find_entitled_plan, uses_enable
from provisioner.errors import Locked, ProvisionerError, QuotaKindRefused, StepFailed
from provisioner.platform import ServicePlan
from provisioner.playbook.load import Playbook
from provisioner.steps.base import Action, Change, Env, Output, Step, Upstream, first_run
from provisioner.waits.wait import poll, started

IN_PROGRESS_STATES = ("STARTED", "PROCESSING")


@dataclass(frozen=True)
class EntitlementObservation:
    """Either ``plan``: the plan is in the org's marketplace (the entitlement is proven, BTP not read); or the
    subaccount, its assignment of the plan (None: not assigned) and the global account's entitled plan (None: the
    global account has no entitlement for it)."""

    plan: ServicePlan | None = None
    subaccount: Mapping[str, Any] | None = None
    assignment: Mapping[str, Any] | None = None
    entitled: Mapping[str, Any] | None = None

    @property
    def in_progress(self) -> bool:
        return self.assignment is not None and self.assignment.get("entityState") in IN_PROGRESS_STATES


@dataclass(frozen=True)
class _Seen:
    """One read of the wait: the subaccount's assignment of the plan (BTP), or the plan seen in the org's
    marketplace (CF; None: not visible yet, or not read)."""

    assignment: Mapping[str, Any] | None
    plan: ServicePlan | None = None


@dataclass(frozen=True)
class EntitlementOutput(Output):
    """The plan when it was seen in the org's marketplace (else None: the instance step finds it in the space)."""

    plan: ServicePlan | None


class EntitlementStep(Step[EntitlementObservation, EntitlementOutput]):
    """On BTP a plan is in an org's marketplace only when the subaccount has the entitlement, so a plan visible in
    the org (``GET /v3/service_plans?organization_guids=``) proves the assignment without calling BTP at all; only
    otherwise are the BTP entitlements read."""

    name = "entitlement"

    def read(self, env: Env, upstream: Upstream) -> EntitlementObservation:
        """The plan in the org's marketplace, else the BTP assignment. On a first run (:func:`first_run`) the BTP
        assignment first, the authoritative state (a fresh tenant needs it; the marketplace read would only delay
        the assignment: the instance step finds the plan in the org), the marketplace only when BTP refuses."""
        if env.cf is None or env.btp is None or not first_run(env.settings):
            return self._in_org(env) or self._in_btp(env)
        try:
            return self._in_btp(env)
        except ProvisionerError as exc:  # e.g. a cis key that may not read the assignments: the marketplace may
            if getattr(exc, "transient", False):  # still prove the entitlement, as on a re-run
                raise
            found = self._in_org(env)
            if found is None:
                raise
            return found

    def _in_org(self, env: Env) -> EntitlementObservation | None:
        """The plan when it is in the org's marketplace (``GET /v3/service_plans?organization_guids=``; the org
        looked up once with the space step, which runs beside this one), else None."""
        s, cf = env.settings.service, env.cf
        org = cf.org(env.settings.cf_settings.org) if cf is not None else None
        found = cf.find_plan(s.offering, s.plan, org_guid=org["guid"]) if cf is not None and org is not None else None
        if found is None:
            return None
        return EntitlementObservation(plan=ServicePlan(found["guid"], found.get("name", s.plan), s.offering))

    def _in_btp(self, env: Env) -> EntitlementObservation:
        """The subaccount, its assignment of the plan and the global account's entitled plan (BTP)."""
        pb = env.settings
        s = pb.service
        if env.btp is None:
            raise StepFailed("the entitlement step needs the BTP cis key (btp.cis_key)")
        btp, ident = env.btp, pb.btp.subaccount
        if GUID_RE.match(ident):  # the assignment by GUID beside the subaccount's read
            sub, body = at_once(lambda: btp.find_subaccount(ident),
                                lambda: btp.assignments(ident.lower(), s.offering, s.plan))
        else:
            sub = btp.find_subaccount(ident)
            body = btp.assignments(sub["guid"], s.offering, s.plan)
        return EntitlementObservation(None, sub, find_assignment(body, s.offering, s.plan, sub["guid"].lower()),
                                      find_entitled_plan(body, s.offering, s.plan))

    def compare(self, settings: Playbook, observation: EntitlementObservation, upstream: Upstream) -> Change:
        s = settings.service
        if observation.plan is not None:
            return Change.of(Action.NONE, f"plan {s.offering}/{s.plan} is in the org's marketplace: the subaccount "
                                          "has the entitlement")
        assert observation.subaccount is not None
        what = f"plan {s.offering}/{s.plan} for subaccount {observation.subaccount.get('subdomain')}"
        a = observation.assignment
        if a is not None and a.get("entityState") == "OK":
            return Change.of(Action.NONE, f"{what} is already assigned")
        if observation.in_progress:
            assert a is not None
            return Change.of(Action.WAIT, f"{what} is being assigned ({a['entityState']}); wait for it")
        if observation.entitled is None:
            raise StepFailed(f"the global account has no entitlement for {s.offering}/{s.plan} (BTP 30015); "
                             "ask SAP (or the global account administrator) to add it to the global account")
        if a is not None:
            return Change.of(Action.UPDATE, f"{what}: the last assignment failed ({a.get('stateMessage')}); "
                                            "assign again")
        return Change.of(Action.CREATE, f"assign {what}")

    def apply(self, env: Env, observation: EntitlementObservation, change: Change,
              upstream: Upstream) -> EntitlementOutput:
        pb = env.settings
        s = pb.service
        btp = env.btp
        assert btp is not None and observation.subaccount is not None
        guid = observation.subaccount["guid"]
        settings = env.wait_settings(pb.timeouts.entitlement)
        what = f"entitlement of {s.offering}/{s.plan}"
        host = urlsplit(btp.entitlements.base_url).netloc
        location = None
        if change.action is not Action.WAIT:
            plan = observation.entitled or {}
            location, origin = self._assign(env, guid, uses_enable(dict(plan)), plan.get("uniqueIdentifier"))
            settings = replace(settings, origin=origin)

        # the assignment's entityState is the authoritative state (as terraform and crossplane read it): it is
        # polled, not the job; the job is read only to tell a failure from the one before this PUT. Around the
        # learned end of the assignment, the reads look for the plan in the org's marketplace instead (visible once
        # the assignment holds): the instance step then needs no read of it after the wait
        def state_ok(seen: _Seen) -> bool:
            a = seen.assignment
            if seen.plan is not None:
                return True
            if a is not None and a.get("entityState") == "PROCESSING_FAILED":
                job = btp.job_status(location) if location else {}
                if job.get("status") == "IN_PROGRESS":
                    return False  # the failure of an earlier assignment; this one is still running
                if job.get("status") == "FAILED":
                    raise StepFailed(f"entitlement job failed: {job.get('description') or 'no description'}")
                raise StepFailed(f"{what} failed: {a.get('stateMessage') or 'no message'}")
            return a is not None and a.get("entityState") == "OK"

        def read_assignment() -> _Seen:
            return _Seen(find_assignment(btp.assignments(guid, s.offering, s.plan), s.offering, s.plan, guid.lower()))

        def read_plan() -> _Seen:
            found = self._in_org(env)
            return _Seen(None, found.plan if found is not None else None)

        seen = poll(read_assignment, state_ok, settings=settings, what=what,
                    describe=lambda v: f"assignment is {(v.assignment or {}).get('entityState', 'missing')}",
                    kind=lambda _: f"{host} btp entitlement assignment",
                    near=read_plan if env.cf is not None else None)
        return EntitlementOutput(seen.plan)

    def current(self, observation: EntitlementObservation) -> EntitlementOutput | None:
        return EntitlementOutput(observation.plan)

    def _assign(self, env: Env, guid: str, enable: bool, unique_id: str | None) -> tuple[str | None, float]:
        """PUT with ``enable`` or ``amount``; on :class:`~provisioner.errors.QuotaKindRefused` (12003: enable/amount
        mismatch) the other one, once; on :class:`~provisioner.errors.Locked` (30004: another change holds the
        entitlement lock) again with backoff until the step's timeout (tenacity, on :mod:`provisioner.clock`). → (the
        job URL, or None; the job's origin: :func:`provisioner.waits.wait.started` of the PUT that was accepted)."""
        from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential, wait_random

        s = env.settings.service
        btp = env.btp
        assert btp is not None

        def put(enable: bool) -> tuple[str | None, float]:
            if enable:
                return started(lambda: btp.assign(guid, s.offering, s.plan, enable=True, unique_id=unique_id))
            return started(lambda: btp.assign(guid, s.offering, s.plan, amount=s.amount, unique_id=unique_id))

        def put_either() -> tuple[str | None, float]:
            try:
                return put(enable)
            except QuotaKindRefused:
                return put(not enable)

        locked = retry_if_exception(lambda exc: isinstance(exc, Locked))
        wait = wait_exponential(multiplier=0.5, max=10) + wait_random(0, 0.5)
        for attempt in Retrying(retry=locked, stop=stop_after_delay(env.settings.timeouts.entitlement), wait=wait,
                                sleep=clock.sleep, reraise=True):
            with attempt:
                return put_either()
        raise AssertionError("unreachable")
