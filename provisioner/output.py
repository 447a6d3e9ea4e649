"""Printing results: a per-step table (rich) and check lists. Nothing printed here comes from a secret: rows are
built from step names, actions, reasons and error texts, which never carry credentials."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from provisioner.keyfile import Check

STYLE = {"created": "green", "updated": "yellow", "unchanged": "dim", "failed": "bold red", "skipped": "dim",
         "create": "green", "update": "yellow", "no change": "dim", "error": "bold red", "skip": "dim"}


def console(err: bool = False) -> Console:
    stream = sys.stderr if err else sys.stdout
    tty = stream.isatty()
    return Console(file=stream, width=None if tty else 160, highlight=False, soft_wrap=not tty)


def print_result(result) -> None:
    out = console()
    mode = "plan" if result.dry_run else "run"
    out.print(f"{mode} {result.playbook}: tenant {result.tenant} ({result.era})")
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("STEP")
    table.add_column("PLAN" if result.dry_run else "RESULT")
    table.add_column("SECONDS", justify="right")
    table.add_column("DETAIL", overflow="fold")
    for s in result.steps:
        detail = s.error if s.error else "; ".join(s.reasons)
        table.add_row(s.step, Text(s.action, style=STYLE.get(s.action, "")), f"{s.seconds:.2f}", detail)
    out.print(table)
    counts: dict[str, int] = {}
    for s in result.steps:
        counts[s.action] = counts.get(s.action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    out.print(f"{len(result.steps)} steps: {summary}; {result.requests} requests ({result.writes} writes) "
              f"in {result.seconds:.2f} s")


def print_checks(source: str, checks: list[Check]) -> None:
    out = console()
    for c in checks:
        mark = Text("pass", style="green") if c.passed else Text("FAIL", style="bold red")
        out.print(Text.assemble(mark, f"  {c.name}: {c.message}"))
    failed = sum(1 for c in checks if not c.passed)
    out.print(f"{source}: {len(checks) - failed}/{len(checks)} checks passed")
