"""Running a tenant's steps as a dependency graph: each step starts as soon as the steps it needs (``needs``,
upstream step names) are done, independent chains side by side (the entitlement beside the space), at most
:data:`MAX_STEPS_AT_ONCE` at once, on the process's helper threads (:func:`provisioner.threads.helpers`: no pool
is started per tenant); what the user sees stays in the playbook's declared order.

- :func:`run_graph` schedules; a node marked ``ahead`` also runs once at the start, on the state as it is, and
  that result stands when its needs then changed nothing (a converged re-run signs in with the key file it finds
  while the other steps read); callbacks (``on_start``, ``on_end``) run on the calling thread only, so live output
  never interleaves, and ``on_end`` is called in declared order (a step that ends early waits for the ones declared
  before it). A step whose needs failed is not started (``blocked``). An exception other than the task's own
  outcome (e.g. :class:`~provisioner.errors.BadInput`) stops new starts, lets the running steps end, then
  propagates.
- what runs on the pool counts its requests for its step (:class:`provisioner.clients.atonce.StepStats`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from provisioner.threads import helpers

R = TypeVar("R")

#: at most this many steps of one tenant at once (the graph is narrow: two chains)
MAX_STEPS_AT_ONCE = 4


@dataclass(frozen=True)
class Node:
    """One step of the graph: its ``name``, the names of the steps it ``needs`` (earlier in declared order; a need
    that is not in the graph is ignored) and ``runs``: False when the step is skipped whatever happens (the era,
    the route): it is then done at once, and the steps needing it run. ``ahead``: it may also run at the start,
    before its needs (see :func:`run_graph`'s ``keep``)."""

    name: str
    needs: tuple[str, ...] = ()
    runs: bool = True
    ahead: bool = False


@dataclass
class Ended(Generic[R]):
    """A node's end: ``value`` (the task's return) or ``blocked`` (a need failed: not started) or ``skipped``
    (``runs`` was False); ``failed`` is what the caller's ``failed(value)`` said."""

    node: Node
    value: R | None = None
    blocked: bool = False
    skipped: bool = False
    failed: bool = False


def requires(nodes: Sequence[Node], name: str) -> set[str]:
    """The names of the nodes ``name`` needs, directly or through the nodes it needs."""
    needs = {n.name: n.needs for n in nodes}
    found: set[str] = set()
    todo = list(needs.get(name, ()))
    while todo:
        need = todo.pop()
        if need not in found:
            found.add(need)
            todo.extend(needs.get(need, ()))
    return found


def run_graph(nodes: Sequence[Node], task: Callable[[Node, dict[str, R]], R], *, failed: Callable[[R], bool],
              keep: Callable[[R, dict[str, R]], bool] = lambda value, before: False,
              on_start: Callable[[Node], None] | None = None,
              on_end: Callable[[Ended[R]], None] | None = None,
              on_abort: Callable[[], None] | None = None) -> list[Ended[R]]:
    """Run ``task(node, before)`` for every node that runs, each once its needs are done, up to
    :data:`MAX_STEPS_AT_ONCE` at once; → every node's :class:`Ended`, in declared order (``on_end`` is called in
    that order too, as soon as a node and all nodes before it have ended). ``before``: the values of the nodes it
    needs directly or indirectly (:func:`requires`) that ran, in declared order. A node needing a node that failed
    (``failed(value)``), or was blocked, is blocked. An exception raised by ``task`` stops new starts and is
    re-raised once the running tasks ended. A node marked ``ahead`` that runs is also started at once with
    ``before`` empty (no ``on_start``); once its needs are done, that value stands if ``keep(value, before)``, else
    (or when it raised) the node runs as any other. Needs that form a cycle raise ValueError. When the calling
    thread is interrupted (KeyboardInterrupt, or an exception of a callback), ``on_abort()`` is called before the
    running tasks are waited for (so that it can stop them), and the exception propagates."""
    names = {n.name for n in nodes}
    ended: dict[str, Ended[R]] = {}
    bad: set[str] = set()
    running: dict[Future[R], Node] = {}
    #: ahead runs not yet decided on, and those whose needs are done (decided when they end)
    early: dict[str, Future[R]] = {}
    deciding: dict[Future[R], tuple[Node, dict[str, R]]] = {}
    reported = 0
    error: BaseException | None = None

    def report() -> None:
        nonlocal reported
        while reported < len(nodes) and nodes[reported].name in ended:
            if on_end is not None:
                on_end(ended[nodes[reported].name])
            reported += 1

    def ready(node: Node) -> bool:
        return all(need in ended for need in node.needs if need in names)

    def finish(node: Node, value: R) -> None:
        ended[node.name] = Ended(node, value, failed=failed(value))
        if ended[node.name].failed:
            bad.add(node.name)

    def before_of(node: Node) -> dict[str, R]:
        wanted = requires(nodes, node.name)
        before: dict[str, R] = {}
        for n in nodes:
            value = ended[n.name].value if n.name in wanted else None
            if value is not None:
                before[n.name] = value
        return before

    slots = threading.BoundedSemaphore(MAX_STEPS_AT_ONCE)
    submitted: list[Future[R]] = []

    def bounded(node: Node, before: dict[str, R]) -> R:
        with slots:
            return task(node, before)

    def submit(node: Node, before: dict[str, R]) -> Future[R]:
        # in a copy of the caller's context: the run's time limit (provisioner.clock.deadline) holds in the step
        future = helpers().submit(contextvars.copy_context().run, bounded, node, before)
        submitted.append(future)
        return future

    def start(node: Node, before: dict[str, R]) -> None:
        if on_start is not None:
            on_start(node)
        running[submit(node, before)] = node

    def decide(node: Node, future: Future[R], before: dict[str, R]) -> None:
        value = future.result() if future.exception() is None else None
        if value is not None and keep(value, before):
            finish(node, value)
        else:
            start(node, before)

    try:
        early.update((n.name, submit(n, {})) for n in nodes if n.ahead and n.runs)
        while True:
            report()  # what ended is shown before anything new starts
            started = {n.name for n in running.values()} | {n.name for n, _ in deciding.values()}
            for node in nodes:
                if error is not None or node.name in ended or node.name in started or not ready(node):
                    continue
                if any(need in bad for need in node.needs):
                    ended[node.name] = Ended(node, blocked=True)
                    bad.add(node.name)
                elif not node.runs:
                    ended[node.name] = Ended(node, skipped=True)
                elif node.name in early:
                    deciding[early.pop(node.name)] = (node, before_of(node))
                else:
                    start(node, before_of(node))
                started.add(node.name)
            report()
            if not running and not deciding:
                break
            done, _ = wait([*running, *deciding], return_when=FIRST_COMPLETED)
            for future in done:
                if future in deciding:
                    node, before = deciding.pop(future)
                    if error is None:
                        decide(node, future, before)
                    continue
                node = running.pop(future)
                exc = future.exception()
                if exc is not None:
                    error = error or exc
                    continue
                finish(node, future.result())
    except BaseException:
        if on_abort is not None:
            on_abort()
        raise
    finally:
        wait(submitted)  # every task this graph started has ended, as a pool of its own would have waited
    if error is not None:
        raise error
    if len(ended) < len(nodes):
        waiting = ", ".join(n.name for n in nodes if n.name not in ended)
        raise ValueError(f"steps that need each other: {waiting}")
    report()
    return [ended[n.name] for n in nodes]
