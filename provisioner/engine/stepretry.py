"""A step (or the sign-in) done again from its read on a transient failure, and the one line a failure shows."""

from __future__ import annotations

from typing import Any

from provisioner import clock
from provisioner.engine.explain import hint
from provisioner.errors import ApiError, ProvisionerError, RunTimeout

STEP_ATTEMPTS = 8


def explained(exc: ProvisionerError, step: str) -> str:
    """The error's one line, with the fix for API errors (:mod:`provisioner.engine.explain`)."""
    if isinstance(exc, ApiError) and exc.hint is None and (fix := hint(exc, step)):
        exc.with_hint(fix)
    return str(exc)


def transient(exc: BaseException) -> bool:
    """Whether a step that raised ``exc`` is done again from its read (see :attr:`ApiError.transient`); a POST is
    so never repeated blindly: re-reading adopts whatever the lost request created."""
    return isinstance(exc, ApiError) and exc.transient


def _in_time(state: Any) -> None:
    """Before the pause of another attempt: when it would end after the run's time limit, stop with the last
    failure and say so (:class:`~provisioner.errors.RunTimeout`)."""
    pause = state.next_action.sleep if state.next_action is not None else 0
    limit = clock.current_deadline()
    if limit is not None and pause > clock.remaining():
        raise RunTimeout(f"{state.outcome.exception()} ({limit.describe()} leaves no time to do it again; re-run "
                         "or raise --timeout)")


def retrying() -> Any:
    """Up to 8 attempts on a transient failure, exponential backoff with jitter from 0.2 s to 5 s (tenacity on
    :mod:`provisioner.clock`), none after the run's time limit (:func:`provisioner.clock.deadline`)."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

    wait = wait_exponential(multiplier=0.2, max=5) + wait_random(0, 0.2)
    return Retrying(stop=stop_after_attempt(STEP_ATTEMPTS), wait=wait, retry=retry_if_exception(transient),
                    sleep=clock.sleep, before_sleep=_in_time, reraise=True)
