"""Every command with `--json` has its output validated against docs/json.md by an e2e test (the
`db` commands' here, on the seeded database; the others where their e2e tests run them, through
tests/helpers/json_schema.py's `validated`), and the validator itself rejects what it must."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from butido_py.cli.main import cli as main_cli
from tests.e2e.test_db_commands import J2, J6, J9, S1, S2, Cli, cli, inline, make_cli
from tests.helpers.json_schema import COMMANDS, errors, schemas, validated

__all__ = ["cli", "inline"]

SCHEMAS = schemas()

#: arguments after `butido db`.
OUTPUTS: tuple[tuple[str, ...], ...] = (
    ("submits", "--json"),
    ("submits", "--json", "--kind", "rerun"),
    ("submit", S2, "--json"),
    ("jobs", "--json", "--all"),
    ("jobs", "-S", S1, "--json"),
    ("job", J9, "--json", "-L"),
    ("job", J6, "--json", "--explain"),
    ("artifacts", "--json"),
    ("artifacts", "-J", J2, "--json"),
    ("releases", "--json"),
    ("envvars", "--json"),
    ("images", "--json"),
    ("log-of", J9, "--json"),
    ("log-of", J6, "--json"),
    ("history", "base", "--json"),
)


@pytest.mark.parametrize("args", OUTPUTS, ids=[" ".join(a[:2]) for a in OUTPUTS])
def test_every_db_json_output_validates(inline: Cli, args: tuple[str, ...]) -> None:
    done = inline("db", *args)
    assert done.code == 0, done.stderr
    data = validated(f"db {args[0]}", done.stdout)
    assert data
    if args[0] == "submit":  # its jobs are job objects
        assert [e for job in data["jobs"] for e in errors(job, SCHEMAS["job"], "$.jobs")] == []
    if args[0] == "history":  # its builds are job objects
        assert data["builds"]
        assert [e for job in data["builds"] for e in errors(job, SCHEMAS["job"])] == []


def test_db_setup_json_validates(tmp_path: Path) -> None:
    cli = make_cli(f"sqlite:///{tmp_path / 'setup.sqlite'}", tmp_path)
    first = validated("db setup", cli("db", "setup", "--json").stdout)
    assert first["applied"]
    assert first["adopted"] is None
    assert validated("db setup", cli("db", "setup", "--json").stdout)["applied"] == []


def test_the_validator_rejects_what_it_must() -> None:
    release = {"package": "a", "version": "1", "store": "s", "path": "p", "file": "f",
               "released_at": "2024-01-10T10:00:00+00:00", "sha256": None,
               "submit": "5b000000-0000-4000-8000-000000000001",
               "job": "10b00000-0000-4000-8000-000000000001"}  # fmt: skip
    assert errors(release, SCHEMAS["release"]) == []
    assert errors({**release, "released_at": "2024-01-10T10:00:00"}, SCHEMAS["release"]) == [
        "$.released_at: '2024-01-10T10:00:00' has no zone"
    ]
    assert errors({**release, "package": 1}, SCHEMAS["release"]) == [
        "$.package: 1 is not of type ['string']"
    ]
    del release["file"]
    assert errors(release, SCHEMAS["release"]) == ["$: missing 'file'"]
    assert errors({"submit": "x"}, {"properties": {"submit": {"$ref": "release"}}}) == [
        "$.submit: 'x' is not of type ['object']"
    ]
    del release["sha256"]
    assert errors(release, SCHEMAS["release"]) == ["$: missing 'file'", "$: missing 'sha256'"]


def json_commands() -> list[set[str]]:
    """Every command of the click tree with a `--json` option, as its words after `butido`, in
    sets of the names of one command (`dependencies-of` and its alias `depsof`)."""
    found: dict[object, set[str]] = {}  # a command's function -> its names

    def walk(command: click.Command, ctx: click.Context, words: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, click.Context(sub, parent=ctx, info_name=name), (*words, name))
        elif any("--json" in p.opts for p in command.params if isinstance(p, click.Option)):
            found.setdefault(command.callback, set()).add(" ".join(words))

    walk(main_cli, click.Context(main_cli), ())
    return list(found.values())


#: Commands whose `--json` output has no schema in docs/json.md yet (the list may only shrink).
PENDING: frozenset[str] = frozenset()


def test_every_json_output_has_a_schema_and_a_validated_case() -> None:
    """A new command with `--json` fails here until docs/json.md has its schema, COMMANDS names
    it and an e2e test validates its output."""
    commands = json_commands()
    assert len(commands) > 35  # the walk found the tree (lazy groups included)
    missing = [names for names in commands if not names & (set(COMMANDS) | PENDING)]
    assert missing == [], "add the command to COMMANDS, its schema to docs/json.md"
    assert set(COMMANDS) | PENDING <= set.union(*commands), "a command listed is gone"
    assert set(COMMANDS) & PENDING == set()
    tests = Path(__file__).parents[1]
    sources = "\n".join(p.read_text() for p in tests.glob("*/test_*.py"))
    called = set(re.findall(r'validated\(\s*"([^"]+)"', sources)) | {f"db {a[0]}" for a in OUTPUTS}
    assert set(COMMANDS) - called == set(), "no test calls validated() with these"
    assert {name for names, _ in COMMANDS.values() for name in names.split("|")} <= set(SCHEMAS)
