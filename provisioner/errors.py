"""Errors and the exit codes they map to.

Exit codes (documented in README.md):
  0  success (for `plan`: nothing to do)
  1  a step failed (an API refused, a wait timed out, a check failed)
  2  bad input: a playbook, a flag, a key file, an unset secret variable (for `plan`: changes pending)

Every error's text is one line a person can act on. None of them carries a secret: messages are built from
names, codes and API `detail` texts only, never from request bodies, headers or credentials; and whatever a server
echoed is removed and escaped when the error is made (:func:`provisioner.safetext.shown`).
"""

from __future__ import annotations

from typing import Any


def cap(text: str) -> str:
    """``text`` with every run of more than 120 characters without a space (a huge value echoed: a name, a path, a
    URL) cut to its first 70 and last 40 characters with "…" between (the end of a URL or path names what it is),
    so that no line is ever kilobytes long (:func:`provisioner.safetext.clip` does the same)."""
    from provisioner.safetext import cut_runs

    return cut_runs(text)


def clipped(value: str, limit: int = 48) -> str:
    """``repr(value)`` for a message, its first ``limit`` characters and "…" when longer (a name a user wrote: a
    username, a client id), so that the message's line stays short."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "…"


def shown(text: Any, limit: int | None = 1000) -> str:
    """:func:`provisioner.safetext.shown` (imported when first needed: ``import provisioner`` stays light)."""
    from provisioner.safetext import shown as safe

    return safe(text, limit)


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class ProvisionerError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with when this error ends a command. The message is made
    :func:`~provisioner.safetext.shown` (no secret in play, no control character, at most 1,000 characters)."""

    exit_code = EXIT_FAILED

    def __init__(self, *args: object):
        if args and isinstance(args[0], str):
            args = (shown(args[0]), *args[1:])
        super().__init__(*args)


EXIT_INTERRUPTED = 130


class Interrupted(ProvisionerError):
    """Ctrl-C or SIGTERM (:func:`provisioner.clock.cancel`): no new request is sent and waits are abandoned; what
    was started goes on in the landscape, and a re-run adopts it (exit code 130)."""

    exit_code = EXIT_INTERRUPTED


class BadInput(ProvisionerError):
    """Bad playbook, flag, key file or secret reference: exit code 2, one line naming the file, line and fix."""

    exit_code = EXIT_BAD_INPUT


class StepFailed(ProvisionerError):
    """A step could not reach its desired state (exit code 1)."""


class WaitTimeout(StepFailed):
    """An async operation (CF job, ``last_operation``, entitlement state) did not finish within its timeout."""


class ApiError(StepFailed):
    """An HTTP API answered with an error.

    Attributes: ``status`` (HTTP status), ``code`` (CF ``errors[0].code`` or BTP ``error.code``, or None),
    ``title`` (CF ``errors[0].title`` or None), ``detail`` (the API's message), ``method`` and ``url`` of the
    request (the URL never carries credentials: tokens travel in headers and form bodies only). Title and detail
    are server text: made :func:`~provisioner.safetext.shown` (title at most 100 characters, detail 500).
    """

    def __init__(self, status: int, code: int | None, title: str | None, detail: str, method: str, url: str,
                 hint: str | None = None):
        self.status = status
        self.code: int | str | None = code if isinstance(code, int) and not isinstance(code, bool) else \
            shown(code, 40) if isinstance(code, str) else None
        self.title = shown(title, 100) if title is not None else None
        self.detail = shown(detail, 500)
        self.method = method
        self.url = url
        self.hint = hint
        super().__init__(self._text())

    def _text(self) -> str:
        ident = " ".join(str(x) for x in (self.title, self.code) if x is not None)
        text = f"{self.method} {self.url} -> HTTP {self.status}"
        if ident:
            text += f" {ident}"
        if self.detail:
            text += f": {self.detail}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    @property
    def transient(self) -> bool:
        """True when doing the step again from its read may succeed (the request may or may not have been applied;
        re-reading adopts what exists): :class:`Transient`, a :class:`Throttled` 429 that outlasted the HTTP
        layer's retries, :class:`TokensRefused`. The client boundary decides which class an answer is
        (:mod:`provisioner.clients.http_errors`); a plain ApiError is not transient."""
        return False

    def with_hint(self, hint: str) -> ApiError:
        self.hint = hint
        self.args = (shown(self._text()),)
        return self


# ---- what an API answered, typed once at the client boundary (provisioner.clients.http_errors): each an ApiError
# ---- carrying the status, code, title, detail, method and URL, so that code catching ApiError keeps working


class NotFound(ApiError):
    """404 Not Found (or 410 Gone): the resource is not there (deleted, never made, or not visible to the
    credentials)."""


class Conflict(ApiError):
    """409 Conflict: the request conflicts with the resource's state."""


