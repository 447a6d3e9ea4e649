"""The ``provisioner`` command line (typer). Imports stay inside the commands so ``--help`` starts fast.

Exit codes: 0 success; 1 a step failed; 2 bad input (playbook, flags, key file, unset secret variable).
``plan`` (and ``run --dry-run``) in the manner of ``terraform plan -detailed-exitcode``: 0 nothing to do,
2 changes pending, 1 error (bad input included).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

if not sys.stdout.isatty():  # rich's boxes are for people at a terminal; without them typer starts ~40% faster
    os.environ.setdefault("TYPER_USE_RICH", "0")

import typer  # noqa: E402 - after the choice above, which typer reads when imported

from provisioner.cli_fleet import ResumeOpt, ShardOpt, SmBudgetOpt, fleet_app, narrow
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Onboard SAP Cloud ALM tenants to the SAP Cloud ALM API on SAP BTP from YAML playbooks.\n\n"
                       "Exit codes: 0 success, 1 a step failed, 2 bad input "
                       "(plan: 0 no changes, 2 changes pending, 1 error).")
key_app = typer.Typer(no_args_is_help=True, help="Check, test and export a service key file.")
app.add_typer(key_app, name="key")
app.add_typer(fleet_app, name="fleet")



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


Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log each request (method, URL, status, time; "
                                                                "never headers or bodies).")]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Override every step's wait timeout (seconds).")]


def _with_timeout(pb, timeout: float | None):
    from provisioner.playbook import Timeouts

    if timeout is None:
        return pb
    return pb.model_copy(update={"timeouts": Timeouts(entitlement=timeout, instance=timeout, key=timeout)})


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and timeout <= 0:
        from provisioner.errors import BadInput

        raise BadInput(f"--timeout {timeout:g}: must be a positive number of seconds")


def _load(playbook: Path, timeout: float | None):
    """One playbook of one tenant (for commands that act on one key)."""
    from provisioner import playbook as pbmod

    _check_timeout(timeout)
    return _with_timeout(pbmod.load(playbook), timeout)


def _load_all(playbooks: list[Path], timeout: float | None) -> list:
    """Every tenant of every playbook, all validated (secrets resolved too) before anything runs."""
    from provisioner import playbook as pbmod
    from provisioner.runner import resolve_secrets

    _check_timeout(timeout)
    pbs = [_with_timeout(pb, timeout) for path in playbooks for pb in pbmod.load_all(path)]
    for pb in pbs:
        resolve_secrets(pb)
    return pbs


Playbooks = Annotated[list[Path], typer.Argument(help="Playbook YAML file(s); each may list several tenants.")]
Parallel = Annotated[int, typer.Option("--parallel", "-p", min=1, max=256, help="Tenants run at once.")]
MaxInFlight = Annotated[int, typer.Option("--max-in-flight", min=1, max=256,
                                          help="Cap on requests in flight to one API host, over all tenants.")]
Report = Annotated[Path | None, typer.Option("--report", help="Write a JSON report (per tenant and step: action, "
                                                             "reasons, seconds, requests, error).")]
Junit = Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report for CI systems.")]
Output = Annotated[str, typer.Option("--output", "-o", help="text (a live display on a terminal, timestamped "
                                                            "lines otherwise) or json (the report on stdout).")]


def _execute(playbooks, *, dry_run: bool, force: bool, timeout, parallel: int, max_in_flight: int, report, junit,
             output: str, shard: str | None = None, resume: Path | None = None, sm_budget: float = 50.0):
    """Load every playbook (bad input: nothing runs), run or plan all tenants, print and write the reports."""
    from provisioner import fleet, reports
    from provisioner.output import printer_for

    if output not in ("text", "json"):
        raise _fail(f"--output {output!r}: use text or json", EXIT_BAD_INPUT if not dry_run else EXIT_FAILED)
    pbs = _guard(lambda: narrow(_load_all(playbooks, timeout), shard, resume),
                 bad_input_code=EXIT_FAILED if dry_run else EXIT_BAD_INPUT)
    printer = printer_for(output)
    try:
        results = fleet.run_many(pbs, parallel=parallel, dry_run=dry_run, force=force,
                                 max_in_flight_per_host=max_in_flight, sm_creates_per_minute=sm_budget,
                                 on_step=printer.step, on_start=printer.start)
    finally:
        printer.done(results if "results" in locals() else [])
    if output == "json":
        typer.echo(reports.to_json(results), nl=False)
    if report:
        reports.write_json(results, report)
    if junit:
        reports.write_junit(results, junit)
    return results


@app.command()
def run(playbooks: Playbooks,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Read only and print the plan (as `plan`).")] = False,
        force: Annotated[bool, typer.Option("--force", help="Replace a local key file that differs from the "
                                                            "service key (the old one is kept as .bak).")] = False,
        parallel: Parallel = 4, max_in_flight: MaxInFlight = 16, report: Report = None, junit: Junit = None,
        output: Output = "text", timeout: Timeout = None, shard: ShardOpt = None, resume: ResumeOpt = None,
        sm_creates_per_minute: SmBudgetOpt = 50.0, verbose: Verbose = False) -> None:
    """Converge every tenant: each step reads, compares and writes only what differs. Exit 0 all succeeded."""
    _verbose(verbose)
    results = _execute(playbooks, dry_run=dry_run, force=force, timeout=timeout, parallel=parallel,
                       max_in_flight=max_in_flight, report=report, junit=junit, output=output, shard=shard,
                       resume=resume, sm_budget=sm_creates_per_minute)
    if dry_run:
        raise typer.Exit(_plan_exit(results))
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_FAILED)


def _plan_exit(results) -> int:
    if not all(r.ok for r in results):
        return EXIT_FAILED
    return 2 if any(r.has_changes for r in results) else EXIT_OK


@app.command()
def plan(playbooks: Playbooks, parallel: Parallel = 4, max_in_flight: MaxInFlight = 16, report: Report = None,
         junit: Junit = None, output: Output = "text", timeout: Timeout = None, shard: ShardOpt = None,
         resume: ResumeOpt = None, verbose: Verbose = False) -> None:
    """Read only; print per step what a run would do and why. Exit 0 no changes, 2 changes pending, 1 error."""
    _verbose(verbose)
    results = _execute(playbooks, dry_run=True, force=False, timeout=timeout, parallel=parallel,
                       max_in_flight=max_in_flight, report=report, junit=junit, output=output, shard=shard,
                       resume=resume)
    raise typer.Exit(_plan_exit(results))


@app.command()
def doctor(playbook: Annotated[Path, typer.Argument(help="The playbook YAML file.")],
           verbose: Verbose = False) -> None:
    """Check that every credential source resolves and the identities have the roles SAP's setup guide requires
    (Global Account Administrator, Org Manager, Space Developer), changing nothing. Exit 0 all pass, 1 not."""
    _verbose(verbose)
    from provisioner import doctor as doc

    def say(check) -> None:
        typer.echo(f"{'pass' if check.passed else 'FAIL'}  {check.name}: {check.message}")

    ok = _guard(lambda: doc.diagnose(_load(playbook, None), say))
    raise typer.Exit(EXIT_OK if ok else EXIT_FAILED)


@app.command()
def validate(playbooks: Playbooks) -> None:
    """Check the playbook(s) (syntax, schema, names) without calling any API or reading secrets."""
    from provisioner import playbook as pbmod

    for path in playbooks:
        for pb in _guard(lambda path=path: pbmod.load_all(path)):
            typer.echo(f"{path}: valid (tenant {pb.tenant.subdomain}, route {pb.route_name}, instance "
                       f"{pb.instance_name}, key {pb.key_name} -> {pb.download_path})")


@key_app.command("check")
def key_check(file: Annotated[Path, typer.Argument(help="The key file to upload to Landscape Management: the bare "
                                                        "JSON object.")],
              tenant: Annotated[str, typer.Option("--tenant", help="The tenant's identity zone (subdomain).")],
              credential_type: Annotated[str, typer.Option(
                  "--credential-type", help="Expected uaa.credential-type: instance-secret (keys from Cloud "
                                            "Foundry) or binding-secret (subaccount-level route).")]
              = "instance-secret") -> None:
    """The four Landscape Management format checks, as strict as its upload: one bare JSON object (no
    {"credentials": ...} wrapper, no `cf service-key` text, no BOM). Exit 0 all pass, 1 a check failed, 2 the file
    is unreadable or not strict JSON (duplicate names, NaN, trailing data, ...)."""
    from provisioner import keyfile, output

    if credential_type not in ("instance-secret", "binding-secret"):
        raise _fail(f"--credential-type {credential_type!r}: use instance-secret or binding-secret", EXIT_BAD_INPUT)
    checks = _guard(lambda: keyfile.check_key_file(file, tenant, (credential_type,)))
    output.print_checks(str(file), checks)
    raise typer.Exit(EXIT_OK if all(c.passed for c in checks) else EXIT_FAILED)


EXPORT_TARGETS = ("landscape-management", "alm-setup")


@key_app.command("export")
def key_export(file: Annotated[Path, typer.Argument(help="Key file: bare JSON, {\"credentials\": ...} (CF /details "
                                                         "or a Service Manager binding) or `cf service-key` output.")],
               target: Annotated[str, typer.Option(
                   "--for", help="landscape-management: write the bare object to -o OUT (mode 0600), the file "
                                 "Landscape Management uploads; alm-setup: print the /SDF/ALM_SETUP fields "
                                 "(never the secret).")] = "landscape-management",
               out: Annotated[Path | None, typer.Option("--out", "-o", help="The file to write (landscape-management; "
                                                                            "required: secrets never go to the "
                                                                            "terminal).")] = None,
               force: Annotated[bool, typer.Option("--force", help="Replace a different OUT (kept as a .bak).")]
               = False) -> None:
    """Convert a key file for where it goes. Exit 0 done, 1 OUT differs (use --force), 2 bad input."""
    from provisioner import keyfile

    if target not in EXPORT_TARGETS:
        raise _fail(f"--for {target!r}: use " + " or ".join(EXPORT_TARGETS), EXIT_BAD_INPUT)
    if target == "alm-setup":
        if out is not None:
            raise _fail("-o: --for alm-setup prints fields and writes no file; drop -o", EXIT_BAD_INPUT)
        creds = _guard(lambda: keyfile.read_key_file(file))
        for label, value in _guard(lambda: keyfile.alm_setup_fields(creds, str(file))):
            typer.echo(f"{label}: {value}")
        return
    if out is None:
        raise _fail("-o OUT is required: the bare key holds the client secret and is never printed", EXIT_BAD_INPUT)
    creds = _guard(lambda: keyfile.read_key_file(file))
    action = _guard(lambda: keyfile.write_key_file(out, creds, force=force, key_name=str(file)))
    typer.echo(f"{out}: {action} (the bare key object, mode 0600); upload it in Landscape Management > SAP Cloud "
               "ALM Service Key (one key per tenant)")


@key_app.command("test")
def key_test(file: Annotated[Path, typer.Argument(help="Key file (any of the formats `key check` reads).")],
             api: Annotated[bool, typer.Option("--api", help="Also call the Cloud ALM API (endpoints.Api) with the "
                                               "token.")] = False,
             verbose: Verbose = False) -> None:
    """Sign in with the key (client credentials) and check the token as SAP's library would: signature (the zone's
    token keys or uaa.verificationkey), expiry, identity zone, client and the Cloud ALM scopes; exit 1 on any
    failure. Prints no secret."""
    _verbose(verbose)
    from provisioner import keyfile, keytest, output

    creds = _guard(lambda: keyfile.read_key_file(file))
    checks = _guard(lambda: keytest.test_key(creds, source=str(file), api=api))
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
def inventory(playbook: Annotated[Path, typer.Argument(help="The playbook of the tenant whose subaccount to list.")],
              output: Annotated[str, typer.Option("--output", "-o", help="text or json.")] = "text",
              verbose: Verbose = False) -> None:
    """List every SAP Cloud ALM API instance of the subaccount (Service Manager, and Cloud Foundry when the
    playbook has cf) with its bindings or keys: who made each, credential type, which one the local key file
    holds. Read only; never prints a secret."""
    _verbose(verbose)
    import json

    from provisioner import inventory as inv

    if output not in ("text", "json"):
        raise _fail(f"--output {output!r}: use text or json", EXIT_BAD_INPUT)
    found = _guard(lambda: inv.inventory(_load(playbook, None)))
    if output == "json":
        typer.echo(json.dumps(found.to_json(), indent=2))
    else:
        inv.render(found, typer.echo)


@app.command()
def sim(host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 0,
        landscape: Annotated[Path | None, typer.Option(help="Landscape YAML (default: the built-in one).")] = None,
        job_seconds: Annotated[float, typer.Option(help="How long async jobs take (seconds).")] = 1.0,
        info_dir: Annotated[Path | None, typer.Option(help="Write sim.env and cis-key.json here once ready.")]
        = None,
        latency: Annotated[float | None, typer.Option(help="Seconds added to every API request.")] = None,
        fail_rate: Annotated[float | None, typer.Option(help="Fraction of API requests failing (429/5xx/reset).")]
        = None,
        seed: Annotated[int | None, typer.Option(help="Seed of the fault decisions.")] = None,
        faults: Annotated[Path | None, typer.Option(help="YAML/JSON faults object (docs/simulator.md).")] = None,
        stuck_entitlements: Annotated[bool, typer.Option("--stuck-entitlements",
                                                         help="Entitlement assignments stay PROCESSING.")]
        = False) -> None:
    """Run the landscape simulator (CF v3, UAA, XSUAA, BTP accounts/entitlements) until Ctrl-C or SIGTERM."""
    from provisioner.sim.cli import serve

    raise typer.Exit(_guard(lambda: serve(host, port, str(landscape) if landscape else None, job_seconds,
                                          str(info_dir) if info_dir else None, latency=latency,
                                          fail_rate=fail_rate, seed=seed,
                                          faults_file=str(faults) if faults else None,
                                          stuck_entitlements=stuck_entitlements)))


def _is_usage_error(exc: BaseException) -> bool:
    """A command-line usage error (click's UsageError family, whichever click typer brings)."""
    return any(c.__name__ == "UsageError" for c in type(exc).__mro__) and hasattr(exc, "show")


def _planning(argv: list[str]) -> bool:
    args = [a for a in argv if not a.startswith("-")]
    return (bool(args) and args[0] == "plan") or "--dry-run" in argv


def main() -> None:
    """Entry point. A usage error (bad flag) exits 2, except for ``plan``/``--dry-run`` whose 2 means "changes
    pending": there it exits 1, as any plan error does."""
    try:
        code = app(standalone_mode=False)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback, no secret
        if _is_usage_error(exc):
            exc.show()  # type: ignore[attr-defined]  # click.UsageError, checked above
            sys.exit(EXIT_FAILED if _planning(sys.argv[1:]) else EXIT_BAD_INPUT)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        typer.echo(f"error: unexpected {type(exc).__name__}; please report it (re-run with --verbose for the "
                   "requests made)", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)
