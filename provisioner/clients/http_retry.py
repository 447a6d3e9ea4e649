"""The HTTP layer's retries (urllib3 ``Retry``), bounded: every wait honours what the API asked for
(``Retry-After``, as seconds or an HTTP date, and ``X-RateLimit-Reset``) but is never longer than
``http.max_retry_wait``, nor past the request's or the run's time limit (:mod:`provisioner.clients.http_watch`); a wait
that would be is not taken: :class:`~provisioner.errors.Throttled` says "the API asked to wait N s; giving up
after M s" and why. Waits are taken on :mod:`provisioner.clock`, as every wait of the tool is.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any, Self

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from provisioner import clock
from provisioner.clients.http_watch import current
from provisioner.errors import Throttled


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


class BoundedRetry(Retry):
    """urllib3 ``Retry`` that also honours ``X-RateLimit-Reset`` on a 429 and bounds every wait.

    CF sends the reset as Unix epoch seconds, BTP (per its spec) as epoch milliseconds; values that are not in the
    future are ignored. Raises :class:`~provisioner.errors.Throttled` instead of a wait longer than the cap or the
    time left, and :class:`~provisioner.errors.TimedOut` (:meth:`Exchange.timed_out`) instead of a retry after the
    request's time limit.
    """

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds from ``Retry-After`` (whole seconds or an HTTP date), as asked: not capped here (newer urllib3
        caps at 6 hours), so that the message names what the API asked for. Raises ``InvalidHeader``."""
        text = retry_after.strip()
        if text.isascii() and text.isdigit():
            return float(text) if len(text) < 300 else float("inf")
        parsed = email.utils.parsedate_tz(text)
        if parsed is None:
            raise InvalidHeader(f"Invalid Retry-After header: {text[:40]}")
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())

    def get_retry_after(self, response: Any) -> float | None:  # noqa: D102 - urllib3 hook
        try:
            seconds = super().get_retry_after(response)
            if seconds is not None:
                return float(seconds)
        except InvalidHeader:  # neither a number of seconds nor an HTTP date: back off instead
            return None
        reset = response.headers.get("X-RateLimit-Reset") or response.headers.get("X-Ratelimit-Reset")
        reset = (reset or "").strip()
        if response.status == 429 and reset.isascii() and reset.isdigit() and len(reset) < 20:
            value = float(int(reset))
            if value > 10**11:  # epoch milliseconds
                value = value / 1000
            wait = value - time.time()
            if wait > 0:
                return wait
        return None

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Self:
        """urllib3's hook before a retry: none once the request's time limit passed."""
        exchange = current()
        if exchange is not None and (exchange.expired or exchange.left() <= 0):
            raise exchange.timed_out()
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:  # noqa: D102 - urllib3 hook: a bounded wait on provisioner.clock
        asked = self.get_retry_after(response) if self.respect_retry_after_header and response is not None else None
        wait = asked if asked else self.get_backoff_time()
        exchange = current()
        if exchange is not None and wait > 0:
            left = exchange.left()
            if asked and (asked > exchange.max_wait or asked > left):
                if asked > exchange.max_wait:
                    why = f"http.max_retry_wait is {exchange.max_wait:g} s: re-run later"
                elif exchange.by_run and exchange.run is not None:
                    why = f"{exchange.run.describe()} ends before that: re-run later, or raise --timeout"
                else:
                    why = f"http.request_timeout is {exchange.limit:g} s: re-run later"
                took = clock.monotonic() - exchange.started
                raise Throttled(response.status, None, "Throttled", f"the API asked to wait {_seconds(asked)} s; "
                                f"giving up after {_seconds(took)} s", exchange.method, exchange.display, why,
                                too_long=True)
            if wait > left:
                raise exchange.timed_out()
        if wait > 0:
            clock.sleep(wait)
