"""The ``provisioner fleet`` command group and the fleet options of ``run`` and ``plan`` (``--shard``,
``--resume``, ``--sm-creates-per-minute``): splitting a fleet over CI jobs (:mod:`provisioner.fleet.fanout`).
Imports stay inside the commands so ``--help`` starts fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from provisioner.errors import EXIT_BAD_INPUT

fleet_app = typer.Typer(no_args_is_help=True, help="Split a fleet of tenants over CI jobs.")

ShardOpt = Annotated[str | None, typer.Option(
    "--shard", help="K/N: only the tenants of shard K of N (a stable split by a hash of the tenant's subdomain; "
                    "see `fleet matrix`).")]
ResumeOpt = Annotated[Path | None, typer.Option(
    "--resume", help="An earlier JSON report: skip the tenants it shows converged (ok, nothing to do or done).")]
SmBudgetOpt = Annotated[float, typer.Option(
    "--sm-creates-per-minute", min=0.1, help="Service Manager instance creates a minute, shared by the fleet's "
                                              "runs (SAP allows 50 a minute per client).")]


def narrow(pbs: list[Any], shard: str | None, resume: Path | None) -> tuple[list[Any], Any]:
    """The playbooks of ``--shard`` minus the tenants ``--resume``'s report shows converged, and what that left out
    (a :class:`provisioner.fleet.fanout.Resumed`, None without ``--resume``). Raises
    :class:`~provisioner.errors.BadInput` on a bad shard or report."""
    from provisioner.fleet import fanout

    if shard is not None:
        pbs = fanout.select(pbs, fanout.parse_shard(shard))
    return fanout.resume(pbs, resume) if resume is not None else (pbs, None)


@fleet_app.command("matrix")
def matrix(playbooks: Annotated[list[Path], typer.Argument(help="Playbook YAML file(s); each may list several "
                                                                "tenants.")],
           shards: Annotated[int | None, typer.Option("--shards", min=1, max=256, help="Number of shards "
                                                      "(default: enough for --per-shard tenants each).")] = None,
           per_shard: Annotated[int, typer.Option("--per-shard", min=1, help="The most tenants a shard holds "
                                                  "when --shards is not given (the fewest shards that keep "
                                                  "every shard at or below it).")] = 50,
           fmt: Annotated[str, typer.Option("--format", help="github: {\"include\": [...]} for strategy.matrix; "
                                                            "argo: a JSON list for withParam.")] = "github") -> None:
    """Print the JSON a CI engine fans out on: one entry {"shard": "K/N", "tenants": count} per non-empty shard,
    each job then runs `provisioner run PLAYBOOK... --shard K/N`. Reads the playbooks only (no secret, no API)."""
    from provisioner.errors import BadInput
    from provisioner.fleet import fanout
    from provisioner.fleet.check import check_fleet
    from provisioner.playbook import load as pbmod

    try:  # reading playbooks and counting raise BadInput only (no API call, no secret)
        if fmt not in fanout.FORMATS:
            raise BadInput(f"--format {fmt!r}: use " + " or ".join(fanout.FORMATS))
        pbs = [pb for path in playbooks for pb in pbmod.load_all(path)]
        check_fleet(pbs)  # what `run` refuses (the same tenant twice, ...) is refused here already
        subs = [pb.tenant.subdomain for pb in pbs]
        count = shards if shards is not None else fanout.shard_count(subs, per_shard)
        text = fanout.matrix(subs, count, fmt)
    except BadInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(text)
