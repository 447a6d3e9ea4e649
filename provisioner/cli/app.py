"""The ``provisioner`` command line (typer). Imports stay inside the commands so ``--help`` starts fast.

Exit codes: 0 success; 1 a step failed; 2 bad input (playbook, flags, key file, unset secret variable).
``plan`` (and ``run --dry-run``) in the manner of ``terraform plan -detailed-exitcode``: 0 nothing to do,
2 changes pending, 1 error (bad input included).
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any

if not sys.stdout.isatty():  # rich's boxes are for people at a terminal; without them typer starts ~40% faster
    os.environ.setdefault("TYPER_USE_RICH", "0")

import typer  # noqa: E402 - after the choice above, which typer reads when imported

from provisioner.cli.common import (
    ENV,
    Parallel,
    Playbooks,
    Timeout,
    Verbose,
    _guard,
    _load,
    _plan_exit,
    _run_exit,
    _say,
    _verbose,
)
from provisioner.cli.execute import Output, OutputFormat, _execute
from provisioner.cli.fleet import ResumeOpt, ShardOpt, SmBudgetOpt, fleet_app
from provisioner.cli.key import key_app, revoke
from provisioner.cli.keystatus import key_status  # noqa: F401 - registers `key status` on key_app
from provisioner.cli.reads import inventory
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Onboard SAP Cloud ALM tenants to the SAP Cloud ALM API on SAP BTP from YAML playbooks.\n\n"
                       "Exit codes: 0 success, 1 a step failed, 2 bad input "
                       "(plan: 0 no changes, 2 changes pending, 1 error).")
app.add_typer(key_app, name="key")
app.add_typer(fleet_app, name="fleet")


def _show_version(value: bool) -> None:
    if value:
        from provisioner import __version__

        typer.echo(f"provisioner {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                                   help="Print the version and exit.")] = False) -> None:
    """Options before the command: --version, and typer's --install-completion / --show-completion (the app's
    help text above is what --help shows)."""


MaxInFlight = Annotated[int | None, typer.Option(
    "--max-in-flight", min=1, max=256,
    help="A fixed cap on requests in flight to one API host, over all tenants. Default: a cap per host that "
         "adapts (starts at 16, grows on fast answers up to 128, halves on HTTP 429 or much slower answers).")]
Report = Annotated[Path | None, typer.Option("--report", envvar=ENV + "REPORT",
                                             help="Write the JSON report (per tenant and step: action, reasons, "
                                                  "seconds, requests, error; docs/report-format.md).")]
Junit = Annotated[Path | None, typer.Option("--junit", envvar=ENV + "JUNIT",
                                            help="Write a JUnit XML report for CI systems (junit-10.xsd).")]


@app.command()
def run(playbooks: Playbooks,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Read only and print the plan (as `plan`).")] = False,
        force: Annotated[bool, typer.Option("--force", help="Replace a local key file that differs from the "
                                                            "service key (the old one is kept as .bak).")] = False,
        parallel: Parallel = 4, max_in_flight: MaxInFlight = None, report: Report = None, junit: Junit = None,
        output: Output = OutputFormat.text, timeout: Timeout = None, shard: ShardOpt = None,
        resume: ResumeOpt = None, sm_creates_per_minute: SmBudgetOpt = 50.0, verbose: Verbose = False) -> None:
    """Converge every tenant: each step reads, compares and writes only what differs. Exit 0 all succeeded."""
    _verbose(verbose)
    results = _execute(playbooks, dry_run=dry_run, force=force, timeout=timeout, parallel=parallel,
                       max_in_flight=max_in_flight, report=report, junit=junit, output=output, shard=shard,
                       resume=resume, sm_budget=sm_creates_per_minute)
    if dry_run:
        raise typer.Exit(_plan_exit(results))
    raise typer.Exit(_run_exit(results))


@app.command()
def plan(playbooks: Playbooks, parallel: Parallel = 4, max_in_flight: MaxInFlight = None, report: Report = None,
         junit: Junit = None, output: Output = OutputFormat.text, timeout: Timeout = None, shard: ShardOpt = None,
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
    (Global Account Administrator, Org Manager, Space Developer), changing nothing. Each check says pass, warn
    (could not be checked) or FAIL. Exit 0 nothing failed (warnings a run stops on count as failed), 1 a check
    failed, 2 bad input."""
    _verbose(verbose)
    from provisioner.cli import doctor as doc

    def say(check: doc.Finding) -> None:
        _say(f"{doc.word(check)}  {check.name}: {check.message}")

    raise typer.Exit(_guard(lambda: doc.diagnose(_load(playbook, None), say)))


