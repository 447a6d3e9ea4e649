"""Printing runs as they go. On a terminal: a live display (rich) with a spinner per tenant while a step runs,
then a table. Otherwise (CI): one plain, timestamped line per step as it ends. ``--output json``: nothing until the
JSON report at the end. Words: see :mod:`provisioner.engine.runner` (check and test say ``passed`` or ``failed``; a wait
for an operation already running says ``waited``, in a plan ``wait``). Nothing printed here comes from a secret:
lines are built from step names, actions, reasons and error texts, which never carry credentials; each line is made
:func:`provisioner.safetext.shown` as it is printed (what a server echoed of a secret removed, control characters
escaped), and the live display prints every text as plain text, never as rich markup."""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from provisioner.keys.keyfile import Check
from provisioner.safetext import guard_lines, shown
from provisioner.steps.base import CHANGING, PLAN_WORDS, RUN_WORDS

if TYPE_CHECKING:
    from provisioner.engine.runner import RunResult, StepResult

STYLE = {"created": "green", "updated": "yellow", "waited": "cyan", "unchanged": "dim", "passed": "green",
         "failed": "bold red", "skipped": "dim", "create": "green", "update": "yellow", "wait": "cyan",
         "no change": "dim", "error": "bold red", "skip": "dim"}
#: the words of steps that changed (run) or would change (plan) the landscape; waits and verifications are not
CHANGED = tuple(words[a] for words in (RUN_WORDS, PLAN_WORDS) for a in CHANGING)


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _detail(step: StepResult) -> str:
    return step.error if step.error else "; ".join(step.reasons)


def summary(result: RunResult) -> str:
    counts: dict[str, int] = {}
    for s in result.steps:
        counts[s.action] = counts.get(s.action, 0) + 1
    text = ", ".join(f"{n} {a}" for a, n in counts.items())
    return (f"{result.tenant}: {len(result.steps)} steps: {text}; {result.requests} requests ({result.writes} writes) "
            f"in {result.seconds:.2f} s")


class Printer:
    """Receives ``start(result, step)``, ``step(result, step_result)`` and ``done(results)``; thread-safe."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def start(self, result: RunResult, step: str) -> None:
        pass

    def step(self, result: RunResult, step: StepResult) -> None:
        pass

    def done(self, results: list[RunResult]) -> None:
        pass

    def note(self, text: str) -> None:
        """A line after :meth:`done` (what ``--resume`` skipped); nothing for ``--output json``."""


class QuietPrinter(Printer):
    """``--output json``: prints nothing while running."""


def handoff_lines(result: RunResult) -> list[str]:
    """The Landscape Management key of a run with several keys, then its warnings and manual next steps."""
    lines = [f"Landscape Management key: {k['path']} ({k['purpose']}" + (f", key {k['key']})" if k["key"] else ")")
             for k in result.keys if k["landscape_management"] and len(result.keys) > 1]
    return lines + list(result.notes)


class LinePrinter(Printer):
    """Plain timestamped lines (not a terminal): a header per tenant, a line per step, a summary per tenant."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._headed: set[int] = set()

    def _line(self, text: str) -> None:
        print(f"{_stamp()} {shown(text, None)}", file=self.stream, flush=True)

    def _header(self, result: RunResult) -> None:
        if id(result) not in self._headed:
            self._headed.add(id(result))
            era = f" ({result.era})" if result.era else ""
            self._line(f"{'plan' if result.dry_run else 'run'} {result.playbook}: tenant {result.tenant}{era}")

    def start(self, result: RunResult, step: str) -> None:
        with self.lock:
            self._header(result)

    def step(self, result: RunResult, step: StepResult) -> None:
        with self.lock:
            self._header(result)
            self._line(f"{result.tenant} {step.step:<12} {step.action:<10} {step.seconds:6.2f} s  {_detail(step)}")

    def done(self, results: list[RunResult]) -> None:
        with self.lock:
            for r in results:
                self._line(summary(r))
                for line in handoff_lines(r):
                    self._line(f"{r.tenant} {line}")
            if len(results) > 1:
                bad = [r.tenant for r in results if not r.ok]
                self._line(f"{len(results)} tenants: {len(results) - len(bad)} ok, {len(bad)} failed"
                           + (f" ({', '.join(bad)})" if bad else ""))

    def note(self, text: str) -> None:
        with self.lock:
            self._line(text)


