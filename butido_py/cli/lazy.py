"""A click group that imports a command's module only when that command is used.

`butido --help`, `butido db --help` and completing a command name read names and short help from
a static table (`LazyCommand`); the module behind a command is imported when the command runs,
its help is shown or its options are completed. tests/unit/cli/test_command_table.py checks each
table against the real commands, so the table cannot drift from them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click
from click.shell_completion import CompletionItem

from butido_py.cli.completion import attach, completing
from butido_py.cli.examples import add_examples

#: click's default limit for the help of a completed command name.
_COMPLETION_HELP_LIMIT = 45


@dataclass(frozen=True, slots=True)
class LazyCommand:
    #: The module that lists the command in its COMMANDS.
    module: str
    #: The first paragraph of the command's help on one line, or its short_help (`whole`): what
    #: `--help` lists.
    summary: str
    #: The command's own name when the group shows it under another one (an alias).
    original: str | None = None
    #: The summary is the command's short_help, which click never shortens.
    whole: bool = False


class LazyGroup(click.Group):
    """A group whose sub-commands come from a table of `name -> LazyCommand`."""

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return sorted({*self.lazy, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(load_command(cmd_name, self.lazy[cmd_name]), cmd_name)
        command = self.commands.get(cmd_name)
        if command is not None:
            add_examples(command, f"{ctx.command_path} {cmd_name}".split(" ", 1)[1])
        if command is not None and completing():  # nothing to pay when not completing
            attach(command, f"{ctx.command_path} {cmd_name}")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, from the table: listing the commands imports none of them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._short_help(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names from the table, then the group's own options."""
        results = [
            CompletionItem(name, help=self._short_help(name, _COMPLETION_HELP_LIMIT))
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results

    def _short_help(self, name: str, limit: int) -> str:
        """What `Command.get_short_help_str(limit)` returns, without importing the command."""
        if name in self.commands:
            return self.commands[name].get_short_help_str(limit)
        entry = self.lazy[name]
        # A stand-in command shortens the summary exactly as the real one would.
        if entry.whole:
            stand_in = click.Command(name, short_help=entry.summary)
        else:
            stand_in = click.Command(name, help=entry.summary)
        return stand_in.get_short_help_str(limit)


def load_command(name: str, entry: LazyCommand) -> click.Command:
    """The command listed as `name` from the COMMANDS of its module."""
    wanted = entry.original or name
    module = importlib.import_module(entry.module)
    commands: tuple[click.Command, ...] = module.COMMANDS
    for command in commands:
        if command.name == wanted:
            return command
    raise LookupError(f"{entry.module} has no command {wanted!r}")  # the table test prevents it
