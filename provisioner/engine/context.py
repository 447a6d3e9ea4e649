"""A run's context: what one run, or the runs of one fleet, share, made by the runner (one tenant) or the fleet
(:func:`provisioner.fleet.tenants.fan_out`, one per distinct transport settings) and passed explicitly to what
signs in and reads:

- ``pool``: the transport (:class:`~provisioner.clients.http.SessionPool`: sessions, in-flight caps, settings);
- ``share``: sign-ins for identical credentials and lookups read once (:class:`~provisioner.clients.fleetshare.
  FleetShare`);
- ``job_times``: how long each kind of async job took (:class:`~provisioner.waits.jobtimes.JobTimes`), which the
  waits plan by (README "Waits and timeouts"), loaded from and saved to the job-times cache file
  (:func:`provisioner.waits.jobtimes.store_path`; ``PROVISIONER_JOB_TIMES=off``: none) by :meth:`RunContext.close`.
"""

from __future__ import annotations

from provisioner.clients.fleetshare import FleetShare
from provisioner.clients.http import HttpSettings, SessionPool
from provisioner.waits.jobtimes import JobTimes, store_path


class RunContext:
    """What a run or a fleet shares (see the module). ``close()`` closes the sessions and saves the job times."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.pool = SessionPool(settings)
        self.share = FleetShare()
        #: the learned job durations (learned scheduling is on by default: README "Waits and timeouts")
        self.job_times = JobTimes(store=store_path())

    @property
    def settings(self) -> HttpSettings:
        """The transport settings."""
        return self.pool.settings

    def close(self) -> None:
        """Close the sessions and keep the job durations learned in the cache file (:meth:`JobTimes.save`)."""
        try:
            self.pool.close()
        finally:
            self.job_times.save()