class LivePrinter(Printer):
    """A terminal: a live table of tenants (spinner on the running step), then the final tables."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=self.stream, highlight=False)
        self.rows: dict[int, list[Any]] = {}  # id(result) -> [tenant, step(s), state, started]
        self.running: dict[int, list[str]] = {}  # id(result) -> the steps running
        self.live = Live(console=self.console, refresh_per_second=8, transient=True, get_renderable=self._render)
        self.live.start()

    def _render(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for col in ("", "TENANT", "STEP", "STATE", "SECONDS"):
            table.add_column(col)
        with self.lock:
            rows = list(self.rows.values())
        for tenant, step, state, started in rows:
            running = state == "running"
            icon = Spinner("dots") if running else Text("•", style=STYLE.get(state, ""))
            table.add_row(icon, Text(shown(tenant)), Text(shown(step)), Text(state, style=STYLE.get(state, "")),
                          f"{time.monotonic() - started:.1f}" if running else "")
        return table

    def start(self, result: RunResult, step: str) -> None:
        with self.lock:
            self.running.setdefault(id(result), []).append(step)
            self.rows[id(result)] = [result.tenant, ", ".join(self.running[id(result)]), "running", time.monotonic()]

    def step(self, result: RunResult, step: StepResult) -> None:
        with self.lock:  # independent steps run side by side: the row shows those still running
            running = self.running.get(id(result), [])
            if step.step in running:
                running.remove(step.step)
            if running:
                self.rows[id(result)][1] = ", ".join(running)
            else:
                self.rows[id(result)] = [result.tenant, step.step, step.action, time.monotonic()]

    def done(self, results: list[RunResult]) -> None:
        self.live.stop()
        with self.console.capture() as captured:
            self._final(results)
        self.stream.write(guard_lines(captured.get()))  # rich folds long cells: no line may start with ::
        self.stream.flush()

    def _final(self, results: list[RunResult]) -> None:
        from rich.table import Table
        from rich.text import Text

        def say(text: str) -> None:
            self.console.print(Text(shown(text, None)))

        for r in results if len(results) == 1 else []:
            say(f"{'plan' if r.dry_run else 'run'} {r.playbook}: tenant {r.tenant} ({r.era})")
            table = Table(box=None, pad_edge=False, header_style="bold")
            for col in ("STEP", "PLAN" if r.dry_run else "RESULT", "SECONDS", "DETAIL"):
                table.add_column(col, justify="right" if col == "SECONDS" else "left", overflow="fold")
            for s in r.steps:
                table.add_row(Text(shown(s.step)), Text(s.action, style=STYLE.get(s.action, "")),
                              f"{s.seconds:.2f}", Text(shown(_detail(s), None)))
            self.console.print(table)
            say(summary(r))
            for line in handoff_lines(r):
                say(line)
        if len(results) > 1:
            table = Table(box=None, pad_edge=False, header_style="bold")
            for col in ("TENANT", "RESULT", "CHANGES", "REQUESTS", "WRITES", "SECONDS", "ERROR"):
                table.add_column(col, overflow="fold")
            for r in results:
                changed = sum(1 for s in r.steps if s.action in CHANGED)
                error = next((f"{s.step}: {s.error}" for s in r.steps if s.error), "")
                word = Text("ok" if r.ok else "failed", style="green" if r.ok else "bold red")
                table.add_row(Text(shown(r.tenant)), word, str(changed), str(r.requests), str(r.writes),
                              f"{r.seconds:.2f}", Text(shown(error, None)))
            self.console.print(table)
            bad = sum(1 for r in results if not r.ok)
            say(f"{len(results)} tenants: {len(results) - bad} ok, {bad} failed")

    def note(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)


def printer_for(output: str, stream: TextIO | None = None) -> Printer:
    stream = stream or sys.stdout
    if output == "json":
        return QuietPrinter(stream)
    return LivePrinter(stream) if stream.isatty() else LinePrinter(stream)


def print_checks(source: str, checks: list[Check], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    for c in checks:
        print(shown(f"{'pass' if c.passed else 'FAIL'}  {c.name}: {c.message}", None), file=stream)
    failed = sum(1 for c in checks if not c.passed)
    print(shown(f"{source}: {len(checks) - failed}/{len(checks)} checks passed", None), file=stream)
