"""The static command tables (cli/commands/__init__.py, cli/commands/db/__init__.py and every
other lazy group) agree with the commands their modules define, so they cannot drift."""

from __future__ import annotations

import importlib
import pkgutil

import click
import pytest

import butido_py.cli.commands
from butido_py.cli.lazy import LazyCommand, LazyGroup, load_command
from butido_py.cli.main import cli


def lazy_groups(group: click.Group, path: str) -> list[tuple[str, LazyGroup]]:
    """Every lazy group in the real tree (loading each command), with its command path."""
    found: list[tuple[str, LazyGroup]] = [(path, group)] if isinstance(group, LazyGroup) else []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            found += lazy_groups(command, f"{path} {name}")
    return found


GROUPS = lazy_groups(cli, "butido")


def expected_entry(module: str, name: str, command: click.Command) -> LazyCommand:
    original = None if command.name == name else command.name
    if command.short_help:
        return LazyCommand(module, command.short_help, original, whole=True)
    summary = " ".join((command.help or "").split("\n\n")[0].split())
    return LazyCommand(module, summary, original)


@pytest.mark.parametrize(("path", "group"), GROUPS, ids=[path for path, _ in GROUPS])
def test_each_entry_matches_its_command(path: str, group: LazyGroup) -> None:
    assert group.lazy, path
    for name, entry in group.lazy.items():
        command = load_command(name, entry)
        assert not command.hidden
        assert entry == expected_entry(entry.module, name, command), f"{path} {name}"


def test_the_top_level_table_lists_every_command_of_every_module() -> None:
    package = butido_py.cli.commands
    defined: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for command in getattr(module, "COMMANDS", ()):
            defined[command.name] = info.name
    assert {name: entry.module for name, entry in cli.lazy.items()} == defined


def test_the_db_table_lists_every_db_command() -> None:
    package = importlib.import_module("butido_py.cli.commands.db")
    defined: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for command in getattr(module, "COMMANDS", ()):
            defined[command.name] = info.name
    db_group = cli.get_command(click.Context(cli), "db")
    assert isinstance(db_group, LazyGroup)
    assert {name: entry.module for name, entry in db_group.lazy.items()} == defined


@pytest.mark.parametrize("width", [40, 80, 100, 200])
def test_help_lists_the_short_help_click_would_show(width: int) -> None:
    for path, group in GROUPS:
        fresh = LazyGroup(path, lazy=group.lazy)  # nothing loaded: help from the table only
        rows = _help_rows(fresh, width)
        for name, entry in group.lazy.items():
            real = load_command(name, entry).get_short_help_str(_limit(group, width))
            assert rows[name] == real, f"{path} {name}"
        assert fresh.commands == {}


def _limit(group: LazyGroup, width: int) -> int:
    return width - 6 - max(len(name) for name in group.lazy)


def _help_rows(group: LazyGroup, width: int) -> dict[str, str]:
    formatter = click.HelpFormatter(width=width)
    group.format_commands(click.Context(group), formatter)
    rows: dict[str, str] = {}
    for line in formatter.getvalue().splitlines()[1:]:
        if line.startswith("  ") and not line.startswith("   "):
            name, _, text = line.strip().partition(" ")
            rows[name] = text.strip()
        else:  # a wrapped continuation line
            rows[name] += " " + line.strip()
    return rows
