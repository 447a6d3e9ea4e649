"""The click command of the ``provisioner`` typer app, with each command built when it is first run.

typer builds every command's options (reading each function's signature and type hints) before it can run one;
for ``provisioner --help`` and ``provisioner validate`` that was a fifth of the start-up. Here the group lists each
command from its name and help alone (all the command list of ``--help`` shows) and builds the command itself
(typer's own ``get_command_from_info`` / ``get_group_from_info``) when it is resolved to run or to show its own
help. What a user sees is typer's output unchanged (a test compares both builds' help, command by command).

Should this typer's internals differ (``typer>=0.12`` is the requirement), :func:`build` falls back to typer's
eager ``typer.main.get_command``.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


class LazyGroup(TyperGroup):
    """A :class:`typer.core.TyperGroup` whose ``commands`` start as stubs (name, help, hidden, deprecated, help
    panel) and are replaced by the built command on first :meth:`get_command` outside of help formatting."""

    _pending: dict[str, Callable[[], Any]]
    _listing: bool = False

    def add_lazy(self, name: str, stub: Any, build: Callable[[], Any]) -> None:
        """Register ``name``: ``stub`` for the command list, ``build()`` returning the command to run."""
        if not hasattr(self, "_pending"):
            self._pending = {}
        self.commands[name] = stub
        self._pending[name] = build

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        pending = getattr(self, "_pending", {})
        if cmd_name in pending and not self._listing:
            self.commands[cmd_name] = pending.pop(cmd_name)()
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """typer's help (plain or rich), listing the commands from their stubs."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def build(app: typer.Typer) -> Any:
    """The click command of ``app`` (a typer app with a callback), its commands and sub-apps built on first use;
    typer's eager build when the lazy one cannot be made with this typer."""
    try:
        return _lazy(app)
    except (AttributeError, TypeError, ImportError):  # another typer's internals: build it all now
        return typer.main.get_command(app)


def _lazy(app: typer.Typer) -> LazyGroup:
    from typer import main as tm

    shell = copy.copy(app)  # the app's callback and settings, without its commands: typer builds the group
    shell.registered_commands, shell.registered_groups = [], []
    shell.info = copy.copy(app.info)
    shell.info.cls = LazyGroup
    group = tm.get_command(shell)
    if not isinstance(group, LazyGroup):
        raise TypeError("typer did not build the group class asked for")
    markup, short = app.rich_markup_mode, app.pretty_exceptions_short
    for info in app.registered_commands:
        name = info.name or tm.get_command_name(info.callback.__name__)  # type: ignore[union-attr]
        doc = inspect.cleandoc(info.help) if info.help is not None else inspect.getdoc(info.callback)
        stub: Any = TyperCommand(name=name, help=doc, short_help=info.short_help, hidden=info.hidden,
                                 deprecated=info.deprecated, rich_help_panel=info.rich_help_panel,
                                 rich_markup_mode=markup)
        group.add_lazy(name, stub, functools.partial(tm.get_command_from_info, info, pretty_exceptions_short=short,
                                                     rich_markup_mode=markup))
    for sub in app.registered_groups:
        solved = tm.solve_typer_info_defaults(sub)
        if not solved.name:  # typer merges a nameless sub-app's commands into this group: build it all now
            raise TypeError("a sub-app without a name")
        stub = TyperGroup(name=solved.name, help=solved.help, short_help=solved.short_help, hidden=solved.hidden,
                          deprecated=solved.deprecated, rich_help_panel=solved.rich_help_panel,
                          rich_markup_mode=markup)
        group.add_lazy(solved.name, stub, functools.partial(
            tm.get_group_from_info, sub, pretty_exceptions_short=short, rich_markup_mode=markup,
            suggest_commands=app.suggest_commands))
    return group
