"""The command line: global options anywhere, click's usage errors in the house style, and
NO_COLOR / TERM=dumb for warning: and error: lines."""

from __future__ import annotations

import click
import pytest

from butido_py.cli.context import AppContext
from butido_py.cli.main import cli, hoist_global_options, run
from butido_py.cli.warnings import color_allowed


@pytest.mark.parametrize(
    ("argv", "hoisted"),
    [
        (["build", "x", "--hide-bars"], ["--hide-bars", "build", "x"]),
        (["db", "jobs", "-c", "f.toml", "-L", "2"], ["-c", "f.toml", "db", "jobs", "-L", "2"]),
        (["db", "jobs", "--db-port=5433", "--debug"], ["--db-port=5433", "--debug", "db", "jobs"]),
        (["--debug", "db", "jobs"], ["--debug", "db", "jobs"]),
        (["x", "--", "--debug"], ["x", "--", "--debug"]),
        (
            ["endpoint", "container", "ab12", "exec", "sh", "-c", "exit 4", "-v"],
            ["endpoint", "container", "ab12", "exec", "sh", "-c", "exit 4", "-v"],
        ),
    ],
)
def test_global_options_are_moved_before_the_command(argv: list[str], hoisted: list[str]) -> None:
    assert hoist_global_options(argv) == hoisted


def test_usage_errors_are_error_and_hint_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(AppContext(), ["db", "submits", "--hide-bars", "--nope"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: No such option '--nope'.",
        "hint: see `butido db submits --help`",
    ]


@pytest.mark.parametrize(
    ("environ", "allowed"),
    [({}, None), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False), ({"NO_COLOR": ""}, None)],
)
def test_no_color_and_dumb_terminals(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], allowed: bool | None
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert color_allowed() is allowed


def _leaves(
    command: click.Command, path: list[str], ctx: click.Context
) -> list[tuple[list[str], click.Command, click.Context]]:
    if not isinstance(command, click.Group):
        return [(path, command, ctx)]
    found = []
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        assert sub is not None
        found += _leaves(sub, [*path, name], click.Context(sub, parent=ctx, info_name=name))
    return found


def test_every_command_help_ends_with_examples() -> None:
    root = click.Context(cli, info_name="butido")
    missing = []
    for path, command, ctx in _leaves(cli, [], root):
        shown = [c.command.epilog for c in (ctx, ctx.parent) if c is not None]
        if not any(epilog and "Examples:\n  butido " in epilog for epilog in shown):
            missing.append(" ".join(path))
        assert command.name
    assert missing == []
    assert "docs/" in cli.get_help(root).rsplit("Documentation:", 1)[1]