class NameTaken(Conflict):
    """A create refused because the name is taken: Cloud Foundry's 422 "The service instance name is taken",
    "Name must be unique per organization", "Key binding names must be unique"; a 409 to a create (SAP Service
    Manager, the BTP Accounts service). Another run made it meanwhile: read it and adopt it."""


class Locked(Conflict):
    """BTP entitlements 30004 (a 400): another entitlement change holds the subaccount's lock; sent again until
    the step's timeout."""


class QuotaKindRefused(ApiError):
    """BTP entitlements 12003 (a 400): the plan takes the other of ``enable`` and ``amount`` than was sent (its
    category decides)."""


class Unauthorized(ApiError):
    """401 Unauthorized: the credentials or the token were refused."""


class Forbidden(ApiError):
    """403 Forbidden: the signed-in identity lacks a role or scope."""


class Transient(ApiError):
    """A failure that doing the step again from its read may get past: 500, an operation on the resource in
    progress (422 "... operation in progress"), and the subclasses. Transient."""

    @property
    def transient(self) -> bool:
        return True


class Unavailable(Transient):
    """502, 503 or 504 after the HTTP layer's retries: a gateway or the service is unavailable for now."""


class InProgress(Transient):
    """Cloud Foundry 60016 ``CF-AsyncServiceInstanceOperationInProgress`` (409): another operation runs on the
    service instance."""


class NoAnswer(ApiError):
    """No answer at all (status 0): nothing listens at the address (connection refused; not transient: trying
    again will not change that)."""


class Disconnected(NoAnswer, Transient):
    """No (whole) answer after the HTTP layer's retries (status 0): the connection failed or was lost, or TLS
    verification failed. Transient."""


class TlsFailed(Disconnected):
    """TLS verification failed (status 0): the server's certificate is not trusted (``http.ca_bundle``), or it did
    not take a client certificate (an x509 key's mTLS sign-in). Transient, as every lost connection."""


class Throttled(ApiError):
    """429 Too Many Requests after the HTTP layer's retries (transient: the step is done again from its read);
    or, with ``too_long``, a 429 or 503 that asked to wait longer than the cap (``http.max_retry_wait``) or than
    the request's or the run's time limit allows: the wait was not taken, and it is not transient."""

    def __init__(self, *args: Any, too_long: bool = False, **kwargs: Any):
        self.too_long = too_long
        super().__init__(*args, **kwargs)

    @property
    def transient(self) -> bool:
        return not self.too_long


# ---- the transport's bounds (provisioner.clients.http): each a StepFailed or an ApiError, so that code catching those
# ---- keeps working; none is transient (doing the step again would meet the same bound)


class RunTimeout(StepFailed):
    """The run's time limit (``--timeout``, ``timeouts.run``) ran out: no wait, retry or request goes past it."""


class UnsafeLink(StepFailed):
    """A URL the tool was to request was refused before any request: its parts read differently by urllib3 and
    by urllib (a backslash, userinfo, a control character or whitespace, an odd port), or credentials would go to
    another origin than the one that issued them."""


class MalformedAnswer(ApiError):
    """An API answered with an expected status but a body that is not what the tool reads (not JSON, nested too
    deep, or a field missing or of the wrong type: :mod:`provisioner.clients.answers`). One line naming the request,
    what
    was expected and the fields: ``GET https://api.example.com/v3/jobs/x answered a malformed job: state: not a
    string``. ``what`` is what was expected ("job"); ``problems`` the fields and what is wrong with each. Exit code 1;
    not transient (asking again gets the same answer)."""

    def __init__(self, status: int, method: str, url: str, what: str, problems: str):
        self.what = what
        super().__init__(status, None, "MalformedAnswer", f"answered a malformed {what}: {problems}", method, url)

    def _text(self) -> str:
        text = f"{self.method} {self.url} {self.detail}"
        return f"{text} ({self.hint})" if self.hint else text

    @property
    def transient(self) -> bool:
        return False


class TimedOut(ApiError):
    """No complete answer within the request's total time limit (``http.request_timeout``) or the run's: a server
    that drips its headers or body, or never answers."""

    @property
    def transient(self) -> bool:
        return False


class TooLarge(ApiError):
    """An answer larger than ``http.max_body_bytes`` (on the wire or inflated from gzip/deflate): refused before it
    was parsed."""

    @property
    def transient(self) -> bool:
        return False


class TokensRefused(Unauthorized):
    """An API answered 401 to several tokens in a row, each just issued by a token endpoint that accepted the
    credentials: tokens that expire or are revoked faster than they are used (a token storm), not refused
    credentials. Transient: the step is done again from its read."""

    @property
    def transient(self) -> bool:
        return True


class PageLoop(StepFailed):
    """A paginated list that does not end: a ``next`` link or page token seen before, or more pages than
    ``http.max_pages``."""


#: a 2xx body that is not what the tool reads (:class:`MalformedAnswer`)
Malformed = MalformedAnswer
