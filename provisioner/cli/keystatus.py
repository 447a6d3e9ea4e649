"""``provisioner key status PLAYBOOK...``: the age, expiry and use of each tenant's keys, read only, for a nightly
CI job (:mod:`provisioner.keylife.status`, :mod:`provisioner.keylife.status_report`). Registered on ``provisioner key``;
imports stay inside the command so ``--help`` starts fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provisioner.cli.common import Playbooks, Verbose, _fail, _guard, _load_all, _say, _verbose
from provisioner.cli.key import key_app
from provisioner.cli.reads import ReadMaxInFlight, ReadParallel
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK


def _duration(flag: str, text: str | None) -> int | None:
    from provisioner.playbook.durations import parse_duration

    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise _fail(f"{flag} {text!r}: {exc}", EXIT_BAD_INPUT) from None


@key_app.command("status")
def key_status(playbooks: Playbooks, parallel: ReadParallel = 4, max_in_flight: ReadMaxInFlight = None,
               warn_age: Annotated[str | None, typer.Option(
                   "--warn-age", help="Exit 1 naming the tenants whose key in use is older, e.g. 180d (s, m, h, "
                                      "d, w).")] = None,
               warn_expiry: Annotated[str | None, typer.Option(
                   "--warn-expiry", help="Exit 1 naming the tenants whose x509 key in use expires within it, e.g. "
                                         "30d.")] = None,
               output: Annotated[str, typer.Option("--output", "-o", help="text or json.")] = "text",
               junit: Annotated[Path | None, typer.Option(
                   "--junit", help="Write a JUnit XML file: one testcase per tenant and purpose, a failure when "
                                   "its key is over a threshold.")] = None,
               verbose: Verbose = False) -> None:
    """Per tenant and purpose, the keys of its key: name, who made it, type, created, age, x509 expiry, last use
    (where an API tells it), whether the local file holds it and whether it is the Landscape Management key.
    Read only (no write at all). Exit 0 all read and none over a threshold, 1 a key over a threshold or a tenant
    not read, 2 bad input."""
    _verbose(verbose)
    import json

    from provisioner.fleet.outpaths import check_paths
    from provisioner.keylife import status as keystatus
    from provisioner.keylife import status_report as keystatus_report

    if output not in ("text", "json"):
        raise _fail(f"--output {output!r}: use text or json", EXIT_BAD_INPUT)
    thresholds = keystatus.Thresholds(_duration("--warn-age", warn_age), _duration("--warn-expiry", warn_expiry),
                                      warn_age, warn_expiry)
    pbs = _guard(lambda: _load_all(playbooks, None))
    _guard(lambda: check_paths(pbs, None, junit, None))
    reads = keystatus.read_fleet(pbs, thresholds, parallel=parallel, max_in_flight=max_in_flight)
    if junit is not None:
        _guard(lambda: keystatus_report.write_junit(reads, junit))
    if output == "json":
        typer.echo(json.dumps(keystatus_report.to_json(reads, thresholds), indent=2))
    else:
        keystatus_report.render(reads, _say)
    codes = {r.exit_code for r in reads if not r.ok}
    if EXIT_BAD_INPUT in codes:
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(EXIT_FAILED if codes or keystatus_report.over_tenants(reads) else EXIT_OK)
