"""The ``provisioner`` command line (typer). Imports stay inside the commands so ``--help`` starts fast.

Exit codes: 0 success; 1 a step failed; 2 bad input (playbook, flags, key file, unset secret variable).
``plan`` (and ``run --dry-run``) in the manner of ``terraform plan -detailed-exitcode``: 0 nothing to do,
2 changes pending, 1 error (bad input included).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Onboard SAP Cloud ALM tenants to the SAP Cloud ALM API on SAP BTP from YAML playbooks.\n\n"
                       "Exit codes: 0 success, 1 a step failed, 2 bad input "
                       "(plan: 0 no changes, 2 changes pending, 1 error).")
key_app = typer.Typer(no_args_is_help=True, help="Check and test a service key file.")
app.add_typer(key_app, name="key")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _guard(fn, *, bad_input_code: int = EXIT_BAD_INPUT):
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

        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("provisioner").setLevel(logging.DEBUG)


def _live(printer):
    """An ``on_step`` callback that prints the header before the first step, then each step."""
    def on_step(result, step):
        if not result.steps[:-1]:
            printer.header(result)
        printer.step(result, step)
    return on_step


Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log each request (method, URL, status, time; "
                                                                "never headers or bodies).")]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Override every step's wait timeout (seconds).")]


def _load(playbook: Path, timeout: float | None):
    from dataclasses import replace

    from provisioner import playbook as pbmod

    pb = pbmod.load(playbook)
    if timeout is not None:
        if timeout <= 0:
            from provisioner.errors import BadInput

            raise BadInput(f"--timeout {timeout:g}: must be a positive number of seconds")
        pb = replace(pb, timeouts=pbmod.Timeouts(timeout, timeout, timeout))
    return pb


@app.command()
def run(playbook: Annotated[Path, typer.Argument(help="The playbook YAML file.")],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Read only and print the plan (as `plan`).")] = False,
        force: Annotated[bool, typer.Option("--force", help="Replace a local key file that differs from the "
                                                            "service key (the old one is kept as .bak).")] = False,
        timeout: Timeout = None, verbose: Verbose = False) -> None:
    """Run the playbook's steps and print what each did, with its reasons and duration."""
    _verbose(verbose)
    if dry_run:
        return plan(playbook, timeout=timeout, verbose=verbose)
    from provisioner import output, runner

    printer = output.StepPrinter()
    result = _guard(lambda: runner.run(_load(playbook, timeout), force=force, on_step=_live(printer)))
    printer.done(result)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILED)


@app.command()
def plan(playbook: Annotated[Path, typer.Argument(help="The playbook YAML file.")],
         timeout: Timeout = None, verbose: Verbose = False) -> None:
    """Read only; print per step what a run would do and why. Exit 0 no changes, 2 changes pending, 1 error."""
    _verbose(verbose)
    from provisioner import output, runner

    printer = output.StepPrinter()
    result = _guard(lambda: runner.run(_load(playbook, timeout), dry_run=True, on_step=_live(printer)),
                    bad_input_code=EXIT_FAILED)
    printer.done(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)
    raise typer.Exit(2 if result.changes_pending else EXIT_OK)


@app.command()
def validate(playbook: Annotated[Path, typer.Argument(help="The playbook YAML file.")]) -> None:
    """Check the playbook (syntax, schema, names) without calling any API."""
    from provisioner import playbook as pbmod

    pb = _guard(lambda: pbmod.load(playbook))
    typer.echo(f"{playbook}: valid (tenant {pb.tenant.subdomain}, instance {pb.instance_name}, "
               f"key {pb.key_name} -> {pb.download_path})")


@key_app.command("check")
def key_check(file: Annotated[Path, typer.Argument(help="Key file: bare JSON, {\"credentials\": ...} or "
                                                        "`cf service-key` output.")],
              tenant: Annotated[str, typer.Option("--tenant", help="The tenant's identity zone (subdomain).")],
              credential_type: Annotated[str, typer.Option(
                  "--credential-type", help="Expected uaa.credential-type: instance-secret (keys from Cloud "
                                            "Foundry) or binding-secret (subaccount-level route).")]
              = "instance-secret") -> None:
    """The four Landscape Management format checks. Exit 0 all pass, 1 a check failed, 2 unreadable file."""
    from provisioner import keyfile, output

    if credential_type not in ("instance-secret", "binding-secret"):
        raise _fail(f"--credential-type {credential_type!r}: use instance-secret or binding-secret", EXIT_BAD_INPUT)
    creds = _guard(lambda: keyfile.read_key_file(file))
    checks = keyfile.check_key(creds, tenant, (credential_type,))
    output.print_checks(str(file), checks)
    raise typer.Exit(EXIT_OK if all(c.passed for c in checks) else EXIT_FAILED)


@key_app.command("test")
def key_test(file: Annotated[Path, typer.Argument(help="Key file (any of the formats `key check` reads).")],
             verbose: Verbose = False) -> None:
    """Sign in with the key (client credentials) and check the token's Cloud ALM scopes; prints no secret."""
    _verbose(verbose)
    from provisioner import keyfile, keytest, output

    creds = _guard(lambda: keyfile.read_key_file(file))
    checks = _guard(lambda: keytest.test_key(creds))
    output.print_checks(str(file), checks)
    raise typer.Exit(EXIT_OK if all(c.passed for c in checks) else EXIT_FAILED)


@key_app.command("rotate")
def key_rotate(playbook: Annotated[Path, typer.Argument(help="The playbook whose key to rotate.")],
               verbose: Verbose = False) -> None:
    """Create a new key, download and test it, then delete the old one(s). A failure leaves a working key."""
    _verbose(verbose)
    from provisioner import lifecycle

    _guard(lambda: lifecycle.rotate(_load(playbook, None), typer.echo))


@app.command()
def revoke(playbook: Annotated[Path, typer.Argument(help="The playbook whose key(s) to delete.")],
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
           verbose: Verbose = False) -> None:
    """Delete the service key(s) the playbook manages, after a confirmation (--yes skips it)."""
    _verbose(verbose)
    from provisioner import lifecycle

    def confirm(names: list[str]) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise _fail("revoke deletes " + ", ".join(names) + "; pass --yes (no prompt without a terminal)",
                        EXIT_BAD_INPUT)
        return typer.confirm("Delete service key(s) " + ", ".join(names) + "?", default=False)

    _guard(lambda: lifecycle.revoke(_load(playbook, None), confirm, typer.echo))


@app.command()
def sim(host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 0,
        landscape: Annotated[Path | None, typer.Option(help="Landscape YAML (default: the built-in one).")] = None,
        job_seconds: Annotated[float, typer.Option(help="How long async jobs take (seconds).")] = 1.0,
        info_dir: Annotated[Path | None, typer.Option(help="Write sim.env and cis-key.json here once ready.")]
        = None) -> None:
    """Run the landscape simulator (CF v3, UAA, XSUAA, BTP accounts/entitlements) until Ctrl-C or SIGTERM."""
    from provisioner.sim.cli import serve

    raise typer.Exit(_guard(lambda: serve(host, port, str(landscape) if landscape else None, job_seconds,
                                          str(info_dir) if info_dir else None)))


def main() -> None:
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback, no secret
        typer.echo(f"error: unexpected {type(exc).__name__}; please report it (re-run with --verbose for the "
                   "requests made)", err=True)
        sys.exit(EXIT_FAILED)
