"""The command tree. Only commands that work are registered; each module adds its own."""

from __future__ import annotations

import click

from butido_py.cli.commands import (
    completions_cmd,
    config_cmd,
    db_cmd,
    endpoint_cmd,
    release_cmd,
    source_cmd,
)


def register_commands(root: click.Group) -> None:
    root.add_command(config_cmd.config_group)
    root.add_command(completions_cmd.generate_completions)
    root.add_command(db_cmd.db_group)
    root.add_command(endpoint_cmd.endpoint_group)
    root.add_command(release_cmd.release_group)
    root.add_command(source_cmd.source_group)
