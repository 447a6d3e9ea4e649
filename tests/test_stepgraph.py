"""The step scheduler on its own (no HTTP): independent nodes side by side, reported in declared order, the nodes
needing a failed one blocked, a node run ahead kept or run again, an exception after the running nodes ended."""

from __future__ import annotations

import threading

import pytest

from provisioner.engine.stepgraph import Node, run_graph


def test_a_later_node_that_ends_first_is_reported_in_declared_order():
    b_done = threading.Event()
    ran: list[str] = []

    def task(node: Node, before: dict[str, str]) -> str:
        if node.name == "a":
            assert b_done.wait(30), "b did not run beside a"
        ran.append(node.name)
        if node.name == "b":
            b_done.set()
        return f"{node.name}<{','.join(before)}>"

    reported: list[str] = []
    ended = run_graph([Node("a"), Node("b"), Node("c", needs=("a", "b"))], task, failed=lambda v: False,
                      on_end=lambda e: reported.append(e.node.name))
    assert ran == ["b", "a", "c"]
    assert reported == ["a", "b", "c"]
    assert [e.value for e in ended] == ["a<>", "b<>", "c<a,b>"]


def test_only_what_needs_a_failed_node_is_blocked_and_a_skipped_node_is_done():
    nodes = [Node("space"), Node("entitlement"), Node("instance", ("space", "entitlement")),
             Node("key", ("instance",)), Node("other", ("skipped",)), Node("skipped", runs=False)]
    nodes = [*nodes[:4], nodes[5], nodes[4]]
    ended = run_graph(nodes, lambda node, before: "failed" if node.name == "space" else "ok",
                      failed=lambda v: v == "failed")
    got = {e.node.name: ("blocked" if e.blocked else "skipped" if e.skipped else e.value) for e in ended}
    assert got == {"space": "failed", "entitlement": "ok", "instance": "blocked", "key": "blocked",
                   "skipped": "skipped", "other": "ok"}


@pytest.mark.parametrize(("early", "runs"), [("passed", 1), ("failed", 2)])
def test_a_node_run_ahead_stands_when_kept_else_it_runs_again(early, runs):
    calls: list[dict[str, str]] = []

    def task(node: Node, before: dict[str, str]) -> str:
        if node.name == "test":
            calls.append(before)
            return early if len(calls) == 1 else "passed"
        return "unchanged"

    ended = run_graph([Node("download"), Node("test", ("download",), ahead=True)], task, failed=lambda v: False,
                      keep=lambda value, before: value == "passed" and all(v == "unchanged" for v in before.values()))
    assert len(calls) == runs and calls[0] == {}
    assert ended[1].value == "passed"


def test_an_exception_propagates_once_the_running_nodes_ended():
    release = threading.Event()
    finished: list[str] = []

    def task(node: Node, before: dict[str, str]) -> str:
        if node.name == "bad":
            release.set()
            raise LookupError("bad input")
        assert release.wait(30)
        finished.append(node.name)
        return "ok"

    with pytest.raises(LookupError):
        run_graph([Node("slow"), Node("bad"), Node("after", ("bad",))], task, failed=lambda v: False)
    assert finished == ["slow"]


def test_nodes_that_need_each_other_are_refused():
    with pytest.raises(ValueError, match="steps that need each other: a, b"):
        run_graph([Node("a", ("b",)), Node("b", ("a",))], lambda node, before: "x", failed=lambda v: False)


def test_at_most_four_nodes_of_a_graph_run_at_once():
    lock = threading.Lock()
    running, most = 0, 0
    four = threading.Event()

    def task(node: Node, before: dict[str, str]) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            if running == 4:
                four.set()
        assert four.wait(30), "four nodes did not run at once"
        with lock:
            running -= 1
        return "ok"

    ended = run_graph([Node(f"n{i}") for i in range(7)], task, failed=lambda v: False)
    assert [e.value for e in ended] == ["ok"] * 7
    assert most == 4
