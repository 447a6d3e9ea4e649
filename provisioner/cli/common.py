"""What the command line's modules share: one-line errors and their exit codes (``_fail``, ``_guard``), the
``--verbose`` and ``--timeout`` options, and loading one playbook for the commands that act on one key.

Imported by :mod:`provisioner.cli.app` after it chose typer's output style; imports stay inside the functions so
``--help`` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from provisioner.engine.runner import RunResult
    from provisioner.playbook.model import Playbook

T = TypeVar("T")

ENV = "PROVISIONER_"
"""Prefix of the environment variables that set the common flags (``PROVISIONER_PARALLEL`` for ``--parallel``,
...); a flag given on the command line wins."""


def _fail(message: str, code: int) -> typer.Exit:
    from provisioner.safetext import shown

    typer.echo(f"error: {shown(message)}", err=True)
    return typer.Exit(code)


def _say(text: str) -> None:
    """Print a line that may carry server text (a key's name, a check's message): made
    :func:`provisioner.safetext.shown` first (no secret in play, no control character)."""
    from provisioner.safetext import shown

    typer.echo(shown(text, None))


def _guard(fn: Callable[[], T], *, bad_input_code: int = EXIT_BAD_INPUT) -> T:
    """Run ``fn``; turn our errors into one line on stderr and their exit code, never a traceback."""
    from provisioner.errors import BadInput, ProvisionerError

    try:
        return fn()
    except BadInput as exc:
        raise _fail(str(exc), bad_input_code) from None
    except ProvisionerError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; re-run to converge (in-flight operations are adopted)", 130) from None


def _verbose(on: bool) -> None:
    if on:
        import logging

        from provisioner.safetext import ShownFilter

        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
        for handler in logging.getLogger().handlers:  # any logger's line: no secret, no control character
            if not any(isinstance(f, ShownFilter) for f in handler.filters):
                handler.addFilter(ShownFilter())
        logging.getLogger("provisioner").setLevel(logging.DEBUG)


Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log each request (method, URL, status, time; "
                                                                "never headers or bodies).")]
Timeout = Annotated[float | None, typer.Option("--timeout", envvar=ENV + "TIMEOUT", help=(
    "Seconds each tenant's whole run may take: every request, wait and retry ends by then (the playbook's step "
    "timeouts still apply within it)."))]


def _with_timeout(pb: Playbook, timeout: float | None) -> Playbook:
    """``pb`` with ``timeouts.run`` set to ``timeout`` (None: as it is)."""
    if timeout is None:
        return pb
    return pb.model_copy(update={"timeouts": pb.timeouts.model_copy(update={"run": timeout})})


def _check_timeout(timeout: float | None) -> None:
    from provisioner.playbook.model import MAX_WAIT_SECONDS

    if timeout is not None and not 0 < timeout <= MAX_WAIT_SECONDS:  # also refuses nan and inf
        from provisioner.errors import BadInput

        raise BadInput(f"--timeout {timeout:g}: must be a number of seconds above 0 and at most {MAX_WAIT_SECONDS}")


def _load(playbook: Path, timeout: float | None) -> Playbook:
    """One playbook of one tenant (for commands that act on one key)."""
    from provisioner.playbook import load as pbmod

    _check_timeout(timeout)
    return _with_timeout(pbmod.load(playbook), timeout)


def _load_all(playbooks: list[Path], timeout: float | None) -> list[Playbook]:
    """Every tenant of every playbook, all validated (secrets resolved too) before anything runs."""
    from provisioner.clients.http_guards import ca_bundle
    from provisioner.engine.credentials import check_key_sources, check_login_source
    from provisioner.engine.runner import resolve_secrets
    from provisioner.fleet.check import check_fleet
    from provisioner.playbook import load as pbmod

    _check_timeout(timeout)
    pbs = [_with_timeout(pb, timeout) for path in playbooks for pb in pbmod.load_all(path)]
    check_fleet(pbs)
    for pb in pbs:
        resolve_secrets(pb)
        check_login_source(pb)
        check_key_sources(pb)
        if pb.http.ca_bundle:
            ca_bundle(pb.http.ca_bundle)
    return pbs


Playbooks = Annotated[list[Path], typer.Argument(help="Playbook YAML file(s); each may list several tenants.")]
Parallel = Annotated[int, typer.Option("--parallel", "-p", min=1, max=256, envvar=ENV + "PARALLEL",
                                       help="Tenants run at once.")]


def _run_exit(results: Sequence[RunResult]) -> int:
    """``run``: 0 all succeeded, 2 a tenant could not run because of bad input
    (:class:`provisioner.fleet.tenants.BadInputResult`), else 1."""
    from provisioner.fleet.tenants import BadInputResult

    if any(isinstance(r, BadInputResult) for r in results):
        return EXIT_BAD_INPUT
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def _plan_exit(results: Sequence[RunResult]) -> int:
    """``plan`` (``run --dry-run``): 1 an error (bad input included), 2 changes pending, 0 nothing to do."""
    if not all(r.ok for r in results):
        return EXIT_FAILED
    return 2 if any(r.has_changes for r in results) else EXIT_OK
