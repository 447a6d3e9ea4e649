"""The playbook's limits, declared once (part of the format of :mod:`provisioner.playbook.model`): ``timeouts``
(each step's wait, and the whole run of a tenant) and ``http`` (the transport: timeouts, retries, TLS, proxy, and
the bounds on what a server may make the tool do: wait, read, page). Times are seconds, sizes bytes.
"""

from __future__ import annotations

from pydantic import Field

from provisioner.playbook.strictinput import Section

#: the longest wait a step may be given, in seconds (a week): longer is a typo, and would overflow timers
MAX_WAIT_SECONDS = 7 * 24 * 3600




class Timeouts(Section):
    """Per-step timeouts for async waits, and the whole run's, in seconds."""

    entitlement: float = Field(default=600, gt=0, le=MAX_WAIT_SECONDS,
                               description="Seconds the entitlement may take to be assigned.")
    instance: float = Field(default=1800, gt=0, le=MAX_WAIT_SECONDS,
                            description="Seconds the instance may take to be created or updated.")
    key: float = Field(default=600, gt=0, le=MAX_WAIT_SECONDS,
                       description="Seconds the service key may take to be created.")
    run: float | None = Field(default=None, gt=0, le=MAX_WAIT_SECONDS, description=(
        "Seconds the whole run of this tenant may take: every request, wait and retry ends by then, the step "
        "timeouts above still apply within it (--timeout sets it). Default: no limit beyond the step timeouts and "
        "the http limits."))


class HttpConfig(Section):
    """Transport settings."""

    connect_timeout: float = Field(default=5, gt=0, le=300, description="Seconds to wait for a connection.")
    read_timeout: float = Field(default=30, gt=0, le=3600, description="Seconds to wait for a response.")
    retries: int = Field(default=5, ge=0, le=20, description=(
        "Retries of a request that failed on the way (connection errors, 429, 5xx) before giving up."))
    ca_bundle: str | None = Field(default=None, description=(
        "CA bundle file for TLS verification (default: REQUESTS_CA_BUNDLE or SSL_CERT_FILE from the environment, "
        "else the system's)."))
    proxy: str | None = Field(default=None, description=(
        "Proxy URL for every request, e.g. http://proxy.example.com:8080 (default: HTTPS_PROXY / HTTP_PROXY from "
        "the environment, minus NO_PROXY hosts)."))
    request_timeout: float = Field(default=300, gt=0, le=86400, description=(
        "Seconds one request may take in all: connection, headers, body, its retries and their waits (a server "
        "that drips its answer is cut off)."))
    max_retry_wait: float = Field(default=120, ge=0, le=86400, description=(
        "The longest wait a Retry-After or X-RateLimit-Reset may ask for, in seconds; a longer one is not taken "
        "(the request fails: 'the API asked to wait N s')."))
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024, le=2**31, description=(
        "The largest answer read, in bytes on the wire and after gzip or deflate inflating; a larger one is "
        "refused before it is parsed."))
    max_pages: int = Field(default=1000, ge=1, le=1_000_000, description=(
        "The most pages read of one list; a list with more, or whose next link or page token repeats, fails."))
