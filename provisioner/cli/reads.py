"""The read-only fleet commands of the command line: ``inventory PLAYBOOK...`` (one tenant: its instances and keys
in detail; several: one table and one JSON document, read side by side with ``--parallel``; see
:mod:`provisioner.fleet.inventory`). Imports stay inside the commands so ``--help`` starts fast."""

from __future__ import annotations

from typing import Annotated

import typer

from provisioner.cli.common import ENV, Playbooks, Verbose, _fail, _guard, _load_all, _say, _verbose
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

ReadParallel = Annotated[int, typer.Option("--parallel", "-p", min=1, max=256, envvar=ENV + "PARALLEL",
                                           help="Tenants read at once.")]
ReadMaxInFlight = Annotated[int | None, typer.Option(
    "--max-in-flight", min=1, max=256,
    help="A fixed cap on requests in flight to one API host, over all tenants (default: a cap that adapts).")]


def inventory(playbooks: Playbooks, parallel: ReadParallel = 4, max_in_flight: ReadMaxInFlight = None,
              output: Annotated[str, typer.Option("--output", "-o", help="text or json.")] = "text",
              verbose: Verbose = False) -> None:
    """List every SAP Cloud ALM API instance of each tenant's subaccount (Service Manager, and Cloud Foundry when
    the playbook has cf) with its bindings or keys: who made each, credential type, which one the local key file
    holds. Several playbooks (or tenants: lists): one table, or one JSON document. Read only; never prints a
    secret. Exit 0 every tenant read, 1 a read failed, 2 bad input."""
    _verbose(verbose)
    import json

    from provisioner.engine import inventory as inv
    from provisioner.fleet import inventory as fleetinventory
    from provisioner.safetext import deep  # names and errors are server text: shown safe

    if output not in ("text", "json"):
        raise _fail(f"--output {output!r}: use text or json", EXIT_BAD_INPUT)
    pbs = _guard(lambda: _load_all(playbooks, None))
    reads = fleetinventory.read_fleet(pbs, parallel=parallel, max_in_flight=max_in_flight)
    if len(reads) == 1:  # one tenant: its inventory in detail, or its error in one line (as before fleets)
        [read] = reads
        if read.value is None:
            raise _fail(read.error or "not read", read.exit_code)
        if output == "json":
            typer.echo(json.dumps(deep(read.value.to_json()), indent=2))
        else:
            inv.render(read.value, _say)
        raise typer.Exit(EXIT_OK)
    if output == "json":
        typer.echo(json.dumps(deep(fleetinventory.to_json(reads)), indent=2))
    else:
        fleetinventory.render_table(reads, _say)
    codes = {r.exit_code for r in reads if not r.ok}
    raise typer.Exit(EXIT_OK if not codes else EXIT_BAD_INPUT if EXIT_BAD_INPUT in codes else EXIT_FAILED)
