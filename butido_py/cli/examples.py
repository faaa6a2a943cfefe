"""The examples at the end of every command's `--help`, in one table (a test checks that every
command has some). `LazyGroup` adds them as the command's epilog when it loads the command."""

from __future__ import annotations

import click

#: Command path (without `butido`) -> one or two example lines.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "build": (
        "butido build hello 2.12.1 -I tiny",
        "butido build desktop -I tiny -I debian --dry-run",
    ),
    "config check": ("butido config check",),
    "config show": ("butido config show", "butido config show --json"),
    "db artifacts": ("butido db artifacts -J 10b00000", "butido db artifacts --all --csv"),
    "db cli": ("butido db cli",),
    "db envvars": ("butido db envvars",),
    "db group": ("butido db group 9c2aab71", "butido db group 9c2aab71 --wide --json"),
    "db groups": ("butido db groups", "butido db groups --state failed --for-pkg desktop"),
    "db history": ("butido db history hello", "butido db history gtk-lite -L 50 --json"),
    "db images": ("butido db images",),
    "db job": ("butido db job 10b00000", "butido db job 10b00000 --log --explain"),
    "db jobs": ("butido db jobs -S 5b0000aa", "butido db jobs --state failed --newer-than 1d"),
    "db log-of": ("butido db log-of 10b00000 | less -SR +G",),
    "db releases": ("butido db releases --to stable", "butido db releases -p hello --json"),
    "db setup": ("butido db setup", "butido db setup --adopt-butido"),
    "db submit": ("butido db submit 5b0000aa", "butido db submit 5b0000aa --wide"),
    "db submits": ("butido db submits", "butido db submits --state failed --all"),
    "dependencies-of": ("butido dependencies-of desktop",),
    "depsof": ("butido depsof desktop",),
    "endpoint container": ("butido endpoint container 702ab47d top",),
    "endpoint containers": ("butido endpoint containers list",),
    "endpoint disable": ("butido endpoint disable local",),
    "endpoint enable": ("butido endpoint enable local",),
    "endpoint images": ("butido endpoint images list",),
    "endpoint list": ("butido endpoint list",),
    "endpoint ping": ("butido endpoint ping -n 3", "butido endpoint local ping"),
    "endpoint stats": ("butido endpoint stats",),
    "env": ("butido env hello 2.12.1",),
    "env-of": ("butido env-of hello 2.12.1",),
    "find-artifact": ("butido find-artifact hello -I tiny", "butido find-artifact '^lib' '>=2'"),
    "find-pkg": ("butido find-pkg gtk", "butido find-pkg . --json"),
    "generate-completions": ("butido generate-completions bash > ~/.bash_completion.d/butido",),
    "init": ("butido init example && cd example",),
    "lint": ("butido lint", "butido lint hello"),
    "metrics": ("butido metrics", "butido metrics --json"),
    "rebuild": ("butido rebuild 5b0000aa",),
    "release list": ("butido release list --to stable",),
    "release new": (
        "butido release new 5b0000aa --to stable",
        "butido release new 5b0000aa hello --to stable",
    ),
    "release rm": ("butido release rm hello 2.12.1 --from stable",),
    "serve": ("butido serve", "butido serve --port 8081"),
    "rerun": ("butido rerun 5b0000aa", "butido rerun 5b0000aa --job 10b00000"),
    "source download": (
        "butido source download hello",
        "butido source download --force hello =2.12.1",
    ),
    "source list-missing": ("butido source list-missing",),
    "source of": ("butido source of hello",),
    "source url": ("butido source url hello",),
    "source verify": ("butido source verify", "butido source verify --matching ."),
    "tree-of": ("butido tree-of desktop", "butido tree-of desktop --dot | dot -Tsvg > tree.svg"),
    "versions": ("butido versions hello",),
    "versions-of": ("butido versions-of hello",),
    "what-depends": ("butido what-depends libc",),
}

#: The end of the top-level help.
DOCS = (
    "Documentation: README.md and docs/ in the butido_py sources (docs/build.md, "
    "docs/database.md, docs/configuration.md, docs/json.md, docs/exit-codes.md)."
)


def add_examples(command: click.Command, path: str) -> None:
    """`path`: the command path without `butido` (`db jobs`)."""
    lines = EXAMPLES.get(path)
    if lines and not command.epilog:
        command.epilog = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
    if isinstance(command, click.Group):  # the sub-commands of a plain group are there already
        for name, sub in command.commands.items():
            add_examples(sub, f"{path} {name}")
