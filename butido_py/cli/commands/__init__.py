"""The command tree. Each module lists its working commands in COMMANDS."""

from __future__ import annotations

import click

from butido_py.cli.commands import (
    build_cmd,
    completions_cmd,
    config_cmd,
    db_cmd,
    endpoint_cmd,
    find_artifact_cmd,
    init_cmd,
    lint_cmd,
    metrics_cmd,
    rebuild_cmd,
    release_cmd,
    repo_cmd,
    rerun_cmd,
    source_cmd,
)

MODULES = (
    build_cmd,
    config_cmd,
    completions_cmd,
    db_cmd,
    endpoint_cmd,
    find_artifact_cmd,
    init_cmd,
    lint_cmd,
    metrics_cmd,
    rebuild_cmd,
    release_cmd,
    repo_cmd,
    rerun_cmd,
    source_cmd,
)


def register_commands(root: click.Group) -> None:
    for module in MODULES:
        for command in module.COMMANDS:
            root.add_command(command)