@app.command()
def validate(playbooks: Playbooks) -> None:
    """Check the playbook(s) (syntax, schema, names) without calling any API or reading secrets."""
    from provisioner.errors import cap
    from provisioner.fleet.check import check_fleet
    from provisioner.playbook import load as pbmod

    loaded = [(path, pb) for path in playbooks for pb in _guard(partial(pbmod.load_all, path))]
    _guard(lambda: check_fleet([pb for _, pb in loaded]))
    for path, pb in loaded:
        typer.echo(cap(f"{path}: valid (tenant {pb.tenant.subdomain}, route {pb.route_name}, instance "
                       f"{pb.instance_name}, key {pb.key_name} -> {pb.download_path})"))


class SchemaKind(StrEnum):
    playbook = "playbook"
    report = "report"


@app.command()
def schema(kind: Annotated[SchemaKind, typer.Argument(help="playbook (the YAML playbook format) or report (the "
                                                           "JSON report of --report and -o json).")]) -> None:
    """Print a JSON Schema (2020-12) shipped in the package: save it for an editor (yaml-language-server) or a
    validator."""
    from importlib import resources

    typer.echo(resources.files("provisioner").joinpath(f"data/{kind.value}.schema.json").read_text("utf-8"),
               nl=False)


app.command()(revoke)
app.command()(inventory)


@app.command()
def sim(host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 0,
        landscape: Annotated[Path | None, typer.Option(help="Landscape YAML (default: the built-in one).")] = None,
        job_seconds: Annotated[float, typer.Option(help="How long async jobs take (seconds).")] = 1.0,
        info_dir: Annotated[Path | None, typer.Option(help="Write sim.env, cis-key.json and ca.pem (the CA to "
                                                           "trust) here once ready.")] = None,
        http: Annotated[bool, typer.Option("--http", help="Serve plain HTTP instead of HTTPS (loopback only).")]
        = False,
        latency: Annotated[float | None, typer.Option(help="Seconds added to every API request.")] = None,
        fail_rate: Annotated[float | None, typer.Option(help="Fraction of API requests failing (429/5xx/reset).")]
        = None,
        seed: Annotated[int | None, typer.Option(help="Seed of the fault decisions.")] = None,
        faults: Annotated[Path | None, typer.Option(help="YAML/JSON faults object (docs/simulator.md).")] = None,
        stuck_entitlements: Annotated[bool, typer.Option("--stuck-entitlements",
                                                         help="Entitlement assignments stay PROCESSING.")]
        = False) -> None:
    """Run the landscape simulator (CF v3, UAA, XSUAA, BTP accounts/entitlements, Service Manager) until Ctrl-C or
    SIGTERM: HTTPS with a certificate of its own CA (--info-dir writes it as ca.pem), or plain HTTP with --http."""
    from provisioner.sim.cli import serve

    raise typer.Exit(_guard(lambda: serve(host, port, str(landscape) if landscape else None, job_seconds,
                                          str(info_dir) if info_dir else None, latency=latency,
                                          fail_rate=fail_rate, seed=seed,
                                          faults_file=str(faults) if faults else None,
                                          stuck_entitlements=stuck_entitlements, tls=not http)))


def _is_usage_error(exc: BaseException) -> bool:
    """A command-line usage error (click's UsageError family, whichever click typer brings)."""
    return any(c.__name__ == "UsageError" for c in type(exc).__mro__) and hasattr(exc, "show")


def _planning(argv: list[str]) -> bool:
    args = [a for a in argv if not a.startswith("-")]
    return (bool(args) and args[0] == "plan") or "--dry-run" in argv


@lru_cache(maxsize=1)
def _command() -> Any:
    """The click command of :data:`app`, built once per process (typer builds it anew on each call), each command
    when first run (:mod:`provisioner.cli.lazy`)."""
    from provisioner.cli.lazy import build

    return build(app)


def main() -> None:
    """Entry point. A usage error (bad flag) exits 2, except for ``plan``/``--dry-run`` whose 2 means "changes
    pending": there it exits 1, as any plan error does. Pydantic plugins are not looked for unless
    ``PYDANTIC_DISABLE_PLUGINS`` is set (the playbook's models use none, and looking reads the entry points of every
    installed package at start-up)."""
    from provisioner.engine import interrupt

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    try:
        with interrupt.handled():
            code = _command().main(args=sys.argv[1:], prog_name="provisioner", standalone_mode=False)
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
