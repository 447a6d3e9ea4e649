"""Printing results. On a terminal: a per-step table (rich). Otherwise (CI): one plain, timestamped line per step as
it ends. Nothing printed here comes from a secret: lines are built from step names, actions, reasons and error
texts, which never carry credentials."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from provisioner.keyfile import Check

STYLE = {"created": "green", "updated": "yellow", "unchanged": "dim", "failed": "bold red", "skipped": "dim",
         "create": "green", "update": "yellow", "no change": "dim", "error": "bold red", "skip": "dim"}


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _detail(step) -> str:
    return step.error if step.error else "; ".join(step.reasons)


class StepPrinter:
    """Prints a run as it goes: ``header``, ``step`` (each step as it ends), ``done`` (table and summary)."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def header(self, result) -> None:
        mode = "plan" if result.dry_run else "run"
        text = f"{mode} {result.playbook}: tenant {result.tenant} ({result.era})"
        self._line(text if self.tty else f"{_stamp()} {text}")

    def step(self, result, step) -> None:
        if not self.tty:
            self._line(f"{_stamp()} {result.tenant} {step.step:<12} {step.action:<10} {step.seconds:6.2f} s  "
                       f"{_detail(step)}")

    def done(self, result) -> None:
        if self.tty:
            from rich.console import Console
            from rich.table import Table
            from rich.text import Text

            table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
            for col, just in (("STEP", "left"), ("PLAN" if result.dry_run else "RESULT", "left"),
                              ("SECONDS", "right"), ("DETAIL", "left")):
                table.add_column(col, justify=just, overflow="fold")
            for s in result.steps:
                table.add_row(s.step, Text(s.action, style=STYLE.get(s.action, "")), f"{s.seconds:.2f}", _detail(s))
            Console(file=self.stream, highlight=False).print(table)
        self._line(summary(result) if self.tty else f"{_stamp()} {summary(result)}")


def summary(result) -> str:
    counts: dict[str, int] = {}
    for s in result.steps:
        counts[s.action] = counts.get(s.action, 0) + 1
    text = ", ".join(f"{n} {a}" for a, n in counts.items())
    return (f"{result.tenant}: {len(result.steps)} steps: {text}; {result.requests} requests ({result.writes} writes) "
            f"in {result.seconds:.2f} s")


def print_checks(source: str, checks: list[Check], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    for c in checks:
        print(f"{'pass' if c.passed else 'FAIL'}  {c.name}: {c.message}", file=stream)
    failed = sum(1 for c in checks if not c.passed)
    print(f"{source}: {len(checks) - failed}/{len(checks)} checks passed", file=stream)
