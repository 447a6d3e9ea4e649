"""What ``run`` and ``plan`` (and ``run --dry-run``) do once their flags are read: load every playbook, check the
output paths, narrow to a shard, run or plan the tenants, print and write the reports (:func:`_execute`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioner.cli.common import ENV, _fail, _guard, _load_all
from provisioner.cli.fleet import narrow
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED

if TYPE_CHECKING:
    from provisioner.engine.runner import RunResult, StepResult
    from provisioner.playbook.model import Playbook


class OutputFormat(StrEnum):
    """``--output``: text (a live display on a terminal, timestamped lines otherwise) or json (the report)."""

    text = "text"
    json = "json"


Output = Annotated[OutputFormat, typer.Option("--output", "-o", envvar=ENV + "OUTPUT",
                                              help="text (a live display on a terminal, timestamped lines "
                                                   "otherwise) or json (the report on stdout).")]


def _load_or_report(playbooks: list[Path], timeout: float | None, junit: Path | None) -> list[Playbook]:
    """:func:`_load_all`; on bad input, when ``--junit`` is given, the JUnit file says so (one ``error``)."""
    from provisioner.errors import BadInput

    try:
        return _load_all(playbooks, timeout)
    except BadInput as exc:
        if junit:
            from provisioner.fleet import reports

            reports.write_text(reports.bad_input_junit(str(exc), [str(p) for p in playbooks]), junit)
        raise


def _execute(playbooks: list[Path], *, dry_run: bool, force: bool, timeout: float | None, parallel: int,
             max_in_flight: int | None, report: Path | None, junit: Path | None,
             output: OutputFormat | str, shard: str | None = None, resume: Path | None = None,
             sm_budget: float = 50.0) -> list[RunResult]:
    """Load every playbook (bad input, or outputs that would clobber an input or each other,
    :mod:`provisioner.fleet.outpaths`: nothing runs), keep the tenants of ``--shard`` not converged in ``--resume`` (the
    report then lists those it skipped), run or plan them, print and write the reports; after Ctrl-C / SIGTERM, say
    what was in flight and exit 130 (:mod:`provisioner.engine.interrupt`)."""
    from provisioner import clock
    from provisioner.cli.output import printer_for
    from provisioner.engine import interrupt
    from provisioner.fleet import outpaths, reports
    from provisioner.fleet import tenants as fleet

    output = OutputFormat(output).value
    bad_input_code = EXIT_FAILED if dry_run else EXIT_BAD_INPUT
    _guard(lambda: outpaths.check_flags(report, junit, resume, playbooks), bad_input_code=bad_input_code)
    loaded = _guard(lambda: _load_or_report(playbooks, timeout, junit), bad_input_code=bad_input_code)
    _guard(lambda: outpaths.check_paths(loaded, report, junit, resume), bad_input_code=bad_input_code)
    pbs, resumed = _guard(lambda: narrow(loaded, shard, resume), bad_input_code=bad_input_code)
    printer = printer_for(output)
    progress = interrupt.progress

    def on_step(result: RunResult, step_result: StepResult) -> None:
        progress.step(result, step_result)
        printer.step(result, step_result)

    def on_start(result: RunResult, step: str) -> None:
        progress.start(result, step)
        printer.start(result, step)

    try:
        results = fleet.run_many(pbs, parallel=parallel, dry_run=dry_run, force=force,
                                 max_in_flight_per_host=max_in_flight, sm_creates_per_minute=sm_budget,
                                 on_step=on_step, on_start=on_start)
    finally:
        printer.done(results if "results" in locals() else [])
    carried = resumed.to_json() if resumed is not None else None  # chained --resume skips them too
    if resumed is not None:
        printer.note(resumed.summary(len(results)))
    if output == "json":
        typer.echo(reports.to_json(results, carried), nl=False)
    if report:
        _guard(lambda: reports.write_json(results, report, carried))
    if junit:
        _guard(lambda: reports.write_junit(results, junit))
    if clock.cancelled():
        interrupt.finished()
        stopped = [f"{r.tenant} {s.step}" for r in results for s in r.steps
                   if s.error and "interrupted while" in s.error]
        raise _fail(interrupt.in_flight_line(stopped), 130)
    return results
